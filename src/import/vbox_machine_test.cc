// SPDX-License-Identifier: Apache-2.0
// Tests of the VirtualBox reader: every file of the shared corpus (../shared/corpus/vbox, whose
// MANIFEST.tsv the expectations follow), then hand-written files for what the corpus lacks:
// version-dependent defaults, newer elements, showvminfo quirks, scripts, broken and unknown
// files, and the FreeBSD device names of a firewall VM's adapters.

#include "import/vbox_machine.h"

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <string>
#include <vector>

#include "harness.h"
#include "util/atomic_file.h"

namespace bulkhead {
namespace {

namespace fs = std::filesystem;

const fs::path kCorpus = fs::path(BULKHEAD_SOURCE_DIR) / ".." / "shared" / "corpus" / "vbox";

struct Result {
  bool ok = false;
  VBoxInventory inv;
  Diagnostics diags;
  std::string Messages() const {
    std::string out;
    for (const Diagnostic& d : diags.list()) out += d.message + "\n";
    return out;
  }
};

Result Read(const fs::path& path) {
  Result r;
  r.ok = ReadVBox(path.string(), r.inv, r.diags);
  return r;
}

using TempDir = harness::ScratchDir;

// "1:intnet 2:nat/off/unplugged": every adapter that is enabled or attached to something.
std::string Adapters(const VBoxHardware& hw) {
  std::vector<std::string> out;
  for (const VBoxAdapter& a : hw.adapters) {
    if (!a.enabled && a.attachment == Attachment::kNone) continue;
    out.push_back(fmt::format("{}:{}{}{}", a.slot, AttachmentName(a.attachment),
                              a.enabled ? "" : "/off", a.cable_connected ? "" : "/unplugged"));
  }
  return fmt::format("{}", fmt::join(out, " "));
}

std::string Forwards(const VBoxAdapter& a) {
  std::vector<std::string> out;
  for (const NatForward& f : a.forwards) {
    out.push_back(fmt::format("{} {} {}:{} -> {}:{}", f.name, f.proto, f.host_ip, f.host_port,
                              f.guest_ip, f.guest_port));
  }
  return fmt::format("{}", fmt::join(out, "; "));
}

// ---- The corpus ------------------------------------------------------------------------------

struct CorpusCase {
  const char* file;
  const char* name;
  const char* adapters;
  size_t snapshots;
  const char* clipboard;
  const char* drag_and_drop;
  size_t shared_folders;
  bool guest_additions;
};

// One row per machine file and showvminfo output of MANIFEST.tsv.
const CorpusCase kCorpusCases[] = {
    {"desktop2__1.16-windows__intnet_disabled-intnet.vbox", "Desktop2", "1:intnet 2:intnet/off", 0,
     "disabled", "disabled", 0, false},
    {"desktop3__1.16-windows__intnet_disabled-nat_sharedfolder.vbox", "Desktop3",
     "1:intnet 2:nat/off/unplugged", 0, "bidirectional", "bidirectional", 1, false},
    {"servidor-arquivos__1.16-windows__intnet.vbox", "Servidor de Arquivos",
     "1:intnet 2:intnet/off", 0, "disabled", "disabled", 0, false},
    {"servidor-email__1.16-windows__intnet.vbox", "Servidor de Email", "1:intnet 2:intnet/off", 0,
     "disabled", "disabled", 0, false},
    {"windows10__1.15-windows__nat_hostonly.vbox", "Windows 10", "1:nat 2:hostonly", 1, "disabled",
     "disabled", 0, false},
    {"debian__1.19-windows__bridged_snapshot.vbox", "Debian", "1:bridged", 1, "disabled",
     "disabled", 0, false},
    {"metasploitable__1.19-windows__bridged_3-snapshots.vbox", "Meta", "1:bridged", 3, "disabled",
     "disabled", 0, false},
    {"win2012server__1.19-windows__bridged_guestadditions.vbox", "Win2012Server2", "1:bridged", 1,
     "disabled", "disabled", 0, true},
    {"kali-2022.4__1.19-windows__bridged_10-snapshots_bidir.vbox",
     "kali-linux-2022.4-virtualbox-amd64", "1:bridged", 10, "bidirectional", "bidirectional", 0,
     true},
    {"ubuntu__1.19-windows__bridged.vbox", "Ubuntu", "1:bridged", 0, "disabled", "disabled", 0,
     false},
    {"kali__1.16-windows__natnetwork.vbox", "Kali", "1:natnetwork", 0, "disabled", "disabled", 0,
     false},
    {"ubuntu-server__1.16-macosx__natnetwork_snapshot.vbox", "Ubuntu Server", "1:natnetwork", 1,
     "disabled", "disabled", 0, false},
    {"ubuntu-server-clone__1.16-macosx__natnetwork_snapshot.vbox",
     "Ubuntu Server Clone of Fresh Installation", "1:natnetwork", 1, "disabled", "disabled", 0,
     false},
    {"ubuntu__1.19-windows__nat.vbox", "Ubuntu", "1:nat", 0, "disabled", "disabled", 0, false},
    {"ubuntu__1.19-windows__nat_two-isos.vbox", "Ubuntu", "1:nat", 0, "disabled", "disabled", 0,
     false},
    {"ubuntu__1.16-windows__nat.vbox", "Ubuntu", "1:nat", 0, "disabled", "disabled", 0, false},
    {"ubuntu__1.19-windows__nat-pf_bidir_guestadditions.vbox", "Ubuntu", "1:nat", 0,
     "bidirectional", "bidirectional", 0, true},
    {"windows10__1.19-windows__nat_dnd-bidir.vbox", "Windows 10", "1:nat", 0, "disabled",
     "bidirectional", 0, true},
    {"foo__1.9-macosx-innotek-ns__nat_snapshot_vbox3.1.xml", "foo", "1:nat", 1, "bidirectional",
     "disabled", 0, true},
    {"ubuntu__vbox5.2__nat-pf_sharedfolder_vrde-localhost.showvminfo.txt", "Ubuntu", "1:nat", 0,
     "disabled", "disabled", 1, false},
    {"ubuntu1804__vbox6.0__nat_vrde_snapshot.showvminfo.txt",
     "ubuntu-18.04-amd64_1549746024485_35372", "1:nat", 1, "disabled", "disabled", 0, false},
    {"vagrant-box__vbox5.0__running_nat-3pf_guestadditions.showvminfo.txt",
     "urfve6cb85a2_default_1458910687825_39001", "1:nat", 0, "disabled", "disabled", 1, true},
};

class VBoxCorpus : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!fs::is_directory(kCorpus)) GTEST_SKIP() << "no corpus at " << kCorpus;
  }
};

TEST_F(VBoxCorpus, EveryMachineAsTheManifestSays) {
  for (const CorpusCase& c : kCorpusCases) {
    SCOPED_TRACE(c.file);
    Result r = Read(kCorpus / c.file);
    ASSERT_TRUE(r.ok) << r.Messages();
    ASSERT_EQ(r.inv.machines.size(), 1u);
    const VBoxMachine& m = r.inv.machines[0];
    EXPECT_EQ(m.name, c.name);
    EXPECT_EQ(m.file, (kCorpus / c.file).string());
    EXPECT_EQ(Adapters(m.current), c.adapters);
    EXPECT_EQ(m.snapshots.size(), c.snapshots);
    EXPECT_EQ(m.current.clipboard, c.clipboard);
    EXPECT_EQ(m.current.drag_and_drop, c.drag_and_drop);
    EXPECT_EQ(m.current.shared_folders.size(), c.shared_folders);
    EXPECT_EQ(m.current.guest_additions, c.guest_additions);
    EXPECT_FALSE(m.encrypted);
  }
}

TEST_F(VBoxCorpus, FolderReadsEveryKnownFileAndSkipsTheManifest) {
  Result r = Read(kCorpus);
  ASSERT_TRUE(r.ok) << r.Messages();
  EXPECT_EQ(r.inv.machines.size(), std::size(kCorpusCases));
  EXPECT_EQ(r.inv.registered.size(), 8u);
  EXPECT_EQ(r.inv.nat_networks.size(), 1u);
  EXPECT_EQ(r.inv.dhcp_servers.size(), 4u);
  EXPECT_EQ(r.inv.hostonly_interfaces.size(), 2u);
  for (const Diagnostic& d : r.diags.list()) EXPECT_EQ(d.severity, Severity::kNote) << d.message;
}

TEST_F(VBoxCorpus, InternalNetworkWithDisabledNatAndSharedFolder) {
  Result r = Read(kCorpus / "desktop3__1.16-windows__intnet_disabled-nat_sharedfolder.vbox");
  ASSERT_TRUE(r.ok);
  const VBoxHardware& hw = r.inv.machines[0].current;
  ASSERT_EQ(hw.adapters.size(), 8u);
  EXPECT_EQ(hw.adapters[0].network, "intnet");  // not the NATNetwork under DisabledModes
  EXPECT_EQ(hw.adapters[0].promiscuous, "allow-all");
  EXPECT_EQ(hw.adapters[0].mac, "080027FF7D68");
  EXPECT_EQ(hw.adapters[0].type, "82543GC");
  EXPECT_EQ(hw.adapters[0].path, "Machine/Hardware/Network/Adapter[slot=0]");
  EXPECT_EQ(hw.adapters[1].attachment, Attachment::kNat);
  EXPECT_FALSE(hw.adapters[1].enabled);
  EXPECT_FALSE(hw.adapters[1].cable_connected);
  const VBoxSharedFolder& sf = hw.shared_folders[0];
  EXPECT_EQ(sf.name, "Desktop2");
  EXPECT_EQ(sf.host_path, "E:\\Projeto Integrador\\Desktop2");
  EXPECT_TRUE(sf.writable);
  EXPECT_TRUE(sf.auto_mount);
  EXPECT_FALSE(sf.symlinks);
  EXPECT_EQ(sf.path, "Machine/Hardware/SharedFolders/SharedFolder[name='Desktop2']");
  EXPECT_FALSE(hw.vrde.enabled);  // 1.16: off unless written
  EXPECT_TRUE(hw.audio_in);       // 1.16: input on with the adapter unless written
  EXPECT_TRUE(hw.usb_controller);
}

TEST_F(VBoxCorpus, NatForwardAndLocalhostReachableOf7x) {
  Result r = Read(kCorpus / "ubuntu__1.19-windows__nat-pf_bidir_guestadditions.vbox");
  ASSERT_TRUE(r.ok);
  const VBoxAdapter& a = r.inv.machines[0].current.adapters[0];
  EXPECT_EQ(Forwards(a), "SSH tcp 127.0.0.1:2222 -> :22");
  EXPECT_TRUE(a.nat_localhost_reachable);
  // 1.19 without the attribute: not reachable.
  Result plain = Read(kCorpus / "ubuntu__1.19-windows__nat.vbox");
  EXPECT_FALSE(plain.inv.machines[0].current.adapters[0].nat_localhost_reachable);
}

TEST_F(VBoxCorpus, NetworkNames) {
  Result hostonly = Read(kCorpus / "windows10__1.15-windows__nat_hostonly.vbox");
  EXPECT_EQ(hostonly.inv.machines[0].current.adapters[1].network,
            "VirtualBox Host-Only Ethernet Adapter");
  Result natnet = Read(kCorpus / "ubuntu-server__1.16-macosx__natnetwork_snapshot.vbox");
  EXPECT_EQ(natnet.inv.machines[0].current.adapters[0].network, "nat_class_c");
  Result bridged = Read(kCorpus / "ubuntu__1.19-windows__bridged.vbox");
  EXPECT_EQ(bridged.inv.machines[0].current.adapters[0].network,
            "Realtek 8852BE Wireless LAN WiFi 6 PCI-E NIC");
}

TEST_F(VBoxCorpus, SnapshotTreeDepthFirst) {
  Result r = Read(kCorpus / "metasploitable__1.19-windows__bridged_3-snapshots.vbox");
  ASSERT_TRUE(r.ok);
  const auto& s = r.inv.machines[0].snapshots;
  ASSERT_EQ(s.size(), 3u);
  EXPECT_EQ(s[0].chain, "Sicherungspunkt 1");
  EXPECT_EQ(s[1].chain, "Sicherungspunkt 1 / Root. End Practice One");
  EXPECT_EQ(s[2].chain, "Sicherungspunkt 1 / Root Hacked - Student version");
  EXPECT_EQ(s[1].hardware.path,
            "Machine/Snapshot[name='Sicherungspunkt 1']/Snapshots/"
            "Snapshot[name='Root. End Practice One']/Hardware");
  EXPECT_EQ(Adapters(s[2].hardware), "1:bridged");
  EXPECT_EQ(s[2].hardware.adapters[0].path,
            "Machine/Snapshot[name='Sicherungspunkt 1']/Snapshots/"
            "Snapshot[name='Root Hacked - Student version']/Hardware/Network/Adapter[slot=0]");
}

TEST_F(VBoxCorpus, VirtualBox3MachineXml) {
  Result r = Read(kCorpus / "foo__1.9-macosx-innotek-ns__nat_snapshot_vbox3.1.xml");
  ASSERT_TRUE(r.ok);
  const VBoxMachine& m = r.inv.machines[0];
  EXPECT_EQ(m.settings_version, "1.9-macosx");
  EXPECT_EQ(m.current.adapters.size(), 8u);
  EXPECT_TRUE(m.current.adapters[0].nat_localhost_reachable);  // before 1.19: reachable
  EXPECT_TRUE(m.current.usb_controller);                       // USBController enabledEhci="true"
  EXPECT_EQ(m.current.usb_path, "Machine/Hardware/USBController");
  EXPECT_FALSE(m.current.vrde.enabled);                        // written enabled="false"
  EXPECT_EQ(m.current.vrde.ports, "3389");
  EXPECT_FALSE(m.current.audio_in);  // AudioAdapter enabled="false"
  EXPECT_EQ(m.snapshots[0].name, "one");
  EXPECT_EQ(m.snapshots[0].hardware.clipboard, "bidirectional");
}

TEST_F(VBoxCorpus, ShowVmInfoOutputs) {
  Result pf = Read(kCorpus / "ubuntu__vbox5.2__nat-pf_sharedfolder_vrde-localhost.showvminfo.txt");
  ASSERT_TRUE(pf.ok);
  const VBoxMachine& m = pf.inv.machines[0];
  EXPECT_EQ(m.source, VBoxSource::kShowVmInfo);
  EXPECT_EQ(m.uuid, "37f5d336-bf07-48dd-947c-37e6a56420a7");
  EXPECT_EQ(m.current.adapters.size(), 8u);
  EXPECT_EQ(m.current.adapters[0].mac, "080027EE1DF7");
  EXPECT_EQ(m.current.adapters[0].path, "nic1");
  EXPECT_EQ(Forwards(m.current.adapters[0]), "ssh tcp 127.0.0.1:2222 -> :22");
  EXPECT_EQ(m.current.shared_folders[0].name, "vagrant");
  EXPECT_EQ(m.current.shared_folders[0].path, "SharedFolderNameMachineMapping1");
  EXPECT_TRUE(m.current.vrde.enabled);
  EXPECT_EQ(m.current.vrde.address, "127.0.0.1");
  EXPECT_EQ(m.current.vrde.ports, "5914");
  EXPECT_EQ(m.current.vrde.auth, "null");
  EXPECT_TRUE(m.current.audio_in);  // 5.2 prints no audio_in: input was on with the adapter
  EXPECT_EQ(m.current.audio_path, "audio");  // so the finding names the key that is there
  EXPECT_EQ(pf.Messages(), "");

  Result snap = Read(kCorpus / "ubuntu1804__vbox6.0__nat_vrde_snapshot.showvminfo.txt");
  ASSERT_TRUE(snap.ok);
  EXPECT_FALSE(snap.inv.machines[0].current.audio_in);  // audio_in="false"
  EXPECT_EQ(snap.inv.machines[0].snapshots[0].chain, "base");
  EXPECT_EQ(snap.Messages(),
            "showvminfo names 1 snapshot but not their settings: they are not audited (read the "
            "machine file for them)\n");

  Result running =
      Read(kCorpus / "vagrant-box__vbox5.0__running_nat-3pf_guestadditions.showvminfo.txt");
  ASSERT_TRUE(running.ok);
  EXPECT_EQ(Forwards(running.inv.machines[0].current.adapters[0]),
            "ssh tcp 127.0.0.1:2200 -> :22; tcp56790 tcp :2201 -> :56789; "
            "tcp56791 tcp :2202 -> :56787");
  EXPECT_FALSE(running.inv.machines[0].current.vrde.enabled);
}

TEST_F(VBoxCorpus, GlobalFiles) {
  Result r = Read(kCorpus / "global__1.12-windows__hostonly-extradata_updates.VirtualBox.xml");
  ASSERT_TRUE(r.ok);
  EXPECT_EQ(r.inv.registered.size(), 5u);
  EXPECT_EQ(r.inv.registered[2],
            "C:\\Users\\user\\VirtualBox VMs\\Ubuntu Gateway and Router\\"
            "Ubuntu Gateway and Router.vbox");
  ASSERT_EQ(r.inv.hostonly_interfaces.size(), 1u);
  const HostOnlyInterface& h = r.inv.hostonly_interfaces[0];
  EXPECT_EQ(h.name, "VirtualBox Host-Only Ethernet Adapter");
  EXPECT_EQ(h.address, "192.168.56.1");
  EXPECT_EQ(h.mask, "255.255.255.0");
  EXPECT_TRUE(h.dhcp);
  // The registered files are on another machine's disk: one note each, no error.
  EXPECT_EQ(r.diags.list().size(), 5u);
  EXPECT_EQ(r.diags.list()[0].severity, Severity::kNote);

  Result linux_xml = Read(kCorpus / "global__1.12-linux__3-machines.VirtualBox.xml");
  ASSERT_TRUE(linux_xml.ok);
  EXPECT_EQ(linux_xml.inv.registered.size(), 3u);
  ASSERT_EQ(linux_xml.inv.dhcp_servers.size(), 1u);
  EXPECT_EQ(linux_xml.inv.dhcp_servers[0].network_name, "HostInterfaceNetworking-vboxnet0");
  EXPECT_EQ(linux_xml.inv.dhcp_servers[0].upper, "192.168.56.254");
  EXPECT_TRUE(linux_xml.inv.dhcp_servers[0].enabled);

  Result innotek = Read(kCorpus / "global__1.12-windows-innotek-ns__empty-registry.VirtualBox.xml");
  ASSERT_TRUE(innotek.ok);
  EXPECT_TRUE(innotek.inv.registered.empty());
  EXPECT_EQ(innotek.inv.dhcp_servers.size(), 1u);
}

TEST_F(VBoxCorpus, ListOutputs) {
  Result nat = Read(kCorpus / "list-natnets.txt");
  ASSERT_TRUE(nat.ok);
  ASSERT_EQ(nat.inv.nat_networks.size(), 1u);
  EXPECT_EQ(nat.inv.nat_networks[0].name, "NatNetwork");
  EXPECT_EQ(nat.inv.nat_networks[0].network, "10.0.2.0/24");
  EXPECT_TRUE(nat.inv.nat_networks[0].enabled);
  ASSERT_EQ(nat.inv.nat_networks[0].loopbacks.size(), 1u);  // "127.0.0.1=2"
  EXPECT_EQ(nat.inv.nat_networks[0].loopbacks[0].host_address, "127.0.0.1");
  EXPECT_EQ(nat.inv.nat_networks[0].loopbacks[0].offset, 2);

  Result ifs = Read(kCorpus / "list-hostonlyifs.txt");
  ASSERT_EQ(ifs.inv.hostonly_interfaces.size(), 1u);
  EXPECT_EQ(ifs.inv.hostonly_interfaces[0].name, "vboxnet0");
  EXPECT_EQ(ifs.inv.hostonly_interfaces[0].address, "192.168.56.1");
  EXPECT_FALSE(ifs.inv.hostonly_interfaces[0].dhcp);

  Result dhcp = Read(kCorpus / "list-dhcpservers.txt");
  ASSERT_EQ(dhcp.inv.dhcp_servers.size(), 1u);
  EXPECT_EQ(dhcp.inv.dhcp_servers[0].address, "192.168.56.100");
  EXPECT_EQ(dhcp.inv.dhcp_servers[0].lower, "192.168.56.101");
  EXPECT_TRUE(dhcp.inv.dhcp_servers[0].enabled);
}

TEST_F(VBoxCorpus, SnapshotListNamesNoMachine) {
  Result r = Read(kCorpus / "company-router__snapshot-list-machinereadable.txt");
  ASSERT_TRUE(r.ok);
  EXPECT_TRUE(r.inv.machines.empty());
  EXPECT_EQ(r.Messages(),
            "a snapshot list does not name its machine: its 16 snapshots are not audited (read "
            "the machine file for their settings)\n");
}

TEST_F(VBoxCorpus, CutShortFileIsAnErrorWithItsPosition) {
  std::string text;
  ASSERT_TRUE(ReadWholeFile(
      (kCorpus / "desktop3__1.16-windows__intnet_disabled-nat_sharedfolder.vbox").string(), text));
  size_t cut = text.find("<Adapter slot=\"1\"");
  TempDir dir;
  fs::path file = dir.Write("Desktop3.vbox", text.substr(0, cut + 10));
  Result r = Read(file);
  EXPECT_FALSE(r.ok);
  ASSERT_EQ(r.diags.list().size(), 1u);
  const Diagnostic& d = r.diags.list()[0];
  EXPECT_EQ(d.file, file.string());
  EXPECT_EQ(d.loc.line, 50);  // the line it was cut in
  EXPECT_GT(d.loc.column, 1);
  // Cut inside the adapter's start tag: the adapter was never opened.
  EXPECT_EQ(d.message, "the file ends before 'VirtualBox/Machine/Hardware/Network' is closed");
  // Also when met while reading a folder.
  EXPECT_FALSE(Read(dir.path()).ok);
}

// ---- Hand-written files ----------------------------------------------------------------------

std::string MachineFile(const std::string& version, const std::string& hardware,
                        const std::string& more = "") {
  return fmt::format(
      "<?xml version=\"1.0\"?>\n"
      "<VirtualBox xmlns=\"http://www.virtualbox.org/\" version=\"{}\">\n"
      "  <Machine uuid=\"{{00000000-0000-0000-0000-00000000000{}}}\" name=\"vm\" "
      "OSType=\"FreeBSD_64\">\n{}"
      "    <Hardware>\n{}    </Hardware>\n"
      "  </Machine>\n"
      "</VirtualBox>\n",
      version, version.size() % 10, more, hardware);
}

Result ReadText(const std::string& name, const std::string& text) {
  TempDir dir;
  return Read(dir.Write(name, text));
}

TEST(VBoxMachine, DefaultsBefore516) {
  Result r = ReadText("old.vbox", MachineFile("1.15-linux",
                                              "<Network><Adapter slot=\"0\" enabled=\"true\">"
                                              "<NAT/></Adapter></Network>"
                                              "<AudioAdapter enabled=\"true\"/>"));
  ASSERT_TRUE(r.ok) << r.Messages();
  const VBoxHardware& hw = r.inv.machines[0].current;
  EXPECT_FALSE(hw.adapters[0].cable_connected);
  EXPECT_EQ(hw.adapters[0].type, "Am79C970A");
  EXPECT_TRUE(hw.adapters[0].nat_localhost_reachable);
  EXPECT_TRUE(hw.vrde.enabled);
  EXPECT_TRUE(hw.audio_in);
}

TEST(VBoxMachine, DefaultsOf7) {
  Result r = ReadText("new.vbox", MachineFile("1.19-linux",
                                              "<Network><Adapter slot=\"0\" enabled=\"true\">"
                                              "<NAT/></Adapter></Network>"
                                              "<AudioAdapter enabled=\"true\"/>"));
  ASSERT_TRUE(r.ok) << r.Messages();
  const VBoxHardware& hw = r.inv.machines[0].current;
  EXPECT_TRUE(hw.adapters[0].cable_connected);
  EXPECT_EQ(hw.adapters[0].type, "Am79C973");
  EXPECT_FALSE(hw.adapters[0].nat_localhost_reachable);
  EXPECT_FALSE(hw.vrde.enabled);
  EXPECT_FALSE(hw.audio_in);
  EXPECT_EQ(hw.clipboard, "disabled");
}

TEST(VBoxMachine, NewerElementsAndUnknownOnesSkipped) {
  std::string hardware =
      "<Frobnicate level=\"9\"/>\n"
      "<RemoteDisplay enabled=\"true\" authType=\"External\" allowMultiConnection=\"true\">"
      "<VRDEProperties><Property name=\"TCP/Ports\" value=\"5000-5010\"/>"
      "<Property name=\"TCP/Address\" value=\"0.0.0.0\"/></VRDEProperties></RemoteDisplay>\n"
      "<USB><Controllers><Controller name=\"xHCI\" type=\"XHCI\"/></Controllers>"
      "<DeviceFilters><DeviceFilter name=\"dongle\" active=\"true\" vendorId=\"0bda\"/>"
      "<DeviceFilter name=\"off\" active=\"false\"/></DeviceFilters></USB>\n"
      "<Network>"
      "<Adapter slot=\"2\" enabled=\"true\" type=\"virtio\"><GenericInterface driver=\"UDPTunnel\">"
      "<Property name=\"dest\" value=\"10.1.1.1\"/></GenericInterface></Adapter>"
      "<Adapter slot=\"0\" enabled=\"true\"><DisabledModes><NAT/></DisabledModes>"
      "<HostOnlyNetwork name=\"vmnet\"/></Adapter>"
      "<Adapter slot=\"1\" enabled=\"true\"><CloudNetwork name=\"oci\"/></Adapter>"
      "<Adapter slot=\"3\" enabled=\"true\"><Teleport/></Adapter>"
      "</Network>\n"
      "<UART><Port slot=\"0\" enabled=\"true\" IOAddress=\"1016\" IRQ=\"4\" hostMode=\"TCP\" "
      "path=\"4444\" server=\"true\"/><Port slot=\"1\" enabled=\"false\" hostMode=\"HostPipe\"/>"
      "</UART>\n"
      "<LPT><Port slot=\"0\" enabled=\"true\" IOBase=\"0x378\" IRQ=\"7\" "
      "path=\"/dev/lp0\"/></LPT>\n"
      "<SharedFolders><SharedFolder name=\"src\" hostPath=\"/src\" writable=\"false\" "
      "autoMount=\"false\" symlinkPolicy=\"any\"/><SharedFolder name=\"v\" hostPath=\"/v\" "
      "writable=\"true\" autoMount=\"false\"/></SharedFolders>\n"
      "<Clipboard mode=\"HostToGuest\" fileTransfersEnabled=\"true\"/>\n"
      "<DragAndDrop mode=\"Sideways\"/>\n";
  std::string more =
      "<ExtraData><ExtraDataItem name=\"VBoxInternal2/SharedFoldersEnableSymlinksCreate/v\" "
      "value=\"1\"/></ExtraData>\n"
      "<Platform architecture=\"x86\"><Chipset type=\"ICH9\"/><x86/></Platform>\n";
  TempDir dir;
  fs::path file = dir.Write("new.vbox", MachineFile("1.20-linux", hardware, more));
  Result r = Read(file);
  ASSERT_TRUE(r.ok) << r.Messages();
  const VBoxMachine& m = r.inv.machines[0];
  const VBoxHardware& hw = m.current;
  EXPECT_EQ(m.os_type, "FreeBSD_64");
  EXPECT_EQ(Adapters(hw), "1:hostonly 2:generic 3:generic 4:none");
  EXPECT_EQ(hw.adapters[0].network, "vmnet");
  EXPECT_EQ(hw.adapters[1].network, "oci");
  EXPECT_EQ(hw.adapters[2].network, "UDPTunnel");
  EXPECT_TRUE(hw.vrde.enabled);
  EXPECT_EQ(hw.vrde.ports, "5000-5010");
  EXPECT_EQ(hw.vrde.address, "0.0.0.0");
  EXPECT_EQ(hw.vrde.auth, "external");
  EXPECT_TRUE(hw.vrde.multi_connection);
  EXPECT_TRUE(hw.usb_controller);
  ASSERT_EQ(hw.usb_filters.size(), 2u);
  EXPECT_TRUE(hw.usb_filters[0].active);
  EXPECT_EQ(hw.usb_filters[0].path,
            "Machine/Hardware/USB/DeviceFilters/DeviceFilter[name='dongle']");
  ASSERT_EQ(hw.serial_ports.size(), 1u);
  EXPECT_EQ(hw.serial_ports[0].host_mode, "tcp");
  EXPECT_EQ(hw.serial_ports[0].target, "4444");
  EXPECT_TRUE(hw.serial_ports[0].server);
  EXPECT_EQ(hw.serial_ports[0].path, "Machine/Hardware/UART/Port[slot=0]");
  EXPECT_TRUE(hw.parallel_port);
  EXPECT_TRUE(hw.shared_folders[0].symlinks);  // symlinkPolicy="any"
  EXPECT_TRUE(hw.shared_folders[1].symlinks);  // the ExtraData flag
  EXPECT_EQ(hw.clipboard, "host-to-guest");
  EXPECT_TRUE(hw.clipboard_file_transfers);
  EXPECT_EQ(hw.drag_and_drop, "disabled");
  EXPECT_EQ(hw.chipset, "ich9");
  // Unknown elements pass silently; unknown values are notes at their element.
  EXPECT_EQ(r.Messages(),
            "unknown attachment 'Teleport' (taken as not attached)\n"
            "unknown mode 'Sideways'\n");
  EXPECT_EQ(r.diags.list()[1].path, "Machine/Hardware/DragAndDrop");
  EXPECT_EQ(r.diags.list()[1].file, file.string());
}

TEST(VBoxMachine, AdapterWithoutSlotIsAnError) {
  Result r = ReadText("x.vbox", MachineFile("1.19-linux",
                                            "<Network><Adapter enabled=\"true\"/>"
                                            "</Network>"));
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(r.diags.list()[0].path, "Machine/Hardware/Network/Adapter");
  EXPECT_EQ(r.diags.list()[0].message, "adapter without a valid 'slot' ('')");
}

TEST(VBoxMachine, EncryptedMachine) {
  Result r = ReadText("Secret.vbox",
                      "<VirtualBox xmlns=\"http://www.virtualbox.org/\" version=\"1.19-linux\">"
                      "<MachineEncrypted uuid=\"{1}\" keyId=\"k\" keyStore=\"s\">AAAA"
                      "</MachineEncrypted></VirtualBox>");
  ASSERT_TRUE(r.ok) << r.Messages();
  EXPECT_TRUE(r.inv.machines[0].encrypted);
  EXPECT_EQ(r.inv.machines[0].name, "Secret");
  EXPECT_TRUE(r.inv.machines[0].current.adapters.empty());
}

TEST(VBoxMachine, GlobalFileReadsRegisteredMachinesOnce) {
  TempDir dir;
  dir.Write("VMs/a/a.vbox", MachineFile("1.19-linux", ""));
  dir.Write("VirtualBox.xml",
            "<?xml version=\"1.0\"?>\n"
            "<VirtualBox xmlns=\"http://www.virtualbox.org/\" version=\"1.12-linux\"><Global>"
            "<MachineRegistry><MachineEntry uuid=\"{1}\" src=\"VMs/a/a.vbox\"/>"
            "<MachineEntry uuid=\"{2}\" src=\"VMs/gone/gone.vbox\"/></MachineRegistry>"
            "<NetserviceRegistry><NATNetworks><NATNetwork networkName=\"NatNet1\" "
            "network=\"10.0.3.0/24\" enabled=\"1\"><PortForwarding4><Forwarding name=\"web\" "
            "proto=\"1\" hostport=\"8080\" guestip=\"10.0.3.5\" guestport=\"80\"/>"
            "</PortForwarding4><Mappings><Loopback4 address=\"127.0.0.1\" offset=\"2\"/>"
            "</Mappings></NATNetwork></NATNetworks></NetserviceRegistry>"
            "</Global></VirtualBox>\n");
  dir.Write("VMs/a/a.vbox-prev", MachineFile("1.19-linux", ""));
  Result r = Read(dir.path());
  ASSERT_TRUE(r.ok) << r.Messages();
  EXPECT_EQ(r.inv.machines.size(), 1u);
  EXPECT_EQ(r.inv.registered.size(), 2u);
  ASSERT_EQ(r.inv.nat_networks.size(), 1u);
  ASSERT_EQ(r.inv.nat_networks[0].forwards.size(), 1u);
  EXPECT_EQ(r.inv.nat_networks[0].forwards[0].guest_ip, "10.0.3.5");
  EXPECT_EQ(r.inv.nat_networks[0].path,
            "Global/NetserviceRegistry/NATNetworks/NATNetwork[networkName='NatNet1']");
  ASSERT_EQ(r.inv.nat_networks[0].loopbacks.size(), 1u);
  EXPECT_EQ(r.inv.nat_networks[0].loopbacks[0].offset, 2);
  EXPECT_EQ(r.Messages(),
            "registered machine file 'VMs/gone/gone.vbox' is not on this disk (not read)\n");
}

TEST(VBoxMachine, ShowVmInfoQuirks) {
  Result r = ReadText("info.txt",
                      "name=\"gw\"\n"
                      "UUID=\"u-1\"\n"
                      "\"SATA Controller-0-0\"=\"/x \\\"y\\\".vdi\"\n"
                      "VideoMode=\"720,400,0\"@0,0 1\n"
                      "GuestAdditionsFacility_VirtualBox Base Driver=50,1458910695598\n"
                      " rec_screen0\n"
                      "nic1=\"intnet\"\n"
                      "intnet1=\"lan\"\n"
                      "nicpromisc1=\"allow-all\"\n"
                      "bridgeadapter2=\"eth0\"\n"
                      "nic2=\"bridged\"\n"
                      "cableconnected2=\"off\"\n"
                      "nic3=\"hostonly\"\n"
                      "hostonlyadapter3=\"vboxnet0\"\n"
                      "nic4=\"Generic\"\n"
                      "generic4=\"VDE\"\n"
                      "uart1=\"0x03f8,4\"\n"
                      "uartmode1=\"tcpserver,2323\"\n"
                      "lpt1=\"0x378,7\"\n"
                      "xhci=\"on\"\n"
                      "USBFilterActive1=\"on\"\n"
                      "USBFilterName1=\"wifi\"\n"
                      "clipboard=\"guesttohost\"\n"
                      "draganddrop=\"hosttoguest\"\n"
                      "vrdp=\"on\"\n"
                      "vrdpport=3390\n"
                      "audio=\"pulse\"\n"
                      "audio_in=\"off\"\n");
  ASSERT_TRUE(r.ok) << r.Messages();
  const VBoxHardware& hw = r.inv.machines[0].current;
  EXPECT_EQ(Adapters(hw), "1:intnet 2:bridged/unplugged 3:hostonly 4:generic");
  EXPECT_EQ(hw.adapters[0].network, "lan");
  EXPECT_EQ(hw.adapters[0].promiscuous, "allow-all");
  EXPECT_EQ(hw.adapters[2].network, "vboxnet0");
  EXPECT_EQ(hw.adapters[3].network, "VDE");
  ASSERT_EQ(hw.serial_ports.size(), 1u);
  EXPECT_EQ(hw.serial_ports[0].host_mode, "tcp");
  EXPECT_TRUE(hw.serial_ports[0].server);
  EXPECT_TRUE(hw.parallel_port);
  EXPECT_TRUE(hw.usb_controller);
  EXPECT_EQ(hw.usb_filters[0].name, "wifi");
  EXPECT_EQ(hw.clipboard, "guest-to-host");
  EXPECT_EQ(hw.drag_and_drop, "host-to-guest");
  EXPECT_TRUE(hw.vrde.enabled);
  EXPECT_EQ(hw.vrde.ports, "3390");
  EXPECT_FALSE(hw.audio_in);
}

TEST(VBoxMachine, BulkheadScript) {
  TempDir dir;
  fs::path file = dir.Write("create.sh",
                            "#!/bin/sh\n"
                            "VBoxManage modifyvm fw --nic1 nat --nic2 intnet --intnet2 lan\n"
                            "VBoxManage modifyvm pc --nic1 intnet --intnet1 lan "
                            "--clipboard-mode bidirectional --vrde on\n"
                            "VBoxManage sharedfolder add pc --name a --hostpath /a\n"
                            "VBoxManage hostonlyif ipconfig vboxnet1 --ip 192.168.57.1 "
                            "--netmask 255.255.255.0\n");
  Result r = Read(file);
  ASSERT_TRUE(r.ok) << r.Messages();
  ASSERT_EQ(r.inv.machines.size(), 2u);
  const VBoxMachine* pc = r.inv.FindMachine("pc");
  ASSERT_NE(pc, nullptr);
  EXPECT_EQ(pc->source, VBoxSource::kScript);
  EXPECT_EQ(Adapters(pc->current), "1:intnet");
  EXPECT_EQ(pc->current.clipboard, "bidirectional");
  EXPECT_EQ(pc->current.shared_folders.size(), 1u);
  EXPECT_TRUE(pc->current.vrde.enabled);
  EXPECT_EQ(Adapters(r.inv.FindMachine("FW")->current), "1:nat 2:intnet");
  ASSERT_EQ(r.inv.hostonly_interfaces.size(), 1u);
  EXPECT_EQ(r.inv.hostonly_interfaces[0].name, "vboxnet1");
  EXPECT_EQ(r.inv.hostonly_interfaces[0].address, "192.168.57.1");
  EXPECT_EQ(r.inv.hostonly_interfaces[0].mask, "255.255.255.0");
}

TEST(VBoxMachine, RenderedScriptOfTheExample) {
  Result r = Read(fs::path(BULKHEAD_SOURCE_DIR) / "tests/testdata/vbox/workstation.create.sh");
  ASSERT_TRUE(r.ok) << r.Messages();
  const VBoxMachine* fw = r.inv.FindMachine("sys-firewall");
  ASSERT_NE(fw, nullptr);
  EXPECT_EQ(fw->current.adapters[0].attachment, Attachment::kBridged);
  EXPECT_EQ(fw->current.adapters[0].network, "enp3s0");
  std::vector<GuestDevice> devices = FreeBsdDevices(fw->current);
  ASSERT_GE(devices.size(), 3u);
  EXPECT_EQ(devices[0].device, "vtnet0");
  EXPECT_EQ(devices[2].device, "vtnet2");
  ASSERT_EQ(r.inv.hostonly_interfaces.size(), 1u);
  EXPECT_EQ(r.inv.hostonly_interfaces[0].name, "vboxnet0");
  EXPECT_EQ(r.inv.hostonly_interfaces[0].address, "192.168.56.2");
}

TEST(VBoxMachine, UnknownMissingAndMalformedFiles) {
  TempDir dir;
  fs::path notes = dir.Write("notes.txt", "hello\n");
  Result unknown = Read(notes);
  EXPECT_FALSE(unknown.ok);
  EXPECT_EQ(unknown.Messages(),
            "not a VirtualBox file (neither a machine file, VirtualBox.xml, VBoxManage output "
            "nor a VBoxManage script)\n");
  // In a folder, files of other kinds are passed over without a word.
  dir.Write("vm.vbox", MachineFile("1.19-linux", ""));
  Result folder = Read(dir.path());
  EXPECT_TRUE(folder.ok);
  EXPECT_TRUE(folder.diags.list().empty()) << folder.Messages();

  Result missing = Read(dir.path() / "nope.vbox");
  EXPECT_FALSE(missing.ok);
  EXPECT_EQ(missing.Messages(), "cannot read the file (no such file or folder)\n");

  Result pfsense = ReadText("config.xml",
                            "<?xml version=\"1.0\"?>\n<pfsense><VirtualBox/>"
                            "</pfsense>\n");
  EXPECT_FALSE(pfsense.ok);
  EXPECT_EQ(pfsense.Messages(),
            "not a VirtualBox settings file (no 'Machine' or 'Global' "
            "element)\n");

  Result broken = ReadText("x.vbox",
                           "<VirtualBox version=\"1.19-linux\">\n  <Machine name=\"a\">"
                           "\n  </Hardware>\n</VirtualBox>\n");
  EXPECT_FALSE(broken.ok);
  EXPECT_EQ(broken.diags.list()[0].loc, (SourceLoc{3, 5}));
  EXPECT_EQ(broken.Messages(),
            "malformed XML (start-end tags mismatch) in "
            "'VirtualBox/Machine'\n");
}

// `depth` snapshots, each taken from the one before: s0, s1 under it, and so on.
std::string NestedSnapshots(int depth) {
  std::string open, close;
  for (int i = 0; i < depth; ++i) {
    open += fmt::format("<Snapshot uuid=\"{{{}}}\" name=\"s{}\"><Hardware/>", i, i);
    if (i + 1 < depth) open += "<Snapshots>";
    close = (i + 1 < depth ? "</Snapshots>" : "") + std::string("</Snapshot>") + close;
  }
  return open + close + "\n";
}

TEST(VBoxMachine, SnapshotsNestingPastTheBoundAreAnErrorNotACrash) {
  Result deep = ReadText("deep.vbox", MachineFile("1.19-linux", "", NestedSnapshots(10000)));
  EXPECT_FALSE(deep.ok);
  ASSERT_EQ(deep.diags.list().size(), 1u) << deep.Messages();
  EXPECT_EQ(deep.diags.list()[0].severity, Severity::kError);
  EXPECT_EQ(deep.diags.list()[0].path, "Machine/Snapshot[name='s0']/.../Snapshot[name='s1000']");
  EXPECT_EQ(deep.Messages(), "snapshots nest deeper than 1000 levels\n");

  Result bound = ReadText("bound.vbox", MachineFile("1.19-linux", "", NestedSnapshots(1000)));
  ASSERT_TRUE(bound.ok) << bound.Messages();
  ASSERT_EQ(bound.inv.machines[0].snapshots.size(), 1000u);
  EXPECT_TRUE(bound.inv.machines[0].snapshots.back().chain.ends_with("s998 / s999"));
}

// What a shell's `<(cat file)` gives: a pipe, readable once, named /dev/fd/N.
class Pipe {
 public:
  explicit Pipe(const std::string& text) {
    EXPECT_EQ(::pipe(fds_), 0);
    EXPECT_LT(text.size(), 65536u);  // what a pipe holds without a reader
    EXPECT_EQ(::write(fds_[1], text.data(), text.size()), static_cast<ssize_t>(text.size()));
    ::close(fds_[1]);
  }
  ~Pipe() { ::close(fds_[0]); }
  fs::path path() const { return fmt::format("/dev/fd/{}", fds_[0]); }

 private:
  int fds_[2] = {-1, -1};
};

TEST(VBoxMachine, FilesThroughAPipeAreReadOnce) {
  Pipe machine(MachineFile("1.19-linux",
                           "<Network><Adapter slot=\"0\" enabled=\"true\">"
                           "<InternalNetwork name=\"lan\"/></Adapter></Network>"));
  Result r = Read(machine.path());
  ASSERT_TRUE(r.ok) << r.Messages();
  ASSERT_EQ(r.inv.machines.size(), 1u);
  EXPECT_EQ(Adapters(r.inv.machines[0].current), "1:intnet");

  Pipe script("#!/bin/sh\nVBoxManage modifyvm fw --nic1 intnet --intnet1 lan\n");
  Result s = Read(script.path());
  ASSERT_TRUE(s.ok) << s.Messages();
  ASSERT_EQ(s.inv.machines.size(), 1u);
  EXPECT_EQ(s.inv.machines[0].source, VBoxSource::kScript);
}

TEST(VBoxMachine, SettingsFilesAFolderWalkSkipsAreNoted) {
  TempDir dir;
  dir.Write("empty.vbox", "");
  dir.Write("binary.vbox", std::string("\x7f"
                                       "ELF\0\1",
                                       6));
  dir.Write("hello.vbox", "hello\n");
  dir.Write("other.vbox", "<?xml version=\"1.0\"?>\n<VirtualBox><Frob/></VirtualBox>\n");
  // Text past the first 4 KB that tell the kind, then zeros up to one byte past the limit.
  fs::path big = dir.Write("big.vbox", MachineFile("1.19-linux", "") + std::string(5000, ' '));
  fs::resize_file(big, (uintmax_t{64} << 20) + 1);
  fs::create_symlink(dir.path() / "gone.vbox", dir.path() / "dangling.vbox");
  fs::path locked = dir.Write("locked.vbox", MachineFile("1.19-linux", ""));
  fs::permissions(locked, fs::perms::none);
  // One machine that reads (another than the locked one), or the folder would be an error.
  dir.Write("vm.vbox", MachineFile("1.16-windows", ""));
  // Other files stay silent, whatever they hold.
  dir.Write("disk.vdi", std::string("\0\0\0", 3));
  dir.Write("Logs/VBox.log", "");
  fs::create_symlink(dir.path() / "gone.iso", dir.path() / "dangling.iso");

  Result r = Read(dir.path());
  EXPECT_TRUE(r.ok) << r.Messages();
  std::string notes;
  for (const Diagnostic& d : r.diags.list()) {
    EXPECT_EQ(d.severity, Severity::kNote);
    notes += fs::path(d.file).filename().string() + ": " + d.message + "\n";
  }
  // Root reads any file: then the locked one reads like the others.
  std::string locked_note =
      ::geteuid() == 0 ? "" : "locked.vbox: skipped (cannot read the file: permission denied)\n";
  EXPECT_EQ(notes,
            "big.vbox: skipped (the file is too large for a VirtualBox file)\n"
            "binary.vbox: skipped (binary content, not a VirtualBox file)\n"
            "dangling.vbox: skipped (a symbolic link to a missing file)\n"
            "empty.vbox: skipped (the file is empty)\n"
            "hello.vbox: skipped (not a VirtualBox file)\n" +
                locked_note + "other.vbox: skipped (not a VirtualBox settings file)\n");

  // Named, each keeps its error.
  EXPECT_EQ(Read(dir.path() / "empty.vbox").Messages(),
            "not a VirtualBox file (neither a machine file, VirtualBox.xml, VBoxManage output "
            "nor a VBoxManage script)\n");
  EXPECT_EQ(Read(big).Messages(), "the file is too large for a VirtualBox file\n");
  EXPECT_EQ(Read(dir.path() / "dangling.vbox").Messages(),
            "cannot read the file (no such file or folder)\n");
}

TEST(VBoxMachine, AFolderWithNothingToReadIsAnError) {
  const std::string nothing =
      "the folder holds no readable VirtualBox file (a machine file, VirtualBox.xml, VBoxManage "
      "output or a VBoxManage script)\n";
  TempDir empty;
  Result r = Read(empty.path());
  EXPECT_FALSE(r.ok);
  ASSERT_EQ(r.diags.list().size(), 1u);
  EXPECT_EQ(r.diags.list()[0].file, empty.path().string());
  EXPECT_EQ(r.Messages(), nothing);

  // Settings files that cannot be read keep their notes, and the folder is still an error.
  TempDir skipped;
  skipped.Write("notes.txt", "hello\n");
  skipped.Write("vm.vbox", "");
  Result notes = Read(skipped.path());
  EXPECT_FALSE(notes.ok);
  EXPECT_EQ(notes.Messages(), "skipped (the file is empty)\n" + nothing);

  // A broken machine file says what is wrong with it, and only that.
  TempDir broken;
  std::string machine = MachineFile("1.19-linux", "");
  broken.Write("vm.vbox", machine.substr(0, machine.find("<Hardware>")));
  Result cut = Read(broken.path());
  EXPECT_FALSE(cut.ok);
  EXPECT_EQ(cut.Messages(), "the file ends before 'VirtualBox/Machine' is closed\n");

  // A VirtualBox.xml that registers no machine is something read: an empty set-up, no error.
  TempDir registry;
  registry.Write("VirtualBox.xml",
                 "<?xml version=\"1.0\"?>\n<VirtualBox version=\"1.12-linux\"><Global>"
                 "<MachineRegistry/></Global></VirtualBox>\n");
  Result none = Read(registry.path());
  EXPECT_TRUE(none.ok) << none.Messages();
  EXPECT_TRUE(none.inv.machines.empty());
}

TEST(VBoxMachine, FindMachine) {
  VBoxInventory inv;
  inv.machines.resize(2);
  inv.machines[0].name = "pfSense";
  inv.machines[1].name = "kali";
  EXPECT_EQ(inv.FindMachine("kali"), &inv.machines[1]);
  EXPECT_EQ(inv.FindMachine("PFSENSE"), &inv.machines[0]);
  EXPECT_EQ(inv.FindMachine("debian"), nullptr);
}

TEST(FreeBsdDevices, CountedPerDriverInSlotOrder) {
  VBoxHardware hw;
  auto add = [&hw](int slot, const char* type, bool enabled) {
    VBoxAdapter a;
    a.slot = slot;
    a.type = type;
    a.enabled = enabled;
    hw.adapters.push_back(a);
  };
  add(1, "virtio", true);
  add(2, "82540EM", true);
  add(3, "virtio", false);
  add(5, "Am79C973", true);
  add(4, "virtio", true);
  add(6, "82545EM", true);
  add(7, "NE2000", true);
  std::vector<std::string> devices;
  for (const GuestDevice& d : FreeBsdDevices(hw)) {
    devices.push_back(fmt::format("{}={}", d.adapter->slot, d.device));
  }
  EXPECT_EQ(fmt::format("{}", fmt::join(devices, " ")), "1=vtnet0 2=em0 4=vtnet1 5=le0 6=em1 7=");
}

// A firewall interface sits on an adapter's device, or on a VLAN of one; other devices are no
// adapter of any VM.
TEST(VBoxMachine, AdapterDeviceOfAFreeBsdInterface) {
  EXPECT_EQ(FreeBsdAdapterDevice("em1"), "em1");
  EXPECT_EQ(FreeBsdAdapterDevice("vtnet12"), "vtnet12");
  EXPECT_EQ(FreeBsdAdapterDevice("em1.10"), "em1");
  EXPECT_EQ(FreeBsdAdapterDevice("le0_vlan7"), "le0");
  for (const char* other : {"ovpns1", "lagg0", "bridge0", "em", "emx1", "gif0", ""}) {
    EXPECT_EQ(FreeBsdAdapterDevice(other), "") << other;
  }
}

}  // namespace
}  // namespace bulkhead
