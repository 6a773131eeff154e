// SPDX-License-Identifier: Apache-2.0
// The packet-set algebra: address and service axes, cube splitting, and the human text of
// sets. Cubes of a set stay pairwise disjoint, so a difference only ever splits the cubes it
// touches, and every check starts with the cheap bounds of each axis before exact merging.

#include "engine/packet_set.h"

#include <algorithm>
#include <bit>
#include <functional>
#include <map>

#include <fmt/format.h>

namespace bulkhead {
namespace {

AddrSpace RealSpace(Family f) { return f == Family::kV4 ? AddrSpace::kV4 : AddrSpace::kV6; }
AddrSpace NameSpace(Family f) { return f == Family::kV4 ? AddrSpace::kV4Name : AddrSpace::kV6Name; }
bool IsNameSpace(AddrSpace s) { return s == AddrSpace::kV4Name || s == AddrSpace::kV6Name; }

AddrSet WholeSpace(AddrSpace s) { return AddrSet({s, 0}, {s, AddrKeyTraits::MaxValue(s)}); }

}  // namespace

// ---- Addresses -------------------------------------------------------------------------------

uint128 AddrKeyTraits::MaxValue(AddrSpace s) {
  if (s == AddrSpace::kV6) return ~uint128(0);
  return 0xffffffffu;
}

AddrKey AddrKeyTraits::Next(AddrKey k) {
  if (k.value == MaxValue(k.space)) return {static_cast<AddrSpace>(int(k.space) + 1), 0};
  return {k.space, k.value + 1};
}

AddrKey AddrKeyTraits::Prev(AddrKey k) {
  if (k.value != 0) return {k.space, k.value - 1};
  AddrSpace before = static_cast<AddrSpace>(int(k.space) - 1);
  return {before, MaxValue(before)};
}

AddrSet AddrsOf(const Prefix& p) {
  // Whatever a host name resolves to lies in 0.0.0.0/0 (or ::/0), so the whole space holds the
  // names too; a narrower prefix may or may not, and is taken to hold none.
  if (p.length == 0) return AllAddrs(p.address.family);
  AddrSpace space = RealSpace(p.address.family);
  return AddrSet({space, p.First().value}, {space, p.Last().value});
}

AddrSet AddrsOf(const IpAddress& a) {
  AddrSpace space = RealSpace(a.family);
  return AddrSet({space, a.value}, {space, a.value});
}

AddrSet AddrsOf(const std::vector<Prefix>& prefixes) {
  std::vector<AddrSet::Range> ranges;
  ranges.reserve(prefixes.size());
  for (const Prefix& p : prefixes) {
    AddrSpace space = RealSpace(p.address.family);
    ranges.push_back({{space, p.First().value}, {space, p.Last().value}});
  }
  return AddrSet::FromRanges(std::move(ranges));
}

AddrSet AllAddrs(Family f) {
  AddrSpace last = NameSpace(f);
  return AddrSet({RealSpace(f), 0}, {last, AddrKeyTraits::MaxValue(last)});
}

AddrSet AllRealAddrs(Family f) { return WholeSpace(RealSpace(f)); }

AddrSet AllAddrsBothFamilies() { return AddrSet::All(); }

AddrSet NameAddr(uint32_t name_id, Family f) {
  AddrKey key{NameSpace(f), name_id};
  return AddrSet(key, key);
}

AddrSet NameAddrsBothFamilies(uint32_t name_id) {
  return NameAddr(name_id, Family::kV4).Union(NameAddr(name_id, Family::kV6));
}

namespace {

std::string NormalizeHostName(std::string_view host_name) {
  if (!host_name.empty() && host_name.back() == '.') host_name.remove_suffix(1);
  std::string name(host_name);
  for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return name;
}

}  // namespace

uint32_t NameTable::Intern(std::string_view host_name) {
  std::string name = NormalizeHostName(host_name);
  auto [it, inserted] = ids_.try_emplace(name, static_cast<uint32_t>(names_.size()));
  if (inserted) names_.push_back(std::move(name));
  return it->second;
}

std::optional<uint32_t> NameTable::Find(std::string_view host_name) const {
  auto it = ids_.find(NormalizeHostName(host_name));
  if (it == ids_.end()) return std::nullopt;
  return it->second;
}

// ---- Formatting addresses --------------------------------------------------------------------

namespace {

const char* FamilyName(Family f) { return f == Family::kV4 ? "IPv4" : "IPv6"; }

// "10.0.0.0/8" when [first, last] is exactly one prefix ("192.0.2.7" for a host), else "a-b".
std::string FormatRealRange(Family f, uint128 first, uint128 last) {
  IpAddress a{f, first};
  uint128 span = last - first;
  bool is_prefix = (span & (span + 1)) == 0 && (first & span) == 0;
  if (!is_prefix) return fmt::format("{}-{}", a.ToString(), IpAddress{f, last}.ToString());
  int host_bits =
      std::popcount(static_cast<uint64_t>(span)) + std::popcount(static_cast<uint64_t>(span >> 64));
  if (host_bits == 0) return a.ToString();
  return Prefix{a, AddressBits(f) - host_bits}.ToString();
}

// Appends the names of the ids in [first, last]; ids the table does not know (or every id,
// without a table) are summed up rather than listed.
void AppendNames(Family f, uint128 first, uint128 last, const NameTable* names,
                 std::vector<std::string>& out) {
  if (first == 0 && last == AddrKeyTraits::MaxValue(NameSpace(f))) {
    out.push_back(fmt::format("any {} name", FamilyName(f)));
    return;
  }
  uint128 known = names ? names->size() : 0;
  for (uint128 id = first; id <= last && id < known; ++id) {
    out.push_back(names->Name(static_cast<uint32_t>(id)));
  }
  if (last < known) return;
  if (names) {
    out.push_back(fmt::format("other {} names", FamilyName(f)));
  } else if (first == last) {
    out.push_back(fmt::format("name#{}", static_cast<uint64_t>(first)));
  } else {
    out.push_back(fmt::format("name#{}-name#{}", static_cast<uint64_t>(std::max(first, known)),
                              static_cast<uint64_t>(last)));
  }
}

void AppendRanges(Family f, const AddrSet& part, const NameTable* names,
                  std::vector<std::string>& out) {
  for (const AddrSet::Range& r : part.ranges()) {
    // A range may run from the real space into the name space; print each side apart.
    for (AddrSpace space : {RealSpace(f), NameSpace(f)}) {
      if (space < r.first.space || r.last.space < space) continue;
      uint128 first = r.first.space == space ? r.first.value : 0;
      uint128 last = r.last.space == space ? r.last.value : AddrKeyTraits::MaxValue(space);
      if (IsNameSpace(space))
        AppendNames(f, first, last, names, out);
      else
        out.push_back(FormatRealRange(f, first, last));
    }
  }
}

// The text of the addresses of one family in `s`.
void AppendFamily(Family f, const AddrSet& s, const NameTable* names,
                  std::vector<std::string>& out) {
  AddrSet part = s.Intersect(AllAddrs(f));
  if (part.empty()) return;
  if (part == AllAddrs(f)) {
    out.push_back(fmt::format("any {}", FamilyName(f)));
    return;
  }

  // "Everything but a few networks" (the internet seen from inside) reads better as such.
  AddrSet name_space = WholeSpace(NameSpace(f));
  if (name_space.IsSubsetOf(part) && part.Intersects(AllRealAddrs(f))) {
    std::vector<std::string> missing;
    AppendRanges(f, AllRealAddrs(f).Subtract(part), names, missing);
    out.push_back(fmt::format("any {} except {}", FamilyName(f), fmt::join(missing, ", ")));
    return;
  }
  AppendRanges(f, part, names, out);
}

}  // namespace

std::string FormatAddrs(const AddrSet& s, const NameTable* names) {
  if (s.empty()) return "none";
  std::vector<std::string> items;
  AppendFamily(Family::kV4, s, names, items);
  AppendFamily(Family::kV6, s, names, items);

  // A host name present in both families is printed once.
  std::vector<std::string> unique;
  for (std::string& item : items) {
    if (std::find(unique.begin(), unique.end(), item) == unique.end()) {
      unique.push_back(std::move(item));
    }
  }
  return fmt::format("{}", fmt::join(unique, ", "));
}

// ---- Services --------------------------------------------------------------------------------

namespace {

constexpr uint32_t kDetailMax = 0xffff;

uint32_t ServiceKey(uint8_t proto, uint32_t detail) { return uint32_t{proto} << 16 | detail; }

struct NamedNumber {
  uint8_t number;
  const char* name;
};

constexpr NamedNumber kProtoNames[] = {
    {1, "icmp"},       {2, "igmp"},  {4, "ipip"},   {6, "tcp"},    {17, "udp"},
    {33, "dccp"},      {41, "ipv6"}, {47, "gre"},   {50, "esp"},   {51, "ah"},
    {58, "ipv6-icmp"}, {103, "pim"}, {112, "vrrp"}, {132, "sctp"}, {136, "udplite"},
};

constexpr NamedNumber kProtoAliases[] = {{58, "icmpv6"}, {58, "icmp6"}, {112, "carp"}};

constexpr NamedNumber kIcmpTypes[] = {
    {0, "echo-reply"},           {3, "destination-unreachable"},
    {4, "source-quench"},        {5, "redirect"},
    {8, "echo-request"},         {9, "router-advertisement"},
    {10, "router-solicitation"}, {11, "time-exceeded"},
    {12, "parameter-problem"},   {13, "timestamp-request"},
    {14, "timestamp-reply"},     {15, "info-request"},
    {16, "info-reply"},          {17, "address-mask-request"},
    {18, "address-mask-reply"},
};

constexpr NamedNumber kIcmpV6Types[] = {
    {1, "destination-unreachable"}, {2, "packet-too-big"},         {3, "time-exceeded"},
    {4, "parameter-problem"},       {128, "echo-request"},         {129, "echo-reply"},
    {130, "mld-listener-query"},    {131, "mld-listener-report"},  {132, "mld-listener-done"},
    {133, "nd-router-solicit"},     {134, "nd-router-advert"},     {135, "nd-neighbor-solicit"},
    {136, "nd-neighbor-advert"},    {137, "nd-redirect"},          {141, "ind-neighbor-solicit"},
    {142, "ind-neighbor-advert"},   {143, "mld2-listener-report"},
};

template <size_t N>
const char* NameOf(const NamedNumber (&table)[N], uint8_t number) {
  for (const NamedNumber& n : table) {
    if (n.number == number) return n.name;
  }
  return nullptr;
}

template <size_t N>
std::optional<uint8_t> NumberOf(const NamedNumber (&table)[N], std::string_view name) {
  for (const NamedNumber& n : table) {
    if (n.name == name) return n.number;
  }
  return std::nullopt;
}

std::optional<uint8_t> ParseByte(std::string_view text) {
  if (text.empty() || text.size() > 3 || (text.size() > 1 && text[0] == '0')) return std::nullopt;
  int value = 0;
  for (char c : text) {
    if (c < '0' || c > '9') return std::nullopt;
    value = value * 10 + (c - '0');
  }
  if (value > 255) return std::nullopt;
  return static_cast<uint8_t>(value);
}

bool IsIcmp(uint8_t proto) { return proto == kProtoIcmp || proto == kProtoIcmpV6; }

using DetailRanges = std::vector<std::pair<uint32_t, uint32_t>>;

// The detail ranges of each protocol present in `s`, ordered by protocol.
std::map<uint8_t, DetailRanges> ByProtocol(const ServiceSet& s) {
  std::map<uint8_t, DetailRanges> out;
  for (const ServiceSet::Range& r : s.ranges()) {
    for (uint32_t proto = r.first >> 16; proto <= r.last >> 16; ++proto) {
      uint32_t lo = proto == r.first >> 16 ? r.first & kDetailMax : 0;
      uint32_t hi = proto == r.last >> 16 ? r.last & kDetailMax : kDetailMax;
      out[static_cast<uint8_t>(proto)].push_back({lo, hi});
    }
  }
  return out;
}

std::string FormatNumberRange(uint32_t lo, uint32_t hi) {
  return lo == hi ? fmt::format("{}", lo) : fmt::format("{}-{}", lo, hi);
}

std::string IcmpTypeText(uint8_t proto, uint32_t type) {
  const char* name = IcmpTypeName(proto, static_cast<uint8_t>(type));
  return name ? std::string(name) : fmt::format("{}", type);
}

// "echo-request,destination-unreachable/4": whole types by name, else type/codes.
std::string FormatIcmpDetails(uint8_t proto, const DetailRanges& ranges) {
  std::vector<std::string> items;
  for (auto [lo, hi] : ranges) {
    for (uint32_t type = lo >> 8; type <= hi >> 8; ++type) {
      uint32_t code_lo = type == lo >> 8 ? lo & 0xff : 0;
      uint32_t code_hi = type == hi >> 8 ? hi & 0xff : 0xff;
      std::string text = IcmpTypeText(proto, type);
      if (code_lo != 0 || code_hi != 0xff) text += "/" + FormatNumberRange(code_lo, code_hi);
      items.push_back(std::move(text));
    }
  }
  return fmt::format("{}", fmt::join(items, ","));
}

std::string FormatProtocol(uint8_t proto, const DetailRanges& ranges) {
  const char* known = NameOf(kProtoNames, proto);
  std::string name = known ? known : fmt::format("proto {}", proto);
  if (ranges.size() == 1 && ranges[0].first == 0 && ranges[0].second == kDetailMax) return name;
  if (IsIcmp(proto)) return name + " " + FormatIcmpDetails(proto, ranges);
  std::vector<std::string> items;
  for (auto [lo, hi] : ranges) items.push_back(FormatNumberRange(lo, hi));
  return fmt::format("{} {}", name, fmt::join(items, ","));
}

int CountWholeProtocols(const ServiceSet& s) {
  int whole = 0;
  for (const ServiceSet::Range& r : s.ranges()) {
    uint32_t first_whole = (r.first + kDetailMax) >> 16;  // first protocol starting inside r
    uint32_t end_whole = (r.last + 1) >> 16;              // one past the last ending inside r
    if (end_whole > first_whole) whole += static_cast<int>(end_whole - first_whole);
  }
  return whole;
}

}  // namespace

ServiceSet AllServices() { return ServiceSet::All(); }

ServiceSet Proto(uint8_t proto) {
  return ServiceSet(ServiceKey(proto, 0), ServiceKey(proto, kDetailMax));
}

ServiceSet Ports(uint8_t proto, uint16_t first, uint16_t last) {
  return ServiceSet(ServiceKey(proto, first), ServiceKey(proto, last));
}

ServiceSet IcmpType(uint8_t proto, uint8_t type) {
  return ServiceSet(ServiceKey(proto, uint32_t{type} << 8), ServiceKey(proto, type << 8 | 0xff));
}

std::optional<uint8_t> ProtoByName(std::string_view name) {
  if (std::optional<uint8_t> number = ParseByte(name)) return number;
  if (std::optional<uint8_t> number = NumberOf(kProtoNames, name)) return number;
  return NumberOf(kProtoAliases, name);
}

std::string ProtoName(uint8_t proto) {
  const char* name = NameOf(kProtoNames, proto);
  return name ? std::string(name) : fmt::format("{}", proto);
}

const char* IcmpTypeName(uint8_t proto, uint8_t type) {
  if (proto == kProtoIcmp) return NameOf(kIcmpTypes, type);
  if (proto == kProtoIcmpV6) return NameOf(kIcmpV6Types, type);
  return nullptr;
}

std::optional<uint8_t> IcmpTypeByName(uint8_t proto, std::string_view name) {
  if (proto == kProtoIcmp) return NumberOf(kIcmpTypes, name);
  if (proto == kProtoIcmpV6) return NumberOf(kIcmpV6Types, name);
  return std::nullopt;
}

std::string FormatServices(const ServiceSet& s) {
  if (s.empty()) return "none";
  if (s.IsAll()) return "any";
  if (CountWholeProtocols(s) > 128) return "any except " + FormatServices(s.Complement());
  std::vector<std::string> items;
  for (const auto& [proto, ranges] : ByProtocol(s)) items.push_back(FormatProtocol(proto, ranges));
  return fmt::format("{}", fmt::join(items, "; "));
}

// ---- Packet sets -----------------------------------------------------------------------------

namespace {

bool CubesIntersect(const Cube& a, const Cube& b) {
  return a.svc.Intersects(b.svc) && a.dst.Intersects(b.dst) && a.src.Intersects(b.src);
}

// Splits set a into its parts inside and outside b; a set wholly inside b is moved, not copied.
template <typename Set>
void SplitAxis(Set&& a, const Set& b, Set& inside, Set& outside) {
  if (a.IsSubsetOf(b)) {
    inside = std::move(a);
    return;
  }
  inside = a.Intersect(b);
  outside = a.Subtract(b);
}

// Splits of one axis against one set of b, remembered by the identity of the set split. The
// pieces of a cube share their sets, so cutting b out of many pieces that hold the same large
// alias (or its complement) computes, and stores, that difference once instead of per piece.
template <typename Set>
class AxisSplitter {
 public:
  explicit AxisSplitter(const Set& b) : b_(b) {}

  void Split(Set&& a, Set& inside, Set& outside) {
    if (a.ranges().size() < kRemembered) return SplitAxis(std::move(a), b_, inside, outside);
    auto [it, fresh] = memo_.try_emplace(a.Identity());
    Entry& e = it->second;
    if (fresh) {
      e.split = a;  // keeps the identity alive, so that no other set can take it over
      SplitAxis(std::move(a), b_, e.inside, e.outside);
    }
    inside = e.inside, outside = e.outside;
  }

 private:
  static constexpr size_t kRemembered = 8;  // smaller sets are cheaper to split than to look up
  struct Entry {
    Set split, inside, outside;
  };
  const Set& b_;
  std::unordered_map<const void*, Entry> memo_;
};

struct CubeSplitter {
  explicit CubeSplitter(const Cube& b) : src(b.src), dst(b.dst), svc(b.svc) {}
  AxisSplitter<AddrSet> src, dst;
  AxisSplitter<ServiceSet> svc;
};

// Splits intersecting cubes: appends a - b to `rest` as the part outside b's sources, then the
// part inside them but outside b's destinations, then the part inside both but outside b's
// services; appends a & b to `taken` when given.
void SplitCube(Cube&& a, CubeSplitter& b, std::vector<Cube>& rest, std::vector<Cube>* taken) {
  AddrSet src_in, src_out;
  b.src.Split(std::move(a.src), src_in, src_out);
  if (!src_out.empty()) rest.push_back({std::move(src_out), a.dst, a.svc});

  AddrSet dst_in, dst_out;
  b.dst.Split(std::move(a.dst), dst_in, dst_out);
  if (!dst_out.empty()) rest.push_back({src_in, std::move(dst_out), a.svc});

  ServiceSet svc_in, svc_out;
  b.svc.Split(std::move(a.svc), svc_in, svc_out);
  if (!svc_out.empty()) rest.push_back({src_in, dst_in, std::move(svc_out)});
  if (taken) taken->push_back({std::move(src_in), std::move(dst_in), std::move(svc_in)});
}

// Removes cube b from every cube of `cubes`, appending what it removes to `taken` if given.
void SubtractCube(std::vector<Cube>& cubes, const Cube& b, std::vector<Cube>* taken) {
  auto first_hit =
      std::find_if(cubes.begin(), cubes.end(), [&](const Cube& a) { return CubesIntersect(a, b); });
  if (first_hit == cubes.end()) return;
  std::vector<Cube> rest;
  rest.reserve(cubes.size() + 2);
  CubeSplitter splitter(b);
  for (auto it = cubes.begin(); it != cubes.end(); ++it) {
    if (it >= first_hit && CubesIntersect(*it, b)) {
      SplitCube(std::move(*it), splitter, rest, taken);
    } else {
      rest.push_back(std::move(*it));
    }
  }
  cubes = std::move(rest);
}

template <typename Set>
Set UnionOfAll(const std::vector<Cube>& cubes, Set Cube::*axis) {
  std::vector<typename Set::Range> ranges;
  for (const Cube& c : cubes) {
    const auto& rs = (c.*axis).ranges();
    ranges.insert(ranges.end(), rs.begin(), rs.end());
  }
  return Set::FromRanges(std::move(ranges));
}

size_t HashKey(const AddrKey& k) {
  return std::hash<uint64_t>()(static_cast<uint64_t>(k.value) ^
                               static_cast<uint64_t>(k.value >> 64) ^ uint64_t(k.space) << 62);
}
size_t HashKey(uint32_t v) { return std::hash<uint32_t>()(v); }

// Hashes the size and at most 16 evenly spaced ranges: cheap on aliases of thousands of
// ranges, and exact comparison follows anyway.
template <typename Set>
size_t HashSet(const Set& s) {
  const auto& ranges = s.ranges();
  size_t h = ranges.size();
  size_t step = ranges.size() / 16 + 1;
  for (size_t i = 0; i < ranges.size(); i += step) {
    h = (h * 1000003u ^ HashKey(ranges[i].first)) * 1000003u ^ HashKey(ranges[i].last);
  }
  return h;
}

// One pass of Compact: merges cubes equal on every axis but `axis` (0 src, 1 dst, 2 svc).
// Merging two disjoint cubes that agree on two axes keeps the result disjoint from the rest.
bool MergeAlong(std::vector<Cube>& cubes, int axis) {
  auto key = [axis](const Cube& c) {
    if (axis == 0) return HashSet(c.dst) * 31 + HashSet(c.svc);
    if (axis == 1) return HashSet(c.src) * 31 + HashSet(c.svc);
    return HashSet(c.src) * 31 + HashSet(c.dst);
  };
  auto same = [axis](const Cube& a, const Cube& b) {
    return (axis == 0 || a.src == b.src) && (axis == 1 || a.dst == b.dst) &&
           (axis == 2 || a.svc == b.svc);
  };

  std::unordered_multimap<size_t, size_t> seen;  // key -> index of a kept cube
  std::vector<Cube> out;
  bool merged = false;
  for (Cube& c : cubes) {
    size_t k = key(c);
    auto [lo, hi] = seen.equal_range(k);
    auto match = std::find_if(lo, hi, [&](const auto& e) { return same(out[e.second], c); });
    if (match == hi) {
      seen.emplace(k, out.size());
      out.push_back(std::move(c));
      continue;
    }
    Cube& into = out[match->second];
    if (axis == 0) into.src = into.src.Union(c.src);
    if (axis == 1) into.dst = into.dst.Union(c.dst);
    if (axis == 2) into.svc = into.svc.Union(c.svc);
    merged = true;
  }
  cubes = std::move(out);
  return merged;
}

constexpr size_t kPairwiseLimit = 1 << 16;

size_t HashCube(const Cube& c) {
  return (HashSet(c.src) * 1000003u ^ HashSet(c.dst)) * 1000003u ^ HashSet(c.svc);
}

// Drops the cubes that `a` and `b` hold alike from both. Cubes of one set are disjoint, so a
// cube of b equal to one of a meets no other cube of a: a - b loses nothing by dropping both.
void DropCommonCubes(std::vector<Cube>& a, std::vector<Cube>& b) {
  std::unordered_multimap<size_t, size_t> in_b;
  for (size_t i = 0; i < b.size(); ++i) in_b.emplace(HashCube(b[i]), i);
  std::vector<bool> common_b(b.size(), false);
  std::vector<Cube> rest;
  for (Cube& c : a) {
    auto [lo, hi] = in_b.equal_range(HashCube(c));
    auto same = std::find_if(
        lo, hi, [&](const auto& e) { return !common_b[e.second] && b[e.second] == c; });
    if (same == hi) {
      rest.push_back(std::move(c));
    } else {
      common_b[same->second] = true;
    }
  }
  a = std::move(rest);
  std::vector<Cube> b_rest;
  for (size_t i = 0; i < b.size(); ++i) {
    if (!common_b[i]) b_rest.push_back(std::move(b[i]));
  }
  b = std::move(b_rest);
}

}  // namespace

PacketSet::PacketSet(Cube c) {
  if (!c.empty()) cubes_.push_back(std::move(c));
}

PacketSet PacketSet::All() {
  PacketSet all;
  for (Family f : {Family::kV4, Family::kV6}) {
    all.cubes_.push_back({AllAddrs(f), AllAddrs(f), AllServices()});
  }
  return all;
}

PacketSet PacketSet::Intersect(const PacketSet& o) const {
  PacketSet out;
  for (const Cube& a : cubes_) {
    for (const Cube& b : o.cubes_) {
      if (!CubesIntersect(a, b)) continue;
      out.cubes_.push_back(
          {a.src.Intersect(b.src), a.dst.Intersect(b.dst), a.svc.Intersect(b.svc)});
    }
  }
  return out;
}

PacketSet PacketSet::Subtract(const PacketSet& o) const {
  PacketSet out = *this;
  // Between large sets, which are often two results of the same walk that differ in a few
  // places, cubes held alike are taken out first by hash rather than pair by pair.
  if (cubes_.size() * o.cubes_.size() > kPairwiseLimit) {
    std::vector<Cube> holes = o.cubes_;
    DropCommonCubes(out.cubes_, holes);
    for (const Cube& b : holes) {
      if (out.cubes_.empty()) break;
      SubtractCube(out.cubes_, b, nullptr);
    }
    return out;
  }
  for (const Cube& b : o.cubes_) {
    if (out.cubes_.empty()) break;
    SubtractCube(out.cubes_, b, nullptr);
  }
  return out;
}

PacketSet PacketSet::SplitOff(const PacketSet& o) {
  PacketSet taken;
  for (const Cube& b : o.cubes_) {
    if (cubes_.empty()) break;
    SubtractCube(cubes_, b, &taken.cubes_);
  }
  return taken;
}

PacketSet PacketSet::Union(const PacketSet& o) const {
  PacketSet out = *this;
  out.UnionDisjoint(o.Subtract(*this));
  return out;
}

void PacketSet::UnionDisjoint(const PacketSet& o) {
  cubes_.insert(cubes_.end(), o.cubes_.begin(), o.cubes_.end());
}

bool PacketSet::Intersects(const PacketSet& o) const {
  for (const Cube& a : cubes_) {
    for (const Cube& b : o.cubes_) {
      if (CubesIntersect(a, b)) return true;
    }
  }
  return false;
}

bool PacketSet::IsSubsetOf(const PacketSet& o) const { return Subtract(o).empty(); }

bool PacketSet::Equals(const PacketSet& o) const { return IsSubsetOf(o) && o.IsSubsetOf(*this); }

ServiceSet PacketSet::Services() const { return UnionOfAll(cubes_, &Cube::svc); }
AddrSet PacketSet::Sources() const { return UnionOfAll(cubes_, &Cube::src); }
AddrSet PacketSet::Destinations() const { return UnionOfAll(cubes_, &Cube::dst); }

PacketSet PacketSet::Reversed() const {
  PacketSet out;
  out.cubes_.reserve(cubes_.size());
  for (const Cube& c : cubes_) out.cubes_.push_back({c.dst, c.src, c.svc});
  return out;
}

void PacketSet::Compact() {
  // Each merge shrinks the set, so this ends; a merge may enable one along another axis.
  bool merged = true;
  while (merged && cubes_.size() > 1) {
    merged = false;
    for (int axis = 2; axis >= 0; --axis) merged |= MergeAlong(cubes_, axis);
  }
}

}  // namespace bulkhead
