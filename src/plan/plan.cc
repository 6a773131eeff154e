// SPDX-License-Identifier: Apache-2.0
// The planner: networks from VMs and zones, then subnets (pins first, then the next free block
// of the pool), addresses, firewall adapters and MACs. It is a list of small passes over one
// Plan; each pass reports its problems at the declaration that caused them. MACs come from a
// hash of stable keys ("vm:browser"), so adding a VM does not renumber the others.

#include "plan/plan.h"

#include <algorithm>
#include <map>
#include <set>

#include <fmt/format.h>

namespace bulkhead {
namespace {

constexpr int kFirstFixedHost = 10;  // .10 onward in /24 terms; .2-.9 stay free for the user
constexpr int kFirstNetworkSlot = 3;
constexpr size_t kMaxIfaceName = 15;          // IFNAMSIZ - 1 on Linux
constexpr const char* kMacPrefix = "080027";  // VirtualBox's own OUI

// A subnet already spoken for, and how to name it in a message.
struct Taken {
  Prefix subnet;
  std::string what;  // "network 'web' (10.137.0.0/24, line 40)"
};

uint64_t Fnv1a(std::string_view text) {
  uint64_t hash = 1469598103934665603ULL;
  for (unsigned char c : text) {
    hash ^= c;
    hash *= 1099511628211ULL;
  }
  return hash;
}

std::string LineSuffix(SourceLoc loc) {
  return loc.line > 0 ? fmt::format(", line {}", loc.line) : "";
}

class Planner {
 public:
  Planner(const Spec& spec, Plan& plan, Diagnostics& diags)
      : spec_(spec), plan_(plan), diags_(diags) {}

  void Run() {
    FormNetworks();
    PlanWan();
    PlanHostOnly();
    PinSubnets();
    AllocateSubnets();
    AssignAddresses();
    CheckDuplicateAddresses();
    AssignFirewallAdapters();
    AssignMacs();
    CheckAdapterCount();
  }

 private:
  void Error(SourceLoc loc, std::string message) { diags_.Error(spec_.file, loc, message); }

  void FormNetworks();
  void PlanWan();
  void PlanHostOnly();
  Prefix CheckedHostOnlyPin(const Prefix& range);
  Prefix FirstFreeHostOnly(const Prefix& range);
  void CheckHostAddress(const PlannedHostOnly& h);
  void PinSubnets();
  std::optional<Prefix> PinOf(const PlannedNetwork& net, SourceLoc& loc);
  std::optional<Prefix> ImpliedPin(const PlannedNetwork& net, SourceLoc& loc);
  bool Claim(const Prefix& subnet, const std::string& what, SourceLoc loc);
  void CheckOutsideHostOnlyRange(const PlannedNetwork& net, SourceLoc loc);
  void AllocateSubnets();
  std::optional<Prefix> NextFreeBlock();
  void AssignAddresses();
  void AssignAddresses(PlannedNetwork& net);
  bool CheckPinnedAddress(const PlannedNetwork& net, const Vm& vm);
  void CheckDuplicateAddresses();
  void AssignFirewallAdapters();
  std::string UniqueIface(const std::string& name, std::set<std::string>& used);
  void AssignMacs();
  std::string Mac(const std::string& key);
  void CheckAdapterCount();
  const Vm& FirstVm(const PlannedNetwork& net) const { return *spec_.FindVm(net.vms.front()); }

  const Spec& spec_;
  Plan& plan_;
  Diagnostics& diags_;
  std::vector<Taken> taken_;
  std::vector<bool> pinned_;   // per network: its subnet comes from the file
  std::vector<bool> planned_;  // per network: it has a subnet (false when the pool ran out)
  uint64_t next_block_ = 0;
  std::set<std::string> macs_;
};

// A VM in a per-VM zone gets a network of its own; a shared zone's network appears at its first
// VM. Networks therefore come in the order their first VM is declared.
void Planner::FormNetworks() {
  for (const Vm& vm : spec_.vms) {
    PlannedVm& pvm = plan_.vms.emplace_back();
    pvm.name = vm.name;
    pvm.zone = vm.zone;
    const Zone* zone = spec_.FindZone(vm.zone);
    if (vm.zone == kOfflineZone || !zone) continue;

    bool shared = zone->network == NetworkMode::kShared;
    std::string name = shared ? zone->name : vm.name;
    auto it = std::find_if(plan_.networks.begin(), plan_.networks.end(),
                           [&](const PlannedNetwork& n) { return n.name == name; });
    if (it == plan_.networks.end()) {
      PlannedNetwork net;
      net.name = name;
      net.intnet = "bh-" + name;
      net.zone = zone->name;
      net.shared = shared;
      it = plan_.networks.insert(plan_.networks.end(), net);
    }
    it->vms.push_back(vm.name);
    pvm.network = static_cast<int>(it - plan_.networks.begin());
  }
}

void Planner::PlanWan() {
  plan_.wan.mode = spec_.firewall.wan;
  if (plan_.wan.mode != WanMode::kBridged) return;
  const std::string& nic = spec_.firewall.wan_nic;
  plan_.wan.bridge_nic = nic.empty() ? spec_.host.physical_nic : nic;
}

void Planner::PlanHostOnly() {
  const Host& host = spec_.host;
  PlannedHostOnly& h = plan_.hostonly;
  h.name = host.hostonly_network;
  if (host.lan_subnet) {
    taken_.push_back(
        {*host.lan_subnet, fmt::format("the host LAN ({}{})", host.lan_subnet->ToString(),
                                       LineSuffix(host.lan_subnet_loc))});
  }
  Prefix range = *Prefix::Parse(kVirtualBoxHostOnlyRange);
  h.subnet = host.hostonly_subnet ? CheckedHostOnlyPin(range) : FirstFreeHostOnly(range);
  taken_.push_back({h.subnet, fmt::format("the host-only network ({})", h.subnet.ToString())});
  h.firewall_address = h.subnet.Nth(1);
  h.host_address = host.address ? *host.address : h.subnet.Nth(2);
  CheckHostAddress(h);
}

Prefix Planner::CheckedHostOnlyPin(const Prefix& range) {
  const Prefix& pin = *spec_.host.hostonly_subnet;
  SourceLoc loc = spec_.host.hostonly_subnet_loc;
  if (!range.Contains(pin.First()) || !range.Contains(pin.Last())) {
    Error(loc, fmt::format("VirtualBox refuses host-only networks outside {} (pin a subnet inside "
                           "it, or allow {} in /etc/vbox/networks.conf and pin it here)",
                           kVirtualBoxHostOnlyRange, pin.ToString()));
  }
  const std::optional<Prefix>& lan = spec_.host.lan_subnet;
  if (lan && pin.Overlaps(*lan)) {
    Error(loc, fmt::format("host-only subnet {} overlaps {}", pin.ToString(), taken_[0].what));
  }
  return pin;
}

// The first /24 of VirtualBox's host-only range that the host LAN leaves free.
Prefix Planner::FirstFreeHostOnly(const Prefix& range) {
  const std::optional<Prefix>& lan = spec_.host.lan_subnet;
  for (uint64_t n = 0; n < range.Size(); n += 256) {
    Prefix candidate{range.Nth(n), 24};
    if (!lan || !candidate.Overlaps(*lan)) return candidate;
  }
  Error(spec_.host.lan_subnet_loc,
        fmt::format("the host LAN {} covers all of {}, where VirtualBox allows host-only networks "
                    "(pin 'hostonly_subnet' to one allowed in /etc/vbox/networks.conf)",
                    lan->ToString(), kVirtualBoxHostOnlyRange));
  return Prefix{range.First(), 24};
}

void Planner::CheckHostAddress(const PlannedHostOnly& h) {
  const Host& host = spec_.host;
  if (!host.address) return;
  std::string text = host.address->ToString();
  if (!h.subnet.Contains(*host.address)) {
    Error(host.address_loc, fmt::format("host address {} is outside the host-only subnet {}", text,
                                        h.subnet.ToString()));
  } else if (*host.address == h.firewall_address) {
    Error(host.address_loc, fmt::format("host address {} is the firewall's address on the "
                                        "host-only network",
                                        text));
  } else if (*host.address == h.subnet.First() || *host.address == h.subnet.Last()) {
    Error(host.address_loc, fmt::format("host address {} is the network or broadcast address of "
                                        "{}",
                                        text, h.subnet.ToString()));
  }
}

// Records `subnet` as used; false, with an error for each, when it overlaps what is already
// planned. It is recorded even then, so that every later overlap with it is reported too.
bool Planner::Claim(const Prefix& subnet, const std::string& what, SourceLoc loc) {
  bool free = true;
  for (const Taken& t : taken_) {
    if (!subnet.Overlaps(t.subnet)) continue;
    Error(loc, fmt::format("subnet {} of {} overlaps {}", subnet.ToString(), what, t.what));
    free = false;
  }
  taken_.push_back({subnet, fmt::format("{} ({}{})", what, subnet.ToString(), LineSuffix(loc))});
  return free;
}

std::optional<Prefix> Planner::PinOf(const PlannedNetwork& net, SourceLoc& loc) {
  const Zone* zone = spec_.FindZone(net.zone);
  if (net.shared && zone->subnet) {
    loc = zone->subnet_loc;
    return zone->subnet;
  }
  const Vm& vm = FirstVm(net);
  if (!net.shared && vm.subnet) {
    loc = vm.subnet_loc;
    return vm.subnet;
  }
  return ImpliedPin(net, loc);
}

// A pinned address without a pinned subnet implies the pool block that holds it.
std::optional<Prefix> Planner::ImpliedPin(const PlannedNetwork& net, SourceLoc& loc) {
  for (const std::string& name : net.vms) {
    const Vm& vm = *spec_.FindVm(name);
    if (!vm.address) continue;
    loc = vm.address_loc;
    const Prefix& pool = spec_.plan.pool;
    if (!pool.Contains(*vm.address)) {
      Error(loc, fmt::format("address {} of VM '{}' is outside the pool {} (pin a 'subnet' that "
                             "holds it)",
                             vm.address->ToString(), vm.name, pool.ToString()));
      return std::nullopt;
    }
    return Prefix{*vm.address, spec_.plan.prefix_length}.Network();
  }
  return std::nullopt;
}

void Planner::PinSubnets() {
  pinned_.assign(plan_.networks.size(), false);
  planned_.assign(plan_.networks.size(), false);
  for (size_t i = 0; i < plan_.networks.size(); ++i) {
    PlannedNetwork& net = plan_.networks[i];
    SourceLoc loc;
    size_t errors_before = diags_.list().size();
    std::optional<Prefix> pin = PinOf(net, loc);
    // A pin that is wrong leaves the network unplanned rather than planned elsewhere.
    if (diags_.list().size() != errors_before) pinned_[i] = true;
    if (!pin) continue;
    net.subnet = *pin;
    pinned_[i] = planned_[i] = true;
    CheckOutsideHostOnlyRange(net, loc);
    Claim(*pin, fmt::format("network '{}'", net.name), loc);
  }
}

// VirtualBox keeps its host-only range for host-only networks, and the planner keeps internal
// networks out of it: a pin there would collide with the next host-only network made.
void Planner::CheckOutsideHostOnlyRange(const PlannedNetwork& net, SourceLoc loc) {
  Prefix range = *Prefix::Parse(kVirtualBoxHostOnlyRange);
  if (!net.subnet.Overlaps(range) || net.subnet.Overlaps(plan_.hostonly.subnet)) return;
  Error(loc, fmt::format("subnet {} of network '{}' is in {}, which VirtualBox keeps for "
                         "host-only networks (pin a subnet outside it)",
                         net.subnet.ToString(), net.name, kVirtualBoxHostOnlyRange));
}

// The next block of the pool that overlaps nothing planned and stays clear of the range
// VirtualBox keeps for host-only networks.
std::optional<Prefix> Planner::NextFreeBlock() {
  const Prefix& pool = spec_.plan.pool;
  uint64_t block_size = uint64_t{1} << (32 - spec_.plan.prefix_length);
  uint64_t blocks = pool.Size() / block_size;
  Prefix hostonly_range = *Prefix::Parse(kVirtualBoxHostOnlyRange);
  for (; next_block_ < blocks; ++next_block_) {
    Prefix block{pool.Nth(next_block_ * block_size), spec_.plan.prefix_length};
    bool free = !block.Overlaps(hostonly_range) &&
                std::none_of(taken_.begin(), taken_.end(),
                             [&](const Taken& t) { return block.Overlaps(t.subnet); });
    if (free) return block;
  }
  return std::nullopt;
}

void Planner::AllocateSubnets() {
  for (size_t i = 0; i < plan_.networks.size(); ++i) {
    PlannedNetwork& net = plan_.networks[i];
    if (pinned_[i]) continue;
    std::optional<Prefix> block = NextFreeBlock();
    if (!block) {
      Error(FirstVm(net).loc,
            fmt::format("the pool {} has no room for network '{}' (widen [plan] pool, or raise "
                        "prefix_length for smaller networks)",
                        spec_.plan.pool.ToString(), net.name));
      continue;
    }
    net.subnet = *block;
    planned_[i] = true;
    Claim(*block, fmt::format("network '{}'", net.name), FirstVm(net).loc);
  }
}

bool Planner::CheckPinnedAddress(const PlannedNetwork& net, const Vm& vm) {
  const IpAddress& a = *vm.address;
  std::string problem;
  if (!net.subnet.Contains(a)) {
    problem =
        fmt::format("is outside the subnet {} of network '{}'", net.subnet.ToString(), net.name);
  } else if (a == net.subnet.First() || a == net.subnet.Last()) {
    problem = fmt::format("is the network or broadcast address of {}", net.subnet.ToString());
  } else if (a == net.gateway) {
    problem = fmt::format("is the gateway of network '{}' (the firewall's address)", net.name);
  } else if (a >= net.dhcp_first && a <= net.dhcp_last) {
    problem = fmt::format("is in the DHCP range {}-{} of network '{}'", net.dhcp_first.ToString(),
                          net.dhcp_last.ToString(), net.name);
  }
  if (problem.empty()) return true;
  Error(vm.address_loc, fmt::format("address {} of VM '{}' {}", a.ToString(), vm.name, problem));
  return false;
}

// Pinned addresses first; then every other VM takes the next free fixed address from .10 up,
// below the DHCP range.
void Planner::AssignAddresses() {
  for (size_t i = 0; i < plan_.networks.size(); ++i) {
    if (planned_[i]) AssignAddresses(plan_.networks[i]);
  }
}

void Planner::AssignAddresses(PlannedNetwork& net) {
  uint64_t size = net.subnet.Size();
  net.gateway = net.subnet.Nth(1);
  net.dhcp_first = net.subnet.Nth(size - size / 4);
  net.dhcp_last = net.subnet.Nth(size - 2);

  std::set<IpAddress> used;
  for (const std::string& name : net.vms) {
    const Vm& vm = *spec_.FindVm(name);
    if (vm.address && CheckPinnedAddress(net, vm)) used.insert(*vm.address);
  }

  uint64_t next = kFirstFixedHost;
  for (const std::string& name : net.vms) {
    const Vm& vm = *spec_.FindVm(name);
    PlannedVm& pvm = plan_.vms[&vm - spec_.vms.data()];
    while (!vm.address && used.count(net.subnet.Nth(next))) ++next;
    if (vm.address) {
      pvm.address = *vm.address;
    } else if (net.subnet.Nth(next) < net.dhcp_first) {
      pvm.address = net.subnet.Nth(next++);
    } else {
      Error(vm.loc, fmt::format("network '{}' has no free address for VM '{}' (its subnet {} is "
                                "too small)",
                                net.name, vm.name, net.subnet.ToString()));
    }
  }
}

void Planner::CheckDuplicateAddresses() {
  std::map<IpAddress, const Vm*> owner;
  for (const Vm& vm : spec_.vms) {
    if (!vm.address) continue;
    auto [it, inserted] = owner.emplace(*vm.address, &vm);
    if (inserted) continue;
    Error(vm.address_loc, fmt::format("address {} of VM '{}' is already VM '{}''s (line {})",
                                      vm.address->ToString(), vm.name, it->second->name,
                                      it->second->address_loc.line));
  }
}

// "bh-" + name, cut to 15 characters; a clash after cutting gets a digit suffix.
std::string Planner::UniqueIface(const std::string& name, std::set<std::string>& used) {
  std::string base = ("bh-" + name).substr(0, kMaxIfaceName);
  std::string candidate = base;
  for (int n = 2; used.count(candidate); ++n) {
    std::string suffix = std::to_string(n);
    candidate = base.substr(0, kMaxIfaceName - suffix.size()) + suffix;
  }
  used.insert(candidate);
  return candidate;
}

void Planner::AssignFirewallAdapters() {
  std::set<std::string> ifaces = {plan_.wan.firewall_iface, plan_.hostonly.firewall_iface};
  for (size_t i = 0; i < plan_.networks.size(); ++i) {
    PlannedNetwork& net = plan_.networks[i];
    net.firewall_slot = kFirstNetworkSlot + static_cast<int>(i);
    net.pfsense_if = fmt::format("opt{}", i + 1);
    net.pfsense_nic = fmt::format("vtnet{}", net.firewall_slot - 1);
    net.firewall_iface = UniqueIface(net.name, ifaces);
  }
}

// The low 24 bits of an FNV-1a hash of `key`; on a clash, of `key` with a counter appended.
std::string Planner::Mac(const std::string& key) {
  for (int attempt = 0;; ++attempt) {
    std::string salted = attempt == 0 ? key : fmt::format("{}#{}", key, attempt);
    std::string mac = fmt::format("{}{:06X}", kMacPrefix, Fnv1a(salted) & 0xFFFFFF);
    if (macs_.insert(mac).second) return mac;
  }
}

void Planner::AssignMacs() {
  plan_.wan.firewall_mac = Mac("fw:wan");
  plan_.hostonly.firewall_mac = Mac("fw:hostonly");
  for (PlannedNetwork& net : plan_.networks) net.firewall_mac = Mac("fw:net:" + net.name);
  for (PlannedVm& vm : plan_.vms) {
    if (vm.network >= 0) vm.mac = Mac("vm:" + vm.name);
  }
}

void Planner::CheckAdapterCount() {
  const FirewallVm& fw = spec_.firewall;
  plan_.adapters_used = 2 + static_cast<int>(plan_.networks.size());
  plan_.adapters_max = MaxAdapters(fw.chipset);
  if (plan_.adapters_used <= plan_.adapters_max) return;

  bool piix3 = fw.chipset == Chipset::kPiix3;
  std::string fix = piix3 ? "set chipset = \"ich9\" for up to 36, or put zones on shared networks"
                          : "put zones on shared networks";
  // Without a [firewall] table, the first VM whose network has no adapter left is to blame.
  SourceLoc loc = fw.chipset_loc.line > 0 ? fw.chipset_loc : fw.loc;
  if (loc.line == 0) loc = FirstVm(plan_.networks[plan_.adapters_max - 2]).loc;
  Error(loc, fmt::format("the firewall VM needs {} adapters but chipset '{}' allows {} ({})",
                         plan_.adapters_used, piix3 ? "piix3" : "ich9", plan_.adapters_max, fix));
}

}  // namespace

const PlannedVm* Plan::FindVm(std::string_view name) const {
  auto it =
      std::find_if(vms.begin(), vms.end(), [&](const PlannedVm& v) { return v.name == name; });
  return it == vms.end() ? nullptr : &*it;
}

const PlannedNetwork* Plan::NetworkOf(std::string_view vm_name) const {
  const PlannedVm* vm = FindVm(vm_name);
  return vm && vm->network >= 0 ? &networks[vm->network] : nullptr;
}

bool MakePlan(const Spec& spec, Plan& plan, Diagnostics& diags) {
  plan = Plan{};
  size_t before = diags.list().size();
  Planner(spec, plan, diags).Run();
  for (size_t i = before; i < diags.list().size(); ++i) {
    if (diags.list()[i].severity == Severity::kError) return false;
  }
  return true;
}

}  // namespace bulkhead
