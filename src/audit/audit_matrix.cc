// SPDX-License-Identifier: Apache-2.0
// Builds the audit matrix twice, once with every unknown rule settled so that the least gets
// through and once so that the most does; what passes the first surely passes, what passes
// only the second is unknown. Each build walks every source's packets through the rewrites
// on its interface, then through the filters on their way, as verify does.

#include "audit/audit_matrix.h"

#include <fmt/format.h>

#include <map>
#include <optional>

#include "audit/nat.h"
#include "verify/endpoints.h"
#include "verify/paths.h"

namespace bulkhead {
namespace {

std::string RewriteNote(const Redirect& r, const FirewallView& fw, const PacketSet& matched) {
  std::string what = r.one_to_one ? "1:1 NAT" : "port forward";
  std::string text = r.origin.text.empty() ? "" : fmt::format(" '{}'", r.origin.text);
  return fmt::format("through {}{} ({}): {} to {}", what, text, r.origin.path,
                     FormatServices(matched.Services()),
                     FormatAddrs(matched.Destinations(), &fw.policy.names));
}

class Builder {
 public:
  Builder(const FirewallView& fw, const Policy& policy, const std::vector<PlacedVm>& vms,
          Bound bound)
      : fw_(fw), policy_(policy), vms_(vms), bound_(bound) {}

  Matrix Build();

 private:
  void MakeDestinations();
  void MakeSources();
  std::optional<std::string> RouteOf(size_t col) const;
  void FillRow(size_t row);
  AddrSet SourcesOf(const Endpoint& src) const;
  void ThroughFirewall(size_t row, const std::string& iface, const PacketSet& packets,
                       const Provenance* rewrite, const std::string& note);
  void Direct(size_t row, size_t col, const std::string& note);
  void FillVmExtras(size_t row, const PlacedVm& vm);
  PacketSet ApplyRewrites(size_t row, const std::string& iface, PacketSet packets);

  const FirewallView& fw_;
  const Policy& policy_;
  const std::vector<PlacedVm>& vms_;
  Bound bound_;
  Matrix m_;
  std::vector<std::string> route_;  // the interface each column is behind; "" none
  std::optional<ColumnIndex> columns_;
  AddrSet all_columns_;
  PathMaker paths_;
};

void Builder::MakeDestinations() {
  AddrSet firewall;
  for (const FirewallInterface& i : fw_.interfaces) {
    for (const Prefix& p : i.addresses) firewall = firewall.Union(AddrsOf(p.address));
    firewall = firewall.Union(i.dynamic);
  }
  AddrSet taken = firewall.Union(NonRoutableAddrs());
  std::vector<Endpoint> vms;
  for (const PlacedVm& vm : vms_) {
    if (vm.addresses.empty()) continue;
    AddrSet own = vm.addresses.Subtract(taken);
    vms.push_back({EndpointKind::kVm, vm.name, own, vm.iface});
    taken = taken.Union(own);
  }
  for (const FirewallInterface& i : fw_.interfaces) {
    if (i.addresses.empty()) continue;
    AddrSet net;
    for (const Prefix& p : i.addresses) net = net.Union(AddrsOf(p.Network()));
    net = net.Subtract(taken);
    m_.destinations.push_back({EndpointKind::kNetwork, i.name, net, i.name});
    taken = taken.Union(net);
  }
  for (Endpoint& e : vms) m_.destinations.push_back(std::move(e));
  m_.destinations.push_back({EndpointKind::kFirewall, "firewall", firewall, ""});
  m_.destinations.push_back(
      {EndpointKind::kInternet, "internet", AllAddrsBothFamilies().Subtract(taken), fw_.wan});
  for (const Endpoint& e : m_.destinations) {
    route_.push_back(e.kind == EndpointKind::kFirewall ? "" : e.iface);
    all_columns_ = all_columns_.Union(e.addresses);
  }
}

void Builder::MakeSources() {
  for (const FirewallInterface& i : fw_.interfaces) {
    if (!i.outside) m_.sources.push_back({EndpointKind::kNetwork, i.name, {}, i.name});
  }
  for (const PlacedVm& vm : vms_) {
    m_.sources.push_back({EndpointKind::kVm, vm.name, vm.addresses, vm.iface});
  }
  std::vector<const FirewallInterface*> outside;
  for (const FirewallInterface& i : fw_.interfaces) {
    if (i.outside) outside.push_back(&i);
  }
  for (const FirewallInterface* i : outside) {
    std::string name = outside.size() == 1 ? "internet" : "internet via " + i->name;
    m_.sources.push_back({EndpointKind::kInternet, name, {}, i->name});
  }
  m_.cells.assign(m_.sources.size(), std::vector<Cell>(m_.destinations.size()));
}

void Builder::Direct(size_t row, size_t col, const std::string& note) {
  Cell& cell = m_.At(row, col);
  PacketSet all = PacketsTowards(m_.destinations[col].addresses);
  cell.passed = cell.passed.Union(all);
  cell.reasons.push_back({all, Action::kAccept, {"", 0, "", note}});
  if (std::find(cell.notes.begin(), cell.notes.end(), note) == cell.notes.end()) {
    cell.notes.push_back(note);
  }
}

// Rewrites in pf's order, first match: what a port forward or 1:1 NAT takes is judged as
// rewritten, towards the column of its new destination; the rest keeps its destination.
PacketSet Builder::ApplyRewrites(size_t row, const std::string& iface, PacketSet packets) {
  PacketSet kept;
  for (const Redirect& r : fw_.redirects) {
    if (!r.iif.Matches(iface) || packets.empty()) continue;
    PacketSet match = bound_ == Bound::kMost ? r.match.Union(r.unknown) : r.match;
    PacketSet taken = packets.SplitOff(match);
    if (taken.empty()) continue;
    if (r.exclude) {
      kept = kept.Union(taken);
      continue;
    }
    ThroughFirewall(row, iface, RewriteDestinations(r, taken), r.pass ? &r.origin : nullptr,
                    RewriteNote(r, fw_, taken));
  }
  return packets.Union(kept);
}

// Judges packets arriving on `iface`, towards whichever columns they are addressed to. A
// rewrite that passes without the filter (`rewrite`) skips the inbound stage.
void Builder::ThroughFirewall(size_t row, const std::string& iface, const PacketSet& packets,
                              const Provenance* rewrite, const std::string& note) {
  struct Group {
    Path path;
    AddrSet::Ranges addresses;
  };
  std::map<std::string, Group> groups;
  const Endpoint& self = m_.sources[row];
  AddrSet towards = packets.Destinations();
  for (size_t col = 0; col < m_.destinations.size(); ++col) {
    const Endpoint& dst = m_.destinations[col];
    if (dst.name == self.name && dst.kind == self.kind) continue;
    if (!towards.Intersects(dst.addresses)) continue;
    Path path;
    if (dst.kind == EndpointKind::kFirewall) {
      if (!rewrite) path.push_back(paths_.MakeStage(policy_.input, iface, ""));
    } else {
      const std::string& out = route_[col];
      if (out.empty() || (out == iface && !rewrite && note.empty())) continue;
      if (!rewrite) path.push_back(paths_.MakeStage(policy_.forward, iface, out));
      if (FiltersLeaving(policy_)) path.push_back(paths_.MakeStage(policy_.output, "", out));
    }
    Group& g = groups[paths_.GroupKey(path) + (path.empty() ? std::to_string(col) : "")];
    g.path = path;
    const auto& ranges = dst.addresses.ranges();
    g.addresses.insert(g.addresses.end(), ranges.begin(), ranges.end());
  }
  for (auto& [key, g] : groups) {
    PacketSet part = packets.Intersect(
        PacketSet::Of(AllAddrsBothFamilies(), AddrSet::FromRanges(std::move(g.addresses)),
                      AllServices()));
    Outcome o = g.path.empty() ? Outcome{part, {}} : Traverse(g.path, part);
    if (rewrite) o.reasons.insert(o.reasons.begin(), {part, Action::kAccept, *rewrite});
    PutByColumn(m_, row, *columns_, o);
    if (note.empty()) continue;
    for (auto& [col, passed] : columns_->Split(o.passed)) m_.At(row, col).notes.push_back(note);
  }
}

// A VM's own ways out: adapters around the firewall, and other VMs on its internal networks.
void Builder::FillVmExtras(size_t row, const PlacedVm& vm) {
  for (const std::string& bypass : vm.bypasses) {
    Direct(row, m_.destinations.size() - 1, bypass);
  }
  for (size_t col = 0; col < m_.destinations.size(); ++col) {
    const Endpoint& dst = m_.destinations[col];
    if (dst.kind != EndpointKind::kVm || dst.name == vm.name) continue;
    for (const PlacedVm& peer : vms_) {
      if (peer.name != dst.name) continue;
      for (const std::string& seg : vm.segments) {
        if (seg == AttachmentName(Attachment::kNat)) continue;  // each VM has a NAT of its own
        if (std::find(peer.segments.begin(), peer.segments.end(), seg) != peer.segments.end()) {
          Direct(row, col, fmt::format("same network '{}': no firewall in between", seg));
        }
      }
    }
  }
}

// The addresses a source sends from. A VM sends from its reservation and a network from its
// subnets; what comes in from outside is everything but the inside subnets, which pf's
// antispoof rules drop on every interface but their own. Packets with forged sources are not
// connections: the replies go elsewhere. Unknown addresses (a run-time subnet) are anything.
AddrSet Builder::SourcesOf(const Endpoint& src) const {
  if (src.kind == EndpointKind::kVm && !src.addresses.empty()) return src.addresses;
  AddrSet own, others;
  bool has[2] = {false, false};
  for (const FirewallInterface& i : fw_.interfaces) {
    bool mine = i.name == src.iface;
    for (const Prefix& p : i.addresses) {
      AddrSet& to = mine ? own : others;
      to = to.Union(AddrsOf(p.Network()));
      if (mine) has[p.address.family == Family::kV6] = true;
    }
  }
  if (src.kind == EndpointKind::kInternet) return AllAddrsBothFamilies().Subtract(others);
  // A family the interface has no static subnet of is given out at run time, if at all.
  for (Family f : {Family::kV4, Family::kV6}) {
    if (!has[f == Family::kV6]) own = own.Union(AllAddrs(f).Subtract(others));
  }
  return own;
}

void Builder::FillRow(size_t row) {
  const Endpoint& src = m_.sources[row];
  if (!src.iface.empty()) {
    // Hosts on the source's own network reach each other without the firewall.
    for (size_t col = 0; col < m_.destinations.size(); ++col) {
      const Endpoint& dst = m_.destinations[col];
      bool self = dst.name == src.name && dst.kind == src.kind;
      if (!self && dst.kind != EndpointKind::kFirewall && !dst.addresses.empty() &&
          route_[col] == src.iface && src.kind != EndpointKind::kInternet) {
        Direct(row, col, "same network: no firewall in between");
      }
    }
    PacketSet packets = PacketsTowards(all_columns_).Intersect(
        PacketSet::Of(SourcesOf(src), AllAddrsBothFamilies(), AllServices()));
    packets = ApplyRewrites(row, src.iface, std::move(packets));
    ThroughFirewall(row, src.iface, packets, nullptr, "");
  }
  if (src.kind == EndpointKind::kVm) {
    for (const PlacedVm& vm : vms_) {
      if (vm.name == src.name) FillVmExtras(row, vm);
    }
  }
}

Matrix Builder::Build() {
  MakeDestinations();
  MakeSources();
  columns_.emplace(m_.destinations);
  for (size_t row = 0; row < m_.sources.size(); ++row) FillRow(row);
  return std::move(m_);
}

// Where each rule that depends on something unknown is written, with what it depends on.
std::map<std::string, std::string> UnknownRules(const FirewallView& fw) {
  std::map<std::string, std::string> out;
  for (const Chain* c : {&fw.policy.input, &fw.policy.forward, &fw.policy.output}) {
    for (const PolicyRule& r : c->rules) {
      if (!r.unknown_why.empty()) out[r.origin.Where()] = r.unknown_why;
    }
  }
  for (const Redirect& r : fw.redirects) {
    if (!r.unknown_why.empty()) out[r.origin.Where()] = r.unknown_why;
  }
  return out;
}

// Merges the two bounds: the least is what surely passes; the rest of the most is unknown,
// explained by the unknown rules that decided some of it in either build.
void MergeBounds(Matrix& least, const Matrix& most, const FirewallView& fw) {
  std::map<std::string, std::string> unknown_rules = UnknownRules(fw);
  for (size_t s = 0; s < least.sources.size(); ++s) {
    for (size_t d = 0; d < least.destinations.size(); ++d) {
      Cell& cell = least.At(s, d);
      cell.unknown = most.At(s, d).passed.Subtract(cell.passed);
      if (cell.unknown.empty()) continue;
      const std::vector<Reason>* both[] = {&most.At(s, d).reasons, &cell.reasons};
      for (const std::vector<Reason>* reasons : both) {
        for (const Reason& r : *reasons) {
          auto it = unknown_rules.find(r.origin.Where());
          if (it == unknown_rules.end() || !r.packets.Intersects(cell.unknown)) continue;
          std::string why = fmt::format("{} ({})", it->second, it->first);
          auto& list = cell.unknown_why;
          if (std::find(list.begin(), list.end(), why) == list.end()) list.push_back(why);
        }
      }
    }
  }
}

}  // namespace

Matrix AuditMatrix(const FirewallView& fw, const std::vector<PlacedVm>& vms) {
  bool unknowns = HasUnknowns(fw.policy) ||
                  std::any_of(fw.redirects.begin(), fw.redirects.end(),
                              [](const Redirect& r) { return !r.unknown.empty(); });
  if (!unknowns) return Builder(fw, fw.policy, vms, Bound::kLeast).Build();
  Policy least_policy = Settle(fw.policy, Bound::kLeast);
  Policy most_policy = Settle(fw.policy, Bound::kMost);
  Matrix least = Builder(fw, least_policy, vms, Bound::kLeast).Build();
  Matrix most = Builder(fw, most_policy, vms, Bound::kMost).Build();
  MergeBounds(least, most, fw);
  return least;
}

}  // namespace bulkhead
