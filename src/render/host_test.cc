// SPDX-License-Identifier: Apache-2.0
// RenderHost in the two WAN modes: bridged keeps the physical NIC up without an address, nat
// lets the firewall VM's own user (VirtualBox's NAT) out on it; the ruleset reads back as a
// host that reaches nothing but the firewall VM. (The bridged files are also checked against
// golden files.)
#include <fmt/format.h>
#include <gtest/gtest.h>

#include "import/artifacts.h"
#include "plan/plan.h"
#include "render/render.h"
#include "util/atomic_file.h"

namespace bulkhead {
namespace {

const std::string kSpec = std::string(BULKHEAD_SOURCE_DIR) + "/tests/testdata/nft/workstation.toml";

Artifacts RenderFor(const char* wan_mode) {
  std::string text;
  EXPECT_TRUE(ReadWholeFile(kSpec, text));
  std::string from = "wan = \"bridged\"";
  text.replace(text.find(from), from.size(), fmt::format("wan = \"{}\"", wan_mode));
  Spec spec;
  Plan plan;
  Diagnostics diags;
  EXPECT_TRUE(ParseSpec("workstation.toml", text, spec, diags)) << diags.Format(text);
  EXPECT_TRUE(MakePlan(spec, plan, diags)) << diags.Format(text);
  return RenderHost(spec, plan, Date{2026, 12, 1});
}

std::string Content(const Artifacts& artifacts, const std::string& path) {
  for (const Artifact& a : artifacts) {
    if (a.path == path) return a.content;
  }
  ADD_FAILURE() << "no " << path;
  return "";
}

bool Has(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

TEST(RenderHost, BridgedKeepsTheNicWithoutAddress) {
  Artifacts out = RenderFor("bridged");
  std::string nic = Content(out, "network/10-enp3s0.network");
  EXPECT_TRUE(Has(nic, "ActivationPolicy=always-up\n"));
  EXPECT_TRUE(Has(nic, "DHCP=no\nLinkLocalAddressing=no\nIPv6AcceptRA=no\n"));
  EXPECT_FALSE(Has(Content(out, "nftables.conf"), "skgid"));
  std::string hostonly = Content(out, "network/20-vboxnet0.network");
  EXPECT_TRUE(Has(hostonly, "Gateway=192.168.56.1\nDNS=192.168.56.1\n"));
}

// skgid is the socket's own group, never a supplementary one like 'vboxusers': the exemption
// names the user the firewall VM runs as, which is never the host, so verify reads it exactly.
TEST(RenderHost, NatLetsOnlyTheFirewallVmsUserOut) {
  Artifacts out = RenderFor("nat");
  std::string conf = Content(out, "nftables.conf");
  EXPECT_TRUE(Has(conf, "oifname \"enp3s0\" meta skuid \"bulkhead-fw\" accept"));
  EXPECT_TRUE(Has(conf, "    # firewall VM's own process. Start 'sys-firewall' as the user "
                        "'bulkhead-fw'\n"));
  EXPECT_FALSE(Has(conf, "skgid"));
  EXPECT_TRUE(Has(Content(out, "network/10-enp3s0.network"), "DHCP=ipv4\n"));

  Policy p;
  Diagnostics diags;
  ASSERT_TRUE(ParseNftables("nftables.conf", conf, p, diags, "bulkhead-fw"))
      << diags.Format(conf);
  EXPECT_EQ(diags.Format(), "");
  // The host itself sends nothing out of the NIC, exactly.
  PacketSet any = PacketSet::All();
  EXPECT_TRUE(Accepted(Evaluate(p.output, "", "enp3s0", StateMatch::kNew, any)).empty());
  EXPECT_FALSE(Accepted(Evaluate(p.output, "", "vboxnet0", StateMatch::kNew, any)).empty());
}

}  // namespace
}  // namespace bulkhead
