// SPDX-License-Identifier: Apache-2.0
// Whole numbers as configuration files write them: plain decimal digits, no sign, no spaces.
#pragma once

#include <cctype>
#include <optional>
#include <string_view>

namespace bulkhead {

// "8080" -> 8080; nullopt for an empty text, anything but digits, or a value above `max`
// (which must be below a billion).
inline std::optional<int> ParseDecimal(std::string_view s, int max) {
  if (s.empty() || s.size() > 9) return std::nullopt;
  int v = 0;
  for (char c : s) {
    if (!std::isdigit(static_cast<unsigned char>(c))) return std::nullopt;
    v = v * 10 + (c - '0');
  }
  if (v > max) return std::nullopt;
  return v;
}

}  // namespace bulkhead
