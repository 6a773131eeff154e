// SPDX-License-Identifier: Apache-2.0
// Builds the declared matrix. Each source's egress rules become a first-match chain over exact
// packet sets; the chain is evaluated once per source over every destination, and the result
// is split by destination column.

#include "verify/declared.h"

#include <algorithm>

#include <fmt/format.h>

#include "verify/endpoints.h"

namespace bulkhead {
namespace {

struct Context {
  const Spec& spec;
  const Plan& plan;
  NameTable& names;
  AddrSet internal;
  AddrSet firewall;
  AddrSet columns_v4;  // the IPv4 addresses of every destination column
};

AddrSet FirewallAddrs(const Plan& plan) {
  AddrSet out = AddrsOf(plan.hostonly.firewall_address);
  for (const PlannedNetwork& n : plan.networks) out = out.Union(AddrsOf(n.gateway));
  return out;
}

AddrSet VmAddrs(const Plan& plan, std::string_view name) {
  const PlannedVm* vm = plan.FindVm(name);
  return vm && vm->network >= 0 ? AddrsOf(vm->address) : AddrSet();
}

AddrSet TargetAddrs(const Context& ctx, const Target& t) {
  switch (t.kind) {
    case Target::Kind::kInternet:
      return AllAddrsBothFamilies().Subtract(ctx.internal);
    case Target::Kind::kDestination:
      return DestinationAddrs(*ctx.spec.FindDestination(t.name), ctx.names);
    case Target::Kind::kZone: {
      AddrSet out;
      for (const PlannedVm& vm : ctx.plan.vms) {
        if (vm.zone == t.name) out = out.Union(VmAddrs(ctx.plan, vm.name));
      }
      return out;
    }
    case Target::Kind::kVm:
      return VmAddrs(ctx.plan, t.name);
    case Target::Kind::kHost:
      return AddrsOf(ctx.plan.hostonly.host_address);
    case Target::Kind::kFirewall:
      return AddrSet();  // the firewall column has its own fixed services
    case Target::Kind::kLiteral:
      return EntryAddrs(t.literal, ctx.names);
  }
  return {};
}

Provenance RuleOrigin(const Spec& spec, const EgressRule& r) {
  std::string text = fmt::format("{} rule {}", r.owner, r.index);
  if (!r.comment.empty()) text += ": " + r.comment;
  return {spec.file, r.loc.line, "", text};
}

// The source's egress rules as a chain. Only IPv4 from the source's subnet is declared: the
// planned networks carry no IPv6.
Chain EgressChain(const Context& ctx, const std::vector<EgressRule>& rules, const Prefix& subnet,
                  const Date& today) {
  Chain chain;
  chain.default_action = Action::kDrop;
  chain.default_origin = {ctx.spec.file, 0, "", "anything not declared is blocked"};
  for (const EgressRule& r : rules) {
    if (!RuleInForce(r, today)) continue;
    AddrSet dst = TargetAddrs(ctx, r.to).Intersect(AllAddrs(Family::kV4));
    ServiceSet svc = RuleServices(r.protocol, r.ports, r.icmp_type, Family::kV4);
    PolicyRule rule;
    rule.match = PacketSet::Of(AddrsOf(subnet), dst, svc);
    rule.action = r.action == RuleAction::kAllow ? Action::kAccept : Action::kDrop;
    rule.origin = RuleOrigin(ctx.spec, r);
    chain.rules.push_back(std::move(rule));
  }
  return chain;
}

bool InAdminFrom(const Spec& spec, std::string_view who, std::string_view zone) {
  const auto& from = spec.firewall.admin_from;
  return std::find(from.begin(), from.end(), who) != from.end() ||
         (!zone.empty() && std::find(from.begin(), from.end(), zone) != from.end());
}

struct Source {
  std::string name;
  int network = -1;  // plan network, -1 for the host
  Prefix subnet;
  bool dns = true;
  bool admin = false;
  bool dhcp = true;  // VMs take their address by DHCP; the host's is static
  const std::vector<EgressRule>* egress = nullptr;
};

// What a source may open towards the firewall VM itself. DHCP clients send before they have
// an address, so DHCP is open from any source; the rest only from the source's own subnet.
Cell FirewallCell(const Context& ctx, const Source& src, int admin_port) {
  ServiceSet svc;
  if (src.dns && ctx.spec.firewall.dns_resolver) {
    svc = svc.Union(Ports(kProtoUdp, 53, 53)).Union(Ports(kProtoTcp, 53, 53));
  }
  if (src.admin) svc = svc.Union(Ports(kProtoTcp, admin_port, admin_port));
  Cell cell;
  cell.passed = PacketSet::Of(AddrsOf(src.subnet), ctx.firewall, svc);
  if (src.dhcp) {
    AddrSet v4 = MatrixSources().Intersect(AllAddrs(Family::kV4));
    cell.passed = cell.passed.Union(
        PacketSet::Of(v4, ctx.firewall, Ports(kProtoUdp, 67, 67)).Subtract(cell.passed));
  }
  cell.reasons.push_back({cell.passed, Action::kAccept,
                          {ctx.spec.file, 0, "", "DHCP, DNS and admin access to the firewall"}});
  return cell;
}

// Splits one evaluation over all destinations into the cells of one row.
void FillRow(const std::vector<Decision>& decisions, const Chain& chain,
             const ColumnIndex& columns, std::vector<Cell>& row, const std::vector<bool>& skip) {
  for (const Decision& dec : decisions) {
    const Provenance& origin = dec.rule >= 0 ? chain.rules[dec.rule].origin : chain.default_origin;
    for (auto& [d, part] : columns.Split(dec.packets)) {
      if (skip[d]) continue;
      if (dec.action == Action::kAccept) row[d].passed.UnionDisjoint(part);
      row[d].reasons.push_back({std::move(part), dec.action, origin});
    }
  }
}

std::vector<Endpoint> MachineDestinations(const Context& ctx) {
  std::vector<Endpoint> out;
  for (const Vm& vm : ctx.spec.vms) {
    out.push_back({EndpointKind::kVm, vm.name, VmAddrs(ctx.plan, vm.name)});
  }
  out.push_back({EndpointKind::kHost, ctx.spec.host.name,
                 AddrsOf(ctx.plan.hostonly.host_address)});
  out.push_back({EndpointKind::kFirewall, ctx.spec.firewall.name, ctx.firewall});
  return out;
}


std::vector<Cell> Row(const Context& ctx, const Source& src, const std::vector<Endpoint>& dests,
                      const std::vector<PacketSet>& columns, const ColumnIndex& index,
                      const Date& today, int admin_port) {
  std::vector<Cell> row(dests.size());
  std::vector<bool> skip(dests.size(), false);
  for (size_t d = 0; d < dests.size(); ++d) {
    const Endpoint& dst = dests[d];
    const PlannedVm* vm = dst.kind == EndpointKind::kVm ? ctx.plan.FindVm(dst.name) : nullptr;
    if (dst.name == src.name && dst.kind != EndpointKind::kDestination &&
        dst.kind != EndpointKind::kInternet) {
      skip[d] = true;
    } else if (dst.kind == EndpointKind::kFirewall) {
      row[d] = FirewallCell(ctx, src, admin_port);
      skip[d] = true;
    } else if (vm && src.network >= 0 && vm->network == src.network) {
      row[d].passed = columns[d];
      row[d].notes.push_back("same internal network: no firewall in between");
      skip[d] = true;
    }
  }
  Chain chain = EgressChain(ctx, *src.egress, src.subnet, today);
  // Every column at once; the columns handled above are skipped when the result is shared out.
  PacketSet sent = PacketSet::Of(AddrsOf(src.subnet), ctx.columns_v4, MatrixServices());
  FillRow(Evaluate(chain, "", "", StateMatch::kNew, sent), chain, index, row, skip);
  return row;
}

}  // namespace

Matrix DeclaredMatrix(const Spec& spec, const Plan& plan, const Date& today, int admin_port,
                      NameTable& names, const AddrSet& firewall_runtime) {
  Context ctx{spec, plan, names, InternalAddrs(spec, plan),
              FirewallAddrs(plan).Union(firewall_runtime)};
  Matrix m;
  m.destinations = MachineDestinations(ctx);
  for (Endpoint& e : ExternalEndpoints(spec, plan, names)) {
    e.addresses = e.addresses.Subtract(firewall_runtime);
    m.destinations.push_back(e);
  }
  std::vector<PacketSet> columns;
  for (const Endpoint& e : m.destinations) columns.push_back(PacketsTowards(e.addresses));
  ColumnIndex index(m.destinations);
  AddrSet::Ranges all;
  for (const Endpoint& e : m.destinations) {
    all.insert(all.end(), e.addresses.ranges().begin(), e.addresses.ranges().end());
  }
  ctx.columns_v4 = AddrSet::FromRanges(std::move(all)).Intersect(AllAddrs(Family::kV4));

  for (size_t i = 0; i < spec.vms.size(); ++i) {
    const Vm& vm = spec.vms[i];
    const PlannedVm& pvm = plan.vms[i];
    m.sources.push_back({EndpointKind::kVm, vm.name, VmAddrs(plan, vm.name)});
    if (pvm.network < 0) {
      m.cells.emplace_back(m.destinations.size());
      continue;
    }
    const Zone* zone = spec.FindZone(vm.zone);
    Source src{vm.name, pvm.network, plan.networks[pvm.network].subnet, zone->dns,
               InAdminFrom(spec, vm.name, vm.zone), true, &zone->egress};
    m.cells.push_back(Row(ctx, src, m.destinations, columns, index, today, admin_port));
  }

  m.sources.push_back({EndpointKind::kHost, spec.host.name, AddrsOf(plan.hostonly.host_address)});
  Source host{spec.host.name, -1, plan.hostonly.subnet, true, InAdminFrom(spec, "host", ""),
              false, &spec.host.egress};
  m.cells.push_back(Row(ctx, host, m.destinations, columns, index, today, admin_port));

  // Nothing outside may open a connection inwards: no port forwards are declared.
  m.sources.push_back({EndpointKind::kInternet, "internet", {}});
  m.cells.emplace_back(m.destinations.size());
  return m;
}

}  // namespace bulkhead
