// SPDX-License-Identifier: Apache-2.0
// Shared endpoints and packet arithmetic for the declared and the generated matrix.

#include "verify/endpoints.h"

#include <algorithm>
#include <map>

#include "render/lowered.h"

namespace bulkhead {

AddrSet NonRoutableAddrs() {
  static const AddrSet kAddrs = [] {
    const char* prefixes[] = {"0.0.0.0/8",   "127.0.0.0/8",        "169.254.0.0/16",
                              "224.0.0.0/4", "255.255.255.255/32", "::/128",
                              "::1/128",     "fe80::/10",          "ff00::/8"};
    AddrSet out;
    for (const char* p : prefixes) out = out.Union(AddrsOf(*Prefix::Parse(p)));
    return out;
  }();
  return kAddrs;
}

AddrSet MatrixSources() {
  static const AddrSet kAddrs = AllAddrsBothFamilies()
                                    .Subtract(NonRoutableAddrs())
                                    .Union(AddrsOf(*IpAddress::Parse("0.0.0.0")));
  return kAddrs;
}

ServiceSet MatrixServices() {
  static const ServiceSet kServices = [] {
    ServiceSet out =
        AllServices().Subtract(Ports(kProtoTcp, 0, 0)).Subtract(Ports(kProtoUdp, 0, 0));
    ServiceSet icmp_openers;
    for (uint8_t type : {8, 13, 15, 17})
      icmp_openers = icmp_openers.Union(IcmpType(kProtoIcmp, type));
    for (uint8_t type : {128, 139}) {
      icmp_openers = icmp_openers.Union(IcmpType(kProtoIcmpV6, type));
    }
    return out.Subtract(Proto(kProtoIcmp).Union(Proto(kProtoIcmpV6)).Subtract(icmp_openers));
  }();
  return kServices;
}

AddrSet InternalAddrs(const Spec& spec, const Plan& plan) {
  AddrSet out = AddrsOf(plan.hostonly.subnet);
  for (const PlannedNetwork& n : plan.networks) out = out.Union(AddrsOf(n.subnet));
  if (spec.host.lan_subnet) out = out.Union(AddrsOf(spec.host.lan_subnet->Network()));
  return out;
}

AddrSet EntryAddrs(const DestinationEntry& e, NameTable& names) {
  if (e.prefix) return AddrsOf(e.prefix->Network());
  return NameAddrsBothFamilies(names.Intern(e.host_name));
}

AddrSet DestinationAddrs(const Destination& d, NameTable& names) {
  AddrSet out;
  for (const DestinationEntry& e : d.entries) out = out.Union(EntryAddrs(e, names));
  return out;
}

std::vector<Endpoint> ExternalEndpoints(const Spec& spec, const Plan& plan, NameTable& names) {
  std::vector<Endpoint> out;
  AddrSet taken = InternalAddrs(spec, plan).Union(NonRoutableAddrs());
  if (spec.host.lan_subnet) {
    AddrSet machines = NonRoutableAddrs().Union(AddrsOf(plan.hostonly.subnet));
    for (const PlannedNetwork& n : plan.networks) machines = machines.Union(AddrsOf(n.subnet));
    AddrSet lan = AddrsOf(spec.host.lan_subnet->Network()).Subtract(machines);
    out.push_back({EndpointKind::kDestination, kHostLanColumn, lan});
  }
  for (const Destination& d : spec.destinations) {
    AddrSet addrs = DestinationAddrs(d, names).Subtract(taken);
    out.push_back({EndpointKind::kDestination, d.name, addrs});
    taken = taken.Union(addrs);
  }
  out.push_back({EndpointKind::kInternet, "internet", AllAddrsBothFamilies().Subtract(taken)});
  return out;
}

PacketSet PacketsTowards(const AddrSet& dst) {
  PacketSet out;
  for (Family f : {Family::kV4, Family::kV6}) {
    AddrSet d = dst.Intersect(AllAddrs(f));
    AddrSet src = MatrixSources().Intersect(AllAddrs(f));
    if (!d.empty()) out = out.Union(PacketSet::Of(src, d, MatrixServices()));
  }
  return out;
}

PacketSet OfFamily(const PacketSet& set, Family family) {
  AddrSet all = AllAddrs(family);
  return set.Intersect(PacketSet::Of(all, all, AllServices()));
}

ServiceSet RuleServices(Protocol proto, const std::vector<PortRange>& ports,
                        std::optional<int> icmp_type, Family family) {
  switch (proto) {
    case Protocol::kAny:
      return AllServices();
    case Protocol::kIcmp: {
      uint8_t p = family == Family::kV4 ? kProtoIcmp : kProtoIcmpV6;
      if (!icmp_type) return Proto(p);
      int t = family == Family::kV4 ? *icmp_type : IcmpV6Equivalent(*icmp_type);
      return t >= 0 ? IcmpType(p, static_cast<uint8_t>(t)) : ServiceSet();
    }
    case Protocol::kTcp:
    case Protocol::kUdp: {
      uint8_t p = proto == Protocol::kTcp ? kProtoTcp : kProtoUdp;
      if (ports.empty()) return Proto(p);
      ServiceSet out;
      for (const PortRange& r : ports) out = out.Union(Ports(p, r.first, r.last));
      return out;
    }
  }
  return {};
}

ColumnIndex::ColumnIndex(const std::vector<Endpoint>& columns) {
  for (size_t c = 0; c < columns.size(); ++c) {
    for (const auto& r : columns[c].addresses.ranges()) entries_.push_back({r.first, r.last, c});
  }
  std::sort(entries_.begin(), entries_.end(),
            [](const Entry& a, const Entry& b) { return a.first < b.first; });
}

std::vector<std::pair<size_t, PacketSet>> ColumnIndex::Split(const PacketSet& packets) const {
  std::map<size_t, PacketSet> parts;
  for (const Cube& cube : packets.cubes()) {
    std::map<size_t, AddrSet::Ranges> pieces;
    bool cut = false;  // whether a column's edge, or no column, cuts some range
    for (const auto& r : cube.dst.ranges()) {
      auto it = std::lower_bound(entries_.begin(), entries_.end(), r.first,
                                 [](const Entry& e, const AddrKey& k) { return e.last < k; });
      cut = cut || it == entries_.end() || r.first < it->first;  // some of r in no column
      for (; it != entries_.end() && !(r.last < it->first); ++it) {
        cut = cut || r.first < it->first || it->last < r.last;
        pieces[it->column].push_back({std::max(r.first, it->first), std::min(r.last, it->last)});
      }
    }
    // A cube wholly in one column goes there as it is, sharing its (perhaps large) sets.
    if (pieces.size() == 1 && !cut) {
      parts[pieces.begin()->first].UnionDisjoint(PacketSet(cube));
      continue;
    }
    for (auto& [column, ranges] : pieces) {
      parts[column].UnionDisjoint(
          PacketSet::Of(cube.src, AddrSet::FromRanges(std::move(ranges)), cube.svc));
    }
  }
  return {parts.begin(), parts.end()};
}

}  // namespace bulkhead
