// SPDX-License-Identifier: Apache-2.0
// The subcommands of the bulkhead command line, as plain functions over parsed options so that
// tests can run them without a process. Each returns the process exit code.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "spec/spec.h"

namespace bulkhead {

enum class ExitCode { kOk = 0, kFindings = 1, kBadInput = 2 };

struct CommonOptions {
  bool json = false;
  std::optional<Date> today;  // pretend this is the date (rule expiry); default: the real date
};

ExitCode RunCheck(const std::string& file, const CommonOptions& opts);
ExitCode RunPlan(const std::string& file, const CommonOptions& opts);
// targets: "vboxmanage", "pfsense", "nftables", "host" or "all".
ExitCode RunRender(const std::string& file, const std::vector<std::string>& targets,
                   const std::string& out_dir, const CommonOptions& opts);
// engine: "" for the spec's own. from_dir: "" to render into a temporary folder first.
ExitCode RunVerify(const std::string& file, const std::string& engine,
                   const std::string& from_dir, const CommonOptions& opts);

// `lab up`, `lab probe` or `lab down` (action "up", "probe", "down") for lab `name`; `all`
// with "down" removes every lab, and then `file` may be empty.
ExitCode RunLab(const std::string& action, const std::string& file, const std::string& name,
                bool all, const CommonOptions& opts);

// Parses "2027-01-31"; nullopt when malformed.
std::optional<Date> ParseDate(const std::string& text);

}  // namespace bulkhead
