// SPDX-License-Identifier: Apache-2.0
// Tests of the set algebra against brute force: interval sets against bit masks over a
// sixteen-value type, packet sets against point-by-point models in a tiny universe (seeded
// random sets), plus the exact texts of FormatAddrs and FormatServices.

#include "engine/packet_set.h"

#include <bitset>
#include <random>

#include <gtest/gtest.h>

#include "engine/tiny_universe.h"

namespace bulkhead {
namespace {

// ---- Interval sets against bit masks ---------------------------------------------------------

struct SixteenTraits {
  static int Min() { return 0; }
  static int Max() { return 15; }
  static int Next(int v) { return v + 1; }
  static int Prev(int v) { return v - 1; }
};
using SmallSet = IntervalSet<int, SixteenTraits>;
using Mask = std::bitset<16>;

SmallSet FromMask(Mask m) {
  std::vector<SmallSet::Range> ranges;
  for (int v = 0; v < 16; ++v) {
    if (m[v]) ranges.push_back({v, v});
  }
  return SmallSet::FromRanges(ranges);
}

Mask ToMask(const SmallSet& s) {
  Mask m;
  for (const SmallSet::Range& r : s.ranges()) {
    for (int v = r.first; v <= r.last; ++v) m[v] = true;
  }
  return m;
}

// Sorted, disjoint and never touching: the form every operation must keep.
bool IsNormal(const SmallSet& s) {
  for (size_t i = 0; i < s.ranges().size(); ++i) {
    if (s.ranges()[i].last < s.ranges()[i].first) return false;
    if (i > 0 && s.ranges()[i].first <= s.ranges()[i - 1].last + 1) return false;
  }
  return true;
}

TEST(IntervalSetTest, AgreesWithBitMasks) {
  std::mt19937 rng(16);
  for (int round = 0; round < 3000; ++round) {
    Mask a(rng() & 0xffff), b(rng() & 0xffff);
    if (round % 7 == 0) a = Mask(0xffff);
    if (round % 11 == 0) b = Mask(0);
    SmallSet sa = FromMask(a), sb = FromMask(b);
    std::string at = "a=" + a.to_string() + " b=" + b.to_string();
    ASSERT_EQ(ToMask(sa), a) << at;
    ASSERT_EQ(ToMask(sa.Union(sb)), a | b) << at;
    ASSERT_EQ(ToMask(sa.Intersect(sb)), a & b) << at;
    ASSERT_EQ(ToMask(sa.Subtract(sb)), a & ~b) << at;
    ASSERT_EQ(ToMask(sa.Complement()), ~a) << at;
    ASSERT_EQ(sa.Intersects(sb), (a & b).any()) << at;
    ASSERT_EQ(sa.IsSubsetOf(sb), (a & ~b).none()) << at;
    ASSERT_EQ(sa.IsAll(), a.all()) << at;
    ASSERT_TRUE(IsNormal(sa.Union(sb)) && IsNormal(sa.Subtract(sb)) && IsNormal(sa.Complement()) &&
                IsNormal(sa.Intersect(sb)))
        << at;
    for (int v = 0; v < 16; ++v) ASSERT_EQ(sa.Contains(v), a[v]) << at << " v=" << v;
  }
}

TEST(IntervalSetTest, ComplementAtTheEdges) {
  EXPECT_TRUE(SmallSet::All().Complement().empty());
  EXPECT_EQ(SmallSet().Complement(), SmallSet::All());
  EXPECT_EQ(SmallSet(0, 0).Complement(), SmallSet(1, 15));
  EXPECT_EQ(SmallSet(15, 15).Complement(), SmallSet(0, 14));
  EXPECT_EQ(SmallSet::Of({{0, 3}, {12, 15}}).Complement(), SmallSet(4, 11));
  EXPECT_EQ(SmallSet(4, 11).Complement(), SmallSet::Of({{0, 3}, {12, 15}}));
  EXPECT_TRUE(SmallSet(5, 4).empty());
  EXPECT_EQ(SmallSet::Of({{0, 3}, {4, 7}}).ranges().size(), 1u);
  EXPECT_EQ(SmallSet::FromRanges({{9, 12}, {0, 2}, {3, 3}, {7, 5}, {10, 15}}),
            SmallSet::Of({{0, 3}, {9, 15}}));
}

// ---- Address keys ----------------------------------------------------------------------------

TEST(AddrKeyTest, NextAndPrevCrossSpaces) {
  const uint128 kV4Max = 0xffffffffu;
  const uint128 kV6Max = ~uint128(0);
  struct Case {
    AddrKey key;
    AddrKey next;
  };
  const Case cases[] = {
      {{AddrSpace::kV4, 0}, {AddrSpace::kV4, 1}},
      {{AddrSpace::kV4, kV4Max}, {AddrSpace::kV4Name, 0}},
      {{AddrSpace::kV4Name, kV4Max}, {AddrSpace::kV6, 0}},
      {{AddrSpace::kV6, kV6Max}, {AddrSpace::kV6Name, 0}},
      {{AddrSpace::kV6Name, 7}, {AddrSpace::kV6Name, 8}},
  };
  for (const Case& c : cases) {
    EXPECT_EQ(AddrKeyTraits::Next(c.key), c.next) << int(c.key.space);
    EXPECT_EQ(AddrKeyTraits::Prev(c.next), c.key) << int(c.key.space);
  }
  EXPECT_EQ(AddrKeyTraits::MaxValue(AddrSpace::kV4), kV4Max);
  EXPECT_EQ(AddrKeyTraits::MaxValue(AddrSpace::kV4Name), kV4Max);
  EXPECT_EQ(AddrKeyTraits::MaxValue(AddrSpace::kV6), kV6Max);
  EXPECT_EQ(AddrKeyTraits::MaxValue(AddrSpace::kV6Name), kV4Max);
}

TEST(AddrKeyTest, SpacesOfAFamily) {
  AddrSet all_v4 = AllAddrs(Family::kV4);
  AddrSet real_v4 = AllRealAddrs(Family::kV4);
  // Every name resolves inside 0.0.0.0/0; a narrower prefix holds real addresses only.
  EXPECT_EQ(all_v4, AddrsOf(*Prefix::Parse("0.0.0.0/0")));
  EXPECT_EQ(AllAddrs(Family::kV6), AddrsOf(*Prefix::Parse("::/0")));
  EXPECT_TRUE(AddrsOf(*Prefix::Parse("0.0.0.0/1")).IsSubsetOf(real_v4));
  EXPECT_TRUE(real_v4.IsSubsetOf(all_v4));
  EXPECT_TRUE(NameAddr(3, Family::kV4).IsSubsetOf(all_v4.Subtract(real_v4)));
  EXPECT_FALSE(NameAddr(3, Family::kV6).Intersects(all_v4));
  EXPECT_TRUE(AllAddrs(Family::kV4).Union(AllAddrs(Family::kV6)).IsAll());
  EXPECT_EQ(AllAddrsBothFamilies(), AddrSet::All());
  EXPECT_EQ(real_v4.Complement(), AddrSet({AddrSpace::kV4Name, 0}, AddrKeyTraits::Max()));
  EXPECT_EQ(NameAddrsBothFamilies(2).ranges().size(), 2u);
  EXPECT_EQ(AddrsOf(*IpAddress::Parse("::1")), AddrsOf(*Prefix::Parse("::1/128")));
}

TEST(AddrKeyTest, ManyPrefixesAtOnce) {
  std::vector<Prefix> prefixes;
  for (const char* text : {"10.0.1.0/24", "10.0.0.0/24", "192.0.2.7", "10.0.0.128/25", "::1"}) {
    prefixes.push_back(*Prefix::Parse(text));
  }
  AddrSet s = AddrsOf(prefixes);
  EXPECT_EQ(FormatAddrs(s), "10.0.0.0/23, 192.0.2.7, ::1");
}

TEST(NameTableTest, InternsNormalisedNames) {
  NameTable names;
  EXPECT_EQ(names.Intern("Bank.Example."), 0u);
  EXPECT_EQ(names.Intern("mirror.example"), 1u);
  EXPECT_EQ(names.Intern("bank.example"), 0u);
  EXPECT_EQ(names.Name(0), "bank.example");
  EXPECT_EQ(names.size(), 2u);
  EXPECT_EQ(names.Find("MIRROR.example."), 1u);
  EXPECT_EQ(names.Find("other.example"), std::nullopt);
}

// ---- Packet sets against the point model -----------------------------------------------------

using testing::TinyUniverse;

// Every cube is non-empty and no sample point lies in two cubes.
void ExpectWellFormed(const TinyUniverse& u, const PacketSet& s, const std::string& at) {
  for (const Cube& c : s.cubes()) ASSERT_FALSE(c.empty()) << at;
  size_t i = 0;
  while (i < u.size() && u.CountCubesHolding(s, i) <= 1) ++i;
  ASSERT_EQ(i, u.size()) << at << ": sample point " << i << " lies in two cubes";
}

template <typename Op>
std::vector<bool> Pointwise(const std::vector<bool>& a, const std::vector<bool>& b, Op op) {
  std::vector<bool> out(a.size());
  for (size_t i = 0; i < a.size(); ++i) out[i] = op(a[i], b[i]);
  return out;
}

bool AnyPoint(const std::vector<bool>& m) { return std::find(m.begin(), m.end(), true) != m.end(); }

TEST(PacketSetTest, AlgebraAgreesWithPointModel) {
  TinyUniverse u;
  std::mt19937 rng(2718);
  for (int round = 0; round < 300; ++round) {
    std::string at = "round " + std::to_string(round);
    PacketSet a = u.RandomPackets(rng, 4), b = u.RandomPackets(rng, 4);
    std::vector<bool> ma = u.Model(a), mb = u.Model(b);
    ExpectWellFormed(u, a, at);

    PacketSet inter = a.Intersect(b), diff = a.Subtract(b), both = a.Union(b);
    ExpectWellFormed(u, inter, at + " intersect");
    ExpectWellFormed(u, diff, at + " subtract");
    ExpectWellFormed(u, both, at + " union");
    ASSERT_EQ(u.Model(inter), Pointwise(ma, mb, [](bool x, bool y) { return x && y; })) << at;
    ASSERT_EQ(u.Model(diff), Pointwise(ma, mb, [](bool x, bool y) { return x && !y; })) << at;
    ASSERT_EQ(u.Model(both), Pointwise(ma, mb, [](bool x, bool y) { return x || y; })) << at;
    PacketSet rest = a;
    PacketSet taken = rest.SplitOff(b);
    ExpectWellFormed(u, taken, at + " split off");
    ExpectWellFormed(u, rest, at + " split rest");
    ASSERT_EQ(u.Model(taken), u.Model(inter)) << at;
    ASSERT_EQ(u.Model(rest), u.Model(diff)) << at;
    ASSERT_EQ(a.Intersects(b), AnyPoint(u.Model(inter))) << at;
    ASSERT_EQ(a.IsSubsetOf(b), !AnyPoint(u.Model(diff))) << at;
    ASSERT_EQ(a.Equals(b), ma == mb) << at;

    PacketSet compacted = both;
    compacted.Compact();
    ExpectWellFormed(u, compacted, at + " compact");
    ASSERT_LE(compacted.cubes().size(), both.cubes().size()) << at;
    ASSERT_TRUE(compacted.Equals(both)) << at;
  }
}

// Large sets take another way through Subtract (cubes held alike are dropped by hash first):
// sets of hundreds of single points, many of them shared, with a few wide cubes mixed in.
TEST(PacketSetTest, SubtractOfLargeSetsAgreesWithPointModel) {
  TinyUniverse u;
  std::mt19937 rng(1618);
  const auto& addrs = u.addr_points();
  const auto& svcs = u.svc_points();
  auto point = [&](size_t i) {
    size_t n = addrs.size();
    AddrKey src = addrs[i % n], dst = addrs[i / n % n];
    uint32_t svc = svcs[i / n / n % svcs.size()];
    return Cube{AddrSet(src, src), AddrSet(dst, dst), ServiceSet(svc, svc)};
  };
  for (int round = 0; round < 5; ++round) {
    std::string at = "round " + std::to_string(round);
    PacketSet a, b;
    for (size_t i = 0; i < u.size(); ++i) {
      uint32_t roll = rng() % 100;
      if (roll < 12) a.UnionDisjoint(PacketSet(point(i)));
      if (roll < 6 || (roll >= 12 && roll < 18)) b.UnionDisjoint(PacketSet(point(i)));
    }
    b = b.Union(PacketSet(u.RandomCube(rng)));
    ASSERT_GT(a.cubes().size() * b.cubes().size(), 1u << 16) << at;
    PacketSet diff = a.Subtract(b);
    ExpectWellFormed(u, diff, at);
    ASSERT_EQ(u.Model(diff),
              Pointwise(u.Model(a), u.Model(b), [](bool x, bool y) { return x && !y; }))
        << at;
  }
}

TEST(PacketSetTest, ProjectionsAndReversal) {
  TinyUniverse u;
  std::mt19937 rng(31);
  for (int round = 0; round < 100; ++round) {
    PacketSet s = u.RandomPackets(rng, 4);
    PacketSet r = s.Reversed();
    ASSERT_TRUE(r.Reversed().Equals(s)) << round;
    ASSERT_EQ(r.Sources(), s.Destinations()) << round;
    ASSERT_EQ(r.Destinations(), s.Sources()) << round;
    ASSERT_EQ(r.Services(), s.Services()) << round;
    if (s.empty()) continue;
    // Each projection is exact: a point of it is reached by some cube.
    PacketSet box = PacketSet::Of(s.Sources(), s.Destinations(), s.Services());
    ASSERT_TRUE(s.IsSubsetOf(box)) << round;
  }
}

TEST(PacketSetTest, CubeMinusCubeGivesAtMostThree) {
  TinyUniverse u;
  std::mt19937 rng(3);
  for (int round = 0; round < 500; ++round) {
    PacketSet a(u.RandomCube(rng)), b(u.RandomCube(rng));
    ASSERT_LE(a.Subtract(b).cubes().size(), 3u) << round;
  }
}

TEST(PacketSetTest, AllKeepsFamiliesApart) {
  PacketSet all = PacketSet::All();
  ASSERT_EQ(all.cubes().size(), 2u);
  EXPECT_EQ(all.cubes()[0].src, AllAddrs(Family::kV4));
  EXPECT_EQ(all.cubes()[0].dst, AllAddrs(Family::kV4));
  EXPECT_EQ(all.cubes()[1].src, AllAddrs(Family::kV6));
  EXPECT_TRUE(all.cubes()[1].svc.IsAll());

  PacketSet mixed = PacketSet::Of(AllAddrs(Family::kV4), AllAddrs(Family::kV6), AllServices());
  EXPECT_FALSE(mixed.Intersects(all));
  EXPECT_TRUE(PacketSet().IsSubsetOf(all));
  EXPECT_TRUE(PacketSet::Of(AddrSet(), AllAddrs(Family::kV4), AllServices()).empty());
}

TEST(PacketSetTest, CompactMergesSplitPieces) {
  AddrSet lan = AddrsOf(*Prefix::Parse("10.0.1.0/24"));
  PacketSet all = PacketSet::All();
  PacketSet hole = PacketSet::Of(lan, AllRealAddrs(Family::kV4), Ports(kProtoTcp, 22, 22));
  PacketSet rest = all.Subtract(hole).Union(hole);
  rest.Compact();
  EXPECT_TRUE(rest.Equals(all));
  EXPECT_EQ(rest.cubes().size(), 2u);
}

// ---- Text ------------------------------------------------------------------------------------

AddrSet Addrs(std::initializer_list<const char*> prefixes) {
  std::vector<Prefix> parsed;
  for (const char* p : prefixes) parsed.push_back(*Prefix::Parse(p));
  return AddrsOf(parsed);
}

TEST(FormatTest, Addresses) {
  NameTable names;
  uint32_t bank = names.Intern("bank.example");
  uint32_t mirror = names.Intern("mirror.example");
  AddrSet v4_range = AddrSet({AddrSpace::kV4, 0x0a000001}, {AddrSpace::kV4, 0x0a000005});
  struct Case {
    AddrSet set;
    const char* text;
  };
  const Case cases[] = {
      {AddrSet(), "none"},
      {Addrs({"10.0.1.0/24", "192.0.2.7"}), "10.0.1.0/24, 192.0.2.7"},
      {v4_range, "10.0.0.1-10.0.0.5"},
      {Addrs({"0.0.0.0/0"}), "0.0.0.0/0"},
      {AllAddrs(Family::kV4), "any IPv4"},
      {AllAddrs(Family::kV6), "any IPv6"},
      {AddrSet::All(), "any IPv4, any IPv6"},
      {AllAddrs(Family::kV4).Subtract(Addrs({"10.0.0.0/8", "192.168.0.0/16"})),
       "any IPv4 except 10.0.0.0/8, 192.168.0.0/16"},
      {Addrs({"2001:db8::/32", "::1"}), "::1, 2001:db8::/32"},
      {NameAddrsBothFamilies(bank), "bank.example"},
      {NameAddr(mirror, Family::kV6).Union(Addrs({"192.0.2.1"})), "192.0.2.1, mirror.example"},
      {AddrSet({AddrSpace::kV4Name, 1}, {AddrSpace::kV4Name, 9}),
       "mirror.example, other IPv4 names"},
      {AllRealAddrs(Family::kV4).Complement().Intersect(AllAddrs(Family::kV4)), "any IPv4 name"},
  };
  for (const Case& c : cases) EXPECT_EQ(FormatAddrs(c.set, &names), c.text);
  EXPECT_EQ(FormatAddrs(NameAddr(4, Family::kV4)), "name#4");
}

TEST(FormatTest, Services) {
  struct Case {
    ServiceSet set;
    const char* text;
  };
  const Case cases[] = {
      {ServiceSet(), "none"},
      {AllServices(), "any"},
      {Proto(kProtoTcp), "tcp"},
      {Proto(kProtoIcmpV6), "ipv6-icmp"},
      {Ports(kProtoTcp, 22, 22).Union(Ports(kProtoTcp, 80, 443)), "tcp 22,80-443"},
      {Ports(kProtoUdp, 53, 53).Union(Ports(kProtoTcp, 53, 53)), "tcp 53; udp 53"},
      {IcmpType(kProtoIcmp, 8), "icmp echo-request"},
      {IcmpType(kProtoIcmp, 8).Union(IcmpType(kProtoIcmp, 0)), "icmp echo-reply,echo-request"},
      {IcmpType(kProtoIcmpV6, 135), "ipv6-icmp nd-neighbor-solicit"},
      {IcmpType(kProtoIcmp, 42), "icmp 42"},
      {ServiceSet(1u << 16 | 3u << 8 | 4, 1u << 16 | 3u << 8 | 4),
       "icmp destination-unreachable/4"},
      {Proto(47).Union(Proto(kProtoUdp)), "udp; gre"},
      {Proto(200), "proto 200"},
      {AllServices().Subtract(Ports(kProtoTcp, 25, 25)), "any except tcp 25"},
      {ServiceSet(6u << 16 | 65000, 9u << 16 | 10),
       "tcp 65000-65535; proto 7; proto 8; proto 9 0-10"},
  };
  for (const Case& c : cases) EXPECT_EQ(FormatServices(c.set), c.text);
}

TEST(FormatTest, ProtocolAndIcmpNames) {
  EXPECT_EQ(ProtoByName("tcp"), kProtoTcp);
  EXPECT_EQ(ProtoByName("icmpv6"), kProtoIcmpV6);
  EXPECT_EQ(ProtoByName("ipv6-icmp"), kProtoIcmpV6);
  EXPECT_EQ(ProtoByName("47"), 47);
  EXPECT_EQ(ProtoByName("256"), std::nullopt);
  EXPECT_EQ(ProtoByName("tcpx"), std::nullopt);
  EXPECT_EQ(ProtoName(17), "udp");
  EXPECT_EQ(ProtoName(99), "99");
  EXPECT_STREQ(IcmpTypeName(kProtoIcmp, 8), "echo-request");
  EXPECT_STREQ(IcmpTypeName(kProtoIcmpV6, 128), "echo-request");
  EXPECT_EQ(IcmpTypeName(kProtoTcp, 8), nullptr);
  EXPECT_EQ(IcmpTypeByName(kProtoIcmpV6, "packet-too-big"), 2);
  EXPECT_EQ(IcmpTypeByName(kProtoIcmp, "packet-too-big"), std::nullopt);
}

}  // namespace
}  // namespace bulkhead
