// SPDX-License-Identifier: Apache-2.0
// `lab up` and `lab down`: render into the state folder, run the layout's commands, load the
// rendered rulesets unchanged (user and group names this machine lacks resolved in nft's own
// mount namespace), put host names' lab addresses into the DNS-filled nft sets as dnsmasq
// would, and mark the lab complete last. `down` finds everything again by name alone.
#include "lab/lab.h"

#include <fmt/format.h>
#include <grp.h>
#include <pwd.h>

#include <filesystem>
#include <iterator>
#include <set>
#include <sstream>

#include "lab/netns.h"
#include "render/render.h"
#include "util/atomic_file.h"

namespace bulkhead {
namespace {

namespace fs = std::filesystem;

// Ids given to socket owners this machine lacks: far above any a distribution hands out.
constexpr unsigned kFirstLabOwnerId = 2000000000;

std::string CompleteFile(const LabLayout& l) { return l.state_dir + "/" + kLabCompleteFile; }

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

// A user (`meta skuid`) or group (`meta skgid`) a ruleset matches sockets by.
struct SocketOwner {
  bool user = true;
  std::string name;
  auto operator<=>(const SocketOwner&) const = default;
};

std::string Unquoted(std::string word) {
  std::erase_if(word, [](char c) { return c == '"' || c == ','; });
  return word;
}

bool Exists(const SocketOwner& o) {
  if (o.name.find_first_not_of("0123456789") == std::string::npos) return true;  // an id
  return o.user ? ::getpwnam(o.name.c_str()) != nullptr : ::getgrnam(o.name.c_str()) != nullptr;
}

// The socket owners `conf` names that this machine has no user or group for: nft resolves
// names itself, from /etc/passwd and /etc/group, and refuses the whole file over one.
std::set<SocketOwner> MissingOwners(const std::string& conf) {
  std::set<SocketOwner> out;
  std::istringstream in(conf);
  std::vector<std::string> words{std::istream_iterator<std::string>(in), {}};
  for (size_t i = 0; i + 1 < words.size(); ++i) {
    if (words[i] != "skuid" && words[i] != "skgid") continue;
    size_t v = i + 1 + (words[i + 1] == "!=");
    bool set = v < words.size() && words[v] == "{";  // skuid { "a", "b" }
    for (v += set; v < words.size() && words[v] != "}"; ++v) {
      SocketOwner o{words[i] == "skuid", Unquoted(words[v])};
      if (!o.name.empty() && !Exists(o)) out.insert(o);
      if (!set) break;
    }
  }
  return out;
}

bool IdTaken(unsigned id) { return ::getpwuid(id) != nullptr || ::getgrgid(id) != nullptr; }

// Copies of this machine's /etc/passwd and /etc/group with the missing owners added at ids no
// user or group has, written under the state folder for nft to read instead.
std::string WriteOwnerFiles(const LabLayout& l, const std::string& what,
                            const std::set<SocketOwner>& missing, std::string& log) {
  std::string passwd, group;
  if (!ReadWholeFile("/etc/passwd", passwd) || !ReadWholeFile("/etc/group", group)) {
    return "cannot read /etc/passwd and /etc/group";
  }
  unsigned id = kFirstLabOwnerId;
  for (const SocketOwner& o : missing) {
    while (IdTaken(id)) ++id;
    if (o.user) {
      passwd += fmt::format("{}:x:{}:{}:bulkhead lab:/:/usr/sbin/nologin\n", o.name, id, id);
    } else {
      group += fmt::format("{}:x:{}:\n", o.name, id);
    }
    log += fmt::format(
        "{}: {} '{}' does not exist on this machine; nft reads it as id {} in the lab, "
        "which no process of the lab runs as\n",
        what, o.user ? "user" : "group", o.name, id++);
  }
  std::string err = WriteFileAtomically(l.state_dir + "/lab/passwd", passwd);
  if (err.empty()) err = WriteFileAtomically(l.state_dir + "/lab/group", group);
  return err;
}

// Loads the ruleset `file` of the state folder into `ns` unchanged. Missing socket owners are
// given ids in a mount namespace of nft's own, where the copies are bound over /etc/passwd and
// /etc/group: the machine's files are never touched.
std::string LoadRuleset(const LabLayout& l, const std::string& ns, const std::string& file,
                        std::string& log) {
  std::string path = l.state_dir + "/" + file, conf;
  if (!ReadWholeFile(path, conf)) return fmt::format("cannot read '{}'", path);
  std::set<SocketOwner> missing = MissingOwners(conf);
  if (missing.empty()) return Run(fmt::format("ip netns exec {} nft -f {}", ns, path));
  std::string err = WriteOwnerFiles(l, file, missing, log);
  if (!err.empty()) return err;
  return Run(fmt::format(
      "ip netns exec {0} unshare --mount --propagation private sh -c 'mount --bind "
      "{1}/lab/passwd /etc/passwd && mount --bind {1}/lab/group /etc/group && exec nft -f {2}'",
      ns, l.state_dir, path));
}

std::string LoadRulesets(const LabLayout& l, std::string& log) {
  std::string err = LoadRuleset(l, l.firewall_ns, "nftables/nftables.conf", log);
  if (err.empty()) err = LoadRuleset(l, l.host_ns, "host/nftables.conf", log);
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
  std::string err = LoadRulesets(l, log);
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
  // Last, and atomic: a lab whose `up` was interrupted anywhere before has no such file.
  if (err.empty()) {
    err = WriteFileAtomically(CompleteFile(layout), fmt::format("{}\n", spec.file));
  }
  if (!err.empty()) LabDown(layout.name);
  return err;
}

std::string LabReady(const LabLayout& l) {
  if (!fs::exists(l.state_dir)) {
    return fmt::format("lab '{}' is not up (run 'bulkhead lab up FILE --name {}')", l.name, l.name);
  }
  if (fs::exists(CompleteFile(l))) return "";
  return fmt::format(
      "lab '{}' is incomplete: its 'lab up' did not finish (run 'bulkhead lab up FILE --name "
      "{}' again)",
      l.name, l.name);
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
