// SPDX-License-Identifier: Apache-2.0
// Findings about a firewall's own rules: rules the firewall never loads, rules that can never
// match (an empty alias) or never decide (every packet they would take decided by other rules,
// one or several together: rules before them, or for a rule that is not quick, later ones),
// pass rules wider than they look, and port forwards that no filter rule lets through.
#pragma once

#include <vector>

#include "audit/finding.h"
#include "import/artifacts.h"

namespace bulkhead {

std::vector<Finding> RuleFindings(const FirewallView& fw);

}  // namespace bulkhead
