// SPDX-License-Identifier: Apache-2.0
// The planner turns a validated Spec into concrete networks, adapters and addresses. Layout of
// the firewall VM's adapters is fixed: adapter 1 is the WAN, adapter 2 the host-only network,
// adapters 3.. one per internal network in spec order. Every other VM has at most adapter 1.
// Planning is deterministic: the same file always gives the same plan.
#pragma once

#include <string>
#include <vector>

#include "net/ip.h"
#include "spec/diagnostics.h"
#include "spec/spec.h"

namespace bulkhead {

// Host-only networks VirtualBox (6.1.28 and later, Linux hosts) accepts without extra setup.
inline constexpr const char* kVirtualBoxHostOnlyRange = "192.168.56.0/21";

struct PlannedNetwork {
  std::string name;            // "web" for a shared zone, the VM's name for a per-VM network
  std::string intnet;          // VirtualBox internal network name: "bh-web"
  std::string zone;
  bool shared = false;
  std::vector<std::string> vms;  // member VM names, spec order
  Prefix subnet;               // e.g. 10.137.3.0/24
  IpAddress gateway;           // the firewall's address on it: first host (10.137.3.1)
  IpAddress dhcp_first;        // DHCP pool for unpinned clients
  IpAddress dhcp_last;
  int firewall_slot = 0;       // 1-based adapter number on the firewall VM
  std::string firewall_mac;    // "080027A1B2C3" (VirtualBox spelling, no separators)
  std::string firewall_iface;  // Linux name on an nftables firewall VM, at most 15 chars
  std::string pfsense_if;      // pfSense interface key: "opt1", "opt2", ...
  std::string pfsense_nic;     // pfSense device: "vtnet2"
};

struct PlannedVm {
  std::string name;
  std::string zone;           // or kOfflineZone
  int network = -1;           // index into Plan::networks, -1 when offline
  IpAddress address;          // unset (family v4, value 0) when offline
  std::string mac;            // adapter 1's MAC, VirtualBox spelling; empty when offline
};

struct PlannedHostOnly {
  std::string name;           // "vboxnet0"
  Prefix subnet;
  IpAddress host_address;     // the host's own address
  IpAddress firewall_address; // the firewall's address, also the host's gateway and DNS
  int firewall_slot = 2;
  std::string firewall_mac;
  std::string firewall_iface = "host0";
  std::string pfsense_if = "lan";
  std::string pfsense_nic = "vtnet1";
};

struct PlannedWan {
  int firewall_slot = 1;
  WanMode mode = WanMode::kBridged;
  std::string bridge_nic;     // host NIC for bridged mode
  std::string firewall_mac;
  std::string firewall_iface = "wan0";
  std::string pfsense_if = "wan";
  std::string pfsense_nic = "vtnet0";
};

struct Plan {
  std::vector<PlannedNetwork> networks;
  std::vector<PlannedVm> vms;  // same order as Spec::vms
  PlannedHostOnly hostonly;
  PlannedWan wan;
  int adapters_used = 0;       // on the firewall VM
  int adapters_max = 0;

  const PlannedVm* FindVm(std::string_view name) const;
  const PlannedNetwork* NetworkOf(std::string_view vm_name) const;
};

// Plans `spec`. Pins in the spec are honoured and checked (inside the pool or not, overlaps,
// addresses inside their subnet, duplicates); every problem is reported into `diags` with the
// position of the declaration that causes it.
[[nodiscard]] bool MakePlan(const Spec& spec, Plan& plan, Diagnostics& diags);

}  // namespace bulkhead
