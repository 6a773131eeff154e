// SPDX-License-Identifier: Apache-2.0
// Compiles a Spec and its Plan into vboxmanage/create.sh, a POSIX sh script that creates and
// wires every VM with VirtualBox 7's VBoxManage. The script is shell functions (the guards that
// read each VM's current settings and change only what differs) followed by the desired state as
// plain data lines, `want VM KEY VALUE` with showvminfo's key names, which ReadVBoxScript reads.
#include <fmt/format.h>

#include <algorithm>
#include <string>
#include <string_view>
#include <vector>

#include "plan/plan.h"
#include "render/render.h"
#include "spec/spec.h"

namespace bulkhead {
namespace {

// The guards, above the data lines. The reader skips function bodies.
constexpr std::string_view kFunctions = R"sh(set -eu

VBM=${VBOXMANAGE:-VBoxManage}
VM_DIR=${BULKHEAD_VM_DIR:-"${HOME:-.}/VirtualBox VMs/bulkhead"}
NL='
'

say() {
  printf 'bulkhead: %s\n' "$*" >&2
}

die() {
  say "$*"
  exit 1
}

registered() {
  "$VBM" list vms | grep -F "\"$1\" {" >/dev/null
}

# hostonly IF ADDRESS NETMASK: the host's only network, which leads to the firewall VM.
hostonly() {
  ifs=$("$VBM" list hostonlyifs)
  if ! printf '%s\n' "$ifs" | grep "^Name: *$1\$" >/dev/null; then
    "$VBM" hostonlyif create >/dev/null
    ifs=$("$VBM" list hostonlyifs)
    printf '%s\n' "$ifs" | grep "^Name: *$1\$" >/dev/null ||
      die "host-only interface '$1' was not created"
  fi
  block=$(printf '%s\n' "$ifs" | sed -n "/^Name: *$1\$/,/^\$/p")
  ip=$(printf '%s\n' "$block" | sed -n 's/^IPAddress: *//p')
  mask=$(printf '%s\n' "$block" | sed -n 's/^NetworkMask: *//p')
  if [ "$ip" != "$2" ] || [ "$mask" != "$3" ]; then
    "$VBM" hostonlyif ipconfig "$1" --ip "$2" --netmask "$3"
  fi
}

# create VM OSTYPE DISK_MIB MEDIUM: a new VM with an empty disk and the install medium.
create() {
  if registered "$1"; then
    return 0
  fi
  disk="$VM_DIR/$1/$1.vdi"
  "$VBM" createvm --name "$1" --ostype "$2" --register --basefolder "$VM_DIR" >/dev/null
  "$VBM" createmedium disk --filename "$disk" --size "$3" --format VDI >/dev/null
  "$VBM" storagectl "$1" --name SATA --add sata --controller IntelAhci --portcount 2
  "$VBM" storageattach "$1" --storagectl SATA --port 0 --device 0 --type hdd --medium "$disk"
  "$VBM" storageattach "$1" --storagectl SATA --port 1 --device 0 --type dvddrive \
    --medium "${4:-emptydrive}"
}

# clone VM TEMPLATE: a full clone of a template VM; the clone gets new MAC addresses.
clone() {
  if registered "$1"; then
    return 0
  fi
  registered "$2" || die "template '$2' of '$1' is not registered"
  "$VBM" clonevm "$2" --name "$1" --register --basefolder "$VM_DIR" >/dev/null
}

# current KEY: the value showvminfo gives for KEY in the settings `begin` read.
current() {
  printf '%s\n' "$info" | sed -n "s/^$1=\"\{0,1\}\([^\"]*\)\"\{0,1\}\$/\1/p"
}

# begin VM: reads the VM's settings. A VM that is not powered off is left alone.
begin() {
  vm=$1
  args=
  shares=
  info=$("$VBM" showvminfo "$1" --machinereadable)
  state=$(current VMState)
  case $state in
    poweroff|aborted) skip= ;;
    *) skip=1; say "'$1' is $state: not changed (power it off and run this again)" ;;
  esac
}

# want VM KEY VALUE: setting KEY (as showvminfo names it) must be VALUE; queued for `finish`.
want() {
  [ "$1" = "$vm" ] || die "'want $1 $2' is not inside 'begin $1'"
  if [ -n "$skip" ]; then
    return 0
  fi
  # Already so: showvminfo prints strings quoted and numbers bare.
  case "$NL$info$NL" in
    *"$NL$2=\"$3\"$NL"* | *"$NL$2=$3$NL"*) return 0 ;;
  esac
  val=$3
  case $2 in
    nic[0-9]*|intnet[0-9]*|cpus|memory|chipset|vrde) opt=--$2 ;;
    nictype[0-9]*) opt=--nic-type${2#nictype} ;;
    macaddress[0-9]*) opt=--mac-address${2#macaddress} ;;
    cableconnected[0-9]*) opt=--cable-connected${2#cableconnected} ;;
    bridgeadapter[0-9]*) opt=--bridge-adapter${2#bridgeadapter} ;;
    hostonlyadapter[0-9]*) opt=--host-only-adapter${2#hostonlyadapter} ;;
    clipboard) opt=--clipboard-mode ;;
    draganddrop) opt=--drag-and-drop ;;
    audio) opt=--audio-enabled; if [ "$3" = none ]; then val=off; else val=on; fi ;;
    usb) opt=--usb-ohci ;;
    ehci) opt=--usb-ehci ;;
    xhci) opt=--usb-xhci ;;
    *) die "unknown setting '$2' for '$1'" ;;
  esac
  args="${args:+$args
}$opt
$val"
}

# share VM NAME HOSTPATH readonly|writable: a shared folder the spec declares.
share() {
  [ "$1" = "$vm" ] || die "'share $1 $2' is not inside 'begin $1'"
  shares="${shares:+$shares
}$2"
  if [ -n "$skip" ]; then
    return 0
  fi
  n=$(printf '%s\n' "$info" | sed -n "s/^SharedFolderNameMachineMapping\([0-9]*\)=\"$2\"\$/\1/p")
  if [ -n "$n" ] && [ "$(current "SharedFolderPathMachineMapping$n")" = "$3" ]; then
    return 0
  fi
  if [ -n "$n" ]; then
    "$VBM" sharedfolder remove "$1" --name "$2"
  fi
  if [ "$4" = writable ]; then
    "$VBM" sharedfolder add "$1" --name "$2" --hostpath "$3"
  else
    "$VBM" sharedfolder add "$1" --name "$2" --hostpath "$3" --readonly
  fi
}

# finish VM: applies the queued settings in one modifyvm call and removes undeclared shares.
finish() {
  if [ -n "$skip" ]; then
    return 0
  fi
  if [ -n "$args" ]; then
    set --
    while IFS= read -r line; do
      set -- "$@" "$line"
    done <<QUEUED
$args
QUEUED
    "$VBM" modifyvm "$vm" "$@"
  fi
  printf '%s\n' "$info" | sed -n 's/^SharedFolderNameMachineMapping[0-9]*="\(.*\)"$/\1/p' |
    while IFS= read -r name; do
      printf '%s\n' "$shares" | grep -F -x "$name" >/dev/null ||
        "$VBM" sharedfolder remove "$vm" --name "$name"
    done
}
)sh";

// A word the shell reads back unchanged: plain if it can be, single-quoted otherwise.
std::string ShellWord(std::string_view text) {
  constexpr std::string_view kPlain =
      "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_./:+-,=@%";
  if (!text.empty() && text.find_first_not_of(kPlain) == std::string_view::npos) {
    return std::string(text);
  }
  std::string out = "'";
  for (char c : text) {
    out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  }
  return out + "'";
}

std::string BaseName(const std::string& file) {
  size_t slash = file.find_last_of('/');
  return slash == std::string::npos ? file : file.substr(slash + 1);
}

class Script {
 public:
  void Line(std::string_view text) { (text_ += text) += '\n'; }
  void Want(const std::string& vm, std::string_view key, std::string_view value) {
    Line(fmt::format("want {} {} {}", ShellWord(vm), key, ShellWord(value)));
  }
  const std::string& text() const { return text_; }

 private:
  std::string text_;
};

struct Adapter {
  int slot = 0;
  std::string_view attachment;   // "intnet", "bridged", "hostonly", "nat"
  std::string_view network_key;  // "intnet", "bridgeadapter", "hostonlyadapter"; "" for nat
  std::string network;
  std::string mac;
};

void EmitAdapter(Script& s, const std::string& vm, const Adapter& a) {
  s.Want(vm, fmt::format("nic{}", a.slot), a.attachment);
  s.Want(vm, fmt::format("nictype{}", a.slot), "virtio");
  if (!a.network_key.empty()) s.Want(vm, fmt::format("{}{}", a.network_key, a.slot), a.network);
  if (!a.mac.empty()) s.Want(vm, fmt::format("macaddress{}", a.slot), a.mac);
  s.Want(vm, fmt::format("cableconnected{}", a.slot), "on");
}

void EmitNone(Script& s, const std::string& vm, int first, int last) {
  for (int slot = first; slot <= last; ++slot) s.Want(vm, fmt::format("nic{}", slot), "none");
}

// Adapters at their slots; every other slot of the chipset is set to none, so that nothing a
// template or an earlier run left behind stays attached.
void EmitAdapters(Script& s, const std::string& vm, std::vector<Adapter> adapters, int max_slot) {
  std::sort(adapters.begin(), adapters.end(),
            [](const Adapter& a, const Adapter& b) { return a.slot < b.slot; });
  int next = 1;
  for (const Adapter& a : adapters) {
    EmitNone(s, vm, next, a.slot - 1);
    EmitAdapter(s, vm, a);
    next = a.slot + 1;
  }
  EmitNone(s, vm, next, max_slot);
}

void EmitSize(Script& s, const std::string& vm, int cpus, int memory_mib, Chipset chipset) {
  s.Want(vm, "cpus", std::to_string(cpus));
  s.Want(vm, "memory", std::to_string(memory_mib));
  s.Want(vm, "chipset", chipset == Chipset::kIch9 ? "ich9" : "piix3");
}

// The channels to the host besides the network: clipboard and drag-and-drop only as declared,
// never VRDE, audio or USB.
void EmitChannels(Script& s, const std::string& vm, Sharing clipboard, Sharing dnd) {
  s.Want(vm, "clipboard", SharingName(clipboard));
  s.Want(vm, "draganddrop", SharingName(dnd));
  s.Want(vm, "vrde", "off");
  s.Want(vm, "audio", "none");
  for (const char* usb : {"usb", "ehci", "xhci"}) s.Want(vm, usb, "off");
}

void EmitHostOnly(Script& s, const Plan& plan) {
  const PlannedHostOnly& h = plan.hostonly;
  s.Line(fmt::format("# The host-only network {}: the host is {}, the firewall VM {}.",
                     h.subnet.ToString(), h.host_address.ToString(),
                     h.firewall_address.ToString()));
  s.Line(fmt::format("hostonly {} {} {}", ShellWord(h.name), h.host_address.ToString(),
                     NetmaskV4(h.subnet.length).ToString()));
}

std::vector<Adapter> FirewallAdapters(const Plan& plan) {
  std::vector<Adapter> out;
  const PlannedWan& wan = plan.wan;
  if (wan.mode == WanMode::kBridged) {
    out.push_back(
        {wan.firewall_slot, "bridged", "bridgeadapter", wan.bridge_nic, wan.firewall_mac});
  } else {
    out.push_back({wan.firewall_slot, "nat", "", "", wan.firewall_mac});
  }
  const PlannedHostOnly& h = plan.hostonly;
  out.push_back({h.firewall_slot, "hostonly", "hostonlyadapter", h.name, h.firewall_mac});
  for (const PlannedNetwork& n : plan.networks) {
    out.push_back({n.firewall_slot, "intnet", "intnet", n.intnet, n.firewall_mac});
  }
  return out;
}

void EmitFirewall(Script& s, const Spec& spec, const Plan& plan) {
  const FirewallVm& fw = spec.firewall;
  const bool pfsense = fw.engine == FirewallEngine::kPfsense;
  std::string wan = plan.wan.mode == WanMode::kBridged
                        ? fmt::format("bridged to '{}'", plan.wan.bridge_nic)
                        : std::string("nat");
  s.Line(fmt::format("# {}:{} firewall '{}' ({}, wan {})", BaseName(spec.file), fw.loc.line,
                     fw.name, pfsense ? "pfsense" : "nftables", wan));
  s.Line(fmt::format("create {} {} {} {}", ShellWord(fw.name), pfsense ? "FreeBSD_64" : "Debian_64",
                     fw.disk_mib, ShellWord(fw.medium)));
  s.Line(fmt::format("begin {}", ShellWord(fw.name)));
  EmitSize(s, fw.name, fw.cpus, fw.memory_mib, fw.chipset);
  EmitAdapters(s, fw.name, FirewallAdapters(plan), MaxAdapters(fw.chipset));
  EmitChannels(s, fw.name, Sharing::kOff, Sharing::kOff);
  s.Line(fmt::format("finish {}", ShellWord(fw.name)));
}

std::string VmComment(const Spec& spec, const Vm& vm, const PlannedVm* pv,
                      const PlannedNetwork* net) {
  std::string where =
      fmt::format("# {}:{} vm '{}', zone '{}'", BaseName(spec.file), vm.loc.line, vm.name, vm.zone);
  if (pv == nullptr || net == nullptr) return where + ", offline: no adapter";
  return fmt::format("{}, network '{}' {}, address {}", where, net->intnet, net->subnet.ToString(),
                     pv->address.ToString());
}

const PlannedNetwork* NetworkOf(const Plan& plan, const PlannedVm* pv) {
  if (pv == nullptr || pv->network < 0) return nullptr;
  if (pv->network >= static_cast<int>(plan.networks.size())) return nullptr;
  return &plan.networks[pv->network];
}

void EmitVm(Script& s, const Spec& spec, const Plan& plan, const Vm& vm) {
  const PlannedVm* pv = plan.FindVm(vm.name);
  const PlannedNetwork* net = NetworkOf(plan, pv);
  s.Line("");
  s.Line(VmComment(spec, vm, pv, net));
  if (vm.template_vm.empty()) {
    s.Line(fmt::format("create {} Debian_64 {} {}", ShellWord(vm.name), vm.disk_mib,
                       ShellWord(vm.medium)));
  } else {
    s.Line(fmt::format("clone {} {}", ShellWord(vm.name), ShellWord(vm.template_vm)));
  }
  s.Line(fmt::format("begin {}", ShellWord(vm.name)));
  EmitSize(s, vm.name, vm.cpus, vm.memory_mib, Chipset::kPiix3);
  std::vector<Adapter> adapters;
  if (net != nullptr) adapters.push_back({1, "intnet", "intnet", net->intnet, pv->mac});
  EmitAdapters(s, vm.name, adapters, MaxAdapters(Chipset::kPiix3));
  EmitChannels(s, vm.name, vm.clipboard, vm.drag_and_drop);
  for (const SharedFolder& f : vm.shared_folders) {
    s.Line(fmt::format("share {} {} {} {}", ShellWord(vm.name), ShellWord(f.name),
                       ShellWord(f.host_path), f.read_only ? "readonly" : "writable"));
  }
  s.Line(fmt::format("finish {}", ShellWord(vm.name)));
}

// No date: rendering the same file twice gives the same script, whatever the day.
std::string Header(const Spec& spec) {
  std::string nat_user =
      spec.firewall.wan != WanMode::kNat
          ? ""
          : fmt::format("\n# wan = \"nat\": start the firewall VM '{}' as the user '{}' and run "
                        "nothing else as it;\n# the host's lockdown lets only that user out on "
                        "'{}' (see host/nftables.conf).",
                        spec.firewall.name, spec.firewall.nat_user, spec.host.physical_nic);
  return fmt::format(
      "#!/bin/sh\n"
      "# Generated by bulkhead from {}:\n"
      "# creates and wires every VM of the set-up with VirtualBox 7's VBoxManage.\n"
      "# Safe to run again: it reads each VM's settings first and changes only what differs;\n"
      "# a VM that is running is never changed. The lines after the functions are the desired\n"
      "# state, one setting a line ('want VM KEY VALUE', keys as showvminfo names them): edit\n"
      "# those, not the functions; 'bulkhead verify' reads them back.\n"
      "# VBOXMANAGE names the VBoxManage to run; BULKHEAD_VM_DIR the folder for new VMs.{}",
      BaseName(spec.file), nat_user);
}

}  // namespace

Artifacts RenderVBoxManage(const Spec& spec, const Plan& plan, const Date& /*today*/) {
  Script s;
  s.Line(Header(spec));
  s.Line(kFunctions);
  EmitHostOnly(s, plan);
  s.Line("");
  EmitFirewall(s, spec, plan);
  for (const Vm& vm : spec.vms) EmitVm(s, spec, plan, vm);
  return {Artifact{"create.sh", s.text(), true}};
}

}  // namespace bulkhead
