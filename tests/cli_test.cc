// SPDX-License-Identifier: Apache-2.0
// End-to-end tests of the bulkhead binary: the example checks, renders and verifies for both
// firewall engines, and hand edits of the generated rulesets are caught and traced to the rule.

#include <sys/wait.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "harness.h"

namespace bulkhead {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;
using ::testing::Not;

using harness::Result;
using harness::Slurp;
using harness::Spit;

class CliTest : public harness::TempDirTest {
 protected:
  std::string Example() const {
    return std::string(BULKHEAD_SOURCE_DIR) + "/examples/workstation.toml";
  }

  // Renders every target of the example into dir_/out.
  void RenderExample() {
    Result r = Bulkhead("render " + Example() + " --target all -o " + (dir_ / "out").string());
    ASSERT_EQ(r.code, 0) << r.err;
  }

  // Replaces the first `old_text` in a rendered artifact (a path under out/) by `new_text`.
  void Edit(const std::string& artifact, const std::string& old_text,
            const std::string& new_text) {
    fs::path path = dir_ / "out" / artifact;
    std::string text = Slurp(path);
    size_t at = text.find(old_text);
    ASSERT_NE(at, std::string::npos) << "'" << old_text << "' not in " << path;
    text.replace(at, old_text.size(), new_text);
    Spit(path, text);
  }

  // verify on the example, reading the artifacts rendered into out/.
  Result VerifyRendered(const std::string& options = "") {
    return Bulkhead("verify " + Example() + " " + options + " --from " + (dir_ / "out").string());
  }
};

TEST_F(CliTest, CheckAcceptsTheExample) {
  Result r = Bulkhead("check " + Example());
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("ok (6 VMs"));
}

TEST_F(CliTest, VerifyAgreesForPfsense) {
  Result r = Bulkhead("verify " + Example());
  EXPECT_EQ(r.code, 0) << r.out << r.err;
  EXPECT_THAT(r.out, HasSubstr("verified"));
}

TEST_F(CliTest, VerifyAgreesForNftables) {
  Result r = Bulkhead("verify " + Example() + " --engine nftables");
  EXPECT_EQ(r.code, 0) << r.out << r.err;
  EXPECT_THAT(r.out, HasSubstr("verified"));
}

TEST_F(CliTest, VerifyJsonListsTheMatrix) {
  Result r = Bulkhead("verify --json " + Example());
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("\"agree\": true"));
  EXPECT_THAT(r.out, HasSubstr("\"from\": \"browser\""));
}

// The example's matrix, as its comments describe it.
TEST_F(CliTest, ExampleMatrixShowsTheDeclaredPolicy) {
  Result r = Bulkhead("verify " + Example());
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("-> internet"));
  EXPECT_THAT(r.out, HasSubstr("tcp 80,443; udp 443"));     // browser
  EXPECT_THAT(r.out, HasSubstr("tcp 22,443"));              // work
  EXPECT_THAT(r.out, HasSubstr("(via DNS)"));               // bank and mirrors by name
  EXPECT_THAT(r.out, HasSubstr("vault\n  (reaches nothing)"));
}

TEST_F(CliTest, VerifyCatchesAnExtraAcceptInNftables) {
  RenderExample();
  fs::path conf = dir_ / "out/nftables/nftables.conf";
  std::string text = Slurp(conf);
  // An accept slipped in as the first rule of the forward chain.
  size_t at = text.find("ct state established,related accept", text.find("chain forward"));
  ASSERT_NE(at, std::string::npos) << text;
  text.insert(at, "tcp dport 25 accept comment \"mail out\"\n\t\t");
  Spit(conf, text);

  Result r = Bulkhead("verify " + Example() + " --engine nftables --from " +
                   (dir_ / "out").string());
  EXPECT_EQ(r.code, 1) << r.out << r.err;
  EXPECT_THAT(r.out, HasSubstr("passes but not declared: tcp 25"));
  EXPECT_THAT(r.out, HasSubstr("mail out"));
  EXPECT_THAT(r.out, HasSubstr("nftables.conf:"));
}

TEST_F(CliTest, VerifyCatchesARuleMovedAboveAnotherInPfsense) {
  RenderExample();
  fs::path conf = dir_ / "out/pfsense/config.xml";
  std::string text = Slurp(conf);
  // Move the final block of the first interface to the top of the filter: everything on that
  // interface is then blocked before its pass rules are reached.
  size_t filter = text.find("<filter>");
  size_t block = text.find("<type>block</type>", filter);
  ASSERT_NE(block, std::string::npos);
  size_t start = text.rfind("<rule>", block);
  size_t end = text.find("</rule>", block) + std::string("</rule>").size();
  std::string rule = text.substr(start, end - start);
  text.erase(start, end - start);
  text.insert(filter + std::string("<filter>").size(), rule);
  Spit(conf, text);

  Result r = Bulkhead("verify " + Example() + " --from " + (dir_ / "out").string());
  EXPECT_EQ(r.code, 1) << r.out << r.err;
  EXPECT_THAT(r.out, HasSubstr("declared but blocked"));
  EXPECT_THAT(r.out, HasSubstr("filter/rule[1]"));
}

TEST_F(CliTest, VerifyCatchesAnAntiSpoofingRuleMovedDownInNftables) {
  RenderExample();
  fs::path conf = dir_ / "out/nftables/nftables.conf";
  std::string text = Slurp(conf);
  // Anti-spoofing moved below the work zone's accepts: forged sources now get out.
  size_t chain = text.find("chain forward_bh-work {");
  ASSERT_NE(chain, std::string::npos) << text;
  size_t start = text.find("ip saddr != ", chain);
  size_t end = text.find('\n', start) + 1;
  std::string rule = text.substr(start, end - start);
  text.erase(start, end - start);
  text.insert(text.find("\n  }", chain) + 1, "    " + rule);
  Spit(conf, text);

  Result r = Bulkhead("verify " + Example() + " --engine nftables --from " +
                      (dir_ / "out").string());
  EXPECT_EQ(r.code, 1) << r.out << r.err;
  EXPECT_THAT(r.out, HasSubstr("difference: work -> internet"));
  EXPECT_THAT(r.out, HasSubstr("passes but not declared, from source addresses other than its "
                               "own (10.137.1.10): tcp 22,443"));
  EXPECT_THAT(r.out, HasSubstr("zone 'work' rule 2"));
}

TEST_F(CliTest, VerifyCatchesAnExtraPassRuleInPfsense) {
  RenderExample();
  fs::path conf = dir_ / "out/pfsense/config.xml";
  std::string text = Slurp(conf);
  // A copy of the browser's first web rule, opened to SMTP as well.
  size_t port = text.find("<port>80</port>");
  ASSERT_NE(port, std::string::npos);
  size_t start = text.rfind("<rule>", port);
  size_t end = text.find("</rule>", port) + std::string("</rule>").size();
  std::string rule = text.substr(start, end - start);
  rule.replace(rule.find("<port>80</port>"), std::string("<port>80</port>").size(),
               "<port>25</port>");
  rule.replace(rule.find("<tracker>"), std::string("<tracker>").size(), "<tracker>9");
  text.insert(start, rule);
  Spit(conf, text);

  Result r = Bulkhead("verify " + Example() + " --from " + (dir_ / "out").string());
  EXPECT_EQ(r.code, 1) << r.out << r.err;
  EXPECT_THAT(r.out, HasSubstr("passes but not declared: tcp 25"));
  EXPECT_THAT(r.out, HasSubstr("config.xml: filter/rule["));
}

TEST_F(CliTest, VerifyCatchesANatAdapterLeftOnAVm) {
  RenderExample();
  Edit("vboxmanage/create.sh", "want browser nic2 none", "want browser nic2 nat");

  Result r = VerifyRendered();
  EXPECT_EQ(r.code, 1) << r.out << r.err;
  EXPECT_THAT(r.out, HasSubstr("bypasses the firewall"));
}

TEST_F(CliTest, VerifyCatchesAVmBridgedNextToTheWan) {
  RenderExample();
  Edit("vboxmanage/create.sh", "finish browser",
       "want browser nic2 bridged\nwant browser bridgeadapter2 enp3s0\nfinish browser");

  Result r = VerifyRendered();
  EXPECT_EQ(r.code, 1) << r.out << r.err;
  EXPECT_THAT(r.out, HasSubstr("difference: browser -> host-lan (destination)"));
  EXPECT_THAT(r.out, HasSubstr("adapter 2 is bridged ('enp3s0'): it bypasses the firewall"));
}

TEST_F(CliTest, VerifyCatchesTheInsideOpenedToTheWan) {
  RenderExample();
  Edit("nftables/nftables.conf", "hook forward priority filter; policy drop;\n",
       "hook forward priority filter; policy drop;\n    iifname \"wan0\" accept\n");

  Result r = VerifyRendered("--engine nftables");
  EXPECT_EQ(r.code, 1) << r.out << r.err;
  EXPECT_THAT(r.out, HasSubstr("difference: internet -> browser"));
  EXPECT_THAT(r.out, HasSubstr("iifname \"wan0\" accept"));
}

TEST_F(CliTest, VerifyCatchesAClipboardTurnedOn) {
  RenderExample();
  Edit("vboxmanage/create.sh", "want browser clipboard disabled",
       "want browser clipboard bidirectional");

  Result r = VerifyRendered();
  EXPECT_EQ(r.code, 1) << r.out << r.err;
  EXPECT_THAT(r.out, HasSubstr("difference: VM 'browser' is declared with clipboard 'disabled' "
                               "but has 'bidirectional' in the artifacts"));
}

TEST_F(CliTest, VerifyCatchesAReservationOutsideItsNetwork) {
  RenderExample();
  Edit("nftables/dnsmasq.conf", ",10.137.0.10,browser", ",10.137.3.10,browser");

  Result r = VerifyRendered("--engine nftables");
  EXPECT_EQ(r.code, 1) << r.out << r.err;
  EXPECT_THAT(r.out, HasSubstr("difference: VM 'browser' is declared with address 10.137.0.10 "
                               "but has none in the artifacts"));
}

TEST_F(CliTest, CheckJsonReportsErrorsOnStdout) {
  fs::path bad = dir_ / "bad.toml";
  Spit(bad, "[host]\nphysical_nic = \"eth0\"\n[zones.z]\n[[zones.z.egress]]\nto = \"host\"\n"
            "[[zones.z.egress]]\nto = \"internet\"\nproto = \"udp\"\nports = []\n");
  Result r = Bulkhead("check --json " + bad.string());
  EXPECT_EQ(r.code, 2);
  EXPECT_THAT(r.out, HasSubstr("\"ok\": false"));
  EXPECT_THAT(r.out, HasSubstr("rule targets the host, which accepts no connections"));
  EXPECT_THAT(r.out, HasSubstr("'ports' is empty (leave it out to mean every port)"));
}

TEST_F(CliTest, BadSpecExitsTwoWithEveryError) {
  fs::path bad = dir_ / "bad.toml";
  Spit(bad,
       "[host]\nphysical_nic = \"eth0\"\n[zones.work]\n[vms.a]\nzone = \"wrok\"\n"
       "[vms.b]\nzone = \"work\"\ncpus = \"two\"\n");
  Result r = Bulkhead("check " + bad.string());
  EXPECT_EQ(r.code, 2);
  EXPECT_THAT(r.err, HasSubstr("bad.toml:5:8: error: unknown zone 'wrok' (did you mean 'work'?)"));
  EXPECT_THAT(r.err, HasSubstr("bad.toml:8:"));
  EXPECT_THAT(r.out, Not(HasSubstr("ok")));
}

TEST_F(CliTest, RenderWritesEachTargetWholeAndReplacesStaleFiles) {
  RenderExample();
  fs::path stale = dir_ / "out/nftables/network/99-stale.link";
  Spit(stale, "[Match]\n");
  RenderExample();
  EXPECT_FALSE(fs::exists(stale));
  EXPECT_TRUE(fs::exists(dir_ / "out/pfsense/config.xml"));
  EXPECT_TRUE(fs::exists(dir_ / "out/host/nftables.conf"));
  EXPECT_FALSE(fs::exists(dir_ / "out/.nftables.new"));
}

// The example with `from` replaced by `to` (the first occurrence), written to dir_/name.
std::string CliTestSpec(const fs::path& dir, const std::string& name, const std::string& from,
                        const std::string& to) {
  std::string text = Slurp(std::string(BULKHEAD_SOURCE_DIR) + "/examples/workstation.toml");
  size_t at = text.find(from);
  EXPECT_NE(at, std::string::npos) << from;
  if (at != std::string::npos) text.replace(at, from.size(), to);
  Spit(dir / name, text);
  return (dir / name).string();
}

// wan = "nat": the host's lockdown lets only the firewall VM's user out of the NIC, which is
// never the host, so verify agrees without a warning; a hand edit that lets the host itself out
// is a path past the firewall, caught and named.
TEST_F(CliTest, NatModeVerifiesAndCatchesTheHostGoingOutDirectly) {
  std::string spec = CliTestSpec(dir_, "nat.toml", "wan = \"bridged\"", "wan = \"nat\"");
  Result fresh = Bulkhead("verify " + spec);
  EXPECT_EQ(fresh.code, 0) << fresh.out << fresh.err;
  EXPECT_EQ(fresh.err, "");

  std::string out = (dir_ / "out").string();
  ASSERT_EQ(Bulkhead("render " + spec + " --target all -o " + out).code, 0);
  EXPECT_EQ(Bulkhead("verify " + spec + " --from " + out).code, 0);
  Edit("host/nftables.conf", "    oifname \"lo\" accept\n",
       "    oifname \"lo\" accept\n    oifname \"enp3s0\" accept comment \"straight out\"\n");

  Result r = Bulkhead("verify " + spec + " --from " + out);
  EXPECT_EQ(r.code, 1) << r.out << r.err;
  EXPECT_THAT(r.out, HasSubstr("difference: dom0 (host) -> internet\n"));
  EXPECT_THAT(r.out, HasSubstr("host/nftables.conf:21: straight out"));
}

TEST_F(CliTest, VerifyNamesAnAcceptPolicyAsTheCause) {
  RenderExample();
  Edit("nftables/nftables.conf", "hook forward priority filter; policy drop;",
       "hook forward priority filter; policy accept;");

  Result r = VerifyRendered("--engine nftables");
  EXPECT_EQ(r.code, 1) << r.out << r.err;
  std::string conf = Slurp(dir_ / "out/nftables/nftables.conf");
  size_t line = std::count(conf.begin(), conf.begin() + conf.find("policy accept;"), '\n') + 1;
  EXPECT_THAT(r.out, HasSubstr("passed by " + (dir_ / "out").string() + "/nftables/nftables.conf:" +
                               std::to_string(line) + ": policy accept of chain 'forward'\n"));
  EXPECT_THAT(r.out, Not(HasSubstr("no chain on hook")));
}

// The sandbox's accept moved above its anti-spoofing: forged source addresses get out, and the
// difference says so with the sources.
TEST_F(CliTest, VerifySaysWhenExtraPacketsComeFromForgedSources) {
  RenderExample();
  Edit("nftables/nftables.conf",
       "    ip saddr != 10.137.3.0/24 drop comment \"anti-spoofing: only 10.137.3.0/24 on "
       "'sandbox'\"\n    meta nfproto ipv6 drop comment \"anti-spoofing: no IPv6 on 'sandbox'\"\n"
       "    ip daddr != @internal_v4 accept comment \"workstation.toml:72 zone 'untrusted' rule "
       "1\"\n",
       "    ip daddr != @internal_v4 accept comment \"workstation.toml:72 zone 'untrusted' rule "
       "1\"\n    ip saddr != 10.137.3.0/24 drop comment \"anti-spoofing\"\n");

  Result r = VerifyRendered("--engine nftables");
  EXPECT_EQ(r.code, 1) << r.out << r.err;
  EXPECT_THAT(r.out, HasSubstr("difference: sandbox -> internet\n  passes but not declared, from "
                               "source addresses other than its own (10.137.3.10): any to "));
  EXPECT_THAT(r.out, HasSubstr("    from any IPv4 except 0.0.0.1-0.255.255.255, 10.137.3.0/24, "));

  Result json = VerifyRendered("--engine nftables --json");
  EXPECT_THAT(json.out, HasSubstr("\"extra_from_other_sources\": true"));
}

// Planning runs on what the file declares correctly, so its errors come with the file's own;
// every overlap is reported; an unknown proto does not hide the port errors.
TEST_F(CliTest, CheckReportsSpecAndPlanErrorsTogether) {
  fs::path bad = dir_ / "bad.toml";
  Spit(bad,
       "[host]\nname = \"dom0\"\nphysical_nic = \"eth0\"\nlan_subnet = \"10.1.0.0/16\"\n"
       "[zones.z]\n[[zones.z.egress]]\nto = \"internet\"\nproto = \"tcpp\"\n"
       "ports = [0, 70000, \"90-80\"]\n"
       "[vms.a]\nzone = \"z\"\nsubnet = \"10.1.2.0/24\"\n"
       "[vms.b]\nzone = \"z\"\nsubnet = \"10.1.2.0/25\"\n"
       "[vms.dom0]\nzone = \"offline\"\n");
  Result r = Bulkhead("check " + bad.string());
  EXPECT_EQ(r.code, 2);
  EXPECT_THAT(r.err, HasSubstr("bad.toml:8:9: error: 'proto' must be 'tcp', 'udp', 'icmp' or "
                               "'any', not 'tcpp' (did you mean 'tcp'?)\n"));
  EXPECT_THAT(r.err, HasSubstr("bad.toml:9:10: error: port 0 is out of range (1-65535)\n"));
  EXPECT_THAT(r.err, HasSubstr("bad.toml:9:13: error: port 70000 is out of range (1-65535)\n"));
  EXPECT_THAT(r.err, HasSubstr("bad.toml:9:20: error: port range '90-80' is reversed"));
  EXPECT_THAT(r.err, Not(HasSubstr("needs proto")));
  EXPECT_THAT(r.err, HasSubstr("bad.toml:16:6: error: VM 'dom0' has the name of the host"));
  EXPECT_THAT(r.err, HasSubstr("bad.toml:12:10: error: subnet 10.1.2.0/24 of network 'a' "
                               "overlaps the host LAN (10.1.0.0/16, line 4)\n"));
  EXPECT_THAT(r.err, HasSubstr("bad.toml:15:10: error: subnet 10.1.2.0/25 of network 'b' "
                               "overlaps the host LAN (10.1.0.0/16, line 4)\n"));
  EXPECT_THAT(r.err, HasSubstr("bad.toml:15:10: error: subnet 10.1.2.0/25 of network 'b' "
                               "overlaps network 'a' (10.1.2.0/24, line 12)\n"));
}

TEST_F(CliTest, RenderWarnsWhenPfsenseHasNoAdminPassword) {
  Result r = Bulkhead("render " + Example() + " --target pfsense -o " + (dir_ / "out").string());
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_THAT(r.err, HasSubstr("bulkhead: warning: pfsense/config.xml gives user 'admin' no "
                               "password"));
  std::string hash = "$2y$10$" + std::string(53, 'a');
  std::string spec = CliTestSpec(dir_, "pw.toml", "admin_from = [\"host\"]\n",
                                 "admin_from = [\"host\"]\nadmin_password_hash = \"" + hash +
                                     "\"\n");
  r = Bulkhead("render " + spec + " --target all -o " + (dir_ / "out").string());
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.err, "");
  EXPECT_THAT(Slurp(dir_ / "out/pfsense/config.xml"), HasSubstr("<bcrypt-hash>" + hash));
}

TEST_F(CliTest, UnknownSubcommandIsAUsageError) {
  Result r = Bulkhead("verfy x.toml");
  EXPECT_EQ(r.code, 2);
  EXPECT_THAT(r.err, HasSubstr("unknown command 'verfy' (did you mean 'verify'?)"));
}

}  // namespace
}  // namespace bulkhead
