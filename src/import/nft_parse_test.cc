// SPDX-License-Identifier: Apache-2.0
// ParseNftables on the rulesets we render (read back into the Policy they mean, with the rule
// that decides a packet named by its comment), on hand-written files using the rest of the
// supported syntax, and on files it must refuse, with the exact line:col of the refusal.
#include <gtest/gtest.h>

#include "import/artifacts.h"
#include "util/atomic_file.h"

namespace bulkhead {
namespace {

const std::string kGolden = std::string(BULKHEAD_SOURCE_DIR) + "/tests/testdata/nft/golden/";

IpAddress A(const char* text) { return *IpAddress::Parse(text); }

Policy MustParse(const std::string& text, const std::string& file = "t.nft") {
  Policy policy;
  Diagnostics diags;
  EXPECT_TRUE(ParseNftables(file, text, policy, diags)) << diags.Format(text);
  EXPECT_FALSE(diags.HasErrors()) << diags.Format(text);
  return policy;
}

Policy ParseGolden(const std::string& name) {
  std::string text;
  EXPECT_TRUE(ReadWholeFile(kGolden + name, text)) << name;
  return MustParse(text, "nftables.conf");
}

PacketSet Packet(const char* src, const char* dst, ServiceSet svc) {
  return PacketSet::Of(AddrsOf(A(src)), AddrsOf(A(dst)), svc);
}

// The single decision for one packet: its action, and the text of the rule that decided it.
std::pair<Action, std::string> Decide(const Chain& chain, const std::string& iif,
                                      const std::string& oif, const PacketSet& packet,
                                      StateMatch state = StateMatch::kNew) {
  std::vector<Decision> d = Evaluate(chain, iif, oif, state, packet);
  EXPECT_EQ(d.size(), 1u);
  if (d.empty()) return {Action::kAccept, "no decision"};
  const Provenance& p = d[0].rule < 0 ? chain.default_origin : chain.rules[d[0].rule].origin;
  return {d[0].action, p.text};
}

struct Case {
  const char* name;
  Hook hook;
  const char* iif;
  const char* src;
  const char* dst;
  ServiceSet svc;
  Action action;
  const char* decided_by;
};

TEST(ParseNftables, RenderedFirewallMeansWhatTheSpecSays) {
  Policy p = ParseGolden("firewall/nftables.conf");
  EXPECT_EQ(p.engine, "nftables");
  const Case cases[] = {
      {"browsing", Hook::kForward, "bh-browser", "10.137.0.10", "198.51.100.7",
       Ports(kProtoTcp, 443, 443), Action::kAccept,
       "workstation.toml:36 zone 'web' rule 1: browsing"},
      {"browser to work", Hook::kForward, "bh-browser", "10.137.0.10", "10.137.1.10",
       Ports(kProtoTcp, 443, 443), Action::kDrop, "policy drop of chain 'forward'"},
      {"spoofed source", Hook::kForward, "bh-browser", "10.137.1.10", "198.51.100.7",
       Ports(kProtoTcp, 443, 443), Action::kDrop, "anti-spoofing: only 10.137.0.0/24 on 'browser'"},
      {"work to git", Hook::kForward, "bh-work", "10.137.1.10", "10.137.4.10",
       Ports(kProtoTcp, 22, 22), Action::kAccept,
       "workstation.toml:49 zone 'work' rule 1: push and pull"},
      {"denied before ping", Hook::kForward, "bh-git", "10.137.4.10", "10.137.1.10",
       IcmpType(kProtoIcmp, 8), Action::kDrop,
       "workstation.toml:113 zone 'services' rule 1: never back into work"},
      {"ping out", Hook::kForward, "bh-git", "10.137.4.10", "198.51.100.7", IcmpType(kProtoIcmp, 8),
       Action::kAccept, "workstation.toml:117 zone 'services' rule 2: ping"},
      {"bank by address", Hook::kForward, "bh-bank", "10.137.2.10", "203.0.113.81",
       Ports(kProtoTcp, 443, 443), Action::kAccept, "workstation.toml:64 zone 'banking' rule 1"},
      {"dhcp discover", Hook::kInput, "bh-work", "0.0.0.0", "255.255.255.255",
       Ports(kProtoUdp, 67, 67), Action::kAccept, "workstation.toml:48 zone 'work': dhcp"},
      {"sandbox dns refused", Hook::kInput, "bh-sandbox", "10.137.3.10", "10.137.3.1",
       Ports(kProtoUdp, 53, 53), Action::kDrop,
       "workstation.toml:70 zone 'untrusted': nothing else to the firewall"},
      {"host ssh admin", Hook::kInput, "host0", "192.168.56.2", "192.168.56.1",
       Ports(kProtoTcp, 22, 22), Action::kAccept, "workstation.toml:23 firewall admin_from: host"},
      {"internet rule never opens the firewall", Hook::kInput, "bh-sandbox", "10.137.3.10",
       "192.0.2.99", Ports(kProtoTcp, 22, 22), Action::kDrop,
       "workstation.toml:70 zone 'untrusted': nothing else to the firewall"},
      {"from the wan", Hook::kForward, "wan0", "198.51.100.7", "10.137.0.10",
       Ports(kProtoTcp, 22, 22), Action::kDrop, "policy drop of chain 'forward'"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    auto [action, by] = Decide(ChainOf(p, c.hook), c.iif, c.hook == Hook::kForward ? "wan0" : "",
                               Packet(c.src, c.dst, c.svc));
    EXPECT_EQ(action, c.action);
    EXPECT_EQ(by, c.decided_by);
  }
}

TEST(ParseNftables, DnsFilledSetsBecomeHostNames) {
  Policy p = ParseGolden("firewall/nftables.conf");
  uint32_t id = p.names.Intern("www.mybank.example");
  PacketSet to_bank = PacketSet::Of(AddrsOf(A("10.137.2.10")), NameAddr(id, Family::kV4),
                                    Ports(kProtoTcp, 443, 443));
  auto [action, by] = Decide(p.forward, "bh-bank", "wan0", to_bank);
  EXPECT_EQ(action, Action::kAccept);
  EXPECT_EQ(by, "workstation.toml:64 zone 'banking' rule 1");
  EXPECT_EQ(p.names.size(), 4u);  // the three destinations' names and updates.example.org
}

TEST(ParseNftables, EstablishedTrafficComesBack) {
  Policy p = ParseGolden("firewall/nftables.conf");
  auto [action, by] = Decide(p.forward, "wan0", "bh-browser",
                             Packet("198.51.100.7", "10.137.0.10", Ports(kProtoTcp, 5555, 5555)),
                             StateMatch::kEstablished);
  EXPECT_EQ(action, Action::kAccept);
  EXPECT_EQ(by, "ct state established,related accept");
}

TEST(ParseNftables, RenderedHostLocksTheHostDown) {
  Policy p = ParseGolden("host/nftables.conf");
  PacketSet out = Packet("192.168.56.2", "198.51.100.7", Ports(kProtoTcp, 443, 443));
  EXPECT_EQ(Decide(p.output, "", "vboxnet0", out).first, Action::kAccept);
  EXPECT_EQ(Decide(p.output, "", "enp3s0", out).second, "policy drop of chain 'output'");
  EXPECT_EQ(Decide(p.input, "enp3s0", "", out).first, Action::kDrop);
  EXPECT_EQ(p.output.default_origin.line, 19);
}

TEST(ParseNftables, InlinesJumpsGotosAndReturns) {
  Policy p = MustParse(R"(table filter {
  set admins { type ipv4_addr; flags interval; elements = { 10.0.0.0/30, 10.0.1.5-10.0.1.9 } }
  chain input {
    type filter hook input priority 0; policy accept;
    iif "eth0" jump from_lan
    iifname { "eth1", "eth2" } goto from_dmz
    ip protocol icmp counter accept
  }
  chain from_lan {
    ip saddr @admins tcp dport ssh accept comment "ssh from admins"
    tcp dport != { 80, 443 } return
    ip daddr 10.0.0.1 drop
  }
  chain from_dmz {
    meta l4proto udp udp dport 1000-2000 reject with icmp type port-unreachable
  }
}
)");
  const Chain& in = p.input;
  auto decide = [&](const char* iif, const char* src, ServiceSet svc) {
    return Decide(in, iif, "", Packet(src, "10.0.0.1", svc));
  };
  EXPECT_EQ(decide("eth0", "10.0.1.7", Ports(kProtoTcp, 22, 22)).second, "ssh from admins");
  EXPECT_EQ(decide("eth0", "10.0.1.10", Ports(kProtoTcp, 80, 80)).second, "ip daddr 10.0.0.1 drop");
  // tcp dport implies tcp: ICMP does not return, and meets the drop.
  EXPECT_EQ(decide("eth0", "10.0.1.10", IcmpType(kProtoIcmp, 8)).second, "ip daddr 10.0.0.1 drop");
  // Returned from from_lan: back in input, past the icmp rule, to the policy.
  EXPECT_EQ(decide("eth0", "10.0.1.10", Ports(kProtoTcp, 22, 22)).second,
            "policy accept of chain 'input'");
  EXPECT_EQ(decide("eth3", "10.0.1.10", IcmpType(kProtoIcmp, 0)).second,
            "ip protocol icmp counter accept");
  EXPECT_EQ(decide("eth2", "10.9.9.9", Ports(kProtoUdp, 1500, 1500)).first, Action::kReject);
  // goto does not come back: the policy decides, not the icmp rule.
  EXPECT_EQ(decide("eth1", "10.9.9.9", IcmpType(kProtoIcmp, 8)).second,
            "iifname { \"eth1\", \"eth2\" } goto from_dmz");
  // A table without family is an ip table: IPv6 never reaches these chains.
  PacketSet v6 = PacketSet::Of(AddrsOf(A("2001:db8::1")), AddrsOf(A("2001:db8::2")), AllServices());
  ASSERT_FALSE(in.rules.empty());
  for (const PolicyRule& r : in.rules) EXPECT_FALSE(r.match.Intersects(v6)) << r.origin.text;
}

TEST(ParseNftables, ReadsIcmpv6NamesStatesAndNegatedInterfaces) {
  Policy p = MustParse(R"(# hand-edited
table inet t {
  chain forward {
    type filter hook forward priority filter
    policy drop
    ct state { established, related } accept
    oifname != "wan0" icmpv6 type { echo-request, 135 } accept
    ct state new ip6 daddr 2001:db8::/32 meta l4proto { tcp, udp } th dport 53 accept
  }
}
)");
  PacketSet ping6 = PacketSet::Of(AddrsOf(A("2001:db8::1")), AddrsOf(A("2001:db8::2")),
                                  IcmpType(kProtoIcmpV6, 128));
  EXPECT_EQ(Decide(p.forward, "a", "b", ping6).first, Action::kAccept);
  EXPECT_EQ(Decide(p.forward, "a", "wan0", ping6).first, Action::kDrop);
  PacketSet dns6 =
      PacketSet::Of(AddrsOf(A("2001:db8::1")), AddrsOf(A("2001:db8::2")), Ports(kProtoUdp, 53, 53));
  EXPECT_EQ(Decide(p.forward, "a", "wan0", dns6).first, Action::kAccept);
  EXPECT_EQ(p.forward.default_origin.line, 5);
}

struct Refusal {
  const char* name;
  const char* text;
  const char* diagnostics;
};

TEST(ParseNftables, RefusesWhatItCannotModelWithLineAndColumn) {
  const Refusal cases[] = {
      {"source port",
       "table inet t {\n  chain c {\n    type filter hook input priority 0;\n"
       "    tcp sport 22 accept\n  }\n}\n",
       "t.nft:4:5: error: unsupported nftables expression 'tcp sport'\n"},
      {"every error, not the first",
       "table inet t {\n  chain c {\n"
       "    type filter hook input priority 0;\n"
       "    meta mark 1 accept\n    ip ttl 3 drop\n  }\n}\n",
       "t.nft:4:5: error: unsupported nftables expression 'meta mark'\n"
       "t.nft:5:5: error: unsupported nftables expression 'ip ttl'\n"},
      {"unknown set",
       "table ip t {\n  chain c {\n    type filter hook input priority 0;\n"
       "    ip saddr @nope drop\n  }\n}\n",
       "t.nft:4:14: error: unknown set 'nope'\n"},
      {"bad address",
       "table ip t {\n  chain c {\n    type filter hook input priority 0;\n"
       "    ip saddr 10.0.0.300 drop\n  }\n}\n",
       "t.nft:4:14: error: invalid IPv4 address '10.0.0.300'\n"},
      {"th without l4proto",
       "table ip t {\n  chain c {\n    type filter hook input priority 0;\n"
       "    ip saddr 10.0.0.1 th dport 53 accept\n  }\n}\n",
       "t.nft:4:23: error: unsupported nftables expression 'th dport without meta l4proto tcp, "
       "udp or sctp'\n"},
      {"bridge table", "table bridge t {\n}\n",
       "t.nft:1:7: error: unsupported nftables expression 'table bridge'\n"},
      {"map", "table ip t {\n  map m { type ipv4_addr : verdict; }\n}\n",
       "t.nft:2:3: error: unsupported nftables expression 'map'\n"},
      {"skgid with drop",
       "table inet t {\n  chain c {\n    type filter hook output priority 0;\n"
       "    meta skgid 5 drop\n  }\n}\n",
       "t.nft:4:5: warning: over-approximated nftables expression 'meta skgid' (taken to match "
       "every packet)\nt.nft:4:5: error: unsupported nftables expression 'meta skgid or skuid "
       "without accept'\n"},
  };
  for (const Refusal& c : cases) {
    SCOPED_TRACE(c.name);
    Policy p;
    Diagnostics diags;
    EXPECT_FALSE(ParseNftables("t.nft", c.text, p, diags));
    EXPECT_EQ(diags.Format(), c.diagnostics);
  }
}

TEST(ParseNftables, IntersectsInterfaceWildcardsWhereExact) {
  Policy p = MustParse(R"(table inet t {
  chain forward {
    type filter hook forward priority 0; policy drop;
    iifname "vbox*" jump from_vbox
  }
  chain from_vbox {
    iifname { "vboxnet0", "eth0" } oifname != "wan*" accept
  }
}
)");
  ASSERT_EQ(p.forward.rules.size(), 1u);
  EXPECT_EQ(p.forward.rules[0].iif.names, std::vector<std::string>{"vboxnet0"});
  EXPECT_EQ(p.forward.rules[0].oif.names, std::vector<std::string>{"wan*"});
  EXPECT_TRUE(p.forward.rules[0].oif.negated);

  Policy q;
  Diagnostics diags;
  EXPECT_FALSE(ParseNftables("t.nft", R"(table inet t {
  chain forward {
    type filter hook forward priority 0; policy drop;
    iifname "vbox*" jump inner
  }
  chain inner {
    iifname "vboxnet*" accept
  }
}
)",
                             q, diags));
  EXPECT_EQ(diags.Format(),
            "t.nft:7:5: error: unsupported nftables expression 'interface wildcards across a "
            "jump'\n");
}

TEST(ParseNftables, ChainsOnOneHookMustAllAccept) {
  Policy p = MustParse(R"(table inet late {
  chain late_in {
    type filter hook input priority filter; policy drop;
    tcp dport { 22, 23 } accept comment "ssh"
  }
}
table ip early {
  chain early_in {
    type filter hook input priority filter - 10; policy accept;
    tcp dport 23 drop comment "no telnet"
  }
}
table ip last4 {
  chain last4_in {
    type filter hook input priority 10; policy drop;
    ip saddr 10.0.0.0/8 accept comment "lan"
  }
}
)");
  auto decide = [&](const char* src, const char* dst, uint16_t port) {
    return Decide(p.input, "eth0", "", Packet(src, dst, Ports(kProtoTcp, port, port)));
  };
  EXPECT_EQ(decide("10.1.1.1", "10.0.0.1", 23).second, "no telnet");
  EXPECT_EQ(decide("10.1.1.1", "10.0.0.1", 22),
            std::make_pair(Action::kAccept, std::string("lan")));
  EXPECT_EQ(decide("192.0.2.1", "10.0.0.1", 22).second, "policy drop of chain 'last4_in'");
  // IPv6 passes by both ip tables: only the inet chain judges it.
  EXPECT_EQ(decide("2001:db8::1", "2001:db8::2", 23),
            std::make_pair(Action::kAccept, std::string("ssh")));
  EXPECT_EQ(decide("2001:db8::1", "2001:db8::2", 80).second, "policy drop of chain 'late_in'");
}

TEST(ParseNftables, AnIpTableLeavesIpv6Unfiltered) {
  Policy p = MustParse(
      "table ip t {\n  chain c {\n"
      "    type filter hook input priority 0; policy drop;\n  }\n}\n");
  EXPECT_EQ(Decide(p.input, "eth0", "", Packet("192.0.2.1", "192.0.2.2", AllServices())).first,
            Action::kDrop);
  auto [action, by] =
      Decide(p.input, "eth0", "", Packet("2001:db8::1", "2001:db8::2", AllServices()));
  EXPECT_EQ(action, Action::kAccept);
  EXPECT_EQ(by, "no chain on hook input");
}

// The host's lockdown with wan = "nat": the firewall VM's user is not the host, so a rule on
// it matches none of the host's packets and its negation all of them, without a warning; any
// other owner is still over-approximated.
TEST(ParseNftables, TheFirewallVmsUserIsNeverTheHost) {
  const std::string text =
      "table inet t {\n  chain output {\n    type filter hook output priority 0; policy drop;\n"
      "    oifname \"enp3s0\" meta skuid \"bulkhead-fw\" accept comment \"vm\"\n"
      "    oifname \"wlan0\" meta skuid != \"bulkhead-fw\" accept comment \"not vm\"\n"
      "    oifname \"eth1\" meta skuid \"alice\" accept comment \"alice\"\n  }\n}\n";
  Policy p;
  Diagnostics diags;
  ASSERT_TRUE(ParseNftables("t.nft", text, p, diags, "bulkhead-fw")) << diags.Format(text);
  EXPECT_EQ(diags.Format(), "t.nft:6:20: warning: over-approximated nftables expression 'meta "
                            "skuid' (taken to match every packet)\n");
  PacketSet any = PacketSet::All();
  auto passed = [&](const char* oif) {
    return Accepted(Evaluate(p.output, "", oif, StateMatch::kNew, any));
  };
  EXPECT_TRUE(passed("enp3s0").empty());
  EXPECT_TRUE(passed("wlan0").Equals(any));
  EXPECT_TRUE(passed("eth1").Equals(any));
}

// A chain whose policy lets packets through names that policy, where it is written.
TEST(ParseNftables, AnAcceptPolicyIsNamedAsTheCause) {
  Policy p = MustParse(
      "table inet t {\n  chain fwd {\n"
      "    type filter hook forward priority 0;\n    policy accept;\n"
      "    tcp dport 23 drop\n  }\n}\n");
  EXPECT_EQ(p.forward.default_action, Action::kAccept);
  EXPECT_EQ(p.forward.default_origin.Where(), "t.nft:4");
  EXPECT_EQ(p.forward.default_origin.text, "policy accept of chain 'fwd'");
}

TEST(ParseNftables, NatChainsAreReadAndIgnored) {
  Policy p = MustParse(
      "table ip nat {\n  chain post {\n"
      "    type nat hook postrouting priority srcnat; policy accept;\n"
      "    oifname \"wan0\" masquerade\n  }\n}\n");
  EXPECT_TRUE(p.forward.rules.empty());
}

}  // namespace
}  // namespace bulkhead
