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

struct FirewallInterface {
  std::string name;             // the name the Policy's rules use (nft iifname, pfSense key)
  int slot = 0;                 // VirtualBox adapter number it sits on; 0 when unknown
  std::string mac;              // VirtualBox spelling, when the artifacts tie it to a MAC
  std::vector<Prefix> addresses;  // its own addresses with their prefix length
};

struct DhcpReservation {
  std::string mac;              // VirtualBox spelling
  IpAddress address;
};

struct FirewallView {
  Policy policy;
  std::vector<FirewallInterface> interfaces;
  std::vector<DhcpReservation> reservations;
  std::string wan;              // name of the WAN interface in `policy`
};

// Reads DIR/nftables.conf, DIR/network/*.link|*.network and DIR/dnsmasq.conf as written by
// RenderNftables.
[[nodiscard]] bool ReadNftablesFirewall(const std::string& dir, FirewallView& fw,
                                        Diagnostics& diags);
// Reads a pfSense config.xml (the subset RenderPfsense writes, and pfSense's own spelling of it).
[[nodiscard]] bool ReadPfsenseFirewall(const std::string& config_xml, FirewallView& fw,
                                       Diagnostics& diags);

// Parses an nftables ruleset text (the `nft -f` syntax) into a Policy. Used for the firewall
// VM's and the host's rulesets. Jumps and gotos are inlined; named sets are expanded; sets that
// a comment marks as DNS-filled ("dns:host.name,...") become symbolic host-name addresses.
[[nodiscard]] bool ParseNftables(const std::string& file_name, const std::string& text,
                                 Policy& policy, Diagnostics& diags);

}  // namespace bulkhead
