// SPDX-License-Identifier: Apache-2.0
// An audit against a bulkhead file: the hand-made set-up is read as verify reads rendered
// artifacts (the VirtualBox machines as the wiring, the config.xml as the firewall), and its
// matrix is compared with the one the file declares, cell by cell and setting by setting.
#pragma once

#include <string>
#include <vector>

#include "audit/finding.h"
#include "import/artifacts.h"
#include "import/vbox_machine.h"
#include "plan/plan.h"
#include "spec/spec.h"
#include "verify/verify.h"

namespace bulkhead {

struct ExpectedSetUp {
  Spec spec;
  Plan plan;
};

// Reads and plans the bulkhead file, seeding `names` with its host names so that the firewall
// read afterwards shares their symbolic points. Returns false with errors in `diags`.
[[nodiscard]] bool ReadExpected(const std::string& file, const Date& today, ExpectedSetUp& out,
                                NameTable& names, Diagnostics& diags);

// The VMs of `vbox` as verify's wiring: each machine's current adapters that are enabled, its
// channels, and the host-only interface the firewall VM's host-only adapter is on.
Wiring WiringOf(const VBoxInventory& vbox);

// Compares what the set-up lets through with what the file declares. The host's own filter is
// not part of a hand-made set-up's input, so the host's row is not compared. Where the
// firewall's rules depend on something unknown, a packet counts as extra when it may pass and
// as missing when it may be blocked. `firewall_vm` is the machine found to be the firewall VM,
// which stands for the file's firewall whatever its name.
VerifyResult CompareWithExpected(const ExpectedSetUp& expected, const FirewallView& fw,
                                 const VBoxInventory& vbox, const std::string& firewall_vm,
                                 const Date& today);

// One finding per difference: extra reach is high, missing reach medium, other settings low.
std::vector<Finding> ExpectFindings(const VerifyResult& r);

}  // namespace bulkhead
