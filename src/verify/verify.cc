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

// The host's own packets are every user's but the one the firewall VM runs as (its NAT engine's
// sockets): the lockdown's exemption for that user never applies to them.
bool ReadHost(const Spec& spec, const std::string& dir, Policy& host, Diagnostics& diags) {
  std::string path = dir + "/" + kHostRuleset;
  std::string text;
  if (!ReadWholeFile(path, text)) {
    diags.Error(path, {}, "cannot read the host's ruleset (run 'bulkhead render --target host')");
    return false;
  }
  return ParseNftables(path, text, host, diags, spec.firewall.nat_user);
}

bool ReadFirewall(FirewallEngine engine, const std::string& dir, FirewallView& fw,
                  Diagnostics& diags) {
  if (engine == FirewallEngine::kPfsense) {
    return ReadPfsenseFirewall(dir + "/" + kPfsenseConfig, fw, diags);
  }
  return ReadNftablesFirewall(dir + "/" + kNftablesDir, fw, diags);
}

void CompareSetting(const std::string& vm, const std::string& setting, const std::string& want,
                    const std::string& got, std::vector<SettingDifference>& out) {
  if (want != got) out.push_back({vm, setting, want, got});
}

}  // namespace

std::vector<SettingDifference> CompareSettings(const Spec& spec, const Wiring& wiring) {
  std::vector<SettingDifference> out;
  for (const Vm& vm : spec.vms) {
    const VmWiring* w = wiring.FindVm(vm.name);
    if (!w) {
      out.push_back({vm.name, "existence", "present", "absent"});
      continue;
    }
    CompareSetting(vm.name, "clipboard", SharingName(vm.clipboard), w->clipboard, out);
    CompareSetting(vm.name, "drag and drop", SharingName(vm.drag_and_drop), w->drag_and_drop,
                   out);
    CompareSetting(vm.name, "shared folders", std::to_string(vm.shared_folders.size()),
                   std::to_string(w->shared_folders), out);
    CompareSetting(vm.name, "VRDE", "off", w->vrde ? "on" : "off", out);
    CompareSetting(vm.name, "audio", "off", w->audio ? "on" : "off", out);
  }
  return out;
}

void CompareAddresses(VerifyResult& r) {
  for (size_t d = 0; d < r.declared.destinations.size(); ++d) {
    const Endpoint& want = r.declared.destinations[d];
    const Endpoint& got = r.observed.destinations[d];
    if (want.kind != EndpointKind::kVm && want.kind != EndpointKind::kHost &&
        want.kind != EndpointKind::kFirewall) {
      continue;
    }
    if (want.addresses == got.addresses) continue;
    auto text = [&](const AddrSet& a) { return a.empty() ? "none" : FormatAddrs(a, &r.names); };
    r.settings.push_back(
        {want.name, "address", text(want.addresses), text(got.addresses), want.kind});
  }
}

bool VerifyArtifacts(const Spec& spec, const Plan& plan, FirewallEngine engine,
                     const std::string& dir, const Date& today, VerifyResult& result,
                     Diagnostics& diags) {
  Wiring wiring;
  bool ok = ReadVBoxScript(dir + "/" + kVBoxScript, wiring, diags);
  ok = VerifyWithWiring(spec, plan, engine, dir, wiring, today, result, diags) && ok;
  for (SettingDifference& d : CompareSettings(spec, wiring)) result.settings.push_back(d);
  return ok;
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
  ok = ReadHost(spec, dir, host, diags) && ok;
  if (!ok) return false;
  result.names = host.names;

  result.observed = ObservedMatrix(spec, plan, {wiring, fw, host}, result.names);
  AddrSet runtime;
  for (const FirewallInterface& i : fw.interfaces) runtime = runtime.Union(i.dynamic);
  result.declared =
      DeclaredMatrix(spec, plan, today, AdminPort(engine), result.names, runtime);
  result.differences = Compare(result.declared, result.observed);
  CompareAddresses(result);
  return true;
}

}  // namespace bulkhead
