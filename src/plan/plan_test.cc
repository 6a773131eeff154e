// SPDX-License-Identifier: Apache-2.0
// Tests of the planner: the example file's plan, pins, errors with their exact text, stability.

#include "plan/plan.h"

#include <set>

#include <fmt/format.h>
#include <gtest/gtest.h>

#include "util/atomic_file.h"

namespace bulkhead {
namespace {

std::string Example() {
  std::string text;
  EXPECT_TRUE(ReadWholeFile(std::string(BULKHEAD_SOURCE_DIR) + "/examples/workstation.toml", text));
  return text;
}

const Date kToday{2026, 6, 1};
const std::string kHostLines = "[host]\nphysical_nic = \"eth0\"\n";

// Plans `toml` (after two [host] lines, unless it declares [host]) and returns the diagnostics.
std::string PlanDiags(const std::string& toml, Plan* out = nullptr) {
  Spec spec;
  Diagnostics diags;
  std::string text = toml.starts_with("[host]") ? toml : kHostLines + toml;
  if (!ParseSpec("t.toml", text, spec, diags, kToday)) return "spec: " + diags.Format();
  Plan plan;
  bool ok = MakePlan(spec, plan, diags);
  EXPECT_EQ(ok, !diags.HasErrors());
  if (out) *out = plan;
  return diags.Format();
}

Plan PlanOf(const std::string& toml) {
  Plan plan;
  EXPECT_EQ(PlanDiags(toml, &plan), "");
  return plan;
}

// "name subnet" for every network, "vm address" for every VM.
std::string Layout(const Plan& plan) {
  std::string out;
  for (const PlannedNetwork& n : plan.networks) {
    out += fmt::format("{} {}\n", n.name, n.subnet.ToString());
  }
  for (const PlannedVm& v : plan.vms) out += fmt::format("{} {}\n", v.name, v.address.ToString());
  return out;
}

// One line per network and VM, to compare whole plans at a glance.
std::string Table(const Plan& plan) {
  std::string out;
  for (const PlannedNetwork& n : plan.networks) {
    out += fmt::format("{} {} {} gw={} dhcp={}-{} slot={} {} {} {} {}\n", n.name, n.intnet,
                       n.subnet.ToString(), n.gateway.ToString(), n.dhcp_first.ToString(),
                       n.dhcp_last.ToString(), n.firewall_slot, n.firewall_iface, n.pfsense_if,
                       n.pfsense_nic, n.firewall_mac);
  }
  for (const PlannedVm& v : plan.vms) {
    out += fmt::format("vm {} {} net={} {} {}\n", v.name, v.zone, v.network, v.address.ToString(),
                       v.mac);
  }
  return out;
}

TEST(MakePlan, Example) {
  Spec spec;
  Diagnostics diags;
  ASSERT_TRUE(ParseSpec("workstation.toml", Example(), spec, diags)) << diags.Format();
  Plan plan;
  ASSERT_TRUE(MakePlan(spec, plan, diags)) << diags.Format();
  EXPECT_EQ(Table(plan),
            "browser bh-browser 10.137.0.0/24 gw=10.137.0.1 dhcp=10.137.0.192-10.137.0.254 "
            "slot=3 bh-browser opt1 vtnet2 0800276A6323\n"
            "work bh-work 10.137.1.0/24 gw=10.137.1.1 dhcp=10.137.1.192-10.137.1.254 "
            "slot=4 bh-work opt2 vtnet3 080027233A84\n"
            "git bh-git 10.137.4.0/24 gw=10.137.4.1 dhcp=10.137.4.192-10.137.4.254 "
            "slot=5 bh-git opt3 vtnet4 080027060497\n"
            "bank bh-bank 10.137.2.0/24 gw=10.137.2.1 dhcp=10.137.2.192-10.137.2.254 "
            "slot=6 bh-bank opt4 vtnet5 080027529963\n"
            "sandbox bh-sandbox 10.137.3.0/24 gw=10.137.3.1 dhcp=10.137.3.192-10.137.3.254 "
            "slot=7 bh-sandbox opt5 vtnet6 08002739F3E8\n"
            "vm browser web net=0 10.137.0.10 0800272BA05C\n"
            "vm work work net=1 10.137.1.10 080027FBED81\n"
            "vm git services net=2 10.137.4.10 0800271DD4BC\n"
            "vm bank banking net=3 10.137.2.10 08002769157A\n"
            "vm sandbox untrusted net=4 10.137.3.10 080027170653\n"
            "vm vault offline net=-1 0.0.0.0 \n");
  EXPECT_EQ(plan.hostonly.name, "vboxnet0");
  EXPECT_EQ(plan.hostonly.subnet.ToString(), "192.168.56.0/24");
  EXPECT_EQ(plan.hostonly.firewall_address.ToString(), "192.168.56.1");
  EXPECT_EQ(plan.hostonly.host_address.ToString(), "192.168.56.2");
  EXPECT_EQ(plan.wan.bridge_nic, "enp3s0");
  EXPECT_EQ(plan.wan.mode, WanMode::kBridged);
  EXPECT_EQ(plan.adapters_used, 7);
  EXPECT_EQ(plan.adapters_max, 8);
  EXPECT_EQ(plan.NetworkOf("git")->name, "git");
  EXPECT_EQ(plan.NetworkOf("vault"), nullptr);
}

TEST(MakePlan, PinsAreHonoured) {
  Plan plan = PlanOf(
      "hostonly_subnet = \"192.168.57.0/24\"\naddress = \"192.168.57.9\"\n"
      "[zones.shared]\nnetwork = \"shared\"\nsubnet = \"10.137.0.0/24\"\n"
      "[zones.solo]\n"
      "[vms.a]\nzone = \"solo\"\n"
      "[vms.b]\nzone = \"shared\"\naddress = \"10.137.0.10\"\n"
      "[vms.c]\nzone = \"shared\"\n"
      "[vms.d]\nzone = \"solo\"\nsubnet = \"10.20.0.0/28\"\naddress = \"10.20.0.5\"\n"
      "[vms.e]\nzone = \"solo\"\naddress = \"10.137.7.77\"\n");
  EXPECT_EQ(Layout(plan),
            "a 10.137.1.0/24\nshared 10.137.0.0/24\nd 10.20.0.0/28\ne 10.137.7.0/24\n"
            "a 10.137.1.10\nb 10.137.0.10\nc 10.137.0.11\nd 10.20.0.5\ne 10.137.7.77\n");
  EXPECT_EQ(plan.hostonly.subnet.ToString(), "192.168.57.0/24");
  EXPECT_EQ(plan.hostonly.host_address.ToString(), "192.168.57.9");
  EXPECT_EQ(plan.hostonly.firewall_address.ToString(), "192.168.57.1");
  EXPECT_EQ(plan.networks[2].dhcp_first.ToString(), "10.20.0.12");
  EXPECT_EQ(plan.networks[2].dhcp_last.ToString(), "10.20.0.14");
  EXPECT_EQ(plan.networks[1].vms, (std::vector<std::string>{"b", "c"}));
  EXPECT_TRUE(plan.networks[1].shared);
}

TEST(MakePlan, AvoidsTheHostLanAndTheHostOnlyRange) {
  Plan plan = PlanOf(
      "[host]\nphysical_nic = \"eth0\"\nlan_subnet = \"192.168.56.0/24\"\n"
      "[plan]\npool = \"192.168.48.0/20\"\n"
      "[zones.z]\n[vms.a]\nzone = \"z\"\n");
  EXPECT_EQ(plan.hostonly.subnet.ToString(), "192.168.57.0/24");
  EXPECT_EQ(Layout(plan), "a 192.168.48.0/24\na 192.168.48.10\n");

  plan = PlanOf(
      "[host]\nphysical_nic = \"eth0\"\nlan_subnet = \"10.137.0.0/23\"\n"
      "[zones.z]\n[vms.a]\nzone = \"z\"\n");
  EXPECT_EQ(Layout(plan), "a 10.137.2.0/24\na 10.137.2.10\n");
}

TEST(MakePlan, SkipsPinnedAddressesAndRunsOutBelowTheDhcpRange) {
  std::string zone = "[zones.z]\nnetwork = \"shared\"\nsubnet = \"10.137.0.0/28\"\n";
  Plan plan =
      PlanOf(zone + "[vms.a]\nzone = \"z\"\n[vms.b]\nzone = \"z\"\naddress = \"10.137.0.10\"\n");
  EXPECT_EQ(Layout(plan), "z 10.137.0.0/28\na 10.137.0.11\nb 10.137.0.10\n");

  EXPECT_EQ(
      PlanDiags(zone + "[vms.a]\nzone = \"z\"\n[vms.b]\nzone = \"z\"\n[vms.c]\nzone = \"z\"\n"),
      "t.toml:10:6: error: network 'z' has no free address for VM 'c' (its subnet "
      "10.137.0.0/28 is too small)\n");
}

struct PlanCase {
  const char* name;
  const char* toml;
  const char* expected;
};

const PlanCase kPlanCases[] = {
    {"overlapping_pins",
     "[zones.a]\nnetwork = \"shared\"\nsubnet = \"10.137.0.0/22\"\n"
     "[zones.b]\nnetwork = \"shared\"\nsubnet = \"10.137.2.0/24\"\n"
     "[vms.x]\nzone = \"a\"\n[vms.y]\nzone = \"b\"\n",
     "t.toml:8:10: error: subnet 10.137.2.0/24 of network 'b' overlaps network 'a' "
     "(10.137.0.0/22, line 5)\n"},
    {"pin_over_lan",
     "[host]\nphysical_nic = \"eth0\"\nlan_subnet = \"10.1.0.0/16\"\n"
     "[zones.a]\nnetwork = \"shared\"\nsubnet = \"10.1.2.0/24\"\n[vms.x]\nzone = \"a\"\n",
     "t.toml:6:10: error: subnet 10.1.2.0/24 of network 'a' overlaps the host LAN "
     "(10.1.0.0/16, line 3)\n"},
    {"pin_over_hostonly", "[zones.a]\n[vms.x]\nzone = \"a\"\nsubnet = \"192.168.56.0/25\"\n",
     "t.toml:6:10: error: subnet 192.168.56.0/25 of network 'x' overlaps the host-only network "
     "(192.168.56.0/24)\n"},
    {"pool_exhausted",
     "[plan]\npool = \"10.137.0.0/23\"\n[zones.a]\n"
     "[vms.x]\nzone = \"a\"\n[vms.y]\nzone = \"a\"\n[vms.z]\nzone = \"a\"\n",
     "t.toml:10:6: error: the pool 10.137.0.0/23 has no room for network 'z' (widen [plan] "
     "pool, or raise prefix_length for smaller networks)\n"},
    {"address_outside_pool", "[zones.a]\n[vms.x]\nzone = \"a\"\naddress = \"10.9.0.5\"\n",
     "t.toml:6:11: error: address 10.9.0.5 of VM 'x' is outside the pool 10.137.0.0/16 (pin a "
     "'subnet' that holds it)\n"},
    {"address_outside_subnet",
     "[zones.a]\n[vms.x]\nzone = \"a\"\nsubnet = \"10.137.9.0/24\"\naddress = \"10.137.8.5\"\n",
     "t.toml:7:11: error: address 10.137.8.5 of VM 'x' is outside the subnet 10.137.9.0/24 of "
     "network 'x'\n"},
    {"address_gateway", "[zones.a]\n[vms.x]\nzone = \"a\"\naddress = \"10.137.9.1\"\n",
     "t.toml:6:11: error: address 10.137.9.1 of VM 'x' is the gateway of network 'x' (the "
     "firewall's address)\n"},
    {"address_broadcast", "[zones.a]\n[vms.x]\nzone = \"a\"\naddress = \"10.137.9.255\"\n",
     "t.toml:6:11: error: address 10.137.9.255 of VM 'x' is the network or broadcast address of "
     "10.137.9.0/24\n"},
    {"address_in_dhcp", "[zones.a]\n[vms.x]\nzone = \"a\"\naddress = \"10.137.9.200\"\n",
     "t.toml:6:11: error: address 10.137.9.200 of VM 'x' is in the DHCP range "
     "10.137.9.192-10.137.9.254 of network 'x'\n"},
    {"address_twice",
     "[zones.a]\nnetwork = \"shared\"\n"
     "[vms.x]\nzone = \"a\"\naddress = \"10.137.9.20\"\n"
     "[vms.y]\nzone = \"a\"\naddress = \"10.137.9.20\"\n",
     "t.toml:10:11: error: address 10.137.9.20 of VM 'y' is already VM 'x''s (line 7)\n"},
    {"hostonly_outside", "[host]\nphysical_nic = \"eth0\"\nhostonly_subnet = \"10.99.0.0/24\"\n",
     "t.toml:3:19: error: VirtualBox refuses host-only networks outside 192.168.56.0/21 (pin a "
     "subnet inside it, or allow 10.99.0.0/24 in /etc/vbox/networks.conf and pin it here)\n"},
    {"host_address_is_firewall", "[host]\nphysical_nic = \"eth0\"\naddress = \"192.168.56.1\"\n",
     "t.toml:3:11: error: host address 192.168.56.1 is the firewall's address on the host-only "
     "network\n"},
    {"too_many_adapters",
     "[firewall]\nchipset = \"piix3\"\n[zones.a]\n"
     "[vms.a1]\nzone = \"a\"\n[vms.a2]\nzone = \"a\"\n[vms.a3]\nzone = \"a\"\n"
     "[vms.a4]\nzone = \"a\"\n[vms.a5]\nzone = \"a\"\n[vms.a6]\nzone = \"a\"\n"
     "[vms.a7]\nzone = \"a\"\n",
     "t.toml:4:1: error: the firewall VM needs 9 adapters but chipset 'piix3' allows 8 (set "
     "chipset = \"ich9\" for up to 36, or put zones on shared networks)\n"},
    {"too_many_adapters_without_firewall_table",
     "[zones.a]\n"
     "[vms.a1]\nzone = \"a\"\n[vms.a2]\nzone = \"a\"\n[vms.a3]\nzone = \"a\"\n"
     "[vms.a4]\nzone = \"a\"\n[vms.a5]\nzone = \"a\"\n[vms.a6]\nzone = \"a\"\n"
     "[vms.a7]\nzone = \"a\"\n",
     "t.toml:16:6: error: the firewall VM needs 9 adapters but chipset 'piix3' allows 8 (set "
     "chipset = \"ich9\" for up to 36, or put zones on shared networks)\n"},
    {"pin_in_hostonly_range", "[zones.a]\n[vms.x]\nzone = \"a\"\nsubnet = \"192.168.60.0/24\"\n",
     "t.toml:6:10: error: subnet 192.168.60.0/24 of network 'x' is in 192.168.56.0/21, which "
     "VirtualBox keeps for host-only networks (pin a subnet outside it)\n"},
    {"every_overlap",
     "[host]\nphysical_nic = \"eth0\"\nlan_subnet = \"10.1.0.0/16\"\n"
     "[zones.a]\nnetwork = \"shared\"\nsubnet = \"10.1.2.0/24\"\n"
     "[zones.b]\nnetwork = \"shared\"\nsubnet = \"10.1.2.0/25\"\n"
     "[vms.x]\nzone = \"a\"\n[vms.y]\nzone = \"b\"\n",
     "t.toml:6:10: error: subnet 10.1.2.0/24 of network 'a' overlaps the host LAN "
     "(10.1.0.0/16, line 3)\n"
     "t.toml:9:10: error: subnet 10.1.2.0/25 of network 'b' overlaps the host LAN "
     "(10.1.0.0/16, line 3)\n"
     "t.toml:9:10: error: subnet 10.1.2.0/25 of network 'b' overlaps network 'a' "
     "(10.1.2.0/24, line 6)\n"},
    {"lan_covers_hostonly_range",
     "[host]\nphysical_nic = \"eth0\"\nlan_subnet = \"192.168.0.0/16\"\n",
     "t.toml:3:14: error: the host LAN 192.168.0.0/16 covers all of 192.168.56.0/21, where "
     "VirtualBox allows host-only networks (pin 'hostonly_subnet' to one allowed in "
     "/etc/vbox/networks.conf)\n"},
    {"hostonly_over_lan",
     "[host]\nphysical_nic = \"eth0\"\nlan_subnet = \"192.168.56.0/24\"\n"
     "hostonly_subnet = \"192.168.56.0/24\"\n",
     "t.toml:4:19: error: host-only subnet 192.168.56.0/24 overlaps the host LAN "
     "(192.168.56.0/24, line 3)\n"},
};

TEST(MakePlan, EachProblemGetsItsDiagnostic) {
  for (const PlanCase& c : kPlanCases) {
    EXPECT_EQ(PlanDiags(c.toml), c.expected) << "case " << c.name;
  }
}

TEST(MakePlan, InterfaceNamesAreCutAndUnique) {
  Plan plan = PlanOf(
      "[zones.z]\n[vms.personal-mail]\nzone = \"z\"\n[vms.personal-mail2]\nzone = \"z\"\n"
      "[vms.personal-mail3]\nzone = \"z\"\n");
  EXPECT_EQ(plan.networks[0].firewall_iface, "bh-personal-mai");
  EXPECT_EQ(plan.networks[1].firewall_iface, "bh-personal-ma2");
  EXPECT_EQ(plan.networks[2].firewall_iface, "bh-personal-ma3");
}

TEST(MakePlan, IsStableAndAddingAVmMovesNothing) {
  std::string text = Example();
  Spec spec;
  Diagnostics diags;
  ASSERT_TRUE(ParseSpec("w.toml", text, spec, diags));
  Plan first, second;
  ASSERT_TRUE(MakePlan(spec, first, diags));
  ASSERT_TRUE(MakePlan(spec, second, diags));
  EXPECT_EQ(Table(first), Table(second));

  ASSERT_TRUE(ParseSpec("w.toml", text + "[vms.mail]\nzone = \"work\"\n", spec, diags));
  ASSERT_TRUE(MakePlan(spec, second, diags));
  std::string before = Table(first);
  std::string after = Table(second);
  EXPECT_EQ(after.substr(0, after.find("vm ")),
            before.substr(0, before.find("vm ")) +
                "mail bh-mail 10.137.5.0/24 gw=10.137.5.1 dhcp=10.137.5.192-10.137.5.254 slot=8 "
                "bh-mail opt6 vtnet7 080027969662\n");
  EXPECT_EQ(second.adapters_used, 8);
  EXPECT_EQ(second.vms[2].mac, first.vms[2].mac);
}

TEST(MakePlan, MacsAreVirtualBoxsAndNeverRepeat) {
  Plan plan = PlanOf(
      "[firewall]\nchipset = \"ich9\"\n[zones.a]\n"
      "[vms.a1]\nzone = \"a\"\n[vms.a2]\nzone = \"a\"\n[vms.a3]\nzone = \"a\"\n");
  std::set<std::string> macs = {plan.wan.firewall_mac, plan.hostonly.firewall_mac};
  for (const PlannedNetwork& n : plan.networks) macs.insert(n.firewall_mac);
  for (const PlannedVm& v : plan.vms) macs.insert(v.mac);
  EXPECT_EQ(macs.size(), 2u + 3u + 3u);
  for (const std::string& mac : macs) {
    EXPECT_EQ(mac.size(), 12u);
    EXPECT_EQ(mac.substr(0, 6), "080027");
    EXPECT_EQ(mac.find_first_not_of("0123456789ABCDEF"), std::string::npos) << mac;
  }
}

TEST(MakePlan, FullTestdataFile) {
  Spec spec;
  Diagnostics diags;
  ASSERT_TRUE(ReadSpec(std::string(BULKHEAD_SOURCE_DIR) + "/tests/testdata/spec/full.toml", spec,
                       diags, kToday));
  Plan plan;
  ASSERT_TRUE(MakePlan(spec, plan, diags)) << diags.Format(spec.text);
  EXPECT_EQ(Layout(plan), "admin 10.200.15.0/26\nadmin 10.200.15.20\n");
  EXPECT_EQ(plan.networks[0].dhcp_first.ToString(), "10.200.15.48");
  EXPECT_EQ(plan.networks[0].dhcp_last.ToString(), "10.200.15.62");
  EXPECT_EQ(plan.hostonly.name, "vboxnet3");
  EXPECT_EQ(plan.hostonly.host_address.ToString(), "192.168.60.5");
  EXPECT_EQ(plan.wan.mode, WanMode::kNat);
  EXPECT_EQ(plan.adapters_max, 36);
}

TEST(MakePlan, NatWanHasNoBridge) {
  Plan plan = PlanOf("[firewall]\nwan = \"nat\"\n");
  EXPECT_EQ(plan.wan.mode, WanMode::kNat);
  EXPECT_EQ(plan.wan.bridge_nic, "");
  EXPECT_EQ(plan.adapters_used, 2);
}

}  // namespace
}  // namespace bulkhead
