// SPDX-License-Identifier: Apache-2.0
// Tests of the pfSense reader: small hand-written configs, one per construct, judged by
// evaluating packets against the chains it builds; and every config of the shared corpus read
// without anything but "not modelled" errors.
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <iostream>
#include <string>

#include "import/artifacts.h"

namespace bulkhead {
namespace {

const char* kInterfaces = R"(
  <interfaces>
    <wan><enable/><if>vtnet0</if><ipaddr>dhcp</ipaddr></wan>
    <lan><enable/><if>vtnet1</if><ipaddr>192.168.56.2</ipaddr><subnet>24</subnet></lan>
    <opt1><enable/><if>vtnet2</if><ipaddr>10.137.1.1</ipaddr><subnet>24</subnet></opt1>
    <opt2><enable/><if>em3</if><ipaddr>10.137.2.1</ipaddr><subnet>24</subnet></opt2>
    <opt3><if>vtnet4</if><ipaddr>10.137.3.1</ipaddr><subnet>24</subnet></opt3>
  </interfaces>
)";

std::string Config(const std::string& body,
                   const std::string& system = "<webgui><noantilockout/></webgui>") {
  return "<?xml version=\"1.0\"?>\n<pfsense><version>23.3</version><system>" + system +
         "</system>" + kInterfaces + body + "</pfsense>\n";
}

std::string WriteTemp(const std::string& text) {
  static int counter = 0;
  std::string path = testing::TempDir() + "pfsense_reader_" + std::to_string(++counter) + ".xml";
  std::ofstream(path) << text;
  return path;
}

struct Read {
  bool ok = false;
  FirewallView fw;
  Diagnostics diags;
};

Read ReadConfig(const std::string& text) {
  Read r;
  r.ok = ReadPfsenseFirewall(WriteTemp(text), r.fw, r.diags);
  return r;
}

struct Verdict {
  Action action;
  std::string why;  // the deciding rule's text, or "default"
};

// The decision for one tcp/udp/icmp packet of a new connection entering on `iif`.
Verdict Judge(const Chain& chain, const std::string& iif, const std::string& src,
              const std::string& dst, ServiceSet svc, StateMatch state = StateMatch::kNew) {
  PacketSet p = PacketSet::Of(AddrsOf(*IpAddress::Parse(src)), AddrsOf(*IpAddress::Parse(dst)),
                              std::move(svc));
  for (const Decision& d : Evaluate(chain, iif, "", state, p)) {
    if (d.packets.empty()) continue;
    if (d.rule < 0) return {d.action, "default"};
    return {d.action, chain.rules[d.rule].origin.text};
  }
  return {Action::kAccept, "nothing"};
}

ServiceSet Tcp(uint16_t port) { return Ports(kProtoTcp, port, port); }

std::string Rule(const std::string& inner) { return "<rule>" + inner + "</rule>"; }

TEST(PfsenseReader, ReadsEnabledInterfacesWithSlotsAndAddresses) {
  Read r = ReadConfig(Config(""));
  ASSERT_TRUE(r.ok) << r.diags.Format();
  ASSERT_EQ(r.fw.interfaces.size(), 4u);  // opt3 is not enabled
  EXPECT_EQ(r.fw.wan, "wan");
  EXPECT_EQ(r.fw.interfaces[0].name, "wan");
  EXPECT_EQ(r.fw.interfaces[0].slot, 1);
  EXPECT_TRUE(r.fw.interfaces[0].addresses.empty());
  EXPECT_EQ(r.fw.interfaces[2].name, "opt1");
  EXPECT_EQ(r.fw.interfaces[2].slot, 3);
  ASSERT_EQ(r.fw.interfaces[2].addresses.size(), 1u);
  EXPECT_EQ(r.fw.interfaces[2].addresses[0].ToString(), "10.137.1.1/24");
  EXPECT_EQ(r.fw.interfaces[3].slot, 4);  // em3
  EXPECT_EQ(r.fw.policy.engine, "pfsense");
}

TEST(PfsenseReader, ReadsStaticMapsAsReservations) {
  Read r = ReadConfig(Config(R"(<dhcpd><opt1><enable/>
      <staticmap><mac>08:00:27:a1:b2:c3</mac><ipaddr>10.137.1.10</ipaddr></staticmap>
    </opt1></dhcpd>)"));
  ASSERT_TRUE(r.ok) << r.diags.Format();
  ASSERT_EQ(r.fw.reservations.size(), 1u);
  EXPECT_EQ(r.fw.reservations[0].mac, "080027A1B2C3");
  EXPECT_EQ(r.fw.reservations[0].address.ToString(), "10.137.1.10");
  // An enabled DHCP server opens udp 67 on its interface.
  Verdict v =
      Judge(r.fw.policy.input, "opt1", "0.0.0.0", "255.255.255.255", Ports(kProtoUdp, 67, 67));
  EXPECT_EQ(v.action, Action::kAccept);
  EXPECT_EQ(v.why, "pfSense DHCP server");
}

TEST(PfsenseReader, InterfaceRulesAreFirstMatchThenDefaultDeny) {
  Read r = ReadConfig(
      Config("<filter>" +
             Rule("<type>block</type><interface>opt1</interface><protocol>tcp</protocol>"
                  "<source><network>opt1</network></source>"
                  "<destination><any/><port>22</port></destination><descr>no ssh</descr>") +
             Rule("<type>pass</type><interface>opt1</interface><ipprotocol>inet</ipprotocol>"
                  "<protocol>tcp</protocol><source><network>opt1</network></source>"
                  "<destination><any/></destination><descr>all tcp</descr>") +
             "</filter>"));
  ASSERT_TRUE(r.ok) << r.diags.Format();
  const Chain& fwd = r.fw.policy.forward;
  struct Case {
    std::string iif, src, dst;
    uint16_t port;
    Action action;
    std::string why;
  } cases[] = {
      {"opt1", "10.137.1.10", "198.51.100.1", 22, Action::kDrop, "no ssh"},
      {"opt1", "10.137.1.10", "198.51.100.1", 443, Action::kAccept, "all tcp"},
      {"opt1", "10.9.9.9", "198.51.100.1", 443, Action::kDrop, "default"},  // not opt1's net
      {"opt2", "10.137.2.10", "198.51.100.1", 443, Action::kDrop, "default"},
  };
  for (const Case& c : cases) {
    Verdict v = Judge(fwd, c.iif, c.src, c.dst, Tcp(c.port));
    EXPECT_EQ(v.action, c.action) << c.iif << " " << c.src << " port " << c.port;
    EXPECT_EQ(v.why, c.why) << c.iif << " " << c.src << " port " << c.port;
  }
  // Rules go to the input chain too, and replies pass by state.
  EXPECT_EQ(Judge(r.fw.policy.input, "opt1", "10.137.1.10", "10.137.1.1", Tcp(80)).why, "all tcp");
  Verdict reply =
      Judge(fwd, "wan", "198.51.100.1", "10.137.1.10", Tcp(40000), StateMatch::kEstablished);
  EXPECT_EQ(reply.action, Action::kAccept);
  EXPECT_EQ(reply.why, "pfSense keeps state");
  EXPECT_EQ(r.fw.policy.output.default_action, Action::kAccept);
}

TEST(PfsenseReader, FloatingQuickRulesComeFirstAndNonQuickOnesLast) {
  Read r = ReadConfig(Config(
      "<filter>" +
      Rule("<type>pass</type><interface>opt1</interface><protocol>tcp</protocol>"
           "<source><any/></source><destination><any/></destination><descr>opt1 tcp</descr>") +
      Rule("<type>block</type><floating>yes</floating><quick>yes</quick>"
           "<interface>opt1,opt2</interface><direction>in</direction><protocol>tcp</protocol>"
           "<source><any/></source><destination><any/><port>25</port></destination>"
           "<descr>no smtp</descr>") +
      Rule("<type>pass</type><floating>yes</floating><interface>any</interface>"
           "<direction>in</direction><protocol>udp</protocol>"
           "<source><any/></source><destination><any/></destination><descr>first udp</descr>") +
      Rule("<type>pass</type><floating>yes</floating><direction>in</direction>"
           "<protocol>udp</protocol><source><any/></source>"
           "<destination><any/></destination><descr>last udp</descr>") +
      "</filter>"));
  ASSERT_TRUE(r.ok) << r.diags.Format();
  const Chain& fwd = r.fw.policy.forward;
  EXPECT_EQ(Judge(fwd, "opt1", "10.137.1.10", "198.51.100.1", Tcp(25)).why, "no smtp");
  EXPECT_EQ(Judge(fwd, "opt1", "10.137.1.10", "198.51.100.1", Tcp(80)).why, "opt1 tcp");
  // Among non-quick rules the last match wins.
  Verdict udp = Judge(fwd, "opt2", "10.137.2.10", "198.51.100.1", Ports(kProtoUdp, 53, 53));
  EXPECT_EQ(udp.action, Action::kAccept);
  EXPECT_EQ(udp.why, "last udp");
}

TEST(PfsenseReader, ExpandsNestedAliasesNegationAndHostNames) {
  Read r = ReadConfig(Config(
      R"(<aliases>
      <alias><name>internal</name><type>network</type>
        <address>10.137.0.0/16 Host_only</address></alias>
      <alias><name>Host_only</name><type>network</type><address>192.168.56.0/24</address></alias>
      <alias><name>bank</name><type>host</type>
        <address>www.bank.example 203.0.113.80/29 203.0.113.99-203.0.113.100</address></alias>
    </aliases><filter>)" +
      Rule(
          "<type>pass</type><interface>opt1</interface><protocol>tcp</protocol>"
          "<source><network>opt1</network></source>"
          "<destination><address>bank</address><port>443</port></destination><descr>bank</descr>") +
      Rule("<type>pass</type><interface>opt1</interface>"
           "<source><network>opt1</network></source>"
           "<destination><address>internal</address><not/></destination><descr>internet</descr>") +
      "</filter>"));
  ASSERT_TRUE(r.ok) << r.diags.Format();
  const Chain& fwd = r.fw.policy.forward;
  EXPECT_EQ(Judge(fwd, "opt1", "10.137.1.10", "203.0.113.100", Tcp(443)).why, "bank");
  EXPECT_EQ(Judge(fwd, "opt1", "10.137.1.10", "10.137.2.10", Tcp(80)).why, "default");
  EXPECT_EQ(Judge(fwd, "opt1", "10.137.1.10", "192.168.56.1", Tcp(80)).why, "default");
  EXPECT_EQ(Judge(fwd, "opt1", "10.137.1.10", "8.8.8.8", Tcp(80)).why, "internet");

  // The host name is a destination of its own.
  uint32_t id = r.fw.policy.names.Intern("www.bank.example");
  PacketSet to_bank =
      PacketSet::Of(AddrsOf(*IpAddress::Parse("10.137.1.10")), NameAddr(id, Family::kV4), Tcp(443));
  std::vector<Decision> d = Evaluate(fwd, "opt1", "", StateMatch::kNew, to_bank);
  ASSERT_FALSE(d.empty());
  EXPECT_EQ(fwd.rules[d.front().rule].origin.text, "bank");
}

TEST(PfsenseReader, AnAliasReachedTwiceIsNoCycle) {
  Read r = ReadConfig(Config(
      R"(<aliases>
      <alias><name>both</name><type>network</type><address>left right</address></alias>
      <alias><name>left</name><type>network</type><address>shared</address></alias>
      <alias><name>right</name><type>network</type><address>shared 198.51.100.7</address></alias>
      <alias><name>shared</name><type>host</type><address>203.0.113.5</address></alias>
    </aliases><filter>)" +
      Rule("<type>pass</type><interface>opt1</interface><source><any/></source>"
           "<destination><address>both</address></destination><descr>both</descr>") +
      "</filter>"));
  ASSERT_TRUE(r.ok) << r.diags.Format();
  const Chain& fwd = r.fw.policy.forward;
  EXPECT_EQ(Judge(fwd, "opt1", "10.137.1.10", "203.0.113.5", Tcp(443)).why, "both");
  EXPECT_EQ(Judge(fwd, "opt1", "10.137.1.10", "198.51.100.7", Tcp(443)).why, "both");
}

TEST(PfsenseReader, GroupRulesComeBeforeMemberRulesAndAliasCyclesEnd) {
  Read r = ReadConfig(Config(
      R"(<ifgroups><ifgroupentry><ifname>VMS</ifname><members>opt1 opt2</members>
      </ifgroupentry></ifgroups><aliases>
      <alias><name>a</name><type>network</type><address>10.1.0.0/16 b</address></alias>
      <alias><name>b</name><type>network</type><address>10.2.0.0/16 a</address></alias>
    </aliases><filter>)" +
      Rule("<type>pass</type><interface>opt1</interface><source><any/></source>"
           "<destination><any/></destination><descr>opt1 any</descr>") +
      Rule("<type>block</type><interface>VMS</interface><source><any/></source>"
           "<destination><address>a</address></destination><descr>group</descr>") +
      "</filter>"));
  ASSERT_TRUE(r.ok) << r.diags.Format();
  const Chain& fwd = r.fw.policy.forward;
  EXPECT_EQ(Judge(fwd, "opt1", "10.137.1.10", "10.2.3.4", Tcp(80)).why, "group");
  EXPECT_EQ(Judge(fwd, "opt2", "10.137.2.10", "10.1.3.4", Tcp(80)).why, "group");
  EXPECT_EQ(Judge(fwd, "opt1", "10.137.1.10", "10.3.3.4", Tcp(80)).why, "opt1 any");
}

TEST(PfsenseReader, ReadsPortRangesAndPortAliases) {
  Read r = ReadConfig(
      Config(R"(<aliases>
      <alias><name>Web</name><type>port</type><address>80 Alt</address></alias>
      <alias><name>Alt</name><type>port</type><address>8000:8080</address></alias>
    </aliases><filter>)" +
             Rule("<type>pass</type><interface>opt1</interface><protocol>tcp/udp</protocol>"
                  "<source><any/></source><destination><any/><port>5000-5010</port></destination>"
                  "<descr>range</descr>") +
             Rule("<type>pass</type><interface>opt1</interface><protocol>tcp</protocol>"
                  "<source><any/></source><destination><any/><port>Web</port></destination>"
                  "<descr>alias</descr>") +
             "</filter>"));
  ASSERT_TRUE(r.ok) << r.diags.Format();
  const Chain& fwd = r.fw.policy.forward;
  struct Case {
    ServiceSet svc;
    std::string why;
  } cases[] = {
      {Tcp(5000), "range"},   {Ports(kProtoUdp, 5010, 5010), "range"},
      {Tcp(5011), "default"}, {Tcp(80), "alias"},
      {Tcp(8080), "alias"},   {Tcp(8081), "default"},
  };
  for (const Case& c : cases) {
    EXPECT_EQ(Judge(fwd, "opt1", "10.137.1.10", "198.51.100.1", c.svc).why, c.why)
        << FormatServices(c.svc);
  }
}

// <alias> elements A{first}..A{last-1}, each holding the next; the last one holds `end`.
std::string AliasChain(const std::string& prefix, int count, const std::string& type,
                       const std::string& end) {
  std::string out = "<aliases>";
  for (int i = 0; i < count; ++i) {
    std::string next = i + 1 < count ? prefix + std::to_string(i + 1) : end;
    out += "<alias><name>" + prefix + std::to_string(i) + "</name><type>" + type +
           "</type><address>" + next + "</address></alias>";
  }
  return out + "</aliases>";
}

TEST(PfsenseReader, AliasesNestingPastTheBoundAreAnErrorNotACrash) {
  std::string to_a0 = Rule(
      "<type>pass</type><interface>opt1</interface><source><any/></source>"
      "<destination><address>A0</address></destination><descr>a</descr>");
  Read deep = ReadConfig(Config(AliasChain("A", 100000, "host", "203.0.113.5") + "<filter>" +
                                to_a0 + to_a0 + "</filter>"));
  EXPECT_FALSE(deep.ok);
  ASSERT_EQ(deep.diags.list().size(), 2u) << deep.diags.Format();  // one per rule
  EXPECT_EQ(deep.diags.list()[0].severity, Severity::kError);
  EXPECT_EQ(deep.diags.list()[0].path, "filter/rule[1]/destination/address");
  EXPECT_EQ(deep.diags.list()[0].message, "alias 'A200' nests deeper than 200 levels");
  EXPECT_EQ(deep.diags.list()[1].path, "filter/rule[2]/destination/address");

  // 200 levels are still read.
  Read bound = ReadConfig(
      Config(AliasChain("A", 200, "host", "203.0.113.5") + "<filter>" + to_a0 + "</filter>"));
  ASSERT_TRUE(bound.ok) << bound.diags.Format();
  EXPECT_EQ(Judge(bound.fw.policy.forward, "opt1", "10.137.1.10", "203.0.113.5", Tcp(80)).why, "a");

  // Port aliases too.
  Read ports = ReadConfig(
      Config(AliasChain("P", 100000, "port", "80") + "<filter>" +
             Rule("<type>pass</type><interface>opt1</interface><protocol>tcp</protocol>"
                  "<source><any/></source><destination><any/><port>P0</port></destination>") +
             "</filter>"));
  EXPECT_FALSE(ports.ok);
  ASSERT_EQ(ports.diags.list().size(), 1u) << ports.diags.Format();
  EXPECT_EQ(ports.diags.list()[0].path, "filter/rule[1]/destination/port");
  EXPECT_EQ(ports.diags.list()[0].message, "alias 'P200' nests deeper than 200 levels");
}

TEST(PfsenseReader, PortAliasCyclesEndAndSharedAliasesAreExpandedOnce) {
  // Each level holds the next twice: expanding every path would take 2^60 steps.
  std::string aliases = R"(<aliases>
      <alias><name>Ping</name><type>port</type><address>80 Pong</address></alias>
      <alias><name>Pong</name><type>port</type><address>443 Ping</address></alias>)";
  for (int i = 0; i < 60; ++i) {
    std::string next = i + 1 < 60 ? "D" + std::to_string(i + 1) : "203.0.113.9";
    aliases += "<alias><name>D" + std::to_string(i) + "</name><type>host</type><address>" + next +
               " " + next + "</address></alias>";
  }
  Read r = ReadConfig(
      Config(aliases + "</aliases><filter>" +
             Rule("<type>pass</type><interface>opt1</interface><protocol>tcp</protocol>"
                  "<source><any/></source><destination><address>D0</address><port>Ping</port>"
                  "</destination><descr>web</descr>") +
             "</filter>"));
  ASSERT_TRUE(r.ok) << r.diags.Format();
  const Chain& fwd = r.fw.policy.forward;
  EXPECT_EQ(Judge(fwd, "opt1", "10.137.1.10", "203.0.113.9", Tcp(80)).why, "web");
  EXPECT_EQ(Judge(fwd, "opt1", "10.137.1.10", "203.0.113.9", Tcp(443)).why, "web");
  EXPECT_EQ(Judge(fwd, "opt1", "10.137.1.10", "203.0.113.9", Tcp(22)).why, "default");
}

TEST(PfsenseReader, UnknownSectionsAndRuleElementsAreNoted) {
  Read r = ReadConfig(Config(
      "<frobnicator><on/></frobnicator><frobnicator/><filter>" +
      Rule("<type>pass</type><interface>opt1</interface><source><any/></source>"
           "<destination><any/></destination><matchttl>1</matchttl><matchttl>2</matchttl>"
           "<descr>ttl</descr>") +
      Rule("<type>pass</type><disabled/><interface>opt1</interface><wobble/>") + "</filter>"));
  ASSERT_TRUE(r.ok) << r.diags.Format();
  ASSERT_EQ(r.diags.list().size(), 2u) << r.diags.Format();  // once per name; none when skipped
  for (const Diagnostic& d : r.diags.list()) EXPECT_EQ(d.severity, Severity::kNote);
  EXPECT_EQ(r.diags.list()[0].path, "frobnicator");
  EXPECT_EQ(r.diags.list()[0].message, "unknown section 'frobnicator' (skipped)");
  EXPECT_EQ(r.diags.list()[1].path, "filter/rule[1]/matchttl");
  EXPECT_EQ(r.diags.list()[1].message,
            "unknown rule element 'matchttl' (skipped; it may change what the rule matches)");
}

TEST(PfsenseReader, SkipsDisabledRulesAndRulesOfDisabledInterfaces) {
  Read r = ReadConfig(
      Config("<filter>" +
             Rule("<type>pass</type><disabled/><interface>opt1</interface>"
                  "<source><any/></source><destination><any/></destination><descr>off</descr>") +
             Rule("<type>pass</type><interface>opt3</interface>"
                  "<source><any/></source><destination><any/></destination><descr>opt3</descr>") +
             "</filter>"));
  ASSERT_TRUE(r.ok) << r.diags.Format();
  EXPECT_EQ(Judge(r.fw.policy.forward, "opt1", "10.137.1.10", "8.8.8.8", Tcp(80)).why, "default");
  ASSERT_EQ(r.diags.list().size(), 1u);
  EXPECT_EQ(r.diags.list()[0].severity, Severity::kWarning);
  EXPECT_EQ(r.diags.list()[0].path, "filter/rule[2]/interface");
  EXPECT_EQ(r.diags.list()[0].message,
            "interface 'opt3' is disabled or missing: pfSense skips the rule");
}

TEST(PfsenseReader, IcmpTypesByName) {
  Read r =
      ReadConfig(Config("<filter>" +
                        Rule("<type>pass</type><interface>opt1</interface><protocol>icmp</protocol>"
                             "<icmptype>echoreq</icmptype><source><any/></source>"
                             "<destination><any/></destination><descr>ping</descr>") +
                        "</filter>"));
  ASSERT_TRUE(r.ok) << r.diags.Format();
  const Chain& fwd = r.fw.policy.forward;
  EXPECT_EQ(Judge(fwd, "opt1", "10.137.1.10", "8.8.8.8", IcmpType(kProtoIcmp, 8)).why, "ping");
  EXPECT_EQ(Judge(fwd, "opt1", "10.137.1.10", "8.8.8.8", IcmpType(kProtoIcmp, 13)).why, "default");
}

TEST(PfsenseReader, AntiLockoutOpensTheGuiOnLanUnlessDisabled) {
  Read r = ReadConfig(Config("", "<webgui><protocol>https</protocol></webgui>"));
  ASSERT_TRUE(r.ok) << r.diags.Format();
  const Chain& in = r.fw.policy.input;
  EXPECT_EQ(Judge(in, "lan", "192.168.56.1", "192.168.56.2", Tcp(443)).why,
            "pfSense anti-lockout rule");
  EXPECT_EQ(Judge(in, "lan", "192.168.56.1", "192.168.56.2", Tcp(80)).why,
            "pfSense anti-lockout rule");
  EXPECT_EQ(Judge(in, "lan", "192.168.56.1", "192.168.56.2", Tcp(22)).why, "default");
  EXPECT_EQ(Judge(in, "opt1", "10.137.1.10", "10.137.1.1", Tcp(443)).why, "default");

  // Without a protocol the GUI is plain http (filter_get_antilockout_ports): port 80 only.
  Read plain = ReadConfig(Config("", "<webgui></webgui>"));
  ASSERT_TRUE(plain.ok) << plain.diags.Format();
  EXPECT_EQ(Judge(plain.fw.policy.input, "lan", "192.168.56.1", "192.168.56.2", Tcp(80)).why,
            "pfSense anti-lockout rule");
  EXPECT_EQ(Judge(plain.fw.policy.input, "lan", "192.168.56.1", "192.168.56.2", Tcp(443)).why,
            "default");
  EXPECT_EQ(plain.fw.admin_services, Tcp(80));

  Read off = ReadConfig(Config(""));
  EXPECT_EQ(Judge(off.fw.policy.input, "lan", "192.168.56.1", "192.168.56.2", Tcp(443)).why,
            "default");
}

TEST(PfsenseReader, BlocksIpv6UnlessAllowed) {
  std::string pass_all =
      "<filter>" +
      Rule(
          "<type>pass</type><interface>opt1</interface><ipprotocol>inet46</ipprotocol>"
          "<source><any/></source><destination><any/></destination><descr>all</descr>") +
      "</filter>";
  Read r = ReadConfig(Config(pass_all));
  EXPECT_EQ(Judge(r.fw.policy.forward, "opt1", "fd00::1", "2001:db8::1", Tcp(80)).why,
            "pfSense blocks IPv6 (not allowed)");
  Read allowed = ReadConfig(Config(pass_all, "<ipv6allow/><webgui><noantilockout/></webgui>"));
  EXPECT_EQ(Judge(allowed.fw.policy.forward, "opt1", "fd00::1", "2001:db8::1", Tcp(80)).why, "all");
}

TEST(PfsenseReader, VpnTabRulesWithoutAnAssignedInterfaceApplyToNoInterface) {
  // The OpenVPN tab judges tunnel clients only: pfSense writes "on openvpn", the group of
  // the tunnel devices, never the WAN or LAN.
  Read r = ReadConfig(Config(
      "<filter>" +
      Rule("<type>pass</type><interface>openvpn</interface><source><any/></source>"
           "<destination><any/></destination><descr>vpn clients</descr>") +
      "</filter>"));
  ASSERT_TRUE(r.ok) << r.diags.Format();
  EXPECT_EQ(Judge(r.fw.policy.forward, "wan", "8.8.8.8", "10.137.1.10", Tcp(22)).why, "default");
  EXPECT_EQ(Judge(r.fw.policy.input, "opt1", "10.137.1.10", "10.137.1.1", Tcp(443)).why,
            "default");
  ASSERT_EQ(r.fw.written_rules.size(), 1u);
  EXPECT_TRUE(r.fw.written_rules[0].loaded);
  EXPECT_TRUE(r.fw.written_rules[0].interfaces.empty());
}

TEST(PfsenseReader, OpnsenseAllowsIpv6WhenTheFlagIsPresentEvenEmpty) {
  std::string pass_all =
      "<filter>" +
      Rule("<type>pass</type><interface>opt1</interface><ipprotocol>inet6</ipprotocol>"
           "<source><any/></source><destination><any/></destination><descr>all</descr>") +
      "</filter>";
  std::string text = Config(pass_all, "<ipv6allow/><webgui><noantilockout/></webgui>");
  text.replace(text.find("<pfsense>"), 9, "<opnsense>");
  text.replace(text.find("</pfsense>"), 10, "</opnsense>");
  for (size_t at; (at = text.find("<enable/>")) != std::string::npos;) {
    text.replace(at, 9, "<enable>1</enable>");
  }
  Read r = ReadConfig(text);
  ASSERT_TRUE(r.ok) << r.diags.Format();
  EXPECT_EQ(Judge(r.fw.policy.forward, "opt1", "fd00::1", "2001:db8::1", Tcp(80)).why, "all");
}

TEST(PfsenseReader, CarpPassesEverywhereOnceThereIsAVirtualIp) {
  ServiceSet carp = Proto(112);
  Read plain = ReadConfig(Config(""));
  EXPECT_EQ(Judge(plain.fw.policy.forward, "wan", "8.8.8.8", "10.137.1.10", carp).why,
            "default");

  Read r = ReadConfig(Config(R"(<virtualip><vip><mode>carp</mode><interface>lan</interface>
      <subnet>192.168.56.4</subnet><subnet_bits>24</subnet_bits></vip></virtualip>)"));
  ASSERT_TRUE(r.ok) << r.diags.Format();
  EXPECT_EQ(Judge(r.fw.policy.forward, "wan", "8.8.8.8", "10.137.1.10", carp).why,
            "pfSense passes CARP (IP protocol 112, vrrp)");
  EXPECT_EQ(Judge(r.fw.policy.input, "lan", "192.168.56.3", "192.168.56.4", carp).why,
            "pfSense passes CARP (IP protocol 112, vrrp)");
  EXPECT_EQ(Judge(r.fw.policy.input, "lan", "192.168.56.2", "224.0.0.18", carp).why,
            "pfSense blocks CARP (IP protocol 112, vrrp) from the firewall itself");
}

// Where a rule of the firewall's own, found by its text, comes from: "(none)" without one.
std::string PathOf(const Chain& chain, const std::string& text) {
  for (const PolicyRule& r : chain.rules) {
    if (r.origin.text == text) return r.origin.path;
  }
  return "(none)";
}

std::string AsOpnsense(std::string text) {
  text.replace(text.find("<pfsense>"), 9, "<opnsense>");
  text.replace(text.find("</pfsense>"), 10, "</opnsense>");
  for (size_t at; (at = text.find("<enable/>")) != std::string::npos;) {
    text.replace(at, 9, "<enable>1</enable>");
  }
  return text;
}

// pfSense passes CARP once there is a virtual IP of any mode or HA sync (filter.inc's
// filter_process_carp_rules), OPNsense always: each rule says which product wrote it and
// points at what makes it be there, never at a <virtualip> the file does not have.
TEST(PfsenseReader, CarpRulesNameTheProductAndWhatMakesThemBeThere) {
  const std::string pass = "pfSense passes CARP (IP protocol 112, vrrp)";
  Read sync = ReadConfig(Config("<hasync><pfsyncenabled>on</pfsyncenabled></hasync>"));
  ASSERT_TRUE(sync.ok) << sync.diags.Format();
  EXPECT_EQ(PathOf(sync.fw.policy.forward, pass), "hasync");

  Read alias = ReadConfig(Config(R"(<virtualip><vip><mode>ipalias</mode><interface>lan</interface>
      <subnet>192.168.56.5</subnet><subnet_bits>32</subnet_bits></vip></virtualip>)"));
  ASSERT_TRUE(alias.ok) << alias.diags.Format();
  EXPECT_EQ(PathOf(alias.fw.policy.forward, pass), "virtualip");

  Read plain = ReadConfig(Config(""));
  EXPECT_EQ(PathOf(plain.fw.policy.forward, pass), "(none)");

  Read opn = ReadConfig(AsOpnsense(Config("")));
  ASSERT_TRUE(opn.ok) << opn.diags.Format();
  EXPECT_EQ(Judge(opn.fw.policy.forward, "wan", "8.8.8.8", "10.137.1.10", Proto(112)).why,
            "OPNsense passes CARP (IP protocol 112, vrrp)");
  EXPECT_EQ(PathOf(opn.fw.policy.forward, "OPNsense passes CARP (IP protocol 112, vrrp)"),
            "filter");
  EXPECT_EQ(PathOf(opn.fw.policy.forward,
                   "OPNsense blocks CARP (IP protocol 112, vrrp) from the firewall itself"),
            "filter");
}

TEST(PfsenseReader, MessagesAndTheFirewallsOwnRulesNameTheProductOfTheFile) {
  const std::string on_opt3 =
      "<filter>" +
      Rule("<type>pass</type><interface>opt3</interface><source><any/></source>"
           "<destination><any/></destination>") +
      "</filter>";
  Read pf = ReadConfig(Config(on_opt3));
  ASSERT_EQ(pf.diags.list().size(), 1u) << pf.diags.Format();
  EXPECT_EQ(pf.diags.list()[0].message,
            "interface 'opt3' is disabled or missing: pfSense skips the rule");
  EXPECT_EQ(pf.fw.policy.forward.default_origin.text, "pfSense default deny");

  Read opn = ReadConfig(AsOpnsense(Config(on_opt3)));
  ASSERT_EQ(opn.diags.list().size(), 1u) << opn.diags.Format();
  EXPECT_EQ(opn.diags.list()[0].message,
            "interface 'opt3' is disabled or missing: OPNsense skips the rule");
  EXPECT_EQ(opn.fw.policy.forward.default_origin.text, "OPNsense default deny");
  EXPECT_EQ(opn.fw.policy.output.default_origin.text, "OPNsense lets out anything");
}

TEST(PfsenseReader, InterfaceAddressTokensFollowPfsense) {
  Read r = ReadConfig(Config(
      R"(<virtualip><vip><mode>ipalias</mode><interface>opt1</interface>
      <subnet>10.137.9.1</subnet><subnet_bits>24</subnet_bits></vip></virtualip><filter>)" +
      Rule("<type>pass</type><interface>opt2</interface><source><any/></source>"
           "<destination><network>opt1ip</network></destination><descr>to opt1ip</descr>") +
      Rule("<type>pass</type><interface>opt2</interface><ipprotocol>inet6</ipprotocol>"
           "<source><network>opt2</network></source><destination><any/></destination>"
           "<descr>opt2 v6</descr>") +
      "</filter>"));
  ASSERT_TRUE(r.ok) << r.diags.Format();
  // "opt1ip" is the interface's own address, not its virtual IPs.
  const Chain& in = r.fw.policy.input;
  EXPECT_EQ(Judge(in, "opt2", "10.137.2.10", "10.137.1.1", Tcp(22)).why, "to opt1ip");
  EXPECT_EQ(Judge(in, "opt2", "10.137.2.10", "10.137.9.1", Tcp(22)).why, "default");
  // opt2 has no IPv6 address: pfSense leaves the IPv6 rule out.
  ASSERT_EQ(r.fw.written_rules.size(), 2u);
  EXPECT_TRUE(r.fw.written_rules[1].loaded);
  EXPECT_EQ(r.fw.written_rules[1].skipped_why,
            "'opt2' has no IPv6 address, so pfSense leaves the rule out");

  // A subnet given at run time says of which family it is.
  Read dynamic = ReadConfig(Config(
      "<filter>" +
      Rule("<type>pass</type><interface>lan</interface><source><network>wan</network></source>"
           "<destination><any/></destination>") +
      "</filter>"));
  ASSERT_EQ(dynamic.diags.list().size(), 1u) << dynamic.diags.Format();
  EXPECT_EQ(dynamic.diags.list()[0].path, "filter/rule[1]/source/network");
  EXPECT_EQ(dynamic.diags.list()[0].message,
            "the IPv4 subnet of 'wan' is assigned at run time (not modelled)");
}

TEST(PfsenseReader, ReportsUnmodelledOptionsWithTheirPath) {
  Read r = ReadConfig(Config(
      "<filter>" + Rule("<type>pass</type><interface>opt1</interface>") +
      Rule("<type>pass</type><interface>opt1</interface><sched>WorkHours</sched>"
           "<source><any/></source><destination><address>nosuchalias</address></destination>") +
      Rule("<type>pass</type><interface>opt1</interface><sched>WorkHours</sched>") +
      "</filter>"));
  EXPECT_FALSE(r.ok);
  ASSERT_EQ(r.diags.list().size(), 2u) << r.diags.Format();
  EXPECT_EQ(r.diags.list()[0].severity, Severity::kWarning);
  EXPECT_EQ(r.diags.list()[0].path, "filter/rule[2]/destination/address");
  EXPECT_EQ(r.diags.list()[0].message,
            "alias 'nosuchalias' does not exist: pfSense skips the rule");
  EXPECT_EQ(r.diags.list()[1].severity, Severity::kError);
  EXPECT_EQ(r.diags.list()[1].path, "filter/rule[3]/sched");
  EXPECT_EQ(r.diags.list()[1].message, "rule option 'sched' is not modelled");
}

TEST(PfsenseReader, UnmodelledOptionsMakeTheRuleUnknownWhenAsked) {
  FirewallView fw;
  Diagnostics diags;
  std::string text = Config("<filter>" +
                            Rule("<type>pass</type><interface>opt1</interface>"
                                 "<sched>WorkHours</sched><descr>office hours</descr>") +
                            "</filter>");
  ASSERT_TRUE(ReadPfsenseFirewall(WriteTemp(text), fw, diags, Unmodelled::kUnknown));
  ASSERT_EQ(diags.list().size(), 1u);
  EXPECT_EQ(diags.list()[0].severity, Severity::kNote);
  const Chain& fwd = fw.policy.forward;
  EXPECT_EQ(Judge(fwd, "opt1", "10.137.1.10", "8.8.8.8", Tcp(80)).why, "default");
  EXPECT_EQ(Judge(Settle(fw.policy, Bound::kMost).forward, "opt1", "10.137.1.10", "8.8.8.8",
                  Tcp(80)).why,
            "office hours");
  EXPECT_EQ(Judge(Settle(fw.policy, Bound::kLeast).forward, "opt1", "10.137.1.10", "8.8.8.8",
                  Tcp(80)).why,
            "default");
}

TEST(PfsenseReader, OpnsenseFlagsHaveValuesAndInterfaceRulesMayFilterOutbound) {
  std::string text =
      Config("<filter>" +
             Rule("<type>pass</type><disabled>0</disabled><interface>opt1</interface>"
                  "<direction>in</direction><quick>1</quick><source><any/></source>"
                  "<destination><any/></destination><descr>in</descr>") +
             Rule("<type>block</type><interface>opt2</interface><direction>out</direction>"
                  "<quick>1</quick><protocol>tcp</protocol><source><any/></source>"
                  "<destination><any/><port>25</port></destination><descr>no smtp out</descr>") +
             "</filter>");
  text.replace(text.find("<pfsense>"), 9, "<opnsense>");
  text.replace(text.find("</pfsense>"), 10, "</opnsense>");
  for (size_t at; (at = text.find("<enable/>")) != std::string::npos;) {
    text.replace(at, 9, "<enable>1</enable>");
  }
  Read r = ReadConfig(text);
  ASSERT_TRUE(r.ok) << r.diags.Format();
  const Chain& fwd = r.fw.policy.forward;
  EXPECT_EQ(Judge(fwd, "opt1", "10.137.1.10", "8.8.8.8", Tcp(25)).why, "in");
  // Leaving by opt2, the packet meets the outbound rules, which pf applies to forwarded
  // packets too.
  EXPECT_TRUE(r.fw.policy.output_sees_forwarded);
  const Chain& out = r.fw.policy.output;
  PacketSet smtp = PacketSet::Of(AddrsOf(*IpAddress::Parse("10.137.1.10")),
                                 AddrsOf(*IpAddress::Parse("10.137.2.10")), Tcp(25));
  std::vector<Decision> d = Evaluate(out, "", "opt2", StateMatch::kNew, smtp);
  ASSERT_EQ(d.size(), 1u);
  ASSERT_GE(d[0].rule, 0);
  EXPECT_EQ(out.rules[d[0].rule].origin.text, "no smtp out");
}

// A config whose only interface is 'lan', with `addresses` in it.
std::string LanConfig(const std::string& addresses, const std::string& more = "") {
  return "<?xml version=\"1.0\"?>\n<pfsense><interfaces><lan><enable/><if>vtnet1</if>" + addresses +
         "</lan></interfaces>" + more + "</pfsense>\n";
}

std::string Errors(const Diagnostics& diags) {
  std::string out;
  for (const Diagnostic& d : diags.list()) {
    if (d.severity == Severity::kError) out += d.path + ": " + d.message + "\n";
  }
  return out;
}

TEST(PfsenseReader, RunTimeAddressTypesAreDynamicAddresses) {
  for (const char* type : {"dhcp", "ppp", "pppoe", "pptp", "l2tp"}) {
    Read r = ReadConfig(LanConfig(fmt::format("<ipaddr>{}</ipaddr>", type)));
    ASSERT_TRUE(r.ok) << type << "\n" << r.diags.Format();
    EXPECT_FALSE(r.fw.interfaces[0].dynamic.empty()) << type;
  }
  for (const char* type : {"dhcp6", "slaac", "6rd", "6to4", "track6", "idassoc6"}) {
    Read r = ReadConfig(LanConfig(fmt::format("<ipaddrv6>{}</ipaddrv6>", type)));
    ASSERT_TRUE(r.ok) << type << "\n" << r.diags.Format();
    EXPECT_FALSE(r.fw.interfaces[0].dynamic.empty()) << type;
  }
  Read none = ReadConfig(LanConfig("<ipaddr>none</ipaddr><ipaddrv6></ipaddrv6>"));
  ASSERT_TRUE(none.ok) << none.diags.Format();
  EXPECT_TRUE(none.fw.interfaces[0].dynamic.empty());
  EXPECT_TRUE(none.fw.interfaces[0].addresses.empty());
}

TEST(PfsenseReader, InvalidInterfaceAddressesAreErrorsNamingTheElement) {
  const std::string v4 = "(expected an address, none, dhcp, ppp, pppoe, pptp or l2tp)";
  const std::string v6 = "(expected an address, none, dhcp6, slaac, 6rd, 6to4, track6 or idassoc6)";
  struct Case {
    std::string addresses;
    std::string error;
  } cases[] = {
      {"<ipaddr>192.168.1.256</ipaddr><subnet>24</subnet>",
       "interfaces/lan/ipaddr: invalid IPv4 address '192.168.1.256' for 'lan' " + v4},
      {"<ipaddr>1.2.3</ipaddr><subnet>24</subnet>",
       "interfaces/lan/ipaddr: invalid IPv4 address '1.2.3' for 'lan' " + v4},
      {"<ipaddr>2001:db8::1</ipaddr>",
       "interfaces/lan/ipaddr: invalid IPv4 address '2001:db8::1' for 'lan' " + v4},
      {"<ipaddr>dhcp6</ipaddr>",
       "interfaces/lan/ipaddr: invalid IPv4 address 'dhcp6' for 'lan' " + v4},
      {"<ipaddrv6>2001:db8::zz</ipaddrv6><subnetv6>64</subnetv6>",
       "interfaces/lan/ipaddrv6: invalid IPv6 address '2001:db8::zz' for 'lan' " + v6},
      {"<ipaddrv6>10.0.0.1</ipaddrv6>",
       "interfaces/lan/ipaddrv6: invalid IPv6 address '10.0.0.1' for 'lan' " + v6},
      {"<ipaddr>10.0.0.1</ipaddr><subnet>33</subnet>",
       "interfaces/lan/subnet: invalid prefix length for 'lan'"},
  };
  for (const Case& c : cases) {
    Read r = ReadConfig(LanConfig(c.addresses));
    EXPECT_FALSE(r.ok) << c.addresses;
    EXPECT_EQ(Errors(r.diags), c.error + "\n") << c.addresses;
  }

  // Every one at once, in both families.
  Read both = ReadConfig(LanConfig("<ipaddr>1.2.3</ipaddr><ipaddrv6>2001:db8::zz</ipaddrv6>"));
  EXPECT_EQ(Errors(both.diags),
            "interfaces/lan/ipaddr: invalid IPv4 address '1.2.3' for 'lan' " + v4 + "\n" +
                "interfaces/lan/ipaddrv6: invalid IPv6 address '2001:db8::zz' for 'lan' " + v6 +
                "\n");
}

// A port number out of range or a range that ends before it starts is an error in the file, in
// a rule as in a port alias; a name the reader does not know may be a service, and is only not
// modelled.
TEST(PfsenseReader, InvalidPortsAreErrorsAndUnknownNamesAreNotModelled) {
  auto rule = [](const std::string& port) {
    return "<rule><type>pass</type><interface>lan</interface><protocol>tcp</protocol><source>"
           "<any/></source><destination><any/><port>" + port + "</port></destination></rule>";
  };
  std::string xml = LanConfig(
      "<ipaddr>10.0.0.1</ipaddr><subnet>24</subnet>",
      "<aliases><alias><name>web</name><type>port</type><address>80 443:80</address></alias>"
      "</aliases><filter>" + rule("70000") + rule("-5") + rule("443-80") + rule("web") +
          rule("gopher") + rule("8000:8080") + "</filter>");
  Read r;  // as audit reads: what is not modelled is unknown, not an error
  EXPECT_FALSE(ReadPfsenseFirewall(WriteTemp(xml), r.fw, r.diags, Unmodelled::kUnknown));
  EXPECT_EQ(Errors(r.diags),
            "filter/rule[1]/destination/port: '70000' is not a port or a range of ports from 0 "
            "to 65535\n"
            "filter/rule[2]/destination/port: '-5' is not a port or a range of ports from 0 to "
            "65535\n"
            "filter/rule[3]/destination/port: port range '443-80' ends before it starts\n"
            "filter/rule[4]/destination/port: port range '443:80' ends before it starts\n");
  EXPECT_NE(r.diags.Format().find("port 'gopher' is not modelled"), std::string::npos);
}

TEST(PfsenseReader, InvalidVirtualIpAddressesAreErrors) {
  Read r = ReadConfig(LanConfig("<ipaddr>10.0.0.1</ipaddr><subnet>24</subnet>",
                                R"(<virtualip>
      <vip><mode>ipalias</mode><interface>lan</interface>
        <subnet>10.0.0.300</subnet><subnet_bits>24</subnet_bits></vip>
      <vip><mode>ipalias</mode><interface>lan</interface>
        <subnet>10.0.1.1</subnet><subnet_bits>33</subnet_bits></vip>
      <vip><mode>ipalias</mode><interface>lan</interface>
        <subnet>2001:db8::1</subnet><subnet_bits>64</subnet_bits></vip>
    </virtualip>)"));
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(Errors(r.diags),
            "virtualip/vip[1]/subnet: invalid address '10.0.0.300' of a virtual IP of 'lan'\n"
            "virtualip/vip[2]/subnet_bits: invalid prefix length of a virtual IP of 'lan'\n");
  ASSERT_EQ(r.fw.interfaces.size(), 1u);
  EXPECT_EQ(r.fw.interfaces[0].addresses.size(), 2u);  // its own and the IPv6 virtual IP
}

TEST(PfsenseReader, AFileThatCannotBeReadSaysWhy) {
  FirewallView fw;
  Diagnostics missing;
  std::string nowhere = testing::TempDir() + "no-such-config.xml";
  EXPECT_FALSE(ReadPfsenseFirewall(nowhere, fw, missing));
  ASSERT_EQ(missing.list().size(), 1u);
  EXPECT_EQ(missing.list()[0].message, "cannot read the file (no such file or folder)");

  Diagnostics folder;
  EXPECT_FALSE(ReadPfsenseFirewall(testing::TempDir(), fw, folder));
  ASSERT_EQ(folder.list().size(), 1u);
  EXPECT_EQ(folder.list()[0].message, "cannot read the file (is a folder)");
}

TEST(PfsenseReader, MalformedXmlNamesItsPosition) {
  Read r =
      ReadConfig("<?xml version=\"1.0\"?>\n<pfsense>\n  <filter><rule></filter>\n</pfsense>\n");
  EXPECT_FALSE(r.ok);
  ASSERT_EQ(r.diags.list().size(), 1u);
  const Diagnostic& d = r.diags.list()[0];
  EXPECT_EQ(d.loc.line, 3);
  EXPECT_EQ(d.loc.column, 19);  // pugixml stops inside the closing tag
  EXPECT_EQ(d.message, "malformed XML (start-end tags mismatch) in 'pfsense/filter/rule'");

  Read cut = ReadConfig("<?xml version=\"1.0\"?>\n<pfsense>\n  <filter><rule></rule>\n");
  ASSERT_EQ(cut.diags.list().size(), 1u);
  EXPECT_EQ(cut.diags.list()[0].message, "the file ends before 'pfsense/filter' is closed");

  Read other = ReadConfig("<opnsens/>");
  ASSERT_EQ(other.diags.list().size(), 1u);
  EXPECT_EQ(other.diags.list()[0].message,
            "not a pfSense or OPNsense configuration (no 'pfsense' or 'opnsense' root)");
}

TEST(PfsenseReader, ReadsEveryCorpusConfig) {
  int files = 0;
  for (const auto& entry : std::filesystem::directory_iterator("/work/shared/corpus/pfsense")) {
    if (entry.path().extension() != ".xml") continue;
    ++files;
    FirewallView fw;
    Diagnostics diags;
    (void)ReadPfsenseFirewall(entry.path().string(), fw, diags);
    for (const Diagnostic& d : diags.list()) {
      if (d.severity != Severity::kError) continue;
      EXPECT_NE(d.message.find("not modelled"), std::string::npos)
          << entry.path().filename() << ": " << d.path << ": " << d.message;
    }
    EXPECT_FALSE(fw.interfaces.empty()) << entry.path().filename();
    if (getenv("BULKHEAD_SHOW_CORPUS"))
      std::cerr << entry.path().filename() << "\n" << diags.Format();
  }
  if (files == 0) GTEST_SKIP() << "no corpus here";
}

}  // namespace
}  // namespace bulkhead
