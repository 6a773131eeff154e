// SPDX-License-Identifier: Apache-2.0
// The subcommands. Each reads and plans the spec the same way, prints diagnostics to stderr and
// its report to stdout, and returns an exit code: 0 fine, 1 findings, 2 bad input.

#include "cli/commands.h"

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <functional>
#include <map>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "audit/audit.h"
#include "audit/audit_report.h"
#include "lab/lab.h"
#include "plan/plan.h"
#include "render/render.h"
#include "render/write_targets.h"
#include "util/atomic_file.h"
#include "verify/report.h"
#include "verify/verify.h"

namespace bulkhead {
namespace {

namespace fs = std::filesystem;

// A JSON report and its final newline. Names and descriptions come from the user's files as
// they are; text that is not UTF-8 (an ISO-8859-1 config.xml) gets U+FFFD in its place rather
// than aborting the report.
std::string JsonText(const nlohmann::json& j) {
  return j.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
}

void PrintDiagnostics(const Diagnostics& diags, const std::string& source) {
  if (!diags.list().empty()) std::fputs(diags.Format(source).c_str(), stderr);
}

Date TodayOf(const CommonOptions& opts) { return opts.today ? *opts.today : Today(); }

nlohmann::json DiagnosticsJson(const Diagnostics& diags) {
  nlohmann::json out = nlohmann::json::array();
  for (const Diagnostic& d : diags.list()) {
    const char* severity = d.severity == Severity::kError     ? "error"
                           : d.severity == Severity::kWarning ? "warning"
                                                              : "note";
    out.push_back({{"severity", severity}, {"file", d.file}, {"line", d.loc.line},
                   {"column", d.loc.column}, {"path", d.path}, {"message", d.message}});
  }
  return out;
}

// Reads and plans the spec. Diagnostics go to stderr; with --json, a failed load also prints
// them as JSON on stdout, so that a machine reading stdout always gets a report.
bool Load(const std::string& file, const CommonOptions& opts, Spec& spec, Plan& plan,
          Diagnostics* kept = nullptr) {
  Diagnostics diags;
  bool ok = ReadSpec(file, spec, diags, TodayOf(opts));
  // The planner's errors come in the same run as the file's, unless those leave it nothing
  // true to plan from.
  if (ok || spec.plannable) ok = MakePlan(spec, plan, diags) && ok;
  PrintDiagnostics(diags, spec.text);
  if (!ok && opts.json) {
    std::fputs(JsonText({{"file", file}, {"ok", false}, {"diagnostics", DiagnosticsJson(diags)}})
                   .c_str(),
               stdout);
  }
  if (kept) *kept = diags;
  return ok;
}

void Print(const std::string& text) { std::fputs(text.c_str(), stdout); }

using Renderer = std::function<Artifacts(const Spec&, const Plan&, const Date&)>;

const std::map<std::string, Renderer>& Renderers() {
  static const std::map<std::string, Renderer> kRenderers = {
      {"vboxmanage", RenderVBoxManage},
      {"pfsense", RenderPfsense},
      {"nftables", RenderNftables},
      {"host", RenderHost},
  };
  return kRenderers;
}

std::vector<std::string> ExpandTargets(const std::vector<std::string>& targets) {
  std::vector<std::string> out;
  for (const std::string& t : targets) {
    if (t == "all") return {"vboxmanage", "pfsense", "nftables", "host"};
    out.push_back(t);
  }
  return out;
}

// Renders and writes every target, all or none (WriteTargets); returns the written paths, or
// an empty list after printing an error.
std::vector<std::string> RenderTargets(const Spec& spec, const Plan& plan, const Date& today,
                                       const std::vector<std::string>& targets,
                                       const std::string& out_dir) {
  std::vector<RenderedTarget> rendered;
  for (const std::string& target : ExpandTargets(targets)) {
    rendered.emplace_back(target, Renderers().at(target)(spec, plan, today));
  }
  std::string err = WriteTargets(out_dir, rendered);
  if (!err.empty()) {
    std::fprintf(stderr, "bulkhead: error: %s\n", err.c_str());
    return {};
  }
  std::vector<std::string> written;
  for (const auto& [target, files] : rendered) {
    for (const Artifact& a : files) written.push_back((fs::path(out_dir) / target / a.path));
  }
  return written;
}

// pfSense's GUI refuses every login while its admin user has no password hash.
void WarnIfNoAdminPassword(const Spec& spec, const std::vector<std::string>& targets) {
  bool pfsense = std::find(targets.begin(), targets.end(), "pfsense") != targets.end();
  if (!pfsense || !spec.firewall.admin_password_hash.empty()) return;
  std::fputs("bulkhead: warning: pfsense/config.xml gives user 'admin' no password, so the web "
             "GUI refuses every login (set one at the pfSense console: option 3, 'Reset "
             "webConfigurator password'; or set [firewall] admin_password_hash to a bcrypt hash "
             "and render again)\n",
             stderr);
}

nlohmann::json PlanJson(const Spec& spec, const Plan& plan) {
  nlohmann::json nets = nlohmann::json::array();
  for (const PlannedNetwork& n : plan.networks) {
    nets.push_back({{"name", n.name}, {"intnet", n.intnet}, {"zone", n.zone},
                    {"shared", n.shared}, {"vms", n.vms}, {"subnet", n.subnet.ToString()},
                    {"gateway", n.gateway.ToString()},
                    {"dhcp_range", {n.dhcp_first.ToString(), n.dhcp_last.ToString()}},
                    {"firewall_adapter", n.firewall_slot}, {"firewall_mac", n.firewall_mac},
                    {"nftables_interface", n.firewall_iface},
                    {"pfsense_interface", n.pfsense_if}, {"pfsense_nic", n.pfsense_nic}});
  }
  nlohmann::json vms = nlohmann::json::array();
  for (const PlannedVm& vm : plan.vms) {
    bool online = vm.network >= 0;
    vms.push_back({{"name", vm.name}, {"zone", vm.zone},
                   {"network", online ? plan.networks[vm.network].name : ""},
                   {"address", online ? vm.address.ToString() : ""}, {"mac", vm.mac}});
  }
  const PlannedHostOnly& h = plan.hostonly;
  return {{"firewall", {{"name", spec.firewall.name},
                        {"adapters_used", plan.adapters_used},
                        {"adapters_max", plan.adapters_max},
                        {"wan", {{"mode", plan.wan.mode == WanMode::kBridged ? "bridged" : "nat"},
                                 {"bridge_nic", plan.wan.bridge_nic},
                                 {"mac", plan.wan.firewall_mac}}}}},
          {"hostonly", {{"name", h.name}, {"subnet", h.subnet.ToString()},
                        {"host_address", h.host_address.ToString()},
                        {"firewall_address", h.firewall_address.ToString()},
                        {"firewall_adapter", h.firewall_slot}, {"firewall_mac", h.firewall_mac}}},
          {"networks", nets},
          {"vms", vms}};
}

std::string PlanText(const Spec& spec, const Plan& plan) {
  std::string out = fmt::format(
      "firewall VM '{}': {} of {} adapters used\n  adapter 1  WAN ({}{})\n"
      "  adapter 2  host-only '{}' {}  firewall {}  host {}\n\n",
      spec.firewall.name, plan.adapters_used, plan.adapters_max,
      plan.wan.mode == WanMode::kBridged ? "bridged to " : "NAT", plan.wan.bridge_nic,
      plan.hostonly.name, plan.hostonly.subnet.ToString(),
      plan.hostonly.firewall_address.ToString(), plan.hostonly.host_address.ToString());
  out += fmt::format("{:<16} {:<18} {:<12} {:<18} {:<15} {:>7}  {:<15} {}\n", "network",
                     "internal network", "zone", "subnet", "gateway", "adapter", "nft iface",
                     "pfSense");
  for (const PlannedNetwork& n : plan.networks) {
    out += fmt::format("{:<16} {:<18} {:<12} {:<18} {:<15} {:>7}  {:<15} {} ({})\n", n.name,
                       n.intnet, n.zone + (n.shared ? " *" : ""), n.subnet.ToString(),
                       n.gateway.ToString(), n.firewall_slot, n.firewall_iface, n.pfsense_if,
                       n.pfsense_nic);
  }
  out += fmt::format("\n{:<16} {:<12} {:<16} {:<16} {}\n", "VM", "zone", "network", "address",
                     "MAC");
  for (const PlannedVm& vm : plan.vms) {
    bool online = vm.network >= 0;
    out += fmt::format("{:<16} {:<12} {:<16} {:<16} {}\n", vm.name, vm.zone,
                       online ? plan.networks[vm.network].name : "-",
                       online ? vm.address.ToString() : "-", online ? vm.mac : "-");
  }
  bool shared = std::any_of(plan.networks.begin(), plan.networks.end(),
                            [](const PlannedNetwork& n) { return n.shared; });
  if (shared) out += "\n(* a shared network: its VMs reach each other without the firewall)\n";
  return out;
}

FirewallEngine EngineOf(const Spec& spec, const std::string& name) {
  if (name.empty()) return spec.firewall.engine;
  return name == "nftables" ? FirewallEngine::kNftables : FirewallEngine::kPfsense;
}

// Artifacts rendered into a temporary folder are named relative to it ("pfsense/config.xml"),
// since the folder is gone once verify has finished.
void ForgetFolder(const std::string& dir, VerifyResult& r) {
  std::string prefix = dir + "/";
  auto strip = [&](std::vector<Reason>& reasons) {
    for (Reason& why : reasons) {
      if (why.origin.file.rfind(prefix, 0) == 0) why.origin.file.erase(0, prefix.size());
    }
  };
  for (Matrix* m : {&r.declared, &r.observed}) {
    for (auto& row : m->cells) {
      for (Cell& c : row) strip(c.reasons);
    }
  }
  for (Difference& d : r.differences) strip(d.causes);
}

// Diagnostics about artifacts in a temporary folder name them relative to it
// ("host/nftables.conf"), since the folder is gone once verify has finished.
Diagnostics RelativeTo(const std::string& dir, const Diagnostics& diags) {
  Diagnostics out;
  std::string prefix = dir + "/";
  for (Diagnostic d : diags.list()) {
    if (d.file.rfind(prefix, 0) == 0) d.file.erase(0, prefix.size());
    out.Add(std::move(d));
  }
  return out;
}

// Artifacts rendered from another spec make every difference look like a firewall bug; the
// script's first lines say which file it was generated from.
void WarnIfRenderedFromElsewhere(const std::string& dir, const std::string& file) {
  std::string script;
  if (!ReadWholeFile(dir + "/" + kVBoxScript, script)) return;
  const std::string marker = "# Generated by bulkhead from ";
  size_t at = script.find(marker);
  if (at == std::string::npos || at > 200) return;
  size_t start = at + marker.size();
  std::string source = script.substr(start, script.find_first_of(" :\n", start) - start);
  std::string want = fs::path(file).filename().string();
  if (fs::path(source).filename().string() != want) {
    std::fprintf(stderr,
                 "bulkhead: warning: the artifacts in '%s' were rendered from '%s', not from "
                 "'%s'\n",
                 dir.c_str(), source.c_str(), want.c_str());
  }
}

// A temporary folder that is removed when the guard goes, whatever happens in between.
class TempDir {
 public:
  TempDir() {
    std::string tmpl = (fs::temp_directory_path() / "bulkhead-verify-XXXXXX").string();
    if (mkdtemp(tmpl.data())) path_ = tmpl;
  }
  ~TempDir() {
    std::error_code ec;
    if (!path_.empty()) fs::remove_all(path_, ec);
  }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

ExitCode LabDownReport(const std::string& name) {
  std::vector<std::string> gone = LabDown(name);
  Print(fmt::format("removed {} namespace(s){}{}\n", gone.size(), gone.empty() ? "" : ": ",
                    fmt::join(gone, ", ")));
  return ExitCode::kOk;
}

ExitCode LabProbeReport(const Spec& spec, const Plan& plan, const LabLayout& layout,
                        const CommonOptions& opts) {
  LabProbeResult result;
  Diagnostics diags;
  auto progress = [](const std::string& line) { std::fprintf(stderr, "%s\n", line.c_str()); };
  bool ok = ProbeLab(spec, plan, layout, TodayOf(opts), result, diags, progress);
  PrintDiagnostics(diags, "");
  if (!ok) return ExitCode::kBadInput;
  Print(opts.json ? JsonText(LabProbeJson(result)) : FormatLabProbe(result));
  return result.differences.empty() ? ExitCode::kOk : ExitCode::kFindings;
}

// Every error of audit's options at once, before any file is read.
std::vector<std::string> AuditOptionErrors(const AuditCommandOptions& audit) {
  std::vector<std::string> out;
  if (!RiskByName(audit.fail_on)) {
    out.push_back(fmt::format("--fail-on '{}' is not a risk (info, low, medium, high, critical)",
                              audit.fail_on));
  }
  if (audit.pfsense.empty() && audit.vbox.empty()) {
    out.push_back("nothing to audit (give --pfsense, --vbox or both)");
  }
  if (!audit.firewall_vm.empty() && audit.vbox.empty()) {
    out.push_back(fmt::format("--firewall-vm needs --vbox (the machines to find '{}' among)",
                              audit.firewall_vm));
  }
  return out;
}

}  // namespace

ExitCode RunLab(const std::string& action, const std::string& file, const std::string& name,
                bool all, const CommonOptions& opts) {
  if (!ValidLabName(name)) {
    std::fprintf(stderr, "bulkhead: error: lab name '%s' is not 1 to 8 of [a-z0-9]\n",
                 name.c_str());
    return ExitCode::kBadInput;
  }
  if (action == "down") return LabDownReport(all ? "" : name);
  Spec spec;
  Plan plan;
  if (!Load(file, opts, spec, plan)) return ExitCode::kBadInput;
  spec.firewall.engine = FirewallEngine::kNftables;  // pfSense cannot run in a namespace
  LabLayout layout = MakeLabLayout(spec, plan, name);
  if (action == "probe") return LabProbeReport(spec, plan, layout, opts);
  std::string log;
  std::string err = action == "reload" ? LabReady(layout) : "";
  if (err.empty()) {
    err = action == "reload" ? LabLoadRulesets(layout, log)
                             : LabUp(spec, plan, TodayOf(opts), layout, log);
  }
  Print(log);
  if (err.empty()) return ExitCode::kOk;
  std::fprintf(stderr, "bulkhead: error: %s\n", err.c_str());
  return ExitCode::kBadInput;
}

ExitCode RunAudit(const AuditCommandOptions& audit, const CommonOptions& opts) {
  std::vector<std::string> option_errors = AuditOptionErrors(audit);
  for (const std::string& e : option_errors) {
    std::fprintf(stderr, "bulkhead: error: %s\n", e.c_str());
  }
  if (!option_errors.empty()) return ExitCode::kBadInput;
  Risk fail_on = *RiskByName(audit.fail_on);
  AuditOptions in{audit.pfsense, audit.vbox, audit.expect, audit.firewall_vm};
  AuditResult result;
  Diagnostics diags;
  bool ok = Audit(in, TodayOf(opts), result, diags);
  // The bulkhead file's diagnostics show its lines; the other inputs' name element paths.
  Diagnostics of_expect, of_others;
  for (const Diagnostic& d : diags.list()) {
    (!audit.expect.empty() && d.file == audit.expect ? of_expect : of_others).Add(d);
  }
  std::string expect_text;
  if (!of_expect.list().empty()) (void)ReadWholeFile(audit.expect, expect_text);
  PrintDiagnostics(of_expect, expect_text);
  PrintDiagnostics(of_others, "");
  if (!ok) {
    if (opts.json) {
      Print(JsonText({{"ok", false}, {"diagnostics", DiagnosticsJson(diags)}}));
    }
    return ExitCode::kBadInput;
  }
  Print(opts.json ? JsonText(AuditJson(result, in)) : FormatAudit(result, in));
  return FailsAt(result, fail_on) ? ExitCode::kFindings : ExitCode::kOk;
}

std::optional<Date> ParseDate(const std::string& text) {
  Date d;
  char tail = 0;
  if (std::sscanf(text.c_str(), "%4d-%2d-%2d%c", &d.year, &d.month, &d.day, &tail) != 3 ||
      d.month < 1 || d.month > 12 || d.day < 1 || d.day > 31) {
    return std::nullopt;
  }
  return d;
}

ExitCode RunCheck(const std::string& file, const CommonOptions& opts) {
  Spec spec;
  Plan plan;
  Diagnostics diags;
  if (!Load(file, opts, spec, plan, &diags)) return ExitCode::kBadInput;
  size_t rules = spec.host.egress.size();
  for (const Zone& z : spec.zones) rules += z.egress.size();
  if (opts.json) {
    Print(JsonText({{"file", file}, {"ok", true}, {"vms", spec.vms.size()},
                    {"zones", spec.zones.size()}, {"networks", plan.networks.size()},
                    {"rules", rules}, {"diagnostics", DiagnosticsJson(diags)}}));
  } else {
    Print(fmt::format("{}: ok ({} VMs, {} zones, {} internal networks, {} egress rules)\n", file,
                      spec.vms.size(), spec.zones.size(), plan.networks.size(), rules));
  }
  return ExitCode::kOk;
}

ExitCode RunPlan(const std::string& file, const CommonOptions& opts) {
  Spec spec;
  Plan plan;
  if (!Load(file, opts, spec, plan)) return ExitCode::kBadInput;
  Print(opts.json ? JsonText(PlanJson(spec, plan)) : PlanText(spec, plan));
  return ExitCode::kOk;
}

ExitCode RunRender(const std::string& file, const std::vector<std::string>& targets,
                   const std::string& out_dir, const CommonOptions& opts) {
  Spec spec;
  Plan plan;
  if (!Load(file, opts, spec, plan)) return ExitCode::kBadInput;
  std::vector<std::string> written = RenderTargets(spec, plan, TodayOf(opts), targets, out_dir);
  if (written.empty()) return ExitCode::kBadInput;
  WarnIfNoAdminPassword(spec, ExpandTargets(targets));
  if (opts.json) {
    Print(JsonText({{"written", written}}));
  } else {
    for (const std::string& path : written) Print("wrote " + path + "\n");
  }
  return ExitCode::kOk;
}

ExitCode RunVerify(const std::string& file, const std::string& engine_name,
                   const std::string& from_dir, const CommonOptions& opts) {
  Spec spec;
  Plan plan;
  if (!Load(file, opts, spec, plan)) return ExitCode::kBadInput;
  FirewallEngine engine = EngineOf(spec, engine_name);
  std::string engine_target = engine == FirewallEngine::kPfsense ? "pfsense" : "nftables";

  TempDir tmp;
  std::string dir = from_dir;
  if (!dir.empty()) WarnIfRenderedFromElsewhere(dir, file);
  if (dir.empty()) {
    dir = tmp.path();
    if (RenderTargets(spec, plan, TodayOf(opts), {"vboxmanage", engine_target, "host"}, dir)
            .empty()) {
      return ExitCode::kBadInput;
    }
  }

  VerifyResult result;
  Diagnostics diags;
  bool ok = VerifyArtifacts(spec, plan, engine, dir, TodayOf(opts), result, diags);
  PrintDiagnostics(from_dir.empty() ? RelativeTo(dir, diags) : diags, "");
  if (!ok) return ExitCode::kBadInput;
  if (from_dir.empty()) ForgetFolder(dir, result);

  if (opts.json) {
    Print(JsonText(VerifyJson(result)));
  } else {
    Print(fmt::format("{} as generated for {} ({}):\n\n", file, engine_target,
                      from_dir.empty() ? "rendered afresh" : "read from " + from_dir));
    Print(FormatMatrix(result.observed, result.names));
    if (result.Agree()) {
      Print("\nverified: the generated artifacts implement exactly what the spec declares\n");
    } else {
      Print("\n" + FormatDifferences(result));
      Print(fmt::format("\n{} difference(s) between the spec and the generated artifacts\n",
                        result.differences.size() + result.settings.size()));
    }
  }
  return result.Agree() ? ExitCode::kOk : ExitCode::kFindings;
}

}  // namespace bulkhead
