// SPDX-License-Identifier: Apache-2.0
// The rendered rulesets, checked by the real nft: `nft -c -f`, then loaded for real inside a
// throwaway network namespace and listed back. The namespace is deleted by an RAII guard
// whatever happens; without root or `ip netns` the tests are skipped with the reason.
#include <fmt/format.h>
#include <pwd.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <array>
#include <cstdio>
#include <random>

#include "plan/plan.h"
#include "lab/netns.h"
#include "render/render.h"
#include "util/atomic_file.h"

namespace bulkhead {
namespace {

const std::string kGolden = std::string(BULKHEAD_SOURCE_DIR) + "/tests/testdata/nft/golden/";

using Run = ShellRun;

Run Shell(const std::string& command) { return RunShell(command); }

// A network namespace that exists exactly as long as this object.
class Netns {
 public:
  Netns() {
    std::random_device rd;
    name_ = fmt::format("bhtest-{:08x}", rd());
    created_ = Shell("ip netns add " + name_).status == 0;
  }
  ~Netns() {
    if (created_) (void)Shell("ip netns delete " + name_);
  }
  Netns(const Netns&) = delete;
  Netns& operator=(const Netns&) = delete;

  bool created() const { return created_; }
  Run Exec(const std::string& command) const {
    return Shell(fmt::format("ip netns exec {} {}", name_, command));
  }

 private:
  std::string name_;
  bool created_ = false;
};

void CheckAndLoad(const std::string& file, const std::vector<std::string>& tables) {
  if (::geteuid() != 0) GTEST_SKIP() << "needs root for network namespaces";
  Netns ns;
  if (!ns.created()) GTEST_SKIP() << "cannot create a network namespace ('ip netns add' failed)";

  Run check = ns.Exec("nft -c -f " + file);
  ASSERT_EQ(check.status, 0) << check.output;
  Run load = ns.Exec("nft -f " + file);
  ASSERT_EQ(load.status, 0) << load.output;
  Run list = ns.Exec("nft list ruleset");
  ASSERT_EQ(list.status, 0) << list.output;
  for (const std::string& table : tables) {
    EXPECT_NE(list.output.find(table), std::string::npos) << table << " in\n" << list.output;
  }
}

TEST(NftNetns, FirewallRulesetLoads) {
  CheckAndLoad(kGolden + "firewall/nftables.conf",
               {"table inet bulkhead {", "set mybank_v4 {", "chain forward_bh-browser {",
                "table ip bulkhead_nat {"});
}

TEST(NftNetns, HostRulesetLoads) {
  CheckAndLoad(kGolden + "host/nftables.conf", {"table inet bulkhead_host {"});
}

// The nat-mode host ruleset names the user 'bulkhead-fw', which nft resolves when loading; on
// a machine without that user 'root' stands in for it.
TEST(NftNetns, NatModeHostRulesetLoads) {
  std::string text;
  ASSERT_TRUE(ReadWholeFile(
      std::string(BULKHEAD_SOURCE_DIR) + "/tests/testdata/nft/workstation.toml", text));
  text.replace(text.find("wan = \"bridged\""), 16, "wan = \"nat\"");
  Spec spec;
  Plan plan;
  Diagnostics diags;
  ASSERT_TRUE(ParseSpec("workstation.toml", text, spec, diags) && MakePlan(spec, plan, diags))
      << diags.Format(text);
  std::string conf = RenderHost(spec, plan, Date{2026, 12, 1}).at(0).content;
  if (::getpwnam("bulkhead-fw") == nullptr) {
    conf.replace(conf.find("\"bulkhead-fw\" accept"), 13, "\"root\"");
  }
  std::string path = fmt::format("/tmp/bh-nat-host-{}.nft", ::getpid());
  ASSERT_EQ(WriteFileAtomically(path, conf), "");
  CheckAndLoad(path, {"meta skuid"});
  std::remove(path.c_str());
}

}  // namespace
}  // namespace bulkhead
