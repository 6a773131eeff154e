// SPDX-License-Identifier: Apache-2.0
// What an audit reports besides the matrix: findings, each with a risk level, a stable kind
// that scripts can key on, the thing it is about and where that thing is written.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace bulkhead {

enum class Risk { kInfo, kLow, kMedium, kHigh, kCritical };
const char* RiskName(Risk r);                             // "info", "low", ..., "critical"
std::optional<Risk> RiskByName(std::string_view name);    // the inverse; nullopt if unknown

struct Finding {
  Risk risk = Risk::kInfo;
  std::string kind;     // stable, kebab-case: "vm-bypass-adapter", "rule-shadowed"
  std::string subject;  // what it is about: "vm 'kali'", "rule 'Allow LAN to any'"
  std::string message;  // one sentence, lowercase start, no final period
  std::string where;    // "Kali.vbox: Machine/Hardware/Network/Adapter[slot=0]",
                        // "config.xml: filter/rule[3]"; empty when it is about the whole set-up
};

// Highest risk first, then by kind, subject and where: a stable order for reports and goldens.
void SortFindings(std::vector<Finding>& findings);

}  // namespace bulkhead
