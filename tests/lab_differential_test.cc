// SPDX-License-Identifier: Apache-2.0
// Differential testing of verify against the kernel: random set-ups (lab/random_spec.h) are
// built in the lab, probed with real packets, and every probe must match verify's prediction.
// BULKHEAD_LAB_SETUPS (default 200) set-ups from seed BULKHEAD_LAB_SEED on, within a time
// budget; seeds that once disagreed stay below as regression cases. Needs root.
#include <fmt/format.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>

#include "lab/lab.h"
#include "lab/netns.h"
#include "lab/random_spec.h"
#include "lab_guard.h"

namespace bulkhead {
namespace {

constexpr Date kToday{2026, 12, 1};
constexpr uint64_t kDefaultSeed = 20261203;
constexpr auto kBudget = std::chrono::minutes(15);

// Seeds on which the lab and verify once disagreed, through a fault of the lab's since fixed:
// overlapping destinations, a shared entry probed under the wrong column.
const std::vector<uint64_t> kRegressionSeeds = {20261203};

uint64_t EnvNumber(const char* name, uint64_t fallback) {
  const char* text = std::getenv(name);
  return text && *text ? std::strtoull(text, nullptr, 10) : fallback;
}

std::string Replay(uint64_t seed) {
  return fmt::format(
      "BULKHEAD_LAB_SEED={} BULKHEAD_LAB_SETUPS=1 build/bulkhead_tests "
      "--gtest_filter='LabDifferential.RandomSetUpsAgreeWithVerify'",
      seed);
}

bool LoadSeed(uint64_t seed, const RandomSpecOptions& options, Spec& spec, Plan& plan) {
  std::string text = RandomSpecToml(seed, options);
  Diagnostics diags;
  bool ok = ParseSpec("random.toml", text, spec, diags, kToday) && MakePlan(spec, plan, diags);
  EXPECT_TRUE(ok) << "seed " << seed << " fails check (a generator bug)\n"
                  << diags.Format(text) << text;
  return ok;
}

// Builds the set-up of `seed` in lab `name`, probes it, and takes it down. Returns the number
// of probes, and fails the test with everything needed to replay on any difference.
size_t CheckSeed(uint64_t seed, const std::string& name, const RandomSpecOptions& options = {}) {
  Spec spec;
  Plan plan;
  if (!LoadSeed(seed, options, spec, plan)) return 0;
  LabGuard guard(name);
  LabLayout layout = MakeLabLayout(spec, plan, name);
  std::string log;
  std::string err = LabUp(spec, plan, kToday, layout, log);
  EXPECT_EQ(err, "") << "seed " << seed << "\n" << spec.text;
  if (!err.empty()) return 0;

  LabProbeResult result;
  Diagnostics diags;
  bool ok = ProbeLab(spec, plan, layout, kToday, result, diags, [](const std::string&) {});
  EXPECT_TRUE(ok) << "seed " << seed << "\n" << diags.Format();
  EXPECT_TRUE(result.differences.empty()) << "seed " << seed << ": the kernel and verify disagree\n"
                                          << FormatLabProbe(result) << "\nspec:\n"
                                          << spec.text << "\nreplay: " << Replay(seed);
  return result.probes.size();
}

TEST(LabDifferential, RegressionSeedsAgreeWithVerify) {
  if (!LabUsable()) GTEST_SKIP() << "needs root and 'ip netns'";
  for (uint64_t seed : kRegressionSeeds) CheckSeed(seed, "dr");
}

// verify disagrees with the kernel here: a rule to 0.0.0.0/0 (`ip daddr 0.0.0.0/0 accept`)
// passes host names' addresses in the kernel whatever they resolve to, but verify keeps host
// names symbolic and a literal prefix covers real addresses only (engine/packet_set.h), so it
// predicts dest0..dest2 blocked from 'vm4'. Enable once verify lets 0.0.0.0/0 cover names.
TEST(LabDifferential, DISABLED_WholeIpv4SpaceReachesHostNames) {
  if (!LabUsable()) GTEST_SKIP() << "needs root and 'ip netns'";
  RandomSpecOptions options;
  options.whole_ipv4_space = true;
  CheckSeed(20261228, "dw", options);
}

TEST(LabDifferential, RandomSetUpsAgreeWithVerify) {
  if (!LabUsable()) GTEST_SKIP() << "needs root and 'ip netns'";
  uint64_t base = EnvNumber("BULKHEAD_LAB_SEED", kDefaultSeed);
  uint64_t count = EnvNumber("BULKHEAD_LAB_SETUPS", 200);
  std::cout << fmt::format("lab differential: {} set-ups from seed {}\n", count, base);
  auto start = std::chrono::steady_clock::now();
  size_t probes = 0;
  uint64_t done = 0;
  for (; done < count && !HasFailure(); ++done) {
    if (std::chrono::steady_clock::now() - start > kBudget) {
      std::cout << fmt::format("lab differential: time budget spent, skipping seeds {} to {}\n",
                               base + done, base + count - 1);
      break;
    }
    probes += CheckSeed(base + done, "dt");
  }
  double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::cout << fmt::format("lab differential: {} set-ups, {} probes, {:.1f} s\n", done, probes,
                           seconds);
}

}  // namespace
}  // namespace bulkhead
