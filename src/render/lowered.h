// SPDX-License-Identifier: Apache-2.0
// The engine-neutral filter that both firewall compilers (pfSense and nftables) emit: for each
// ingress network of the firewall VM, the ordered rules that decide new connections entering
// on it, with every rule's provenance. Lowering resolves names (zones, VMs, destinations) to
// addresses and sets once, so that the two compilers differ only in syntax.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "net/ip.h"
#include "plan/plan.h"
#include "spec/spec.h"

namespace bulkhead {

// A named set of addresses the rules refer to: a declared destination, or "internal" (every
// network of the set-up: internal networks, the host-only network and the host LAN).
struct AddressSet {
  std::string name;                 // "debian-mirrors", "internal"
  std::vector<Prefix> v4;
  std::vector<Prefix> v6;
  std::vector<std::string> host_names;  // resolved at run time (FQDN alias, dnsmasq nftset)
};

inline constexpr const char* kInternalSet = "internal";

struct LoweredRule {
  enum class To {
    kFirewall,   // the firewall itself (DHCP, DNS, admin)
    kInternet,   // any address not in the "internal" set
    kSet,        // a named AddressSet
    kPrefixes,   // literal prefixes (VM and zone targets become host prefixes)
  };
  RuleAction action = RuleAction::kAllow;
  To to = To::kInternet;
  std::string set;                  // for kSet
  std::vector<Prefix> prefixes;     // for kPrefixes
  std::vector<std::string> host_names;  // for a literal host name target (kSet-like, unnamed)
  Protocol protocol = Protocol::kAny;
  std::vector<PortRange> ports;     // empty: every port
  std::optional<int> icmp_type;     // IPv4 type; compilers map to ICMPv6 where they emit v6
  std::string descr;                // provenance, e.g. "work.toml:31 zone 'work' rule 2: ssh"
  // From any source address, not only the interface's subnet: DHCP clients ask before they
  // have an address.
  bool any_source = false;
};

struct LoweredInterface {
  std::string network;              // PlannedNetwork::name, or "host" for the host-only network
  std::string iface;                // Linux name on an nftables firewall VM
  std::string pfsense_if;           // "lan", "opt1", ...
  Prefix subnet;
  IpAddress gateway;                // the firewall's address on it
  std::vector<LoweredRule> rules;   // in order; anything unmatched is blocked
};

struct LoweredFilter {
  std::vector<AddressSet> sets;     // kInternalSet first, then destinations in spec order
  std::vector<LoweredInterface> interfaces;  // host-only first, then Plan::networks order
};

// Rules emitted per interface, in this order: DHCP to the firewall (udp 67; not on the host-only
// network, where the host's address is static), DNS to the firewall
// (udp and tcp 53) when the zone and the firewall allow it, the admin interface when the network
// is in firewall.admin_from, a block of anything else to the firewall itself, then the egress
// rules in force on `today` in declared order. `admin_port` is 443 for pfSense, 22 for nftables.
LoweredFilter LowerFilter(const Spec& spec, const Plan& plan, const Date& today, int admin_port);

// "080027A1B2C3" (VirtualBox spelling) -> "08:00:27:a1:b2:c3", as networkd, dnsmasq and
// pfSense write MACs.
std::string MacWithColons(std::string_view vbox_mac);

// ICMP type names as nft spells them ("echo-request"); "" when nft has no name for the type.
// By family, over the engine's one table (engine/packet_set.h).
std::string IcmpTypeName(Family f, int type);
// The type number of an nft ICMP (kV4) or ICMPv6 (kV6) type name, or -1 when unknown.
int IcmpTypeNumber(Family f, std::string_view name);
// The ICMPv6 type that means what an IPv4 ICMP type means (echo-request 8 -> 128), or -1.
int IcmpV6Equivalent(int v4_type);

}  // namespace bulkhead
