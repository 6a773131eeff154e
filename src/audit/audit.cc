// SPDX-License-Identifier: Apache-2.0
// The audit pipeline, as a list of passes: read the bulkhead file to compare with (its host
// names seed the name table), the firewall's config.xml and the VirtualBox files; find the
// firewall VM and tie its adapters to the firewall's interfaces; place every other VM behind
// an interface; build the matrix; collect the findings of each part.

#include "audit/audit.h"

#include <fmt/format.h>

#include <algorithm>
#include <filesystem>
#include <map>

#include "audit/expect.h"
#include "audit/matrix_findings.h"
#include "audit/nat.h"
#include "audit/rule_findings.h"
#include "audit/vm_findings.h"
#include "plan/plan.h"

namespace bulkhead {
namespace {

// "intnet:dmz"; NAT, which has no network name, is just "nat".
std::string SegmentOf(const VBoxAdapter& a) {
  if (a.network.empty()) return AttachmentName(a.attachment);
  return fmt::format("{}:{}", AttachmentName(a.attachment), a.network);
}

bool Plugged(const VBoxAdapter& a) {
  return a.enabled && a.cable_connected && a.attachment != Attachment::kNone;
}

// An interface whose device no adapter of the firewall VM becomes: pfSense finds the
// interface missing at boot, and nothing the config says of it holds.
void NoAdapterFor(AuditResult& r, const FirewallInterface& i,
                  const std::vector<GuestDevice>& devices) {
  // A VLAN needs its parent adapter; tunnels, laggs and bridges are no adapter at all.
  std::string parent = FreeBsdAdapterDevice(i.device);
  if (parent.empty()) return;
  bool has_parent = std::any_of(devices.begin(), devices.end(),
                                [&](const GuestDevice& d) { return d.device == parent; });
  if (has_parent) return;
  std::vector<std::string> have;
  for (const GuestDevice& d : devices) {
    have.push_back(fmt::format("{} (adapter {})", d.device, d.adapter->slot));
  }
  r.findings.push_back(
      {Risk::kMedium, "interface-without-adapter", fmt::format("interface '{}'", i.name),
       fmt::format("it is on device {}, but no adapter of the firewall VM '{}' is {} to FreeBSD "
                   "({}): pfSense would find the interface missing",
                   i.device, r.firewall_vm, parent,
                   have.empty() ? "it has no adapter"
                                : fmt::format("its adapters are {}", fmt::join(have, ", "))),
       ""});
}

// When machines were read but none is clearly the firewall VM, nothing is placed behind the
// firewall and the firewall VM's own outside adapters count as bypasses: say which could be it.
void NoFirewallVm(AuditResult& r) {
  if (!r.firewall_vm.empty() || r.vbox.machines.empty()) return;
  std::vector<std::string> candidates = FirewallVmCandidates(r.vbox);
  if (!r.has_firewall && candidates.size() < 2) return;
  std::string which =
      candidates.empty()
          ? "no machine looks like one"
          : fmt::format("it could be '{}'", fmt::join(candidates, "', '"));
  r.findings.push_back(
      {Risk::kMedium, "firewall-vm-not-found", "the firewall VM",
       fmt::format("no machine is clearly the firewall VM ({}): give --firewall-vm. Until then "
                   "no VM is placed behind a firewall interface, and the firewall VM's outside "
                   "adapters are judged as any VM's",
                   which),
       ""});
}

// Ties each firewall interface to the adapter its device is, and gives the interface that
// adapter's MAC, so that the VBoxManage-style wiring and the matrix agree on it.
void JoinInterfaces(AuditResult& r) {
  const VBoxMachine* fw = r.vbox.FindMachine(r.firewall_vm);
  if (!fw) return;
  std::vector<GuestDevice> devices = FreeBsdDevices(fw->current);
  for (FirewallInterface& i : r.firewall.interfaces) {
    InterfaceJoin join{i.name, i.device, "", 0, false};
    bool found = false;
    for (const GuestDevice& d : devices) {
      if (d.device != i.device) continue;
      found = true;
      if (!Plugged(*d.adapter)) {
        join.slot = d.adapter->slot;
        join.unplugged = true;
        continue;
      }
      join.segment = SegmentOf(*d.adapter);
      join.slot = d.adapter->slot;
      i.mac = d.adapter->mac;
      i.slot = d.adapter->slot;
    }
    if (!found) NoAdapterFor(r, i, devices);
    r.joins.push_back(join);
  }
}

std::string InterfaceOnSegment(const AuditResult& r, const std::string& segment) {
  for (const InterfaceJoin& j : r.joins) {
    if (j.segment == segment && j.iface != r.firewall.wan) return j.iface;
  }
  return "";
}

AddrSet ReservedAddrs(const AuditResult& r, const std::string& iface, const std::string& mac) {
  const FirewallInterface* fi = r.firewall.FindInterface(iface);
  AddrSet out;
  if (!fi) return out;
  for (const DhcpReservation& res : r.firewall.reservations) {
    if (res.mac != mac) continue;
    for (const Prefix& p : fi->addresses) {
      if (p.Network().Contains(res.address)) out = out.Union(AddrsOf(res.address));
    }
  }
  return out;
}

// Every machine but the firewall VM, behind the interface on one of its networks, with the
// adapters that lead around the firewall.
void PlaceVms(AuditResult& r) {
  std::map<std::string, int> named;
  for (const VBoxMachine& m : r.vbox.machines) ++named[m.name];
  for (const VBoxMachine& m : r.vbox.machines) {
    if (m.name == r.firewall_vm) continue;
    // Machines of one name (copies of one image, say) are told apart by their files.
    std::string name = named[m.name] == 1 ? m.name
                                          : fmt::format("{} ({})", m.name,
                                                        std::filesystem::path(m.file).filename()
                                                            .string());
    PlacedVm vm{name, "", {}, {}, {}};
    for (const VBoxAdapter& a : m.current.adapters) {
      if (!Plugged(a)) continue;
      std::string segment = SegmentOf(a);
      vm.segments.push_back(segment);
      std::string iface = InterfaceOnSegment(r, segment);
      if (!iface.empty()) {
        if (vm.iface.empty()) vm.iface = iface;
        if (iface == vm.iface) vm.addresses = vm.addresses.Union(ReservedAddrs(r, iface, a.mac));
      } else if (a.attachment != Attachment::kIntnet) {
        std::string on = a.network.empty() ? "" : fmt::format(" ('{}')", a.network);
        vm.bypasses.push_back(fmt::format("'{}' adapter {} is {}{}: it bypasses the firewall",
                                          m.name, a.slot, AttachmentName(a.attachment), on));
      }
    }
    r.vms.push_back(std::move(vm));
  }
}

// A name given for the firewall VM must be one of the machines: taken as a hint, a typo would
// silently let another machine, or none, be the firewall VM.
bool FirewallVmExists(const std::string& named, const VBoxInventory& inv, Diagnostics& diags) {
  if (named.empty() || inv.FindMachine(named)) return true;
  std::vector<std::string> names;
  for (const VBoxMachine& m : inv.machines) {
    std::string name = fmt::format("'{}'", m.name);
    if (std::find(names.begin(), names.end(), name) == names.end()) names.push_back(name);
  }
  std::string why = names.empty() ? "the --vbox inputs hold no machine"
                                  : fmt::format("the machines: {}", fmt::join(names, ", "));
  diags.Error("--firewall-vm", {}, fmt::format("no machine named '{}' ({})", named, why));
  return false;
}

void KeepNotModelled(const Diagnostics& diags, AuditResult& r) {
  for (const Diagnostic& d : diags.list()) {
    if (d.severity != Severity::kError && d.message.find("not modelled") != std::string::npos) {
      r.not_modelled.push_back(d);
    }
  }
}

}  // namespace

bool Audit(const AuditOptions& opts, const Date& today, AuditResult& r, Diagnostics& diags) {
  std::optional<ExpectedSetUp> expected;
  if (!opts.expect.empty()) {
    expected.emplace();
    if (!ReadExpected(opts.expect, today, *expected, r.firewall.policy.names, diags)) {
      return false;
    }
  }
  bool ok = true;
  if (!opts.pfsense.empty()) {
    ok = ReadPfsenseFirewall(opts.pfsense, r.firewall, diags, Unmodelled::kUnknown) && ok;
    r.has_firewall = true;
  }
  bool vbox_ok = true;
  for (const std::string& path : opts.vbox) vbox_ok = ReadVBox(path, r.vbox, diags) && vbox_ok;
  // Only with every machine read is a name known to be missing.
  if (vbox_ok) vbox_ok = FirewallVmExists(opts.firewall_vm, r.vbox, diags);
  if (!ok || !vbox_ok) return false;
  if (r.has_firewall && r.firewall.interfaces.empty()) {
    diags.Warning(opts.pfsense, {}, "the configuration has no enabled interface: nothing to judge");
  }
  KeepNotModelled(diags, r);

  std::string named = opts.firewall_vm;
  if (named.empty() && expected) named = expected->spec.firewall.name;
  r.firewall_vm = FindFirewallVm(r.vbox, named);
  NoFirewallVm(r);
  JoinInterfaces(r);
  PlaceVms(r);
  if (r.has_firewall || !r.vms.empty()) r.matrix = AuditMatrix(r.firewall, r.vms, opts.atoms);

  if (r.has_firewall) {
    for (Finding& f : RuleFindings(r.firewall)) r.findings.push_back(std::move(f));
    for (Finding& f : MatrixFindings(r.firewall, r.vms, r.matrix)) {
      r.findings.push_back(std::move(f));
    }
    for (Finding& f : OutboundNatFindings(r.firewall, r.matrix)) {
      r.findings.push_back(std::move(f));
    }
  }
  for (Finding& f : VmFindings(r.vbox, r.firewall_vm)) r.findings.push_back(std::move(f));
  if (expected && r.has_firewall) {
    r.expected = CompareWithExpected(*expected, r.firewall, r.vbox, r.firewall_vm, today);
    for (Finding& f : ExpectFindings(*r.expected)) r.findings.push_back(std::move(f));
  }
  SortFindings(r.findings);
  return true;
}

}  // namespace bulkhead
