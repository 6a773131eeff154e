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

// `lab up`, `lab probe`, `lab reload` or `lab down` (action "up", "probe", "reload", "down")
// for lab `name`; `all` with "down" removes every lab, and then `file` may be empty.
ExitCode RunLab(const std::string& action, const std::string& file, const std::string& name,
                bool all, const CommonOptions& opts);

struct AuditCommandOptions {
  std::string pfsense;            // config.xml; "" for none
  std::vector<std::string> vbox;  // machine files, VirtualBox.xml, VBoxManage output, folders
  std::string expect;             // a bulkhead file to compare with; "" for none
  std::string firewall_vm;        // the firewall VM's name; "" to find it
  std::string fail_on = "high";   // the lowest risk that makes the exit code 1
};

// `audit`: reads a hand-made set-up and reports its matrix and findings. 0 when no finding is
// at fail_on or above, 1 when one is, 2 for unreadable input or bad options.
ExitCode RunAudit(const AuditCommandOptions& audit, const CommonOptions& opts);

// Parses "2027-01-31"; nullopt when malformed.
std::optional<Date> ParseDate(const std::string& text);

}  // namespace bulkhead
