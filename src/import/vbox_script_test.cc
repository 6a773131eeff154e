// SPDX-License-Identifier: Apache-2.0
// Tests of the VBoxManage script reader on hand-written scripts: shell quoting, continuations,
// both modifyvm spellings, skipped function bodies and here-documents, and every diagnostic with
// its exact text and line:column. The generated script is read back in vboxmanage_test.cc.

#include <fmt/format.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <string>
#include <vector>

#include "import/artifacts.h"
#include "util/atomic_file.h"

namespace bulkhead {
namespace {

namespace fs = std::filesystem;

struct Result {
  bool ok = false;
  Wiring wiring;
  std::vector<std::string> errors;  // "line:column: message"
};

Result Read(const std::string& text) {
  fs::path path = fs::temp_directory_path() / fmt::format("bhvbox-{}.sh", ::getpid());
  EXPECT_EQ(WriteFileAtomically(path.string(), text), "");
  Result r;
  Diagnostics diags;
  r.ok = ReadVBoxScript(path.string(), r.wiring, diags);
  fs::remove(path);
  for (const Diagnostic& d : diags.list()) {
    r.errors.push_back(fmt::format("{}:{}: {}", d.loc.line, d.loc.column, d.message));
  }
  return r;
}

std::string Adapters(const VmWiring* vm) {
  if (vm == nullptr) return "no such VM";
  std::string out;
  for (const AdapterWiring& a : vm->adapters) {
    out += fmt::format("{} {} {} {} {}; ", a.slot, AttachmentName(a.attachment), a.network, a.mac,
                       a.cable_connected ? "on" : "off");
  }
  return out;
}

TEST(ReadVBoxScript, QuotingAndContinuations) {
  Result r = Read(
      "want 'my vm' nic1 \\\n"
      "  intnet  # the only adapter\n"
      "want \"my vm\" intnet1 \"bh-x\"\n"
      "want my\\ vm macaddress1 08:00:27:aa:bb:cc\n"
      "want 'my vm' clipboard hosttoguest; want 'my vm' vrde on\n");
  ASSERT_TRUE(r.ok) << fmt::format("{}", fmt::join(r.errors, "\n"));
  ASSERT_EQ(r.wiring.vms.size(), 1u);
  const VmWiring* vm = r.wiring.FindVm("my vm");
  EXPECT_EQ(Adapters(vm), "1 intnet bh-x 080027AABBCC on; ");
  EXPECT_EQ(vm->clipboard, "hosttoguest");
  EXPECT_TRUE(vm->vrde);
}

TEST(ReadVBoxScript, DirectVBoxManageCallsInEitherSpelling) {
  Result r = Read(
      "VBoxManage modifyvm x --nic2 hostonly --hostonlyadapter2 vboxnet1 --cableconnected2 off\n"
      "\"$VBM\" modifyvm x --nic3=bridged --bridge-adapter3=eth0 --nic-type3 virtio >/dev/null\n"
      "\"$VBM\" modifyvm x --nic4 natnetwork --audio-enabled on --clipboard-mode bidirectional\n"
      "\"$VBM\" sharedfolder add x --name a --hostpath /a\n"
      "\"$VBM\" sharedfolder add x --name b --hostpath /b --readonly\n"
      "\"$VBM\" sharedfolder remove x --name a\n"
      "\"$VBM\" hostonlyif ipconfig vboxnet1 --ip 192.168.57.1 --netmask 255.255.255.0\n"
      "\"$VBM\" list vms 2>&1\n");
  ASSERT_TRUE(r.ok) << fmt::format("{}", fmt::join(r.errors, "\n"));
  const VmWiring* vm = r.wiring.FindVm("x");
  EXPECT_EQ(Adapters(vm),
            "2 hostonly vboxnet1  off; 3 bridged eth0  on; 4 natnetwork NatNetwork  on; ");
  EXPECT_EQ(vm->shared_folders, 1);
  EXPECT_TRUE(vm->audio);
  EXPECT_EQ(vm->clipboard, "bidirectional");
  EXPECT_EQ(r.wiring.hostonly_if, "vboxnet1");
  EXPECT_EQ(r.wiring.hostonly_host, *Prefix::Parse("192.168.57.1/24"));
}

TEST(ReadVBoxScript, SkipsFunctionBodiesAndHereDocuments) {
  Result r = Read(
      "set -eu\n"
      "VBM=${VBOXMANAGE:-VBoxManage} X=\"$(echo \"a b\")\"\n"
      "f() {\n"
      "  want x nic1 nat\n"
      "  while read -r l; do set -- \"$@\" \"$l\"; done <<EOF\n"
      "want x nic2 nat\n"
      "EOF\n"
      "}\n"
      "g() { want x nic3 nat; }\n"
      "want x nic4 intnet\n"
      "exit 0\n"
      "want x nic5 nat\n");
  ASSERT_TRUE(r.ok) << fmt::format("{}", fmt::join(r.errors, "\n"));
  EXPECT_EQ(Adapters(r.wiring.FindVm("x")), "4 intnet intnet  on; ");
}

TEST(ReadVBoxScript, LaterLinesWin) {
  Result r = Read("want x nic1 nat\nwant x nic1 none\nwant x nic2 nat\n");
  ASSERT_TRUE(r.ok);
  EXPECT_EQ(Adapters(r.wiring.FindVm("x")), "2 nat   on; ");
}

TEST(ReadVBoxScript, Errors) {
  struct Case {
    std::string text;
    std::string error;
  };
  const std::vector<Case> cases = {
      {"want x nic1\n", "1:1: 'want' takes 3 arguments (VM, setting, value), found 2"},
      {"want x nic1 bogus\n", "1:13: unknown attachment 'bogus' for adapter 1"},
      {"want x macaddress1 0800\n", "1:20: bad MAC address '0800' for adapter 1"},
      {"want x colour blue\n", "1:8: unknown setting 'colour'"},
      {"want $vm nic1 nat\n",
       "1:6: cannot read '$vm' (its value is only known when the script runs)"},
      {"echo hi\n", "1:1: cannot read command 'echo' (not a setting this reader knows)"},
      {"want x nic1 'nat\n", "1:13: unterminated single quote"},
      {"hostonly vboxnet0 192.168.56.1 255.0.255.0\n", "1:32: bad netmask '255.0.255.0'"},
      {"want x nic40 nat\n", "1:14: adapter number 40 out of range (1 to 36)"},
      {"\"$VBM\" controlvm x nic1 nat\n",
       "1:8: cannot read 'VBoxManage controlvm' (not a setting this reader knows)"},
      {"want x cableconnected1 maybe\n",
       "1:24: cable of adapter 1 must be 'on' or 'off', found 'maybe'"},
      {"want x clipboard sometimes\n", "1:18: unknown clipboard mode 'sometimes'"},
      {"\n\n  share x data\n",
       "3:3: 'share' takes 4 arguments (VM, name, host path, readonly or writable), found 2"},
  };
  for (const Case& c : cases) {
    Result r = Read(c.text);
    EXPECT_FALSE(r.ok) << c.text;
    EXPECT_EQ(r.errors, std::vector<std::string>{c.error}) << c.text;
  }
}

TEST(ReadVBoxScript, CollectsEveryError) {
  Result r = Read("want x nic1 bogus\nwant x nic2 nat\nfrobnicate\n");
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(r.errors, (std::vector<std::string>{
                          "1:13: unknown attachment 'bogus' for adapter 1",
                          "3:1: cannot read command 'frobnicate' (not a setting this reader knows)",
                      }));
  EXPECT_EQ(Adapters(r.wiring.FindVm("x")), "2 nat   on; ");
}

TEST(ReadVBoxScript, MissingFile) {
  Wiring wiring;
  Diagnostics diags;
  EXPECT_FALSE(ReadVBoxScript("/nonexistent/create.sh", wiring, diags));
  ASSERT_EQ(diags.list().size(), 1u);
  EXPECT_EQ(diags.list()[0].message, "cannot read the file");
}

}  // namespace
}  // namespace bulkhead
