// SPDX-License-Identifier: Apache-2.0
// Tests of first-match evaluation: interface and state matching, provenance text, and, on
// random chains in the tiny universe, that decisions partition the input and give each sample
// packet to the first rule that a per-packet walk of the chain would pick.

#include "engine/policy.h"

#include <random>

#include <fmt/format.h>
#include <gtest/gtest.h>

#include "engine/first_match.h"
#include "engine/tiny_universe.h"

namespace bulkhead {
namespace {

struct IfaceCase {
  std::vector<std::string> names;
  bool negated;
  const char* iface;
  bool matches;
};

TEST(IfaceMatchTest, Table) {
  const IfaceCase cases[] = {
      {{}, false, "eth0", true},
      {{}, false, "", true},
      {{}, true, "eth0", false},
      {{"eth0"}, false, "eth0", true},
      {{"eth0"}, false, "eth1", false},
      {{"eth0"}, false, "", false},
      {{"eth0"}, true, "eth1", true},
      {{"eth0"}, true, "eth0", false},
      {{"eth0"}, true, "", true},
      {{"eth0", "eth2"}, false, "eth2", true},
      {{"vbox*"}, false, "vboxnet0", true},
      {{"vbox*"}, false, "vbo", false},
      {{"vbox*"}, false, "eth0", false},
      {{"*"}, false, "", false},
  };
  for (const IfaceCase& c : cases) {
    IfaceMatch m{c.names, c.negated};
    EXPECT_EQ(m.Matches(c.iface), c.matches)
        << (c.negated ? "!" : "") << (c.names.empty() ? "any" : c.names[0]) << " vs '" << c.iface
        << "'";
  }
  EXPECT_TRUE(IfaceMatch{}.IsAny());
  EXPECT_FALSE((IfaceMatch{{}, true}).IsAny());
}

TEST(PolicyTest, NamesAndPlaces) {
  EXPECT_STREQ(ActionName(Action::kAccept), "accept");
  EXPECT_STREQ(ActionName(Action::kDrop), "drop");
  EXPECT_STREQ(ActionName(Action::kReject), "reject");
  EXPECT_EQ((Provenance{"out/nftables/nftables.conf", 42}).Where(),
            "out/nftables/nftables.conf:42");
  EXPECT_EQ((Provenance{"config.xml", 0, "filter/rule[12]"}).Where(),
            "config.xml: filter/rule[12]");
  EXPECT_EQ((Provenance{"config.xml"}).Where(), "config.xml");

  Policy p;
  p.input.default_action = Action::kDrop;
  p.output.default_action = Action::kReject;
  EXPECT_EQ(&ChainOf(p, Hook::kInput), &p.input);
  EXPECT_EQ(&ChainOf(p, Hook::kForward), &p.forward);
  EXPECT_EQ(ChainOf(p, Hook::kOutput).default_action, Action::kReject);
}

PolicyRule Rule(PacketSet match, Action action, int line) {
  PolicyRule r;
  r.match = std::move(match);
  r.action = action;
  r.origin = {"fw.nft", line};
  return r;
}

TEST(PolicyTest, EvaluateHandBuiltChain) {
  AddrSet lan = AddrsOf(*Prefix::Parse("10.0.1.0/24"));
  AddrSet any4 = AllAddrs(Family::kV4);
  Chain chain;
  chain.default_action = Action::kDrop;
  chain.rules.push_back(Rule(PacketSet::All(), Action::kAccept, 1));
  chain.rules[0].state = StateMatch::kEstablished;
  chain.rules.push_back(
      Rule(PacketSet::Of(lan, any4, Ports(kProtoTcp, 443, 443)), Action::kAccept, 2));
  chain.rules[1].iif = {{"lan0"}, false};
  chain.rules.push_back(Rule(PacketSet::Of(lan, any4, Proto(kProtoTcp)), Action::kReject, 3));
  chain.rules.push_back(
      Rule(PacketSet::Of(any4, any4, Ports(kProtoTcp, 443, 443)), Action::kAccept, 4));

  PacketSet from_lan = PacketSet::Of(lan, any4, AllServices());
  std::vector<Decision> d = Evaluate(chain, "lan0", "wan0", StateMatch::kNew, from_lan);
  ASSERT_EQ(d.size(), 3u);
  EXPECT_EQ(d[0].rule, 1);
  EXPECT_EQ(d[0].action, Action::kAccept);
  EXPECT_TRUE(d[0].packets.Equals(PacketSet::Of(lan, any4, Ports(kProtoTcp, 443, 443))));
  EXPECT_EQ(d[1].rule, 2);
  EXPECT_EQ(FormatServices(d[1].packets.Services()), "tcp 0-442,444-65535");
  EXPECT_EQ(d[2].rule, -1);
  EXPECT_EQ(d[2].action, Action::kDrop);
  EXPECT_TRUE(Accepted(d).Equals(d[0].packets));

  // On another interface rule 1 is skipped, and rule 3 would take tcp 443 had rule 2 not.
  d = Evaluate(chain, "dmz0", "wan0", StateMatch::kNew, from_lan);
  ASSERT_EQ(d.size(), 2u);
  EXPECT_EQ(d[0].rule, 2);
  EXPECT_EQ(FormatServices(d[0].packets.Services()), "tcp");

  d = Evaluate(chain, "dmz0", "wan0", StateMatch::kEstablished, from_lan);
  ASSERT_EQ(d.size(), 1u);
  EXPECT_EQ(d[0].rule, 0);
  EXPECT_TRUE(Evaluate(chain, "lan0", "", StateMatch::kNew, PacketSet()).empty());
}

TEST(PolicyTest, EmptyChainTakesTheDefault) {
  Chain chain;
  chain.default_action = Action::kAccept;
  std::vector<Decision> d = Evaluate(chain, "", "", StateMatch::kNew, PacketSet::All());
  ASSERT_EQ(d.size(), 1u);
  EXPECT_EQ(d[0].rule, -1);
  EXPECT_TRUE(Accepted(d).Equals(PacketSet::All()));
}

// The rule a per-packet walk of the chain picks for sample point i: -1 for the default.
int FirstMatch(const testing::TinyUniverse& u, const Chain& chain, const std::string& iif,
               StateMatch state, size_t i) {
  for (size_t r = 0; r < chain.rules.size(); ++r) {
    const PolicyRule& rule = chain.rules[r];
    bool applies = (rule.state == StateMatch::kAny || rule.state == state) &&
                   rule.iif.Matches(iif) && rule.oif.Matches("out");
    if (applies && u.CountCubesHolding(rule.match, i) > 0) return static_cast<int>(r);
  }
  return -1;
}

Chain RandomChain(const testing::TinyUniverse& u, std::mt19937& rng) {
  Chain chain;
  chain.default_action = rng() % 2 ? Action::kDrop : Action::kAccept;
  int n = static_cast<int>(rng() % 8);
  for (int i = 0; i < n; ++i) {
    PolicyRule rule = Rule(u.RandomPackets(rng, 3), static_cast<Action>(rng() % 3), i + 1);
    if (rng() % 4 == 0) rule.iif = {{"a"}, rng() % 2 == 0};
    if (rng() % 4 == 0) rule.state = rng() % 2 ? StateMatch::kNew : StateMatch::kEstablished;
    chain.rules.push_back(std::move(rule));
  }
  return chain;
}

TEST(PolicyTest, EvaluateAgreesWithPerPacketWalk) {
  testing::TinyUniverse u;
  std::mt19937 rng(1984);
  for (int round = 0; round < 150; ++round) {
    Chain chain = RandomChain(u, rng);
    PacketSet input = rng() % 3 ? u.RandomPackets(rng, 3) : PacketSet::All();
    std::string iif = rng() % 2 ? "a" : "b";
    StateMatch state = rng() % 2 ? StateMatch::kNew : StateMatch::kEstablished;
    std::vector<Decision> decisions = Evaluate(chain, iif, "out", state, input);

    // Rule order, default last, no empty parts.
    for (size_t k = 0; k < decisions.size(); ++k) {
      ASSERT_FALSE(decisions[k].packets.empty()) << round;
      if (k > 0) {
        ASSERT_TRUE(decisions[k - 1].rule < decisions[k].rule || decisions[k].rule == -1);
      }
    }
    for (size_t i = 0; i < u.size(); ++i) {
      int holder = -2;  // the decision holding point i; -2 for none
      for (const Decision& d : decisions) {
        if (u.CountCubesHolding(d.packets, i) == 0) continue;
        ASSERT_EQ(holder, -2) << "round " << round << ": point " << i << " decided twice";
        holder = d.rule;
        int expected = FirstMatch(u, chain, iif, state, i);
        ASSERT_EQ(d.rule, expected) << "round " << round << ": point " << i;
        Action action = expected < 0 ? chain.default_action : chain.rules[expected].action;
        ASSERT_EQ(d.action, action) << "round " << round;
      }
      ASSERT_EQ(holder != -2, u.CountCubesHolding(input, i) > 0) << "round " << round << " " << i;
    }
  }
}

// A chain long enough to be walked in parts by service gives what one walk through all of it
// gives, decision by decision: narrow rules on TCP and UDP ports, a few wide ones among them.
TEST(PolicyTest, LongChainWalkedByServiceAgreesWithOneWalk) {
  std::mt19937 rng(7);
  auto prefix = [&rng]() {
    return AddrsOf(*Prefix::Parse(fmt::format("10.0.{}.0/{}", rng() % 256, 24 + rng() % 5)));
  };
  Chain chain;
  chain.default_action = Action::kDrop;
  for (int i = 0; i < 800; ++i) {
    ServiceSet svc;
    if (rng() % 50 == 0) {
      svc = AllServices();
    } else {
      auto first = static_cast<uint16_t>(rng() % 65000);
      svc = Ports(rng() % 2 ? kProtoTcp : kProtoUdp, first,
                  static_cast<uint16_t>(first + rng() % 500));
    }
    AddrSet src = rng() % 3 ? AllAddrs(Family::kV4) : prefix();
    chain.rules.push_back(Rule(PacketSet::Of(src, prefix(), svc),
                               rng() % 2 ? Action::kAccept : Action::kDrop, i + 1));
  }
  PacketSet input = PacketSet::Of(AllAddrs(Family::kV4), AllAddrs(Family::kV4), AllServices());

  std::vector<Decision> cut = Evaluate(chain, "", "", StateMatch::kNew, input);
  std::vector<size_t> all(chain.rules.size());
  for (size_t i = 0; i < all.size(); ++i) all[i] = i;
  FirstMatchWalk walk(chain, all, input);
  std::vector<Decision> whole;
  for (int i = walk.rule(); i >= 0; i = walk.rule()) {
    PacketSet matched = walk.Take();
    if (!matched.empty()) whole.push_back({std::move(matched), chain.rules[i].action, i});
  }
  whole.push_back({walk.TakeRest(), chain.default_action, -1});

  ASSERT_EQ(cut.size(), whole.size());
  for (size_t k = 0; k < cut.size(); ++k) {
    ASSERT_EQ(cut[k].rule, whole[k].rule) << k;
    EXPECT_EQ(cut[k].action, whole[k].action) << k;
    EXPECT_TRUE(cut[k].packets.Equals(whole[k].packets)) << "rule " << cut[k].rule;
  }
}

}  // namespace
}  // namespace bulkhead
