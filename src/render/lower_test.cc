// SPDX-License-Identifier: Apache-2.0
// LowerFilter on a small hand-built spec and plan: the fixed rules come first in the documented
// order, targets resolve to the right sets and prefixes, expired rules are left out, and every
// rule says which spec line it came from.
#include <fmt/format.h>
#include <gtest/gtest.h>

#include "render/lowered.h"

namespace bulkhead {
namespace {

Prefix P(const char* text) { return *Prefix::Parse(text); }
IpAddress A(const char* text) { return *IpAddress::Parse(text); }

EgressRule Rule(Target::Kind kind, std::string name, Protocol proto, std::vector<PortRange> ports,
                std::string owner, int index, int line, std::string comment = "") {
  EgressRule r;
  r.to.kind = kind;
  r.to.name = std::move(name);
  r.protocol = proto;
  r.ports = std::move(ports);
  r.owner = std::move(owner);
  r.index = index;
  r.loc = {line, 1};
  r.comment = std::move(comment);
  return r;
}

Spec SmallSpec() {
  Spec spec;
  spec.file = "/home/me/ws.toml";
  spec.host.loc = {2, 1};
  spec.host.egress = {Rule(Target::Kind::kDestination, "mirrors", Protocol::kTcp,
                           {{80, 80}, {443, 443}}, "host", 1, 8, "apt")};
  spec.firewall.admin_from = {"host", "work"};
  spec.firewall.admin_from_loc = {5, 14};
  spec.destinations = {
      {"mirrors", {{std::nullopt, "deb.debian.org", {}}, {P("192.0.2.0/24"), "", {}}}, {}}};
  Zone web{"web"};
  web.loc = {20, 1};
  web.egress = {Rule(Target::Kind::kInternet, "", Protocol::kTcp, {{443, 443}}, "zone 'web'", 1, 21,
                     "browsing"),
                Rule(Target::Kind::kZone, "services", Protocol::kAny, {}, "zone 'web'", 2, 25)};
  web.egress[1].action = RuleAction::kDeny;
  EgressRule expired =
      Rule(Target::Kind::kInternet, "", Protocol::kUdp, {{443, 443}}, "zone 'web'", 3, 29);
  expired.expires = Date{2026, 1, 31};
  web.egress.push_back(expired);
  Zone work{"work"};
  work.loc = {33, 1};
  work.dns = false;
  work.egress = {
      Rule(Target::Kind::kVm, "git", Protocol::kTcp, {{22, 22}}, "zone 'work'", 1, 34),
      Rule(Target::Kind::kLiteral, "example.org", Protocol::kIcmp, {}, "zone 'work'", 2, 38),
      Rule(Target::Kind::kHost, "host", Protocol::kTcp, {{8080, 8080}}, "zone 'work'", 3, 42)};
  work.egress[1].to.literal.host_name = "example.org";
  work.egress[1].icmp_type = 8;
  spec.zones = {web, work, Zone{"services"}};
  spec.vms = {Vm{"browser", "web"}, Vm{"work", "work"}, Vm{"git", "services"}};
  return spec;
}

Plan SmallPlan() {
  Plan plan;
  plan.hostonly.name = "vboxnet0";
  plan.hostonly.subnet = P("192.168.56.0/24");
  plan.hostonly.host_address = A("192.168.56.1");
  plan.hostonly.firewall_address = A("192.168.56.2");
  plan.hostonly.firewall_mac = "080027000002";
  plan.wan.firewall_mac = "080027000001";
  const char* names[] = {"web", "work", "git"};
  const char* zones[] = {"web", "work", "services"};
  for (int i = 0; i < 3; ++i) {
    PlannedNetwork n;
    n.name = names[i];
    n.intnet = std::string("bh-") + names[i];
    n.zone = zones[i];
    n.vms = {i == 0 ? "browser" : names[i]};
    n.subnet = P(fmt::format("10.137.{}.0/24", i + 1).c_str());
    n.gateway = n.subnet.Nth(1);
    n.dhcp_first = n.subnet.Nth(100);
    n.dhcp_last = n.subnet.Nth(200);
    n.firewall_slot = 3 + i;
    n.firewall_mac = fmt::format("08002700001{}", i);
    n.firewall_iface = names[i];
    n.pfsense_if = fmt::format("opt{}", i + 1);
    plan.networks.push_back(n);
    plan.vms.push_back({n.vms[0], zones[i], i, n.subnet.Nth(10), fmt::format("08002700002{}", i)});
  }
  return plan;
}

struct Expected {
  RuleAction action;
  LoweredRule::To to;
  Protocol protocol;
  std::string descr;
};

void ExpectRules(const LoweredInterface& i, const std::vector<Expected>& expected) {
  ASSERT_EQ(i.rules.size(), expected.size()) << i.network;
  for (size_t k = 0; k < expected.size(); ++k) {
    SCOPED_TRACE(fmt::format("{} rule {}", i.network, k));
    EXPECT_EQ(i.rules[k].action, expected[k].action);
    EXPECT_EQ(i.rules[k].to, expected[k].to);
    EXPECT_EQ(i.rules[k].protocol, expected[k].protocol);
    EXPECT_EQ(i.rules[k].descr, expected[k].descr);
  }
}

constexpr RuleAction kAllow = RuleAction::kAllow;
constexpr RuleAction kDeny = RuleAction::kDeny;
using To = LoweredRule::To;

TEST(LowerFilter, SetsComeInternalFirstThenDestinations) {
  LoweredFilter f = LowerFilter(SmallSpec(), SmallPlan(), Date{2026, 6, 1}, 22);
  ASSERT_EQ(f.sets.size(), 2u);
  EXPECT_EQ(f.sets[0].name, "internal");
  EXPECT_EQ(f.sets[0].v4, (std::vector<Prefix>{P("192.168.56.0/24"), P("10.137.1.0/24"),
                                               P("10.137.2.0/24"), P("10.137.3.0/24")}));
  EXPECT_EQ(f.sets[1].name, "mirrors");
  EXPECT_EQ(f.sets[1].v4, std::vector<Prefix>{P("192.0.2.0/24")});
  EXPECT_EQ(f.sets[1].host_names, std::vector<std::string>{"deb.debian.org"});
}

TEST(LowerFilter, HostOnlyNetworkCarriesTheHostsRules) {
  LoweredFilter f = LowerFilter(SmallSpec(), SmallPlan(), Date{2026, 6, 1}, 22);
  const LoweredInterface& host = f.interfaces.at(0);
  EXPECT_EQ(host.network, "host");
  EXPECT_EQ(host.iface, "host0");
  EXPECT_EQ(host.gateway, A("192.168.56.2"));
  ExpectRules(
      host, {{kAllow, To::kFirewall, Protocol::kUdp, "ws.toml:2 host: dns"},
             {kAllow, To::kFirewall, Protocol::kTcp, "ws.toml:2 host: dns"},
             {kAllow, To::kFirewall, Protocol::kTcp, "ws.toml:5 firewall admin_from: host"},
             {kDeny, To::kFirewall, Protocol::kAny, "ws.toml:2 host: nothing else to the firewall"},
             {kAllow, To::kSet, Protocol::kTcp, "ws.toml:8 host rule 1: apt"}});
  EXPECT_EQ(host.rules[2].ports, (std::vector<PortRange>{{22, 22}}));
  EXPECT_EQ(host.rules[4].set, "mirrors");
}

TEST(LowerFilter, ZoneRulesKeepOrderDenyAndDropExpired) {
  LoweredFilter f = LowerFilter(SmallSpec(), SmallPlan(), Date{2026, 6, 1}, 22);
  const LoweredInterface& web = f.interfaces.at(1);
  ExpectRules(web,
              {{kAllow, To::kFirewall, Protocol::kUdp, "ws.toml:20 zone 'web': dhcp"},
               {kAllow, To::kFirewall, Protocol::kUdp, "ws.toml:20 zone 'web': dns"},
               {kAllow, To::kFirewall, Protocol::kTcp, "ws.toml:20 zone 'web': dns"},
               {kDeny, To::kFirewall, Protocol::kAny,
                "ws.toml:20 zone 'web': nothing else to the firewall"},
               {kAllow, To::kInternet, Protocol::kTcp, "ws.toml:21 zone 'web' rule 1: browsing"},
               {kDeny, To::kPrefixes, Protocol::kAny, "ws.toml:25 zone 'web' rule 2"}});
  EXPECT_EQ(web.rules[5].prefixes, std::vector<Prefix>{P("10.137.3.10/32")});
}

TEST(LowerFilter, TargetsResolveAndAdminFollowsAdminFrom) {
  LoweredFilter f = LowerFilter(SmallSpec(), SmallPlan(), Date{2026, 6, 1}, 443);
  const LoweredInterface& work = f.interfaces.at(2);
  ExpectRules(
      work, {{kAllow, To::kFirewall, Protocol::kUdp, "ws.toml:33 zone 'work': dhcp"},
             {kAllow, To::kFirewall, Protocol::kTcp, "ws.toml:5 firewall admin_from: zone 'work'"},
             {kDeny, To::kFirewall, Protocol::kAny,
              "ws.toml:33 zone 'work': nothing else to the firewall"},
             {kAllow, To::kPrefixes, Protocol::kTcp, "ws.toml:34 zone 'work' rule 1"},
             {kAllow, To::kSet, Protocol::kIcmp, "ws.toml:38 zone 'work' rule 2"},
             {kAllow, To::kPrefixes, Protocol::kTcp, "ws.toml:42 zone 'work' rule 3"}});
  EXPECT_EQ(work.rules[1].ports, (std::vector<PortRange>{{443, 443}}));
  EXPECT_EQ(work.rules[3].prefixes, std::vector<Prefix>{P("10.137.3.10/32")});
  EXPECT_EQ(work.rules[4].set, "");
  EXPECT_EQ(work.rules[4].host_names, std::vector<std::string>{"example.org"});
  EXPECT_EQ(work.rules[4].icmp_type, 8);
  EXPECT_EQ(work.rules[5].prefixes, std::vector<Prefix>{P("192.168.56.1/32")});
  // 'git' is in no admin_from entry: no admin rule there.
  EXPECT_EQ(f.interfaces.at(3).rules.size(), 4u);
}

TEST(LowerFilter, ExpiredRuleComesBackBeforeItsDate) {
  LoweredFilter f = LowerFilter(SmallSpec(), SmallPlan(), Date{2026, 1, 31}, 22);
  EXPECT_EQ(f.interfaces.at(1).rules.size(), 7u);
}

TEST(IcmpNames, MapBothWays) {
  EXPECT_EQ(IcmpTypeName(Family::kV4, 8), "echo-request");
  EXPECT_EQ(IcmpTypeName(Family::kV6, 128), "echo-request");
  EXPECT_EQ(IcmpTypeName(Family::kV4, 42), "");
  EXPECT_EQ(IcmpTypeNumber(Family::kV6, "nd-neighbor-solicit"), 135);
  EXPECT_EQ(IcmpTypeNumber(Family::kV4, "bogus"), -1);
  EXPECT_EQ(IcmpV6Equivalent(8), 128);
  EXPECT_EQ(IcmpV6Equivalent(0), 129);
  EXPECT_EQ(IcmpV6Equivalent(5), -1);
}

}  // namespace
}  // namespace bulkhead
