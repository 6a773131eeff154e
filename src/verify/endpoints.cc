// SPDX-License-Identifier: Apache-2.0
// Shared endpoints and packet arithmetic for the declared and the generated matrix.

#include "verify/endpoints.h"

#include "render/lowered.h"

namespace bulkhead {

AddrSet NonRoutableAddrs() {
  static const char* kPrefixes[] = {"0.0.0.0/8",   "127.0.0.0/8", "169.254.0.0/16", "224.0.0.0/4",
                                    "255.255.255.255/32", "::/128", "::1/128", "fe80::/10",
                                    "ff00::/8"};
  AddrSet out;
  for (const char* p : kPrefixes) out = out.Union(AddrsOf(*Prefix::Parse(p)));
  return out;
}

AddrSet MatrixSources() {
  return AllAddrsBothFamilies()
      .Subtract(NonRoutableAddrs())
      .Union(AddrsOf(*IpAddress::Parse("0.0.0.0")));
}

ServiceSet MatrixServices() {
  return AllServices().Subtract(Ports(kProtoTcp, 0, 0)).Subtract(Ports(kProtoUdp, 0, 0));
}

AddrSet InternalAddrs(const Plan& plan) {
  AddrSet out = AddrsOf(plan.hostonly.subnet);
  for (const PlannedNetwork& n : plan.networks) out = out.Union(AddrsOf(n.subnet));
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
  AddrSet taken = InternalAddrs(plan).Union(NonRoutableAddrs());
  for (const Destination& d : spec.destinations) {
    AddrSet addrs = DestinationAddrs(d, names);
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

}  // namespace bulkhead
