// SPDX-License-Identifier: Apache-2.0
// Tests of atomic file writing in a fresh temporary folder: parents are created, content and
// mode are right, no temporary file is left behind, and failures name the path.

#include "util/atomic_file.h"

#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>

#include <gtest/gtest.h>

namespace bulkhead {
namespace {

namespace fs = std::filesystem;

class AtomicFileTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string pattern = (fs::temp_directory_path() / "bhtest-atomic-XXXXXX").string();
    ASSERT_NE(::mkdtemp(pattern.data()), nullptr);
    dir_ = pattern;
  }
  void TearDown() override {
    std::error_code ec;
    fs::permissions(dir_, fs::perms::owner_all, fs::perm_options::add, ec);
    fs::remove_all(dir_, ec);
  }

  int ModeOf(const fs::path& p) {
    struct stat st;
    return ::stat(p.c_str(), &st) == 0 ? static_cast<int>(st.st_mode & 0777) : -1;
  }

  fs::path dir_;
};

TEST_F(AtomicFileTest, WritesThroughMissingFolders) {
  fs::path target = dir_ / "out" / "nftables" / "nftables.conf";
  ASSERT_EQ(WriteFileAtomically(target.string(), "table inet filter {}\n"), "");
  std::string content;
  ASSERT_TRUE(ReadWholeFile(target.string(), content));
  EXPECT_EQ(content, "table inet filter {}\n");
  EXPECT_EQ(ModeOf(target), 0644);
  EXPECT_EQ(std::distance(fs::directory_iterator(target.parent_path()), {}), 1);
}

TEST_F(AtomicFileTest, ReplacesAndMarksExecutable) {
  fs::path target = dir_ / "create-vms.sh";
  ASSERT_EQ(WriteFileAtomically(target.string(), "old"), "");
  ASSERT_EQ(WriteFileAtomically(target.string(), std::string("#!/bin/sh\n\0x", 12), true), "");
  std::string content;
  ASSERT_TRUE(ReadWholeFile(target.string(), content));
  EXPECT_EQ(content, std::string("#!/bin/sh\n\0x", 12));
  EXPECT_EQ(ModeOf(target), 0755);
  EXPECT_EQ(std::distance(fs::directory_iterator(dir_), {}), 1);
}

TEST_F(AtomicFileTest, EmptyContent) {
  fs::path target = dir_ / "empty";
  ASSERT_EQ(WriteFileAtomically(target.string(), ""), "");
  std::string content = "stale";
  ASSERT_TRUE(ReadWholeFile(target.string(), content));
  EXPECT_EQ(content, "");
}

TEST_F(AtomicFileTest, FailuresNameThePath) {
  fs::path blocker = dir_ / "file";
  ASSERT_EQ(WriteFileAtomically(blocker.string(), "x"), "");
  std::string under_file = (blocker / "sub" / "x.conf").string();
  EXPECT_EQ(WriteFileAtomically(under_file, "y"),
            "cannot write '" + under_file + "' (Not a directory)");

  // A folder in the way of the rename: the temporary file must not stay behind.
  fs::create_directory(dir_ / "taken");
  fs::create_directory(dir_ / "taken" / "inner");
  std::string taken = (dir_ / "taken").string();
  EXPECT_EQ(WriteFileAtomically(taken, "z"), "cannot write '" + taken + "' (Is a directory)");
  EXPECT_EQ(std::distance(fs::directory_iterator(dir_), {}), 2);
}

TEST_F(AtomicFileTest, ReadingWhatIsNotThere) {
  std::string content = "stale";
  EXPECT_FALSE(ReadWholeFile((dir_ / "missing").string(), content));
  EXPECT_EQ(content, "");
  content = "stale";
  EXPECT_FALSE(ReadWholeFile(dir_.string(), content));
  EXPECT_EQ(content, "");
}

}  // namespace
}  // namespace bulkhead
