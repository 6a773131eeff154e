// SPDX-License-Identifier: Apache-2.0
// bulkhead audit: a hand-made set-up read as it is, a pfSense or OPNsense config.xml and the
// VirtualBox machines around it, judged by the same engine as verify. It joins the two (a VM's
// internal network to the firewall interface on it), builds the reachability matrix, and lists
// findings with a risk level; given a bulkhead file, it also lists every difference from what
// that file declares.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "audit/audit_matrix.h"
#include "audit/finding.h"
#include "import/artifacts.h"
#include "import/vbox_machine.h"
#include "spec/diagnostics.h"
#include "verify/verify.h"

namespace bulkhead {

struct AuditOptions {
  std::string pfsense;            // a config.xml; "" to audit VirtualBox alone
  std::vector<std::string> vbox;  // machine files, VirtualBox.xml, showvminfo output, folders
  std::string expect;             // a bulkhead file to compare with; "" for none
  std::string firewall_vm;        // the firewall VM's name, one of the machines; "" to find it
  // Whether the matrix is built in address atoms; by default when some address set is large.
  // The report is the same either way; tests force each.
  AtomUse atoms = AtomUse::kAuto;
};

// How a firewall interface was tied to a VirtualBox network, for the report.
struct InterfaceJoin {
  std::string iface;    // "opt1"
  std::string device;   // "em2"
  std::string segment;  // "intnet:dmz"; "" when no adapter of the firewall VM was found
  int slot = 0;         // the firewall VM's adapter
  bool unplugged = false;  // that adapter's cable is unplugged: nothing reaches the interface
};

struct AuditResult {
  bool has_firewall = false;
  FirewallView firewall;
  VBoxInventory vbox;
  std::string firewall_vm;        // the machine taken for the firewall VM; "" when none
  std::vector<InterfaceJoin> joins;
  std::vector<PlacedVm> vms;
  Matrix matrix;
  std::vector<Finding> findings;  // sorted, highest risk first
  std::vector<Diagnostic> not_modelled;  // what the readers could not model
  std::optional<VerifyResult> expected;  // with --expect: the comparison
};

// Reads everything and judges it. Returns false (with errors in `diags`) when an input cannot
// be read at all or `firewall_vm` names none of the machines read; unknown elements and
// unmodelled constructs are notes, not errors.
[[nodiscard]] bool Audit(const AuditOptions& opts, const Date& today, AuditResult& result,
                         Diagnostics& diags);

}  // namespace bulkhead
