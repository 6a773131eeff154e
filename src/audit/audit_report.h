// SPDX-License-Identifier: Apache-2.0
// How an audit is shown: the firewall's interfaces and the VirtualBox networks they were tied
// to, where each VM was placed, the reachability matrix with what is sure and what only may
// pass, the findings by risk, and what could not be modelled. The JSON holds the same.
#pragma once

#include <string>

#include <nlohmann/json.hpp>

#include "audit/audit.h"

namespace bulkhead {

std::string FormatAudit(const AuditResult& r, const AuditOptions& opts);
nlohmann::json AuditJson(const AuditResult& r, const AuditOptions& opts);

// Whether any finding is at `fail_on` or above.
bool FailsAt(const AuditResult& r, Risk fail_on);

}  // namespace bulkhead
