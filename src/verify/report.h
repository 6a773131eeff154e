// SPDX-License-Identifier: Apache-2.0
// How verify's findings are shown: a matrix listing for people, the differences with the rules
// that cause them, and the same as JSON for machines.
#pragma once

#include <string>

#include <nlohmann/json.hpp>

#include "verify/verify.h"

namespace bulkhead {

// One line per open path, grouped by source:
//   browser
//     -> internet          tcp 80,443; udp 443
std::string FormatMatrix(const Matrix& m, const NameTable& names);

// One paragraph per difference, each naming the artifact rules that decided it.
std::string FormatDifferences(const VerifyResult& r);

// Whose setting differs, as the subject of a sentence: "VM 'work'", "firewall 'sys-firewall'",
// "host 'dom0'".
std::string SettingSubject(const SettingDifference& s);

// What differs, as the rest of that sentence; `compared` names what was read
// (VerifyResult::compared): "is declared but missing from the set-up", "is declared with
// clipboard 'disabled' but has 'bidirectional' in the artifacts".
std::string SettingText(const SettingDifference& s, const std::string& compared);

nlohmann::json VerifyJson(const VerifyResult& r);

// Services for display. The matrix judges only services that open connections
// (MatrixServices); a protocol open for all of those is shown as open, not as "tcp 1-65535".
std::string ServicesText(const ServiceSet& svc);

// An endpoint as reports name it: "work", "dom0 (host)", "bank (destination)".
std::string EndpointLabel(const Endpoint& e);

// Services of a cell for display: "tcp 80,443; udp 443", with " (via DNS)" when the
// destination is reached through host names the firewall resolves at run time.
std::string CellText(const Cell& c, const Endpoint& dst);

}  // namespace bulkhead
