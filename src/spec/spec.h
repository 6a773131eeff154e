// SPDX-License-Identifier: Apache-2.0
// The declared workstation, as read from the user's TOML file: host, firewall VM, named
// destinations, zones with their egress policy, and VMs. This is intent only; addresses and
// adapters that the file leaves open are filled in by the planner (plan/plan.h). Every element
// keeps the position it was declared at so later phases can point back into the file.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "net/ip.h"
#include "spec/diagnostics.h"

namespace bulkhead {

// A calendar date, as TOML writes it (2027-01-31).
struct Date {
  int year = 0, month = 0, day = 0;
  auto operator<=>(const Date&) const = default;
  std::string ToString() const;  // "2027-01-31"
};

// One entry of a destination list: an address or prefix, or a host name kept symbolic.
struct DestinationEntry {
  std::optional<Prefix> prefix;  // "203.0.113.0/24" or "192.0.2.7" (as /32)
  std::string host_name;         // "deb.debian.org" (lower-case); set when prefix is not
  SourceLoc loc;
};

struct Destination {
  std::string name;  // "debian-mirrors"
  std::vector<DestinationEntry> entries;
  SourceLoc loc;
};

// What an egress rule points at. Resolution order for a bare word in `to`: "internet", a named
// destination, a zone, a VM; otherwise the text must be an address, a prefix or a host name.
struct Target {
  enum class Kind { kInternet, kDestination, kZone, kVm, kHost, kFirewall, kLiteral };
  Kind kind = Kind::kInternet;
  std::string name;           // destination, zone or VM name; literal text for kLiteral
  DestinationEntry literal;   // for kLiteral
};

enum class Protocol { kAny, kTcp, kUdp, kIcmp };
const char* ProtocolName(Protocol p);  // "any", "tcp", "udp", "icmp"

struct PortRange {
  uint16_t first = 0, last = 0;
  bool operator==(const PortRange&) const = default;
};

enum class RuleAction { kAllow, kDeny };

struct EgressRule {
  Target to;
  RuleAction action = RuleAction::kAllow;
  Protocol protocol = Protocol::kAny;
  std::vector<PortRange> ports;     // tcp/udp only; empty means every port
  std::optional<int> icmp_type;     // icmp only; IPv4 type number (IPv6 mapped by the compilers)
  std::string comment;
  std::optional<Date> expires;      // the rule stops applying after this day
  SourceLoc loc;                    // of the rule's table
  SourceLoc to_loc;                 // of the `to` value
  std::string owner;                // "zone 'work'" or "host": for provenance text
  int index = 0;                    // 1-based position within its owner's egress list
};

enum class NetworkMode { kPerVm, kShared };
enum class Sharing { kOff, kHostToGuest, kGuestToHost, kBidirectional };
const char* SharingName(Sharing s);  // "disabled", "hosttoguest", "guesttohost", "bidirectional"

struct Zone {
  std::string name;
  NetworkMode network = NetworkMode::kPerVm;
  bool dns = true;  // may use the firewall's DNS resolver
  std::vector<EgressRule> egress;
  std::optional<Prefix> subnet;  // pin, only for shared networks
  SourceLoc loc;
  SourceLoc subnet_loc;
};

struct SharedFolder {
  std::string name;
  std::string host_path;
  bool read_only = true;
};

inline constexpr const char* kOfflineZone = "offline";

struct Vm {
  std::string name;
  std::string zone;  // a zone name, or kOfflineZone for no adapter at all
  int cpus = 1;
  int memory_mib = 2048;
  int disk_mib = 20480;
  std::string medium;    // install ISO path; exclusive with template_vm
  std::string template_vm;  // a VM to clone from
  Sharing clipboard = Sharing::kOff;
  Sharing drag_and_drop = Sharing::kOff;
  std::vector<SharedFolder> shared_folders;
  std::optional<IpAddress> address;  // pin
  std::optional<Prefix> subnet;      // pin, per-VM networks only
  SourceLoc loc;
  SourceLoc zone_loc;
  SourceLoc address_loc;
  SourceLoc subnet_loc;
};

enum class FirewallEngine { kPfsense, kNftables };
enum class WanMode { kBridged, kNat };
enum class Chipset { kPiix3, kIch9 };
int MaxAdapters(Chipset c);  // 8 for PIIX3, 36 for ICH9

struct FirewallVm {
  std::string name = "firewall";
  FirewallEngine engine = FirewallEngine::kPfsense;
  WanMode wan = WanMode::kBridged;
  std::string wan_nic;   // host NIC bridged to the WAN; defaults to host.physical_nic
  // wan = "nat": the host user the firewall VM runs as. VirtualBox's NAT engine sends the WAN's
  // traffic from that process's own sockets; the host's lockdown lets that user (and no one
  // else) out on the physical NIC. No other process may run as it.
  std::string nat_user = "bulkhead-fw";
  SourceLoc nat_user_loc;
  bool dns_resolver = true;
  // Who may reach the admin interface (pfSense web GUI on 443, SSH on 22 for nftables):
  // "host", zone names or VM names. Default: the host only.
  std::vector<std::string> admin_from = {"host"};
  SourceLoc admin_from_loc;
  Chipset chipset = Chipset::kPiix3;
  int cpus = 1;
  int memory_mib = 1024;
  int disk_mib = 8192;
  std::string medium;
  // pfSense's admin password as a bcrypt hash ("$2y$10$..."); "" leaves it unset.
  std::string admin_password_hash;
  SourceLoc loc;
  SourceLoc chipset_loc;  // of the `chipset` key, or unset when the default applies
};

struct Host {
  std::string name = "dom0";
  std::string hostonly_network = "vboxnet0";
  std::optional<Prefix> hostonly_subnet;   // pin; planned inside 192.168.56.0/21 otherwise
  std::optional<IpAddress> address;        // pin for the host's own address on it
  std::string physical_nic;                // e.g. "enp3s0"
  std::optional<Prefix> lan_subnet;        // the host LAN's subnet, never planned over
  std::vector<EgressRule> egress;          // what the host itself may reach
  SourceLoc loc;
  SourceLoc hostonly_subnet_loc;
  SourceLoc address_loc;
  SourceLoc lan_subnet_loc;
};

struct PlanSettings {
  Prefix pool = *Prefix::Parse("10.137.0.0/16");  // internal networks are carved from here
  int prefix_length = 24;
  SourceLoc loc;
  SourceLoc pool_loc;
};

struct Spec {
  std::string file;  // path as given by the user
  std::string text;  // whole file, for diagnostics
  Host host;
  FirewallVm firewall;
  PlanSettings plan;
  std::vector<Destination> destinations;  // in file order
  std::vector<Zone> zones;                // in file order
  std::vector<Vm> vms;                    // in file order
  // After a failed read: whether what the planner needs of every network ([host], [plan])
  // read without error, so that planning the rest still tells the user something true.
  bool plannable = true;

  const Zone* FindZone(std::string_view name) const;
  const Vm* FindVm(std::string_view name) const;
  const Destination* FindDestination(std::string_view name) const;
};

// Reads and validates a spec file. On any error, `diags` holds every error found and the
// returned spec must not be used, but for planning when `plannable` (to report the planner's
// errors in the same run); the elements in error are then left out or at their defaults.
// `today` (default: Today()) decides which egress rules have expired (they are kept, and
// reported as a warning). Names of zones, VMs, destinations and the
// built-ins share one namespace; the one exception is a VM named like its own zone.
[[nodiscard]] bool ReadSpec(const std::string& path, Spec& spec, Diagnostics& diags);
[[nodiscard]] bool ReadSpec(const std::string& path, Spec& spec, Diagnostics& diags,
                            const Date& today);
[[nodiscard]] bool ParseSpec(const std::string& file_name, std::string text, Spec& spec,
                             Diagnostics& diags);
// As above, with the day that decides expiry given (tests; reproducible builds).
[[nodiscard]] bool ParseSpec(const std::string& file_name, std::string text, Spec& spec,
                             Diagnostics& diags, const Date& today);

// True if the rule applies on `today` (no expiry, or expiry not yet passed).
bool RuleInForce(const EgressRule& r, const Date& today);
Date Today();

}  // namespace bulkhead
