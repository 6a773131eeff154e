// SPDX-License-Identifier: Apache-2.0
// Text and JSON renderings of an audit. The text is for a person reading top to bottom: what
// was read and how it was joined, then who reaches what, then what to fix first.

#include "audit/audit_report.h"

#include <fmt/format.h>

#include <algorithm>
#include <map>

#include "verify/report.h"

namespace bulkhead {
namespace {

// Text from the files read, made safe for a terminal: a description holding an escape
// sequence would otherwise retitle or clear it, and one holding a newline could forge a line of
// the report. Control bytes, and C1 controls in UTF-8, are shown as \xNN; the rest is kept.
std::string Printable(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (size_t i = 0; i < text.size(); ++i) {
    auto byte = static_cast<unsigned char>(text[i]);
    if (byte < 0x20 || byte == 0x7f) {
      out += fmt::format("\\x{:02x}", byte);
    } else if (byte == 0xc2 && i + 1 < text.size() &&
               static_cast<unsigned char>(text[i + 1]) >= 0x80 &&
               static_cast<unsigned char>(text[i + 1]) <= 0x9f) {
      out += fmt::format("\\x{:02x}", static_cast<unsigned char>(text[++i]));
    } else {
      out += text[i];
    }
  }
  return out;
}

// Printable, but keeping the report's own line breaks: the last guard for text no field-level
// call caught.
std::string PrintableLines(const std::string& text) {
  std::string out;
  size_t start = 0;
  for (size_t nl = text.find('\n'); nl != std::string::npos; nl = text.find('\n', start)) {
    out += Printable(std::string_view(text).substr(start, nl - start)) + "\n";
    start = nl + 1;
  }
  return out + Printable(std::string_view(text).substr(start));
}

std::string Addresses(const std::vector<Prefix>& addresses) {
  std::vector<std::string> parts;
  for (const Prefix& p : addresses) parts.push_back(p.ToString());
  return parts.empty() ? "no static address" : fmt::format("{}", fmt::join(parts, ", "));
}

std::string Count(size_t n, const char* what) {
  return fmt::format("{} {}{}", n, what, n == 1 ? "" : "s");
}

// "3 machines, firewall VM 'pfsense', 2 host-only interfaces": what the VirtualBox files held.
std::string VBoxSummary(const AuditResult& r) {
  const VBoxInventory& v = r.vbox;
  std::vector<std::string> parts = {Count(v.machines.size(), "machine")};
  if (!v.machines.empty()) {
    parts.push_back(r.firewall_vm.empty() ? "no firewall VM found"
                                          : fmt::format("firewall VM '{}'", r.firewall_vm));
  }
  if (!v.registered.empty()) {
    parts.push_back(Count(v.registered.size(), "machine file") + " registered");
  }
  if (!v.hostonly_interfaces.empty()) {
    parts.push_back(Count(v.hostonly_interfaces.size(), "host-only interface"));
  }
  if (!v.nat_networks.empty()) parts.push_back(Count(v.nat_networks.size(), "NAT network"));
  if (!v.dhcp_servers.empty()) parts.push_back(Count(v.dhcp_servers.size(), "DHCP server"));
  return fmt::format("{}", fmt::join(parts, ", "));
}

std::string InterfacesText(const AuditResult& r) {
  std::string out = "interfaces\n";
  for (const FirewallInterface& i : r.firewall.interfaces) {
    std::string joined;
    for (const InterfaceJoin& j : r.joins) {
      if (j.iface != i.name) continue;
      joined = j.unplugged        ? fmt::format("  (adapter {}: its cable is unplugged)", j.slot)
               : j.segment.empty() ? "  (no adapter of the firewall VM found)"
                                   : fmt::format("  {} (adapter {})", j.segment, j.slot);
    }
    std::string label =
        Printable(i.descr.empty() ? i.name : fmt::format("{} ({})", i.name, i.descr));
    out += fmt::format("  {:<18} {:<8} {}{}{}\n", label, i.device.empty() ? "-" : i.device,
                       Addresses(i.addresses), i.name == r.firewall.wan ? ", the WAN" : "",
                       joined);
  }
  return out;
}

std::string MachinesText(const AuditResult& r) {
  if (r.vbox.machines.empty()) return "";
  std::string out = "machines\n";
  if (!r.firewall_vm.empty()) out += fmt::format("  {:<18} the firewall VM\n", r.firewall_vm);
  for (const PlacedVm& vm : r.vms) {
    std::string where = vm.iface.empty() ? "behind no firewall interface"
                                         : fmt::format("behind '{}'", vm.iface);
    std::string addr = vm.addresses.empty() ? "address not reserved"
                                            : FormatAddrs(vm.addresses, &r.firewall.policy.names);
    std::string segs = vm.segments.empty() ? "no network"
                                           : fmt::format("{}", fmt::join(vm.segments, ", "));
    out += fmt::format("  {:<18} {}\n", Printable(vm.name),
                       Printable(fmt::format("{}, {}; {}", where, addr, segs)));
  }
  return out;
}

// A cell's set `p` cut to one family.
PacketSet OfFamily(const Matrix& m, const PacketSet& p, Family f) {
  return p.Intersect(m.InTerms(PacketSet::Of(AllAddrs(f), AllAddrs(f), AllServices())));
}

// Services by family where the families differ: "tcp 443" when IPv4 and IPv6 (or only IPv4)
// pass alike, "ipv4 any; ipv6 tcp 443" when they do not.
std::string FamilyServices(const Matrix& m, const PacketSet& p) {
  PacketSet v4 = OfFamily(m, p, Family::kV4), v6 = OfFamily(m, p, Family::kV6);
  std::string v4_text = ServicesText(v4.Services()), v6_text = ServicesText(v6.Services());
  if (v6.empty() || (!v4.empty() && v6_text == v4_text)) return v4_text;
  if (v4.empty()) return "ipv6 " + v6_text;
  return fmt::format("ipv4 {}; ipv6 {}", v4_text, v6_text);
}

// Addresses in a line of text: listed when few, else counted.
std::string FewAddrs(const AddrSet& s, const NameTable& names) {
  if (s.ranges().size() <= 6) return FormatAddrs(s, &names);
  return fmt::format("{} address ranges", s.ranges().size());
}

// "203.0.113.80/29, www.mybank.example" or "all but 192.168.1.0/24" when a cell passes to part
// of its column only (a host in a network, a named destination in the internet), with the
// addresses counted when they are many; "" when it passes to all of it.
std::string PartOfColumn(const Matrix& m, const PacketSet& p, const Endpoint& column,
                         const NameTable& names) {
  AddrSet to = m.InAddresses(p.Destinations());
  AddrSet whole;
  for (Family f : {Family::kV4, Family::kV6}) {
    if (to.Intersects(AllAddrs(f))) whole = whole.Union(column.addresses.Intersect(AllAddrs(f)));
  }
  if (to == whole) return "";
  if (to.ranges().size() > 6) {
    AddrSet missing = whole.Subtract(to);
    if (missing.ranges().size() < to.ranges().size()) return "all but " + FewAddrs(missing, names);
  }
  return FewAddrs(to, names);
}

// PartOfColumn as the text goes on after the services: " to 10.0.2.5", or nothing.
std::string ToPartOfColumn(const Matrix& m, const PacketSet& p, const Endpoint& column,
                           const NameTable& names) {
  std::string part = PartOfColumn(m, p, column, names);
  return part.empty() ? "" : " to " + part;
}

// A cell is told as its services towards its addresses, which is exact only when each of those
// services reaches every one of those addresses. What that leaves out is named here, "except
// tcp 22 to 10.0.1.5", or, where fewer words say it, what does pass there, "only tcp 80,443 to
// 192.168.1.1": a rule that blocks one host or one port is never hidden by the rules that pass
// the rest. Like the whole matrix, a cell reads "from some address of the row": which of them
// is for the rules in --json and the findings to say.
std::vector<std::string> Exceptions(const Matrix& m, const PacketSet& p, const NameTable& names,
                                    size_t most) {
  std::vector<std::string> out;
  size_t more = 0;
  for (Family f : {Family::kV4, Family::kV6}) {
    PacketSet in = OfFamily(m, p, f);
    if (in.empty()) continue;
    in.Compact();
    AddrSet from = in.Sources(), to = in.Destinations();
    ServiceSet all = in.Services();
    // What passes from at least one of the row's addresses, whichever: each piece widened to
    // all of them, and merged. The pieces may overlap, which subtracting them does not mind.
    PacketSet reached;
    for (const Cube& c : in.cubes()) reached.UnionDisjoint(PacketSet::Of(from, c.dst, c.svc));
    reached.Compact();
    PacketSet left = PacketSet::Of(from, to, all).Subtract(reached);
    left.Compact();
    std::vector<Cube> pieces = left.cubes();  // in address order, however the walks cut them
    std::sort(pieces.begin(), pieces.end(), [](const Cube& a, const Cube& b) {
      return std::pair(a.dst.front(), a.svc.front()) < std::pair(b.dst.front(), b.svc.front());
    });
    for (const Cube& c : pieces) {
      if (out.size() == most) {
        ++more;
        continue;
      }
      std::string text = "except " + ServicesText(c.svc);
      // What does pass there, when it passes to all of the piece alike.
      ServiceSet kept;
      for (const Cube& k : reached.cubes()) {
        if (k.dst.Intersects(c.dst)) kept = kept.Union(k.svc);
      }
      PacketSet unreached = PacketSet::Of(from, c.dst, kept).Subtract(reached);
      if (!kept.empty() && unreached.empty() && ServicesText(kept).size() < text.size()) {
        text = "only " + ServicesText(kept);
      }
      text += c.dst != to ? " to " + FewAddrs(m.InAddresses(c.dst), names) : "";
      if (std::find(out.begin(), out.end(), text) == out.end()) out.push_back(std::move(text));
    }
  }
  if (more > 0) out.push_back(fmt::format("and {} more", more));
  return out;
}

std::string ExceptText(const Matrix& m, const PacketSet& p, const NameTable& names) {
  std::vector<std::string> left = Exceptions(m, p, names, 3);
  return left.empty() ? "" : fmt::format(", {}", fmt::join(left, ", "));
}

std::string MatrixText(const AuditResult& r) {
  const Matrix& m = r.matrix;
  std::string out = "reachability (connections that open; 'may' depends on something unknown)\n";
  size_t width = 8;
  for (const Endpoint& e : m.destinations) width = std::max(width, EndpointLabel(e).size());
  for (size_t s = 0; s < m.sources.size(); ++s) {
    out += Printable(EndpointLabel(m.sources[s])) + "\n";
    bool any = false;
    for (size_t d = 0; d < m.destinations.size(); ++d) {
      const Cell& c = m.At(s, d);
      const Endpoint& dst = m.destinations[d];
      const NameTable& names = r.firewall.policy.names;
      std::string text = c.passed.empty() ? ""
                                          : FamilyServices(m, c.passed) +
                                                ToPartOfColumn(m, c.passed, dst, names) +
                                                ExceptText(m, c.passed, names);
      if (!c.unknown.empty()) {
        text += fmt::format("{}may: {}{}{}", text.empty() ? "" : "; ", FamilyServices(m, c.unknown),
                            ToPartOfColumn(m, c.unknown, dst, names),
                            ExceptText(m, c.unknown, names));
      }
      if (text.empty()) continue;
      out += fmt::format("  -> {:<{}}  {}\n", Printable(EndpointLabel(m.destinations[d])), width,
                         Printable(text));
      any = true;
    }
    if (!any) out += "  (reaches nothing)\n";
  }
  return out;
}

std::string FindingsText(const std::vector<Finding>& findings) {
  if (findings.empty()) return "findings: none\n";
  std::map<Risk, int> counts;
  for (const Finding& f : findings) ++counts[f.risk];
  std::vector<std::string> parts;
  for (auto it = counts.rbegin(); it != counts.rend(); ++it) {
    parts.push_back(fmt::format("{} {}", it->second, RiskName(it->first)));
  }
  std::string out = fmt::format("findings ({})\n", fmt::join(parts, ", "));
  for (const Finding& f : findings) {
    out += fmt::format("  {:<8} {}: {}: {}\n", RiskName(f.risk), f.kind, Printable(f.subject),
                       Printable(f.message));
    if (!f.where.empty()) out += fmt::format("           at {}\n", Printable(f.where));
  }
  return out;
}

std::string NotModelledText(const AuditResult& r) {
  if (r.not_modelled.empty()) return "";
  std::string out = "not modelled (verdicts they touch are shown as 'may')\n";
  for (const Diagnostic& d : r.not_modelled) {
    std::string where = d.path.empty() ? d.file : fmt::format("{}: {}", d.file, d.path);
    out += fmt::format("  {}: {}\n", Printable(where), Printable(d.message));
  }
  return out;
}

// The exceptions JSON lists for a cell; past these many, the last entry counts the rest.
constexpr size_t kJsonExceptions = 50;

nlohmann::json CellJson(const AuditResult& r, size_t s, size_t d) {
  const Cell& c = r.matrix.At(s, d);
  const NameTable& names = r.firewall.policy.names;
  const Endpoint& dst = r.matrix.destinations[d];
  nlohmann::json rules = nlohmann::json::array();
  for (const Reason& why : c.reasons) {
    if (why.action != Action::kAccept) continue;
    rules.push_back({{"where", why.origin.Where()}, {"rule", why.origin.text},
                     {"services", ServicesText(why.packets.Services())}});
  }
  return {{"from", r.matrix.sources[s].name},
          {"to", r.matrix.destinations[d].name},
          {"services", c.passed.empty() ? "" : FamilyServices(r.matrix, c.passed)},
          {"services_to", c.passed.empty() ? "" : PartOfColumn(r.matrix, c.passed, dst, names)},
          {"services_except", Exceptions(r.matrix, c.passed, names, kJsonExceptions)},
          {"may", c.unknown.empty() ? "" : FamilyServices(r.matrix, c.unknown)},
          {"may_to", c.unknown.empty() ? "" : PartOfColumn(r.matrix, c.unknown, dst, names)},
          {"may_except", Exceptions(r.matrix, c.unknown, names, kJsonExceptions)},
          {"unknown_why", c.unknown_why},
          {"notes", c.notes},
          {"rules", rules}};
}

nlohmann::json EndpointsJson(const std::vector<Endpoint>& list, const NameTable& names) {
  nlohmann::json out = nlohmann::json::array();
  for (const Endpoint& e : list) {
    out.push_back({{"name", e.name},
                   {"kind", EndpointKindName(e.kind)},
                   {"interface", e.iface},
                   {"addresses", e.addresses.empty() ? "" : FormatAddrs(e.addresses, &names)}});
  }
  return out;
}

}  // namespace

bool FailsAt(const AuditResult& r, Risk fail_on) {
  return std::any_of(r.findings.begin(), r.findings.end(),
                     [&](const Finding& f) { return f.risk >= fail_on; });
}

std::string FormatAudit(const AuditResult& r, const AuditOptions& opts) {
  std::string out;
  if (r.has_firewall) {
    out += fmt::format("firewall: {} ({} interfaces, {} filter rules written)\n", opts.pfsense,
                       r.firewall.interfaces.size(), r.firewall.written_rules.size());
  }
  if (!opts.vbox.empty()) out += "virtualbox: " + VBoxSummary(r) + "\n";
  out += "\n";
  if (r.has_firewall) out += InterfacesText(r) + "\n";
  std::string machines = MachinesText(r);
  if (!machines.empty()) out += machines + "\n";
  if (!r.matrix.sources.empty()) out += MatrixText(r) + "\n";
  out += FindingsText(r.findings);
  std::string unmodelled = NotModelledText(r);
  if (!unmodelled.empty()) out += "\n" + unmodelled;
  if (r.expected) {
    out += fmt::format("\ncompared with {}: {} (the host's own row is not compared: its "
                       "ruleset is not an input)\n",
                       opts.expect, r.expected->Agree() ? "no difference" : "differences below");
    out += FormatDifferences(*r.expected);
  }
  return PrintableLines(out);
}

nlohmann::json AuditJson(const AuditResult& r, const AuditOptions& opts) {
  nlohmann::json interfaces = nlohmann::json::array();
  for (const FirewallInterface& i : r.firewall.interfaces) {
    nlohmann::json j = {{"name", i.name},         {"descr", i.descr},
                        {"device", i.device},     {"addresses", Addresses(i.addresses)},
                        {"outside", i.outside},   {"wan", i.name == r.firewall.wan},
                        {"segment", ""},          {"adapter", 0},
                        {"unplugged", false}};
    for (const InterfaceJoin& join : r.joins) {
      if (join.iface != i.name) continue;
      j["segment"] = join.segment, j["adapter"] = join.slot, j["unplugged"] = join.unplugged;
    }
    interfaces.push_back(j);
  }
  nlohmann::json vms = nlohmann::json::array();
  for (const PlacedVm& vm : r.vms) {
    vms.push_back({{"name", vm.name}, {"interface", vm.iface},
                   {"addresses", FormatAddrs(vm.addresses, &r.firewall.policy.names)},
                   {"segments", vm.segments}, {"bypasses", vm.bypasses}});
  }
  nlohmann::json cells = nlohmann::json::array();
  for (size_t s = 0; s < r.matrix.sources.size(); ++s) {
    for (size_t d = 0; d < r.matrix.destinations.size(); ++d) {
      const Cell& c = r.matrix.At(s, d);
      if (!c.passed.empty() || !c.unknown.empty()) cells.push_back(CellJson(r, s, d));
    }
  }
  nlohmann::json findings = nlohmann::json::array();
  for (const Finding& f : r.findings) {
    findings.push_back({{"risk", RiskName(f.risk)}, {"kind", f.kind}, {"subject", f.subject},
                        {"message", f.message}, {"where", f.where}});
  }
  nlohmann::json unmodelled = nlohmann::json::array();
  for (const Diagnostic& d : r.not_modelled) {
    unmodelled.push_back({{"file", d.file}, {"path", d.path}, {"message", d.message}});
  }
  return {{"pfsense", opts.pfsense},
          {"vbox", opts.vbox},
          {"firewall_vm", r.firewall_vm},
          {"interfaces", interfaces},
          {"vms", vms},
          {"sources", EndpointsJson(r.matrix.sources, r.firewall.policy.names)},
          {"destinations", EndpointsJson(r.matrix.destinations, r.firewall.policy.names)},
          {"matrix", cells},
          {"findings", findings},
          {"not_modelled", unmodelled},
          {"expect", r.expected ? VerifyJson(*r.expected) : nlohmann::json(nullptr)}};
}

}  // namespace bulkhead
