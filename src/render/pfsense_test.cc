// SPDX-License-Identifier: Apache-2.0
// Tests of the pfSense compiler: the example workstation is rendered, read back through our own
// reader, and a sample packet per lowered rule must be decided by exactly that rule (its descr)
// with the intended action. The config is also kept as a golden file for review; regenerate it
// with BULKHEAD_UPDATE_GOLDEN=1.
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>
#include <pugixml.hpp>
#include <set>
#include <sstream>
#include <string>

#include "import/artifacts.h"
#include "plan/plan.h"
#include "render/lowered.h"
#include "render/render.h"
#include "spec/spec.h"

namespace bulkhead {
namespace {

const Date kToday{2026, 12, 3};

struct Rendered {
  Spec spec;
  Plan plan;
  std::string config;
  FirewallView fw;
  Diagnostics read_diags;
  bool read_ok = false;
};

const Rendered& Example() {
  static const Rendered* r = [] {
    auto* out = new Rendered;
    Diagnostics diags;
    std::string path = std::string(BULKHEAD_SOURCE_DIR) + "/examples/workstation.toml";
    EXPECT_TRUE(ReadSpec(path, out->spec, diags)) << diags.Format();
    EXPECT_TRUE(MakePlan(out->spec, out->plan, diags)) << diags.Format();
    Artifacts a = RenderPfsense(out->spec, out->plan, kToday);
    EXPECT_EQ(a.size(), 1u);
    out->config = a.at(0).content;
    std::string file = testing::TempDir() + "pfsense_render_config.xml";
    std::ofstream(file) << out->config;
    out->read_ok = ReadPfsenseFirewall(file, out->fw, out->read_diags);
    return out;
  }();
  return *r;
}

const AddressSet* FindSet(const LoweredFilter& f, const std::string& name) {
  for (const AddressSet& s : f.sets) {
    if (s.name == name) return &s;
  }
  return nullptr;
}

// One packet the rule is about: a destination it names and its first port or ICMP type.
struct Sample {
  AddrSet dst;
  ServiceSet svc;
  bool to_firewall = false;
};

std::optional<Sample> SampleOf(const LoweredFilter& f, const LoweredInterface& in,
                               const LoweredRule& r, NameTable& names) {
  Sample s;
  using To = LoweredRule::To;
  if (r.to == To::kFirewall) {
    s.dst = AddrsOf(in.gateway);
    s.to_firewall = true;
  } else if (r.to == To::kInternet) {
    s.dst = AddrsOf(*IpAddress::Parse("198.51.100.7"));
  } else if (r.to == To::kSet) {
    const AddressSet* set = r.set.empty() ? nullptr : FindSet(f, r.set);
    if (set && !set->v4.empty()) {
      s.dst = AddrsOf(set->v4.front().address);
    } else {
      std::string host = set ? set->host_names.front() : r.host_names.front();
      s.dst = NameAddr(names.Intern(host), Family::kV4);
    }
  } else {
    if (r.prefixes.empty()) return std::nullopt;
    s.dst = AddrsOf(r.prefixes.front().address);
  }
  switch (r.protocol) {
    case Protocol::kAny:
      s.svc = Ports(kProtoTcp, 12345, 12345);
      break;
    case Protocol::kIcmp:
      s.svc = IcmpType(kProtoIcmp, r.icmp_type.value_or(8));
      break;
    default: {
      uint8_t proto = r.protocol == Protocol::kTcp ? kProtoTcp : kProtoUdp;
      uint16_t port = r.ports.empty() ? 12345 : r.ports.back().last;
      s.svc = Ports(proto, port, port);
    }
  }
  return s;
}

TEST(PfsenseRender, WritesWellFormedPfsense27Xml) {
  const Rendered& r = Example();
  pugi::xml_document doc;
  ASSERT_TRUE(doc.load_string(r.config.c_str()));
  pugi::xml_node root = doc.child("pfsense");
  EXPECT_STREQ(root.child_value("version"), "23.3");
  EXPECT_STREQ(root.child("system").child_value("hostname"), "sys-firewall");
  EXPECT_TRUE(root.child("system").child("webgui").child("noantilockout"));
  EXPECT_STREQ(root.child("nat").child("outbound").child_value("mode"), "automatic");
  EXPECT_STREQ(root.child("interfaces").child("opt1").child_value("descr"), "browser");
  std::vector<std::string> aliases;
  for (pugi::xml_node a : root.child("aliases").children("alias")) {
    aliases.push_back(a.child_value("name"));
  }
  EXPECT_EQ(aliases, (std::vector<std::string>{"internal", "debian_mirrors", "mybank"}));
  std::set<std::string> trackers;
  for (pugi::xml_node rule : root.child("filter").children("rule")) {
    EXPECT_TRUE(trackers.insert(rule.child_value("tracker")).second) << rule.child_value("descr");
  }
}

TEST(PfsenseRender, ReadsBackWithoutDiagnostics) {
  const Rendered& r = Example();
  EXPECT_TRUE(r.read_ok);
  EXPECT_TRUE(r.read_diags.list().empty()) << r.read_diags.Format();
}

TEST(PfsenseRender, InterfacesAndReservationsMatchThePlan) {
  const Rendered& r = Example();
  ASSERT_EQ(r.fw.interfaces.size(), r.plan.networks.size() + 2);
  EXPECT_EQ(r.fw.interfaces[1].name, "lan");
  EXPECT_EQ(r.fw.interfaces[1].slot, r.plan.hostonly.firewall_slot);
  for (size_t i = 0; i < r.plan.networks.size(); ++i) {
    const PlannedNetwork& n = r.plan.networks[i];
    const FirewallInterface& f = r.fw.interfaces[i + 2];
    EXPECT_EQ(f.name, n.pfsense_if);
    EXPECT_EQ(f.slot, n.firewall_slot);
    ASSERT_EQ(f.addresses.size(), 1u);
    EXPECT_EQ(f.addresses[0], (Prefix{n.gateway, n.subnet.length}));
  }
  size_t online = 0;
  for (const PlannedVm& vm : r.plan.vms) {
    if (vm.network < 0) continue;
    ASSERT_LT(online, r.fw.reservations.size());
    EXPECT_EQ(r.fw.reservations[online].mac, vm.mac);
    EXPECT_EQ(r.fw.reservations[online].address, vm.address);
    ++online;
  }
  EXPECT_EQ(online, r.fw.reservations.size());
}

// Every lowered rule decides a packet it names, and the decision names it.
TEST(PfsenseRender, EachLoweredRuleDecidesItsSamplePacket) {
  const Rendered& r = Example();
  LoweredFilter f = LowerFilter(r.spec, r.plan, kToday, 443);
  NameTable names = r.fw.policy.names;
  for (const LoweredInterface& in : f.interfaces) {
    IpAddress src = in.network == "host" ? r.plan.hostonly.host_address : in.subnet.Nth(10);
    for (const LoweredRule& rule : in.rules) {
      auto sample = SampleOf(f, in, rule, names);
      if (!sample) continue;
      const Chain& chain = sample->to_firewall ? r.fw.policy.input : r.fw.policy.forward;
      PacketSet p = PacketSet::Of(AddrsOf(src), sample->dst, sample->svc);
      std::vector<Decision> d = Evaluate(chain, in.pfsense_if, "", StateMatch::kNew, p);
      ASSERT_FALSE(d.empty());
      std::string context = fmt::format("{} on {}", rule.descr, in.pfsense_if);
      ASSERT_GE(d.front().rule, 0) << context;
      const PolicyRule& decided = chain.rules[d.front().rule];
      Action want = rule.action == RuleAction::kAllow ? Action::kAccept : Action::kDrop;
      EXPECT_EQ(decided.action, want) << context << " decided by " << decided.origin.text;
      // pfSense's own DHCP rule comes before ours and allows the same.
      bool dhcp = rule.to == LoweredRule::To::kFirewall && rule.protocol == Protocol::kUdp &&
                  rule.ports == std::vector<PortRange>{{67, 67}};
      if (dhcp && decided.origin.text == "pfSense DHCP server") continue;
      if (decided.origin.text != "bulkhead: " + rule.descr) {
        ADD_FAILURE() << context << " decided by " << decided.origin.text;
      }
    }
  }
}

TEST(PfsenseRender, EverythingElseMeetsTheFinalBlock) {
  const Rendered& r = Example();
  const PlannedNetwork* bank = r.plan.NetworkOf("bank");
  ASSERT_NE(bank, nullptr);
  IpAddress vm = r.plan.FindVm("bank")->address;
  PacketSet p = PacketSet::Of(AddrsOf(vm), AddrsOf(*IpAddress::Parse("198.51.100.7")),
                              Ports(kProtoTcp, 443, 443));
  std::vector<Decision> d =
      Evaluate(r.fw.policy.forward, bank->pfsense_if, "", StateMatch::kNew, p);
  ASSERT_EQ(d.size(), 1u);
  EXPECT_EQ(d[0].action, Action::kDrop);
  ASSERT_GE(d[0].rule, 0);
  EXPECT_EQ(r.fw.policy.forward.rules[d[0].rule].origin.text, "bulkhead: nothing else from 'bank'");
}

TEST(PfsenseRender, MatchesTheGoldenFile) {
  const Rendered& r = Example();
  std::string golden =
      std::string(BULKHEAD_SOURCE_DIR) + "/tests/testdata/pfsense/workstation.config.xml";
  if (std::getenv("BULKHEAD_UPDATE_GOLDEN")) std::ofstream(golden) << r.config;
  std::ifstream in(golden);
  std::stringstream want;
  want << in.rdbuf();
  EXPECT_EQ(r.config, want.str()) << "regenerate with BULKHEAD_UPDATE_GOLDEN=1 and review";
}

}  // namespace
}  // namespace bulkhead
