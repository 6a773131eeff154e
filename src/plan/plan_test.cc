// SPDX-License-Identifier: Apache-2.0
// Tests of the planner: the example file's plan, pins, errors with their exact text, stability.

#include "plan/plan.h"

#include <gtest/gtest.h>

#include <fmt/format.h>

#include "util/atomic_file.h"

namespace bulkhead {
namespace {

std::string Example() {
  std::string text;
  EXPECT_TRUE(ReadWholeFile(std::string(BULKHEAD_SOURCE_DIR) + "/examples/workstation.toml", text));
  return text;
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
    out += fmt::format("vm {} {} net={} {} {}\n", v.name, v.zone, v.network,
                       v.address.ToString(), v.mac);
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

}  // namespace
}  // namespace bulkhead
