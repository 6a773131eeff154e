// SPDX-License-Identifier: Apache-2.0
// Tests of how the findings about a firewall's own rules word what they find: a dead rule says
// which rules decide its packets and, as pf evaluates them, whether they come before it or win
// after it because it is not quick; the firewall's own rules and the product are named as the
// file says.

#include "audit/rule_findings.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "harness.h"

namespace bulkhead {
namespace {

using ::testing::HasSubstr;

using harness::Replace;

const char* kInterfaces = R"(<interfaces>
    <wan><enable/><if>em0</if><ipaddr>dhcp</ipaddr><gateway>WANGW</gateway></wan>
    <lan><enable/><if>em1</if><ipaddr>192.168.1.1</ipaddr><subnet>24</subnet></lan>
    <opt1><enable/><if>em2</if><ipaddr>10.0.5.1</ipaddr><subnet>24</subnet></opt1>
  </interfaces>)";

// A rule on `on` ("lan", or "floating" for a floating rule on lan) for every IPv4 packet, or
// for tcp to `ports` when given.
std::string Rule(const std::string& type, const std::string& on, const std::string& descr,
                 const std::string& ports = "", bool quick = false) {
  std::string where = "<interface>" + on + "</interface>";
  if (on == "floating") {
    where = "<interface>lan</interface><floating>yes</floating><direction>in</direction>";
    if (quick) where += "<quick>yes</quick>";
  }
  std::string proto = ports.empty() ? "" : "<protocol>tcp</protocol>";
  std::string port = ports.empty() ? "" : "<port>" + ports + "</port>";
  return "<rule><type>" + type + "</type>" + where + "<ipprotocol>inet</ipprotocol>" + proto +
         "<source><any/></source><destination><any/>" + port + "</destination><descr>" + descr +
         "</descr></rule>";
}

class RuleFindingsTest : public harness::TempDirTest {
 protected:
  // The findings of a config with `rules` in its <filter>, written as `root` ("pfsense" or
  // "opnsense").
  std::vector<Finding> Findings(const std::string& rules, const std::string& root = "pfsense") {
    std::string xml = "<?xml version=\"1.0\"?>\n<" + root +
                      "><version>23.3</version><system><webgui><noantilockout/></webgui>"
                      "</system>" +
                      kInterfaces + "<filter>" + rules + "</filter></" + root + ">\n";
    if (root == "opnsense") xml = Replace(xml, "<enable/>", "<enable>1</enable>");
    harness::Spit(dir_ / "config.xml", xml);
    FirewallView fw;
    Diagnostics diags;
    EXPECT_TRUE(ReadPfsenseFirewall((dir_ / "config.xml").string(), fw, diags)) << diags.Format();
    return RuleFindings(fw);
  }

  static const Finding* Find(const std::vector<Finding>& findings, const std::string& kind) {
    for (const Finding& f : findings) {
      if (f.kind == kind) return &f;
    }
    return nullptr;
  }

  // The subject and message of the first finding of `kind`, "no <kind> finding" when none.
  static std::string SubjectOf(const std::vector<Finding>& findings, const std::string& kind) {
    const Finding* f = Find(findings, kind);
    return f ? f->subject : "no " + kind + " finding";
  }
  static std::string MessageOf(const std::vector<Finding>& findings, const std::string& kind) {
    const Finding* f = Find(findings, kind);
    return f ? f->message : "no " + kind + " finding";
  }
};

// A floating rule for both directions that the interface's rules override on the way in passes
// nothing in: what it passes on the way out makes it no wider than it looks.
TEST_F(RuleFindingsTest, WhatARulePassesOnTheWayOutMakesItNoWider) {
  std::vector<Finding> f = Findings(
      "<rule><type>pass</type><interface>lan</interface><floating>yes</floating>"
      "<direction>any</direction><ipprotocol>inet</ipprotocol><source><any/></source>"
      "<destination><any/></destination><descr>both ways</descr></rule>" +
      Rule("block", "lan", "no"));
  EXPECT_EQ(Find(f, "rule-wider-than-it-looks"), nullptr);
}

// pf lets the last matching rule decide unless a quick one matched first, and it meets interface
// rules after floating ones: an interface rule that matches the packets of a floating non-quick
// rule wins over it, wherever it is written.
TEST_F(RuleFindingsTest, FloatingNonQuickRuleOverriddenByAnInterfaceRuleIsToldSo) {
  std::vector<Finding> f = Findings(Rule("pass", "floating", "float") + Rule("block", "lan", "if"));
  EXPECT_EQ(SubjectOf(f, "rule-shadowed"), "rule 'float' (filter/rule[1])");
  EXPECT_EQ(MessageOf(f, "rule-shadowed"),
            "the rule never takes effect: a later rule decides every packet it would match "
            "otherwise ('if' (filter/rule[2]) decides instead: the rule is not quick, and the last "
            "match wins; interface rules are evaluated after floating rules)");

  // Written first, the interface rule is still evaluated after the floating one.
  f = Findings(Rule("pass", "lan", "if") + Rule("pass", "floating", "float"));
  EXPECT_EQ(SubjectOf(f, "rule-redundant"), "rule 'float' (filter/rule[2])");
  EXPECT_EQ(MessageOf(f, "rule-redundant"),
            "the rule never decides a packet, and a later rule already does what it would ('if' "
            "(filter/rule[1]) decides instead: the rule is not quick, and the last match wins; "
            "interface rules are evaluated after floating rules)");
}

TEST_F(RuleFindingsTest, NonQuickRuleOverriddenByALaterOneOfItsKindNeedsNoWordOnKinds) {
  std::vector<Finding> f =
      Findings(Rule("pass", "floating", "first") + Rule("block", "floating", "second"));
  EXPECT_EQ(MessageOf(f, "rule-shadowed"),
            "the rule never takes effect: a later rule decides every packet it would match "
            "otherwise ('second' (filter/rule[2]) decides instead: the rule is not quick, and the "
            "last match wins)");
}

// Some packets decided at once by a quick rule pf meets before it, the rest by a rule it meets
// after it.
TEST_F(RuleFindingsTest, NonQuickRuleDecidedBothBeforeAndAfterSaysBoth) {
  std::vector<Finding> f = Findings(Rule("pass", "floating", "low", "1-1000", true) +
                                    Rule("block", "floating", "all tcp", "any") +
                                    Rule("pass", "lan", "high", "1001-65535"));
  EXPECT_EQ(SubjectOf(f, "rule-shadowed"), "rule 'all tcp' (filter/rule[2])");
  EXPECT_THAT(MessageOf(f, "rule-shadowed"),
              HasSubstr("the rule never takes effect: quick rules before it and later rules "
                        "decide every packet it would match otherwise ("));
  EXPECT_THAT(MessageOf(f, "rule-shadowed"),
              HasSubstr("'low' (filter/rule[1]) and 'high' (filter/rule[3]) together decide "
                        "instead: the rule is not quick, and the last match wins; interface "
                        "rules are evaluated after floating rules)"));
}

TEST_F(RuleFindingsTest, QuickRuleShadowedByAFloatingRuleWrittenAfterItSaysWhy) {
  std::vector<Finding> f =
      Findings(Rule("pass", "lan", "if") + Rule("block", "floating", "float", "", true));
  EXPECT_EQ(SubjectOf(f, "rule-shadowed"), "rule 'if' (filter/rule[1])");
  EXPECT_EQ(MessageOf(f, "rule-shadowed"),
            "the rule never takes effect: rules before it decide every packet it would match "
            "otherwise ('float' (filter/rule[2]) decides first: floating rules are evaluated "
            "before interface rules)");

  // Of one kind, the order of the file is pf's: nothing more to say.
  f = Findings(Rule("block", "lan", "first") + Rule("pass", "lan", "second"));
  EXPECT_EQ(MessageOf(f, "rule-shadowed"),
            "the rule never takes effect: rules before it decide every packet it would match "
            "otherwise ('first' (filter/rule[1]) decides first)");
}

// OPNsense lets interface rules be non-quick too.
TEST_F(RuleFindingsTest, OpnsenseNonQuickInterfaceRuleLosesToALaterOne) {
  std::string first = Replace(Rule("pass", "lan", "first"), "</descr>", "</descr><quick>0</quick>");
  std::vector<Finding> f = Findings(first + Rule("block", "lan", "second"), "opnsense");
  EXPECT_EQ(MessageOf(f, "rule-shadowed"),
            "the rule never takes effect: a later rule decides every packet it would match "
            "otherwise ('second' (filter/rule[2]) decides instead: the rule is not quick, and the "
            "last match wins)");
}

TEST_F(RuleFindingsTest, OpnsenseRulesAreNotSaidToBePfsenses) {
  std::string carp =
      "<rule><type>pass</type><interface>lan</interface><protocol>carp</protocol>"
      "<source><any/></source><destination><any/></destination>"
      "<descr>CARP on LAN</descr></rule>";
  std::vector<Finding> f = Findings(carp + Rule("pass", "opt9", "gone"), "opnsense");
  EXPECT_EQ(MessageOf(f, "rule-redundant"),
            "no packet ever reaches the rule, and the rules before it already do what it would "
            "(OPNsense passes CARP (IP protocol 112, vrrp) decides first)");
  EXPECT_EQ(MessageOf(f, "rule-not-loaded"),
            "the firewall does not load the rule: interface 'opt9' is disabled or missing");
  for (const Finding& each : f) EXPECT_THAT(each.message, ::testing::Not(HasSubstr("pfSense")));
}

}  // namespace
}  // namespace bulkhead
