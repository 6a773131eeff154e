// SPDX-License-Identifier: Apache-2.0
// bulkhead's entry point: parses the command line and hands over to one subcommand.

#include <algorithm>
#include <cstdio>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include "cli/commands.h"
#include "spec/diagnostics.h"

using bulkhead::CommonOptions;
using bulkhead::ExitCode;

namespace {

void AddCommon(CLI::App* cmd, CommonOptions& opts, std::string& today) {
  cmd->add_flag("--json", opts.json, "Print the report as JSON");
  cmd->add_option("--today", today, "Judge rule expiry as on this date (YYYY-MM-DD)")
      ->group("");
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"bulkhead: declare a compartmentalized workstation, compile it, prove it isolated"};
  app.require_subcommand(1);
  app.set_version_flag("--version", "bulkhead 0.1.0");

  CommonOptions opts;
  std::string file, today, out_dir = "out", engine, from_dir;
  std::vector<std::string> targets;

  CLI::App* check = app.add_subcommand("check", "Read, validate and plan a spec file");
  CLI::App* plan = app.add_subcommand("plan", "Show the planned networks, adapters and addresses");
  CLI::App* render = app.add_subcommand("render", "Generate the set-up's files");
  CLI::App* verify = app.add_subcommand(
      "verify", "Prove from the generated files who can reach what, and compare with the spec");
  for (CLI::App* cmd : {check, plan, render, verify}) {
    cmd->add_option("FILE", file, "The spec file (TOML)")->required();
    AddCommon(cmd, opts, today);
  }
  render->add_option("--target,-t", targets, "vboxmanage, pfsense, nftables, host or all")
      ->required()
      ->check(CLI::IsMember({"vboxmanage", "pfsense", "nftables", "host", "all"}));
  render->add_option("--output,-o", out_dir, "Output folder (each target in a subfolder)")
      ->capture_default_str();
  verify->add_option("--engine", engine, "Judge this firewall engine instead of the spec's")
      ->check(CLI::IsMember({"pfsense", "nftables"}));
  verify->add_option("--from", from_dir,
                     "Read artifacts rendered earlier into this folder (default: render afresh)");

  CLI::App* lab = app.add_subcommand(
      "lab", "Build the set-up in network namespaces (nftables) and probe it with real packets");
  lab->require_subcommand(1);
  std::string lab_name = "lab";
  bool lab_all = false;
  CLI::App* lab_up = lab->add_subcommand("up", "Build the lab (tears down one of that name)");
  CLI::App* lab_probe = lab->add_subcommand("probe", "Probe every path; compare with verify");
  CLI::App* lab_down = lab->add_subcommand("down", "Remove the lab's namespaces and files");
  CLI::App* lab_reload = lab->add_subcommand(
      "reload", "Load the lab's (hand-edited) rendered rulesets again, DNS sets refilled");
  for (CLI::App* cmd : {lab_up, lab_probe, lab_down, lab_reload}) {
    cmd->add_option("FILE", file, "The spec file (TOML)")->required(cmd != lab_down);
    cmd->add_option("--name", lab_name, "The lab's name: 1 to 8 of [a-z0-9]")
        ->capture_default_str();
    AddCommon(cmd, opts, today);
  }
  lab_down->add_flag("--all", lab_all, "Remove every lab, also after a crash");

  bulkhead::AuditCommandOptions audit_opts;
  CLI::App* audit = app.add_subcommand(
      "audit", "Judge a hand-made set-up: a pfSense config.xml and the VirtualBox machines");
  audit->add_option("--pfsense", audit_opts.pfsense, "The firewall's config.xml (pfSense or "
                    "OPNsense)");
  audit->add_option("--vbox", audit_opts.vbox,
                    "A .vbox machine file, VirtualBox.xml, 'VBoxManage showvminfo "
                    "--machinereadable' output, or a folder of them (repeatable)");
  audit->add_option("--expect", audit_opts.expect,
                    "A bulkhead file: list every difference from what it declares");
  audit->add_option("--firewall-vm", audit_opts.firewall_vm,
                    "The firewall VM's name (default: found from the machines)");
  audit->add_option("--fail-on", audit_opts.fail_on,
                    "Exit 1 when a finding is at this risk or above: info, low, medium, high, "
                    "critical")
      ->capture_default_str();
  AddCommon(audit, opts, today);

  // CLI11 would only say that a subcommand is required; name the word it did not know.
  if (argc > 1 && argv[1][0] != '-') {
    std::vector<std::string> known;
    for (const CLI::App* cmd : app.get_subcommands({})) known.push_back(cmd->get_name());
    if (std::find(known.begin(), known.end(), argv[1]) == known.end()) {
      std::fprintf(stderr, "bulkhead: error: unknown command '%s'%s (see 'bulkhead --help')\n",
                   argv[1], bulkhead::DidYouMeanSuffix(argv[1], known).c_str());
      return static_cast<int>(ExitCode::kBadInput);
    }
  }

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    int code = app.exit(e);
    return code == 0 ? 0 : static_cast<int>(ExitCode::kBadInput);
  }
  if (!today.empty()) {
    opts.today = bulkhead::ParseDate(today);
    if (!opts.today) {
      std::fprintf(stderr, "bulkhead: error: --today '%s' is not a date (YYYY-MM-DD)\n",
                   today.c_str());
      return static_cast<int>(ExitCode::kBadInput);
    }
  }

  ExitCode rc = ExitCode::kBadInput;
  if (*check) rc = bulkhead::RunCheck(file, opts);
  if (*plan) rc = bulkhead::RunPlan(file, opts);
  if (*render) rc = bulkhead::RunRender(file, targets, out_dir, opts);
  if (*verify) rc = bulkhead::RunVerify(file, engine, from_dir, opts);
  if (*audit) rc = bulkhead::RunAudit(audit_opts, opts);
  for (CLI::App* cmd : {lab_up, lab_probe, lab_down, lab_reload}) {
    if (*cmd) rc = bulkhead::RunLab(cmd->get_name(), file, lab_name, lab_all, opts);
  }
  return static_cast<int>(rc);
}
