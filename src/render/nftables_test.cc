// SPDX-License-Identifier: Apache-2.0
// The nftables firewall VM's files and the host's lockdown, rendered from a test spec and
// compared with golden files a human has reviewed. BULKHEAD_UPDATE_GOLDEN=1 rewrites them;
// review the diff before committing.
#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>
#include <sstream>

#include "plan/plan.h"
#include "render/render.h"
#include "spec/spec.h"
#include "util/atomic_file.h"

namespace bulkhead {
namespace {

const std::string kData = std::string(BULKHEAD_SOURCE_DIR) + "/tests/testdata/nft/";
constexpr Date kToday{2026, 12, 1};

void LoadSpecAndPlan(const std::string& file, Spec& spec, Plan& plan) {
  Diagnostics diags;
  std::string text;
  ASSERT_TRUE(ReadWholeFile(kData + file, text));
  ASSERT_TRUE(ParseSpec("workstation.toml", text, spec, diags)) << diags.Format(text);
  ASSERT_TRUE(MakePlan(spec, plan, diags)) << diags.Format(text);
}

void ExpectGolden(const Artifacts& artifacts, const std::string& folder) {
  bool update = std::getenv("BULKHEAD_UPDATE_GOLDEN") != nullptr;
  for (const Artifact& a : artifacts) {
    std::string path = kData + folder + "/" + a.path;
    if (update) {
      ASSERT_EQ(WriteFileAtomically(path, a.content), "");
      continue;
    }
    std::string golden;
    ASSERT_TRUE(ReadWholeFile(path, golden))
        << "missing golden file " << path << " (run with BULKHEAD_UPDATE_GOLDEN=1)";
    EXPECT_EQ(a.content, golden) << "differs from " << path;
  }
}

const Artifact* Find(const Artifacts& artifacts, const std::string& path) {
  for (const Artifact& a : artifacts) {
    if (a.path == path) return &a;
  }
  return nullptr;
}

TEST(RenderNftables, MatchesGoldenFiles) {
  Spec spec;
  Plan plan;
  LoadSpecAndPlan("workstation.toml", spec, plan);
  ExpectGolden(RenderNftables(spec, plan, kToday), "golden/firewall");
}

TEST(RenderHost, MatchesGoldenFiles) {
  Spec spec;
  Plan plan;
  LoadSpecAndPlan("workstation.toml", spec, plan);
  ExpectGolden(RenderHost(spec, plan, kToday), "golden/host");
}

TEST(RenderNftables, WritesEveryFile) {
  Spec spec;
  Plan plan;
  LoadSpecAndPlan("workstation.toml", spec, plan);
  Artifacts out = RenderNftables(spec, plan, kToday);
  for (const char* path :
       {"nftables.conf", "sysctl.d/90-bulkhead.conf", "dnsmasq.conf", "network/10-wan0.link",
        "network/10-wan0.network", "network/11-host0.link", "network/11-host0.network"}) {
    EXPECT_NE(Find(out, path), nullptr) << path;
  }
  EXPECT_EQ(out.size(), 3 + 2 * (2 + plan.networks.size()));
}

TEST(RenderNftables, MapsIcmpToIcmpv6AndFillsSetsFromDns) {
  Spec spec;
  Plan plan;
  LoadSpecAndPlan("workstation.toml", spec, plan);
  Artifacts out = RenderNftables(spec, plan, kToday);
  const std::string& conf = Find(out, "nftables.conf")->content;
  EXPECT_NE(conf.find("ip daddr != @internal_v4 icmp type echo-request accept"), std::string::npos);
  EXPECT_NE(conf.find("ip6 daddr != @internal_v6 icmpv6 type echo-request accept"),
            std::string::npos);
  EXPECT_NE(conf.find("comment \"dns:deb.debian.org,security.debian.org\""), std::string::npos);
  const std::string& dnsmasq = Find(out, "dnsmasq.conf")->content;
  EXPECT_NE(dnsmasq.find("nftset=/updates.example.org/4#inet#bulkhead#fqdn-updates-example-org_v4,"
                         "6#inet#bulkhead#fqdn-updates-example-org_v6"),
            std::string::npos);
}

}  // namespace
}  // namespace bulkhead
