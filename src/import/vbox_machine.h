// SPDX-License-Identifier: Apache-2.0
// VirtualBox as the user left it: machine files (.vbox, and the .xml of VirtualBox 3.x), the
// global VirtualBox.xml, and `VBoxManage showvminfo --machinereadable` and `list ...` output,
// settings versions 1.9 to 1.20, read into one model. Every adapter is kept, enabled or not,
// with its attachment; so are the channels around the network (shared folders, clipboard, drag
// and drop, VRDE, serial ports, USB filters), for the current state and for every snapshot,
// since restoring one brings its settings back. Defaults that changed between settings
// versions (cable, VRDE, NAT's localhost access) are applied as the writing version meant them.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "import/artifacts.h"
#include "spec/diagnostics.h"

namespace bulkhead {

struct NatForward {
  std::string name;
  std::string proto;     // "tcp" or "udp"
  std::string host_ip;   // "" means every host address
  uint16_t host_port = 0;
  std::string guest_ip;  // "" means the guest's NAT address
  uint16_t guest_port = 0;
};

struct VBoxAdapter {
  int slot = 1;                // 1-based, as VBoxManage counts (nic1 is the file's slot 0)
  bool enabled = false;
  Attachment attachment = Attachment::kNone;  // the active one; DisabledModes never count
  std::string network;         // intnet, bridged NIC, host-only interface or network, NAT
                               // network, generic driver or cloud network name
  std::string mac;             // VirtualBox spelling: "080027A1B2C3"
  std::string type;            // "82540EM", "virtio", "Am79C973", ...
  bool cable_connected = true;
  std::string promiscuous = "deny";  // "deny", "allow-network" or "allow-all"
  std::vector<NatForward> forwards;  // NAT port forwards
  bool nat_localhost_reachable = false;  // NAT: the guest reaches the host's 127.0.0.1
  std::string path;            // element path or showvminfo key, for findings
};

struct VBoxSharedFolder {
  std::string name;
  std::string host_path;
  bool writable = false;
  bool auto_mount = false;
  bool symlinks = false;  // symlinkPolicy "any", or the SharedFoldersEnableSymlinksCreate flag
  std::string path;
};

struct SerialPort {
  int slot = 1;  // 1-based
  std::string host_mode;  // "disconnected", "hostpipe", "hostdevice", "rawfile", "tcp"
  std::string target;     // pipe, device, file or TCP port/address
  bool server = false;    // TCP or pipe: VirtualBox listens on the host
  std::string path;
};

struct UsbFilter {
  std::string name;
  bool active = false;
  std::string path;
};

struct Vrde {
  bool enabled = false;
  std::string address;   // "" means every host address
  std::string ports;     // "3389" by default
  std::string auth;      // "null", "external" or "guest"
  bool multi_connection = false;
  std::string path;
};

// The settings of one state of a machine: its current state or a snapshot's.
struct VBoxHardware {
  std::vector<VBoxAdapter> adapters;  // every adapter the source lists, in slot order
  std::string clipboard = "disabled";  // "disabled", "host-to-guest", "guest-to-host",
                                       // "bidirectional"
  bool clipboard_file_transfers = false;
  std::string drag_and_drop = "disabled";  // same values as clipboard
  std::vector<VBoxSharedFolder> shared_folders;
  Vrde vrde;
  std::vector<SerialPort> serial_ports;  // enabled ones only
  bool parallel_port = false;            // an enabled LPT port passing a host device
  bool usb_controller = false;
  std::string usb_path;                  // where the controller is written; "" for the usual
                                         // element (USB) or key (usb)
  std::vector<UsbFilter> usb_filters;
  bool audio_in = false;                 // an enabled audio adapter that records
  std::string audio_path;                // where that is said; "" for AudioAdapter or audio_in
  bool guest_additions = false;          // Guest Additions properties are present
  std::string chipset = "piix3";         // "piix3" or "ich9"
  std::string path;                      // "Machine/Hardware", "Machine/Snapshot[...]/Hardware"
};

struct VBoxSnapshot {
  std::string name;
  std::string uuid;
  std::string chain;  // names from the root down: "base / before update"
  VBoxHardware hardware;
};

enum class VBoxSource { kMachineFile, kShowVmInfo, kScript };  // kScript: a bulkhead script

struct VBoxMachine {
  std::string name;
  std::string uuid;
  std::string file;              // as the user named it
  std::string os_type;           // "FreeBSD_64", "Ubuntu (64-bit)"; "" when not said
  VBoxSource source = VBoxSource::kMachineFile;
  std::string settings_version;  // "1.19-windows"; "" for showvminfo
  bool encrypted = false;        // a MachineEncrypted file: nothing inside can be read
  VBoxHardware current;
  std::vector<VBoxSnapshot> snapshots;  // the whole tree, depth first
};

// A host loopback address a NAT network hands its guests at an offset of its own network:
// {"127.0.0.1", 2} lets guests of 10.0.2.0/24 reach the host's 127.0.0.1 at 10.0.2.2.
struct NatLoopback {
  std::string host_address;
  int offset = 0;
};

struct NatNetwork {
  std::string name;
  std::string network;  // "10.0.2.0/24"
  bool enabled = true;
  std::vector<NatForward> forwards;
  std::string file;
  std::vector<NatLoopback> loopbacks;
  std::string path;  // element path in VirtualBox.xml; "" for `list natnets` output
};

struct HostOnlyInterface {
  std::string name;  // "vboxnet0"
  std::string address;
  std::string mask;
  bool dhcp = false;
  std::string file;
};

struct DhcpServer {
  std::string network_name;  // "HostInterfaceNetworking-vboxnet0", a NAT network's name
  std::string address;
  std::string lower;
  std::string upper;
  bool enabled = false;
  std::string file;
};

// Everything read from one or more files or folders.
struct VBoxInventory {
  std::vector<VBoxMachine> machines;
  std::vector<std::string> registered;  // machine files VirtualBox.xml lists
  std::vector<NatNetwork> nat_networks;
  std::vector<HostOnlyInterface> hostonly_interfaces;
  std::vector<DhcpServer> dhcp_servers;
  const VBoxMachine* FindMachine(std::string_view name) const;
};

// Reads one file (its kind found from its content, not its name) or every such file under a
// folder, recursively, adding to `inv`. Unknown elements and lines are skipped; a file that is
// not well-formed or is cut short is an error naming its element path or line, and so is a
// folder where no file reads as a VirtualBox file. Returns false when an error was added.
[[nodiscard]] bool ReadVBox(const std::string& file_or_dir, VBoxInventory& inv,
                            Diagnostics& diags);

}  // namespace bulkhead

namespace bulkhead {

// The FreeBSD device name each enabled adapter of `hw` gets inside a pfSense or OPNsense guest,
// in slot order: "em0" for the Intel types, "vtnet0" for virtio, "le0" for the AMD PCnet ones,
// counted per driver. Disabled adapters get no device.
struct GuestDevice {
  std::string device;
  const VBoxAdapter* adapter = nullptr;
};
std::vector<GuestDevice> FreeBsdDevices(const VBoxHardware& hw);
// The adapter device a FreeBSD interface sits on: "em1" for "em1", its VLANs "em1.10" and
// "em1_vlan10"; "" for a device no VirtualBox adapter becomes (ovpns1, lagg0, bridge0).
std::string FreeBsdAdapterDevice(std::string_view device);

}  // namespace bulkhead
