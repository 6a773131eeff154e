// SPDX-License-Identifier: Apache-2.0
// Findings read off the audit matrix: VMs that reach the internet or each other around the
// firewall, the firewall's admin services reachable from VM networks, and IPv6 that passes
// where every rule written for the interface speaks only of IPv4.
#pragma once

#include <vector>

#include "audit/audit_matrix.h"
#include "audit/finding.h"
#include "import/artifacts.h"

namespace bulkhead {

std::vector<Finding> MatrixFindings(const FirewallView& fw, const std::vector<PlacedVm>& vms,
                                    const Matrix& m);

}  // namespace bulkhead
