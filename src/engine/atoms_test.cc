// SPDX-License-Identifier: Apache-2.0
// Tests of address atoms: a blocklist no rule tells apart is one atom, set algebra commutes
// with encoding, and, on seeded random chains (prefixes, large aliases, negations, names, ports,
// ICMP, both families), first-match evaluation on atoms decides exactly as on addresses.

#include "engine/atoms.h"

#include <chrono>
#include <random>

#include <gtest/gtest.h>

#include "engine/first_match.h"
#include "engine/policy.h"

namespace bulkhead {
namespace {

AddrSet P(const char* prefix) { return AddrsOf(*Prefix::Parse(prefix)); }

// Random addresses and sets, drawn near a few hot spots so that rules overlap often.
class RandomSets {
 public:
  explicit RandomSets(uint32_t seed) : rng_(seed) {}

  int Pick(int n) { return static_cast<int>(rng_() % static_cast<uint32_t>(n)); }

  Prefix RandomPrefix(Family f) {
    IpAddress a{f, 0};
    int bits = f == Family::kV4 ? 32 : 128;
    a.value = f == Family::kV4 ? uint128(10 + Pick(3)) << 24 | (rng_() & 0xffffff)
                               : uint128(0x20010db8u + Pick(2)) << 96 | uint128(rng_()) << 40;
    int length = bits - Pick(f == Family::kV4 ? 24 : 60);
    return Prefix{a, length};
  }

  // A big alias: many hosts and prefixes, as a downloaded blocklist is.
  AddrSet Alias(Family f, int size) {
    std::vector<Prefix> members;
    for (int k = 0; k < size; ++k) members.push_back(RandomPrefix(f));
    return AddrsOf(members);
  }

  AddrSet Addrs(Family f, const std::vector<AddrSet>& aliases) {
    int roll = Pick(100);
    if (roll < 15) return AllAddrs(f);
    if (roll < 30 && !aliases.empty()) return aliases[Pick(static_cast<int>(aliases.size()))];
    if (roll < 40 && !aliases.empty()) {
      return AllAddrs(f).Subtract(aliases[Pick(static_cast<int>(aliases.size()))]);
    }
    if (roll < 48) return AllAddrs(f).Subtract(AddrsOf(RandomPrefix(f)));
    if (roll < 55) return NameAddr(static_cast<uint32_t>(Pick(4)), f);
    AddrSet out = AddrsOf(RandomPrefix(f));
    return Pick(3) == 0 ? out.Union(AddrsOf(RandomPrefix(f))) : out;
  }

  ServiceSet Services() {
    int roll = Pick(100);
    if (roll < 25) return AllServices();
    if (roll < 40) return IcmpType(kProtoIcmp, static_cast<uint8_t>(Pick(2) ? 8 : 0));
    if (roll < 50) return Proto(kProtoIcmpV6);
    uint16_t port = static_cast<uint16_t>(20 + Pick(100));
    ServiceSet out = Ports(Pick(2) ? kProtoTcp : kProtoUdp, port, port + Pick(3) * 10);
    return roll < 60 ? AllServices().Subtract(out) : out;
  }

  PacketSet Match(const std::vector<AddrSet>& v4, const std::vector<AddrSet>& v6) {
    PacketSet out;
    for (Family f : {Family::kV4, Family::kV6}) {
      if (Pick(4) == 0 && !out.empty()) continue;
      const auto& aliases = f == Family::kV4 ? v4 : v6;
      out = out.Union(PacketSet::Of(Addrs(f, aliases), Addrs(f, aliases), Services()));
    }
    return out;
  }

  Chain RandomChain(int rules) {
    std::vector<AddrSet> v4, v6;
    for (int a = 0; a < 3; ++a) v4.push_back(Alias(Family::kV4, 50 + Pick(400)));
    v6.push_back(Alias(Family::kV6, 100 + Pick(200)));
    v4.push_back(v4[0].Union(v4[1]));  // a nested alias
    Chain c;
    c.default_action = Pick(2) ? Action::kDrop : Action::kAccept;
    for (int i = 0; i < rules; ++i) {
      PolicyRule r;
      r.match = Match(v4, v6);
      r.action = static_cast<Action>(Pick(3));
      if (Pick(5) == 0) r.iif.names = {Pick(2) ? "lan" : "wan"};
      if (Pick(10) == 0) r.state = Pick(2) ? StateMatch::kNew : StateMatch::kEstablished;
      c.rules.push_back(std::move(r));
    }
    return c;
  }

 private:
  std::mt19937 rng_;
};

TEST(AddrAtomsTest, BlocklistIsOneAtom) {
  RandomSets random(7);
  AddrSet block = random.Alias(Family::kV4, 5000);
  AddrSet lan = P("192.168.1.0/24");
  AddrAtoms atoms;
  for (const AddrSet& s : {block, lan, AllAddrs(Family::kV4), AllAddrs(Family::kV4)}) {
    atoms.Add(s);
  }
  atoms.Build();
  EXPECT_EQ(atoms.vocabulary(), 3u);  // the two "any IPv4" are one word
  // block, lan, the rest of IPv4, the IPv4 names, and the two IPv6 spaces
  EXPECT_EQ(atoms.atoms(), 6u);
  EXPECT_EQ(atoms.Encode(block).ranges().size(), 1u);
  EXPECT_EQ(atoms.Decode(atoms.Encode(block)), block);
}

struct AlgebraCase {
  const char* a;
  const char* b;
};

TEST(AddrAtomsTest, AlgebraCommutesWithEncoding) {
  const AlgebraCase cases[] = {
      {"10.0.0.0/8", "10.1.0.0/16"}, {"0.0.0.0/0", "10.1.2.3/32"},
      {"::/0", "2001:db8::/32"},     {"10.0.0.0/8", "192.168.0.0/16"},
      {"0.0.0.0/0", "::/0"},         {"10.0.0.0/32", "10.0.0.1/32"},
  };
  for (const AlgebraCase& c : cases) {
    AddrSet a = P(c.a), b = P(c.b);
    AddrAtoms atoms;
    atoms.Add(a), atoms.Add(b);
    atoms.Build();
    AddrSet ea = atoms.Encode(a), eb = atoms.Encode(b);
    EXPECT_EQ(atoms.Decode(ea.Subtract(eb)), a.Subtract(b)) << c.a << " - " << c.b;
    EXPECT_EQ(atoms.Decode(ea.Intersect(eb)), a.Intersect(b)) << c.a << " & " << c.b;
    EXPECT_EQ(atoms.Decode(ea.Union(eb)), a.Union(b)) << c.a << " | " << c.b;
    EXPECT_EQ(atoms.Decode(ea), a) << c.a;
  }
}

// Sets made from the vocabulary by set algebra encode exactly; a set that splits an atom does
// not encode at all.
TEST(AddrAtomsTest, TryEncodeTakesWholeAtomsOnly) {
  RandomSets random(11);
  std::vector<AddrSet> words = {random.Alias(Family::kV4, 300), AllAddrs(Family::kV4),
                                AllAddrs(Family::kV6)};
  for (int k = 0; k < 30; ++k) words.push_back(random.Addrs(Family::kV4, {words[0]}));
  AddrAtoms atoms;
  for (const AddrSet& w : words) atoms.Add(w);
  atoms.Build();
  for (int k = 0; k < 300; ++k) {
    const AddrSet& a = words[random.Pick(static_cast<int>(words.size()))];
    const AddrSet& b = words[random.Pick(static_cast<int>(words.size()))];
    int op = random.Pick(3);
    AddrSet made = op == 0 ? a.Union(b) : op == 1 ? a.Intersect(b) : a.Subtract(b);
    std::optional<AddrSet> ids = atoms.TryEncode(made);
    ASSERT_TRUE(ids.has_value()) << k;
    EXPECT_EQ(atoms.Decode(*ids), made) << k << ": " << FormatAddrs(made);
  }
  // 0.0.0.0/0 less one address holds most of the pieces, and is encoded through its hole.
  EXPECT_FALSE(atoms.TryEncode(AllAddrs(Family::kV4).Subtract(P("10.200.1.1/32"))).has_value());
  EXPECT_FALSE(atoms.TryEncode(P("10.200.1.1/32")).has_value());
}

// Same decisions, rule by rule, whether the chain is walked on atoms or on addresses.
void ExpectSameDecisions(const Chain& chain, const std::string& iif, StateMatch state,
                         const PacketSet& packets, uint32_t seed) {
  auto plain = Evaluate(chain, iif, "", state, packets, AtomUse::kNever);
  // Atoms built once for the whole chain and handed to the walk, as a matrix builder does.
  AddrAtoms shared;
  AddRules(shared, chain);
  shared.Add(packets);
  shared.Build();
  for (int how = 0; how < 3; ++how) {
    AtomUse use = how == 1 ? AtomUse::kAuto : AtomUse::kAlways;
    auto atoms = Evaluate(chain, iif, "", state, packets, use, how == 2 ? &shared : nullptr);
    const char* name = how == 0 ? "always" : how == 1 ? "auto" : "shared";
    ASSERT_EQ(plain.size(), atoms.size()) << "seed " << seed << " iif " << iif << " " << name;
    for (size_t d = 0; d < plain.size(); ++d) {
      EXPECT_EQ(plain[d].rule, atoms[d].rule) << "seed " << seed << " decision " << d << name;
      EXPECT_EQ(plain[d].action, atoms[d].action) << "seed " << seed << " decision " << d;
      EXPECT_TRUE(plain[d].packets.Equals(atoms[d].packets))
          << "seed " << seed << " decision " << d << " rule " << plain[d].rule << " " << name;
    }
  }
}

TEST(AddrAtomsTest, RandomChainsDecideAlike) {
  auto start = std::chrono::steady_clock::now();
  for (uint32_t seed = 1; seed <= 60; ++seed) {
    RandomSets random(seed);
    Chain chain = random.RandomChain(10 + random.Pick(60));
    PacketSet packets = seed % 3 == 0 ? PacketSet::All() : random.Match({}, {});
    ExpectSameDecisions(chain, "lan", StateMatch::kNew, packets, seed);
    ExpectSameDecisions(chain, "wan", StateMatch::kEstablished, PacketSet::All(), seed);
    if (std::chrono::steady_clock::now() - start > std::chrono::seconds(20)) break;
  }
}

}  // namespace
}  // namespace bulkhead
