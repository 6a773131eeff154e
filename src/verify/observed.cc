// SPDX-License-Identifier: Apache-2.0
// Builds the matrix of what the artifacts let through. A packet's path is a list of filter
// stages (host output, firewall forward, host input...), each a chain with the interfaces the
// packet crosses; a connection opens when its first packet passes every stage and its replies
// pass the same stages backwards in the established state.

#include "verify/observed.h"

#include <map>
#include <optional>

#include <fmt/format.h>

#include "verify/endpoints.h"

namespace bulkhead {
namespace {

struct Stage {
  const Chain* chain;
  std::string iif;
  std::string oif;
};

using Path = std::vector<Stage>;

struct Outcome {
  PacketSet passed;
  std::vector<Reason> reasons;
};

void AddReasons(const Chain& chain, const std::vector<Decision>& decisions, Outcome& out) {
  for (const Decision& d : decisions) {
    const Provenance& origin = d.rule >= 0 ? chain.rules[d.rule].origin : chain.default_origin;
    out.reasons.push_back({d.packets, d.action, origin});
  }
}

// First packets forwards through every stage, then their replies backwards.
Outcome Traverse(const Path& path, PacketSet packets) {
  Outcome out;
  for (const Stage& s : path) {
    std::vector<Decision> ds = Evaluate(*s.chain, s.iif, s.oif, StateMatch::kNew, packets);
    AddReasons(*s.chain, ds, out);
    packets = Accepted(ds);
    if (packets.empty()) return out;
  }
  PacketSet replies = packets.Reversed();
  for (auto it = path.rbegin(); it != path.rend(); ++it) {
    std::vector<Decision> ds =
        Evaluate(*it->chain, it->oif, it->iif, StateMatch::kEstablished, replies);
    for (const Decision& d : ds) {
      if (d.action == Action::kAccept) continue;
      const Provenance& origin =
          d.rule >= 0 ? it->chain->rules[d.rule].origin : it->chain->default_origin;
      out.reasons.push_back({d.packets.Reversed(), d.action, origin});
    }
    replies = Accepted(ds);
  }
  out.passed = replies.Reversed();
  return out;
}

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
};

void Builder::MapFirewallSegments() {
  const VmWiring* fw = in_.wiring.FindVm(spec_.firewall.name);
  if (!fw) return;
  for (const AdapterWiring& a : fw->adapters) {
    if (!a.cable_connected) continue;
    for (const FirewallInterface& fi : in_.firewall.interfaces) {
      bool same = !fi.mac.empty() ? Upper(fi.mac) == Upper(a.mac) : fi.slot == a.slot;
      if (same) fw_iface_of_segment_[SegmentKey(a.attachment, a.network)] = fi.name;
    }
  }
}

AddrSet Builder::VmAddrs(const VmWiring* vm) const {
  AddrSet out;
  if (!vm) return out;
  for (const AdapterWiring& a : vm->adapters) {
    for (const DhcpReservation& r : in_.firewall.reservations) {
      if (Upper(r.mac) == Upper(a.mac)) out = out.Union(AddrsOf(r.address));
    }
  }
  return out;
}

std::vector<Endpoint> Builder::Destinations() {
  std::vector<Endpoint> out;
  for (const Vm& vm : spec_.vms) {
    out.push_back({EndpointKind::kVm, vm.name, VmAddrs(in_.wiring.FindVm(vm.name))});
  }
  out.push_back({EndpointKind::kHost, spec_.host.name,
                 AddrsOf(in_.wiring.hostonly_host.address)});
  AddrSet fw;
  for (const FirewallInterface& fi : in_.firewall.interfaces) {
    for (const Prefix& p : fi.addresses) fw = fw.Union(AddrsOf(p.address));
  }
  out.push_back({EndpointKind::kFirewall, spec_.firewall.name, fw});
  for (Endpoint& e : ExternalEndpoints(spec_, plan_, names_)) out.push_back(std::move(e));
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
      const VmWiring* vm = in_.wiring.FindVm(dst.name);
      if (!vm) return std::nullopt;
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
      return std::nullopt;
  }
  return std::nullopt;
}

void Builder::Put(size_t row, size_t col, const Outcome& o, const std::string& note) {
  PacketSet column = PacketsTowards(m_.destinations[col].addresses);
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
  for (size_t col = 0; col < m_.destinations.size(); ++col) {
    const Endpoint& dst = m_.destinations[col];
    if (dst.name == name && dst.kind != EndpointKind::kDestination) continue;
    Path path = before;
    if (dst.kind == EndpointKind::kFirewall) {
      path.push_back({&fw.input, fw_iface, ""});
    } else {
      std::optional<std::string> out = FirewallIfaceTowards(dst);
      if (!out || *out == fw_iface) continue;  // not routed, or not through the firewall
      path.push_back({&fw.forward, fw_iface, *out});
      if (dst.kind == EndpointKind::kHost) {
        path.push_back({&in_.host.input, in_.wiring.hostonly_if, ""});
      }
    }
    Put(row, col, Traverse(path, PacketsTowards(dst.addresses)));
  }
}

// An adapter that does not lead to the firewall: whatever it reaches, it reaches unfiltered.
void Builder::Bypass(size_t row, const AdapterWiring& a, const std::string& vm_name) {
  std::string note = fmt::format("'{}' adapter {} is {} ('{}'): it bypasses the firewall",
                                 vm_name, a.slot, AttachmentName(a.attachment), a.network);
  Provenance origin{"vboxmanage/create.sh", 0, "", note};
  for (size_t col = 0; col < m_.destinations.size(); ++col) {
    const Endpoint& dst = m_.destinations[col];
    bool outside = dst.kind == EndpointKind::kDestination || dst.kind == EndpointKind::kInternet;
    bool host = dst.kind == EndpointKind::kHost &&
                (a.attachment == Attachment::kNat ||
                 (a.attachment == Attachment::kHostOnly && a.network == in_.wiring.hostonly_if));
    if (!outside && !host) continue;
    PacketSet all = PacketsTowards(dst.addresses);
    Put(row, col, Outcome{all, {{all, Action::kAccept, origin}}}, note);
  }
}

void Builder::FillVmRow(const VmWiring& vm, size_t row) {
  for (const AdapterWiring& a : vm.adapters) {
    if (!a.cable_connected || a.attachment == Attachment::kNone) continue;
    std::string seg = SegmentKey(a.attachment, a.network);
    // Other machines on the same segment are reached directly.
    for (size_t col = 0; col < spec_.vms.size(); ++col) {
      const VmWiring* peer = in_.wiring.FindVm(spec_.vms[col].name);
      if (!peer || peer->name == vm.name) continue;
      for (const AdapterWiring& pa : peer->adapters) {
        if (pa.cable_connected && SegmentKey(pa.attachment, pa.network) == seg) {
          PacketSet all = PacketsTowards(m_.destinations[col].addresses);
          std::string note = fmt::format("same {} network '{}': no firewall in between",
                                         AttachmentName(a.attachment), a.network);
          Put(row, col, Outcome{all, {{all, Action::kAccept, {"", 0, "", note}}}}, note);
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
  Path before = {{&in_.host.output, "", in_.wiring.hostonly_if}};
  ThroughFirewall(row, spec_.host.name, fw->second, before);
}

Matrix Builder::Build() {
  MapFirewallSegments();
  m_.destinations = Destinations();
  for (const Vm& vm : spec_.vms) {
    const VmWiring* w = in_.wiring.FindVm(vm.name);
    m_.sources.push_back({EndpointKind::kVm, vm.name, VmAddrs(w)});
    m_.cells.emplace_back(m_.destinations.size());
    if (w) FillVmRow(*w, m_.sources.size() - 1);
  }
  m_.sources.push_back({EndpointKind::kHost, spec_.host.name,
                        AddrsOf(in_.wiring.hostonly_host.address)});
  m_.cells.emplace_back(m_.destinations.size());
  FillHostRow(m_.sources.size() - 1);
  return std::move(m_);
}

}  // namespace

Matrix ObservedMatrix(const Spec& spec, const Plan& plan, const ObservedInputs& in,
                      NameTable& names) {
  return Builder(spec, plan, in, names).Build();
}

}  // namespace bulkhead
