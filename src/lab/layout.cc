// SPDX-License-Identifier: Apache-2.0
// The lab's layout: which namespaces stand for which machine, and the `ip` commands that wire
// them as the plan wires the VMs. Per-VM networks are one veth pair from the firewall
// namespace to the VM's; a shared network is a bridge in the "sw" namespace. Pure: no command
// runs here, so the layout is tested without root.
#include <fmt/format.h>

#include <set>

#include "lab/lab.h"

namespace bulkhead {
namespace {

constexpr const char* kWanPrefix = "100.64.0.0/24";
constexpr const char* kSysctlFile = "sysctl.d/90-bulkhead.conf";

// IPv6 in the lab: sources take addresses from kV6SourcePrefix (network i gets
// fd00:b4:0:i::/64, the host-only network fd00:b4:0:ffff::/64) so that the firewall would
// forward their packets if its ruleset let them; its own interfaces hold only link-local
// addresses (kFirewallLinkLocal), which the rendered files never mention. Both ends of every
// IPv6 hop know each other's MAC address beforehand (AddNeighbour).
constexpr const char* kV6SourcePrefix = "fd00:b4::/48";
constexpr const char* kFirewallLinkLocal = "fe80::1";
constexpr const char* kUplinkLinkLocal = "fe80::2";
constexpr uint64_t kHostOnlyV6Subnet = 0xffff;

std::string Addr(const IpAddress& a, const Prefix& net) {
  return fmt::format("{}/{}", a.ToString(), net.length);
}

bool InAnyDestination(const Spec& spec, const IpAddress& a) {
  for (const Destination& d : spec.destinations) {
    for (const DestinationEntry& e : d.entries) {
      if (e.prefix && e.prefix->Contains(a)) return true;
    }
  }
  return false;
}

// The next address from `pool` that no destination holds, counting up from `next`.
IpAddress FreeAddress(const Spec& spec, const Prefix& pool, uint64_t& next) {
  while (next + 1 < pool.Size() && InAnyDestination(spec, pool.Nth(next))) ++next;
  return pool.Nth(next++);
}

void AddHostNames(const Spec& spec, LabLayout& l) {
  Prefix pool = *Prefix::Parse("198.51.100.0/24");
  uint64_t next = 10;
  std::set<std::string> seen;
  for (const Destination& d : spec.destinations) {
    for (const DestinationEntry& e : d.entries) {
      if (e.prefix || !seen.insert(e.host_name).second) continue;
      l.host_names.push_back({e.host_name, FreeAddress(spec, pool, next)});
    }
  }
  // The host LAN lies behind the WAN, as the physical NIC the WAN is bridged to does.
  if (spec.host.lan_subnet) l.lan_address = LabEntryAddress(spec.host.lan_subnet->Network());
  uint64_t last = 250;
  l.elsewhere = FreeAddress(spec, *Prefix::Parse("192.0.2.0/24"), last);
  uint64_t last_v6 = 0x250;
  l.elsewhere_v6 = FreeAddress(spec, *Prefix::Parse("2001:db8:ffff::/112"), last_v6);
}

// A fixed, locally administered MAC address, so that the layout can name neighbours before any
// link exists: `kind` is the side, `link` the network and `host` the end.
enum class MacKind : uint8_t { kFirewall = 1, kSource = 2, kWan = 3 };

std::string Mac(MacKind kind, uint64_t link, uint64_t host) {
  return fmt::format("02:{:02x}:{:02x}:{:02x}:{:02x}:{:02x}", static_cast<int>(kind),
                     (link >> 8) & 0xff, link & 0xff, (host >> 8) & 0xff, host & 0xff);
}

std::string MacOption(const std::string& mac) { return mac.empty() ? "" : " address " + mac; }

// A veth pair made from inside `ns_a`, its other end moved straight into `ns_b`: nothing is
// ever created in the machine's own namespace. Ends given a MAC address keep it from the start.
void AddVeth(LabLayout& l, const std::string& ns_a, const std::string& if_a,
             const std::string& ns_b, const std::string& if_b, const std::string& mac_a = "",
             const std::string& mac_b = "") {
  l.commands.push_back(fmt::format("ip -n {} link add {}{} type veth peer name {}{} netns {}", ns_a,
                                   if_a, MacOption(mac_a), if_b, MacOption(mac_b), ns_b));
  l.commands.push_back(fmt::format("ip -n {} link set {} up", ns_a, if_a));
  l.commands.push_back(fmt::format("ip -n {} link set {} up", ns_b, if_b));
}

void AddAddress(LabLayout& l, const std::string& ns, const std::string& iface,
                const std::string& cidr) {
  l.commands.push_back(fmt::format("ip -n {} addr add {} dev {}", ns, cidr, iface));
}

void AddDefaultRoute(LabLayout& l, const std::string& ns, const IpAddress& via) {
  l.commands.push_back(fmt::format("ip -n {} route add default via {}", ns, via.ToString()));
}

// The /64 of kV6SourcePrefix that IPv6 sources on network `subnet` take their address from.
Prefix V6Subnet(uint64_t subnet) {
  Prefix p = *Prefix::Parse(kV6SourcePrefix);
  p.address.value |= static_cast<uint128>(subnet) << 64;
  p.length = 64;
  return p;
}

// A neighbour entry that never expires and is never asked for: the rendered ruleset drops all
// IPv6 to the firewall itself, neighbour discovery included, so without these no IPv6 packet
// could ever be forwarded, whatever the forward chain says.
void AddNeighbour(LabLayout& l, const std::string& ns, const std::string& iface,
                  const std::string& address, const std::string& mac) {
  l.commands.push_back(fmt::format("ip -n {} -6 neigh add {} lladdr {} dev {} nud permanent", ns,
                                   address, mac, iface));
}

// A source's IPv6 address (no DAD: the lab has no time to wait), its default route via the
// firewall's link-local address on `subnet`'s link (`fw_iface` on the firewall's side), and
// both ends' neighbour entries. The source's link has MAC Mac(MacKind::kSource, subnet, host).
void AddV6Source(LabLayout& l, const std::string& ns, const std::string& iface, uint64_t subnet,
                 uint64_t host, const std::string& fw_iface) {
  IpAddress a = V6Subnet(subnet).Nth(host);
  l.v6_sources[ns] = a;
  AddAddress(l, ns, iface, fmt::format("{}/64 nodad", a.ToString()));
  l.commands.push_back(
      fmt::format("ip -n {} -6 route add default via {} dev {}", ns, kFirewallLinkLocal, iface));
  AddNeighbour(l, ns, iface, kFirewallLinkLocal, Mac(MacKind::kFirewall, subnet, 0));
  AddNeighbour(l, l.firewall_ns, fw_iface, a.ToString(), Mac(MacKind::kSource, subnet, host));
}

// The firewall side of an IPv6 link: a link-local address and an on-link route to the sources.
// Its link has MAC Mac(MacKind::kFirewall, subnet, 0).
void AddV6FirewallSide(LabLayout& l, const std::string& iface, uint64_t subnet) {
  AddAddress(l, l.firewall_ns, iface, fmt::format("{}/64 nodad", kFirewallLinkLocal));
  l.commands.push_back(fmt::format("ip -n {} -6 route add {} dev {}", l.firewall_ns,
                                   V6Subnet(subnet).ToString(), iface));
}

void WireVm(LabLayout& l, const Plan& plan, const PlannedVm& vm, const std::string& peer_ns,
            const std::string& peer_if, uint64_t v6_host) {
  const PlannedNetwork& net = plan.networks[vm.network];
  const std::string& ns = l.vm_ns.at(vm.name);
  auto subnet = static_cast<uint64_t>(vm.network);
  // On a per-VM network the peer is the firewall's own interface.
  std::string peer_mac = peer_ns == l.firewall_ns ? Mac(MacKind::kFirewall, subnet, 0) : "";
  AddVeth(l, ns, "eth0", peer_ns, peer_if, Mac(MacKind::kSource, subnet, v6_host), peer_mac);
  AddAddress(l, ns, "eth0", Addr(vm.address, net.subnet));
  AddDefaultRoute(l, ns, net.gateway);
  AddV6Source(l, ns, "eth0", subnet, v6_host, net.firewall_iface);
}

void WireSharedNetwork(LabLayout& l, const Plan& plan, size_t index) {
  const PlannedNetwork& net = plan.networks[index];
  std::string bridge = fmt::format("br{}", index);
  l.commands.push_back(fmt::format("ip -n {} link add {} type bridge", l.switch_ns, bridge));
  l.commands.push_back(fmt::format("ip -n {} link set {} up", l.switch_ns, bridge));
  std::string uplink = fmt::format("f{}", index);
  AddVeth(l, l.firewall_ns, net.firewall_iface, l.switch_ns, uplink,
          Mac(MacKind::kFirewall, index, 0));
  l.commands.push_back(fmt::format("ip -n {} link set {} master {}", l.switch_ns, uplink, bridge));
  for (size_t j = 0; j < net.vms.size(); ++j) {
    std::string port = fmt::format("v{}x{}", index, j);
    WireVm(l, plan, *plan.FindVm(net.vms[j]), l.switch_ns, port, j + 2);
    l.commands.push_back(fmt::format("ip -n {} link set {} master {}", l.switch_ns, port, bridge));
  }
}

void WireNetworks(LabLayout& l, const Plan& plan) {
  for (size_t i = 0; i < plan.networks.size(); ++i) {
    const PlannedNetwork& net = plan.networks[i];
    if (net.shared) {
      WireSharedNetwork(l, plan, i);
    } else {
      WireVm(l, plan, *plan.FindVm(net.vms.at(0)), l.firewall_ns, net.firewall_iface, 2);
    }
    AddAddress(l, l.firewall_ns, net.firewall_iface, Addr(net.gateway, net.subnet));
    AddV6FirewallSide(l, net.firewall_iface, i);
  }
}

void WireHost(LabLayout& l, const Spec& spec, const Plan& plan) {
  const PlannedHostOnly& h = plan.hostonly;
  const std::string& host_if = spec.host.hostonly_network;
  AddVeth(l, l.firewall_ns, h.firewall_iface, l.host_ns, host_if,
          Mac(MacKind::kFirewall, kHostOnlyV6Subnet, 0),
          Mac(MacKind::kSource, kHostOnlyV6Subnet, 2));
  AddAddress(l, l.firewall_ns, h.firewall_iface, Addr(h.firewall_address, h.subnet));
  AddAddress(l, l.host_ns, host_if, Addr(h.host_address, h.subnet));
  AddDefaultRoute(l, l.host_ns, h.firewall_address);
  AddV6FirewallSide(l, h.firewall_iface, kHostOnlyV6Subnet);
  AddV6Source(l, l.host_ns, host_if, kHostOnlyV6Subnet, 2, h.firewall_iface);
}

void WireWan(LabLayout& l, const Plan& plan) {
  Prefix wan = *Prefix::Parse(kWanPrefix);
  AddVeth(l, l.firewall_ns, plan.wan.firewall_iface, l.internet_ns, "eth0",
          Mac(MacKind::kWan, 0, 1), Mac(MacKind::kWan, 0, 2));
  AddAddress(l, l.firewall_ns, plan.wan.firewall_iface, Addr(l.wan_address, wan));
  AddAddress(l, l.internet_ns, "eth0", Addr(l.uplink_address, wan));
  AddDefaultRoute(l, l.firewall_ns, l.uplink_address);
  AddDefaultRoute(l, l.internet_ns, l.wan_address);

  // The internet routes every IPv6 source back through the firewall, as an ISP would.
  const std::string& wan_iface = plan.wan.firewall_iface;
  AddAddress(l, l.firewall_ns, wan_iface, fmt::format("{}/64 nodad", kFirewallLinkLocal));
  AddAddress(l, l.internet_ns, "eth0", fmt::format("{}/64 nodad", kUplinkLinkLocal));
  l.commands.push_back(fmt::format("ip -n {} -6 route add default via {} dev {}", l.firewall_ns,
                                   kUplinkLinkLocal, wan_iface));
  l.commands.push_back(fmt::format("ip -n {} -6 route add default via {} dev eth0", l.internet_ns,
                                   kFirewallLinkLocal));
  AddNeighbour(l, l.firewall_ns, wan_iface, kUplinkLinkLocal, Mac(MacKind::kWan, 0, 2));
  AddNeighbour(l, l.internet_ns, "eth0", kFirewallLinkLocal, Mac(MacKind::kWan, 0, 1));
}

// Every address a destination column is probed at lives on the internet namespace's loopback.
void AddInternetAddresses(LabLayout& l, const Spec& spec) {
  std::vector<IpAddress> addrs;
  for (const Destination& d : spec.destinations) {
    for (const DestinationEntry& e : d.entries) {
      if (!e.prefix) continue;
      if (std::optional<IpAddress> a = LabEntryAddress(*e.prefix)) addrs.push_back(*a);
    }
  }
  for (const LabHostName& h : l.host_names) addrs.push_back(h.address);
  if (l.lan_address) addrs.push_back(*l.lan_address);
  addrs.push_back(l.elsewhere);
  addrs.push_back(l.elsewhere_v6);
  // Destinations may share entries ("203.0.113.81" and "203.0.113.80/29"): add each once.
  std::set<IpAddress> added;
  for (const IpAddress& a : addrs) {
    if (!added.insert(a).second) continue;
    bool v4 = a.family == Family::kV4;
    AddAddress(l, l.internet_ns, "lo", a.ToString() + (v4 ? "/32" : "/128 nodad"));
  }
}

// The firewall forwards as its rendered sysctl file says; every namespace may ping (the
// prober uses unprivileged ICMP sockets).
//
// The firewall forwards IPv6 too, against its rendered file: the lab shows that the ruleset
// alone keeps IPv6 from leaking.
void AddSysctls(LabLayout& l) {
  l.commands.push_back(fmt::format("ip netns exec {} sysctl -q -p {}/nftables/{}", l.firewall_ns,
                                   l.state_dir, kSysctlFile));
  l.commands.push_back(
      fmt::format("ip netns exec {} sysctl -qw net.ipv6.conf.all.forwarding=1", l.firewall_ns));
  for (const std::string& ns : l.namespaces) {
    l.commands.push_back(
        fmt::format("ip netns exec {} sysctl -qw net.ipv4.ping_group_range='0 2147483647'", ns));
  }
}

void AddNamespaces(LabLayout& l, const Plan& plan) {
  std::string base = kLabPrefix + l.name + "-";
  l.firewall_ns = base + "fw";
  l.host_ns = base + "host";
  l.internet_ns = base + "inet";
  l.namespaces = {l.firewall_ns, l.host_ns, l.internet_ns};
  for (const PlannedNetwork& n : plan.networks) {
    if (n.shared && l.switch_ns.empty()) l.switch_ns = base + "sw";
  }
  if (!l.switch_ns.empty()) l.namespaces.push_back(l.switch_ns);
  for (const PlannedVm& vm : plan.vms) {
    if (vm.network < 0) continue;
    l.vm_ns[vm.name] = base + "vm-" + vm.name;
    l.namespaces.push_back(l.vm_ns[vm.name]);
  }
}

}  // namespace

bool ValidLabName(const std::string& name) {
  if (name.empty() || name.size() > 8) return false;
  for (char c : name) {
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'))) return false;
  }
  return true;
}

std::optional<IpAddress> LabEntryAddress(const Prefix& prefix) {
  // IPv6 entries outside global unicast (::/0, fe80::/10, ::1) have no internet address.
  static const Prefix kGlobalUnicast = *Prefix::Parse("2000::/3");
  if (prefix.address.family == Family::kV6) {
    IpAddress a = prefix.Size() > 1 ? prefix.Nth(1) : prefix.First();
    if (!kGlobalUnicast.Contains(a)) return std::nullopt;
    return a;
  }
  return prefix.Size() > 2 ? prefix.Nth(1) : prefix.First();
}

LabLayout MakeLabLayout(const Spec& spec, const Plan& plan, const std::string& name) {
  LabLayout l;
  l.name = name;
  l.state_dir = fmt::format("{}/{}", kLabStateRoot, name);
  Prefix wan = *Prefix::Parse(kWanPrefix);
  l.uplink_address = wan.Nth(1);
  l.wan_address = wan.Nth(2);
  AddNamespaces(l, plan);
  AddHostNames(spec, l);

  for (const std::string& ns : l.namespaces) {
    l.commands.push_back("ip netns add " + ns);
    l.commands.push_back(fmt::format("ip -n {} link set lo up", ns));
    // IPv6 on, and no duplicate address detection: link-local addresses work at once.
    l.commands.push_back(
        fmt::format("ip netns exec {} sysctl -qw net.ipv6.conf.all.disable_ipv6=0 "
                    "net.ipv6.conf.default.disable_ipv6=0 net.ipv6.conf.all.accept_dad=0 "
                    "net.ipv6.conf.default.accept_dad=0",
                    ns));
  }
  WireNetworks(l, plan);
  WireHost(l, spec, plan);
  WireWan(l, plan);
  AddInternetAddresses(l, spec);
  AddSysctls(l);
  return l;
}

}  // namespace bulkhead
