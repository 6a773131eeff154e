// SPDX-License-Identifier: Apache-2.0
// WriteTargets: all targets replaced together, and a target that cannot be written leaves every
// earlier one as it was, with no staging folder behind.
#include "render/write_targets.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>

#include "util/atomic_file.h"

namespace bulkhead {
namespace {

namespace fs = std::filesystem;

class WriteTargetsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string tmpl = (fs::temp_directory_path() / "bulkhead-targets-XXXXXX").string();
    ASSERT_NE(mkdtemp(tmpl.data()), nullptr);
    dir_ = tmpl;
  }
  void TearDown() override { fs::remove_all(dir_); }

  std::string Read(const std::string& path) {
    std::string text;
    return ReadWholeFile((dir_ / path).string(), text) ? text : "(missing)";
  }

  std::vector<std::string> Listing() {
    std::vector<std::string> out;
    for (const auto& e : fs::directory_iterator(dir_)) out.push_back(e.path().filename().string());
    std::sort(out.begin(), out.end());
    return out;
  }

  fs::path dir_;
};

TEST_F(WriteTargetsTest, ReplacesEveryTargetWhole) {
  ASSERT_EQ(WriteTargets(dir_.string(), {{"a", {{"x", "1"}, {"stale", "s"}}}, {"b", {{"y", "1"}}}}),
            "");
  ASSERT_EQ(WriteTargets(dir_.string(), {{"a", {{"x", "2"}}}, {"b", {{"y", "2"}}}}), "");
  EXPECT_EQ(Read("a/x"), "2");
  EXPECT_EQ(Read("a/stale"), "(missing)");
  EXPECT_EQ(Read("b/y"), "2");
  EXPECT_EQ(Listing(), (std::vector<std::string>{"a", "b"}));
}

// "c/f" cannot be written once "c" is a file: the failure comes after "a" and "b" are staged.
TEST_F(WriteTargetsTest, AFailureLeavesEveryTargetAsItWas) {
  ASSERT_EQ(WriteTargets(dir_.string(), {{"a", {{"x", "old"}}}, {"b", {{"y", "old"}}}}), "");
  std::string err = WriteTargets(
      dir_.string(),
      {{"a", {{"x", "new"}}}, {"b", {{"y", "new"}}}, {"c", {{"f", "1"}, {"f/g", "2"}}}});
  EXPECT_NE(err, "");
  EXPECT_EQ(Read("a/x"), "old");
  EXPECT_EQ(Read("b/y"), "old");
  EXPECT_EQ(Listing(), (std::vector<std::string>{"a", "b"}));
}

}  // namespace
}  // namespace bulkhead
