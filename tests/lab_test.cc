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
#include <map>

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
      has("ip -n bhl-t0-vm-browser link add eth0 address 02:02:00:00:00:02 type veth peer name "
          "bh-browser address 02:01:00:00:00:00 netns bhl-t0-fw"));
  EXPECT_TRUE(has("ip -n bhl-t0-vm-git addr add 10.137.4.10/24 dev eth0"));
  EXPECT_TRUE(has("ip -n bhl-t0-host route add default via 192.168.56.1"));
  EXPECT_TRUE(
      has("ip -n bhl-t0-fw link add host0 address 02:01:ff:ff:00:00 type veth peer name "
          "vboxnet0 address 02:02:ff:ff:00:02 netns bhl-t0-host"));
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

// The rendered ruleset drops neighbour discovery to the firewall, so every IPv6 hop has
// permanent neighbour entries on both ends, naming the MAC address the other end was made with.
TEST(LabLayout, EveryIpv6HopHasPermanentNeighboursOnBothEnds) {
  Spec spec;
  Plan plan;
  Load(spec, plan);
  LabLayout l = MakeLabLayout(spec, plan, "t0");
  auto has = [&](const std::string& c) {
    return std::find(l.commands.begin(), l.commands.end(), c) != l.commands.end();
  };
  const char* kNeighbours[] = {
      // VM 'browser' <-> the firewall's 'bh-browser'
      "ip -n bhl-t0-vm-browser -6 neigh add fe80::1 lladdr 02:01:00:00:00:00 dev eth0 nud "
      "permanent",
      "ip -n bhl-t0-fw -6 neigh add fd00:b4::2 lladdr 02:02:00:00:00:02 dev bh-browser nud "
      "permanent",
      // the host <-> the firewall's 'host0'
      "ip -n bhl-t0-host -6 neigh add fe80::1 lladdr 02:01:ff:ff:00:00 dev vboxnet0 nud "
      "permanent",
      "ip -n bhl-t0-fw -6 neigh add fd00:b4:0:ffff::2 lladdr 02:02:ff:ff:00:02 dev host0 nud "
      "permanent",
      // the firewall's WAN <-> the internet
      "ip -n bhl-t0-fw -6 neigh add fe80::2 lladdr 02:03:00:00:00:02 dev wan0 nud permanent",
      "ip -n bhl-t0-inet -6 neigh add fe80::1 lladdr 02:03:00:00:00:01 dev eth0 nud permanent",
  };
  for (const char* c : kNeighbours) EXPECT_TRUE(has(c)) << c;
  EXPECT_TRUE(
      has("ip -n bhl-t0-fw link add wan0 address 02:03:00:00:00:01 type veth peer name eth0 "
          "address 02:03:00:00:00:02 netns bhl-t0-inet"));
  size_t neighbours = std::count_if(l.commands.begin(), l.commands.end(), [](const auto& c) {
    return c.find(" -6 neigh add ") != std::string::npos;
  });
  EXPECT_EQ(neighbours, 2 * (l.vm_ns.size() + 2));  // each VM, the host, the WAN
}

// `probe` refuses a lab that is not up, and one whose `up` never reached its last step.
TEST(LabLayout, ReadyOnlyOnceUpHasFinished) {
  LabLayout l;
  l.name = "t9";
  l.state_dir = fmt::format("/tmp/bh-lab-ready-{}", ::getpid());
  std::filesystem::remove_all(l.state_dir);
  EXPECT_EQ(LabReady(l), "lab 't9' is not up (run 'bulkhead lab up FILE --name t9')");
  std::filesystem::create_directories(l.state_dir + "/nftables");
  EXPECT_EQ(LabReady(l),
            "lab 't9' is incomplete: its 'lab up' did not finish (run 'bulkhead lab up FILE "
            "--name t9' again)");
  ASSERT_EQ(WriteFileAtomically(l.state_dir + "/" + kLabCompleteFile, "w.toml\n"), "");
  EXPECT_EQ(LabReady(l), "");
  std::filesystem::remove_all(l.state_dir);
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
  std::map<std::string, size_t> v6;  // per VM
  for (const LabProbe& p : result.probes) {
    if (p.to != layout.elsewhere_v6 || p.source_ns == layout.host_ns) continue;
    ++v6[p.source_ns];
    EXPECT_TRUE(p.observed) << p.source_ns << " " << int{p.proto} << "/" << p.port;
  }
  EXPECT_EQ(v6.size(), layout.vm_ns.size());
  for (const auto& [ns, count] : v6) EXPECT_GT(count, 10u) << ns;  // the IPv4 port choice
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

std::string BrowserNs(const LabLayout& l) { return l.vm_ns.at("browser"); }

// IPv6 probes see a pass: an IPv6 accept put into the kernel alone shows as exactly the IPv6
// probes it lets through, on the same ports as IPv4; written into the file and reloaded, verify
// reads it too and they agree, up to the range's last port and not past it.
TEST(Lab, Ipv6AcceptShowsWhereverItIsLoaded) {
  if (!LabUsable()) GTEST_SKIP() << "needs root and 'ip netns'";
  Spec spec;
  Plan plan;
  LabLayout layout;
  std::string log;
  LabGuard guard("t7");
  ASSERT_NO_FATAL_FAILURE(BringUp("t7", spec, plan, layout, log));
  const std::string rule = "ip6 daddr 2001:db8::/32 tcp dport 1-1024 accept";
  ASSERT_EQ(
      RunShell("ip netns exec bhl-t7-fw nft insert rule inet bulkhead forward_bh-browser " + rule)
          .status,
      0);

  LabProbeResult kernel_only;
  Diagnostics diags;
  ASSERT_TRUE(ProbeLab(spec, plan, layout, kToday, kernel_only, diags, [](const std::string&) {}))
      << diags.Format();
  std::vector<std::string> expected;
  for (const LabProbe& p : kernel_only.probes) {
    if (p.source_ns != BrowserNs(layout) || p.to != layout.elsewhere_v6) continue;
    if (p.proto == 6 && p.port <= 1024) {
      expected.push_back(fmt::format("browser -> {} 6/{} passes", p.target, p.port));
    }
  }
  EXPECT_EQ(DifferingProbes(kernel_only), expected);
  EXPECT_GE(expected.size(), 6u);  // 22, 53, 80, 443 and the ports beside them

  std::string conf_path = layout.state_dir + "/nftables/nftables.conf", conf;
  ASSERT_TRUE(ReadWholeFile(conf_path, conf));
  const std::string chain = "  chain forward_bh-browser {\n";
  ASSERT_NE(conf.find(chain), std::string::npos);
  conf.insert(conf.find(chain) + chain.size(), "    " + rule + "\n");
  ASSERT_EQ(WriteFileAtomically(conf_path, conf), "");
  ASSERT_EQ(LabLoadRulesets(layout, log), "");
  LabProbeResult both;
  ASSERT_TRUE(ProbeLab(spec, plan, layout, kToday, both, diags, [](const std::string&) {}));
  EXPECT_TRUE(both.differences.empty()) << FormatLabProbe(both);
  std::map<uint16_t, bool> edge;
  for (const LabProbe& p : both.probes) {
    if (p.source_ns == BrowserNs(layout) && p.to == layout.elsewhere_v6 && p.proto == 6) {
      edge[p.port] = p.observed;
    }
  }
  EXPECT_TRUE(edge[1] && edge[1024]);
  ASSERT_EQ(edge.count(1025), 1u);
  EXPECT_FALSE(edge[1025]);
}

// wan = "nat": the host's ruleset lets the firewall VM's own user (or group) out, which this
// machine need not have. nft reads such a name as an unused id while loading; the machine's
// /etc/passwd stays as it was, and the lab agrees with verify.
TEST(Lab, NatWanComesUpWhateverUsersThisMachineHas) {
  if (!LabUsable()) GTEST_SKIP() << "needs root and 'ip netns'";
  std::string text = NftablesExample();
  text.replace(text.find("wan = \"bridged\""), 15, "wan = \"nat\"");
  Spec spec;
  Plan plan;
  Diagnostics diags;
  ASSERT_TRUE(ParseSpec("nat.toml", text, spec, diags, kToday) && MakePlan(spec, plan, diags))
      << diags.Format(text);
  std::string passwd_before, passwd_after, group_before, group_after, log;
  ASSERT_TRUE(ReadWholeFile("/etc/passwd", passwd_before));
  ASSERT_TRUE(ReadWholeFile("/etc/group", group_before));
  LabGuard guard("t8");
  LabLayout layout = MakeLabLayout(spec, plan, "t8");
  ASSERT_EQ(LabUp(spec, plan, kToday, layout, log), "");
  LabProbeResult result;
  ASSERT_TRUE(ProbeLab(spec, plan, layout, kToday, result, diags, [](const std::string&) {}))
      << diags.Format();
  EXPECT_TRUE(result.differences.empty()) << FormatLabProbe(result);

  // A group this machine lacks, as an earlier host ruleset named VirtualBox's: the same.
  std::string host_path = layout.state_dir + "/host/nftables.conf", host;
  ASSERT_TRUE(ReadWholeFile(host_path, host));
  const std::string lo = "    oifname \"lo\" accept\n";
  size_t output = host.find(lo, host.find("chain output"));
  ASSERT_NE(output, std::string::npos);
  host.insert(output + lo.size(), "    oifname \"enp3s0\" meta skgid \"bhl-no-group\" accept\n");
  ASSERT_EQ(WriteFileAtomically(host_path, host), "");
  log.clear();
  ASSERT_EQ(LabLoadRulesets(layout, log), "");
  EXPECT_NE(log.find("host/nftables.conf: group 'bhl-no-group' does not exist on this machine; "
                     "nft reads it as id "),
            std::string::npos)
      << log;
  EXPECT_NE(RunShell("ip netns exec bhl-t8-host nft list chain inet bulkhead_host output")
                .output.find("skgid 2000000"),
            std::string::npos);
  ASSERT_TRUE(ReadWholeFile("/etc/passwd", passwd_after));
  ASSERT_TRUE(ReadWholeFile("/etc/group", group_after));
  EXPECT_EQ(passwd_before, passwd_after);
  EXPECT_EQ(group_before, group_after);
}

// A rule naming hundreds of ports, probed with a low open-file limit: the probes run in batches
// that fit it ((512 - 64) / 2 at a time) and agree; the old prober ran out of descriptors.
TEST(Lab, ManyPortsAreProbedInBatchesWithinTheFileLimit) {
  if (!LabUsable()) GTEST_SKIP() << "needs root and 'ip netns'";
  std::string ports;
  for (int p = 1; p < 800; p += 2) ports += fmt::format("{}{}", ports.empty() ? "" : ", ", p);
  std::string file = WriteSpecFile(
      "ports", fmt::format("[host]\nphysical_nic = \"enp3s0\"\n\n[firewall]\nengine = "
                           "\"nftables\"\n\n[zones.z]\n[[zones.z.egress]]\nto = \"internet\"\n"
                           "proto = \"udp\"\nports = [{}]\n\n[vms.v]\nzone = \"z\"\n"
                           "template = \"debian-base\"\n",
                           ports));
  LabGuard guard("t10");
  ASSERT_EQ(Bulkhead("lab up " + file + " --name t10").status, 0);
  ShellRun probe = RunShell(fmt::format("sh -c 'ulimit -n 512 && exec {} lab probe {} --name t10'",
                                        BULKHEAD_BINARY, file));
  EXPECT_EQ(probe.status, 0) << probe.output;
  EXPECT_NE(probe.output.find("probing: 225 to 448 of "), std::string::npos) << probe.output;
  EXPECT_NE(probe.output.find("agreed: all "), std::string::npos) << probe.output;
  std::remove(file.c_str());
}

// An error while probing is told as it is, the system's own words included.
TEST(Lab, ProbeSaysWhyItCannotEnterANamespace) {
  if (!LabUsable()) GTEST_SKIP() << "needs root and 'ip netns'";
  Spec spec;
  Plan plan;
  LabLayout layout;
  std::string log;
  LabGuard guard("t11");
  ASSERT_NO_FATAL_FAILURE(BringUp("t11", spec, plan, layout, log));
  ASSERT_EQ(RunShell("ip netns delete bhl-t11-inet").status, 0);
  LabProbeResult result;
  Diagnostics diags;
  EXPECT_FALSE(ProbeLab(spec, plan, layout, kToday, result, diags, [](const std::string&) {}));
  EXPECT_EQ(diags.Format(),
            "bulkhead: error: cannot enter network namespace 'bhl-t11-inet' (No such file or "
            "directory; is the lab up?)\n");
}

int ExitStatus(const ShellRun& r) { return WIFEXITED(r.status) ? WEXITSTATUS(r.status) : -1; }

// `lab up` interrupted once it has begun wiring: probe and reload refuse the lab, saying what
// to do, and exit 2.
TEST(Lab, AnInterruptedUpIsRefused) {
  if (!LabUsable()) GTEST_SKIP() << "needs root and 'ip netns'";
  std::string file = WriteSpecFile("interrupted", NftablesExample());
  LabGuard guard("t12");
  pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    ::execl(BULKHEAD_BINARY, "bulkhead", "lab", "up", file.c_str(), "--name", "t12", nullptr);
    ::_exit(127);
  }
  for (int i = 0; i < 1000 && NamespacesWithPrefix("bhl-t12-").empty(); ++i) ::usleep(2000);
  ::kill(child, SIGINT);
  ::waitpid(child, nullptr, 0);
  ASSERT_FALSE(NamespacesWithPrefix("bhl-t12-").empty());
  ASSERT_FALSE(std::filesystem::exists("/run/bulkhead-lab/t12/up-complete"));

  for (const char* action : {"probe", "reload"}) {
    ShellRun r = RunShell(fmt::format("{} lab {} {} --name t12", BULKHEAD_BINARY, action, file));
    EXPECT_EQ(ExitStatus(r), 2) << r.output;
    EXPECT_NE(r.output.find("bulkhead: error: lab 't12' is incomplete: its 'lab up' did not "
                            "finish (run 'bulkhead lab up FILE --name t12' again)"),
              std::string::npos)
        << r.output;
  }
  std::remove(file.c_str());
}

// The way to test an edited ruleset: `nft -f` alone empties the DNS-filled sets and probe
// differs; `lab reload` loads the file with the sets refilled, and probe agrees.
TEST(Lab, ReloadRefillsTheDnsFilledSets) {
  if (!LabUsable()) GTEST_SKIP() << "needs root and 'ip netns'";
  std::string file = WriteSpecFile("reload", NftablesExample());
  LabGuard guard("t13");
  ASSERT_EQ(Bulkhead("lab up " + file + " --name t13").status, 0);
  ASSERT_EQ(RunShell("ip netns exec bhl-t13-fw nft -f /run/bulkhead-lab/t13/nftables/nftables.conf")
                .status,
            0);
  EXPECT_EQ(ExitStatus(Bulkhead("lab probe " + file + " --name t13")), 1);

  ShellRun reload = Bulkhead("lab reload " + file + " --name t13");
  EXPECT_EQ(reload.status, 0);
  EXPECT_NE(reload.output.find("dns: filled set 'mybank_v4' with 198.51.100.12"), std::string::npos)
      << reload.output;
  EXPECT_EQ(Bulkhead("lab probe " + file + " --name t13").status, 0);

  ShellRun absent = RunShell(fmt::format("{} lab reload {} --name t14", BULKHEAD_BINARY, file));
  EXPECT_EQ(ExitStatus(absent), 2);
  EXPECT_NE(absent.output.find(
                "bulkhead: error: lab 't14' is not up (run 'bulkhead lab up FILE --name t14')"),
            std::string::npos)
      << absent.output;
  std::remove(file.c_str());
}

TEST(Lab, DownAllCleansUpAfterAKilledUp) {
  if (!LabUsable()) GTEST_SKIP() << "needs root and 'ip netns'";
  if (!NamespacesWithPrefix("bhl-").empty()) {
    GTEST_SKIP() << "other labs are up on this machine, and 'down --all' would remove them";
  }
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
