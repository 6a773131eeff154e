// SPDX-License-Identifier: Apache-2.0
// Builds the matrix of what the artifacts let through. A packet's path is a list of filter
// stages (host output, firewall forward, host input...), each a chain with the interfaces the
// packet crosses; a connection opens when its first packet passes every stage and its replies
// pass the same stages backwards in the established state.

#include "verify/observed.h"

#include <fmt/format.h>

#include <map>
#include <optional>
#include <tuple>

#include "verify/endpoints.h"
#include "verify/verify.h"

namespace bulkhead {
namespace {

// One filter a packet crosses. `forward` decides first packets, `reply` the replies coming back
// the other way; both are the same chain, cut down to the rules that can apply (ChainCache).
struct Stage {
  const Chain* forward;
  const Chain* reply;
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
    std::vector<Decision> ds = Evaluate(*s.forward, s.iif, s.oif, StateMatch::kNew, packets);
    AddReasons(*s.forward, ds, out);
    packets = Accepted(ds);
    if (packets.empty()) return out;
  }
  PacketSet replies = packets.Reversed();
  for (auto it = path.rbegin(); it != path.rend(); ++it) {
    std::vector<Decision> ds =
        Evaluate(*it->reply, it->oif, it->iif, StateMatch::kEstablished, replies);
    for (const Decision& d : ds) {
      if (d.action == Action::kAccept) continue;
      const Provenance& origin =
          d.rule >= 0 ? it->reply->rules[d.rule].origin : it->reply->default_origin;
      out.reasons.push_back({d.packets.Reversed(), d.action, origin});
    }
    replies = Accepted(ds);
  }
  out.passed = replies.Reversed();
  return out;
}

// A chain cut down to the rules that can decide packets in one state with one interface known,
// ending at the first rule that takes everything left. Whether a kept rule looks at the other
// interface tells if packets leaving by different interfaces can be judged in one go.
struct CutChain {
  Chain chain;
  bool tests_other = false;
};

class ChainCache {
 public:
  // Known side: the input interface when `known_is_iif`, else the output interface.
  const CutChain& Get(const Chain& c, StateMatch state, const std::string& known,
                      bool known_is_iif) {
    auto key = std::make_tuple(&c, static_cast<int>(state), known, known_is_iif);
    auto it = cache_.find(key);
    if (it == cache_.end()) it = cache_.emplace(key, Cut(c, state, known, known_is_iif)).first;
    return it->second;
  }

 private:
  static CutChain Cut(const Chain& c, StateMatch state, const std::string& known,
                      bool known_is_iif) {
    CutChain out;
    out.chain.default_action = c.default_action;
    out.chain.default_origin = c.default_origin;
    for (const PolicyRule& r : c.rules) {
      if (r.state != StateMatch::kAny && r.state != state) continue;
      const IfaceMatch& mine = known_is_iif ? r.iif : r.oif;
      const IfaceMatch& other = known_is_iif ? r.oif : r.iif;
      if (!mine.Matches(known)) continue;
      out.chain.rules.push_back(r);
      if (!other.IsAny()) {
        out.tests_other = true;
      } else if (PacketSet::All().IsSubsetOf(r.match)) {
        break;  // nothing after it is ever reached
      }
    }
    return out;
  }

  std::map<std::tuple<const Chain*, int, std::string, bool>, CutChain> cache_;
};

// pf judges forwarded packets again as they leave; a chain of nothing but state tracking and
// a passing default cannot refuse any, and is left off the path.
bool FiltersLeaving(const Policy& fw) {
  if (!fw.output_sees_forwarded) return false;
  if (fw.output.default_action != Action::kAccept) return true;
  for (const PolicyRule& r : fw.output.rules) {
    if (r.state != StateMatch::kEstablished) return true;
  }
  return false;
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
  void PutSplit(size_t row, const Outcome& o);

  Stage MakeStage(const Chain& chain, const std::string& iif, const std::string& oif);
  std::string GroupKey(const Path& path) const;

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
  ChainCache cache_;
  // Per stage of a path: whether its cut chains look at the interface that varies.
  std::map<const Chain*, std::pair<bool, bool>> varies_;
};

Stage Builder::MakeStage(const Chain& chain, const std::string& iif, const std::string& oif) {
  const CutChain& fwd = cache_.Get(chain, StateMatch::kNew, iif, true);
  const CutChain& rep = cache_.Get(chain, StateMatch::kEstablished, iif, false);
  varies_[&fwd.chain] = {fwd.tests_other, rep.tests_other};
  varies_[&rep.chain] = {fwd.tests_other, rep.tests_other};
  return {&fwd.chain, &rep.chain, iif, oif};
}

// Destinations whose paths only differ in interfaces no rule on the way looks at share a key,
// and are judged in one evaluation.
std::string Builder::GroupKey(const Path& path) const {
  std::string key;
  for (const Stage& s : path) {
    auto [fwd_tests_oif, reply_tests_iif] = varies_.at(s.forward);
    key += fmt::format("{}|{}|{};", static_cast<const void*>(s.forward), s.iif,
                       fwd_tests_oif || reply_tests_iif ? s.oif : "*");
  }
  return key;
}

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

// An outcome over several destinations, shared out to their cells.
void Builder::PutSplit(size_t row, const Outcome& o) {
  for (auto& [col, part] : columns_->Split(o.passed)) {
    m_.At(row, col).passed.UnionDisjoint(part);
  }
  for (const Reason& r : o.reasons) {
    for (auto& [col, part] : columns_->Split(r.packets)) {
      m_.At(row, col).reasons.push_back({std::move(part), r.action, r.origin});
    }
  }
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
      path.push_back(MakeStage(fw.input, fw_iface, ""));
    } else {
      const std::optional<std::string>& out = route_of_[col];
      if (!out || *out == fw_iface) continue;  // not routed, or not through the firewall
      path.push_back(MakeStage(fw.forward, fw_iface, *out));
      if (FiltersLeaving(fw)) path.push_back(MakeStage(fw.output, "", *out));
      if (dst.kind == EndpointKind::kHost) {
        path.push_back(MakeStage(in_.host.input, in_.wiring.hostonly_if, ""));
      }
    }
    Group& g = groups[GroupKey(path)];
    if (g.addresses.empty()) g.path = path;
    const auto& ranges = dst.addresses.ranges();
    g.addresses.insert(g.addresses.end(), ranges.begin(), ranges.end());
  }
  for (auto& [key, g] : groups) {
    AddrSet addresses = AddrSet::FromRanges(std::move(g.addresses));
    PutSplit(row, Traverse(g.path, PacketsTowards(addresses)));
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
  Path before = {MakeStage(in_.host.output, "", in_.wiring.hostonly_if)};
  ThroughFirewall(row, spec_.host.name, fw->second, before);
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
