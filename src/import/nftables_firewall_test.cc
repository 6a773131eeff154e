// SPDX-License-Identifier: Apache-2.0
// ReadNftablesFirewall on the golden firewall folder that RenderNftables writes: interfaces
// tied to their MACs and addresses, the WAN found by its DHCP, reservations from dnsmasq, and
// the policy from nftables.conf. Broken files give located errors.
#include <gtest/gtest.h>

#include <filesystem>

#include "import/artifacts.h"
#include "util/atomic_file.h"

namespace bulkhead {
namespace {

namespace fs = std::filesystem;

const std::string kFirewall =
    std::string(BULKHEAD_SOURCE_DIR) + "/tests/testdata/nft/golden/firewall";

const FirewallInterface* Find(const FirewallView& fw, const std::string& name) {
  for (const FirewallInterface& i : fw.interfaces) {
    if (i.name == name) return &i;
  }
  return nullptr;
}

TEST(ReadNftablesFirewall, ReadsTheRenderedFolder) {
  FirewallView fw;
  Diagnostics diags;
  ASSERT_TRUE(ReadNftablesFirewall(kFirewall, fw, diags)) << diags.Format();
  EXPECT_EQ(fw.wan, "wan0");
  ASSERT_EQ(fw.interfaces.size(), 7u);
  EXPECT_EQ(fw.interfaces[0].name, "wan0");
  EXPECT_TRUE(fw.interfaces[0].addresses.empty());
  const FirewallInterface* browser = Find(fw, "bh-browser");
  ASSERT_NE(browser, nullptr);
  EXPECT_EQ(browser->mac, "0800276A6323");
  EXPECT_EQ(browser->addresses, std::vector<Prefix>{*Prefix::Parse("10.137.0.1/24")});
  ASSERT_EQ(fw.reservations.size(), 5u);
  EXPECT_EQ(fw.reservations[0].mac, "0800272BA05C");
  EXPECT_EQ(fw.reservations[0].address, *IpAddress::Parse("10.137.0.10"));
  EXPECT_EQ(fw.policy.engine, "nftables");
  EXPECT_FALSE(fw.policy.forward.rules.empty());
}

// A scratch copy of the golden folder that a test may break.
class ScratchFolder {
 public:
  ScratchFolder() : path_(fs::temp_directory_path() / ("bh-nft-" + std::to_string(::getpid()))) {
    fs::remove_all(path_);
    fs::copy(kFirewall, path_, fs::copy_options::recursive);
  }
  ~ScratchFolder() { fs::remove_all(path_); }
  std::string Path(const std::string& rel = "") const { return (path_ / rel).string(); }

 private:
  fs::path path_;
};

TEST(ReadNftablesFirewall, ReportsBrokenFilesWithTheirLocation) {
  ScratchFolder dir;
  ASSERT_EQ(
      WriteFileAtomically(dir.Path("network/12-bh-browser.link"),
                          "[Match]\nMACAddress=08:00:27:zz:00:01\n\n[Link]\nName=bh-browser\n"),
      "");
  ASSERT_EQ(WriteFileAtomically(dir.Path("network/13-bh-work.network"),
                                "[Match]\nName=bh-work\n\n[Network]\nAddress=10.137.1.1/33\n"),
            "");
  ASSERT_EQ(WriteFileAtomically(dir.Path("dnsmasq.conf"), "dhcp-host=nonsense\n"), "");
  FirewallView fw;
  Diagnostics diags;
  EXPECT_FALSE(ReadNftablesFirewall(dir.Path(), fw, diags));
  EXPECT_EQ(diags.Format(), dir.Path("dnsmasq.conf") +
                                ":1:1: error: cannot read 'dhcp-host=nonsense'\n" +
                                dir.Path("network/12-bh-browser.link") +
                                ":2:1: error: invalid MAC '08:00:27:zz:00:01'\n" +
                                dir.Path("network/13-bh-work.network") +
                                ":5:9: error: invalid address '10.137.1.1/33'\n");
}

TEST(ReadNftablesFirewall, MissingRulesetIsAnError) {
  ScratchFolder dir;
  fs::remove(dir.Path("nftables.conf"));
  FirewallView fw;
  Diagnostics diags;
  EXPECT_FALSE(ReadNftablesFirewall(dir.Path(), fw, diags));
  EXPECT_EQ(diags.Format(), dir.Path("nftables.conf") + ": error: cannot read the file\n");
}

}  // namespace
}  // namespace bulkhead
