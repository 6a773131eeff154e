// SPDX-License-Identifier: Apache-2.0
// The random set-up generator. It first draws the shape (zones, VMs, destinations), turns
// per-VM zones shared until the firewall's adapters suffice, then writes the TOML with rules
// drawn from small pools of targets and ports, so that rules overlap and shadow each other.
// A private generator (splitmix64) keeps the text the same on every platform.
#include "lab/random_spec.h"

#include <fmt/format.h>

#include <algorithm>
#include <vector>

namespace bulkhead {
namespace {

constexpr int kIch9Networks = 34;  // 36 adapters less the WAN and the host-only network
constexpr int kPiix3Networks = 6;

// Literal addresses and prefixes in the documentation ranges; several overlap on purpose.
// Prefixes stay at /25 or longer so the lab always finds free addresses for host names.
const std::vector<std::string> kV4Literals = {
    "203.0.113.0/25",    "203.0.113.8/29",    "203.0.113.80/29", "203.0.113.81", "203.0.113.200",
    "198.51.100.128/26", "198.51.100.160/27", "192.0.2.16/28",   "192.0.2.17",   "192.0.2.64/26"};
const std::vector<std::string> kV6Literals = {"2001:db8::/48", "2001:db8:1::10", "2001:db8:2::/64"};
const std::vector<std::string> kHostNames = {"www.shop.example", "api.shop.example",
                                             "mirror.example.org", "mail.example.net"};
// Rule-only targets: everything, the internal pool, the host LAN.
const std::vector<std::string> kWideLiterals = {"0.0.0.0/0", "10.137.0.0/16", "192.168.1.0/24"};
const std::vector<std::string> kPorts = {
    "22",          "53",        "80", "443", "123", "8080", "\"8000-8100\"", "\"1000-2000\"",
    "\"440-450\"", "\"50-60\"", "67"};
const std::vector<std::string> kIcmpTypes = {"\"echo-request\"", "\"echo-reply\"", "8",
                                             "\"time-exceeded\"", "\"destination-unreachable\""};

class Rng {
 public:
  explicit Rng(uint64_t seed) : state_(seed) {}

  uint64_t Next() {
    uint64_t z = (state_ += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
  }
  int Below(int n) { return n <= 0 ? 0 : static_cast<int>(Next() % static_cast<uint64_t>(n)); }
  int Between(int lo, int hi) { return lo + Below(hi - lo + 1); }
  bool Chance(int percent) { return Below(100) < percent; }
  const std::string& Of(const std::vector<std::string>& v) { return v[Below(v.size())]; }

 private:
  uint64_t state_;
};

struct ZoneShape {
  std::string name;
  bool shared = false;
  bool dns = true;
};

struct VmShape {
  std::string name;
  std::string zone;  // "offline" or a zone name
};

class Generator {
 public:
  Generator(uint64_t seed, const RandomSpecOptions& options) : rng_(seed), options_(options) {}

  std::string Run() {
    DrawShape();
    FitAdapters();
    WriteHost();
    WriteFirewall();
    WriteDestinations();
    for (const ZoneShape& z : zones_) WriteZone(z);
    for (const VmShape& vm : vms_) WriteVm(vm);
    return out_;
  }

 private:
  void DrawShape() {
    int zone_count = rng_.Between(1, std::max(1, options_.max_zones));
    for (int i = 0; i < zone_count; ++i) {
      zones_.push_back({fmt::format("z{}", i), rng_.Chance(30), rng_.Chance(75)});
    }
    int vm_count = rng_.Between(options_.min_vms, std::max(options_.min_vms, options_.max_vms));
    for (int i = 0; i < vm_count; ++i) {
      bool offline = rng_.Chance(15);
      vms_.push_back(
          {fmt::format("vm{}", i), offline ? "offline" : zones_[rng_.Below(zone_count)].name});
    }
    int dest_count = rng_.Between(0, options_.max_destinations);
    for (int i = 0; i < dest_count; ++i) destinations_.push_back(fmt::format("dest{}", i));
  }

  int OnlineIn(const std::string& zone) const {
    return static_cast<int>(
        std::count_if(vms_.begin(), vms_.end(), [&](const VmShape& v) { return v.zone == zone; }));
  }

  int NetworkCount() const {
    int n = 0;
    for (const ZoneShape& z : zones_)
      n += z.shared ? std::min(1, OnlineIn(z.name)) : OnlineIn(z.name);
    return n;
  }

  // Shares the per-VM zone with the most VMs until the networks fit the ICH9 chipset.
  void FitAdapters() {
    while (NetworkCount() > kIch9Networks) {
      ZoneShape* widest = nullptr;
      for (ZoneShape& z : zones_) {
        if (!z.shared && (!widest || OnlineIn(z.name) > OnlineIn(widest->name))) widest = &z;
      }
      if (!widest) break;
      widest->shared = true;
    }
  }

  std::vector<std::string> OnlineVms() const {
    std::vector<std::string> out;
    for (const VmShape& v : vms_) {
      if (v.zone != "offline") out.push_back(v.name);
    }
    return out;
  }

  void WriteHost() {
    out_ += "[host]\nphysical_nic = \"eth9\"\n";
    if (rng_.Chance(50)) out_ += "lan_subnet = \"192.168.1.0/24\"\n";
    int rules = rng_.Between(0, 2);
    for (int i = 0; i < rules; ++i) WriteRule("host.egress");
    out_ += "\n";
  }

  void WriteFirewall() {
    out_ += "[firewall]\nengine = \"nftables\"\n";
    if (NetworkCount() > kPiix3Networks) out_ += "chipset = \"ich9\"\n";
    if (rng_.Chance(15)) out_ += "dns_resolver = false\n";
    if (rng_.Chance(60)) out_ += fmt::format("admin_from = [{}]\n", AdminFrom());
    out_ += "\n";
  }

  std::string AdminFrom() {
    std::vector<std::string> pool = {"host"};
    for (const ZoneShape& z : zones_) pool.push_back(z.name);
    for (const std::string& v : OnlineVms()) pool.push_back(v);
    std::vector<std::string> chosen;
    for (const std::string& name : pool) {
      if (rng_.Chance(30)) chosen.push_back(fmt::format("\"{}\"", name));
    }
    return fmt::format("{}", fmt::join(chosen, ", "));
  }

  void WriteDestinations() {
    if (destinations_.empty()) return;
    out_ += "[destinations]\n";
    for (const std::string& d : destinations_) {
      std::vector<std::string> entries;
      int count = rng_.Between(1, 3);
      for (int i = 0; i < count; ++i) entries.push_back(fmt::format("\"{}\"", DestinationEntry()));
      out_ += fmt::format("{} = [{}]\n", d, fmt::join(entries, ", "));
    }
    out_ += "\n";
  }

  std::string DestinationEntry() {
    int kind = rng_.Below(10);
    if (kind < 5) return rng_.Of(kV4Literals);
    if (kind < 8) return rng_.Of(kHostNames);
    return rng_.Of(kV6Literals);
  }

  void WriteZone(const ZoneShape& z) {
    out_ += fmt::format("[zones.{}]\n", z.name);
    if (z.shared) out_ += "network = \"shared\"\n";
    if (!z.dns) out_ += "dns = false\n";
    int rules = rng_.Between(0, options_.max_rules_per_zone);
    for (int i = 0; i < rules; ++i) WriteRule(fmt::format("zones.{}.egress", z.name));
    out_ += "\n";
  }

  void WriteVm(const VmShape& vm) {
    out_ +=
        fmt::format("[vms.{}]\nzone = \"{}\"\ntemplate = \"debian-base\"\n\n", vm.name, vm.zone);
  }

  std::string Target() {
    std::vector<std::string> online = OnlineVms();
    int kind = rng_.Below(12);
    if (kind < 3) return "internet";
    if (kind < 5 && !destinations_.empty()) return rng_.Of(destinations_);
    if (kind < 6) return zones_[rng_.Below(zones_.size())].name;
    if (kind < 7 && !online.empty()) return rng_.Of(online);
    if (kind < 9) return rng_.Of(kV4Literals);
    if (kind < 10) return rng_.Of(kHostNames);
    if (kind < 11) return rng_.Of(kV6Literals);
    return rng_.Of(kWideLiterals);
  }

  void WriteRule(const std::string& table) {
    out_ += fmt::format("[[{}]]\nto = \"{}\"\n", table, Target());
    if (rng_.Chance(30)) out_ += "action = \"deny\"\n";
    const char* protos[] = {"tcp", "udp", "icmp", "any"};
    std::string proto = protos[rng_.Below(4)];
    if (proto != "any" || rng_.Chance(50)) out_ += fmt::format("proto = \"{}\"\n", proto);
    if ((proto == "tcp" || proto == "udp") && rng_.Chance(75)) out_ += Ports();
    if (proto == "icmp" && rng_.Chance(50)) {
      out_ += fmt::format("icmp_type = {}\n", rng_.Of(kIcmpTypes));
    }
    int expiry = rng_.Below(20);
    if (expiry == 0) out_ += "expires = 2020-01-01\n";
    if (expiry == 1) out_ += "expires = 2030-01-01\n";
  }

  std::string Ports() {
    std::vector<std::string> ports;
    int count = rng_.Between(1, 3);
    for (int i = 0; i < count; ++i) ports.push_back(rng_.Of(kPorts));
    return fmt::format("ports = [{}]\n", fmt::join(ports, ", "));
  }

  Rng rng_;
  RandomSpecOptions options_;
  std::vector<ZoneShape> zones_;
  std::vector<VmShape> vms_;
  std::vector<std::string> destinations_;
  std::string out_;
};

}  // namespace

std::string RandomSpecToml(uint64_t seed, const RandomSpecOptions& options) {
  return Generator(seed, options).Run();
}

}  // namespace bulkhead
