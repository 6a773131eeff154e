// SPDX-License-Identifier: Apache-2.0
// The random set-up generator: the same seed gives the same text, and every text it makes
// passes `check` (reading and planning) without errors, small and large set-ups alike.
#include "lab/random_spec.h"

#include <gtest/gtest.h>

#include "plan/plan.h"
#include "spec/spec.h"

namespace bulkhead {
namespace {

constexpr Date kToday{2026, 12, 1};

TEST(RandomSpec, SameSeedSameText) {
  EXPECT_EQ(RandomSpecToml(7), RandomSpecToml(7));
  EXPECT_NE(RandomSpecToml(7), RandomSpecToml(8));
}

TEST(RandomSpec, EverySeedPassesCheck) {
  for (uint64_t seed = 0; seed < 1000; ++seed) {
    std::string text = RandomSpecToml(seed);
    Spec spec;
    Plan plan;
    Diagnostics diags;
    bool ok = ParseSpec("random.toml", text, spec, diags, kToday) && MakePlan(spec, plan, diags);
    ASSERT_TRUE(ok) << "seed " << seed << "\n" << diags.Format(text) << "\n" << text;
    EXPECT_EQ(spec.firewall.engine, FirewallEngine::kNftables);
  }
}

TEST(RandomSpec, FiftyVmsFitTheFirewall) {
  RandomSpecOptions options;
  options.min_vms = options.max_vms = 50;
  for (uint64_t seed = 0; seed < 50; ++seed) {
    std::string text = RandomSpecToml(seed, options);
    Spec spec;
    Plan plan;
    Diagnostics diags;
    bool ok = ParseSpec("random.toml", text, spec, diags, kToday) && MakePlan(spec, plan, diags);
    ASSERT_TRUE(ok) << "seed " << seed << "\n" << diags.Format(text) << "\n" << text;
    EXPECT_EQ(spec.vms.size(), 50u);
  }
}

}  // namespace
}  // namespace bulkhead
