// SPDX-License-Identifier: Apache-2.0
// Builds the matrix of what the artifacts let through: which filters each source's packets
// cross on their way to each destination (paths.h), and what crosses no filter at all (VMs on
// one internal network, adapters that bypass the firewall).

#include "verify/observed.h"

#include <fmt/format.h>

#include <map>
#include <optional>
#include <tuple>

#include "verify/endpoints.h"
#include "verify/paths.h"
#include "verify/verify.h"

namespace bulkhead {
namespace {

std::string Upper(std::string s) {
  for (char& c : s) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return s;
}

std::string SegmentKey(Attachment a, const std::string& network) {
  return fmt::format("{}:{}", AttachmentName(a), network);
}

class Builder {
 public:
  Builder(const Spec& spec, const Plan& plan, const ObservedInputs& in, NameTable& names)
      : spec_(spec), plan_(plan), in_(in), names_(names) {}

  Matrix Build();

 private:
  void MapFirewallSegments();
  std::vector<Endpoint> Destinations();
  AddrSet VmAddrs(const VmWiring* vm) const;
  std::optional<std::string> FirewallIfaceTowards(const Endpoint& dst) const;
  void FillVmRow(const VmWiring& vm, size_t row);
  void FillHostRow(size_t row);
  void DirectFromHost(size_t row);
  void ThroughFirewall(size_t row, const std::string& name, const std::string& fw_iface,
                       const Path& before);
  void Bypass(size_t row, const AdapterWiring& a, const std::string& vm_name);
  void Put(size_t row, size_t col, const Outcome& o, const std::string& note = "");

  const Spec& spec_;
  const Plan& plan_;
  const ObservedInputs& in_;
  NameTable& names_;
  Matrix m_;
  std::map<std::string, std::string> fw_iface_of_segment_;
  std::map<std::string, const VmWiring*> vm_wiring_;
  std::vector<PacketSet> column_packets_;  // PacketsTowards each destination
  std::optional<ColumnIndex> columns_;
  std::vector<std::optional<std::string>> route_of_;  // firewall interface towards each one
  PathMaker paths_;
};

void Builder::MapFirewallSegments() {
  for (const VmWiring& vm : in_.wiring.vms) vm_wiring_.emplace(vm.name, &vm);
  const VmWiring* fw = in_.wiring.FindVm(spec_.firewall.name);
  if (!fw) return;
  for (const AdapterWiring& a : fw->adapters) {
    if (!a.cable_connected) continue;
    for (const FirewallInterface& fi : in_.firewall.interfaces) {
      // Whatever shares the WAN's segment is outside the firewall, not behind it.
      if (fi.name == in_.firewall.wan) continue;
      bool same = !fi.mac.empty() ? Upper(fi.mac) == Upper(a.mac) : fi.slot == a.slot;
      if (same) fw_iface_of_segment_[SegmentKey(a.attachment, a.network)] = fi.name;
    }
  }
}

// A VM's addresses are its DHCP reservations, as far as the firewall interface on the VM's
// segment can hand them out: a reservation outside that interface's subnet is never served.
AddrSet Builder::VmAddrs(const VmWiring* vm) const {
  AddrSet out;
  if (!vm) return out;
  for (const AdapterWiring& a : vm->adapters) {
    auto seg = fw_iface_of_segment_.find(SegmentKey(a.attachment, a.network));
    if (seg == fw_iface_of_segment_.end()) continue;
    const FirewallInterface* fi = nullptr;
    for (const FirewallInterface& f : in_.firewall.interfaces) {
      if (f.name == seg->second) fi = &f;
    }
    for (const DhcpReservation& r : in_.firewall.reservations) {
      if (Upper(r.mac) != Upper(a.mac) || !fi) continue;
      for (const Prefix& p : fi->addresses) {
        if (p.Network().Contains(r.address)) out = out.Union(AddrsOf(r.address));
      }
    }
  }
  return out;
}

std::vector<Endpoint> Builder::Destinations() {
  std::vector<Endpoint> out;
  for (const Vm& vm : spec_.vms) {
    auto w = vm_wiring_.find(vm.name);
    out.push_back(
        {EndpointKind::kVm, vm.name, VmAddrs(w == vm_wiring_.end() ? nullptr : w->second)});
  }
  out.push_back({EndpointKind::kHost, spec_.host.name, AddrsOf(in_.wiring.hostonly_host.address)});
  AddrSet fw;
  for (const FirewallInterface& fi : in_.firewall.interfaces) {
    for (const Prefix& p : fi.addresses) fw = fw.Union(AddrsOf(p.address));
    fw = fw.Union(fi.dynamic);
  }
  out.push_back({EndpointKind::kFirewall, spec_.firewall.name, fw});
  for (Endpoint& e : ExternalEndpoints(spec_, plan_, names_)) out.push_back(std::move(e));

  // Columns never overlap: an address that artifacts give twice belongs to the first column.
  AddrSet taken;
  for (Endpoint& e : out) {
    e.addresses = e.addresses.Subtract(taken);
    taken = taken.Union(e.addresses);
  }
  return out;
}

// The firewall interface a packet to `dst` leaves by, if the artifacts route it anywhere.
std::optional<std::string> Builder::FirewallIfaceTowards(const Endpoint& dst) const {
  auto on = [&](Attachment a, const std::string& net) -> std::optional<std::string> {
    auto it = fw_iface_of_segment_.find(SegmentKey(a, net));
    if (it == fw_iface_of_segment_.end()) return std::nullopt;
    return it->second;
  };
  switch (dst.kind) {
    case EndpointKind::kVm: {
      auto found = vm_wiring_.find(dst.name);
      if (found == vm_wiring_.end()) return std::nullopt;
      const VmWiring* vm = found->second;
      for (const AdapterWiring& a : vm->adapters) {
        if (!a.cable_connected) continue;
        if (auto iface = on(a.attachment, a.network)) return iface;
      }
      return std::nullopt;
    }
    case EndpointKind::kHost:
      return on(Attachment::kHostOnly, in_.wiring.hostonly_if);
    case EndpointKind::kDestination:
    case EndpointKind::kInternet:
      if (in_.firewall.wan.empty()) return std::nullopt;
      return in_.firewall.wan;
    case EndpointKind::kFirewall:
    case EndpointKind::kNetwork:
      return std::nullopt;
  }
  return std::nullopt;
}

void Builder::Put(size_t row, size_t col, const Outcome& o, const std::string& note) {
  const PacketSet& column = column_packets_[col];
  Cell& cell = m_.At(row, col);
  PacketSet passed = o.passed.Intersect(column);
  cell.passed = cell.passed.Union(passed);
  for (const Reason& r : o.reasons) {
    PacketSet part = r.packets.Intersect(column);
    if (!part.empty()) cell.reasons.push_back({part, r.action, r.origin});
  }
  if (!note.empty() && !passed.empty()) cell.notes.push_back(note);
}

// Every destination the source reaches through the firewall interface it sits on. `before`
// holds the stages the packets pass first (the host's own output filter).
void Builder::ThroughFirewall(size_t row, const std::string& name, const std::string& fw_iface,
                              const Path& before) {
  const Policy& fw = in_.firewall.policy;
  struct Group {
    Path path;
    AddrSet::Ranges addresses;
  };
  std::map<std::string, Group> groups;
  for (size_t col = 0; col < m_.destinations.size(); ++col) {
    const Endpoint& dst = m_.destinations[col];
    if (dst.name == name && dst.kind != EndpointKind::kDestination) continue;
    Path path = before;
    if (dst.kind == EndpointKind::kFirewall) {
      path.push_back(paths_.MakeStage(fw.input, fw_iface, ""));
    } else {
      const std::optional<std::string>& out = route_of_[col];
      if (!out || *out == fw_iface) continue;  // not routed, or not through the firewall
      path.push_back(paths_.MakeStage(fw.forward, fw_iface, *out));
      if (FiltersLeaving(fw)) path.push_back(paths_.MakeStage(fw.output, "", *out));
      if (dst.kind == EndpointKind::kHost) {
        path.push_back(paths_.MakeStage(in_.host.input, in_.wiring.hostonly_if, ""));
      }
    }
    Group& g = groups[paths_.GroupKey(path)];
    if (g.addresses.empty()) g.path = path;
    const auto& ranges = dst.addresses.ranges();
    g.addresses.insert(g.addresses.end(), ranges.begin(), ranges.end());
  }
  for (auto& [key, g] : groups) {
    AddrSet addresses = AddrSet::FromRanges(std::move(g.addresses));
    PutByColumn(m_, row, *columns_, Traverse(g.path, PacketsTowards(addresses)));
  }
}

// An adapter that does not lead to the firewall: whatever it reaches, it reaches unfiltered.
void Builder::Bypass(size_t row, const AdapterWiring& a, const std::string& vm_name) {
  std::string note = fmt::format("'{}' adapter {} is {} ('{}'): it bypasses the firewall", vm_name,
                                 a.slot, AttachmentName(a.attachment), a.network);
  Provenance origin{kVBoxScript, 0, "", note};
  for (size_t col = 0; col < m_.destinations.size(); ++col) {
    const Endpoint& dst = m_.destinations[col];
    bool outside = dst.kind == EndpointKind::kDestination || dst.kind == EndpointKind::kInternet;
    bool host = dst.kind == EndpointKind::kHost &&
                (a.attachment == Attachment::kNat ||
                 (a.attachment == Attachment::kHostOnly && a.network == in_.wiring.hostonly_if));
    if (!outside && !host) continue;
    const PacketSet& all = column_packets_[col];
    Put(row, col, Outcome{all, {{all, Action::kAccept, origin}}}, note);
  }
}

void Builder::FillVmRow(const VmWiring& vm, size_t row) {
  for (const AdapterWiring& a : vm.adapters) {
    if (!a.cable_connected || a.attachment == Attachment::kNone) continue;
    std::string seg = SegmentKey(a.attachment, a.network);
    // Other machines on the same segment are reached directly.
    for (size_t col = 0; col < spec_.vms.size(); ++col) {
      auto found = vm_wiring_.find(spec_.vms[col].name);
      if (found == vm_wiring_.end() || found->second->name == vm.name) continue;
      const VmWiring* peer = found->second;
      for (const AdapterWiring& pa : peer->adapters) {
        if (pa.cable_connected && SegmentKey(pa.attachment, pa.network) == seg) {
          const PacketSet& all = column_packets_[col];
          std::string note = fmt::format("same {} network '{}': no firewall in between",
                                         AttachmentName(a.attachment), a.network);
          Put(row, col, Outcome{all, {{all, Action::kAccept, {kVBoxScript, 0, "", note}}}}, note);
        }
      }
    }
    auto fw = fw_iface_of_segment_.find(seg);
    if (fw != fw_iface_of_segment_.end()) {
      ThroughFirewall(row, vm.name, fw->second, {});
    } else if (a.attachment != Attachment::kIntnet) {
      Bypass(row, a, vm.name);
    }
  }
}

void Builder::FillHostRow(size_t row) {
  auto fw = fw_iface_of_segment_.find(SegmentKey(Attachment::kHostOnly, in_.wiring.hostonly_if));
  if (fw == fw_iface_of_segment_.end()) return;
  Path before = {paths_.MakeStage(in_.host.output, "", in_.wiring.hostonly_if)};
  ThroughFirewall(row, spec_.host.name, fw->second, before);
}

// The host's own packets straight out of its physical NIC, past the firewall VM: only the
// host's output chain stands in their way (with wan = "nat" the NIC has an address on the LAN).
// Only what passes is recorded: what the chain refuses here still has the firewall's path.
void Builder::DirectFromHost(size_t row) {
  const std::string& nic = spec_.host.physical_nic;
  if (nic.empty()) return;
  AddrSet::Ranges outside;
  for (const Endpoint& dst : m_.destinations) {
    if (dst.kind != EndpointKind::kDestination && dst.kind != EndpointKind::kInternet) continue;
    const auto& ranges = dst.addresses.ranges();
    outside.insert(outside.end(), ranges.begin(), ranges.end());
  }
  Path path = {paths_.MakeStage(in_.host.output, "", nic)};
  Outcome o = Traverse(path, PacketsTowards(AddrSet::FromRanges(std::move(outside))));
  if (o.passed.empty()) return;
  std::erase_if(o.reasons, [](const Reason& r) { return r.action != Action::kAccept; });
  PutByColumn(m_, row, *columns_, o);
  std::string note = fmt::format("'{}' sends out of '{}' directly: it bypasses the firewall",
                                 spec_.host.name, nic);
  for (auto& [col, part] : columns_->Split(o.passed)) m_.At(row, col).notes.push_back(note);
}

Matrix Builder::Build() {
  MapFirewallSegments();
  m_.destinations = Destinations();
  columns_.emplace(m_.destinations);
  for (const Endpoint& dst : m_.destinations) {
    column_packets_.push_back(PacketsTowards(dst.addresses));
    route_of_.push_back(FirewallIfaceTowards(dst));
  }
  for (const Vm& vm : spec_.vms) {
    auto found = vm_wiring_.find(vm.name);
    const VmWiring* w = found == vm_wiring_.end() ? nullptr : found->second;
    m_.sources.push_back({EndpointKind::kVm, vm.name, VmAddrs(w)});
    m_.cells.emplace_back(m_.destinations.size());
    if (w) FillVmRow(*w, m_.sources.size() - 1);
  }
  m_.sources.push_back(
      {EndpointKind::kHost, spec_.host.name, AddrsOf(in_.wiring.hostonly_host.address)});
  m_.cells.emplace_back(m_.destinations.size());
  FillHostRow(m_.sources.size() - 1);
  DirectFromHost(m_.sources.size() - 1);

  // Everything outside, the host LAN included, comes in by the WAN.
  m_.sources.push_back({EndpointKind::kInternet, "internet", {}});
  m_.cells.emplace_back(m_.destinations.size());
  if (!in_.firewall.wan.empty()) {
    ThroughFirewall(m_.sources.size() - 1, "internet", in_.firewall.wan, {});
  }
  return std::move(m_);
}

}  // namespace

Matrix ObservedMatrix(const Spec& spec, const Plan& plan, const ObservedInputs& in,
                      NameTable& names) {
  return Builder(spec, plan, in, names).Build();
}

}  // namespace bulkhead
