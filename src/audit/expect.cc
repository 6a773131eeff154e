// SPDX-License-Identifier: Apache-2.0
// The hand-made set-up put through verify's own comparison: the VirtualBox machines become the
// wiring, the firewall found among them takes the bulkhead file's firewall name, and the
// config.xml is the firewall. Rules that depend on something unknown are settled both ways:
// the most that may pass gives the extra reach, the least the missing reach.

#include "audit/expect.h"

#include <fmt/format.h>

#include <map>
#include <utility>

#include "verify/declared.h"
#include "verify/endpoints.h"
#include "verify/observed.h"
#include "verify/report.h"

namespace bulkhead {
namespace {

AdapterWiring AdapterOf(const VBoxAdapter& a) {
  return {a.slot, a.attachment, a.network, a.mac, a.cable_connected, a.type};
}

// The inventory spells sharing modes as words ("host-to-guest"), VBoxManage as one
// ("hosttoguest"), which is how the wiring and the spec compare them.
std::string ScriptSpelling(std::string mode) {
  std::erase(mode, '-');
  return mode;
}

VmWiring VmOf(const VBoxMachine& m) {
  VmWiring vm;
  vm.name = m.name;
  for (const VBoxAdapter& a : m.current.adapters) {
    if (a.enabled && a.attachment != Attachment::kNone) vm.adapters.push_back(AdapterOf(a));
  }
  vm.clipboard = ScriptSpelling(m.current.clipboard);
  vm.drag_and_drop = ScriptSpelling(m.current.drag_and_drop);
  vm.shared_folders = static_cast<int>(m.current.shared_folders.size());
  vm.vrde = m.current.vrde.enabled;
  vm.audio = m.current.audio_in;
  return vm;
}

// The host's address on the host-only interface, as VirtualBox configured it.
std::optional<Prefix> HostOnlyAddress(const VBoxInventory& vbox, const std::string& name) {
  for (const HostOnlyInterface& h : vbox.hostonly_interfaces) {
    if (h.name != name) continue;
    std::optional<IpAddress> a = IpAddress::Parse(h.address);
    std::optional<int> length = h.mask.empty() ? 24 : NetmaskLength(h.mask);
    if (a && length) return Prefix{*a, *length};
  }
  return std::nullopt;
}

// Extra reach from the most that may pass, missing reach from the least, per cell.
std::vector<Difference> Bounded(const std::vector<Difference>& most,
                                const std::vector<Difference>& least) {
  std::map<std::pair<size_t, size_t>, Difference> by_cell;
  for (const Difference& d : most) {
    if (d.extra.empty()) continue;
    Difference& out = by_cell[{d.source, d.destination}];
    out.source = d.source, out.destination = d.destination, out.extra = d.extra;
    out.causes.insert(out.causes.end(), d.causes.begin(), d.causes.end());
  }
  for (const Difference& d : least) {
    if (d.missing.empty()) continue;
    Difference& out = by_cell[{d.source, d.destination}];
    out.source = d.source, out.destination = d.destination, out.missing = d.missing;
    out.causes.insert(out.causes.end(), d.causes.begin(), d.causes.end());
  }
  std::vector<Difference> out;
  for (auto& [cell, d] : by_cell) out.push_back(std::move(d));
  return out;
}

std::string CellName(const VerifyResult& r, const Difference& d) {
  return fmt::format("'{}' -> '{}'", r.declared.sources[d.source].name,
                     r.declared.destinations[d.destination].name);
}

std::string CausesText(const Difference& d) {
  std::string out;
  for (const Reason& c : d.causes) {
    if (!out.empty()) out += ", ";
    out += fmt::format("{} by {}", c.action == Action::kAccept ? "passed" : "blocked",
                       c.origin.Where());
  }
  return out.empty() ? "" : " (" + out + ")";
}

// Whose setting differs, with VMs named as the audit's other findings name them.
std::string SettingOwner(const SettingDifference& s) {
  return s.kind == EndpointKind::kVm ? fmt::format("vm '{}'", s.vm) : SettingSubject(s);
}

}  // namespace

bool ReadExpected(const std::string& file, const Date& today, ExpectedSetUp& out,
                  NameTable& names, Diagnostics& diags) {
  if (!ReadSpec(file, out.spec, diags, today)) return false;
  if (!MakePlan(out.spec, out.plan, diags)) return false;
  (void)ExternalEndpoints(out.spec, out.plan, names);
  return true;
}

Wiring WiringOf(const VBoxInventory& vbox) {
  Wiring w;
  for (const VBoxMachine& m : vbox.machines) w.vms.push_back(VmOf(m));
  return w;
}

VerifyResult CompareWithExpected(const ExpectedSetUp& expected, const FirewallView& fw,
                                 const VBoxInventory& vbox, const std::string& firewall_vm,
                                 const Date& today) {
  const Spec& spec = expected.spec;
  const Plan& plan = expected.plan;
  VerifyResult r;
  r.engine = "pfsense";
  r.compared = "the set-up";
  r.names = fw.policy.names;

  // The firewall VM stands for the file's firewall; its host-only adapter is the host's link.
  Wiring wiring = WiringOf(vbox);
  wiring.hostonly_if = spec.host.hostonly_network;
  for (VmWiring& vm : wiring.vms) {
    if (vm.name != firewall_vm) continue;
    vm.name = spec.firewall.name;
    for (const AdapterWiring& a : vm.adapters) {
      if (a.attachment == Attachment::kHostOnly) wiring.hostonly_if = a.network;
    }
  }
  std::optional<Prefix> host = HostOnlyAddress(vbox, wiring.hostonly_if);
  wiring.hostonly_host =
      host ? *host : Prefix{plan.hostonly.host_address, plan.hostonly.subnet.length};

  Policy host_filter;  // not part of the input: taken to let everything through
  host_filter.names = r.names;
  // The firewall's own addresses outside the file's plan (a static WAN address) are the
  // firewall's in the declared matrix too, not the internet's.
  AddrSet runtime;
  for (const FirewallInterface& i : fw.interfaces) {
    runtime = runtime.Union(i.dynamic);
    if (!i.outside) continue;
    for (const Prefix& p : i.addresses) runtime = runtime.Union(AddrsOf(p.address));
  }
  r.declared = DeclaredMatrix(spec, plan, today, AdminPort(FirewallEngine::kPfsense), r.names,
                              runtime);
  if (!HasUnknowns(fw.policy)) {
    r.observed = ObservedMatrix(spec, plan, {wiring, fw, host_filter}, r.names);
    r.differences = Compare(r.declared, r.observed);
  } else {
    FirewallView least = fw, most = fw;
    least.policy = Settle(fw.policy, Bound::kLeast);
    most.policy = Settle(fw.policy, Bound::kMost);
    Matrix least_m = ObservedMatrix(spec, plan, {wiring, least, host_filter}, r.names);
    r.observed = ObservedMatrix(spec, plan, {wiring, most, host_filter}, r.names);
    r.differences = Bounded(Compare(r.declared, r.observed), Compare(r.declared, least_m));
  }
  // Without the host's own ruleset, its row says nothing about the set-up: not compared.
  std::erase_if(r.differences, [&](const Difference& d) {
    return r.declared.sources[d.source].kind == EndpointKind::kHost;
  });
  CompareAddresses(r);
  for (SettingDifference& d : CompareSettings(spec, wiring)) r.settings.push_back(d);
  return r;
}

std::vector<Finding> ExpectFindings(const VerifyResult& r) {
  std::vector<Finding> out;
  for (const Difference& d : r.differences) {
    if (!d.extra.empty()) {
      out.push_back({Risk::kHigh, "expect-extra-reach", CellName(r, d),
                     fmt::format("passes but is not declared: {} to {}{}",
                                 ServicesText(d.extra.Services()),
                                 FormatAddrs(d.extra.Destinations(), &r.names), CausesText(d)),
                     ""});
    }
    if (!d.missing.empty()) {
      out.push_back({Risk::kMedium, "expect-missing-reach", CellName(r, d),
                     fmt::format("is declared but blocked: {} to {}{}",
                                 ServicesText(d.missing.Services()),
                                 FormatAddrs(d.missing.Destinations(), &r.names), CausesText(d)),
                     ""});
    }
  }
  for (const SettingDifference& s : r.settings) {
    out.push_back({Risk::kLow, "expect-setting", SettingOwner(s), SettingText(s, r.compared), ""});
  }
  return out;
}

}  // namespace bulkhead
