// SPDX-License-Identifier: Apache-2.0
// Exact sets of packets. A packet is reduced to what the firewalls we model can see: source
// address, destination address, and a "service" (protocol plus destination port or ICMP type).
// A PacketSet is a union of disjoint cubes, each the product of three interval sets, so
// intersection and difference stay exact and cheap: A - B splits into at most three cubes.
#pragma once

#include <compare>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "engine/interval_set.h"
#include "net/ip.h"

namespace bulkhead {

// ---- Addresses -------------------------------------------------------------------------------
//
// The address axis is ordered as four consecutive spaces: real IPv4 addresses, symbolic IPv4
// names, real IPv6 addresses, symbolic IPv6 names. A host name that a rule refers to (an FQDN
// alias, a DNS-filled nft set) gets one point in each symbolic space: "bank.example" is then a
// destination of its own whatever it resolves to. "Any IPv4 address" covers both IPv4 spaces,
// and so does 0.0.0.0/0 (every name resolves inside it); any narrower prefix covers real
// addresses only, since where a name resolves is not known.
enum class AddrSpace : uint8_t { kV4 = 0, kV4Name = 1, kV6 = 2, kV6Name = 3 };

struct AddrKey {
  AddrSpace space = AddrSpace::kV4;
  uint128 value = 0;
  auto operator<=>(const AddrKey&) const = default;
};

struct AddrKeyTraits {
  static AddrKey Min() { return {AddrSpace::kV4, 0}; }
  static AddrKey Max() { return {AddrSpace::kV6Name, MaxValue(AddrSpace::kV6Name)}; }
  static uint128 MaxValue(AddrSpace s);
  static AddrKey Next(AddrKey k);
  static AddrKey Prev(AddrKey k);
};

using AddrSet = IntervalSet<AddrKey, AddrKeyTraits>;

AddrSet AddrsOf(const Prefix& p);     // real addresses of p; a /0 also holds the names
AddrSet AddrsOf(const IpAddress& a);  // one real address
// Real addresses of many prefixes of either family, built in O(n log n) (tens of thousands of
// prefixes in an alias are fine).
AddrSet AddrsOf(const std::vector<Prefix>& prefixes);
AddrSet AllAddrs(Family f);      // every address of a family, names included
AddrSet AllRealAddrs(Family f);  // 0.0.0.0/0 or ::/0
AddrSet AllAddrsBothFamilies();  // AllAddrs(kV4) union AllAddrs(kV6)
// The symbolic point of a host name in one family. Ids come from a NameTable so that the
// same name always maps to the same point within one analysis.
AddrSet NameAddr(uint32_t name_id, Family f);
AddrSet NameAddrsBothFamilies(uint32_t name_id);

// Interns host names (lower-cased, without a final dot) to small ids.
class NameTable {
 public:
  uint32_t Intern(std::string_view host_name);
  // The id of a name interned before (same normalisation), or nullopt.
  std::optional<uint32_t> Find(std::string_view host_name) const;
  const std::string& Name(uint32_t id) const { return names_[id]; }
  size_t size() const { return names_.size(); }

 private:
  std::vector<std::string> names_;
  std::unordered_map<std::string, uint32_t> ids_;
};

// Human text for an address set: "10.0.1.0/24, 192.0.2.7", names resolved through `names`
// when given ("bank.example"); huge sets are abbreviated ("any IPv4").
std::string FormatAddrs(const AddrSet& s, const NameTable* names = nullptr);

// ---- Services --------------------------------------------------------------------------------
//
// A service key is (IP protocol number << 16) | detail, where detail is the destination port
// for TCP, UDP and SCTP, (type << 8 | code) for ICMP and ICMPv6, and 0..65535 for other protocols.
struct ServiceTraits {
  static uint32_t Min() { return 0; }
  static uint32_t Max() { return (256u << 16) - 1; }
  static uint32_t Next(uint32_t v) { return v + 1; }
  static uint32_t Prev(uint32_t v) { return v - 1; }
};

using ServiceSet = IntervalSet<uint32_t, ServiceTraits>;

inline constexpr uint8_t kProtoIcmp = 1;
inline constexpr uint8_t kProtoTcp = 6;
inline constexpr uint8_t kProtoUdp = 17;
inline constexpr uint8_t kProtoIcmpV6 = 58;
inline constexpr uint8_t kProtoCarp = 112;  // VRRP's number, which CARP shares
inline constexpr uint8_t kProtoSctp = 132;

ServiceSet AllServices();
ServiceSet Proto(uint8_t proto);                                 // every port or type of proto
ServiceSet Ports(uint8_t proto, uint16_t first, uint16_t last);  // tcp/udp destination ports
ServiceSet IcmpType(uint8_t proto, uint8_t type);                // all codes of one type

// "icmp echo-request; tcp 22,80-443; udp 53" style text, ordered by protocol number. A whole
// protocol prints as its name ("tcp", "ipv6-icmp"), every service as "any", a set holding most
// protocols as "any except ...". ICMP and ICMPv6 types print by their nft names.
std::string FormatServices(const ServiceSet& s);

// Protocol names as nft and pfSense write them: "tcp", "udp", "icmp", "ipv6-icmp" (also
// "icmpv6"), "gre", "esp", "ah", "sctp", or a decimal number. ProtoName gives the number as
// text for protocols without a name.
std::optional<uint8_t> ProtoByName(std::string_view name);
std::string ProtoName(uint8_t proto);
// ICMP (proto 1) and ICMPv6 (proto 58) type names as nft writes them ("echo-request",
// "nd-neighbor-solicit"); nullptr / nullopt when the type has no name.
const char* IcmpTypeName(uint8_t proto, uint8_t type);
std::optional<uint8_t> IcmpTypeByName(uint8_t proto, std::string_view name);

// ---- Packet sets -----------------------------------------------------------------------------

struct Cube {
  AddrSet src;
  AddrSet dst;
  ServiceSet svc;
  bool empty() const { return src.empty() || dst.empty() || svc.empty(); }
  bool operator==(const Cube&) const = default;
};

// A union of pairwise disjoint, non-empty cubes. Equality is semantic (same packets), not
// structural; use Equals.
class PacketSet {
 public:
  PacketSet() = default;
  explicit PacketSet(Cube c);
  static PacketSet All();  // every packet of either family, names included; families unmixed
  static PacketSet Of(AddrSet src, AddrSet dst, ServiceSet svc) {
    return PacketSet(Cube{std::move(src), std::move(dst), std::move(svc)});
  }

  bool empty() const { return cubes_.empty(); }
  const std::vector<Cube>& cubes() const { return cubes_; }

  PacketSet Intersect(const PacketSet& o) const;
  PacketSet Subtract(const PacketSet& o) const;
  PacketSet Union(const PacketSet& o) const;
  // Moves the part of this set inside `o` out of it: returns this & o and leaves this - o,
  // in one pass instead of Intersect then Subtract. Evaluate does this for every rule.
  PacketSet SplitOff(const PacketSet& o);
  // Adds the cubes of `o`, which the caller guarantees to be disjoint from this set (e.g. two
  // decisions of one evaluation). Cheaper than Union.
  void UnionDisjoint(const PacketSet& o);
  bool Intersects(const PacketSet& o) const;
  bool Equals(const PacketSet& o) const;
  bool IsSubsetOf(const PacketSet& o) const;

  // Projections: every service (source, destination address) some packet of the set has.
  ServiceSet Services() const;
  AddrSet Sources() const;
  AddrSet Destinations() const;

  // Swaps source and destination: the shape of reply packets (services kept as given).
  PacketSet Reversed() const;

  // Merges cubes that differ in one axis only; keeps results small for printing.
  void Compact();

 private:
  std::vector<Cube> cubes_;
};

}  // namespace bulkhead
