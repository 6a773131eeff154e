// SPDX-License-Identifier: Apache-2.0
// Tests of reading a spec: every kind of bad input gets its exact diagnostic, position included;
// a file with many errors reports them all at once; the example file reads as intended.

#include "spec/spec.h"

#include <cstdlib>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "util/atomic_file.h"

namespace bulkhead {
namespace {

const Date kToday{2026, 6, 1};
// Every case but those declaring [host] starts with these two lines, so its text begins on line 3.
const std::string kHostLines = "[host]\nphysical_nic = \"eth0\"\n";

std::string Diags(const std::string& toml) {
  Spec spec;
  Diagnostics diags;
  std::string text = toml.starts_with("[host]") ? toml : kHostLines + toml;
  bool ok = ParseSpec("t.toml", text, spec, diags, kToday);
  EXPECT_EQ(ok, !diags.HasErrors());
  return diags.Format();
}

std::string SourceDir() { return BULKHEAD_SOURCE_DIR; }

struct Case {
  const char* name;
  const char* toml;
  const char* expected;  // Diagnostics::Format() without source lines
};

const Case kCases[] = {
    {"malformed", "a = = 1\n",
     "t.toml:3:5: error: malformed toml: value: could not determine value type\n"},
    {"duplicate_vm", "[zones.z]\n[vms.a]\nzone = \"z\"\n[vms.a]\nzone = \"z\"\n",
     "t.toml:6:1: error: malformed toml: table header: cannot redefine existing table 'vms.a'\n"},
    {"unknown_key", "[vms.a]\nzone = \"offline\"\ncpu = 2\n",
     "t.toml:5:1: error: unknown key 'cpu' in [vms.a] (did you mean 'cpus'?)\n"},
    {"unknown_top", "[zone.a]\n",
     "t.toml:3:2: error: unknown key 'zone' at the top level (did you mean 'zones'?)\n"},
    {"wrong_type", "[vms.a]\nzone = \"offline\"\ncpus = \"2\"\n",
     "t.toml:5:8: error: 'cpus' must be an integer\n"},
    {"missing_zone", "[vms.a]\ncpus = 2\n",
     "t.toml:3:1: error: missing required key 'zone' in [vms.a]\n"},
    {"unknown_zone", "[zones.work]\n[vms.a]\nzone = \"wrok\"\n",
     "t.toml:5:8: error: unknown zone 'wrok' (did you mean 'work'?)\n"},
    {"unknown_target", "[zones.z]\n[[zones.z.egress]]\nto = \"gti\"\n[vms.git]\nzone = \"z\"\n",
     "t.toml:5:6: error: unknown target 'gti' (did you mean 'git'?)\n"},
    {"clash", "[destinations]\nweb = [\"1.2.3.4\"]\n[zones.web]\n",
     "t.toml:5:8: error: zone 'web' clashes with destination 'web' declared on line 4\n"},
    {"reserved", "[zones.internet]\n",
     "t.toml:3:8: error: 'internet' is a reserved name and cannot name a zone\n"},
    {"bad_name", "[zones.Web]\n",
     "t.toml:3:8: error: invalid zone name 'Web' (use 1 to 32 lower-case letters, digits and "
     "'-', not starting with '-')\n"},
    {"port_zero", "[[host.egress]]\nto = \"internet\"\nproto = \"tcp\"\nports = [0, 70000]\n",
     "t.toml:6:10: error: port 0 is out of range (1-65535)\nt.toml:6:13: error: port 70000 is "
     "out of range (1-65535)\n"},
    {"port_reversed", "[[host.egress]]\nto = \"internet\"\nproto = \"tcp\"\nports = [\"443-80\"]\n",
     "t.toml:6:10: error: port range '443-80' is reversed (did you mean '80-443'?)\n"},
    {"port_bad", "[[host.egress]]\nto = \"internet\"\nproto = \"tcp\"\nports = [\"http\"]\n",
     "t.toml:6:10: error: bad port 'http' (expected a number or 'first-last')\n"},
    {"ports_any", "[[host.egress]]\nto = \"internet\"\nports = [80]\n",
     "t.toml:5:1: error: 'ports' needs proto 'tcp' or 'udp' (this rule has proto 'any')\n"},
    {"icmp_tcp", "[[host.egress]]\nto = \"internet\"\nproto = \"tcp\"\nicmp_type = 8\n",
     "t.toml:6:1: error: 'icmp_type' needs proto 'icmp' (this rule has proto 'tcp')\n"},
    {"icmp_name",
     "[[host.egress]]\nto = \"internet\"\nproto = \"icmp\"\nicmp_type = \"echo-reqest\"\n",
     "t.toml:6:13: error: unknown icmp type 'echo-reqest' (did you mean 'echo-request'?)\n"},
    {"bad_cidr", "[destinations]\nd = [\"10.0.0.0/33\", \"10.0.0.300\", \"10.0.0.1/24\"]\n",
     "t.toml:4:6: error: '10.0.0.0/33' is not a valid prefix\nt.toml:4:21: error: '10.0.0.300' "
     "is not a valid address or host name\nt.toml:4:35: error: '10.0.0.1/24' has host bits set "
     "(did you mean '10.0.0.0/24'?)\n"},
    {"offline_target",
     "[zones.z]\n[[zones.z.egress]]\nto = \"vault\"\n[vms.vault]\nzone = \"offline\"\n",
     "t.toml:5:6: error: rule targets VM 'vault', which is offline\n"},
    {"empty_zone", "[zones.z]\n[[zones.z.egress]]\nto = \"y\"\n[zones.y]\n",
     "t.toml:5:6: warning: rule targets zone 'y', which has no VMs\n"},
    {"admin_from", "[firewall]\nadmin_from = [\"host\", \"wrok\"]\n[zones.work]\n",
     "t.toml:4:23: error: unknown name 'wrok' in 'admin_from' (did you mean 'work'?)\n"},
    {"medium_template", "[vms.a]\nzone = \"offline\"\nmedium = \"/x.iso\"\ntemplate = \"t\"\n",
     "t.toml:6:1: error: 'medium' and 'template' exclude each other (a VM is installed from a "
     "medium or cloned from a template)\n"},
    {"zone_subnet_per_vm", "[zones.z]\nsubnet = \"10.137.9.0/24\"\n",
     "t.toml:4:10: error: zone 'z' has a network per VM, so it has no subnet to pin (set "
     "network = \"shared\", or pin 'subnet' on each VM)\n"},
    {"vm_subnet_shared",
     "[zones.z]\nnetwork = \"shared\"\n[vms.a]\nzone = \"z\"\nsubnet = \"10.137.9.0/24\"\n",
     "t.toml:7:10: error: VM 'a' is on the shared network of zone 'z' (pin the zone's 'subnet' "
     "instead)\n"},
    {"expired", "[[host.egress]]\nto = \"internet\"\nexpires = 2026-01-01\n",
     "t.toml:5:11: warning: rule expired on 2026-01-01; it is left out of the rendered rulesets\n"},
    {"enum", "[firewall]\nengine = \"pfsens\"\n",
     "t.toml:4:10: error: 'engine' must be 'pfsense' or 'nftables', not 'pfsens' (did you mean "
     "'pfsense'?)\n"},
    {"missing_to", "[[host.egress]]\nproto = \"tcp\"\n",
     "t.toml:3:1: error: missing required key 'to' in [[host.egress]]\n"},
    {"offline_address", "[vms.a]\nzone = \"offline\"\naddress = \"10.137.0.5\"\n",
     "t.toml:5:11: error: VM 'a' is offline, so it takes no 'address'\n"},
    {"literal_target", "[[host.egress]]\nto = \"10.0.0.1/8\"\n",
     "t.toml:4:6: error: '10.0.0.1/8' has host bits set (did you mean '10.0.0.0/8'?)\n"},
    {"host_bits_pin", "[zones.z]\nnetwork = \"shared\"\nsubnet = \"10.137.9.1/24\"\n",
     "t.toml:5:10: error: '10.137.9.1/24' has host bits set (did you mean '10.137.9.0/24'?)\n"},
    {"missing_nic", "[host]\nname = \"dom0\"\n",
     "t.toml:1:1: error: missing required key 'physical_nic' in [host]\n"},
    {"bool_type", "[zones.z]\ndns = \"yes\"\n", "t.toml:4:7: error: 'dns' must be true or false\n"},
    {"expires_string", "[[host.egress]]\nto = \"internet\"\nexpires = \"2027-01-01\"\n",
     "t.toml:5:11: error: 'expires' must be a date, written without quotes (expires = "
     "2027-01-31)\n"},
    {"firewall_name", "[firewall]\nname = \"fw\"\n[vms.fw]\nzone = \"offline\"\n",
     "t.toml:5:6: error: VM 'fw' has the name of the firewall VM\n"},
    {"vm_zone_clash", "[zones.a]\n[vms.a]\nzone = \"offline\"\n",
     "t.toml:4:6: error: VM 'a' clashes with zone 'a' declared on line 3\n"},
    {"icmp_range", "[[host.egress]]\nto = \"internet\"\nproto = \"icmp\"\nicmp_type = 256\n",
     "t.toml:6:13: error: icmp type 256 is out of range (0-255)\n"},
    {"pool_v6", "[plan]\npool = \"2001:db8::/48\"\n",
     "t.toml:4:8: error: 'pool' must be an IPv4 prefix of /28 or larger\n"},
    {"prefix_length", "[plan]\nprefix_length = 30\n",
     "t.toml:4:17: error: 'prefix_length' must be between 16 and 28\n"},
    {"folder_path",
     "[vms.a]\nzone = \"offline\"\nshared_folders = [{name = \"x\", path = \"rel\"}]\n",
     "t.toml:5:39: error: 'rel' is not an absolute path\n"},
    {"rule_key", "[[host.egress]]\nto = \"internet\"\nport = [80]\n",
     "t.toml:5:1: error: unknown key 'port' in [[host.egress]] (did you mean 'ports'?)\n"},
    {"egress_type", "[zones.z]\negress = \"x\"\n",
     "t.toml:4:10: error: 'egress' must be an array of tables ([[zones.z.egress]])\n"},
    {"subnet_no_length", "[zones.z]\nnetwork = \"shared\"\nsubnet = \"10.137.9.0\"\n",
     "t.toml:5:10: error: '10.137.9.0' is not a valid prefix (expected a form like "
     "'10.137.9.0/24')\n"},
    {"subnet_small", "[zones.z]\nnetwork = \"shared\"\nsubnet = \"10.137.9.0/29\"\n",
     "t.toml:5:10: error: subnet '10.137.9.0/29' is too small (at most /28)\n"},
    {"address_v6", "[vms.a]\nzone = \"z\"\naddress = \"2001:db8::1\"\n[zones.z]\n",
     "t.toml:5:11: error: '2001:db8::1' is not an IPv4 address (internal networks are IPv4)\n"},
    {"sharing", "[vms.a]\nzone = \"offline\"\nclipboard = \"on\"\n",
     "t.toml:5:13: error: 'clipboard' must be 'off', 'host-to-guest', 'guest-to-host' or "
     "'bidirectional', not 'on'\n"},
    {"address_bad", "[vms.a]\nzone = \"z\"\naddress = \"10.1.2\"\n[zones.z]\n",
     "t.toml:5:11: error: '10.1.2' is not a valid address\n"},

    {"host_name_clash", "[vms.dom0]\nzone = \"offline\"\n",
     "t.toml:3:6: error: VM 'dom0' has the name of the host ([host] name)\n"},
    {"ipv6_only_destination",
     "[destinations]\nv6 = [\"2001:db8::/32\"]\n[[host.egress]]\nto = \"v6\"\n",
     "t.toml:6:6: warning: destination 'v6' has only IPv6 entries, and the set-up routes no "
     "IPv6; the rule never matches\n"},
    {"disk_with_template", "[vms.a]\nzone = \"offline\"\ntemplate = \"t\"\ndisk = 10\n",
     "t.toml:6:1: warning: 'disk' is ignored: VM 'a' is cloned from template 't' and keeps its "
     "disk\n"},
    {"unknown_proto_keeps_port_errors",
     "[[host.egress]]\nto = \"internet\"\nproto = \"tcpp\"\nports = [0, \"90-80\"]\n",
     "t.toml:5:9: error: 'proto' must be 'tcp', 'udp', 'icmp' or 'any', not 'tcpp' (did you "
     "mean 'tcp'?)\nt.toml:6:10: error: port 0 is out of range (1-65535)\n"
     "t.toml:6:13: error: port range '90-80' is reversed (did you mean '80-90'?)\n"},
    {"nat_user", "[firewall]\nnat_user = \"Fw\"\n",
     "t.toml:4:12: error: invalid user name 'Fw' (use up to 32 lower-case letters, digits, '_' "
     "and '-', starting with a letter or '_')\n"},
    {"nat_user_root", "[firewall]\nnat_user = \"root\"\n",
     "t.toml:4:12: error: 'nat_user' must be a user of its own, not 'root' (the host's own "
     "traffic is every other user's)\n"},
    {"password_hash", "[firewall]\nadmin_password_hash = \"secret\"\n",
     "t.toml:4:23: error: 'admin_password_hash' is not a bcrypt hash (expected '$2y$10$' and 53 "
     "more characters, as 'htpasswd -bnBC 10 \"\" PASSWORD | tr -d :' prints)\n"},
    {"empty_to", "[[host.egress]]\nto = \"\"\n", "t.toml:4:6: error: 'to' must not be empty\n"},
    {"port_float", "[[host.egress]]\nto = \"internet\"\nproto = \"tcp\"\nports = [80.5]\n",
     "t.toml:6:10: error: a port must be an integer or a 'first-last' string\n"},
    {"empty_lists_are_fine", "[zones.z]\negress = []\n[vms.a]\nzone = \"z\"\nshared_folders = []\n",
     ""},
    {"admin_from_offline",
     "[firewall]\nadmin_from = [\"vault\"]\n[vms.vault]\nzone = \"offline\"\n",
     "t.toml:4:15: error: VM 'vault' in 'admin_from' is offline\n"},
};

TEST(ParseSpec, EachBadInputGetsItsDiagnostic) {
  for (const Case& c : kCases) {
    EXPECT_EQ(Diags(c.toml), c.expected) << "case " << c.name;
  }
}

TEST(ParseSpec, ReportsEveryErrorAtOnce) {
  Spec spec;
  Diagnostics diags;
  std::string text;
  ASSERT_TRUE(ReadWholeFile(SourceDir() + "/tests/testdata/spec/many_errors.toml", text));
  EXPECT_FALSE(ParseSpec("many_errors.toml", text, spec, diags, kToday));
  // BULKHEAD_UPDATE_GOLDEN=1 rewrites the expected text; review the diff before committing.
  std::string golden = SourceDir() + "/tests/testdata/spec/many_errors.txt";
  if (std::getenv("BULKHEAD_UPDATE_GOLDEN")) {
    ASSERT_EQ(WriteFileAtomically(golden, diags.Format(text)), "");
  }
  std::string expected;
  ASSERT_TRUE(ReadWholeFile(golden, expected));
  EXPECT_EQ(diags.Format(text), expected);
}

TEST(ParseSpec, FormatShowsTheLineAndACaret) {
  Spec spec;
  Diagnostics diags;
  std::string text = kHostLines + "[zones.work]\n[vms.a]\nzone = \"wrok\"\n";
  EXPECT_FALSE(ParseSpec("w.toml", text, spec, diags, kToday));
  EXPECT_EQ(diags.Format(text),
            "w.toml:5:8: error: unknown zone 'wrok' (did you mean 'work'?)\n"
            "zone = \"wrok\"\n"
            "       ^\n");
}

// A binary file's bytes are shown escaped, the caret still under the column.
TEST(ParseSpec, FormatEscapesWhatATerminalCannotShow) {
  Diagnostics diags;
  diags.Error("b.toml", {1, 3}, "m");
  EXPECT_EQ(diags.Format("a\x01" "b\xff\tc\n"), "b.toml:1:3: error: m\na\\x01b\\xff\tc\n     ^\n");
}

TEST(ParseSpec, SpecErrorsLeaveSomethingToPlan) {
  Spec spec;
  Diagnostics diags;
  EXPECT_FALSE(ParseSpec("t.toml", kHostLines + "[vms.a]\nzone = \"z\"\ncpus = 0\n[zones.z]\n",
                         spec, diags, kToday));
  EXPECT_TRUE(spec.plannable);
  EXPECT_FALSE(ParseSpec("t.toml", "[host]\nphysical_nic = 3\n", spec, diags, kToday));
  EXPECT_FALSE(spec.plannable);
}

TEST(ParseSpec, MissingHostTable) {
  Spec spec;
  Diagnostics diags;
  EXPECT_FALSE(ParseSpec("t.toml", "[zones.a]\n", spec, diags, kToday));
  EXPECT_EQ(diags.Format(), "t.toml: error: missing required table [host]\n");
}

TEST(ParseSpec, Example) {
  Spec spec;
  Diagnostics diags;
  ASSERT_TRUE(ReadSpec(SourceDir() + "/examples/workstation.toml", spec, diags)) << diags.Format();
  EXPECT_EQ(diags.list().size(), 0u);
  EXPECT_EQ(spec.host.physical_nic, "enp3s0");
  EXPECT_EQ(spec.host.lan_subnet->ToString(), "192.168.1.0/24");
  EXPECT_EQ(spec.firewall.name, "sys-firewall");
  EXPECT_EQ(spec.firewall.wan_nic, "enp3s0");
  EXPECT_EQ(spec.firewall.admin_from, std::vector<std::string>{"host"});
  ASSERT_EQ(spec.destinations.size(), 2u);
  EXPECT_EQ(spec.destinations[1].entries[0].host_name, "www.mybank.example");
  EXPECT_EQ(spec.destinations[1].entries[1].prefix->ToString(), "203.0.113.80/29");

  std::vector<std::string> zones, vms;
  for (const Zone& z : spec.zones) zones.push_back(z.name);
  for (const Vm& v : spec.vms) vms.push_back(v.name + ":" + v.zone);
  EXPECT_EQ(zones, (std::vector<std::string>{"web", "work", "services", "banking", "untrusted"}));
  EXPECT_EQ(vms, (std::vector<std::string>{"browser:web", "work:work", "git:services",
                                           "bank:banking", "sandbox:untrusted", "vault:offline"}));
  EXPECT_FALSE(spec.FindZone("untrusted")->dns);
  EXPECT_EQ(spec.FindVm("work")->clipboard, Sharing::kHostToGuest);
  EXPECT_EQ(spec.FindVm("git")->address->ToString(), "10.137.4.10");
}

TEST(ParseSpec, NeighbouringPortsAreOneRange) {
  Spec spec;
  Diagnostics diags;
  ASSERT_TRUE(ParseSpec("p.toml", kHostLines + R"([zones.z]
[[zones.z.egress]]
to = "internet"
proto = "udp"
ports = [443, 1, 2, 3, "4-9", "8-12", 20, 19]
[vms.v]
zone = "z"
)",
                        spec, diags, kToday))
      << diags.Format();
  EXPECT_EQ(spec.zones.at(0).egress.at(0).ports,
            (std::vector<PortRange>{{443, 443}, {1, 12}, {19, 20}}));
}

TEST(ParseSpec, ExampleRulesAreResolvedWithProvenance) {
  Spec spec;
  Diagnostics diags;
  ASSERT_TRUE(ReadSpec(SourceDir() + "/examples/workstation.toml", spec, diags));
  const EgressRule& apt = spec.host.egress.at(0);
  EXPECT_EQ(apt.to.kind, Target::Kind::kDestination);
  EXPECT_EQ(apt.owner, "host");
  EXPECT_EQ(apt.index, 1);
  EXPECT_EQ(apt.loc.line, 12);
  EXPECT_EQ(apt.comment, "apt");
  EXPECT_EQ(apt.ports, (std::vector<PortRange>{{80, 80}, {443, 443}}));

  const EgressRule& git = spec.FindZone("work")->egress.at(0);
  EXPECT_EQ(git.to.kind, Target::Kind::kVm);
  EXPECT_EQ(git.to.name, "git");
  EXPECT_EQ(git.owner, "zone 'work'");
  const EgressRule& any = spec.FindZone("untrusted")->egress.at(0);
  EXPECT_EQ(any.to.kind, Target::Kind::kInternet);
  EXPECT_EQ(any.protocol, Protocol::kAny);
  EXPECT_EQ(spec.FindZone("web")->egress.at(1).index, 2);
}

TEST(ParseSpec, RuleDetails) {
  Spec spec;
  Diagnostics diags;
  std::string text =
      kHostLines +
      "[[host.egress]]\n"
      "to = \"internet\"\nproto = \"icmp\"\nicmp_type = \"echo-request\"\n"
      "[[host.egress]]\n"
      "to = \"Mirror.Example.ORG\"\nproto = \"udp\"\nports = [\"8000-8080\", \"53\"]\n"
      "action = \"deny\"\nexpires = 2026-06-01\n"
      "[[host.egress]]\n"
      "to = \"2001:db8::/32\"\n";
  ASSERT_TRUE(ParseSpec("t.toml", text, spec, diags, kToday)) << diags.Format();
  const std::vector<EgressRule>& rules = spec.host.egress;
  EXPECT_EQ(rules[0].to.kind, Target::Kind::kInternet);
  EXPECT_EQ(rules[0].icmp_type, 8);
  EXPECT_EQ(rules[1].to.kind, Target::Kind::kLiteral);
  EXPECT_EQ(rules[1].to.literal.host_name, "mirror.example.org");
  EXPECT_EQ(rules[1].ports, (std::vector<PortRange>{{8000, 8080}, {53, 53}}));
  EXPECT_EQ(rules[1].action, RuleAction::kDeny);
  EXPECT_TRUE(RuleInForce(rules[1], kToday));  // in force through its last day
  EXPECT_FALSE(RuleInForce(rules[1], Date{2026, 6, 2}));
  EXPECT_EQ(rules[2].to.literal.prefix->ToString(), "2001:db8::/32");
  EXPECT_EQ(rules[2].to.literal.loc, (SourceLoc{14, 6}));
}

TEST(ParseSpec, TheHostAndTheFirewallAreNoEgressTargets) {
  Spec spec;
  Diagnostics diags;
  std::string text = kHostLines + "[[host.egress]]\nto = \"firewall\"\n[zones.z]\n"
                                  "[[zones.z.egress]]\nto = \"host\"\n[vms.v]\nzone = \"z\"\n";
  EXPECT_FALSE(ParseSpec("t.toml", text, spec, diags, kToday));
  EXPECT_THAT(diags.Format(), ::testing::HasSubstr(
                                  "error: rule targets the firewall VM, whose services are opened "
                                  "by 'dns' and firewall.admin_from, not by egress rules"));
  EXPECT_THAT(diags.Format(), ::testing::HasSubstr(
                                  "error: rule targets the host, which accepts no connections"));
}

TEST(ParseSpec, WarnsOfRulesThatCanNeverMatter) {
  std::string text =
      "[zones.z]\n"
      "[[zones.z.egress]]\nto = \"internet\"\nproto = \"icmp\"\nicmp_type = \"echo-reply\"\n"
      "[[zones.z.egress]]\nto = \"2001:db8::/32\"\n"
      "[vms.v]\nzone = \"z\"\n";
  EXPECT_EQ(Diags(text),
            "t.toml:7:13: warning: icmp type 0 opens no connection (firewalls pass it only as part "
            "of one); the rule changes nothing\n"
            "t.toml:9:6: warning: '2001:db8::/32' is IPv6, which the planned networks do not "
            "carry; the rule never matches\n");
}

TEST(ParseSpec, VmMayShareItsOwnZonesName) {
  EXPECT_EQ(Diags("[zones.work]\n[vms.work]\nzone = \"work\"\n"), "");
}

TEST(ReadSpec, MissingFile) {
  Spec spec;
  Diagnostics diags;
  EXPECT_FALSE(ReadSpec("/nonexistent/x.toml", spec, diags));
  EXPECT_EQ(diags.Format(), "/nonexistent/x.toml: error: cannot read '/nonexistent/x.toml'\n");
}

TEST(ReadSpec, EveryKeyIsRead) {
  Spec spec;
  Diagnostics diags;
  ASSERT_TRUE(ReadSpec(SourceDir() + "/tests/testdata/spec/full.toml", spec, diags, kToday))
      << diags.Format(spec.text);
  // Every key is read, even one that has no effect.
  ASSERT_EQ(diags.list().size(), 1u);
  EXPECT_EQ(diags.list()[0].message,
            "'disk' is ignored: VM 'admin' is cloned from template 'debian-base' and keeps its "
            "disk");
  const Host& host = spec.host;
  EXPECT_EQ(host.name, "ws1");
  EXPECT_EQ(host.hostonly_network, "vboxnet3");
  EXPECT_EQ(host.hostonly_subnet->ToString(), "192.168.60.0/24");
  EXPECT_EQ(host.address->ToString(), "192.168.60.5");
  EXPECT_EQ(host.egress.at(0).to.literal.host_name, "security.debian.org");

  const FirewallVm& fw = spec.firewall;
  EXPECT_EQ(fw.name, "gw");
  EXPECT_EQ(fw.engine, FirewallEngine::kNftables);
  EXPECT_EQ(fw.wan, WanMode::kNat);
  EXPECT_EQ(fw.wan_nic, "wlp2s0");
  EXPECT_FALSE(fw.dns_resolver);
  EXPECT_EQ(fw.admin_from, (std::vector<std::string>{"host", "admin"}));
  EXPECT_EQ(fw.chipset, Chipset::kIch9);
  EXPECT_EQ(fw.chipset_loc, (SourceLoc{24, 1}));
  EXPECT_EQ(fw.cpus, 2);
  EXPECT_EQ(fw.memory_mib, 512);
  EXPECT_EQ(fw.disk_mib, 4096);
  EXPECT_EQ(fw.medium, "/srv/iso/debian-12.iso");
  EXPECT_EQ(spec.plan.pool.ToString(), "10.200.0.0/20");
  EXPECT_EQ(spec.plan.prefix_length, 26);
  EXPECT_EQ(spec.destinations.at(0).entries.at(1).prefix->ToString(), "2620:fe::fe/128");

  const Zone& zone = spec.zones.at(0);
  EXPECT_EQ(zone.network, NetworkMode::kShared);
  EXPECT_FALSE(zone.dns);
  EXPECT_EQ(zone.subnet->ToString(), "10.200.15.0/26");
  const EgressRule& deny = zone.egress.at(0);
  EXPECT_EQ(deny.action, RuleAction::kDeny);
  EXPECT_EQ(deny.ports, (std::vector<PortRange>{{53, 53}, {5353, 5354}}));
  EXPECT_EQ(deny.expires->ToString(), "2030-12-31");
  EXPECT_EQ(zone.egress.at(1).icmp_type, 8);

  const Vm& vm = spec.vms.at(0);
  EXPECT_EQ(vm.cpus, 4);
  EXPECT_EQ(vm.memory_mib, 3072);
  EXPECT_EQ(vm.disk_mib, 30720);
  EXPECT_EQ(vm.template_vm, "debian-base");
  EXPECT_EQ(vm.clipboard, Sharing::kBidirectional);
  EXPECT_EQ(vm.drag_and_drop, Sharing::kGuestToHost);
  ASSERT_EQ(vm.shared_folders.size(), 2u);
  EXPECT_EQ(vm.shared_folders[0].host_path, "/home/u/inbox");
  EXPECT_FALSE(vm.shared_folders[0].read_only);
  EXPECT_TRUE(vm.shared_folders[1].read_only);
  EXPECT_EQ(vm.address->ToString(), "10.200.15.20");
}

TEST(DidYouMean, ClosestWithinAThirdOfTheLength) {
  std::vector<std::string> words = {"work", "web", "banking", "services"};
  EXPECT_EQ(DidYouMean("wrok", words), "work");  // a swap counts as one edit
  EXPECT_EQ(DidYouMean("wbe", words), "web");
  EXPECT_EQ(DidYouMean("bankign", words), "banking");
  EXPECT_EQ(DidYouMean("servces", words), "services");
  EXPECT_EQ(DidYouMean("xyz", words), "");
  EXPECT_EQ(DidYouMean("work", words), "");  // an exact match is no typo
  EXPECT_EQ(DidYouMeanSuffix("wek", words), " (did you mean 'web'?)");
}

TEST(Diagnostics, FormatSortsByPositionAndKeepsTabs) {
  Diagnostics diags;
  diags.Error("f", {3, 3}, "second");
  diags.Warning("f", {1, 2}, "first");
  diags.ErrorAt("c.xml", "filter/rule[2]", "bad rule");
  EXPECT_TRUE(diags.HasErrors());
  EXPECT_EQ(diags.Format("\tab\nx\n\tcd\n"),
            "c.xml: filter/rule[2]: error: bad rule\n"
            "f:1:2: warning: first\n\tab\n\t^\n"
            "f:3:3: error: second\n\tcd\n\t ^\n");
}

TEST(Spec, Names) {
  EXPECT_EQ((Date{2027, 1, 31}).ToString(), "2027-01-31");
  EXPECT_STREQ(ProtocolName(Protocol::kUdp), "udp");
  EXPECT_STREQ(SharingName(Sharing::kHostToGuest), "hosttoguest");
  EXPECT_EQ(MaxAdapters(Chipset::kPiix3), 8);
  EXPECT_EQ(MaxAdapters(Chipset::kIch9), 36);
}

}  // namespace
}  // namespace bulkhead
