// SPDX-License-Identifier: Apache-2.0
// Lowers the spec's egress policy to the engine-neutral LoweredFilter both firewall compilers
// print. One small pass per concern: the address sets, then per interface the fixed rules
// (DHCP, DNS, admin, nothing else to the firewall) and the egress rules with their targets
// resolved to sets or prefixes. Every rule's descr says which spec line it came from.

#include "render/lowered.h"

#include <algorithm>
#include <filesystem>

#include <fmt/format.h>

#include "engine/packet_set.h"

namespace bulkhead {
namespace {

std::string BaseName(const std::string& path) {
  return std::filesystem::path(path).filename().string();
}

std::string Where(const Spec& spec, SourceLoc loc) {
  return fmt::format("{}:{}", BaseName(spec.file), loc.line);
}

// A user's comment as both rule languages can carry it: no control characters (a newline would
// end an nft rule, an escape is not XML) and no double quote (it would end an nft comment).
std::string Printable(std::string text) {
  for (char& c : text) {
    unsigned char u = static_cast<unsigned char>(c);
    if (u < 0x20 || u == 0x7f) c = ' ';
    if (c == '"') c = '\'';
  }
  return text;
}

Prefix HostPrefix(const IpAddress& a) { return {a, AddressBits(a.family)}; }

void AddPrefix(AddressSet& set, const Prefix& p) {
  (p.address.family == Family::kV4 ? set.v4 : set.v6).push_back(p);
}

// The host LAN counts as internal: "internet" never means the home router or its printers.
AddressSet InternalSet(const Spec& spec, const Plan& plan) {
  AddressSet set{kInternalSet, {}, {}, {}};
  AddPrefix(set, plan.hostonly.subnet);
  for (const PlannedNetwork& n : plan.networks) AddPrefix(set, n.subnet);
  if (spec.host.lan_subnet) AddPrefix(set, spec.host.lan_subnet->Network());
  return set;
}

AddressSet DestinationSet(const Destination& d) {
  AddressSet set{d.name, {}, {}, {}};
  for (const DestinationEntry& e : d.entries) {
    if (e.prefix) {
      AddPrefix(set, *e.prefix);
    } else {
      set.host_names.push_back(e.host_name);
    }
  }
  return set;
}

std::vector<Prefix> ZoneMembers(const Plan& plan, const std::string& zone) {
  std::vector<Prefix> out;
  for (const PlannedVm& vm : plan.vms) {
    if (vm.zone == zone && vm.network >= 0) out.push_back(HostPrefix(vm.address));
  }
  return out;
}

// Resolves a rule's target; an offline VM or an empty zone gives an empty prefix list, which
// matches nothing.
void LowerTarget(const Plan& plan, const Target& to, LoweredRule& rule) {
  using Kind = Target::Kind;
  using To = LoweredRule::To;
  switch (to.kind) {
    case Kind::kInternet:
      rule.to = To::kInternet;
      return;
    case Kind::kFirewall:
      rule.to = To::kFirewall;
      return;
    case Kind::kDestination:
      rule.to = To::kSet;
      rule.set = to.name;
      return;
    case Kind::kZone:
      rule.to = To::kPrefixes;
      rule.prefixes = ZoneMembers(plan, to.name);
      return;
    case Kind::kHost:
      rule.to = To::kPrefixes;
      rule.prefixes = {HostPrefix(plan.hostonly.host_address)};
      return;
    case Kind::kVm: {
      rule.to = To::kPrefixes;
      const PlannedVm* vm = plan.FindVm(to.name);
      if (vm != nullptr && vm->network >= 0) rule.prefixes = {HostPrefix(vm->address)};
      return;
    }
    case Kind::kLiteral:
      if (to.literal.prefix) {
        rule.to = To::kPrefixes;
        rule.prefixes = {*to.literal.prefix};
      } else {
        rule.to = To::kSet;
        rule.host_names = {to.literal.host_name};
      }
      return;
  }
}

LoweredRule LowerEgress(const Spec& spec, const Plan& plan, const EgressRule& r) {
  LoweredRule rule;
  rule.action = r.action;
  LowerTarget(plan, r.to, rule);
  rule.protocol = r.protocol;
  rule.ports = r.ports;
  rule.icmp_type = r.icmp_type;
  rule.descr = fmt::format("{} {} rule {}", Where(spec, r.loc), r.owner, r.index);
  if (!r.comment.empty()) rule.descr += ": " + Printable(r.comment);
  return rule;
}

LoweredRule ToFirewall(RuleAction action, Protocol proto, uint16_t port, std::string descr) {
  LoweredRule rule;
  rule.action = action;
  rule.to = LoweredRule::To::kFirewall;
  rule.protocol = proto;
  if (port != 0) rule.ports = {{port, port}};
  rule.descr = std::move(descr);
  return rule;
}

bool Contains(const std::vector<std::string>& names, const std::string& name) {
  return std::find(names.begin(), names.end(), name) != names.end();
}

// What decides the fixed rules of one interface.
struct Ingress {
  std::string who;  // "zone 'web'" or "host"
  SourceLoc loc;    // of the zone (or host) declaration
  bool dhcp = true;
  bool dns = true;
  bool admin = false;
  const std::vector<EgressRule>* egress = nullptr;
};

std::vector<LoweredRule> LowerRules(const Spec& spec, const Plan& plan, const Ingress& in,
                                    const Date& today, int admin_port) {
  std::vector<LoweredRule> rules;
  std::string where = Where(spec, in.loc);
  if (in.dhcp) {
    rules.push_back(ToFirewall(RuleAction::kAllow, Protocol::kUdp, 67,
                               fmt::format("{} {}: dhcp", where, in.who)));
    rules.back().any_source = true;
  }
  if (in.dns && spec.firewall.dns_resolver) {
    for (Protocol p : {Protocol::kUdp, Protocol::kTcp}) {
      rules.push_back(
          ToFirewall(RuleAction::kAllow, p, 53, fmt::format("{} {}: dns", where, in.who)));
    }
  }
  if (in.admin) {
    std::string admin_where = Where(spec, spec.firewall.admin_from_loc);
    rules.push_back(ToFirewall(RuleAction::kAllow, Protocol::kTcp, admin_port,
                               fmt::format("{} firewall admin_from: {}", admin_where, in.who)));
  }
  rules.push_back(ToFirewall(RuleAction::kDeny, Protocol::kAny, 0,
                             fmt::format("{} {}: nothing else to the firewall", where, in.who)));
  for (const EgressRule& r : *in.egress) {
    if (RuleInForce(r, today)) rules.push_back(LowerEgress(spec, plan, r));
  }
  return rules;
}

LoweredInterface HostOnlyInterface(const Spec& spec, const Plan& plan, const Date& today,
                                   int admin_port) {
  const PlannedHostOnly& h = plan.hostonly;
  LoweredInterface out{"host", h.firewall_iface, h.pfsense_if, h.subnet, h.firewall_address, {}};
  Ingress in{
      "host",           spec.host.loc, false, true, Contains(spec.firewall.admin_from, "host"),
      &spec.host.egress};
  out.rules = LowerRules(spec, plan, in, today, admin_port);
  return out;
}

bool AdminFrom(const Spec& spec, const PlannedNetwork& n) {
  const std::vector<std::string>& from = spec.firewall.admin_from;
  if (Contains(from, n.zone)) return true;
  return std::any_of(n.vms.begin(), n.vms.end(),
                     [&](const std::string& vm) { return Contains(from, vm); });
}

LoweredInterface NetworkInterface(const Spec& spec, const Plan& plan, const PlannedNetwork& n,
                                  const Date& today, int admin_port) {
  static const std::vector<EgressRule> kNone;
  LoweredInterface out{n.name, n.firewall_iface, n.pfsense_if, n.subnet, n.gateway, {}};
  const Zone* zone = spec.FindZone(n.zone);
  Ingress in{fmt::format("zone '{}'", n.zone),
             zone ? zone->loc : SourceLoc{},
             true,
             zone == nullptr || zone->dns,
             AdminFrom(spec, n),
             zone ? &zone->egress : &kNone};
  out.rules = LowerRules(spec, plan, in, today, admin_port);
  return out;
}

}  // namespace

LoweredFilter LowerFilter(const Spec& spec, const Plan& plan, const Date& today, int admin_port) {
  LoweredFilter filter;
  filter.sets.push_back(InternalSet(spec, plan));
  for (const Destination& d : spec.destinations) filter.sets.push_back(DestinationSet(d));

  filter.interfaces.push_back(HostOnlyInterface(spec, plan, today, admin_port));
  for (const PlannedNetwork& n : plan.networks) {
    filter.interfaces.push_back(NetworkInterface(spec, plan, n, today, admin_port));
  }
  return filter;
}

// ---- Small shared spellings ---------------------------------------------------------------------

std::string MacWithColons(std::string_view vbox_mac) {
  std::string out;
  for (size_t i = 0; i < vbox_mac.size(); ++i) {
    if (i > 0 && i % 2 == 0) out += ':';
    out += static_cast<char>(std::tolower(static_cast<unsigned char>(vbox_mac[i])));
  }
  return out;
}

std::string IcmpTypeName(Family f, int type) {
  if (type < 0 || type > 255) return "";
  const char* name = bulkhead::IcmpTypeName(f == Family::kV4 ? kProtoIcmp : kProtoIcmpV6,
                                            static_cast<uint8_t>(type));
  return name ? name : "";
}

int IcmpTypeNumber(Family f, std::string_view name) {
  auto type = IcmpTypeByName(f == Family::kV4 ? kProtoIcmp : kProtoIcmpV6, name);
  return type ? *type : -1;
}

int IcmpV6Equivalent(int v4_type) {
  switch (v4_type) {
    case 0:
      return 129;  // echo-reply
    case 3:
      return 1;  // destination-unreachable
    case 8:
      return 128;  // echo-request
    case 11:
      return 3;  // time-exceeded
    case 12:
      return 4;  // parameter-problem
    default:
      return -1;
  }
}

}  // namespace bulkhead
