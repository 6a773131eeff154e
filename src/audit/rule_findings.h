// SPDX-License-Identifier: Apache-2.0
// Findings about a firewall's own rules: rules pfSense never loads, rules that can never match
// (an empty alias, or every packet they would take decided by the rules before them, one or
// several together), pass rules wider than they look, and port forwards that no filter rule
// lets through.
#pragma once

#include <vector>

#include "audit/finding.h"
#include "import/artifacts.h"

namespace bulkhead {

std::vector<Finding> RuleFindings(const FirewallView& fw);

}  // namespace bulkhead
