// SPDX-License-Identifier: Apache-2.0
// Tests of how differences from a bulkhead file are worded: every setting that can differ (a
// missing VM, an address, each channel) reads as one sentence about the VM, firewall or host,
// in the audit's findings and in verify's report alike.

#include "audit/expect.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "audit/audit.h"
#include "harness.h"
#include "verify/report.h"

namespace bulkhead {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

struct Case {
  SettingDifference setting;
  std::string sentence;
};

// One of each setting CompareSettings and CompareAddresses report.
TEST(ExpectWording, EverySettingThatCanDifferReadsAsASentence) {
  const Case cases[] = {
      {{"work", "existence", "present", "absent"},
       "VM 'work' is declared but missing from the set-up"},
      {{"work", "address", "10.137.1.10", "none"},
       "VM 'work' is declared with address 10.137.1.10 but has none in the set-up"},
      {{"work", "address", "none", "10.0.1.20"},
       "VM 'work' is declared with no address but has 10.0.1.20 in the set-up"},
      {{"sys-firewall", "address", "10.137.0.1, 10.137.1.1", "10.0.1.1", EndpointKind::kFirewall},
       "firewall 'sys-firewall' is declared with addresses 10.137.0.1, 10.137.1.1 but has "
       "10.0.1.1 in the set-up"},
      {{"dom0", "address", "192.168.56.1", "192.168.57.1", EndpointKind::kHost},
       "host 'dom0' is declared with address 192.168.56.1 but has 192.168.57.1 in the set-up"},
      {{"work", "clipboard", "disabled", "bidirectional"},
       "VM 'work' is declared with clipboard 'disabled' but has 'bidirectional' in the set-up"},
      {{"work", "drag and drop", "hosttoguest", "disabled"},
       "VM 'work' is declared with drag and drop 'hosttoguest' but has 'disabled' in the set-up"},
      {{"work", "shared folders", "0", "2"},
       "VM 'work' is declared with no shared folders but has 2 in the set-up"},
      {{"work", "shared folders", "1", "0"},
       "VM 'work' is declared with 1 shared folder but has none in the set-up"},
      {{"work", "shared folders", "2", "3"},
       "VM 'work' is declared with 2 shared folders but has 3 in the set-up"},
      {{"work", "VRDE", "off", "on"},
       "VM 'work' is declared with remote display (VRDE) off but has it on in the set-up"},
      {{"work", "audio", "off", "on"},
       "VM 'work' is declared with audio off but has it on in the set-up"},
  };
  for (const Case& c : cases) {
    EXPECT_EQ(SettingSubject(c.setting) + " " + SettingText(c.setting, "the set-up"), c.sentence);
  }
}

TEST(ExpectWording, FindingsAndVerifysReportSayTheSame) {
  VerifyResult r;
  r.settings = {{"work", "existence", "present", "absent"},
                {"sys-firewall", "address", "10.137.0.1", "10.0.1.1", EndpointKind::kFirewall}};
  EXPECT_EQ(FormatDifferences(r),
            "difference: VM 'work' is declared but missing from the artifacts\n"
            "difference: firewall 'sys-firewall' is declared with address 10.137.0.1 but has "
            "10.0.1.1 in the artifacts\n");

  r.compared = "the set-up";
  std::vector<Finding> f = ExpectFindings(r);
  ASSERT_EQ(f.size(), 2u);
  EXPECT_EQ(f[0].kind, "expect-setting");
  EXPECT_EQ(f[0].subject, "vm 'work'");
  EXPECT_EQ(f[0].message, "is declared but missing from the set-up");
  EXPECT_EQ(f[1].subject, "firewall 'sys-firewall'");
  EXPECT_EQ(f[1].message, "is declared with address 10.137.0.1 but has 10.0.1.1 in the set-up");
}

// An audit of a config.xml alone against the example: no machine was read, so every VM is
// missing from the set-up, which is what each finding says.
TEST(ExpectWording, AnAuditWithoutMachinesSaysEachVmIsMissing) {
  harness::ScratchDir dir;
  auto xml = dir.Write("config.xml", R"(<?xml version="1.0"?>
<pfsense><version>23.3</version><interfaces>
  <wan><enable/><if>em0</if><ipaddr>203.0.113.2</ipaddr><subnet>24</subnet>
    <gateway>WANGW</gateway></wan>
  <lan><enable/><if>em1</if><ipaddr>192.168.1.1</ipaddr><subnet>24</subnet></lan>
</interfaces></pfsense>
)");
  AuditOptions opts;
  opts.pfsense = xml.string();
  opts.expect = (harness::SourceDir() / "examples" / "workstation.toml").string();
  AuditResult r;
  Diagnostics diags;
  ASSERT_TRUE(Audit(opts, Date{2026, 12, 1}, r, diags)) << diags.Format();
  bool work = false;
  for (const Finding& f : r.findings) {
    if (f.kind != "expect-setting") continue;
    EXPECT_THAT(f.message, HasSubstr("is declared ")) << f.subject;
    EXPECT_THAT(f.message, Not(HasSubstr("declared declared"))) << f.subject;
    work = work ||
           (f.subject == "vm 'work'" && f.message == "is declared but missing from the set-up");
  }
  EXPECT_TRUE(work);
}

}  // namespace
}  // namespace bulkhead
