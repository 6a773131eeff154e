// SPDX-License-Identifier: Apache-2.0
// The verify pipeline: read artifacts, build both matrices over one table of host names, compare.

#include "verify/verify.h"

#include "import/artifacts.h"
#include "util/atomic_file.h"
#include "verify/declared.h"
#include "verify/endpoints.h"
#include "verify/observed.h"

namespace bulkhead {

int AdminPort(FirewallEngine e) { return e == FirewallEngine::kPfsense ? 443 : 22; }

namespace {

// Host names get the same symbolic point in every policy and in the declared matrix: the
// table is seeded with the spec's names and handed from one reader to the next.
void SeedNames(const Spec& spec, const Plan& plan, NameTable& names) {
  (void)ExternalEndpoints(spec, plan, names);
}

bool ReadHost(const std::string& dir, Policy& host, Diagnostics& diags) {
  std::string path = dir + "/" + kHostRuleset;
  std::string text;
  if (!ReadWholeFile(path, text)) {
    diags.Error(path, {}, "cannot read the host's ruleset (run 'bulkhead render --target host')");
    return false;
  }
  return ParseNftables(path, text, host, diags);
}

bool ReadFirewall(FirewallEngine engine, const std::string& dir, FirewallView& fw,
                  Diagnostics& diags) {
  if (engine == FirewallEngine::kPfsense) {
    return ReadPfsenseFirewall(dir + "/" + kPfsenseConfig, fw, diags);
  }
  return ReadNftablesFirewall(dir + "/" + kNftablesDir, fw, diags);
}

}  // namespace

bool VerifyArtifacts(const Spec& spec, const Plan& plan, FirewallEngine engine,
                     const std::string& dir, const Date& today, VerifyResult& result,
                     Diagnostics& diags) {
  Wiring wiring;
  bool ok = ReadVBoxScript(dir + "/" + kVBoxScript, wiring, diags);
  return VerifyWithWiring(spec, plan, engine, dir, wiring, today, result, diags) && ok;
}

bool VerifyWithWiring(const Spec& spec, const Plan& plan, FirewallEngine engine,
                      const std::string& dir, const Wiring& wiring, const Date& today,
                      VerifyResult& result, Diagnostics& diags) {
  result.engine = engine == FirewallEngine::kPfsense ? "pfsense" : "nftables";
  SeedNames(spec, plan, result.names);

  bool ok = true;
  FirewallView fw;
  fw.policy.names = result.names;
  ok = ReadFirewall(engine, dir, fw, diags) && ok;
  Policy host;
  host.names = fw.policy.names;
  ok = ReadHost(dir, host, diags) && ok;
  if (!ok) return false;
  result.names = host.names;

  result.observed = ObservedMatrix(spec, plan, {wiring, fw, host}, result.names);
  result.declared = DeclaredMatrix(spec, plan, today, AdminPort(engine), result.names);
  result.differences = Compare(result.declared, result.observed);
  return true;
}

}  // namespace bulkhead
