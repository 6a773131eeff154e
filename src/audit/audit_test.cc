// SPDX-License-Identifier: Apache-2.0
// Tests of the audit as a whole: every file of the shared corpus is read and its report kept
// as a golden file (regenerated with BULKHEAD_UPDATE_GOLDENS=1, and reviewed by hand); the
// config.xml and VBoxManage script that render writes audit to the matrix verify proves; bad
// input is an error with its element path; small configurations give the findings they should.

#include "audit/audit.h"

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <fmt/format.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "audit/audit_report.h"
#include "harness.h"
#include "plan/plan.h"
#include "render/render.h"
#include "util/atomic_file.h"

namespace bulkhead {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;
using ::testing::Not;

const Date kToday{2026, 12, 1};

using harness::Slurp;
using harness::Spit;

using harness::Corpus;
using harness::SourceDir;
fs::path Goldens() { return SourceDir() / "tests" / "testdata" / "audit"; }

using harness::Replace;

// Every file of one corpus folder but its MANIFEST and README.
std::vector<fs::path> CorpusFiles(const std::string& kind) {
  std::vector<fs::path> out;
  if (!fs::exists(Corpus() / kind)) return out;
  for (const auto& e : fs::directory_iterator(Corpus() / kind)) {
    std::string name = e.path().filename().string();
    if (name != "MANIFEST.tsv" && name != "README.md") out.push_back(e.path());
  }
  std::sort(out.begin(), out.end());
  return out;
}

// The text report, with the corpus folder cut from paths so that goldens hold anywhere.
std::string Report(const AuditOptions& opts, bool& ok, std::string& diagnostics) {
  AuditResult r;
  Diagnostics diags;
  ok = Audit(opts, kToday, r, diags);
  diagnostics = diags.Format();
  std::string text = ok ? FormatAudit(r, opts) : "";
  return Replace(text, (Corpus() / "").string(), "");
}

void CheckGolden(const std::string& name, const std::string& text) {
  fs::path golden = Goldens() / (name + ".txt");
  if (std::getenv("BULKHEAD_UPDATE_GOLDENS")) {
    fs::create_directories(golden.parent_path());
    Spit(golden, text);
  }
  ASSERT_TRUE(fs::exists(golden)) << golden << " is missing (BULKHEAD_UPDATE_GOLDENS=1)";
  EXPECT_EQ(Slurp(golden), text) << "the report of " << name << " differs from " << golden;
}

TEST(AuditCorpus, EveryPfsenseConfigIsReadAndMatchesItsGolden) {
  std::vector<fs::path> files = CorpusFiles("pfsense");
  if (files.empty()) GTEST_SKIP() << "no corpus at " << Corpus();
  for (const fs::path& f : files) {
    SCOPED_TRACE(f.filename().string());
    AuditOptions opts;
    opts.pfsense = f.string();
    bool ok = false;
    std::string diags;
    std::string text = Report(opts, ok, diags);
    ASSERT_TRUE(ok) << diags;
    EXPECT_THAT(text, HasSubstr("reachability"));
    CheckGolden("pfsense/" + f.stem().string(), text);
  }
}

// The same reports when the matrix is built in address atoms, as large configurations are.
TEST(AuditCorpus, ReportsAreTheSameOnAddressAtoms) {
  for (const char* kind : {"pfsense", "vbox"}) {
    std::vector<fs::path> files = CorpusFiles(kind);
    if (files.empty()) GTEST_SKIP() << "no corpus at " << Corpus();
    for (const fs::path& f : files) {
      SCOPED_TRACE(f.filename().string());
      AuditOptions opts;
      bool pfsense = std::string(kind) == "pfsense";
      (pfsense ? opts.pfsense : opts.vbox.emplace_back()) = f.string();
      opts.atoms = AtomUse::kAlways;
      bool ok = false;
      std::string diags;
      std::string text = Report(opts, ok, diags);
      ASSERT_TRUE(ok) << diags;
      CheckGolden(pfsense ? "pfsense/" + f.stem().string() : "vbox/" + f.filename().string(),
                  text);
    }
  }
}

TEST(AuditCorpus, EveryVirtualBoxFileIsReadAndMatchesItsGolden) {
  std::vector<fs::path> files = CorpusFiles("vbox");
  if (files.empty()) GTEST_SKIP() << "no corpus at " << Corpus();
  for (const fs::path& f : files) {
    SCOPED_TRACE(f.filename().string());
    AuditOptions opts;
    opts.vbox = {f.string()};
    bool ok = false;
    std::string diags;
    std::string text = Report(opts, ok, diags);
    ASSERT_TRUE(ok) << diags;
    CheckGolden("vbox/" + f.filename().string(), text);
  }
}

class AuditTest : public harness::TempDirTest {
 protected:
  // Renders the pfSense and VBoxManage targets of `file` under dir_.
  void RenderExample(const std::string& file, Spec& spec) {
    Plan plan;
    Diagnostics diags;
    ASSERT_TRUE(ReadSpec(file, spec, diags, kToday) && MakePlan(spec, plan, diags));
    Render(spec, plan, "pfsense", RenderPfsense);
    Render(spec, plan, "vboxmanage", RenderVBoxManage);
  }

  // Writes the artifacts of `render` for the example under dir_/<folder>.
  void Render(const Spec& spec, const Plan& plan, const std::string& folder,
              Artifacts (*render)(const Spec&, const Plan&, const Date&)) {
    for (const Artifact& a : render(spec, plan, kToday)) {
      ASSERT_EQ(WriteFileAtomically((dir_ / folder / a.path).string(), a.content), "");
    }
  }

  // A pfSense config with `body` inside <pfsense>: LAN 192.168.1.1/24 on em1, OPT1
  // 10.0.5.1/24 on em2, WAN by DHCP on em0.
  fs::path Config(const std::string& body, bool ipv6 = false) {
    std::string xml = R"(<?xml version="1.0"?>
<pfsense>
  <version>23.3</version>
)" + std::string(ipv6 ? "  <system><ipv6allow/></system>\n" : "") + R"(  <interfaces>
    <wan><enable/><if>em0</if><ipaddr>dhcp</ipaddr><gateway>WANGW</gateway></wan>
    <lan><enable/><if>em1</if><ipaddr>192.168.1.1</ipaddr><subnet>24</subnet></lan>
    <opt1><enable/><descr>DMZ</descr><if>em2</if><ipaddr>10.0.5.1</ipaddr><subnet>24</subnet></opt1>
  </interfaces>
)" + body + "\n</pfsense>\n";
    fs::path p = dir_ / "config.xml";
    Spit(p, xml);
    return p;
  }

  // An audit of the bare Config and the machine files under dir_/vms.
  AuditOptions WithMachines() {
    AuditOptions opts;
    opts.pfsense = Config("").string();
    opts.vbox = {(dir_ / "vms").string()};
    return opts;
  }

  AuditResult Run(const AuditOptions& opts) {
    AuditResult r;
    Diagnostics diags;
    EXPECT_TRUE(Audit(opts, kToday, r, diags)) << diags.Format();
    return r;
  }

  // Audits `opts` in addresses and on atoms and expects the same report and, cell by cell, the
  // same packets passed with the same notes. Returns how many notes name a 1:1 NAT.
  int OneToOneNotesOnAtoms(AuditOptions opts) {
    AuditResult plain = Run(opts);
    opts.atoms = AtomUse::kAlways;
    AuditResult on_atoms = Run(opts);
    EXPECT_NE(on_atoms.matrix.atoms, nullptr);
    EXPECT_EQ(FormatAudit(on_atoms, opts), FormatAudit(plain, opts));
    const Matrix& m = plain.matrix;
    int one_to_one = 0;
    for (size_t s = 0; s < m.sources.size(); ++s) {
      for (size_t d = 0; d < m.destinations.size(); ++d) {
        SCOPED_TRACE(m.sources[s].name + " -> " + m.destinations[d].name);
        const Cell& cell = on_atoms.matrix.At(s, d);
        EXPECT_TRUE(on_atoms.matrix.InAddresses(cell.passed).Equals(m.At(s, d).passed));
        EXPECT_EQ(cell.notes, m.At(s, d).notes);
        for (const std::string& note : cell.notes) one_to_one += note.find("1:1 NAT") != note.npos;
      }
    }
    return one_to_one;
  }

  static const Finding* Find(const AuditResult& r, const std::string& kind) {
    for (const Finding& f : r.findings) {
      if (f.kind == kind) return &f;
    }
    return nullptr;
  }

};

// The round trip: what render writes, audited against the file it came from, is exactly what
// the file declares, and the audit's own matrix agrees with verify's between the VMs.
TEST_F(AuditTest, RenderedSetUpAuditsToTheDeclaredMatrix) {
  std::string example = (SourceDir() / "examples" / "workstation.toml").string();
  Spec spec;
  ASSERT_NO_FATAL_FAILURE(RenderExample(example, spec));

  AuditOptions opts;
  opts.pfsense = (dir_ / "pfsense" / "config.xml").string();
  opts.vbox = {(dir_ / "vboxmanage" / "create.sh").string()};
  opts.expect = example;
  AuditResult r = Run(opts);
  EXPECT_EQ(r.firewall_vm, spec.firewall.name);
  ASSERT_TRUE(r.expected.has_value());
  EXPECT_TRUE(r.expected->differences.empty()) << FormatAudit(r, opts);
  EXPECT_TRUE(r.expected->settings.empty()) << FormatAudit(r, opts);

  const Matrix& verified = r.expected->observed;
  auto index = [](const std::vector<Endpoint>& list, const std::string& name, EndpointKind k) {
    for (size_t i = 0; i < list.size(); ++i) {
      if (list[i].name == name && list[i].kind == k) return i;
    }
    return list.size();
  };
  int compared = 0;
  for (size_t s = 0; s < verified.sources.size(); ++s) {
    if (verified.sources[s].kind != EndpointKind::kVm) continue;
    size_t as = index(r.matrix.sources, verified.sources[s].name, EndpointKind::kVm);
    if (as == r.matrix.sources.size()) continue;  // offline: no adapter, no row
    for (size_t d = 0; d < verified.destinations.size(); ++d) {
      if (verified.destinations[d].kind != EndpointKind::kVm) continue;
      size_t ad = index(r.matrix.destinations, verified.destinations[d].name, EndpointKind::kVm);
      if (ad == r.matrix.destinations.size()) continue;
      SCOPED_TRACE(verified.sources[s].name + " -> " + verified.destinations[d].name);
      // verify also judges what a VM sends from other addresses of its subnet; the audit
      // judges a VM from its own address.
      PacketSet own = PacketSet::Of(r.matrix.sources[as].addresses, AllAddrsBothFamilies(),
                                    AllServices());
      EXPECT_TRUE(r.matrix.At(as, ad).passed.Equals(verified.At(s, d).passed.Intersect(own)));
      ++compared;
    }
  }
  EXPECT_GT(compared, 10);

  // Built in address atoms, as large configurations are: the same cells and the same report.
  opts.atoms = AtomUse::kAlways;
  AuditResult on_atoms = Run(opts);
  ASSERT_NE(on_atoms.matrix.atoms, nullptr);
  EXPECT_EQ(FormatAudit(on_atoms, opts), FormatAudit(r, opts));
  for (size_t s = 0; s < r.matrix.sources.size(); ++s) {
    for (size_t d = 0; d < r.matrix.destinations.size(); ++d) {
      const Cell& cell = on_atoms.matrix.At(s, d);
      EXPECT_TRUE(on_atoms.matrix.InAddresses(cell.passed).Equals(r.matrix.At(s, d).passed));
      EXPECT_EQ(cell.reasons.size(), r.matrix.At(s, d).reasons.size());
    }
  }
}

// An unplugged firewall adapter leaves its interface's network unreachable, and says so.
TEST_F(AuditTest, UnpluggedFirewallAdapterIsShown) {
  std::string example = (SourceDir() / "examples" / "workstation.toml").string();
  Spec spec;
  ASSERT_NO_FATAL_FAILURE(RenderExample(example, spec));
  fs::path script = dir_ / "vboxmanage" / "create.sh";
  std::string text = Slurp(script);
  const std::string plugged = "want sys-firewall cableconnected3 on";
  ASSERT_NE(text.find(plugged), std::string::npos);
  text.replace(text.find(plugged), plugged.size(), "want sys-firewall cableconnected3 off");
  Spit(script, text);

  AuditOptions opts;
  opts.pfsense = (dir_ / "pfsense" / "config.xml").string();
  opts.vbox = {script.string()};
  AuditResult r = Run(opts);
  EXPECT_THAT(FormatAudit(r, opts), HasSubstr("(adapter 3: its cable is unplugged)"));
  for (const PlacedVm& vm : r.vms) {
    if (vm.name == "browser") {
      EXPECT_TRUE(vm.iface.empty());
    }
  }
}

TEST_F(AuditTest, TruncatedConfigIsAnErrorWithItsPlace) {
  fs::path p = Config("<filter><rule><type>pass</type>");
  std::string text = Slurp(p);
  Spit(p, text.substr(0, text.find("</pfsense>")));
  AuditOptions opts;
  opts.pfsense = p.string();
  AuditResult r;
  Diagnostics diags;
  EXPECT_FALSE(Audit(opts, kToday, r, diags));
  EXPECT_THAT(diags.Format(), HasSubstr(p.string()));
  EXPECT_THAT(diags.Format(), HasSubstr("error"));
}

// A 1:1 NAT moves packets between two prefixes, and the atoms follow it: the matrix is built
// in atoms, with the same cells as in addresses, rules on single hosts of the prefix included.
TEST_F(AuditTest, OneToOneNatIsFollowedOnAtoms) {
  AuditOptions opts;
  opts.pfsense = Config(R"(<nat><onetoone><interface>wan</interface>
      <external>203.0.113.16</external><source><address>10.0.5.16/28</address></source>
      <destination><any/></destination><descr>dmz block</descr></onetoone></nat>
    <filter>
    <rule><type>pass</type><interface>wan</interface><ipprotocol>inet</ipprotocol>
      <protocol>tcp</protocol><source><any/></source>
      <destination><address>10.0.5.17</address><port>22</port></destination></rule>
    <rule><type>block</type><interface>wan</interface><ipprotocol>inet</ipprotocol>
      <protocol>tcp</protocol><source><address>198.51.100.0/24</address></source>
      <destination><address>10.0.5.16/28</address><port>443</port></destination></rule>
    <rule><type>pass</type><interface>wan</interface><ipprotocol>inet</ipprotocol>
      <protocol>tcp</protocol><source><any/></source>
      <destination><address>10.0.5.16/28</address><port>443</port></destination></rule>
  </filter>)").string();
  EXPECT_GT(OneToOneNotesOnAtoms(opts), 0);
}

// Translations that meet, one 1:1 NAT's target inside another's external prefix and two
// external prefixes that overlap, are followed on atoms too, with the same report as in
// addresses: pf translates a packet once, so a moved set is never moved again.
TEST_F(AuditTest, ChainedAndOverlappingOneToOneNatGiveTheSameReportOnAtoms) {
  auto one_to_one = [](const std::string& iface, const std::string& external,
                       const std::string& internal) {
    return "<onetoone><interface>" + iface + "</interface><external>" + external +
           "</external><source><address>" + internal +
           "</address></source><destination><any/></destination></onetoone>";
  };
  auto rule = [](const std::string& type, const std::string& iface, const std::string& from,
                 const std::string& to, const std::string& port) {
    return "<rule><type>" + type + "</type><interface>" + iface +
           "</interface><ipprotocol>inet</ipprotocol><protocol>tcp</protocol><source>" + from +
           "</source><destination><address>" + to + "</address><port>" + port +
           "</port></destination></rule>";
  };
  const std::string any = "<any/>";
  AuditOptions opts;
  opts.pfsense =
      Config("<nat>" + one_to_one("wan", "198.51.100.16", "203.0.113.16/28") +
             one_to_one("wan", "203.0.113.16", "10.0.5.16/28") +
             one_to_one("wan", "203.0.113.24", "10.0.5.56/29") +
             one_to_one("lan", "203.0.113.20", "10.0.5.96/30") +
             R"(<rule><interface>wan</interface><protocol>tcp</protocol>
      <source><any/></source><destination><address>198.51.100.21</address><port>80</port>
      </destination><target>10.0.5.40</target><local-port>8080</local-port></rule></nat>
    <filter>)" +
             rule("pass", "wan", any, "10.0.5.17", "22") +
             rule("block", "wan", "<address>198.51.100.0/24</address>", "203.0.113.20", "443") +
             rule("pass", "wan", any, "203.0.113.16/28", "443") +
             rule("pass", "wan", any, "10.0.5.58", "25") +
             rule("pass", "wan", any, "10.0.5.40", "8080") +
             rule("pass", "lan", any, "10.0.5.97", "53") + "</filter>")
          .string();
  EXPECT_GT(OneToOneNotesOnAtoms(opts), 1);
}

// A rule blocking one port of one host, ahead of a rule passing the whole network, is named in
// the cell: "any" alone would claim what the firewall refuses.
TEST_F(AuditTest, CellNamesWhatItsRulesLeaveOut) {
  AuditOptions opts;
  opts.pfsense = Config(R"(<filter>
    <rule><type>block</type><interface>lan</interface><ipprotocol>inet</ipprotocol>
      <protocol>tcp</protocol><source><any/></source>
      <destination><address>10.0.5.5</address><port>22</port></destination></rule>
    <rule><type>pass</type><interface>lan</interface><ipprotocol>inet</ipprotocol>
      <source><any/></source><destination><network>opt1</network></destination></rule>
  </filter>)").string();
  AuditResult r = Run(opts);
  std::string text = FormatAudit(r, opts);
  EXPECT_THAT(text, HasSubstr("-> opt1 (network)       any, except tcp 22 to 10.0.5.5\n"));
  // The firewall: the pass reaches its DMZ address, the anti-lockout rule (the web GUI on
  // http) its LAN address.
  EXPECT_THAT(text, HasSubstr("any to 10.0.5.1, 192.168.1.1, only tcp 80 to 192.168.1.1"));
  nlohmann::json cells = AuditJson(r, opts)["matrix"];
  auto cell = std::find_if(cells.begin(), cells.end(), [](const nlohmann::json& c) {
    return c["from"] == "lan" && c["to"] == "opt1";
  });
  ASSERT_NE(cell, cells.end());
  EXPECT_EQ((*cell)["services"], "any");
  EXPECT_EQ((*cell)["services_except"], nlohmann::json({"except tcp 22 to 10.0.5.5"}));
}

// Descriptions are the user's text: control characters in them reach the terminal escaped, and
// a newline cannot start a line of its own.
TEST_F(AuditTest, ControlCharactersInDescriptionsAreEscaped) {
  AuditOptions opts;
  opts.pfsense = Config(R"(<filter>
    <rule><type>pass</type><interface>lan</interface><ipprotocol>inet</ipprotocol>
      <source><any/></source><destination><any/></destination>
      <descr>x&#27;]0;title&#7;&#10;  high     forged: line</descr></rule>
  </filter>)").string();
  AuditResult r = Run(opts);
  std::string text = FormatAudit(r, opts);
  EXPECT_EQ(text.find('\x1b'), std::string::npos);
  EXPECT_EQ(text.find('\x07'), std::string::npos);
  EXPECT_THAT(text, HasSubstr("x\\x1b]0;title\\x07\\x0a  high     forged: line"));
  EXPECT_EQ(text.find("\n  high     forged"), std::string::npos);
  // JSON keeps the text as written; its own escaping makes it safe.
  EXPECT_THAT(AuditJson(r, opts).dump(), HasSubstr("x\\u001b]0;title"));
}

TEST_F(AuditTest, UnknownElementsAreSkipped) {
  AuditOptions opts;
  opts.pfsense = Config("<wonders><spell>42</spell></wonders>").string();
  AuditResult r = Run(opts);
  EXPECT_FALSE(r.matrix.sources.empty());
}

TEST_F(AuditTest, RuleAfterOneThatTakesAllItsPacketsIsShadowed) {
  AuditOptions opts;
  opts.pfsense = Config(R"(<filter>
    <rule><type>pass</type><interface>opt1</interface><ipprotocol>inet</ipprotocol>
      <source><any/></source><destination><any/></destination>
      <descr>all out</descr></rule>
    <rule><type>block</type><interface>opt1</interface><ipprotocol>inet</ipprotocol>
      <protocol>tcp</protocol><source><any/></source><destination><any/><port>25</port>
      </destination><descr>no mail</descr></rule>
  </filter>)").string();
  AuditResult r = Run(opts);
  const Finding* f = Find(r, "rule-shadowed");
  ASSERT_NE(f, nullptr) << FormatAudit(r, opts);
  EXPECT_THAT(f->subject, HasSubstr("no mail"));
  EXPECT_THAT(f->message, HasSubstr("all out"));
}

TEST_F(AuditTest, RulesThatTogetherTakeARulesPacketsAreNamedFourAndCounted) {
  std::string rules;
  for (int i = 0; i < 6; ++i) {
    rules += fmt::format(R"(<rule><type>pass</type><interface>opt1</interface>
      <ipprotocol>inet</ipprotocol><protocol>tcp</protocol><source><network>opt1</network>
      </source><destination><network>lan</network><port>{}-{}</port></destination>
      <descr>p{}</descr></rule>)",
                         10 * i + 1, 10 * i + 10, i + 1);
  }
  AuditOptions opts;
  opts.pfsense = Config("<filter>" + rules + R"(<rule><type>pass</type><interface>opt1</interface>
      <ipprotocol>inet</ipprotocol><protocol>tcp</protocol><source><network>opt1</network>
      </source><destination><network>lan</network><port>1-60</port></destination>
      <descr>all six</descr></rule>
  </filter>)")
                     .string();
  AuditResult r = Run(opts);
  const Finding* f = Find(r, "rule-redundant");
  ASSERT_NE(f, nullptr) << FormatAudit(r, opts);
  EXPECT_EQ(f->subject, "rule 'all six' (filter/rule[7])");
  EXPECT_THAT(f->message, HasSubstr("('p1' (filter/rule[1]), 'p2' (filter/rule[2]), 'p3' "
                                    "(filter/rule[3]) and 'p4' (filter/rule[4]) (and 2 more) "
                                    "together decide first)"));
}

// Which inside networks a pass to any reaches, and whether it passes DHCP alone, are of the
// packets it takes, after the rules before it.
TEST_F(AuditTest, PassToAnyIsJudgedByWhatTheRulesBeforeItLeaveIt) {
  const std::string pass = R"(<rule><type>pass</type><interface>opt1</interface>
      <ipprotocol>inet</ipprotocol><protocol>udp</protocol><source><any/></source>
      <destination><any/><port>60-70</port></destination><descr>some udp</descr></rule>)";
  AuditOptions opts;
  opts.pfsense = Config("<filter>" + pass + "</filter>").string();
  AuditResult r = Run(opts);
  const Finding* wider = Find(r, "rule-wider-than-it-looks");
  ASSERT_NE(wider, nullptr) << FormatAudit(r, opts);
  EXPECT_THAT(wider->message, HasSubstr("passes to the network of 'lan'"));
  EXPECT_NE(Find(r, "rule-any-source"), nullptr) << FormatAudit(r, opts);

  // Left only DHCP's ports, to anywhere but the LAN: any source is how such a rule must read.
  opts.pfsense = Config(R"(<filter>
    <rule><type>block</type><interface>opt1</interface><ipprotocol>inet</ipprotocol>
      <source><any/></source><destination><network>lan</network></destination></rule>
    <rule><type>block</type><interface>opt1</interface><ipprotocol>inet</ipprotocol>
      <protocol>udp</protocol><source><any/></source>
      <destination><any/><port>60-66</port></destination></rule>
    <rule><type>block</type><interface>opt1</interface><ipprotocol>inet</ipprotocol>
      <protocol>udp</protocol><source><any/></source>
      <destination><any/><port>69-70</port></destination></rule>)" +
                        pass + "</filter>")
                     .string();
  r = Run(opts);
  EXPECT_EQ(Find(r, "rule-wider-than-it-looks"), nullptr) << FormatAudit(r, opts);
  EXPECT_EQ(Find(r, "rule-any-source"), nullptr) << FormatAudit(r, opts);
}

TEST_F(AuditTest, AdminInterfaceOpenToAVmNetworkIsHigh) {
  AuditOptions opts;
  opts.pfsense = Config(R"(<filter>
    <rule><type>pass</type><interface>opt1</interface><ipprotocol>inet</ipprotocol>
      <source><network>opt1</network></source><destination><any/></destination>
      <descr>all out</descr></rule>
  </filter>)").string();
  AuditResult r = Run(opts);
  const Finding* f = Find(r, "admin-reachable");
  ASSERT_NE(f, nullptr) << FormatAudit(r, opts);
  EXPECT_EQ(f->risk, Risk::kHigh);
  EXPECT_THAT(f->subject, HasSubstr("opt1"));
  EXPECT_THAT(f->message, HasSubstr("tcp 80"));  // no webgui protocol: plain http
  EXPECT_TRUE(FailsAt(r, Risk::kHigh));
}

TEST_F(AuditTest, Ipv6PassingWhereOnlyIpv4IsBlockedIsFound) {
  AuditOptions opts;
  opts.pfsense = Config(R"(<filter>
    <rule><type>block</type><interface>opt1</interface><ipprotocol>inet</ipprotocol>
      <source><any/></source><destination><network>lan</network></destination>
      <descr>keep off the LAN</descr></rule>
    <rule><type>pass</type><interface>opt1</interface><ipprotocol>inet46</ipprotocol>
      <source><any/></source><destination><any/></destination>
      <descr>the rest</descr></rule>
  </filter>)", true).string();
  AuditResult r = Run(opts);
  const Finding* f = Find(r, "ipv6-unfiltered");
  ASSERT_NE(f, nullptr) << FormatAudit(r, opts);
  EXPECT_THAT(f->subject, HasSubstr("opt1"));
  EXPECT_THAT(f->message, HasSubstr("filter/rule[2]"));

  // Blocking IPv6 too, the user has filtered both families: nothing to report.
  opts.pfsense = Config(R"(<filter>
    <rule><type>block</type><interface>opt1</interface><ipprotocol>inet46</ipprotocol>
      <source><any/></source><destination><network>lan</network></destination>
      <descr>keep off the LAN</descr></rule>
    <rule><type>pass</type><interface>opt1</interface><ipprotocol>inet46</ipprotocol>
      <source><any/></source><destination><any/></destination><descr>the rest</descr></rule>
  </filter>)", true).string();
  r = Run(opts);
  EXPECT_EQ(Find(r, "ipv6-unfiltered"), nullptr) << FormatAudit(r, opts);
}

TEST_F(AuditTest, PrivateNetworkLeavingWithoutOutboundNatIsFound) {
  const std::string rules = R"(<filter>
    <rule><type>pass</type><interface>opt1</interface><ipprotocol>inet</ipprotocol>
      <source><network>opt1</network></source><destination><any/></destination>
      <descr>all out</descr></rule>
  </filter>)";
  AuditOptions opts;
  opts.pfsense = Config(rules).string();
  AuditResult r = Run(opts);
  EXPECT_EQ(Find(r, "outbound-nat-missing"), nullptr) << FormatAudit(r, opts);

  opts.pfsense = Config(rules + "<nat><outbound><mode>disabled</mode></outbound></nat>").string();
  r = Run(opts);
  const Finding* f = Find(r, "outbound-nat-missing");
  ASSERT_NE(f, nullptr) << FormatAudit(r, opts);
  EXPECT_EQ(f->subject, "network 'opt1' -> internet");
  EXPECT_THAT(f->message, HasSubstr("from 10.0.5.0/24 out by 'wan'"));
  EXPECT_THAT(f->message, HasSubstr("mode 'disabled'"));
}

TEST_F(AuditTest, FindingsNameTheFirewallsOwnRulesByTextAndLeaveOutLettingOut) {
  // A virtual IP makes pfSense pass CARP everywhere; the port forward's filter rule lets ssh in
  // (and a scheduled rule makes the matrix be built twice, for the least and the most).
  AuditOptions opts;
  opts.pfsense = Config(R"(<virtualip><vip><mode>carp</mode><interface>lan</interface>
      <subnet>192.168.1.4</subnet><subnet_bits>24</subnet_bits></vip></virtualip>
    <filter><rule><type>pass</type><interface>wan</interface><protocol>tcp</protocol>
      <source><any/></source><destination><address>192.168.1.2</address><port>22</port>
      </destination><descr>NAT ssh</descr></rule>
      <rule><type>pass</type><interface>opt1</interface><sched>office</sched>
      <source><any/></source><destination><any/></destination></rule></filter>
    <nat><rule><interface>wan</interface><protocol>tcp</protocol><source><any/></source>
      <destination><network>wanip</network><port>22</port></destination>
      <target>192.168.1.2</target><local-port>22</local-port></rule></nat>)").string();
  AuditResult r = Run(opts);
  const Finding* f = Find(r, "open-from-outside");
  ASSERT_NE(f, nullptr) << FormatAudit(r, opts);
  EXPECT_THAT(f->message, HasSubstr("xml: filter/rule[1]"));
  EXPECT_THAT(f->message,
              HasSubstr("xml: virtualip ('pfSense passes CARP (IP protocol 112, vrrp)')"));
  EXPECT_THAT(f->message, ::testing::Not(HasSubstr("lets out anything")));
}

TEST_F(AuditTest, CaptivePortalMakesItsInterfaceUnknown) {
  AuditOptions opts;
  opts.pfsense = Config(R"(<filter>
    <rule><type>pass</type><interface>opt1</interface><ipprotocol>inet</ipprotocol>
      <source><any/></source><destination><any/></destination><descr>guests</descr></rule>
  </filter>
  <captiveportal><guests><enable/><interface>opt1</interface></guests></captiveportal>)")
                     .string();
  AuditResult r = Run(opts);
  std::string text = FormatAudit(r, opts);
  EXPECT_THAT(text, HasSubstr("-> internet             may: any")) << text;
  EXPECT_THAT(text, HasSubstr("captiveportal/guests: a captive portal"));
  EXPECT_NE(Find(r, "verdict-unknown"), nullptr);
}

TEST_F(AuditTest, SwitchedOffFilterLetsEverythingThrough) {
  AuditOptions opts;
  opts.pfsense = Config("<system><disablefilter/></system>").string();
  AuditResult r = Run(opts);
  const Finding* f = Find(r, "filter-disabled");
  ASSERT_NE(f, nullptr) << FormatAudit(r, opts);
  EXPECT_EQ(f->risk, Risk::kCritical);
  EXPECT_THAT(FormatAudit(r, opts), HasSubstr("internet\n  -> lan (network)        any"));
}

TEST_F(AuditTest, ScheduledRuleMakesItsVerdictsUnknown) {
  AuditOptions opts;
  opts.pfsense = Config(R"(<filter>
    <rule><type>pass</type><interface>opt1</interface><ipprotocol>inet</ipprotocol>
      <protocol>tcp</protocol><source><any/></source>
      <destination><any/><port>22</port></destination>
      <sched>office</sched><descr>ssh by day</descr></rule>
  </filter>)").string();
  AuditResult r = Run(opts);
  bool any_unknown = false;
  for (const auto& row : r.matrix.cells) {
    for (const Cell& c : row) any_unknown = any_unknown || !c.unknown.empty();
  }
  EXPECT_TRUE(any_unknown) << FormatAudit(r, opts);
  EXPECT_NE(Find(r, "verdict-unknown"), nullptr);
  EXPECT_THAT(FormatAudit(r, opts), HasSubstr("may: tcp 22"));
}

// A pass rule with a gateway routes what it passes to the gateway: the internet is still
// reached, but whether the firewall and the other interfaces' networks are is unknown.
TEST_F(AuditTest, PolicyRoutedRuleLeavesLocalDestinationsUnknown) {
  AuditOptions opts;
  opts.pfsense = Config(R"(<gateways><gateway_item><interface>wan</interface>
      <gateway>dynamic</gateway><name>WANGW</name></gateway_item></gateways>
    <filter>
    <rule><type>pass</type><interface>lan</interface><ipprotocol>inet</ipprotocol>
      <source><any/></source><destination><any/></destination>
      <gateway>WANGW</gateway><descr>out by wan</descr></rule>
  </filter>)").string();
  AuditResult r = Run(opts);
  std::string text = FormatAudit(r, opts);
  EXPECT_THAT(text, HasSubstr("-> opt1 (network)       may: any\n"));
  EXPECT_THAT(text, HasSubstr("-> internet             any\n"));
  EXPECT_THAT(text, HasSubstr("policy routing to gateway 'WANGW'"));
  EXPECT_NE(Find(r, "verdict-unknown"), nullptr) << text;

  // The routed rule takes its packets first: a later rule passing them does not make them sure.
  opts.pfsense = Config(R"(<gateways><gateway_item><interface>wan</interface>
      <gateway>dynamic</gateway><name>WANGW</name></gateway_item></gateways>
    <filter>
    <rule><type>pass</type><interface>lan</interface><ipprotocol>inet</ipprotocol>
      <protocol>tcp</protocol><source><any/></source><destination><any/><port>80</port>
      </destination><gateway>WANGW</gateway><descr>web by wan</descr></rule>
    <rule><type>pass</type><interface>lan</interface><ipprotocol>inet</ipprotocol>
      <source><any/></source><destination><any/></destination><descr>the rest</descr></rule>
  </filter>)").string();
  text = FormatAudit(Run(opts), opts);
  EXPECT_THAT(text, HasSubstr("-> opt1 (network)       any except tcp 80; may: tcp 80\n"));
}

// A port without a protocol is dropped by pfSense, which keeps the rule to TCP: every TCP port
// passes, and the finding says so.
TEST_F(AuditTest, PortWithoutProtocolIsWiderThanItLooks) {
  AuditOptions opts;
  opts.pfsense = Config(R"(<filter>
    <rule><type>pass</type><interface>lan</interface><ipprotocol>inet</ipprotocol>
      <source><network>lan</network></source><destination><any/><port>80</port></destination>
      <descr>web</descr></rule>
  </filter>)").string();
  AuditResult r = Run(opts);
  auto ignored = std::find_if(r.findings.begin(), r.findings.end(), [](const Finding& f) {
    return f.kind == "rule-wider-than-it-looks" &&
           f.message.find("port is ignored") != std::string::npos;
  });
  ASSERT_NE(ignored, r.findings.end()) << FormatAudit(r, opts);
  EXPECT_EQ(ignored->message,
            "it names a destination port but no protocol: the port is ignored, and the rule "
            "passes every TCP port");
  EXPECT_THAT(FormatAudit(r, opts), HasSubstr("-> internet             tcp\n"));
}

TEST_F(AuditTest, AddressOfTheOtherFamilyMakesARuleThatNeverMatches) {
  AuditOptions opts;
  opts.pfsense = Config(R"(<filter>
    <rule><type>pass</type><interface>lan</interface><ipprotocol>inet</ipprotocol>
      <source><any/></source><destination><address>2001:db8::1</address></destination>
      <descr>mixed</descr></rule>
  </filter>)").string();
  AuditResult r = Run(opts);
  const Finding* f = Find(r, "rule-never-matches");
  ASSERT_NE(f, nullptr) << FormatAudit(r, opts);
  EXPECT_THAT(f->message, HasSubstr("'2001:db8::1' is an IPv6 address in an IPv4 rule"));
}

// pfSense's default NAT reflection, with neither disablenatreflection nor pure NAT set, is its
// proxy: the LAN reaches what a port forward sends on, TCP only, whatever the LAN's own rules
// say. Pure NAT rewrites on the LAN too, and the LAN's rules then judge.
TEST_F(AuditTest, NatReflectionByProxyPassesWhateverTheInsideRulesSay) {
  const std::string forward = R"(<nat><rule><interface>wan</interface><protocol>tcp/udp</protocol>
      <source><any/></source><destination><network>wanip</network><port>2222</port>
      </destination><target>10.0.5.10</target><local-port>22</local-port>
      <descr>ssh in</descr></rule></nat>)";
  const std::string block = R"(<filter><rule><type>block</type><interface>lan</interface>
      <ipprotocol>inet</ipprotocol><source><any/></source><destination><any/></destination>
      </rule></filter>)";
  AuditOptions opts;
  opts.pfsense = Config(forward + block).string();
  AuditResult r = Run(opts);
  std::string text = FormatAudit(r, opts);
  EXPECT_THAT(text, HasSubstr("-> opt1 (network)       tcp 22 to 10.0.5.10\n")) << text;
  const Finding* f = Find(r, "port-forward-reflected");
  ASSERT_NE(f, nullptr) << text;
  EXPECT_THAT(f->message, HasSubstr("NAT reflection by proxy lets 'lan'"));

  // Only the inside networks the forward's source lets in are reflected to.
  opts.pfsense = Config(Replace(forward, "<source><any/></source>",
                                "<source><network>lan</network></source>") +
                        block)
                     .string();
  r = Run(opts);
  ASSERT_NE(Find(r, "port-forward-reflected"), nullptr);
  EXPECT_THAT(Find(r, "port-forward-reflected")->message,
              HasSubstr("NAT reflection by proxy lets 'lan' reach"));

  // Pure NAT: the LAN's block all decides.
  opts.pfsense =
      Config("<system><enablenatreflectionpurenat>yes</enablenatreflectionpurenat></system>" +
             forward + block)
          .string();
  r = Run(opts);
  text = FormatAudit(r, opts);
  EXPECT_THAT(text, Not(HasSubstr("-> opt1 (network)       tcp 22"))) << text;
  EXPECT_EQ(Find(r, "port-forward-reflected"), nullptr);
}

// A .vbox machine file under dir_/vms with `adapters` (slot, attachment element) in its
// Hardware; Intel adapters, which FreeBSD names em0, em1, ... in slot order.
void WriteMachine(const fs::path& dir, const std::string& name,
                  const std::vector<std::pair<int, std::string>>& adapters,
                  const std::string& type = "82540EM") {
  std::string network;
  for (const auto& [slot, attachment] : adapters) {
    network += fmt::format("<Adapter slot=\"{}\" enabled=\"true\" type=\"{}\">{}</Adapter>",
                           slot, type, attachment);
  }
  fs::create_directories(dir);
  Spit(dir / (name + ".vbox"),
       harness::VBoxMachineFile(name, "<Network>" + network + "</Network>"));
}

// The config's DMZ is on em2, but the firewall VM has two adapters: pfSense would not find it.
TEST_F(AuditTest, InterfaceWithoutAnAdapterOfTheFirewallVmIsFound) {
  WriteMachine(dir_ / "vms", "pfsense",
               {{0, "<NAT/>"}, {1, "<InternalNetwork name=\"lan\"/>"}});
  AuditOptions opts = WithMachines();
  AuditResult r = Run(opts);
  ASSERT_EQ(r.firewall_vm, "pfsense");
  const Finding* f = Find(r, "interface-without-adapter");
  ASSERT_NE(f, nullptr) << FormatAudit(r, opts);
  EXPECT_EQ(f->subject, "interface 'opt1'");
  EXPECT_THAT(f->message, HasSubstr("its adapters are em0 (adapter 1), em1 (adapter 2)"));
}

// Copies of one image share a name: their rows are told apart by their files.
TEST_F(AuditTest, MachinesOfOneNameAreToldApartByTheirFiles) {
  std::string hw = "<Network><Adapter slot=\"0\" enabled=\"true\"><NAT/></Adapter></Network>";
  Spit(dir_ / "a.vbox", harness::VBoxMachineFile("Ubuntu", hw));
  Spit(dir_ / "b.vbox",
       Replace(harness::VBoxMachineFile("Ubuntu", hw), "uuid=\"{Ubuntu}\"", "uuid=\"{copy}\""));
  AuditOptions opts;
  opts.vbox = {(dir_ / "a.vbox").string(), (dir_ / "b.vbox").string()};
  AuditResult r = Run(opts);
  ASSERT_EQ(r.vms.size(), 2u);
  EXPECT_EQ(r.vms[0].name, "Ubuntu (a.vbox)");
  EXPECT_EQ(r.vms[1].name, "Ubuntu (b.vbox)");
}

// Two gateways, neither named like a firewall: the audit says it cannot tell, and which.
TEST_F(AuditTest, AmbiguousFirewallVmIsSaidWithItsCandidates) {
  for (const char* name : {"gw1", "web"}) {
    WriteMachine(dir_ / "vms", name, {{0, "<NAT/>"}, {1, "<InternalNetwork name=\"lan\"/>"}});
  }
  AuditOptions opts = WithMachines();
  AuditResult r = Run(opts);
  EXPECT_EQ(r.firewall_vm, "");
  const Finding* f = Find(r, "firewall-vm-not-found");
  ASSERT_NE(f, nullptr) << FormatAudit(r, opts);
  EXPECT_THAT(f->message, HasSubstr("it could be 'gw1', 'web'): give --firewall-vm"));
}

// pfSense blocks TCP and UDP port 0 everywhere, and no matrix holds it: a cell that lacks only
// udp 53 says that much, not "udp 0,53".
TEST_F(AuditTest, PortZeroIsNoLackInACell) {
  AuditOptions opts;
  opts.pfsense = Config(R"(<filter>
    <rule><type>block</type><interface>lan</interface><ipprotocol>inet</ipprotocol>
      <protocol>udp</protocol><source><any/></source><destination><any/><port>53</port>
      </destination></rule>
    <rule><type>pass</type><interface>lan</interface><ipprotocol>inet</ipprotocol>
      <source><any/></source><destination><any/></destination></rule>
  </filter>)").string();
  std::string text = FormatAudit(Run(opts), opts);
  EXPECT_THAT(text, HasSubstr("-> internet             any except udp 53\n")) << text;

  // Nor is it held where a cell is told by what it holds.
  opts.pfsense = Config(R"(<filter>
    <rule><type>pass</type><interface>lan</interface><ipprotocol>inet</ipprotocol>
      <protocol>tcp</protocol><source><any/></source><destination><any/><port>1-79</port>
      </destination></rule>
  </filter>)").string();
  text = FormatAudit(Run(opts), opts);
  EXPECT_THAT(text, HasSubstr("-> internet             tcp 1-79\n")) << text;
}

}  // namespace
}  // namespace bulkhead
