// SPDX-License-Identifier: Apache-2.0
// Text and JSON renderings of verify's result.

#include "verify/report.h"

#include <algorithm>

#include <fmt/format.h>

#include "verify/endpoints.h"

namespace bulkhead {
namespace {

AddrSet NameSpaces() {
  return AllAddrsBothFamilies().Subtract(AllRealAddrs(Family::kV4)).Subtract(
      AllRealAddrs(Family::kV6));
}

}  // namespace

std::string ServicesText(const ServiceSet& svc) {
  ServiceSet shown = svc;
  ServiceSet zeros;  // TCP and UDP port 0 of the protocols `svc` holds only part of
  for (uint8_t proto : {kProtoTcp, kProtoUdp, kProtoIcmp, kProtoIcmpV6}) {
    if (Proto(proto).Intersect(MatrixServices()).IsSubsetOf(svc)) {
      shown = shown.Union(Proto(proto));
    } else if (proto == kProtoTcp || proto == kProtoUdp) {
      zeros = zeros.Union(Ports(proto, 0, 0));
    }
  }
  if (MatrixServices().IsSubsetOf(svc)) return FormatServices(AllServices());
  // No matrix holds port 0, so it goes where it reads best: among what a set lacks it would
  // be noise ("any except udp 0,53"), and so among what it holds ("tcp 0-79").
  std::string lacking = FormatServices(shown.Union(zeros));
  if (lacking.starts_with("any except")) return lacking;
  return FormatServices(shown.Subtract(zeros));
}

namespace {

// A verdict relies on DNS when a declared destination is reached through its host names.
bool ReliesOnDns(const Cell& c, const Endpoint& dst) {
  if (dst.kind != EndpointKind::kDestination) return false;
  return c.passed.Destinations().Intersects(NameSpaces());
}

}  // namespace

std::string EndpointLabel(const Endpoint& e) {
  switch (e.kind) {
    case EndpointKind::kHost: return e.name + " (host)";
    case EndpointKind::kFirewall: return e.name + " (firewall)";
    case EndpointKind::kDestination: return e.name + " (destination)";
    case EndpointKind::kNetwork: return e.name + " (network)";
    default: return e.name;
  }
}

namespace {

size_t LabelWidth(const Matrix& m) {
  size_t w = 8;
  for (const Endpoint& e : m.destinations) w = std::max(w, EndpointLabel(e).size());
  return w;
}

nlohmann::json ReasonJson(const Reason& r, const NameTable& names) {
  return {{"action", ActionName(r.action)},
          {"where", r.origin.Where()},
          {"rule", r.origin.text},
          {"services", ServicesText(r.packets.Services())},
          {"destinations", FormatAddrs(r.packets.Destinations(), &names)}};
}

}  // namespace

std::string CellText(const Cell& c, const Endpoint& dst) {
  if (c.passed.empty()) return "";
  std::string text = ServicesText(c.passed.Services());
  if (ReliesOnDns(c, dst)) text += " (via DNS)";
  return text;
}

std::string FormatMatrix(const Matrix& m, const NameTable&) {
  std::string out;
  size_t width = LabelWidth(m);
  for (size_t s = 0; s < m.sources.size(); ++s) {
    out += EndpointLabel(m.sources[s]) + "\n";
    bool any = false;
    for (size_t d = 0; d < m.destinations.size(); ++d) {
      std::string text = CellText(m.At(s, d), m.destinations[d]);
      if (text.empty()) continue;
      out += fmt::format("  -> {:<{}}  {}\n", EndpointLabel(m.destinations[d]), width, text);
      any = true;
    }
    if (!any) out += "  (reaches nothing)\n";
  }
  return out;
}

namespace {

// Extra packets split by source: from the source's own addresses, and from any other address,
// which only a source forging its address sends (the internet, with no address of its own,
// has only the first part).
std::pair<PacketSet, PacketSet> BySource(const PacketSet& extra, const Endpoint& src) {
  if (src.addresses.empty()) return {extra, PacketSet()};
  PacketSet own = PacketSet::Of(src.addresses, AllAddrsBothFamilies(), AllServices());
  return {extra.Intersect(own), extra.Subtract(own)};
}

std::string ExtraText(const Difference& d, const Endpoint& src, const NameTable& names) {
  auto [own, forged] = BySource(d.extra, src);
  std::string out;
  if (!own.empty()) {
    out += fmt::format("  passes but not declared: {} to {}\n", ServicesText(own.Services()),
                       FormatAddrs(own.Destinations(), &names));
  }
  if (!forged.empty()) {
    out += fmt::format(
        "  passes but not declared, from source addresses other than its own ({}): {} to {}\n"
        "    from {}\n",
        FormatAddrs(src.addresses, &names), ServicesText(forged.Services()),
        FormatAddrs(forged.Destinations(), &names), FormatAddrs(forged.Sources(), &names));
  }
  return out;
}

// "no shared folders", "1 shared folder", "2 shared folders", of a count as CompareSettings
// writes it.
std::string Folders(const std::string& count) {
  if (count == "0") return "no shared folders";
  return count + (count == "1" ? " shared folder" : " shared folders");
}

// "address 10.0.0.5", "addresses 10.0.0.1, 10.0.1.1", "no address", of a list as
// CompareAddresses writes it.
std::string Addresses(const std::string& list) {
  if (list == "none") return "no address";
  return (list.find(", ") == std::string::npos ? "address " : "addresses ") + list;
}

}  // namespace

std::string SettingSubject(const SettingDifference& s) {
  switch (s.kind) {
    case EndpointKind::kHost: return fmt::format("host '{}'", s.vm);
    case EndpointKind::kFirewall: return fmt::format("firewall '{}'", s.vm);
    default: return fmt::format("VM '{}'", s.vm);
  }
}

std::string SettingText(const SettingDifference& s, const std::string& compared) {
  const std::string& want = s.declared;
  const std::string& got = s.generated;
  if (s.setting == "existence") return "is declared but missing from " + compared;
  if (s.setting == "address") {
    return fmt::format("is declared with {} but has {} in {}", Addresses(want), got, compared);
  }
  if (s.setting == "shared folders") {
    return fmt::format("is declared with {} but has {} in {}", Folders(want),
                       got == "0" ? "none" : got, compared);
  }
  std::string name = s.setting == "VRDE" ? "remote display (VRDE)" : s.setting;
  if (want == "off" || want == "on") {
    return fmt::format("is declared with {} {} but has it {} in {}", name, want, got, compared);
  }
  return fmt::format("is declared with {} '{}' but has '{}' in {}", name, want, got, compared);
}

std::string FormatDifferences(const VerifyResult& r) {
  std::string out;
  for (const SettingDifference& s : r.settings) {
    out += fmt::format("difference: {} {}\n", SettingSubject(s), SettingText(s, r.compared));
  }
  for (const Difference& d : r.differences) {
    const Endpoint& src = r.declared.sources[d.source];
    const Endpoint& dst = r.declared.destinations[d.destination];
    out += fmt::format("difference: {} -> {}\n", EndpointLabel(src), EndpointLabel(dst));
    if (!d.extra.empty()) out += ExtraText(d, src, r.names);
    if (!d.missing.empty()) {
      out += fmt::format("  declared but blocked: {} to {}\n",
                         ServicesText(d.missing.Services()),
                         FormatAddrs(d.missing.Destinations(), &r.names));
    }
    for (const Reason& c : d.causes) {
      out += fmt::format("  {} by {}: {}\n", c.action == Action::kAccept ? "passed" : "blocked",
                         c.origin.Where(), c.origin.text);
    }
  }
  return out;
}

nlohmann::json VerifyJson(const VerifyResult& r) {
  nlohmann::json cells = nlohmann::json::array();
  const Matrix& m = r.observed;
  for (size_t s = 0; s < m.sources.size(); ++s) {
    for (size_t d = 0; d < m.destinations.size(); ++d) {
      const Cell& c = m.At(s, d);
      if (c.passed.empty()) continue;
      nlohmann::json rules = nlohmann::json::array();
      for (const Reason& why : c.reasons) {
        if (why.action == Action::kAccept) rules.push_back(ReasonJson(why, r.names));
      }
      cells.push_back({{"from", m.sources[s].name},
                       {"to", m.destinations[d].name},
                       {"services", ServicesText(c.passed.Services())},
                       {"relies_on_dns", ReliesOnDns(c, m.destinations[d])},
                       {"notes", c.notes},
                       {"rules", rules}});
    }
  }
  nlohmann::json diffs = nlohmann::json::array();
  for (const Difference& d : r.differences) {
    nlohmann::json causes = nlohmann::json::array();
    for (const Reason& c : d.causes) causes.push_back(ReasonJson(c, r.names));
    const Endpoint& src = r.declared.sources[d.source];
    PacketSet forged = BySource(d.extra, src).second;
    diffs.push_back({{"from", src.name},
                     {"to", r.declared.destinations[d.destination].name},
                     {"extra", ServicesText(d.extra.Services())},
                     {"extra_sources", FormatAddrs(d.extra.Sources(), &r.names)},
                     {"extra_from_other_sources", !forged.empty()},
                     {"missing", ServicesText(d.missing.Services())},
                     {"causes", causes}});
  }
  nlohmann::json dests = nlohmann::json::array();
  for (const Endpoint& e : m.destinations) {
    dests.push_back({{"name", e.name}, {"kind", EndpointKindName(e.kind)}});
  }
  nlohmann::json sources = nlohmann::json::array();
  for (const Endpoint& e : m.sources) {
    sources.push_back({{"name", e.name}, {"kind", EndpointKindName(e.kind)}});
  }
  nlohmann::json settings = nlohmann::json::array();
  for (const SettingDifference& s : r.settings) {
    settings.push_back({{"vm", s.vm}, {"setting", s.setting}, {"declared", s.declared},
                        {"generated", s.generated}});
  }
  return {{"engine", r.engine}, {"agree", r.Agree()}, {"sources", sources},
          {"destinations", dests}, {"matrix", cells}, {"differences", diffs},
          {"settings", settings}};
}

}  // namespace bulkhead
