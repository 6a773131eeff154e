// SPDX-License-Identifier: Apache-2.0
// Tests of the VBoxManage compiler: the example's script against a golden file, `sh -n`, two runs
// against tests/fake_vboxmanage (the first creates and wires everything, the second changes
// nothing), a running VM left alone, and the reader's view of the script equal to the plan and to
// what the script really did, hand edits included.

#include <fmt/format.h>
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "import/artifacts.h"
#include "plan/plan.h"
#include "render/render.h"
#include "spec/spec.h"
#include "util/atomic_file.h"

namespace bulkhead {
namespace {

namespace fs = std::filesystem;

const std::string kSource = BULKHEAD_SOURCE_DIR;
const std::string kFake = kSource + "/tests/fake_vboxmanage";
const Date kToday{2026, 12, 3};

struct TempDir {
  TempDir() {
    std::string pattern = (fs::temp_directory_path() / "bhvbox-XXXXXX").string();
    path = mkdtemp(pattern.data());
  }
  ~TempDir() { fs::remove_all(path); }
  std::string path;
};

void LoadExample(Spec& spec, Plan& plan, const std::string& edit = "") {
  std::string text;
  ASSERT_TRUE(ReadWholeFile(kSource + "/examples/workstation.toml", text));
  Diagnostics diags;
  ASSERT_TRUE(ParseSpec("workstation.toml", text + edit, spec, diags)) << diags.Format();
  ASSERT_TRUE(MakePlan(spec, plan, diags)) << diags.Format();
}

std::string Script(const Spec& spec, const Plan& plan) {
  Artifacts out = RenderVBoxManage(spec, plan, kToday);
  EXPECT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].path, "create.sh");
  EXPECT_TRUE(out[0].executable);
  return out[0].content;
}

std::string WriteScript(const TempDir& dir, const std::string& text) {
  std::string path = dir.path + "/create.sh";
  EXPECT_EQ(WriteFileAtomically(path, text, true), "");
  return path;
}

int Shell(const std::string& command) {
  int status = std::system(command.c_str());
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

// Runs the script against the fake VirtualBox whose state is in `dir`/state.
int RunAgainstFake(const TempDir& dir, const std::string& script) {
  return Shell(
      fmt::format("VBOXMANAGE={} FAKE_VBOX_STATE={}/state BULKHEAD_VM_DIR={}/vms "
                  "sh {} >{}/stdout 2>{}/stderr",
                  kFake, dir.path, dir.path, script, dir.path, dir.path));
}

int Fake(const TempDir& dir, const std::string& args) {
  return Shell(fmt::format("FAKE_VBOX_STATE={}/state {} {} >/dev/null", dir.path, kFake, args));
}

std::string FileText(const std::string& path) {
  std::string text;
  EXPECT_TRUE(ReadWholeFile(path, text)) << path;
  return text;
}

// Calls other than `list` and `showvminfo`, which only read.
std::vector<std::string> ChangingCalls(const TempDir& dir) {
  std::vector<std::string> out;
  std::ifstream log(dir.path + "/state/calls.log");
  for (std::string line; std::getline(log, line);) {
    if (line.rfind("list ", 0) != 0 && line.rfind("showvminfo ", 0) != 0) out.push_back(line);
  }
  return out;
}

std::string Row(int slot, std::string_view kind, std::string_view network, std::string_view mac,
                bool cable) {
  return fmt::format("{} {} {} {} {}", slot, kind, network, mac, cable ? "on" : "off");
}

// The adapters and channels of every VM, one line each, as the reader sees them.
std::map<std::string, std::string> Summary(const Wiring& wiring) {
  std::map<std::string, std::string> out;
  for (const VmWiring& vm : wiring.vms) {
    std::string& s = out[vm.name];
    for (const AdapterWiring& a : vm.adapters) {
      s += Row(a.slot, AttachmentName(a.attachment), a.network, a.mac, a.cable_connected) + "; ";
    }
    s += fmt::format("clipboard={} dnd={} shares={} vrde={} audio={}", vm.clipboard,
                     vm.drag_and_drop, vm.shared_folders, vm.vrde, vm.audio);
  }
  return out;
}

// The same summary from the fake VirtualBox's state: what the script really did.
std::map<std::string, std::string> FakeSummary(const TempDir& dir) {
  std::map<std::string, std::string> out;
  for (const auto& entry : fs::directory_iterator(dir.path + "/state/vms")) {
    nlohmann::json vm = nlohmann::json::parse(FileText(entry.path().string()));
    std::string& s = out[vm["name"].get<std::string>()];
    int max_slot = vm["chipset"] == "ich9" ? 36 : 8;
    for (int slot = 1; slot <= max_slot; ++slot) {
      const nlohmann::json& nic = vm["nics"][std::to_string(slot)];
      std::string kind = nic["kind"];
      if (kind == "none") continue;
      std::string network = kind == "bridged"    ? nic.value("bridge", "")
                            : kind == "hostonly" ? nic.value("hostonly", "")
                            : kind == "intnet"   ? nic.value("intnet", "intnet")
                                                 : "";
      s += Row(slot, kind, network, nic["mac"].get<std::string>(), nic["cable"] == "on") + "; ";
    }
    s += fmt::format("clipboard={} dnd={} shares={} vrde={} audio={}",
                     vm["clipboard"].get<std::string>(), vm["draganddrop"].get<std::string>(),
                     vm["shares"].size(), vm["vrde"] == "on", vm["audio"] != "none");
  }
  return out;
}

Wiring ReadBack(const std::string& path) {
  Wiring wiring;
  Diagnostics diags;
  EXPECT_TRUE(ReadVBoxScript(path, wiring, diags)) << diags.Format();
  return wiring;
}

// The example's spec and plan, and a fake VirtualBox that holds the template 'debian-base'.
class VBoxScriptTest : public testing::Test {
 protected:
  void SetUp() override {
    LoadExample(spec_, plan_);
    ASSERT_EQ(Fake(dir_, "createvm --name debian-base --ostype Debian_64 --register"), 0);
  }
  std::string Write() { return WriteScript(dir_, Script(spec_, plan_)); }
  std::string Stderr() { return FileText(dir_.path + "/stderr"); }
  // Runs `script` and expects it to succeed; the call log then holds this run only.
  void Run(const std::string& script) {
    fs::remove(dir_.path + "/state/calls.log");
    ASSERT_EQ(RunAgainstFake(dir_, script), 0) << Stderr();
  }
  bool Called(const std::string& call) {
    std::vector<std::string> calls = ChangingCalls(dir_);
    return std::find(calls.begin(), calls.end(), call) != calls.end();
  }

  Spec spec_;
  Plan plan_;
  TempDir dir_;
};

TEST_F(VBoxScriptTest, MatchesGoldenFile) {
  std::string script = Script(spec_, plan_);
  std::string golden = kSource + "/tests/testdata/vbox/workstation.create.sh";
  if (std::getenv("BULKHEAD_UPDATE_GOLDEN") != nullptr) {
    ASSERT_EQ(WriteFileAtomically(golden, script, true), "");
  }
  EXPECT_EQ(script, FileText(golden)) << "regenerate with BULKHEAD_UPDATE_GOLDEN=1";
}

TEST_F(VBoxScriptTest, IsValidShell) { EXPECT_EQ(Shell("sh -n " + Write()), 0); }

TEST_F(VBoxScriptTest, SecondRunChangesNothing) {
  std::string script = Write();
  Run(script);
  EXPECT_TRUE(Called("hostonlyif create"));
  EXPECT_TRUE(Called(fmt::format("hostonlyif ipconfig vboxnet0 --ip {} --netmask 255.255.255.0",
                                 plan_.hostonly.host_address.ToString())));
  std::vector<std::string> first = ChangingCalls(dir_);
  EXPECT_EQ(std::count_if(first.begin(), first.end(),
                          [](const std::string& c) { return c.rfind("clonevm ", 0) == 0; }),
            5);

  Run(script);
  EXPECT_EQ(ChangingCalls(dir_), std::vector<std::string>{});
  EXPECT_EQ(Stderr(), "");
}

TEST_F(VBoxScriptTest, WiresWhatThePlanSays) {
  std::string script = Write();
  Run(script);
  std::map<std::string, std::string> real = FakeSummary(dir_);
  for (const auto& [name, summary] : Summary(ReadBack(script))) {
    EXPECT_EQ(summary, real[name]) << name;
  }
  nlohmann::json ifs = nlohmann::json::parse(FileText(dir_.path + "/state/hostonlyifs.json"));
  EXPECT_EQ(ifs[plan_.hostonly.name]["ip"], plan_.hostonly.host_address.ToString());
  EXPECT_EQ(ifs[plan_.hostonly.name]["mask"], "255.255.255.0");
}

TEST_F(VBoxScriptTest, ReadBackEqualsThePlan) {
  Wiring wiring = ReadBack(Write());
  EXPECT_EQ(wiring.hostonly_if, plan_.hostonly.name);
  EXPECT_EQ(wiring.hostonly_host,
            (Prefix{plan_.hostonly.host_address, plan_.hostonly.subnet.length}));
  std::map<std::string, std::string> want;
  std::string& fw = want[spec_.firewall.name];
  fw += Row(1, "bridged", plan_.wan.bridge_nic, plan_.wan.firewall_mac, true) + "; ";
  fw += Row(2, "hostonly", plan_.hostonly.name, plan_.hostonly.firewall_mac, true) + "; ";
  for (const PlannedNetwork& n : plan_.networks) {
    fw += Row(n.firewall_slot, "intnet", n.intnet, n.firewall_mac, true) + "; ";
  }
  fw += "clipboard=disabled dnd=disabled shares=0 vrde=false audio=false";
  for (const PlannedVm& vm : plan_.vms) {
    std::string& s = want[vm.name];
    if (vm.network >= 0) {
      s += Row(1, "intnet", plan_.networks[vm.network].intnet, vm.mac, true) + "; ";
    }
    s += fmt::format("clipboard={} dnd=disabled shares=0 vrde=false audio=false",
                     vm.name == "work" ? "hosttoguest" : "disabled");
  }
  EXPECT_EQ(Summary(wiring), want);
}

TEST_F(VBoxScriptTest, ReadBackSeesAHandAddedNatAdapter) {
  std::string text = Script(spec_, plan_);
  const std::string line = "want browser nic2 none\n";
  size_t at = text.find(line);
  ASSERT_NE(at, std::string::npos);
  text.replace(at, line.size(), "want browser nic2 nat\nwant browser cableconnected2 on\n");
  text += "\"$VBM\" modifyvm bank --nic3=nat \\\n  --cable-connected3 off\n";
  std::string script = WriteScript(dir_, text);
  std::map<std::string, std::string> read = Summary(ReadBack(script));
  EXPECT_NE(read["browser"].find("; 2 nat  "), std::string::npos) << read["browser"];
  EXPECT_NE(read["bank"].find("; 3 nat  "), std::string::npos) << read["bank"];

  // What the reader says is what the edited script does.
  Run(script);
  std::map<std::string, std::string> real = FakeSummary(dir_);
  for (const std::string vm : {"browser", "bank"}) {
    // VirtualBox gives the NAT adapter a MAC of its own; the script sets none.
    std::string r = real[vm];
    size_t nat = r.find(" nat  ");
    ASSERT_NE(nat, std::string::npos) << r;
    r.erase(nat + 6, 12);
    EXPECT_EQ(read[vm], r) << vm;
  }
}

TEST_F(VBoxScriptTest, LeavesARunningVmAlone) {
  Run(Write());
  ASSERT_EQ(Fake(dir_, "startvm work"), 0);
  for (Vm& vm : spec_.vms) vm.clipboard = Sharing::kBidirectional;
  Run(Write());

  EXPECT_EQ(Stderr(),
            "bulkhead: 'work' is running: not changed (power it off and run this again)\n");
  for (const std::string& call : ChangingCalls(dir_)) {
    EXPECT_EQ(call.find(" work "), std::string::npos) << call;
  }
  EXPECT_EQ(ChangingCalls(dir_).size(), 5u);  // the clipboard of the five other VMs
}

TEST_F(VBoxScriptTest, SharedFoldersOnlyAsDeclared) {
  ASSERT_EQ(Fake(dir_, "sharedfolder add debian-base --name stray --hostpath /home"), 0);
  for (Vm& vm : spec_.vms) {
    if (vm.name == "work") vm.shared_folders.push_back({"src", "/srv/my src", true});
  }
  std::string script = Write();
  Run(script);
  EXPECT_TRUE(Called("sharedfolder add work --name src --hostpath '/srv/my src' --readonly"));
  EXPECT_TRUE(Called("sharedfolder remove bank --name stray"));
  std::map<std::string, std::string> real = FakeSummary(dir_);
  EXPECT_EQ(Summary(ReadBack(script))["work"], real["work"]);
  EXPECT_NE(real["work"].find("shares=1"), std::string::npos);
  EXPECT_NE(real["bank"].find("shares=0"), std::string::npos);

  Run(script);
  EXPECT_EQ(ChangingCalls(dir_), std::vector<std::string>{});
}

TEST_F(VBoxScriptTest, NatWanAndIch9) {
  spec_.firewall.chipset = Chipset::kIch9;
  plan_.wan.mode = WanMode::kNat;
  std::string script = Write();
  std::string text = FileText(script);
  EXPECT_NE(text.find("want sys-firewall nic1 nat\n"), std::string::npos);
  EXPECT_EQ(text.find("bridgeadapter1"), std::string::npos);
  EXPECT_NE(text.find("want sys-firewall nic36 none\n"), std::string::npos);
  EXPECT_EQ(text.find("want browser nic9 "), std::string::npos);

  Run(script);
  EXPECT_EQ(Summary(ReadBack(script))["sys-firewall"], FakeSummary(dir_)["sys-firewall"]);
}

TEST_F(VBoxScriptTest, MissingTemplateStopsTheScript) {
  fs::remove(dir_.path + "/state/vms/debian-base.json");
  EXPECT_EQ(RunAgainstFake(dir_, Write()), 1);
  EXPECT_EQ(Stderr(), "bulkhead: template 'debian-base' of 'work' is not registered\n");
}

}  // namespace
}  // namespace bulkhead
