// SPDX-License-Identifier: Apache-2.0
// verify: reads the artifacts that `render` wrote (VM wiring, the firewall VM's ruleset through
// its own engine's semantics, the host's lockdown), builds the matrix they implement, and
// compares it with the matrix the spec declares.
#pragma once

#include <string>
#include <vector>

#include "import/artifacts.h"
#include "plan/plan.h"
#include "spec/spec.h"
#include "verify/matrix.h"

namespace bulkhead {

// Where render puts each target's files, relative to its output folder.
inline constexpr const char* kVBoxScript = "vboxmanage/create.sh";
inline constexpr const char* kPfsenseConfig = "pfsense/config.xml";
inline constexpr const char* kNftablesDir = "nftables";
inline constexpr const char* kHostRuleset = "host/nftables.conf";

// A VM setting outside the network that the artifacts set otherwise than the spec declares:
// the clipboard, drag and drop, shared folders, remote display and audio are channels too. A
// declared VM that is missing, and an address of a VM, the host or the firewall, are as well.
struct SettingDifference {
  std::string vm;         // the VM, or the host or firewall whose address differs
  std::string setting;    // "existence", "address", "clipboard", "drag and drop",
                          // "shared folders", "VRDE", "audio"
  std::string declared;   // as the spec says it: "disabled", "0", "off", "present"
  std::string generated;  // as the artifacts say it: "bidirectional", "2", "on", "absent"
  EndpointKind kind = EndpointKind::kVm;  // an address may be the host's or the firewall's
};

struct VerifyResult {
  std::string engine;  // "pfsense" or "nftables"
  NameTable names;
  Matrix declared;
  Matrix observed;
  std::vector<Difference> differences;
  std::vector<SettingDifference> settings;
  // What was compared with the spec, as the differences name it: "the artifacts" that render
  // wrote, or "the set-up" that an audit read.
  std::string compared = "the artifacts";
  bool Agree() const { return differences.empty() && settings.empty(); }
};

int AdminPort(FirewallEngine e);  // 443 for pfSense's web GUI, 22 for SSH on a Debian firewall

// Each declared VM's channels (clipboard, drag and drop, shared folders, VRDE, audio) against
// the wiring; a declared VM missing from the wiring is a difference too.
std::vector<SettingDifference> CompareSettings(const Spec& spec, const Wiring& wiring);

// Adds to r.settings the machines whose addresses in the observed matrix (DHCP reservations,
// host-only and firewall interface addresses) differ from the declared ones.
void CompareAddresses(VerifyResult& r);

// Reads the artifacts under `dir` for `engine` and compares. Returns false (with diagnostics)
// when an artifact is missing or unreadable.
[[nodiscard]] bool VerifyArtifacts(const Spec& spec, const Plan& plan, FirewallEngine engine,
                                   const std::string& dir, const Date& today,
                                   VerifyResult& result, Diagnostics& diags);

// The same with the VM wiring given rather than read from the VBoxManage script; the rulesets
// are still read from `dir`.
[[nodiscard]] bool VerifyWithWiring(const Spec& spec, const Plan& plan, FirewallEngine engine,
                                    const std::string& dir, const Wiring& wiring,
                                    const Date& today, VerifyResult& result,
                                    Diagnostics& diags);

}  // namespace bulkhead
