// SPDX-License-Identifier: Apache-2.0
// Judges every machine's current state and each of its snapshots: adapters that lead around the
// firewall VM, NAT port forwards, and the channels that pass data beside any network. A snapshot
// finding is one risk level lower than the same finding on a current state, since its settings
// only come back when someone restores it; one that says what the current state already says is
// left out. Internal and NAT networks that several VMs share are judged on current states only,
// and so are the NAT networks themselves (their port forwards and host loopback mappings).

#include "audit/vm_findings.h"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <map>
#include <optional>

#include "net/ip.h"

namespace bulkhead {
namespace {

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

// Attachments whose traffic reaches the host or its networks without passing another VM.
bool LeadsOutside(Attachment a) {
  return a == Attachment::kNat || a == Attachment::kBridged || a == Attachment::kHostOnly ||
         a == Attachment::kNatNetwork || a == Attachment::kGeneric;
}

bool Plugged(const VBoxAdapter& a) { return a.enabled && a.cable_connected; }

// Where a port forward listens and how much that exposes: on "" or 0.0.0.0 every host address,
// so the LAN reaches the guest (high); on the loopback only the host's own users (medium).
struct Exposure {
  Risk risk;
  std::string on;  // "every host address", "host address 127.0.0.1"
};
Exposure ExposureOf(const NatForward& f) {
  bool loopback = f.host_ip.starts_with("127.") || f.host_ip == "::1";
  bool every = f.host_ip.empty() || f.host_ip == "0.0.0.0";
  return {loopback ? Risk::kMedium : Risk::kHigh,
          every ? "every host address" : "host address " + f.host_ip};
}

// Attachments whose segment other machines may share, so that a promiscuous guest reads their
// traffic; a NAT adapter has an engine of its own.
bool Shared(Attachment a) { return a != Attachment::kNone && a != Attachment::kNat; }

std::string Describe(const VBoxAdapter& a) {
  switch (a.attachment) {
    case Attachment::kNat:
      return "NAT";
    case Attachment::kBridged:
      return fmt::format("the host interface '{}' (bridged)", a.network);
    case Attachment::kHostOnly:
      return fmt::format("host-only interface '{}'", a.network);
    case Attachment::kNatNetwork:
      return fmt::format("NAT network '{}'", a.network);
    case Attachment::kGeneric:
      return fmt::format("generic driver or cloud network '{}'", a.network);
    case Attachment::kIntnet:
      return fmt::format("internal network '{}'", a.network);
    case Attachment::kNone:
      break;
  }
  return "nothing";
}

// One state of one machine under judgement.
struct State {
  const VBoxMachine& machine;
  const VBoxHardware& hw;
  std::string subject;
  bool firewall = false;
};

class Judge {
 public:
  explicit Judge(const State& s) : s_(s) {}
  std::vector<Finding> Run();

 private:
  void Add(Risk risk, std::string kind, std::string message, const std::string& path) {
    std::string file = std::filesystem::path(s_.machine.file).filename().string();
    out_.push_back({risk, std::move(kind), s_.subject, std::move(message),
                    path.empty() ? file : file + ": " + path});
  }
  // Where a hardware setting is written: an element under the state's Hardware in a machine
  // file, else the showvminfo key or script option.
  std::string At(std::string_view element, std::string_view key) const {
    if (s_.machine.source != VBoxSource::kMachineFile) return std::string(key);
    return s_.hw.path + "/" + std::string(element);
  }
  void Adapter(const VBoxAdapter& a);
  void Bypass(const VBoxAdapter& a);
  void Joins();
  void Forwards(const VBoxAdapter& a);
  void SharedFolders();
  void ClipboardAndDragAndDrop();
  void Vrde();
  void Ports();
  void UsbAndAudio();

  const State& s_;
  std::vector<Finding> out_;
};

std::vector<Finding> Judge::Run() {
  for (const VBoxAdapter& a : s_.hw.adapters) Adapter(a);
  if (!s_.firewall) Joins();
  SharedFolders();
  ClipboardAndDragAndDrop();
  Vrde();
  Ports();
  UsbAndAudio();
  if (s_.hw.guest_additions) {
    Add(Risk::kInfo, "vm-guest-additions",
        "guest additions are installed: they carry the clipboard, drag and drop and shared "
        "folders between guest and host",
        At("GuestProperties", "GuestAdditionsVersion"));
  }
  return std::move(out_);
}

void Judge::Adapter(const VBoxAdapter& a) {
  if (Shared(a.attachment) && Plugged(a) && a.promiscuous != "deny" && !s_.firewall) {
    Add(Risk::kMedium, "vm-promiscuous-adapter",
        fmt::format("adapter {} on {} may run promiscuous ({}): it can read its neighbours' "
                    "traffic",
                    a.slot, Describe(a), a.promiscuous),
        a.path);
  }
  if (!LeadsOutside(a.attachment)) return;
  // The firewall VM's own outside adapters are what it is for.
  if (!s_.firewall) Bypass(a);
  if (a.attachment != Attachment::kNat || !a.enabled) return;
  Forwards(a);
  if (a.nat_localhost_reachable) {
    Add(Risk::kMedium, "vm-nat-localhost-reachable",
        fmt::format("adapter {}'s NAT lets the guest reach services bound to the host's "
                    "127.0.0.1 (through 10.0.2.2)",
                    a.slot),
        a.path + (s_.machine.source == VBoxSource::kMachineFile ? "/NAT" : ""));
  }
}

void Judge::Bypass(const VBoxAdapter& a) {
  if (Plugged(a)) {
    Add(Risk::kHigh, "vm-bypass-adapter",
        fmt::format("adapter {} is attached to {}: the VM reaches the host or its networks "
                    "without passing the firewall VM",
                    a.slot, Describe(a)),
        a.path);
    return;
  }
  std::string state = a.enabled           ? "has its cable unplugged"
                      : a.cable_connected ? "is disabled"
                                          : "is disabled and has its cable unplugged";
  std::string then = a.enabled || a.cable_connected
                         ? "one click makes it"
                         : "enabling it and plugging its cable in make it";
  Add(Risk::kLow, "vm-disabled-bypass-adapter",
      fmt::format("adapter {} {} but is attached to {}: {} bypass the firewall VM", a.slot, state,
                  Describe(a), then),
      a.path);
}

// A VM with adapters on two of the internal networks the firewall VM separates is a router
// between them that no firewall rule sees: one compromised VM joins the zones. Outside
// attachments are judged as bypasses already.
void Judge::Joins() {
  std::vector<const VBoxAdapter*> on;
  for (const VBoxAdapter& a : s_.hw.adapters) {
    if (!Plugged(a) || a.attachment != Attachment::kIntnet) continue;
    bool seen = std::any_of(on.begin(), on.end(),
                            [&a](const VBoxAdapter* b) { return b->network == a.network; });
    if (!seen) on.push_back(&a);
  }
  if (on.size() < 2) return;
  std::vector<std::string> names;
  for (const VBoxAdapter* a : on) {
    names.push_back(fmt::format("{} (adapter {})", Describe(*a), a->slot));
  }
  Add(Risk::kHigh, "vm-joins-networks",
      fmt::format("it is attached to {}: it can pass traffic between them without the firewall "
                  "VM",
                  fmt::join(names, " and ")),
      on[1]->path);
}

void Judge::Forwards(const VBoxAdapter& a) {
  for (const NatForward& f : a.forwards) {
    Exposure e = ExposureOf(f);
    std::string path = s_.machine.source == VBoxSource::kMachineFile
                           ? fmt::format("{}/NAT/Forwarding[name='{}']", a.path, f.name)
                           : a.path;
    Add(e.risk, "vm-nat-port-forward",
        fmt::format("port forward '{}' on adapter {} exposes guest port {}/{} on {}, port {}",
                    f.name, a.slot, f.guest_port, f.proto, e.on, f.host_port),
        path);
  }
}

void Judge::SharedFolders() {
  for (const VBoxSharedFolder& sf : s_.hw.shared_folders) {
    std::vector<std::string> flags;
    if (sf.writable) flags.push_back("writable");
    if (sf.auto_mount) flags.push_back("mounted automatically");
    if (sf.symlinks) flags.push_back("symlinks allowed");
    std::string what =
        sf.host_path.empty() ? "a host folder" : fmt::format("the host folder '{}'", sf.host_path);
    std::string suffix = flags.empty() ? "" : fmt::format(" ({})", fmt::join(flags, ", "));
    if (s_.machine.source == VBoxSource::kShowVmInfo) {
      suffix = " (showvminfo does not say whether it is writable or mounted automatically)";
    }
    bool high = (sf.writable && sf.auto_mount) || sf.symlinks;
    Add(high ? Risk::kHigh : Risk::kMedium, "vm-shared-folder",
        fmt::format("shared folder '{}' gives the guest {}{}", sf.name, what, suffix), sf.path);
  }
}

// Data leaving the guest (guest-to-host, bidirectional) weighs more than data entering it.
void Judge::ClipboardAndDragAndDrop() {
  struct Channel {
    const std::string& mode;
    const char* kind;
    const char* name;
    const char* element;
    const char* key;
  };
  const Channel channels[] = {
      {s_.hw.clipboard, "vm-clipboard", "clipboard sharing", "Clipboard", "clipboard"},
      {s_.hw.drag_and_drop, "vm-drag-and-drop", "drag and drop", "DragAndDrop", "draganddrop"},
  };
  for (const Channel& c : channels) {
    if (c.mode == "disabled") continue;
    Risk risk = c.mode == "host-to-guest" ? Risk::kLow : Risk::kMedium;
    Add(risk, c.kind, fmt::format("{} is {}", c.name, c.mode), At(c.element, c.key));
  }
  if (s_.hw.clipboard != "disabled" && s_.hw.clipboard_file_transfers) {
    Add(Risk::kMedium, "vm-clipboard-file-transfers",
        "clipboard file transfers are on: files move between guest and host",
        At("Clipboard", "clipboard_file_transfers"));
  }
}

void Judge::Vrde() {
  const bulkhead::Vrde& v = s_.hw.vrde;
  if (!v.enabled) return;
  bool every = v.address.empty() || v.address == "0.0.0.0" || v.address == "::";
  bool open = v.auth == "null";
  std::string on = every ? "every host address" : "host address " + v.address;
  Add(every && open ? Risk::kHigh : Risk::kMedium, "vm-vrde",
      fmt::format(
          "the remote display (VRDE) listens on {}, port {}, {}", on, v.ports,
          open ? "without authentication" : fmt::format("with '{}' authentication", v.auth)),
      v.path);
}

void Judge::Ports() {
  for (const SerialPort& p : s_.hw.serial_ports) {
    if (p.host_mode == "disconnected") continue;
    Risk risk = p.host_mode == "rawfile" ? Risk::kLow : Risk::kMedium;
    std::string target = p.target.empty() ? "" : fmt::format(" '{}'", p.target);
    Add(risk, "vm-serial-port",
        fmt::format("serial port {} is connected to the host ({}{}{})", p.slot, p.host_mode, target,
                    p.server ? ", listening" : ""),
        p.path);
  }
  if (s_.hw.parallel_port) {
    Add(Risk::kLow, "vm-parallel-port", "a parallel port passes a host device to the guest",
        At("LPT", "lpt1"));
  }
}

void Judge::UsbAndAudio() {
  bool active_filter = false;
  for (const UsbFilter& f : s_.hw.usb_filters) {
    if (!f.active || !s_.hw.usb_controller) continue;
    active_filter = true;
    Add(Risk::kMedium, "vm-usb-filter",
        fmt::format("USB filter '{}' hands matching host devices to the guest (a USB network "
                    "adapter or modem is a new way out)",
                    f.name),
        f.path);
  }
  if (s_.hw.usb_controller && !active_filter) {
    Add(Risk::kLow, "vm-usb-controller",
        "a USB controller lets the host hand its USB devices to the guest",
        s_.hw.usb_path.empty() ? At("USB", "usb") : s_.hw.usb_path);
  }
  if (s_.hw.audio_in) {
    Add(Risk::kLow, "vm-audio-input",
        "the audio adapter records: the guest hears the host's microphone",
        s_.hw.audio_path.empty() ? At("AudioAdapter", "audio_in") : s_.hw.audio_path);
  }
}

Risk OneLower(Risk r) { return r == Risk::kInfo ? r : static_cast<Risk>(static_cast<int>(r) - 1); }

bool SaysTheSame(const Finding& f, const std::vector<Finding>& current) {
  return std::any_of(current.begin(), current.end(),
                     [&f](const Finding& c) { return c.kind == f.kind && c.message == f.message; });
}

void JudgeMachine(const VBoxMachine& m, bool firewall, std::vector<Finding>& out) {
  std::string subject = fmt::format("vm '{}'", m.name);
  if (m.encrypted) {
    out.push_back({Risk::kMedium, "vm-encrypted", subject,
                   "its settings are encrypted: none of its adapters or channels could be "
                   "audited",
                   std::filesystem::path(m.file).filename().string()});
    return;
  }
  std::vector<Finding> current = Judge({m, m.current, subject, firewall}).Run();
  for (const VBoxSnapshot& s : m.snapshots) {
    std::string snapshot_subject = fmt::format("{} (snapshot '{}')", subject, s.chain);
    for (Finding& f : Judge({m, s.hardware, snapshot_subject, firewall}).Run()) {
      if (SaysTheSame(f, current)) continue;
      f.risk = OneLower(f.risk);
      out.push_back(std::move(f));
    }
  }
  for (Finding& f : current) out.push_back(std::move(f));
}

// VMs on one internal network, or one NAT network, reach each other directly: the firewall VM
// sees none of it.
void SharedNetworks(const VBoxInventory& inv, const std::string& firewall_vm, Attachment attachment,
                    const char* kind, std::vector<Finding>& out) {
  const char* what = attachment == Attachment::kIntnet ? "internal network" : "NAT network";
  std::map<std::string, std::vector<std::string>> vms_on;
  for (const VBoxMachine& m : inv.machines) {
    if (m.name == firewall_vm) continue;
    for (const VBoxAdapter& a : m.current.adapters) {
      if (a.attachment != attachment || !Plugged(a)) continue;
      std::vector<std::string>& vms = vms_on[a.network];
      if (std::find(vms.begin(), vms.end(), m.name) == vms.end()) vms.push_back(m.name);
    }
  }
  for (const auto& [network, vms] : vms_on) {
    if (vms.size() < 2) continue;
    out.push_back({Risk::kMedium, kind, fmt::format("{} '{}'", what, network),
                   fmt::format("vms '{}' share {} '{}': they reach each other without passing "
                               "the firewall VM",
                               fmt::join(vms, "', '"), what, network),
                   ""});
  }
}

// The guest address a loopback mapping puts the host's loopback at: offset 2 of 10.0.2.0/24 is
// 10.0.2.2.
std::string MappedAddress(const NatNetwork& n, const NatLoopback& lo) {
  std::optional<Prefix> p = Prefix::Parse(n.network);
  if (!p || lo.offset < 0 || static_cast<uint64_t>(lo.offset) >= p->Network().Size()) {
    return fmt::format("offset {} of '{}'", lo.offset, n.network);
  }
  return p->Network().Nth(static_cast<uint64_t>(lo.offset)).ToString();
}

// A NAT network's own port forwards and host loopback mappings, written in VirtualBox.xml or
// shown by `list natnets`; a disabled network's are one risk level lower.
void NatNetworkFindings(const NatNetwork& n, std::vector<Finding>& out) {
  std::string subject = fmt::format("NAT network '{}'", n.name);
  std::string file = std::filesystem::path(n.file).filename().string();
  std::string where = n.path.empty() ? file : file + ": " + n.path;
  auto add = [&](Risk risk, const char* kind, std::string message, const std::string& at) {
    out.push_back({n.enabled ? risk : OneLower(risk), kind, subject, std::move(message), at});
  };
  for (const NatForward& f : n.forwards) {
    Exposure e = ExposureOf(f);
    std::string guest = f.guest_ip.empty() ? "" : f.guest_ip + ":";
    add(e.risk, "nat-network-port-forward",
        fmt::format("port forward '{}' exposes guest port {}{}/{} on {}, port {}", f.name, guest,
                    f.guest_port, f.proto, e.on, f.host_port),
        n.path.empty() ? where
                       : fmt::format("{}/PortForwarding4/Forwarding[name='{}']", where, f.name));
  }
  for (const NatLoopback& lo : n.loopbacks) {
    add(Risk::kMedium, "nat-network-loopback",
        fmt::format("its guests reach the host's {} at {}: services bound to the host's "
                    "loopback are open to them",
                    lo.host_address, MappedAddress(n, lo)),
        n.path.empty() ? where + ": loopback mappings (ipv4)" : where + "/Mappings");
  }
}

// "fw" counts only as a word of its own: "lab-fw", "fw1", not "fwupd".
bool NamedLikeFirewall(std::string_view name) {
  std::string n = Lower(name);
  for (const char* word : {"pfsense", "opnsense", "firewall"}) {
    if (n.find(word) != std::string::npos) return true;
  }
  for (size_t pos = n.find("fw"); pos != std::string::npos; pos = n.find("fw", pos + 1)) {
    bool starts = pos == 0 || !std::isalpha(static_cast<unsigned char>(n[pos - 1]));
    bool ends = pos + 2 == n.size() || !std::isalpha(static_cast<unsigned char>(n[pos + 2]));
    if (starts && ends) return true;
  }
  return false;
}

// Both an outside adapter (bridged or NAT) and an internal network, plugged in.
bool LooksLikeGateway(const VBoxMachine& m) {
  bool outside = false, inside = false;
  for (const VBoxAdapter& a : m.current.adapters) {
    if (!Plugged(a)) continue;
    outside = outside || a.attachment == Attachment::kBridged || a.attachment == Attachment::kNat;
    inside = inside || a.attachment == Attachment::kIntnet;
  }
  return outside && inside;
}

std::vector<const VBoxMachine*> Keep(const std::vector<const VBoxMachine*>& in,
                                     bool (*test)(const VBoxMachine&)) {
  std::vector<const VBoxMachine*> out;
  for (const VBoxMachine* m : in) {
    if (test(*m)) out.push_back(m);
  }
  return out;
}

// Candidates by name first, then by shape; a FreeBSD OS type breaks a tie between gateways.
// One machine when it is clear, else those still in the running.
std::vector<const VBoxMachine*> Candidates(const VBoxInventory& inv) {
  std::vector<const VBoxMachine*> all;
  for (const VBoxMachine& m : inv.machines) all.push_back(&m);
  auto by_name = Keep(all, [](const VBoxMachine& m) { return NamedLikeFirewall(m.name); });
  if (by_name.size() == 1) return by_name;
  auto gateways = Keep(by_name.empty() ? all : by_name, LooksLikeGateway);
  if (gateways.size() <= 1) return gateways.empty() ? by_name : gateways;
  auto freebsd = Keep(gateways, [](const VBoxMachine& m) {
    return Lower(m.os_type).find("freebsd") != std::string::npos;
  });
  return freebsd.size() == 1 ? freebsd : gateways;
}

}  // namespace

std::string FindFirewallVm(const VBoxInventory& inv, const std::string& named) {
  if (!named.empty()) {
    if (const VBoxMachine* m = inv.FindMachine(named)) return m->name;
  }
  std::vector<const VBoxMachine*> c = Candidates(inv);
  return c.size() == 1 ? c[0]->name : "";
}

std::vector<std::string> FirewallVmCandidates(const VBoxInventory& inv) {
  std::vector<std::string> out;
  for (const VBoxMachine* m : Candidates(inv)) out.push_back(m->name);
  return out;
}

std::vector<Finding> VmFindings(const VBoxInventory& inv, const std::string& firewall_vm) {
  std::vector<Finding> out;
  for (const VBoxMachine& m : inv.machines) {
    JudgeMachine(m, !firewall_vm.empty() && m.name == firewall_vm, out);
  }
  SharedNetworks(inv, firewall_vm, Attachment::kIntnet, "vms-share-internal-network", out);
  SharedNetworks(inv, firewall_vm, Attachment::kNatNetwork, "vms-share-nat-network", out);
  for (const NatNetwork& n : inv.nat_networks) NatNetworkFindings(n, out);
  SortFindings(out);
  return out;
}

}  // namespace bulkhead
