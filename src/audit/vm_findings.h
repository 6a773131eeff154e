// SPDX-License-Identifier: Apache-2.0
// Findings about the VirtualBox side of a set-up: adapters that lead around the firewall VM,
// internal and NAT networks that several VMs share, NAT networks' own port forwards and host
// loopback mappings, and the channels that carry data past any firewall (shared folders,
// clipboard, drag and drop, VRDE, serial ports, USB capture, NAT port forwards). Every snapshot
// is judged too: restoring it brings its settings back.
#pragma once

#include <string>
#include <vector>

#include "audit/finding.h"
#include "import/vbox_machine.h"

namespace bulkhead {

// The machine that is the firewall VM: `named` when given and present, else the one a
// pfSense or OPNsense guest most likely runs in (its OS type or name says so, or it is the
// only machine with both an outside adapter and internal networks); "" when none is clear.
std::string FindFirewallVm(const VBoxInventory& inv, const std::string& named);

// When no machine is clearly the firewall VM, those that could be it (named like one, or a
// gateway between an outside adapter and internal networks); empty when none could.
std::vector<std::string> FirewallVmCandidates(const VBoxInventory& inv);

std::vector<Finding> VmFindings(const VBoxInventory& inv, const std::string& firewall_vm);

}  // namespace bulkhead
