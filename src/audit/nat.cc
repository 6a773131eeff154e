// SPDX-License-Identifier: Apache-2.0
// Destination rewrites and outbound NAT coverage, as packet-set arithmetic: a rewrite moves
// address and port ranges whole, so it stays exact however large the set it applies to.

#include "audit/nat.h"

#include <fmt/format.h>

#include <algorithm>

#include "verify/report.h"

namespace bulkhead {

AddrSet ShiftAddrs(const AddrSet& s, uint128 from, uint128 to) {
  AddrSet::Ranges out;
  for (const auto& r : s.ranges()) {
    out.push_back({{r.first.space, r.first.value - from + to},
                   {r.last.space, r.last.value - from + to}});
  }
  return AddrSet::FromRanges(std::move(out));
}

namespace {

// TCP, UDP and SCTP destination ports moved by `shift`; what would leave 0..65535 is cut.
ServiceSet ShiftPorts(const ServiceSet& s, int shift) {
  if (shift == 0) return s;
  ServiceSet::Ranges out;
  for (const auto& r : s.ranges()) {
    uint32_t proto = r.first >> 16;
    bool ported = proto == kProtoTcp || proto == kProtoUdp || proto == kProtoSctp;
    if (!ported || (r.last >> 16) != proto) {
      out.push_back(r);
      continue;
    }
    int lo = int(r.first & 0xffff) + shift, hi = int(r.last & 0xffff) + shift;
    lo = std::max(lo, 0), hi = std::min(hi, 65535);
    if (lo <= hi) out.push_back({proto << 16 | uint32_t(lo), proto << 16 | uint32_t(hi)});
  }
  return ServiceSet::FromRanges(std::move(out));
}

}  // namespace

PacketSet RewriteDestinations(const Redirect& r, const PacketSet& matched) {
  PacketSet out;
  for (const Cube& c : matched.cubes()) {
    AddrSet dst = r.one_to_one
                      ? ShiftAddrs(c.dst.Intersect(AddrsOf(r.external)), r.external.First().value,
                                   r.target.First().value)
                      : AddrsOf(r.target.address);
    out = out.Union(PacketSet::Of(c.src, dst, ShiftPorts(c.svc, r.port_shift)));
  }
  return out;
}

std::string InterfaceHolding(const FirewallView& fw, const AddrSet& addresses) {
  for (const FirewallInterface& i : fw.interfaces) {
    for (const Prefix& p : i.addresses) {
      if (AddrsOf(p.Network()).Intersects(addresses)) return i.name;
    }
  }
  return "";
}

// First match: a "no nat" rule decides as well as a translating one.
PacketSet Untranslated(const FirewallView& fw, const std::string& oif, const PacketSet& packets,
                       const Matrix* terms) {
  PacketSet remaining = packets;
  PacketSet untranslated;
  for (const SourceNat& s : fw.source_nat) {
    if (remaining.empty()) break;
    if (!s.oif.Matches(oif)) continue;
    PacketSet taken = remaining.SplitOff(terms ? terms->InTerms(s.match) : s.match);
    if (!s.translate) untranslated = untranslated.Union(taken);
  }
  return untranslated.Union(remaining);
}

AddrSet PrivateAddrs() {
  std::vector<Prefix> list;
  for (const char* p : {"10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "100.64.0.0/10",
                        "169.254.0.0/16", "fc00::/7", "fe80::/10"}) {
    list.push_back(*Prefix::Parse(p));
  }
  return AddrsOf(list);
}

std::vector<Finding> OutboundNatFindings(const FirewallView& fw, const Matrix& m) {
  std::vector<Finding> out;
  AddrSet private_addrs = PrivateAddrs();
  std::string where = fw.policy.forward.default_origin.file + ": nat/outbound";
  for (size_t s = 0; s < m.sources.size(); ++s) {
    const Endpoint& src = m.sources[s];
    const FirewallInterface* iface = fw.FindInterface(src.name);
    if (src.kind != EndpointKind::kNetwork || !iface) continue;
    AddrSet own;
    for (const Prefix& p : iface->addresses) own = own.Union(AddrsOf(p.Network()));
    own = own.Intersect(private_addrs);
    for (size_t d = 0; d < m.destinations.size(); ++d) {
      const Endpoint& dst = m.destinations[d];
      if (dst.kind != EndpointKind::kInternet || own.empty()) continue;
      if (!fw.FindInterface(dst.iface)) continue;  // no way out at all: nothing to translate
      PacketSet from_own = m.At(s, d).passed.Intersect(
          m.InTerms(PacketSet::Of(own, AllAddrsBothFamilies(), AllServices())));
      PacketSet lost = Untranslated(fw, dst.iface, from_own, &m);
      if (lost.empty()) continue;
      out.push_back({Risk::kLow, "outbound-nat-missing",
                     fmt::format("network '{}' -> {}", src.name, dst.name),
                     fmt::format("the filter lets {} from {} out by '{}', but no outbound NAT "
                                 "rule translates it (mode '{}'): replies to a private address "
                                 "never come back",
                                 ServicesText(lost.Services()),
                                 FormatAddrs(m.InAddresses(lost.Sources())),
                                 dst.iface, fw.outbound_nat_mode),
                     where});
    }
  }
  return out;
}

}  // namespace bulkhead
