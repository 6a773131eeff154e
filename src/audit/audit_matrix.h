// SPDX-License-Identifier: Apache-2.0
// The reachability matrix of a hand-made set-up: between the firewall's interface networks,
// the VMs placed behind them, the firewall itself and the internet. Paths are the same as
// verify's (paths.h), with pf's destination rewrites (port forwards, 1:1 NAT) applied before
// the filter, and every verdict bounded: a packet passes, is blocked, or depends on something
// the configuration leaves open (Cell::unknown).
#pragma once

#include <string>
#include <vector>

#include "import/artifacts.h"
#include "verify/matrix.h"

namespace bulkhead {

// A VM as the audit places it.
struct PlacedVm {
  std::string name;
  std::string iface;      // the firewall interface on the VM's internal network; "" if none
  AddrSet addresses;      // its DHCP reservations there; empty when its address is not known
  std::vector<std::string> segments;  // "intnet:dmz", one per adapter that is plugged in
  std::vector<std::string> bypasses;  // one text per adapter that leads around the firewall
};

// Sources: each inside interface's network, each VM, then the internet as it arrives on each
// interface with a gateway ("internet", or "internet via opt2" when there are several).
// Destinations: each interface with a static address (its network, less the VMs and the
// firewall), each VM with a known address, the firewall, and the internet (every other
// routable address and name). Packets leave for the internet by `fw.wan`.
// Large configurations give a matrix in address atoms (Matrix::atoms); `atoms` forces the
// choice either way, for tests.
Matrix AuditMatrix(const FirewallView& fw, const std::vector<PlacedVm>& vms,
                   AtomUse atoms = AtomUse::kAuto);

}  // namespace bulkhead
