// SPDX-License-Identifier: Apache-2.0
// `bulkhead lab` against the real kernel: the example comes up in network namespaces, real
// probes agree with verify, a ruleset with one accept removed is caught, and `down --all`
// cleans up after a killed `up`. Without root or `ip netns` those tests are skipped; the
// layout tests run everywhere. A guard takes each lab down whatever happens.
#include "lab/lab.h"

#include <fmt/format.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>

#include "lab/netns.h"
#include "lab_guard.h"
#include "render/render.h"
#include "util/atomic_file.h"

namespace bulkhead {
namespace {

const std::string kExample = std::string(BULKHEAD_SOURCE_DIR) + "/examples/workstation.toml";
constexpr Date kToday{2026, 12, 1};

std::string NftablesExample() {
  std::string text;
  EXPECT_TRUE(ReadWholeFile(kExample, text));
  size_t at = text.find("engine = \"pfsense\"");
  if (at != std::string::npos) text.replace(at, 18, "engine = \"nftables\"");
  return text;
}

void Load(Spec& spec, Plan& plan) {
  Diagnostics diags;
  std::string text = NftablesExample();
  ASSERT_TRUE(ParseSpec("workstation.toml", text, spec, diags, kToday) &&
              MakePlan(spec, plan, diags))
      << diags.Format(text);
}

void BringUp(const std::string& name, Spec& spec, Plan& plan, LabLayout& layout, std::string& log) {
  ASSERT_NO_FATAL_FAILURE(Load(spec, plan));
  layout = MakeLabLayout(spec, plan, name);
  ASSERT_EQ(LabUp(spec, plan, kToday, layout, log), "");
}

TEST(LabLayout, NamesNamespacesAndWiresLikeThePlan) {
  Spec spec;
  Plan plan;
  Load(spec, plan);
  LabLayout l = MakeLabLayout(spec, plan, "t0");
  EXPECT_EQ(l.firewall_ns, "bhl-t0-fw");
  EXPECT_EQ(l.vm_ns.at("browser"), "bhl-t0-vm-browser");
  EXPECT_EQ(l.vm_ns.count("vault"), 0u);  // offline: no namespace
  EXPECT_EQ(l.switch_ns, "");             // no shared network in the example
  EXPECT_EQ(l.state_dir, "/run/bulkhead-lab/t0");
  auto has = [&](const std::string& c) {
    return std::find(l.commands.begin(), l.commands.end(), c) != l.commands.end();
  };
  EXPECT_TRUE(
      has("ip -n bhl-t0-vm-browser link add eth0 type veth peer name bh-browser netns "
          "bhl-t0-fw"));
  EXPECT_TRUE(has("ip -n bhl-t0-vm-git addr add 10.137.4.10/24 dev eth0"));
  EXPECT_TRUE(has("ip -n bhl-t0-host route add default via 192.168.56.1"));
  EXPECT_TRUE(
      has("ip -n bhl-t0-fw link add host0 type veth peer name vboxnet0 netns "
          "bhl-t0-host"));
  EXPECT_TRUE(has("ip -n bhl-t0-inet addr add 203.0.113.81/32 dev lo"));
  ASSERT_EQ(l.host_names.size(), 3u);
  EXPECT_EQ(l.host_names[0].name, "deb.debian.org");
  EXPECT_EQ(l.host_names[0].address.ToString(), "198.51.100.10");
  EXPECT_EQ(l.elsewhere.ToString(), "192.0.2.250");
  EXPECT_EQ(l.elsewhere_v6.ToString(), "2001:db8:ffff::250");
  EXPECT_TRUE(has("ip -n bhl-t0-inet addr add 2001:db8:ffff::250/128 nodad dev lo"));
  EXPECT_TRUE(has("ip -n bhl-t0-host -6 route add default via fe80::1 dev vboxnet0"));
  EXPECT_TRUE(has("ip -n bhl-t0-fw addr add fe80::1/64 nodad dev host0"));
  EXPECT_EQ(l.v6_sources.at("bhl-t0-host").ToString(), "fd00:b4:0:ffff::2");
  EXPECT_EQ(LabEntryAddress(*Prefix::Parse("2001:db8:5::/64"))->ToString(), "2001:db8:5::1");
  EXPECT_FALSE(LabEntryAddress(*Prefix::Parse("::/0")));
}

// The firewall namespace's interfaces carry exactly the names and addresses the rendered
// systemd-networkd files give them.
TEST(LabLayout, FirewallAddressesAreTheRenderedOnes) {
  Spec spec;
  Plan plan;
  Load(spec, plan);
  LabLayout l = MakeLabLayout(spec, plan, "t0");
  int checked = 0;
  for (const Artifact& a : RenderNftables(spec, plan, kToday)) {
    size_t name = a.content.find("Name="), address = a.content.find("Address=");
    if (a.path.find(".network") == std::string::npos || address == std::string::npos) continue;
    std::string iface = a.content.substr(name + 5, a.content.find('\n', name) - name - 5);
    std::string cidr = a.content.substr(address + 8, a.content.find('\n', address) - address - 8);
    std::string command = fmt::format("ip -n bhl-t0-fw addr add {} dev {}", cidr, iface);
    EXPECT_NE(std::find(l.commands.begin(), l.commands.end(), command), l.commands.end())
        << command;
    ++checked;
  }
  EXPECT_EQ(checked, 6);  // host0 and five internal networks; wan0 takes DHCP
}

TEST(LabLayout, SharedNetworkIsABridgeInTheSwitchNamespace) {
  std::string text = NftablesExample();
  text.replace(text.find("[zones.web]"), 11, "[zones.web]\nnetwork = \"shared\"");
  Spec spec;
  Plan plan;
  Diagnostics diags;
  ASSERT_TRUE(ParseSpec("w.toml", text, spec, diags, kToday) && MakePlan(spec, plan, diags))
      << diags.Format(text);
  LabLayout l = MakeLabLayout(spec, plan, "t0");
  EXPECT_EQ(l.switch_ns, "bhl-t0-sw");
  EXPECT_NE(
      std::find(l.commands.begin(), l.commands.end(), "ip -n bhl-t0-sw link add br0 type bridge"),
      l.commands.end());
}

TEST(LabLayout, NamesAreShortAndPlain) {
  struct Case {
    std::string name;
    bool valid;
  };
  for (const Case& c : std::vector<Case>{{"lab", true},
                                         {"a1", true},
                                         {"12345678", true},
                                         {"", false},
                                         {"123456789", false},
                                         {"a-b", false},
                                         {"Lab", false},
                                         {"a b", false}}) {
    EXPECT_EQ(ValidLabName(c.name), c.valid) << "'" << c.name << "'";
  }
}

TEST(Lab, ExampleAgreesWithVerifyAndGoesDownCleanly) {
  if (!LabUsable()) GTEST_SKIP() << "needs root and 'ip netns'";
  Spec spec;
  Plan plan;
  LabLayout layout;
  std::string log;
  {
    LabGuard guard("t1");
    ASSERT_NO_FATAL_FAILURE(BringUp("t1", spec, plan, layout, log));
    EXPECT_NE(log.find("dns: filled set 'mybank_v4' with 198.51.100.12"), std::string::npos) << log;

    LabProbeResult result;
    Diagnostics diags;
    ASSERT_TRUE(ProbeLab(spec, plan, layout, kToday, result, diags, [](const std::string&) {}))
        << diags.Format();
    EXPECT_GT(result.probes.size(), 500u);
    EXPECT_TRUE(result.differences.empty()) << FormatLabProbe(result);
    // No IPv6 passes, though the lab's firewall forwards IPv6: the ruleset alone stops it.
    size_t v6 = 0;
    for (const LabProbe& p : result.probes) {
      if (p.to.family != Family::kV6) continue;
      ++v6;
      EXPECT_FALSE(p.observed) << p.target << " " << int{p.proto} << "/" << p.port;
    }
    EXPECT_GT(v6, 0u);
  }
  EXPECT_TRUE(NamespacesWithPrefix("bhl-t1-").empty());
  EXPECT_FALSE(std::filesystem::exists("/run/bulkhead-lab/t1"));
}

std::vector<std::string> DifferingProbes(const LabProbeResult& r) {
  std::vector<std::string> out;
  for (size_t i : r.differences) {
    const LabProbe& p = r.probes[i];
    out.push_back(fmt::format("{} -> {} {}/{} {}", r.verify.observed.sources[p.source].name,
                              p.target, p.proto, p.port, p.observed ? "passes" : "blocked"));
  }
  return out;
}

// Removes the IPv4 QUIC accept from the lab's ruleset. Probed before the kernel gets the new
// file, the lab differs from the file exactly where verify says the file changed; once loaded,
// the lab and verify agree again.
TEST(Lab, MutatedRulesetShowsTheDifferenceVerifyPredicts) {
  if (!LabUsable()) GTEST_SKIP() << "needs root and 'ip netns'";
  Spec spec;
  Plan plan;
  LabLayout layout;
  std::string log;
  LabGuard guard("t2");
  ASSERT_NO_FATAL_FAILURE(BringUp("t2", spec, plan, layout, log));

  std::string conf_path = layout.state_dir + "/nftables/nftables.conf";
  std::string conf;
  ASSERT_TRUE(ReadWholeFile(conf_path, conf));
  std::string quic = "    ip daddr != @internal_v4 udp dport 443 accept";
  size_t at = conf.find(quic);
  ASSERT_NE(at, std::string::npos);
  conf.erase(at, conf.find('\n', at) + 1 - at);
  ASSERT_EQ(WriteFileAtomically(conf_path, conf), "");

  LabProbeResult stale;
  Diagnostics diags;
  ASSERT_TRUE(ProbeLab(spec, plan, layout, kToday, stale, diags, [](const std::string&) {}));
  EXPECT_EQ(DifferingProbes(stale),
            (std::vector<std::string>{
                "browser -> deb.debian.org (198.51.100.10) 17/443 passes",
                "browser -> security.debian.org (198.51.100.11) 17/443 passes",
                "browser -> www.mybank.example (198.51.100.12) 17/443 passes",
                "browser -> 203.0.113.81 17/443 passes", "browser -> 192.0.2.250 17/443 passes"}));
  // verify, the spec against the mutated file: QUIC from 'browser' is missing, per column.
  ASSERT_EQ(stale.verify.differences.size(), 3u);
  for (const Difference& d : stale.verify.differences) {
    EXPECT_EQ(stale.verify.observed.sources[d.source].name, "browser");
    EXPECT_EQ(FormatServices(d.missing.Services()), "udp 443");
    EXPECT_TRUE(d.extra.empty());
  }

  ASSERT_EQ(LabLoadRulesets(layout, log), "");
  LabProbeResult fresh;
  ASSERT_TRUE(ProbeLab(spec, plan, layout, kToday, fresh, diags, [](const std::string&) {}));
  EXPECT_TRUE(fresh.differences.empty()) << FormatLabProbe(fresh);
}

// The IPv6 probes that find nothing must be able to: with the firewall's ruleset flushed from
// the kernel, every VM's IPv6 probe to the internet is answered.
TEST(Lab, Ipv6PassesWhenTheFirewallRulesetIsGone) {
  if (!LabUsable()) GTEST_SKIP() << "needs root and 'ip netns'";
  Spec spec;
  Plan plan;
  LabLayout layout;
  std::string log;
  LabGuard guard("t6");
  ASSERT_NO_FATAL_FAILURE(BringUp("t6", spec, plan, layout, log));
  ASSERT_EQ(RunShell("ip netns exec bhl-t6-fw nft flush ruleset").status, 0);

  LabProbeResult result;
  Diagnostics diags;
  ASSERT_TRUE(ProbeLab(spec, plan, layout, kToday, result, diags, [](const std::string&) {}));
  size_t v6 = 0;
  for (const LabProbe& p : result.probes) {
    if (p.to != layout.elsewhere_v6 || p.source_ns == layout.host_ns) continue;
    ++v6;
    EXPECT_TRUE(p.observed) << p.source_ns << " " << int{p.proto} << "/" << p.port;
  }
  EXPECT_EQ(v6, 3 * layout.vm_ns.size());
}

std::string WriteSpecFile(const std::string& tag, const std::string& text) {
  std::string file = fmt::format("/tmp/bh-lab-test-{}-{}.toml", tag, ::getpid());
  EXPECT_EQ(WriteFileAtomically(file, text), "");
  return file;
}

ShellRun Bulkhead(const std::string& args) {
  return RunShell(fmt::format("({} {} 2>/dev/null)", BULKHEAD_BINARY, args));  // stdout only
}

// Two labs side by side through the command line, one with a shared network whose two VMs
// reach each other over the switch namespace's bridge; taking one down leaves the other.
TEST(Lab, TwoLabsSideBySideThroughTheCommandLine) {
  if (!LabUsable()) GTEST_SKIP() << "needs root and 'ip netns'";
  std::string shared = NftablesExample();
  shared.replace(shared.find("[zones.web]"), 11, "[zones.web]\nnetwork = \"shared\"");
  shared += "\n[vms.browser2]\nzone = \"web\"\ntemplate = \"debian-base\"\n";
  std::string plain_file = WriteSpecFile("plain", NftablesExample());
  std::string shared_file = WriteSpecFile("shared", shared);
  LabGuard guard4("t4"), guard5("t5");

  ASSERT_EQ(Bulkhead("lab up " + plain_file + " --name t4").status, 0);
  ASSERT_EQ(Bulkhead("lab up " + shared_file + " --name t5").status, 0);
  ShellRun probe = Bulkhead("lab probe " + shared_file + " --name t5 --json");
  EXPECT_EQ(probe.status, 0) << probe.output;
  nlohmann::json report = nlohmann::json::parse(probe.output, nullptr, false);
  ASSERT_FALSE(report.is_discarded()) << probe.output;
  EXPECT_EQ(report["differences"], 0);
  bool bridged = false;
  for (const nlohmann::json& p : report["probes"]) {
    bridged |= p["source"] == "browser" && p["destination"] == "browser2" && p["observed"];
  }
  EXPECT_TRUE(bridged);

  EXPECT_EQ(Bulkhead("lab down --name t4").status, 0);
  EXPECT_TRUE(NamespacesWithPrefix("bhl-t4-").empty());
  EXPECT_EQ(NamespacesWithPrefix("bhl-t5-").size(), 10u);
  EXPECT_EQ(Bulkhead("lab up " + shared_file + " --name t5").status, 0);  // over itself
  EXPECT_EQ(Bulkhead("lab probe " + shared_file + " --name t5").status, 0);
  std::remove(plain_file.c_str());
  std::remove(shared_file.c_str());
}

TEST(Lab, DownAllCleansUpAfterAKilledUp) {
  if (!LabUsable()) GTEST_SKIP() << "needs root and 'ip netns'";
  std::string file = WriteSpecFile("killed", NftablesExample());
  pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    ::execl(BULKHEAD_BINARY, "bulkhead", "lab", "up", file.c_str(), "--name", "t3", nullptr);
    ::_exit(127);
  }
  ::usleep(150 * 1000);
  ::kill(child, SIGKILL);
  ::waitpid(child, nullptr, 0);

  ShellRun down = RunShell(std::string(BULKHEAD_BINARY) + " lab down --all");
  EXPECT_EQ(down.status, 0) << down.output;
  EXPECT_TRUE(NamespacesWithPrefix("bhl-").empty());
  EXPECT_FALSE(std::filesystem::exists("/run/bulkhead-lab"));
  std::remove(file.c_str());
}

}  // namespace
}  // namespace bulkhead
