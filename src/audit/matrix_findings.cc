// SPDX-License-Identifier: Apache-2.0
// Findings read off the audit matrix. Each looks at what passes, never at how the rules are
// written, so a finding holds however the configuration arrives at it; the rules that let the
// packets through are named from the cell's reasons.

#include "audit/matrix_findings.h"

#include <fmt/format.h>

#include <set>

#include "verify/report.h"

namespace bulkhead {
namespace {

std::string SourceName(const Endpoint& e) {
  switch (e.kind) {
    case EndpointKind::kNetwork: return fmt::format("network '{}'", e.name);
    case EndpointKind::kVm: return fmt::format("vm '{}'", e.name);
    default: return e.name;
  }
}

// The accepting rules that decided part of `packets` in `cell`, as "config.xml: filter/rule[3]";
// the firewall's own rules, which have no rule path, with their text. Letting out what got in
// (pf's "pass out all") says nothing of why it got in, and is left out.
std::string PassedBy(const Cell& cell, const PacketSet& packets, const FirewallView& fw) {
  const Provenance& let_out = fw.policy.output.default_origin;
  std::set<std::string> seen;
  std::string out;
  for (const Reason& r : cell.reasons) {
    if (r.action != Action::kAccept || !r.packets.Intersects(packets)) continue;
    if (r.origin.path == let_out.path && r.origin.text == let_out.text) continue;
    std::string where = r.origin.Where();
    bool own = r.origin.path.find("rule[") == std::string::npos && !r.origin.text.empty();
    if (!where.empty() && own) where += fmt::format(" ('{}')", r.origin.text);
    if (where.empty() || !seen.insert(where).second) continue;
    out += (out.empty() ? "" : ", ") + where;
  }
  return out.empty() ? "" : " (passed by " + out + ")";
}

size_t FirewallColumn(const Matrix& m) {
  for (size_t d = 0; d < m.destinations.size(); ++d) {
    if (m.destinations[d].kind == EndpointKind::kFirewall) return d;
  }
  return m.destinations.size();
}

// Sources that should not reach the admin interface: the internet, the VMs and the networks
// VMs sit on. Without VirtualBox machines to place, every inside network but pfSense's LAN
// (which the anti-lockout rule keeps open for the administrator) counts as a VM network.
bool ShouldNotAdminister(const Endpoint& src, const std::vector<PlacedVm>& vms) {
  if (src.kind != EndpointKind::kNetwork) return true;
  if (vms.empty()) return src.name != "lan";
  for (const PlacedVm& vm : vms) {
    if (vm.iface == src.name) return true;
  }
  return false;
}

void AdminReachable(const FirewallView& fw, const std::vector<PlacedVm>& vms, const Matrix& m,
                    std::vector<Finding>& out) {
  size_t col = FirewallColumn(m);
  if (col == m.destinations.size() || fw.admin_services.empty()) return;
  PacketSet services = m.InTerms(
      PacketSet::Of(AllAddrsBothFamilies(), AllAddrsBothFamilies(), fw.admin_services));
  for (size_t s = 0; s < m.sources.size(); ++s) {
    const Endpoint& src = m.sources[s];
    if (!ShouldNotAdminister(src, vms)) continue;
    const Cell& cell = m.At(s, col);
    PacketSet sure = cell.passed.Intersect(services);
    PacketSet maybe = cell.unknown.Intersect(services);
    if (sure.empty() && maybe.empty()) continue;
    bool outside = src.kind == EndpointKind::kInternet;
    Risk risk = outside ? Risk::kCritical : Risk::kHigh;
    const PacketSet& shown = sure.empty() ? maybe : sure;
    std::string verb = sure.empty() ? "may reach" : "reaches";
    out.push_back({risk, "admin-reachable", SourceName(src),
                   fmt::format("{} the firewall's admin interface: {}{}", verb,
                               ServicesText(shown.Services()), PassedBy(cell, shown, fw)),
                   ""});
  }
}

// IPv6 that passes from an interface where the user blocks IPv4 and nothing blocks IPv6: the
// filtering was written for one family, and the other goes through on a broader pass rule (the
// default "allow LAN IPv6 to any" rule, or one written for both families).
void Ipv6Unfiltered(const FirewallView& fw, const Matrix& m, std::vector<Finding>& out) {
  std::set<std::string> v4_blocked, v6_blocked;
  for (const WrittenRule& w : fw.written_rules) {
    if (!w.loaded || !w.decides || w.action == Action::kAccept) continue;
    for (const std::string& iface : w.interfaces) {
      (w.ipprotocol == "inet" ? v4_blocked : v6_blocked).insert(iface);
    }
  }
  PacketSet v6 =
      m.InTerms(PacketSet::Of(AllAddrs(Family::kV6), AllAddrs(Family::kV6), AllServices()));
  for (size_t s = 0; s < m.sources.size(); ++s) {
    const Endpoint& src = m.sources[s];
    if (src.kind != EndpointKind::kNetwork || !v4_blocked.count(src.name) ||
        v6_blocked.count(src.name)) {
      continue;
    }
    for (size_t d = 0; d < m.destinations.size(); ++d) {
      const Cell& cell = m.At(s, d);
      PacketSet passed = cell.passed.Intersect(v6);
      if (passed.empty()) continue;
      out.push_back({Risk::kMedium, "ipv6-unfiltered",
                     fmt::format("{} -> {}", SourceName(src), m.destinations[d].name),
                     fmt::format("IPv6 passes though '{}' blocks only IPv4: {}{}",
                                 src.name, ServicesText(passed.Services()),
                                 PassedBy(cell, passed, fw)),
                     ""});
    }
  }
}

// What the internet opens inwards: every cell of an internet row that passes.
void OpenFromOutside(const FirewallView& fw, const Matrix& m, std::vector<Finding>& out) {
  for (size_t s = 0; s < m.sources.size(); ++s) {
    const Endpoint& src = m.sources[s];
    if (src.kind != EndpointKind::kInternet) continue;
    for (size_t d = 0; d < m.destinations.size(); ++d) {
      const Endpoint& dst = m.destinations[d];
      if (dst.kind == EndpointKind::kFirewall || dst.kind == EndpointKind::kInternet) continue;
      const Cell& cell = m.At(s, d);
      if (cell.passed.empty()) continue;
      out.push_back({Risk::kMedium, "open-from-outside",
                     fmt::format("{} -> {}", src.name, EndpointLabel(dst)),
                     fmt::format("connections open inwards: {}{}",
                                 ServicesText(cell.passed.Services()),
                                 PassedBy(cell, cell.passed, fw)),
                     ""});
    }
  }
}

// One note per source whose verdicts depend on something the configuration leaves open.
void UnknownVerdicts(const Matrix& m, std::vector<Finding>& out) {
  for (size_t s = 0; s < m.sources.size(); ++s) {
    std::set<std::string> why;
    std::string towards;
    for (size_t d = 0; d < m.destinations.size(); ++d) {
      const Cell& cell = m.At(s, d);
      if (cell.unknown.empty()) continue;
      towards += (towards.empty() ? "" : ", ") + m.destinations[d].name;
      why.insert(cell.unknown_why.begin(), cell.unknown_why.end());
    }
    if (towards.empty()) continue;
    std::string because;
    for (const std::string& w : why) because += (because.empty() ? "" : "; ") + w;
    out.push_back({Risk::kInfo, "verdict-unknown", SourceName(m.sources[s]),
                   fmt::format("what passes towards {} is unknown: {}", towards,
                               because.empty() ? "not modelled" : because),
                   ""});
  }
}

}  // namespace

std::vector<Finding> MatrixFindings(const FirewallView& fw, const std::vector<PlacedVm>& vms,
                                    const Matrix& m) {
  std::vector<Finding> out;
  if (fw.policy.forward.default_origin.path == "system/disablefilter") {
    out.push_back({Risk::kCritical, "filter-disabled", "the firewall",
                   "packet filtering is switched off: the firewall routes every packet",
                   fw.policy.forward.default_origin.Where()});
  }
  AdminReachable(fw, vms, m, out);
  Ipv6Unfiltered(fw, m, out);
  OpenFromOutside(fw, m, out);
  UnknownVerdicts(m, out);
  return out;
}

}  // namespace bulkhead
