// SPDX-License-Identifier: Apache-2.0
// Reads what VirtualBox keeps about machines into one VBoxInventory. Each file is read once (a
// pipe gives its content only once), its kind found from its first bytes: settings XML (a
// machine file or VirtualBox.xml, matched by local element names so that innotek's old
// namespace reads alike), VBoxManage text output, or a bulkhead VBoxManage script. Defaults that
// changed between settings versions are applied as the version that wrote the file meant them
// (VirtualBox's Settings.cpp: cable, VRDE, audio, NAT loopback).

#include "import/vbox_machine.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <map>
#include <pugixml.hpp>
#include <set>
#include <string_view>

#include "import/xml_error.h"
#include "util/decimal.h"

namespace bulkhead {
namespace {

namespace fs = std::filesystem;
using Node = pugi::xml_node;

constexpr size_t kSniffBytes = 4096;
constexpr uintmax_t kMaxFileBytes = uintmax_t{64} << 20;
constexpr int kNewestMinor = 22;  // settings 1.22, VirtualBox 7.3
// VirtualBox takes no snapshot deeper than 250 (SETTINGS_SNAPSHOT_DEPTH_MAX); a file nesting
// them far deeper is refused before the paths of its snapshots grow without end.
constexpr int kMaxSnapshotDepth = 1000;

// ---- Text helpers ----------------------------------------------------------------------------

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

std::string Trim(std::string_view s) {
  size_t b = s.find_first_not_of(" \t\r\n");
  if (b == std::string_view::npos) return "";
  size_t e = s.find_last_not_of(" \t\r\n");
  return std::string(s.substr(b, e - b + 1));
}

bool StartsWith(std::string_view s, std::string_view prefix) {
  return s.substr(0, prefix.size()) == prefix;
}

std::vector<std::string> SplitLines(std::string_view text) {
  std::vector<std::string> lines;
  size_t pos = 0;
  while (pos < text.size()) {
    size_t end = text.find('\n', pos);
    if (end == std::string_view::npos) end = text.size();
    std::string line(text.substr(pos, end - pos));
    if (!line.empty() && line.back() == '\r') line.pop_back();
    lines.push_back(std::move(line));
    pos = end + 1;
  }
  return lines;
}


uint16_t PortOf(std::string_view s) {
  return static_cast<uint16_t>(ParseDecimal(Trim(s), 65535).value_or(0));
}

bool IsOn(std::string_view value) {
  std::string v = Lower(value);
  return v == "on" || v == "true" || v == "yes" || v == "1" || v == "enabled";
}

// Clipboard and drag and drop modes, spelled as in a machine file ("HostToGuest"), in showvminfo
// or in a script ("hosttoguest"), as the model spells them.
std::optional<std::string> ChannelMode(std::string_view value) {
  std::string v = Lower(value);
  if (v == "disabled") return "disabled";
  if (v == "hosttoguest") return "host-to-guest";
  if (v == "guesttohost") return "guest-to-host";
  if (v == "bidirectional") return "bidirectional";
  return std::nullopt;
}

// "Deny"/"AllowNetwork"/"AllowAll" in machine files, "deny"/"allow-vms"/"allow-all" in showvminfo.
std::optional<std::string> PromiscuousMode(std::string_view value) {
  std::string v = Lower(value);
  std::erase(v, '-');
  if (v == "deny") return "deny";
  if (v == "allownetwork" || v == "allowvms") return "allow-network";
  if (v == "allowall") return "allow-all";
  return std::nullopt;
}

// A note about a line of a text file; line 0 when the whole file is meant.
void NoteAt(Diagnostics& diags, const std::string& file, int line, std::string message) {
  diags.Add({Severity::kNote, file, {line, line > 0 ? 1 : 0}, "", std::move(message)});
}

// ---- XML helpers -----------------------------------------------------------------------------

std::vector<Node> Children(Node n, std::string_view name) {
  std::vector<Node> out;
  for (Node c : n.children()) {
    if (c.type() == pugi::node_element && XmlLocalName(c) == name) out.push_back(c);
  }
  return out;
}

Node Child(Node n, std::string_view name) {
  for (Node c : n.children()) {
    if (c.type() == pugi::node_element && XmlLocalName(c) == name) return c;
  }
  return Node();
}

std::string Attr(Node n, const char* name) { return n.attribute(name).as_string(); }

// VirtualBox writes "true"/"false" in machine files and "1"/"0" in VirtualBox.xml.
bool BoolAttr(Node n, const char* name, bool fallback) {
  pugi::xml_attribute a = n.attribute(name);
  if (!a) return fallback;
  std::string v = Lower(a.as_string());
  if (v == "true" || v == "1" || v == "yes" || v == "on") return true;
  if (v == "false" || v == "0" || v == "no" || v == "off") return false;
  return fallback;
}

std::string Keyed(std::string_view element, std::string_view key, std::string_view value) {
  return fmt::format("{}[{}='{}']", element, key, value);
}

// A NAT or NAT network port forward; proto is 1 for TCP, 0 for UDP.
NatForward ForwardOf(Node f) {
  return {Attr(f, "name"),    Attr(f, "proto") == "0" ? "udp" : "tcp",
          Attr(f, "hostip"),  PortOf(Attr(f, "hostport")),
          Attr(f, "guestip"), PortOf(Attr(f, "guestport"))};
}

// The minor number of a settings version: "1.16-windows" -> 16.
std::optional<int> SettingsMinor(std::string_view version) {
  if (!StartsWith(version, "1.")) return std::nullopt;
  std::string_view rest = version.substr(2);
  size_t end = rest.find_first_not_of("0123456789");
  return ParseDecimal(rest.substr(0, end), 99);
}

// ---- Machine files ---------------------------------------------------------------------------

// Reads the content of one machine file. What VirtualBox itself refuses to load is an error at
// its element path; a value this reader does not know is a note, and the setting keeps its
// default.
class MachineReader {
 public:
  MachineReader(std::string file, Diagnostics& diags) : file_(std::move(file)), diags_(diags) {}

  VBoxMachine Read(Node root);

 private:
  void Note(const std::string& path, std::string message) {
    diags_.Add({Severity::kNote, file_, {}, path, std::move(message)});
  }
  void ReadSymlinkFlags(Node extra_data);
  void ReadSnapshots(Node machine, std::vector<VBoxSnapshot>& out);
  VBoxHardware ReadState(Node owner, const std::string& owner_path);
  VBoxHardware ReadHardware(Node hw, const std::string& path);
  void ReadHardwareChild(Node c, VBoxHardware& out);
  void ReadAdapters(Node network, const std::string& path, VBoxHardware& out);
  VBoxAdapter ReadAdapter(Node a, int slot, const std::string& path);
  void ReadAttachment(Node mode, VBoxAdapter& out);
  void ReadForwards(Node nat, VBoxAdapter& out);
  std::string ReadMode(Node c, const std::string& path, const std::string& fallback);
  void ReadSharedFolders(Node c, const std::string& path, VBoxHardware& out);
  void ReadVrde(Node c, Vrde& vrde);
  void ReadSerialPorts(Node c, const std::string& path, VBoxHardware& out);
  void ReadUsbFilters(Node parent, const std::string& path, VBoxHardware& out);
  void ReadAudio(Node c, VBoxHardware& out);

  std::string file_;
  Diagnostics& diags_;
  int minor_ = kNewestMinor;
  std::set<std::string> symlink_shares_;  // ExtraData SharedFoldersEnableSymlinksCreate/<name>
};

VBoxMachine MachineReader::Read(Node root) {
  VBoxMachine m;
  m.file = file_;
  m.settings_version = Attr(root, "version");
  if (std::optional<int> minor = SettingsMinor(m.settings_version)) {
    minor_ = *minor;
  } else {
    Note("VirtualBox", fmt::format("unknown settings version '{}' (read as 1.{})",
                                   m.settings_version, kNewestMinor));
  }

  // A 7.0 encrypted machine: only its UUID is readable without the password.
  if (Node encrypted = Child(root, "MachineEncrypted")) {
    m.encrypted = true;
    m.uuid = Attr(encrypted, "uuid");
    m.name = fs::path(file_).stem().string();
    return m;
  }
  Node machine = Child(root, "Machine");
  m.name = Attr(machine, "name");
  m.uuid = Attr(machine, "uuid");
  m.os_type = Attr(machine, "OSType");
  ReadSymlinkFlags(Child(machine, "ExtraData"));
  m.current = ReadState(machine, "Machine");
  ReadSnapshots(machine, m.snapshots);
  return m;
}

void MachineReader::ReadSymlinkFlags(Node extra_data) {
  constexpr std::string_view kPrefix = "VBoxInternal2/SharedFoldersEnableSymlinksCreate/";
  for (Node item : Children(extra_data, "ExtraDataItem")) {
    std::string name = Attr(item, "name");
    if (StartsWith(name, kPrefix) && IsOn(Attr(item, "value"))) {
      symlink_shares_.insert(name.substr(kPrefix.size()));
    }
  }
}

// The whole tree, depth first: each snapshot, then the snapshots taken from it. The snapshots
// still to read wait on a stack of their own, so that no depth of nesting exhausts the call stack.
void MachineReader::ReadSnapshots(Node machine, std::vector<VBoxSnapshot>& out) {
  struct Pending {
    Node snapshot;
    std::string owner_path, chain;
    std::string top;  // the outermost snapshot above it, to name a chain too deep
    int depth = 1;
  };
  std::vector<Pending> todo;
  auto push_children = [&todo](Node owner, const Pending& parent) {
    std::vector<Node> children = Children(owner, "Snapshot");
    for (auto it = children.rbegin(); it != children.rend(); ++it) {
      todo.push_back({*it, parent.owner_path, parent.chain, parent.top, parent.depth});
    }
  };
  push_children(machine, {Node(), "Machine", "", "", 1});
  while (!todo.empty()) {
    Pending p = std::move(todo.back());
    todo.pop_back();
    VBoxSnapshot snap;
    snap.name = Attr(p.snapshot, "name");
    snap.uuid = Attr(p.snapshot, "uuid");
    snap.chain = p.chain.empty() ? snap.name : p.chain + " / " + snap.name;
    std::string key = Keyed("Snapshot", "name", snap.name);
    if (p.depth > kMaxSnapshotDepth) {  // the file is refused: the rest need not be read
      std::string where = fmt::format("Machine/{}/.../{}", p.top, key);
      diags_.ErrorAt(file_, where,
                     fmt::format("snapshots nest deeper than {} levels", kMaxSnapshotDepth));
      return;
    }
    std::string path = p.owner_path + "/" + key;
    snap.hardware = ReadState(p.snapshot, path);
    Pending self{p.snapshot, path + "/Snapshots", snap.chain, p.top.empty() ? key : p.top,
                 p.depth + 1};
    out.push_back(std::move(snap));
    push_children(Child(p.snapshot, "Snapshots"), self);
  }
}

// A machine's or a snapshot's settings: its Hardware, and from 1.20 on the chipset in Platform.
VBoxHardware MachineReader::ReadState(Node owner, const std::string& owner_path) {
  VBoxHardware hw = ReadHardware(Child(owner, "Hardware"), owner_path + "/Hardware");
  Node chipset = Child(Child(owner, "Platform"), "Chipset");
  if (chipset && !Attr(chipset, "type").empty()) hw.chipset = Lower(Attr(chipset, "type"));
  return hw;
}

VBoxHardware MachineReader::ReadHardware(Node hw, const std::string& path) {
  VBoxHardware out;
  out.path = path;
  out.vrde.path = path + "/RemoteDisplay";
  out.vrde.ports = "3389";
  out.vrde.auth = "null";
  if (!hw) {
    Note(path, "no 'Hardware' element: nothing in this state can be audited");
    return out;
  }
  // Before 1.16 (VirtualBox 5.1) VRDE was on unless the file said otherwise.
  out.vrde.enabled = minor_ < 16;
  std::string legacy_clipboard = Attr(hw, "clipboardMode");
  if (!legacy_clipboard.empty()) out.clipboard = ReadMode(hw, path, out.clipboard);

  bool saw_audio = false;
  for (Node c : hw.children()) {
    if (c.type() != pugi::node_element) continue;
    saw_audio = saw_audio || XmlLocalName(c) == "AudioAdapter";
    ReadHardwareChild(c, out);
  }
  // Settings.cpp: an old file without AudioAdapter had audio, with input, on.
  if (!saw_audio) out.audio_in = minor_ < 16;
  std::stable_sort(out.adapters.begin(), out.adapters.end(),
                   [](const VBoxAdapter& a, const VBoxAdapter& b) { return a.slot < b.slot; });
  return out;
}

// One child of Hardware; the elements that do not matter to isolation are skipped.
void MachineReader::ReadHardwareChild(Node c, VBoxHardware& out) {
  std::string_view name = XmlLocalName(c);
  const std::string& path = out.path;
  if (name == "Network") {
    ReadAdapters(c, path + "/Network", out);
  } else if (name == "RemoteDisplay") {
    ReadVrde(c, out.vrde);
  } else if (name == "Clipboard") {
    if (c.attribute("mode")) out.clipboard = ReadMode(c, path + "/Clipboard", out.clipboard);
    out.clipboard_file_transfers = BoolAttr(c, "fileTransfersEnabled", false);
  } else if (name == "DragAndDrop") {
    if (c.attribute("mode")) {
      out.drag_and_drop = ReadMode(c, path + "/DragAndDrop", out.drag_and_drop);
    }
  } else if (name == "SharedFolders") {
    ReadSharedFolders(c, path + "/SharedFolders", out);
  } else if (name == "UART" || name == "Uart") {
    ReadSerialPorts(c, path + "/" + std::string(name), out);
  } else if (name == "LPT" || name == "Lpt") {
    for (Node port : Children(c, "Port")) {
      out.parallel_port = out.parallel_port || BoolAttr(port, "enabled", false);
    }
  } else if (name == "USBController") {
    // Up to 1.14: OHCI and EHCI are two flags; Settings.cpp reads each on its own.
    out.usb_controller = BoolAttr(c, "enabled", false) || BoolAttr(c, "enabledEhci", false);
    out.usb_path = path + "/USBController";
    ReadUsbFilters(c, path + "/USBController", out);
  } else if (name == "USB") {
    out.usb_controller = !Children(Child(c, "Controllers"), "Controller").empty();
    ReadUsbFilters(Child(c, "DeviceFilters"), path + "/USB/DeviceFilters", out);
  } else if (name == "AudioAdapter") {
    ReadAudio(c, out);
  } else if (name == "GuestProperties") {
    for (Node p : Children(c, "GuestProperty")) {
      if (StartsWith(Attr(p, "name"), "/VirtualBox/GuestAdd/")) out.guest_additions = true;
    }
  } else if (name == "Chipset" && !Attr(c, "type").empty()) {
    out.chipset = Lower(Attr(c, "type"));
  }
}

void MachineReader::ReadAdapters(Node network, const std::string& path, VBoxHardware& out) {
  for (Node a : Children(network, "Adapter")) {
    std::string slot = Attr(a, "slot");
    std::optional<int> n = ParseDecimal(slot, 35);
    if (!n) {
      diags_.ErrorAt(file_, path + "/Adapter",
                     fmt::format("adapter without a valid 'slot' ('{}')", slot));
      continue;
    }
    out.adapters.push_back(ReadAdapter(a, *n, fmt::format("{}/Adapter[slot={}]", path, *n)));
  }
}

VBoxAdapter MachineReader::ReadAdapter(Node a, int slot, const std::string& path) {
  VBoxAdapter out;
  out.slot = slot + 1;
  out.path = path;
  out.enabled = BoolAttr(a, "enabled", false);
  std::string mac = Attr(a, "MACAddress");
  out.mac = VirtualBoxMac(mac).empty() ? mac : VirtualBoxMac(mac);
  // Settings.cpp: from 1.16 (VirtualBox 5.1) the cable is plugged and the type PCnet-FAST III
  // unless written; before, the cable was unplugged and the type PCnet-PCI II.
  out.type = Attr(a, "type");
  if (out.type.empty()) out.type = minor_ >= 16 ? "Am79C973" : "Am79C970A";
  out.cable_connected = BoolAttr(a, "cable", minor_ >= 16);
  std::string promiscuous = Attr(a, "promiscuousModePolicy");
  if (!promiscuous.empty()) {
    std::optional<std::string> mode = PromiscuousMode(promiscuous);
    if (!mode) Note(path, fmt::format("unknown promiscuous mode policy '{}'", promiscuous));
    out.promiscuous = mode.value_or("deny");
  }
  // Leftover settings of other attachments sit in DisabledModes and are never active.
  for (Node mode : a.children()) {
    if (mode.type() == pugi::node_element && XmlLocalName(mode) != "DisabledModes") {
      ReadAttachment(mode, out);
    }
  }
  return out;
}

void MachineReader::ReadAttachment(Node mode, VBoxAdapter& out) {
  struct Kind {
    std::string_view element;
    Attachment attachment;
    const char* name_attribute;
  };
  // Cloud networks tunnel to a cloud subnet: like a generic driver, traffic leaves the host.
  static constexpr Kind kKinds[] = {
      {"BridgedInterface", Attachment::kBridged, "name"},
      {"HostInterface", Attachment::kBridged, "name"},
      {"InternalNetwork", Attachment::kIntnet, "name"},
      {"HostOnlyInterface", Attachment::kHostOnly, "name"},
      {"HostOnlyNetwork", Attachment::kHostOnly, "name"},
      {"NATNetwork", Attachment::kNatNetwork, "name"},
      {"GenericInterface", Attachment::kGeneric, "driver"},
      {"VDE", Attachment::kGeneric, nullptr},
      {"CloudNetwork", Attachment::kGeneric, "name"},
  };
  std::string_view name = XmlLocalName(mode);
  if (name == "NAT") {
    out.attachment = Attachment::kNat;
    // Settings.cpp writes localhost-reachable only when it differs from the version's default:
    // reachable before 1.19 (VirtualBox 7.0), not reachable since.
    out.nat_localhost_reachable = BoolAttr(mode, "localhost-reachable", minor_ < 19);
    ReadForwards(mode, out);
    return;
  }
  for (const Kind& k : kKinds) {
    if (k.element != name) continue;
    out.attachment = k.attachment;
    out.network = k.name_attribute ? Attr(mode, k.name_attribute) : "VDE";
    return;
  }
  Note(out.path, fmt::format("unknown attachment '{}' (taken as not attached)", name));
}

void MachineReader::ReadForwards(Node nat, VBoxAdapter& out) {
  for (Node f : Children(nat, "Forwarding")) out.forwards.push_back(ForwardOf(f));
}

// A Clipboard or DragAndDrop mode (or Hardware's legacy clipboardMode attribute).
std::string MachineReader::ReadMode(Node c, const std::string& path, const std::string& fallback) {
  std::string text = Attr(c, XmlLocalName(c) == "Hardware" ? "clipboardMode" : "mode");
  std::optional<std::string> mode = ChannelMode(text);
  if (!mode) Note(path, fmt::format("unknown mode '{}'", text));
  return mode.value_or(fallback);
}

void MachineReader::ReadSharedFolders(Node c, const std::string& path, VBoxHardware& out) {
  for (Node f : Children(c, "SharedFolder")) {
    VBoxSharedFolder sf;
    sf.name = Attr(f, "name");
    sf.host_path = Attr(f, "hostPath");
    sf.writable = BoolAttr(f, "writable", false);
    sf.auto_mount = BoolAttr(f, "autoMount", false);
    sf.symlinks = Attr(f, "symlinkPolicy") == "any" || symlink_shares_.count(sf.name) > 0;
    sf.path = path + "/" + Keyed("SharedFolder", "name", sf.name);
    out.shared_folders.push_back(std::move(sf));
  }
}

// Old files keep the port and address as attributes; newer ones as VRDEProperties.
void MachineReader::ReadVrde(Node c, Vrde& vrde) {
  vrde.enabled = BoolAttr(c, "enabled", vrde.enabled);
  if (c.attribute("port")) vrde.ports = Attr(c, "port");
  if (c.attribute("netAddress")) vrde.address = Attr(c, "netAddress");
  if (c.attribute("authType")) vrde.auth = Lower(Attr(c, "authType"));
  vrde.multi_connection = BoolAttr(c, "allowMultiConnection", false);
  for (Node p : Children(Child(c, "VRDEProperties"), "Property")) {
    std::string name = Attr(p, "name");
    if (name == "TCP/Ports") vrde.ports = Attr(p, "value");
    if (name == "TCP/Address") vrde.address = Attr(p, "value");
  }
}

void MachineReader::ReadSerialPorts(Node c, const std::string& path, VBoxHardware& out) {
  for (Node p : Children(c, "Port")) {
    if (!BoolAttr(p, "enabled", false)) continue;
    SerialPort port;
    std::string slot = Attr(p, "slot");
    port.slot = ParseDecimal(slot, 99).value_or(0) + 1;
    port.host_mode = Lower(Attr(p, "hostMode"));
    port.target = Attr(p, "path");
    port.server = BoolAttr(p, "server", false);
    port.path = fmt::format("{}/Port[slot={}]", path, slot);
    out.serial_ports.push_back(std::move(port));
  }
}

void MachineReader::ReadUsbFilters(Node parent, const std::string& path, VBoxHardware& out) {
  for (Node f : Children(parent, "DeviceFilter")) {
    UsbFilter filter;
    filter.name = Attr(f, "name");
    filter.active = BoolAttr(f, "active", false);
    filter.path = path + "/" + Keyed("DeviceFilter", "name", filter.name);
    out.usb_filters.push_back(std::move(filter));
  }
}

// Settings.cpp: audio is on by default before 1.16 and its input before 1.17 (VirtualBox 5.2).
void MachineReader::ReadAudio(Node c, VBoxHardware& out) {
  bool enabled = BoolAttr(c, "enabled", minor_ < 16);
  bool input = BoolAttr(c, "enabledIn", minor_ < 17);
  out.audio_in = enabled && input;
}

// ---- VBoxManage output -----------------------------------------------------------------------

struct KeyValue {
  std::string key;
  std::string value;
  int line = 0;
};

// Reads a quoted string starting at s[pos] == '"', with backslash escapes; moves pos past it.
std::string Unquote(std::string_view s, size_t& pos) {
  std::string out;
  for (++pos; pos < s.size() && s[pos] != '"'; ++pos) {
    if (s[pos] == '\\' && pos + 1 < s.size()) ++pos;
    out += s[pos];
  }
  if (pos < s.size()) ++pos;
  return out;
}

// KEY=VALUE, either side possibly quoted; text after a closing quote is dropped, as in
// `VideoMode="720,400,0"@0,0 1`. Lines without '=' give nothing.
std::optional<KeyValue> ParseKeyValue(std::string_view line, int number) {
  KeyValue kv;
  kv.line = number;
  size_t pos = 0;
  if (!line.empty() && line[0] == '"') {
    kv.key = Unquote(line, pos);
  } else {
    pos = line.find('=');
    if (pos == std::string_view::npos) return std::nullopt;
    kv.key = Trim(line.substr(0, pos));
  }
  if (kv.key.empty() || pos >= line.size() || line[pos] != '=') return std::nullopt;
  ++pos;
  kv.value = pos < line.size() && line[pos] == '"' ? Unquote(line, pos) : Trim(line.substr(pos));
  return kv;
}

std::vector<KeyValue> ParseKeyValues(std::string_view text) {
  std::vector<KeyValue> out;
  std::vector<std::string> lines = SplitLines(text);
  for (size_t i = 0; i < lines.size(); ++i) {
    if (auto kv = ParseKeyValue(lines[i], static_cast<int>(i + 1))) out.push_back(*kv);
  }
  return out;
}

// "nic12" -> {"nic", 12}; keys without a trailing number give -1.
std::pair<std::string, int> Indexed(std::string_view key) {
  size_t end = key.size();
  while (end > 0 && std::isdigit(static_cast<unsigned char>(key[end - 1]))) --end;
  if (end == key.size() || key.size() - end > 3) return {std::string(key), -1};
  return {std::string(key.substr(0, end)), *ParseDecimal(key.substr(end), 999)};
}

// `SnapshotName-1-2` and its UUID: the tree position is the numbers after the key's base name.
struct SnapshotKeys {
  std::map<std::vector<int>, std::pair<std::string, std::string>> nodes;  // name, uuid

  bool Take(const KeyValue& kv) {
    for (auto [prefix, is_uuid] : {std::pair{"SnapshotName", false}, {"SnapshotUUID", true}}) {
      std::string_view key = kv.key;
      if (!StartsWith(key, prefix)) continue;
      std::optional<std::vector<int>> at = Position(key.substr(std::strlen(prefix)));
      if (!at) return false;
      (is_uuid ? nodes[*at].second : nodes[*at].first) = kv.value;
      return true;
    }
    return false;
  }

  // "-1-2" -> {1, 2}; "" is the root.
  static std::optional<std::vector<int>> Position(std::string_view rest) {
    std::vector<int> out;
    while (!rest.empty()) {
      if (rest[0] != '-') return std::nullopt;
      rest.remove_prefix(1);
      size_t end = std::min(rest.find('-'), rest.size());
      std::optional<int> n = ParseDecimal(rest.substr(0, end), 1 << 20);
      if (!n) return std::nullopt;
      out.push_back(*n);
      rest.remove_prefix(end);
    }
    return out;
  }

  // Depth first, as the map orders positions; each snapshot's chain names its ancestors.
  std::vector<VBoxSnapshot> Snapshots() const {
    std::vector<VBoxSnapshot> out;
    std::map<std::vector<int>, std::string> chains;
    for (const auto& [position, node] : nodes) {
      VBoxSnapshot s;
      s.name = node.first;
      s.uuid = node.second;
      std::vector<int> parent(position.begin(), position.end() - (position.empty() ? 0 : 1));
      auto it = position.empty() ? chains.end() : chains.find(parent);
      s.chain = it == chains.end() ? s.name : it->second + " / " + s.name;
      chains[position] = s.chain;
      out.push_back(std::move(s));
    }
    return out;
  }
};

// `VBoxManage showvminfo --machinereadable`. Forwarding(i) lines carry no adapter number: they
// belong to the last nicN line before them. Settings the output does not show (promiscuous
// policy, NAT loopback, shared folder flags; VBoxManageInfo.cpp prints them in the
// human-readable form only, or not at all) keep the model's defaults. Snapshots are named but
// their settings are not shown.
class ShowVmInfoReader {
 public:
  ShowVmInfoReader(std::string file, Diagnostics& diags) : file_(std::move(file)), diags_(diags) {}
  VBoxMachine Read(std::string_view text);

 private:
  std::string Get(const std::string& key) const {
    auto it = values_.find(key);
    return it == values_.end() ? "" : it->second;
  }
  bool Has(const std::string& key) const { return values_.count(key) > 0; }
  void Take(const KeyValue& kv);
  void AddForward(const KeyValue& kv);
  VBoxAdapter Adapter(int n) const;
  void FillChannels(VBoxHardware& hw) const;
  void FillPorts(VBoxHardware& hw) const;
  void FillUsbAndAudio(VBoxHardware& hw) const;

  std::string file_;
  Diagnostics& diags_;
  std::map<std::string, std::string> values_;
  std::map<std::string, int> lines_;
  std::map<int, std::vector<NatForward>> forwards_;
  int last_nic_ = 0;
  SnapshotKeys snapshots_;
};

VBoxMachine ShowVmInfoReader::Read(std::string_view text) {
  for (const KeyValue& kv : ParseKeyValues(text)) Take(kv);
  VBoxMachine m;
  m.file = file_;
  m.source = VBoxSource::kShowVmInfo;
  m.name = Get("name");
  m.uuid = Get("UUID");
  m.os_type = Get("ostype");
  if (m.name == "<inaccessible>") {
    NoteAt(diags_, file_, lines_["name"],
           "the machine is inaccessible to VirtualBox: its settings are not shown");
  }
  for (int n = 1; n <= 36; ++n) {
    if (Has(fmt::format("nic{}", n))) m.current.adapters.push_back(Adapter(n));
  }
  FillChannels(m.current);
  FillPorts(m.current);
  FillUsbAndAudio(m.current);
  if (Has("chipset")) m.current.chipset = Lower(Get("chipset"));
  m.snapshots = snapshots_.Snapshots();
  if (!m.snapshots.empty()) {
    NoteAt(diags_, file_, 0,
           fmt::format("showvminfo names {} snapshot{} but not their settings: they are not "
                       "audited (read the machine file for them)",
                       m.snapshots.size(), m.snapshots.size() == 1 ? "" : "s"));
  }
  return m;
}

void ShowVmInfoReader::Take(const KeyValue& kv) {
  if (StartsWith(kv.key, "Forwarding(")) return AddForward(kv);
  if (snapshots_.Take(kv)) return;
  std::string key = kv.key;
  if (StartsWith(key, "vrdp")) key = "vrde" + key.substr(4);  // VirtualBox 3.x spelling
  auto [base, n] = Indexed(key);
  if (base == "nic" && n > 0) last_nic_ = n;
  values_[key] = kv.value;
  lines_[key] = kv.line;
}

// Forwarding(0)="ssh,tcp,127.0.0.1,2222,,22": the name may hold commas, the rest cannot.
void ShowVmInfoReader::AddForward(const KeyValue& kv) {
  std::vector<std::string> fields;
  std::string_view v = kv.value;
  for (int i = 0; i < 5; ++i) {
    size_t comma = v.rfind(',');
    if (comma == std::string_view::npos) break;
    fields.insert(fields.begin(), std::string(v.substr(comma + 1)));
    v = v.substr(0, comma);
  }
  if (fields.size() != 5 || last_nic_ == 0) {
    NoteAt(diags_, file_, kv.line, fmt::format("unreadable port forward '{}' (skipped)", kv.value));
    return;
  }
  NatForward fw{std::string(v),    Lower(fields[0]), fields[1],
                PortOf(fields[2]), fields[3],        PortOf(fields[4])};
  forwards_[last_nic_].push_back(std::move(fw));
}

VBoxAdapter ShowVmInfoReader::Adapter(int n) const {
  struct Kind {
    std::string_view mode;
    Attachment attachment;
    const char* network_key;
  };
  static constexpr Kind kKinds[] = {
      {"nat", Attachment::kNat, ""},
      {"bridged", Attachment::kBridged, "bridgeadapter"},
      {"intnet", Attachment::kIntnet, "intnet"},
      {"hostonly", Attachment::kHostOnly, "hostonlyadapter"},
      {"hostonlynetwork", Attachment::kHostOnly, "hostonly-network"},
      {"natnetwork", Attachment::kNatNetwork, "nat-network"},
      {"generic", Attachment::kGeneric, "generic"},
      {"cloudnetwork", Attachment::kGeneric, "cloud-network"},
  };
  VBoxAdapter a;
  a.slot = n;
  a.path = fmt::format("nic{}", n);
  std::string mode = Lower(Get(a.path));
  a.enabled = mode != "none";
  a.mac = VirtualBoxMac(Get(fmt::format("macaddress{}", n)));
  a.type = Get(fmt::format("nictype{}", n));
  a.cable_connected = Lower(Get(fmt::format("cableconnected{}", n))) != "off";
  a.promiscuous = PromiscuousMode(Get(fmt::format("nicpromisc{}", n))).value_or("deny");
  for (const Kind& k : kKinds) {
    if (k.mode != mode) continue;
    a.attachment = k.attachment;
    if (*k.network_key) a.network = Get(fmt::format("{}{}", k.network_key, n));
  }
  if (a.attachment == Attachment::kNone && mode != "none" && mode != "null") {
    auto line = lines_.find(a.path);
    NoteAt(diags_, file_, line == lines_.end() ? 0 : line->second,
           fmt::format("unknown attachment '{}' of adapter {}", mode, n));
  }
  auto fw = forwards_.find(n);
  if (a.attachment == Attachment::kNat && fw != forwards_.end()) a.forwards = fw->second;
  return a;
}

void ShowVmInfoReader::FillChannels(VBoxHardware& hw) const {
  std::string clipboard = Has("clipboard-mode") ? Get("clipboard-mode") : Get("clipboard");
  hw.clipboard = ChannelMode(clipboard).value_or("disabled");
  hw.drag_and_drop = ChannelMode(Get("draganddrop")).value_or("disabled");
  hw.clipboard_file_transfers =
      IsOn(Get("clipboard_file_transfers")) || IsOn(Get("clipboard-file-transfers"));
  for (const char* kind : {"Machine", "Transient"}) {
    for (int n = 1; n < 1000; ++n) {
      std::string key = fmt::format("SharedFolderName{}Mapping{}", kind, n);
      if (!Has(key)) break;
      VBoxSharedFolder sf;
      sf.name = Get(key);
      sf.host_path = Get(fmt::format("SharedFolderPath{}Mapping{}", kind, n));
      sf.path = key;
      hw.shared_folders.push_back(std::move(sf));
    }
  }
  hw.vrde.enabled = IsOn(Get("vrde"));
  hw.vrde.path = "vrde";
  hw.vrde.address = Get("vrdeaddress");
  hw.vrde.ports = Has("vrdeports") ? Get("vrdeports") : Get("vrdeport");
  if (hw.vrde.ports.empty() || hw.vrde.ports == "-1") hw.vrde.ports = "3389";
  hw.vrde.auth = Has("vrdeauthtype") ? Lower(Get("vrdeauthtype")) : "null";
  hw.vrde.multi_connection = IsOn(Get("vrdemulticon"));
  hw.guest_additions = !Get("GuestAdditionsVersion").empty();
}

// The host side of a serial port as showvminfo's uartmodeN starts.
std::string SerialHostMode(std::string_view head) {
  static constexpr std::pair<std::string_view, const char*> kModes[] = {
      {"", "disconnected"},   {"disconnected", "disconnected"},
      {"server", "hostpipe"}, {"client", "hostpipe"},
      {"tcpserver", "tcp"},   {"tcpclient", "tcp"},
      {"file", "rawfile"},
  };
  for (const auto& [word, mode] : kModes) {
    if (word == head) return mode;
  }
  return "hostdevice";
}

// uartmode1: "disconnected", "server,PIPE", "client,PIPE", "tcpserver,PORT", "tcpclient,HOST:PORT",
// "file,PATH", or a host device.
void ShowVmInfoReader::FillPorts(VBoxHardware& hw) const {
  for (int n = 1; n <= 4; ++n) {
    std::string key = fmt::format("uart{}", n);
    if (!Has(key) || Lower(Get(key)) == "off") continue;
    SerialPort port;
    port.slot = n;
    port.path = key;
    std::string mode = Get(fmt::format("uartmode{}", n));
    size_t comma = mode.find(',');
    std::string head = Lower(mode.substr(0, comma));
    port.target = comma == std::string::npos ? mode : mode.substr(comma + 1);
    port.server = head == "server" || head == "tcpserver";
    port.host_mode = SerialHostMode(head);
    hw.serial_ports.push_back(std::move(port));
  }
  for (int n = 1; n <= 2; ++n) {
    std::string key = fmt::format("lpt{}", n);
    if (Has(key) && Lower(Get(key)) != "off") hw.parallel_port = true;
  }
}

void ShowVmInfoReader::FillUsbAndAudio(VBoxHardware& hw) const {
  for (const char* key : {"usb", "ehci", "xhci"}) hw.usb_controller |= IsOn(Get(key));
  for (int n = 1; Has(fmt::format("USBFilterActive{}", n)); ++n) {
    UsbFilter f;
    f.name = Get(fmt::format("USBFilterName{}", n));
    f.active = IsOn(Get(fmt::format("USBFilterActive{}", n)));
    f.path = fmt::format("USBFilterActive{}", n);
    hw.usb_filters.push_back(std::move(f));
  }
  // Before 5.2 there is no audio_in key and the input was on with the adapter.
  std::string audio = Lower(Get("audio"));
  bool enabled =
      Has("audio_enabled") ? IsOn(Get("audio_enabled")) : !audio.empty() && audio != "none";
  hw.audio_in = enabled && (Has("audio_in") ? IsOn(Get("audio_in")) : true);
  if (hw.audio_in && !Has("audio_in")) {
    hw.audio_path = Has("audio_enabled") ? "audio_enabled" : "audio";
  }
}

// ---- VBoxManage list output ------------------------------------------------------------------

// One record of `VBoxManage list natnets|hostonlyifs|dhcpservers`: "Key:   value" lines, and
// indented items under a heading line ("Port-forwarding (ipv4)", "loopback mappings (ipv4)").
struct ListRecord {
  std::map<std::string, std::string> fields;               // lower-case keys
  std::vector<std::pair<std::string, std::string>> items;  // heading, item
  int line = 0;
};

std::vector<ListRecord> ParseListRecords(std::string_view text) {
  std::vector<ListRecord> records;
  std::vector<std::string> lines = SplitLines(text);
  bool open = false;
  std::string heading;
  for (size_t i = 0; i < lines.size(); ++i) {
    const std::string& line = lines[i];
    if (Trim(line).empty()) {
      open = false;
      continue;
    }
    if (!open) {
      records.push_back({{}, {}, static_cast<int>(i + 1)});
      heading.clear();
    }
    open = true;
    size_t colon = line.find(':');
    bool indented = line[0] == ' ' || line[0] == '\t';
    if (indented) {
      records.back().items.push_back({heading, Trim(line)});
    } else if (colon == std::string::npos || line.find('(') < colon) {
      heading = Lower(Trim(line));
    } else {
      records.back().fields[Lower(Trim(line.substr(0, colon)))] = Trim(line.substr(colon + 1));
    }
  }
  return records;
}

std::string Field(const ListRecord& r, const std::string& key) {
  auto it = r.fields.find(key);
  return it == r.fields.end() ? "" : it->second;
}

// "ssh:tcp:[]:1022:[192.168.15.5]:22", as `list natnets` prints a rule.
std::optional<NatForward> ParseListForward(std::string_view s) {
  auto take = [&s](char end) -> std::optional<std::string> {
    size_t pos = s.find(end);
    if (pos == std::string_view::npos) return std::nullopt;
    std::string out(s.substr(0, pos));
    s.remove_prefix(pos + 1);
    return out;
  };
  auto bracketed = [&s, &take]() -> std::optional<std::string> {
    if (s.empty() || s[0] != '[') return std::nullopt;
    s.remove_prefix(1);
    std::optional<std::string> out = take(']');
    if (!out || s.empty() || s[0] != ':') return std::nullopt;
    s.remove_prefix(1);
    return out;
  };
  NatForward fw;
  auto name = take(':'), proto = take(':'), host_ip = bracketed(), host_port = take(':');
  auto guest_ip = bracketed();
  if (!name || !proto || !host_ip || !host_port || !guest_ip) return std::nullopt;
  return NatForward{*name, Lower(*proto), *host_ip, PortOf(*host_port), *guest_ip, PortOf(s)};
}

// "127.0.0.1=2", as `list natnets` prints a loopback mapping.
std::optional<NatLoopback> ParseListLoopback(std::string_view s) {
  size_t eq = s.find('=');
  if (eq == std::string_view::npos) return std::nullopt;
  std::optional<int> offset = ParseDecimal(Trim(s.substr(eq + 1)), 1 << 24);
  if (!offset) return std::nullopt;
  return NatLoopback{Trim(s.substr(0, eq)), *offset};
}

// ---- Kinds -----------------------------------------------------------------------------------

enum class Kind { kUnknown, kXml, kScript, kShowVmInfo, kSnapshotList, kList };

// What a file is, from its first bytes.
Kind Sniff(std::string_view head) {
  if (head.find('\0') != std::string_view::npos) return Kind::kUnknown;
  if (StartsWith(head, "\xEF\xBB\xBF")) head.remove_prefix(3);
  std::string_view s = head.substr(std::min(head.size(), head.find_first_not_of(" \t\r\n")));
  if (StartsWith(s, "<?xml") || StartsWith(s, "<!--") || StartsWith(s, "<VirtualBox")) {
    return s.find("VirtualBox") != std::string_view::npos ? Kind::kXml : Kind::kUnknown;
  }
  if (StartsWith(s, "#!")) {
    return s.find("VBoxManage") != std::string_view::npos ? Kind::kScript : Kind::kUnknown;
  }
  if (StartsWith(s, "Name:") || StartsWith(s, "NetworkName:")) return Kind::kList;
  if (StartsWith(s, "SnapshotName") || StartsWith(s, "CurrentSnapshot")) {
    return Kind::kSnapshotList;
  }
  bool name = false, other = false;
  for (const std::string& line : SplitLines(s)) {
    name = name || StartsWith(line, "name=");
    for (const char* key : {"UUID=", "VMState=", "CfgFile=", "ostype="}) {
      other = other || StartsWith(line, key);
    }
  }
  return name && other ? Kind::kShowVmInfo : Kind::kUnknown;
}

// Why a file of unknown kind is not one of ours, for the note of a folder walk.
std::string WhyUnknown(std::string_view head) {
  if (head.empty()) return "the file is empty";
  if (head.find('\0') != std::string_view::npos) return "binary content, not a VirtualBox file";
  return "not a VirtualBox file";
}

// A file that a folder walk names when it skips it: what VirtualBox names its settings files.
// Disks, ISOs and logs are passed over without a word.
bool IsSettingsName(const fs::path& file) {
  std::string name = Lower(file.filename().string());
  return name.ends_with(".vbox") || name == "virtualbox.xml";
}

bool HasErrorsSince(const Diagnostics& diags, size_t first) {
  return std::any_of(diags.list().begin() + static_cast<ptrdiff_t>(first), diags.list().end(),
                     [](const Diagnostic& d) { return d.severity == Severity::kError; });
}

std::string ErrnoText(int error) {
  std::string text = std::strerror(error);
  if (!text.empty()) text[0] = static_cast<char>(std::tolower(static_cast<unsigned char>(text[0])));
  return text;
}

// An open file read once, from its start, in as many steps as its reader needs: a pipe
// (`--vbox <(cat vm.vbox)`) gives its content only once, and a disk image need not be read
// past the bytes that tell its kind.
class OnePass {
 public:
  explicit OnePass(const std::string& path)
      : fd_(::open(path.c_str(), O_RDONLY | O_CLOEXEC)), error_(fd_ < 0 ? errno : 0) {}
  ~OnePass() {
    if (fd_ >= 0) ::close(fd_);
  }
  OnePass(const OnePass&) = delete;
  OnePass& operator=(const OnePass&) = delete;

  // Reads on until the text holds `bytes` or the file ends; false when the file cannot be read.
  bool ReadUpTo(size_t bytes) {
    char buffer[1 << 16];
    while (fd_ >= 0 && !ended_ && text_.size() < bytes) {
      ssize_t n = ::read(fd_, buffer, std::min(sizeof buffer, bytes - text_.size()));
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) error_ = errno;
      if (n <= 0) ended_ = true;
      if (n > 0) text_.append(buffer, static_cast<size_t>(n));
    }
    return error_ == 0;
  }
  const std::string& text() const { return text_; }
  std::string Take() { return std::move(text_); }
  std::string Error() const { return "cannot read the file: " + ErrnoText(error_); }

 private:
  int fd_;
  int error_;
  bool ended_ = false;
  std::string text_;
};

// Reads files and folders into the inventory, each file once.
class Reader {
 public:
  Reader(VBoxInventory& inv, Diagnostics& diags) : inv_(inv), diags_(diags) {}
  void ReadPath(const std::string& path);

 private:
  void Note(const std::string& file, std::string message) {
    diags_.Add({Severity::kNote, file, {}, "", std::move(message)});
  }
  void Walk(const std::string& dir);
  void WalkEntry(const fs::path& file);
  void ReadFile(const std::string& path, bool walking);
  void ReadText(const std::string& path, Kind kind, const std::string& text, bool walking);
  // A file not read: an error when the user named it, a note when a walk met a settings file.
  void Skip(const std::string& path, bool walking, const std::string& error,
            const std::string& why);
  bool FirstTime(const std::string& path);
  void ReadXml(const std::string& path, const std::string& text, bool walking);
  void ReadGlobal(const std::string& path, Node global);
  void ReadHostOnlyExtraData(const std::string& path, Node extra_data);
  void ReadNetServices(const std::string& path, Node registry);
  void ReadRegistered(const std::string& path, const std::vector<std::string>& sources);
  void ReadLists(const std::string& path, std::string_view text);
  void ReadSnapshotList(const std::string& path, std::string_view text);
  void ReadScript(const std::string& path, const std::string& text);
  void AddMachine(VBoxMachine m);

  VBoxInventory& inv_;
  Diagnostics& diags_;
  std::set<std::string> seen_;  // canonical paths already read
  bool in_registry_ = false;    // reading the machine files a VirtualBox.xml registers
  int files_read_ = 0;          // files read as VirtualBox files, whatever they hold
};

void Reader::ReadPath(const std::string& path) {
  std::error_code ec;
  fs::file_status st = fs::status(path, ec);
  if (ec || !fs::exists(st)) {
    diags_.Error(path, {}, "cannot read the file (no such file or folder)");
  } else if (fs::is_directory(st)) {
    Walk(path);
  } else {
    ReadFile(path, false);
  }
}

// Every file under `dir`, in name order; VirtualBox's own backups (x.vbox-prev,
// VirtualBox.xml-prev) and half-written files (-tmp) are left out.
void Reader::Walk(const std::string& dir) {
  size_t first = diags_.list().size();
  std::error_code ec;
  std::vector<fs::path> files;
  for (auto it = fs::recursive_directory_iterator(dir, ec); !ec && it != fs::end(it);
       it.increment(ec)) {
    std::error_code entry_ec;  // an entry that cannot be looked at is no reason to stop
    if (!it->is_directory(entry_ec)) files.push_back(it->path());
  }
  if (ec) diags_.Error(dir, {}, fmt::format("cannot read the folder ({})", ec.message()));
  std::sort(files.begin(), files.end());
  for (const fs::path& f : files) {
    std::string name = f.filename().string();
    if (name.ends_with("-prev") || name.ends_with("-tmp")) continue;
    WalkEntry(f);
  }
  // A folder with nothing to read is most often the wrong folder, and an audit of no machine
  // would pass: an error, unless one already says what went wrong in it.
  if (files_read_ == 0 && !HasErrorsSince(diags_, first)) {
    diags_.Error(dir, {},
                 "the folder holds no readable VirtualBox file (a machine file, VirtualBox.xml, "
                 "VBoxManage output or a VBoxManage script)");
  }
}

// Only regular files are read: a pipe or a device met in a folder could block the walk.
void Reader::WalkEntry(const fs::path& file) {
  std::error_code ec;
  fs::file_status st = fs::status(file, ec);
  if (fs::is_regular_file(st)) return ReadFile(file.string(), true);
  if (!IsSettingsName(file)) return;
  bool dangling = fs::is_symlink(fs::symlink_status(file, ec)) && !fs::exists(st);
  Note(file.string(),
       dangling ? "skipped (a symbolic link to a missing file)" : "skipped (not a regular file)");
}

bool Reader::FirstTime(const std::string& path) {
  std::error_code ec;
  fs::path canonical = fs::weakly_canonical(path, ec);
  return seen_.insert(ec ? path : canonical.string()).second;
}

void Reader::Skip(const std::string& path, bool walking, const std::string& error,
                  const std::string& why) {
  if (!walking) return diags_.Error(path, {}, error);
  if (IsSettingsName(path)) Note(path, fmt::format("skipped ({})", why));
}

// Its kind from its first bytes, then the rest, up to the size limit.
void Reader::ReadFile(const std::string& path, bool walking) {
  if (!FirstTime(path)) return;
  OnePass file(path);
  if (!file.ReadUpTo(kSniffBytes)) return Skip(path, walking, "cannot read the file", file.Error());
  Kind kind = Sniff(file.text());
  if (kind == Kind::kUnknown) {
    return Skip(path, walking,
                "not a VirtualBox file (neither a machine file, VirtualBox.xml, VBoxManage "
                "output nor a VBoxManage script)",
                WhyUnknown(file.text()));
  }
  if (!file.ReadUpTo(kMaxFileBytes + 1)) {
    return Skip(path, walking, "cannot read the file", file.Error());
  }
  if (file.text().size() > kMaxFileBytes) {
    const char* too_large = "the file is too large for a VirtualBox file";
    return Skip(path, walking, too_large, too_large);
  }
  ReadText(path, kind, file.Take(), walking);
}

void Reader::ReadText(const std::string& path, Kind kind, const std::string& text, bool walking) {
  if (kind != Kind::kXml) ++files_read_;  // an XML file counts once its root says it is ours
  switch (kind) {
    case Kind::kXml:
      return ReadXml(path, text, walking);
    case Kind::kScript:
      return ReadScript(path, text);
    case Kind::kShowVmInfo:
      return AddMachine(ShowVmInfoReader(path, diags_).Read(text));
    case Kind::kSnapshotList:
      return ReadSnapshotList(path, text);
    case Kind::kList:
      return ReadLists(path, text);
    default:
      return;
  }
}

void Reader::ReadXml(const std::string& path, const std::string& text, bool walking) {
  pugi::xml_document doc;
  pugi::xml_parse_result parsed = doc.load_buffer(text.data(), text.size());
  if (!parsed) return MalformedXml(path, text, parsed, diags_);
  Node root = doc.document_element();
  if (XmlLocalName(root) == "VirtualBox" && Child(root, "Global")) {
    ++files_read_;
    // A registry that registers a registry would be read within it, and so on without end.
    if (in_registry_) return Note(path, "skipped (a VirtualBox.xml registered as a machine)");
    return ReadGlobal(path, Child(root, "Global"));
  }
  if (XmlLocalName(root) == "VirtualBox" &&
      (Child(root, "Machine") || Child(root, "MachineEncrypted"))) {
    ++files_read_;
    return AddMachine(MachineReader(path, diags_).Read(root));
  }
  if (!walking) {
    diags_.ErrorAt(path, std::string(XmlLocalName(root)),
                   "not a VirtualBox settings file (no 'Machine' or 'Global' element)");
  } else if (IsSettingsName(path)) {
    Note(path, "skipped (not a VirtualBox settings file)");
  }
}

void Reader::ReadGlobal(const std::string& path, Node global) {
  std::vector<std::string> sources;
  for (Node entry : Children(Child(global, "MachineRegistry"), "MachineEntry")) {
    sources.push_back(Attr(entry, "src"));
    inv_.registered.push_back(sources.back());
  }
  ReadHostOnlyExtraData(path, Child(global, "ExtraData"));
  ReadNetServices(path, Child(global, "NetserviceRegistry"));
  ReadRegistered(path, sources);
}

// Host-only interface addresses as VirtualBox before 7.0 kept them: ExtraData items
// HostOnly/<name or GUID>/IPAddress, .../IPNetMask and, on Windows, .../Name.
void Reader::ReadHostOnlyExtraData(const std::string& path, Node extra_data) {
  std::map<std::string, HostOnlyInterface> by_key;
  for (Node item : Children(extra_data, "ExtraDataItem")) {
    std::string name = Attr(item, "name");
    size_t slash = name.rfind('/');
    if (!StartsWith(name, "HostOnly/") || slash <= 9) continue;
    HostOnlyInterface& i = by_key[name.substr(9, slash - 9)];
    std::string field = name.substr(slash + 1), value = Attr(item, "value");
    if (field == "IPAddress") i.address = value;
    if (field == "IPNetMask") i.mask = value;
    if (field == "Name") i.name = value;
  }
  for (auto& [key, i] : by_key) {
    if (i.name.empty()) i.name = key;
    i.file = path;
    inv_.hostonly_interfaces.push_back(std::move(i));
  }
}

void Reader::ReadNetServices(const std::string& path, Node registry) {
  for (Node d : Children(Child(registry, "DHCPServers"), "DHCPServer")) {
    inv_.dhcp_servers.push_back({Attr(d, "networkName"), Attr(d, "IPAddress"), Attr(d, "lowerIP"),
                                 Attr(d, "upperIP"), BoolAttr(d, "enabled", false), path});
  }
  for (Node n : Children(Child(registry, "NATNetworks"), "NATNetwork")) {
    NatNetwork net{Attr(n, "networkName"),
                   Attr(n, "network"),
                   BoolAttr(n, "enabled", true),
                   {},
                   path,
                   {},
                   Keyed("Global/NetserviceRegistry/NATNetworks/NATNetwork", "networkName",
                         Attr(n, "networkName"))};
    for (const char* rules : {"PortForwarding4", "Forwarding4"}) {
      for (Node f : Children(Child(n, rules), "Forwarding")) {
        net.forwards.push_back(ForwardOf(f));
      }
    }
    // Settings.cpp buildNATLoopbacks: <Mappings><Loopback4 address="127.0.0.1" offset="2"/>.
    for (Node lo : Children(Child(n, "Mappings"), "Loopback4")) {
      net.loopbacks.push_back(
          {Attr(lo, "address"), ParseDecimal(Attr(lo, "offset"), 1 << 24).value_or(0)});
    }
    inv_.nat_networks.push_back(std::move(net));
  }
  // A host-only interface's DHCP server is named after it.
  for (const DhcpServer& d : inv_.dhcp_servers) {
    for (HostOnlyInterface& i : inv_.hostonly_interfaces) {
      if (d.enabled && d.network_name == "HostInterfaceNetworking-" + i.name) i.dhcp = true;
    }
  }
}

// The machine files VirtualBox.xml registers, when they are on this disk; relative paths are
// relative to VirtualBox.xml's folder.
void Reader::ReadRegistered(const std::string& path, const std::vector<std::string>& sources) {
  for (const std::string& src : sources) {
    fs::path file(src);
    if (file.is_relative()) file = fs::path(path).parent_path() / file;
    std::error_code ec;
    if (!fs::is_regular_file(file, ec)) {
      Note(path, fmt::format("registered machine file '{}' is not on this disk (not read)", src));
      continue;
    }
    in_registry_ = true;
    ReadFile(file.string(), false);
    in_registry_ = false;
  }
}

void Reader::ReadLists(const std::string& path, std::string_view text) {
  for (const ListRecord& r : ParseListRecords(text)) {
    if (r.fields.count("network")) {
      NatNetwork net{Field(r, "networkname"),
                     Field(r, "network"),
                     !r.fields.count("enabled") || IsOn(Field(r, "enabled")),
                     {},
                     path,
                     {},
                     ""};
      for (const auto& [heading, item] : r.items) {
        if (StartsWith(heading, "port-forwarding")) {
          if (auto fw = ParseListForward(item)) net.forwards.push_back(*fw);
        } else if (StartsWith(heading, "loopback mappings (ipv4)")) {
          if (auto lo = ParseListLoopback(item)) net.loopbacks.push_back(*lo);
        }
      }
      inv_.nat_networks.push_back(std::move(net));
    } else if (r.fields.count("guid") || r.fields.count("vboxnetworkname")) {
      inv_.hostonly_interfaces.push_back({Field(r, "name"), Field(r, "ipaddress"),
                                          Field(r, "networkmask"), IsOn(Field(r, "dhcp")), path});
    } else if (r.fields.count("loweripaddress") || r.fields.count("dhcpd ip")) {
      std::string ip = r.fields.count("ip") ? Field(r, "ip") : Field(r, "dhcpd ip");
      inv_.dhcp_servers.push_back({Field(r, "networkname"), ip, Field(r, "loweripaddress"),
                                   Field(r, "upperipaddress"), IsOn(Field(r, "enabled")), path});
    } else {
      NoteAt(diags_, path, r.line, "unknown record (skipped)");
    }
  }
}

// `VBoxManage snapshot VM list --machinereadable` does not name its machine, so there is nothing
// to tie the snapshots to; their settings are in the machine file.
void Reader::ReadSnapshotList(const std::string& path, std::string_view text) {
  SnapshotKeys keys;
  for (const KeyValue& kv : ParseKeyValues(text)) keys.Take(kv);
  Note(path, fmt::format("a snapshot list does not name its machine: its {} snapshots are not "
                         "audited (read the machine file for their settings)",
                         keys.nodes.size()));
}

// A bulkhead VBoxManage script: the wiring it sets, as machines without snapshots. A shared
// folder count becomes that many unnamed folders; enabled audio is taken to record. An adapter
// whose type the script does not set gets VirtualBox 7's default for new VMs, 82540EM.
void Reader::ReadScript(const std::string& path, const std::string& text) {
  Wiring wiring;
  if (!ParseVBoxScript(path, text, wiring, diags_)) return;
  for (const VmWiring& vm : wiring.vms) {
    VBoxMachine m;
    m.name = vm.name;
    m.file = path;
    m.source = VBoxSource::kScript;
    for (const AdapterWiring& w : vm.adapters) {
      VBoxAdapter a;
      a.slot = w.slot;
      a.enabled = true;
      a.attachment = w.attachment;
      a.network = w.network;
      a.mac = w.mac;
      a.cable_connected = w.cable_connected;
      a.type = w.type.empty() ? "82540EM" : w.type;
      a.path = fmt::format("nic{}", w.slot);
      m.current.adapters.push_back(std::move(a));
    }
    m.current.clipboard = ChannelMode(vm.clipboard).value_or("disabled");
    m.current.drag_and_drop = ChannelMode(vm.drag_and_drop).value_or("disabled");
    for (int i = 1; i <= vm.shared_folders; ++i) {
      m.current.shared_folders.push_back(
          {fmt::format("share {}", i), "", false, false, false, "sharedfolder"});
    }
    m.current.vrde.enabled = vm.vrde;
    m.current.vrde.path = "vrde";
    m.current.audio_in = vm.audio;
    AddMachine(std::move(m));
  }
  if (!wiring.hostonly_if.empty()) {
    const Prefix& p = wiring.hostonly_host;
    std::string mask_text = p.address.family == Family::kV4 ? NetmaskV4(p.length).ToString()
                                                            : std::to_string(p.length);
    inv_.hostonly_interfaces.push_back(
        {wiring.hostonly_if, p.address.ToString(), mask_text, false, path});
  }
}

// The same machine file reached twice (directly and through VirtualBox.xml, or a copy) is
// kept once.
void Reader::AddMachine(VBoxMachine m) {
  for (const VBoxMachine& other : inv_.machines) {
    if (m.uuid.empty() || other.uuid != m.uuid || other.source != m.source) continue;
    Note(m.file,
         fmt::format("machine '{}' was already read from '{}' (skipped)", m.name, other.file));
    return;
  }
  inv_.machines.push_back(std::move(m));
}

constexpr std::pair<std::string_view, const char*> kDrivers[] = {
    {"82540EM", "em"},   {"82543GC", "em"},  {"82545EM", "em"},
    {"82574", "em"},     {"82583V", "em"},   {"virtio", "vtnet"},
    {"Am79C970A", "le"}, {"Am79C973", "le"}, {"Am79C960", "le"},
};

std::string DriverOf(std::string_view type) {
  for (const auto& [t, driver] : kDrivers) {
    if (t == type) return driver;
  }
  return "";
}

}  // namespace

const VBoxMachine* VBoxInventory::FindMachine(std::string_view name) const {
  for (const VBoxMachine& m : machines) {
    if (m.name == name) return &m;
  }
  for (const VBoxMachine& m : machines) {
    if (Lower(m.name) == Lower(name)) return &m;
  }
  return nullptr;
}

bool ReadVBox(const std::string& file_or_dir, VBoxInventory& inv, Diagnostics& diags) {
  size_t first = diags.list().size();
  Reader(inv, diags).ReadPath(file_or_dir);
  return !HasErrorsSince(diags, first);
}

std::string FreeBsdAdapterDevice(std::string_view device) {
  std::string_view parent = device.substr(0, device.find_first_of("._"));
  for (const auto& [type, driver] : kDrivers) {
    std::string_view d = driver;
    if (!parent.starts_with(d) || parent.size() == d.size()) continue;
    std::string_view unit = parent.substr(d.size());
    if (unit.find_first_not_of("0123456789") == std::string_view::npos) return std::string(parent);
  }
  return "";
}

// Adapters of a type FreeBSD has no driver for get no device and take no number.
std::vector<GuestDevice> FreeBsdDevices(const VBoxHardware& hw) {
  std::vector<const VBoxAdapter*> enabled;
  for (const VBoxAdapter& a : hw.adapters) {
    if (a.enabled) enabled.push_back(&a);
  }
  std::stable_sort(enabled.begin(), enabled.end(),
                   [](const VBoxAdapter* a, const VBoxAdapter* b) { return a->slot < b->slot; });
  std::map<std::string, int> next;
  std::vector<GuestDevice> out;
  for (const VBoxAdapter* a : enabled) {
    std::string driver = DriverOf(a->type);
    out.push_back({driver.empty() ? "" : driver + std::to_string(next[driver]++), a});
  }
  return out;
}

}  // namespace bulkhead
