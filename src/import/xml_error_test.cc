// SPDX-License-Identifier: Apache-2.0
// Tests of how a file that does not parse is reported: corpus files cut short at many points
// name what they leave open, and a file wrong in the middle names the elements open there, not
// the last element read.

#include "import/xml_error.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <string>

#include "harness.h"

namespace bulkhead {
namespace {

namespace fs = std::filesystem;

// The one error for `text`, which must not parse.
Diagnostic Malformed(const std::string& text) {
  pugi::xml_document doc;
  pugi::xml_parse_result result = doc.load_buffer(text.data(), text.size());
  EXPECT_FALSE(result) << text;
  Diagnostics diags;
  MalformedXml("config.xml", text, result, diags);
  EXPECT_EQ(diags.list().size(), 1u);
  return diags.list().empty() ? Diagnostic{} : diags.list()[0];
}

TEST(MalformedXml, ACorpusFileCutShortNamesWhatItLeavesOpen) {
  fs::path file = harness::Corpus() / "pfsense" / "netbed__1.xml";
  if (!fs::exists(file)) GTEST_SKIP() << "no corpus at " << file;
  std::string text = harness::Slurp(file);
  size_t range = text.find("<range>");
  ASSERT_NE(range, std::string::npos);
  size_t range_end = text.find("</range>", range);
  size_t to = text.find("<to>", range);
  struct Case {
    size_t cut;
    std::string message;
  } cases[] = {
      {10, "unexpected end of file"},  // inside <?xml ...?>
      {text.find("<pfsense>") + 4, "unexpected end of file"},
      {text.find("<pfsense>") + 9, "the file ends before 'pfsense' is closed"},
      {text.find("<system>") + 3, "the file ends before 'pfsense' is closed"},
      {to + 4, "the file ends before 'pfsense/dhcpd/lan/range/to' is closed"},
      {to + 8, "the file ends before 'pfsense/dhcpd/lan/range/to' is closed"},
      {text.find("</to>", to) + 3, "the file ends before 'pfsense/dhcpd/lan/range/to' is closed"},
      {text.find("</to>", to) + 5, "the file ends before 'pfsense/dhcpd/lan/range' is closed"},
      {range_end + 4, "the file ends before 'pfsense/dhcpd/lan/range' is closed"},
      {range_end + 8, "the file ends before 'pfsense/dhcpd/lan' is closed"},
      {range_end + 9, "the file ends before 'pfsense/dhcpd/lan' is closed"},
      {range_end + 12, "the file ends before 'pfsense/dhcpd/lan' is closed"},  // at a '<'
      {text.rfind("</pfsense>"), "the file ends before 'pfsense' is closed"},
      {text.rfind("</pfsense>") + 9, "the file ends before 'pfsense' is closed"},
  };
  for (const Case& c : cases) {
    Diagnostic d = Malformed(text.substr(0, c.cut));
    EXPECT_EQ(d.message, c.message) << "cut at " << c.cut << ": ..." << text.substr(c.cut - 20, 20);
    EXPECT_EQ(d.file, "config.xml");
    EXPECT_GT(d.loc.line, 0);
  }
}

TEST(MalformedXml, AnErrorInTheMiddleNamesTheElementsOpenThere) {
  // The last element read, 'b', is closed: the mismatch is in 'a'.
  Diagnostic d = Malformed("<pfsense>\n<a><b>x</b></c>\n</pfsense>\n");
  EXPECT_EQ(d.message, "malformed XML (start-end tags mismatch) in 'pfsense/a'");
  EXPECT_EQ(d.loc, (SourceLoc{2, 14}));

  // Comments, CDATA, processing instructions, empty elements and a '>' in an attribute value
  // open nothing.
  d = Malformed(
      "<?xml version=\"1.0\"?>\n<!-- <x> -->\n<pfsense><descr><![CDATA[<y>]]></descr>"
      "<?pi <z>?><empty/><rule note=\"a>b\" other='c/>'><bad attr=></rule></pfsense>\n");
  EXPECT_EQ(d.message, "malformed XML (error parsing element attribute) in 'pfsense/rule'");

  // Names are without their namespace prefix, as the readers name elements.
  d = Malformed("<vbox:VirtualBox xmlns:vbox=\"x\"><vbox:Machine></vbox:Global></vbox:VirtualBox>");
  EXPECT_EQ(d.message, "malformed XML (start-end tags mismatch) in 'VirtualBox/Machine'");
}

TEST(MalformedXml, AFileWithoutAnyElementSaysSo) {
  EXPECT_EQ(Malformed("").message, "malformed XML (no document element found)");
  EXPECT_EQ(Malformed("<!-- nothing -->\n").message, "malformed XML (no document element found)");
}

}  // namespace
}  // namespace bulkhead
