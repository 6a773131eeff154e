// SPDX-License-Identifier: Apache-2.0
// End-to-end tests of `bulkhead audit`: what it prints and exits with for a real corpus
// configuration, a rendered set-up compared with its own file, and every kind of bad input.

#include <filesystem>
#include <string>

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "harness.h"

namespace bulkhead {
namespace {

using ::testing::HasSubstr;
namespace fs = std::filesystem;
using harness::Corpus;
using harness::Result;
using harness::Slurp;
using harness::SourceDir;
using harness::Spit;

class AuditCliTest : public harness::TempDirTest {
 protected:
  void SetUp() override {
    harness::TempDirTest::SetUp();
    if (!fs::exists(Corpus())) GTEST_SKIP() << "no corpus at " << Corpus();
  }
  std::string Pfsense(const std::string& name) const {
    return (Corpus() / "pfsense" / name).string();
  }
  std::string Example() const { return (SourceDir() / "examples" / "workstation.toml").string(); }
};

TEST_F(AuditCliTest, FailsOnAHighFindingByDefault) {
  // netbed's 'Attacker' network reaches the web GUI: a high finding.
  Result r = Bulkhead("audit --pfsense " + Pfsense("netbed__1.xml"));
  EXPECT_EQ(r.code, 1) << r.err;
  EXPECT_THAT(r.out, HasSubstr("high     admin-reachable: network 'opt1'"));
  EXPECT_THAT(r.out, HasSubstr("opt1 (Attacker)"));

  r = Bulkhead("audit --fail-on critical --pfsense " + Pfsense("netbed__1.xml"));
  EXPECT_EQ(r.code, 0) << r.err;
}

TEST_F(AuditCliTest, JsonHoldsTheMatrixAndTheFindings) {
  Result r = Bulkhead("audit --json --fail-on critical --pfsense " + Pfsense("netbed__1.xml"));
  ASSERT_EQ(r.code, 0) << r.err;
  nlohmann::json j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["interfaces"].size(), 4u);
  bool found = false;
  for (const auto& cell : j["matrix"]) {
    found = found ||
            (cell["from"] == "lan" && cell["to"] == "internet" && cell["services"] == "any");
  }
  EXPECT_TRUE(found) << j["matrix"].dump(2);
  ASSERT_FALSE(j["findings"].empty());
  EXPECT_EQ(j["findings"][0]["risk"], "high");
  EXPECT_EQ(j["findings"][0]["kind"], "admin-reachable");
}

TEST_F(AuditCliTest, RenderedSetUpHasNoDifferenceFromItsFile) {
  Result r = Bulkhead("render " + Example() + " --target all -o " + (dir_ / "out").string());
  ASSERT_EQ(r.code, 0) << r.err;
  r = Bulkhead("audit --pfsense " + (dir_ / "out/pfsense/config.xml").string() + " --vbox " +
               (dir_ / "out/vboxmanage/create.sh").string() + " --expect " + Example());
  EXPECT_EQ(r.code, 0) << r.out << r.err;
  EXPECT_THAT(r.out, HasSubstr("firewall VM 'sys-firewall'"));
  EXPECT_THAT(r.out, HasSubstr("no difference"));
}

TEST_F(AuditCliTest, AHandEditIsADifferenceFromTheFile) {
  Result r = Bulkhead("render " + Example() + " --target all -o " + (dir_ / "out").string());
  ASSERT_EQ(r.code, 0) << r.err;
  // Let the untrusted zone's VM into the banking network.
  fs::path xml = dir_ / "out/pfsense/config.xml";
  std::string text = Slurp(xml);
  size_t at = text.find("<filter>");
  ASSERT_NE(at, std::string::npos);
  text.insert(at + 8, R"(
    <rule><type>pass</type><interface>opt5</interface><ipprotocol>inet</ipprotocol>
      <source><any/></source><destination><network>opt4</network></destination>
      <descr>hand-made shortcut</descr></rule>)");
  Spit(xml, text);
  r = Bulkhead("audit --pfsense " + xml.string() + " --vbox " +
               (dir_ / "out/vboxmanage/create.sh").string() + " --expect " + Example());
  EXPECT_EQ(r.code, 1) << r.out << r.err;
  EXPECT_THAT(r.out, HasSubstr("expect-extra-reach: 'sandbox' -> 'bank'"));
  EXPECT_THAT(r.out, HasSubstr("filter/rule[1]"));
}

TEST_F(AuditCliTest, JsonSurvivesTextThatIsNotUtf8) {
  // An ISO-8859-1 config.xml: its descriptions reach the report byte for byte.
  std::string xml = Slurp(Pfsense("netbed__1.xml"));
  size_t at = xml.find("<descr>");
  ASSERT_NE(at, std::string::npos);
  xml.insert(at + 7, "NET\xc4 ");
  Spit(dir_ / "latin1.xml", xml);
  Result r = Bulkhead("audit --json --pfsense " + (dir_ / "latin1.xml").string());
  EXPECT_EQ(r.code, 1) << r.err;
  nlohmann::json j;
  EXPECT_NO_THROW(j = nlohmann::json::parse(r.out));
  EXPECT_FALSE(j["findings"].empty());
}

TEST_F(AuditCliTest, BadInputExitsTwoAndSaysWhere) {
  Result r = Bulkhead("audit");
  EXPECT_EQ(r.code, 2);
  EXPECT_THAT(r.err, HasSubstr("nothing to audit"));

  r = Bulkhead("audit --pfsense " + (dir_ / "missing.xml").string());
  EXPECT_EQ(r.code, 2);
  EXPECT_THAT(r.err,
              HasSubstr("missing.xml: error: cannot read the file (no such file or folder)"));

  r = Bulkhead("audit --pfsense " + dir_.string());
  EXPECT_EQ(r.code, 2);
  EXPECT_THAT(r.err, HasSubstr(dir_.string() + ": error: cannot read the file (is a folder)"));

  // Cut right after a </range>: what is left open is the range's parents, not the range.
  std::string cut = Slurp(Pfsense("netbed__1.xml")).substr(0, 3000);
  Spit(dir_ / "cut.xml", cut);
  r = Bulkhead("audit --pfsense " + (dir_ / "cut.xml").string());
  EXPECT_EQ(r.code, 2);
  EXPECT_THAT(r.err, HasSubstr("cut.xml:116:12: error: the file ends before 'pfsense/dhcpd/lan' "
                               "is closed"));
  EXPECT_EQ(r.out, "");

  r = Bulkhead("audit --vbox " + (SourceDir() / "README.md").string());
  EXPECT_EQ(r.code, 2);
  EXPECT_THAT(r.err, HasSubstr("not a VirtualBox file"));

  r = Bulkhead("audit --fail-on severe --pfsense " + Pfsense("netbed__1.xml"));
  EXPECT_EQ(r.code, 2);
  EXPECT_THAT(r.err, HasSubstr("--fail-on 'severe' is not a risk"));

  Spit(dir_ / "bad.toml", "[vms.x]\nzone = \"nowhere\"\n");
  r = Bulkhead("audit --pfsense " + Pfsense("netbed__1.xml") + " --expect " +
               (dir_ / "bad.toml").string());
  EXPECT_EQ(r.code, 2);
  EXPECT_THAT(r.err, HasSubstr("bad.toml:2:8: error: unknown zone 'nowhere'"));
  EXPECT_THAT(r.err, HasSubstr("       ^"));
}

TEST_F(AuditCliTest, FirewallVmMustBeOneOfTheMachines) {
  std::string vbox =
      " --vbox " + (Corpus() / "vbox" / "debian__1.19-windows__bridged_snapshot.vbox").string() +
      " --vbox " + (Corpus() / "vbox" / "kali__1.16-windows__natnetwork.vbox").string();
  Result r = Bulkhead("audit --pfsense " + Pfsense("netbed__1.xml") + " --firewall-vm nonexistent");
  EXPECT_EQ(r.code, 2);
  EXPECT_EQ(r.err,
            "bulkhead: error: --firewall-vm needs --vbox (the machines to find 'nonexistent' "
            "among)\n");
  EXPECT_EQ(r.out, "");

  r = Bulkhead("audit --pfsense " + Pfsense("netbed__1.xml") + vbox + " --firewall-vm nonexistent");
  EXPECT_EQ(r.code, 2);
  EXPECT_THAT(r.err, HasSubstr("--firewall-vm: error: no machine named 'nonexistent' (the "
                               "machines: 'Debian', 'Kali')"));
  EXPECT_EQ(r.out, "");

  // Errors of the inputs come with it, all at once.
  Spit(dir_ / "cut.xml", Slurp(Pfsense("netbed__1.xml")).substr(0, 3000));
  r = Bulkhead("audit --pfsense " + (dir_ / "cut.xml").string() + vbox + " --firewall-vm fw");
  EXPECT_EQ(r.code, 2);
  EXPECT_THAT(r.err, HasSubstr("cut.xml:116:12: error: the file ends"));
  EXPECT_THAT(r.err, HasSubstr("--firewall-vm: error: no machine named 'fw'"));

  std::string empty =
      (Corpus() / "vbox" / "global__1.12-windows-innotek-ns__empty-registry.VirtualBox.xml")
          .string();
  r = Bulkhead("audit --vbox " + empty + " --firewall-vm fw");
  EXPECT_EQ(r.code, 2);
  EXPECT_THAT(r.err, HasSubstr("--firewall-vm: error: no machine named 'fw' (the --vbox inputs "
                               "hold no machine)"));

  // A machine's name in any case is that machine.
  r = Bulkhead("audit --fail-on critical --pfsense " + Pfsense("netbed__1.xml") + vbox +
               " --firewall-vm kali");
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("firewall VM 'Kali'"));
}

TEST_F(AuditCliTest, AFolderWithoutAnyVirtualBoxFileIsAnError) {
  fs::create_directories(dir_ / "empty");
  Result r = Bulkhead("audit --pfsense " + Pfsense("netbed__1.xml") + " --vbox " +
                      (dir_ / "empty").string());
  EXPECT_EQ(r.code, 2);
  EXPECT_THAT(r.err, HasSubstr("empty: error: the folder holds no readable VirtualBox file"));
  EXPECT_EQ(r.out, "");
}

}  // namespace
}  // namespace bulkhead
