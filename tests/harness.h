// SPDX-License-Identifier: Apache-2.0
// What the tests that run the bulkhead binary or write files share: reading and writing whole
// files, a temporary folder per test that goes with the test, and running the binary with its
// exit code, stdout and stderr kept apart.
#pragma once

#include <sys/wait.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include <gtest/gtest.h>

namespace bulkhead::harness {

namespace fs = std::filesystem;

inline std::string Slurp(const fs::path& p) {
  std::ifstream in(p);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// `text` with every `from` replaced by `to`.
inline std::string Replace(std::string text, const std::string& from, const std::string& to) {
  for (size_t at = text.find(from); at != std::string::npos; at = text.find(from, at + to.size())) {
    text.replace(at, from.size(), to);
  }
  return text;
}

inline void Spit(const fs::path& p, const std::string& text) {
  std::ofstream out(p);
  out << text;
}

// A VirtualBox 7.0 machine file (settings 1.19) named `name`: `hardware` goes into its
// Hardware element, `snapshots` before it.
inline std::string VBoxMachineFile(const std::string& name, const std::string& hardware,
                                   const std::string& snapshots = "") {
  return "<?xml version=\"1.0\"?>\n"
         "<VirtualBox xmlns=\"http://www.virtualbox.org/\" version=\"1.19-linux\">\n"
         "<Machine uuid=\"{" + name + "}\" name=\"" + name + "\" OSType=\"Debian_64\">\n" +
         snapshots + "<Hardware>" + hardware + "</Hardware>\n</Machine>\n</VirtualBox>\n";
}

inline fs::path SourceDir() { return fs::path(BULKHEAD_SOURCE_DIR); }

// The shared corpus of real configurations, beside the checkout (read-only).
inline fs::path Corpus() { return SourceDir().parent_path() / "shared" / "corpus"; }

struct Result {
  int code = -1;
  std::string out;
  std::string err;
};

// A fresh folder for one test's files, removed when it goes out of scope.
class ScratchDir {
 public:
  ScratchDir() {
    std::string tmpl = (fs::temp_directory_path() / "bulkhead-test-XXXXXX").string();
    if (mkdtemp(tmpl.data())) path_ = tmpl;
  }
  ~ScratchDir() {
    std::error_code ec;
    if (!path_.empty()) fs::remove_all(path_, ec);
  }
  ScratchDir(const ScratchDir&) = delete;
  ScratchDir& operator=(const ScratchDir&) = delete;

  // Writes `text` to `name` under the folder, making the folders on the way.
  fs::path Write(const std::string& name, const std::string& text) const {
    fs::path p = path_ / name;
    fs::create_directories(p.parent_path());
    Spit(p, text);
    return p;
  }
  const fs::path& path() const { return path_; }

 private:
  fs::path path_;
};

// A fixture with a fresh folder `dir_`, removed after the test whatever happens in it.
class TempDirTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string tmpl = (fs::temp_directory_path() / "bulkhead-test-XXXXXX").string();
    ASSERT_NE(mkdtemp(tmpl.data()), nullptr);
    dir_ = tmpl;
  }
  void TearDown() override { fs::remove_all(dir_); }

  // Runs the binary with `args` (already shell-quoted where needed).
  Result Bulkhead(const std::string& args) {
    fs::path out = dir_ / "stdout", err = dir_ / "stderr";
    std::string cmd = std::string(BULKHEAD_BINARY) + " " + args + " >" + out.string() + " 2>" +
                      err.string() + " </dev/null";
    int status = std::system(cmd.c_str());
    return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, Slurp(out), Slurp(err)};
  }

  fs::path dir_;
};

}  // namespace bulkhead::harness
