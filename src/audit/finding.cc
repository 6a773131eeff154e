// SPDX-License-Identifier: Apache-2.0
// Risk names and the order findings are reported in.

#include "audit/finding.h"

#include <algorithm>
#include <tuple>

namespace bulkhead {

namespace {
constexpr const char* kRiskNames[] = {"info", "low", "medium", "high", "critical"};
}  // namespace

const char* RiskName(Risk r) { return kRiskNames[static_cast<int>(r)]; }

std::optional<Risk> RiskByName(std::string_view name) {
  for (int i = 0; i < 5; ++i) {
    if (name == kRiskNames[i]) return static_cast<Risk>(i);
  }
  return std::nullopt;
}

void SortFindings(std::vector<Finding>& findings) {
  std::stable_sort(findings.begin(), findings.end(), [](const Finding& a, const Finding& b) {
    return std::tie(b.risk, a.kind, a.subject, a.where) <
           std::tie(a.risk, b.kind, b.subject, b.where);
  });
}

}  // namespace bulkhead
