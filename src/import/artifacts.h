// SPDX-License-Identifier: Apache-2.0
// What the generated (or hand-edited) artifacts say, read back: the VM wiring from the
// VBoxManage script, and the firewall VM's interfaces, DHCP reservations and packet filter
// from either the nftables files or the pfSense config.xml. verify builds its matrix from
// these alone, never from the spec's intent.
#pragma once

#include <string>
#include <vector>

#include "engine/policy.h"
#include "net/ip.h"
#include "spec/diagnostics.h"

namespace bulkhead {

enum class Attachment { kNone, kNat, kBridged, kIntnet, kHostOnly, kNatNetwork, kGeneric };
const char* AttachmentName(Attachment a);  // "none", "nat", "bridged", "intnet", "hostonly", ...

// A MAC address in VirtualBox's spelling: "08:00:27:a1:b2:c3" -> "080027A1B2C3"; "" when the
// text is not a MAC address. Every reader keys MACs this way.
std::string VirtualBoxMac(std::string_view text);

struct AdapterWiring {
  int slot = 0;                 // 1-based
  Attachment attachment = Attachment::kNone;
  std::string network;          // intnet name, host-only interface, bridged NIC, NAT network
  std::string mac;              // VirtualBox spelling, upper-case hex without separators
  bool cable_connected = true;
  std::string type;             // the adapter type: "virtio", "82540EM"; "" when not said
};

struct VmWiring {
  std::string name;
  std::vector<AdapterWiring> adapters;  // only slots that are not kNone
  std::string clipboard = "disabled";
  std::string drag_and_drop = "disabled";
  int shared_folders = 0;
  bool vrde = false;
  bool audio = false;
};

struct Wiring {
  std::vector<VmWiring> vms;
  std::string hostonly_if;      // "vboxnet0"
  Prefix hostonly_host;         // the host's address and prefix length on it
  const VmWiring* FindVm(std::string_view name) const;
};

// Reads a script written by RenderVBoxManage (or edited by hand in its style).
[[nodiscard]] bool ReadVBoxScript(const std::string& path, Wiring& wiring, Diagnostics& diags);
// The same for a script already read (from a pipe, say); `path` names it in diagnostics.
[[nodiscard]] bool ParseVBoxScript(const std::string& path, const std::string& text, Wiring& wiring,
                                   Diagnostics& diags);

struct FirewallInterface {
  std::string name;             // the name the Policy's rules use (nft iifname, pfSense key)
  int slot = 0;                 // VirtualBox adapter number it sits on; 0 when unknown
  std::string mac;              // VirtualBox spelling, when the artifacts tie it to a MAC
  std::vector<Prefix> addresses;  // its own addresses with their prefix length
  std::string descr;            // pfSense's description ("LAN"); "" when none
  std::string device;           // the guest's device ("vtnet1", "em0"); "" when not said
  bool outside = false;         // it has a gateway: the internet is reached through it
  // Symbolic points (in the policy's name table) for addresses only given out at run time,
  // by DHCP, PPPoE or a delegated IPv6 prefix: "wan address".
  AddrSet dynamic;
};

struct DhcpReservation {
  std::string mac;              // VirtualBox spelling
  IpAddress address;
};

// A destination rewrite before the filter: a port forward, or the inbound half of 1:1 NAT.
// Packets arriving on `iif` that `match` get `target` as destination: one address, or for
// 1:1 NAT of a prefix the same offset in `target` as they had in `external`; TCP and UDP
// ports move by `port_shift`. The filter then judges the rewritten packet on the same
// interface, unless `pass` says it is let in without ("rdr pass").
struct Redirect {
  IfaceMatch iif;
  PacketSet match;
  PacketSet unknown;        // packets it may also rewrite (as PolicyRule::unknown)
  bool exclude = false;     // "no rdr": what matches keeps its destination
  bool one_to_one = false;
  Prefix external;          // 1:1 NAT: the prefix rewritten; unused for port forwards
  Prefix target;
  int port_shift = 0;
  bool pass = false;
  bool proxy = false;       // NAT reflection by pfSense's proxy, on the inside interfaces
  Provenance origin;
  std::string unknown_why;
};

// One outbound NAT rule: packets leaving on `oif` that match get the firewall's address as
// source (translate) or keep theirs ("no nat").
struct SourceNat {
  IfaceMatch oif;
  PacketSet match;
  bool translate = true;
  Provenance origin;
};

// A filter rule as written, and whether the firewall loads it. Analyses that speak of the
// user's rules (shadowed, never loaded, wider than they look) start from these.
struct WrittenRule {
  Provenance origin;
  std::string tab;              // interface key, group name or "floating"
  Action action = Action::kAccept;
  bool decides = true;          // false for pfSense's "match" rules
  bool floating = false;
  bool quick = true;
  std::string direction;        // "in", "out", or "" for both
  std::vector<std::string> interfaces;  // the keys it applies to
  bool loaded = true;
  std::string skipped_why;      // why the firewall does not load it: "it is disabled"
  bool source_any = false;      // as written: <any/> (or nothing)
  bool destination_any = false;
  bool source_negated = false;
  bool destination_negated = false;
  bool any_protocol = false;    // no protocol, or "any"
  bool has_destination_port = false;
  std::string ipprotocol;       // "inet", "inet6", "inet46"
  bool unknown = false;         // its match depends on something not modelled
};

struct FirewallView {
  Policy policy;
  std::vector<FirewallInterface> interfaces;
  std::vector<DhcpReservation> reservations;
  std::string wan;              // name of the WAN interface in `policy`
  // pfSense only: rewrites in pf's order (port forwards, then 1:1), outbound NAT in the
  // order it is matched, and the user's filter rules in file order.
  std::vector<Redirect> redirects;
  std::vector<SourceNat> source_nat;
  std::string outbound_nat_mode;  // "automatic", "hybrid", "advanced" or "disabled"
  std::vector<WrittenRule> written_rules;
  ServiceSet admin_services;      // the web GUI's and SSH's ports on the firewall
  const FirewallInterface* FindInterface(std::string_view name) const;
};

// Reads DIR/nftables.conf, DIR/network/*.link|*.network and DIR/dnsmasq.conf as written by
// RenderNftables.
[[nodiscard]] bool ReadNftablesFirewall(const std::string& dir, FirewallView& fw,
                                        Diagnostics& diags);
// What a reader does with a construct it cannot model exactly.
enum class Unmodelled {
  kError,    // an error naming its element path (verify: every verdict must be exact)
  kUnknown,  // a note, and every rule it touches becomes unknown (audit)
};

// Reads a pfSense or OPNsense config.xml: interfaces, virtual IPs, groups, aliases, filter
// rules in pf's real order, port forwards, 1:1 and outbound NAT, DHCP reservations.
[[nodiscard]] bool ReadPfsenseFirewall(const std::string& config_xml, FirewallView& fw,
                                       Diagnostics& diags,
                                       Unmodelled unmodelled = Unmodelled::kError);

// Parses an nftables ruleset text (the `nft -f` syntax) into a Policy. Used for the firewall
// VM's and the host's rulesets. Jumps and gotos are inlined; named sets are expanded; sets that
// a comment marks as DNS-filled ("dns:host.name,...") become symbolic host-name addresses.
// `vm_user` (the host's ruleset only): the user the firewall VM runs as. The host's own packets
// are every other user's, so `meta skuid "<vm_user>"` matches none of them and its negation all
// of them, exactly; any other socket-owner match is taken to match every packet (a warning).
[[nodiscard]] bool ParseNftables(const std::string& file_name, const std::string& text,
                                 Policy& policy, Diagnostics& diags,
                                 std::string_view vm_user = {});

}  // namespace bulkhead
