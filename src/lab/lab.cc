// SPDX-License-Identifier: Apache-2.0
// `lab up` and `lab down`: render into the state folder, run the layout's commands, load the
// rendered rulesets unchanged, and put host names' lab addresses into the DNS-filled nft sets
// the way dnsmasq would after resolving them. `down` finds everything again by name alone.
#include "lab/lab.h"

#include <fmt/format.h>

#include <filesystem>
#include <sstream>

#include "lab/netns.h"
#include "render/render.h"
#include "util/atomic_file.h"

namespace bulkhead {
namespace {

namespace fs = std::filesystem;

std::string WriteArtifacts(const std::string& dir, const Artifacts& files) {
  for (const Artifact& a : files) {
    std::string err = WriteFileAtomically(dir + "/" + a.path, a.content, a.executable);
    if (!err.empty()) return err;
  }
  return "";
}

std::string RenderState(const Spec& spec, const Plan& plan, const Date& today,
                        const std::string& dir) {
  std::string err = WriteArtifacts(dir + "/vboxmanage", RenderVBoxManage(spec, plan, today));
  if (err.empty()) err = WriteArtifacts(dir + "/nftables", RenderNftables(spec, plan, today));
  if (err.empty()) err = WriteArtifacts(dir + "/host", RenderHost(spec, plan, today));
  return err;
}

std::string Run(const std::string& command) {
  ShellRun r = RunShell(command);
  if (r.status == 0) return "";
  while (!r.output.empty() && r.output.back() == '\n') r.output.pop_back();
  return fmt::format("'{}' failed ({})", command, r.output);
}

// Sets of the rendered ruleset that dnsmasq fills: `set NAME {` followed by a comment
// "dns:a,b". Returns set name -> host names, IPv4 sets only.
std::vector<std::pair<std::string, std::vector<std::string>>> DnsSets(const std::string& conf) {
  std::vector<std::pair<std::string, std::vector<std::string>>> out;
  std::istringstream in(conf);
  std::string line, set;
  while (std::getline(in, line)) {
    size_t at = line.find("set ");
    if (at != std::string::npos && line.find(" {", at) != std::string::npos && at < 4) {
      set = line.substr(at + 4, line.find(" {", at) - at - 4);
    }
    size_t dns = line.find("comment \"dns:");
    if (dns == std::string::npos || set.size() < 3 || set.substr(set.size() - 3) != "_v4") continue;
    std::string names = line.substr(dns + 13, line.rfind('"') - dns - 13);
    std::vector<std::string> list;
    std::istringstream parts(names);
    for (std::string n; std::getline(parts, n, ',');) list.push_back(n);
    out.push_back({set, list});
  }
  return out;
}

std::string FillDnsSets(const LabLayout& l, std::string& log) {
  std::string conf;
  if (!ReadWholeFile(l.state_dir + "/nftables/nftables.conf", conf)) return "cannot read ruleset";
  for (const auto& [set, names] : DnsSets(conf)) {
    std::vector<std::string> addrs;
    for (const std::string& n : names) {
      for (const LabHostName& h : l.host_names) {
        if (h.name == n) addrs.push_back(h.address.ToString());
      }
    }
    if (addrs.empty()) continue;
    std::string err = Run(fmt::format("ip netns exec {} nft add element inet bulkhead {} {{ {} }}",
                                      l.firewall_ns, set, fmt::join(addrs, ", ")));
    if (!err.empty()) return err;
    log += fmt::format("dns: filled set '{}' with {} (as dnsmasq would after resolving)\n", set,
                       fmt::join(addrs, ", "));
  }
  return "";
}

std::string LoadRulesets(const LabLayout& l) {
  std::string err = Run(
      fmt::format("ip netns exec {} nft -f {}/nftables/nftables.conf", l.firewall_ns, l.state_dir));
  if (err.empty()) {
    err = Run(fmt::format("ip netns exec {} nft -f {}/host/nftables.conf", l.host_ns, l.state_dir));
  }
  return err;
}

std::string Build(const LabLayout& l, std::string& log) {
  for (const std::string& command : l.commands) {
    std::string err = Run(command);
    if (!err.empty()) return err;
  }
  log += fmt::format(
      "lab '{}': {} namespaces wired ({} commands), the firewall as a Debian VM "
      "with nftables whatever the spec's engine\n",
      l.name, l.namespaces.size(), l.commands.size());
  return LabLoadRulesets(l, log);
}

}  // namespace

std::string LabLoadRulesets(const LabLayout& l, std::string& log) {
  std::string err = LoadRulesets(l);
  if (!err.empty()) return err;
  log += fmt::format(
      "loaded {0}/nftables/nftables.conf into '{1}' and {0}/host/nftables.conf "
      "into '{2}'\n",
      l.state_dir, l.firewall_ns, l.host_ns);
  for (const LabHostName& h : l.host_names) {
    log += fmt::format("dns: '{}' is {} in the lab\n", h.name, h.address.ToString());
  }
  return FillDnsSets(l, log);
}

std::string LabUp(const Spec& spec, const Plan& plan, const Date& today, const LabLayout& layout,
                  std::string& log) {
  LabDown(layout.name);
  std::string err = RenderState(spec, plan, today, layout.state_dir);
  if (err.empty()) err = Build(layout, log);
  if (!err.empty()) LabDown(layout.name);
  return err;
}

std::vector<std::string> LabDown(const std::string& name) {
  std::string prefix = name.empty() ? kLabPrefix : fmt::format("{}{}-", kLabPrefix, name);
  std::vector<std::string> deleted;
  for (const std::string& ns : NamespacesWithPrefix(prefix)) {
    if (RunShell("ip netns delete " + ns).status == 0) deleted.push_back(ns);
  }
  std::error_code ec;
  fs::remove_all(name.empty() ? fs::path(kLabStateRoot) : fs::path(kLabStateRoot) / name, ec);
  return deleted;
}

}  // namespace bulkhead
