// SPDX-License-Identifier: Apache-2.0
// Tests of the VirtualBox findings on small hand-written machine files (a pfSense lab with a
// gateway and clients, snapshots, port forwards, VRDE) and on files of the shared corpus; and
// of how the firewall VM is found.

#include "audit/vm_findings.h"

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <string>
#include <vector>

#include "harness.h"

namespace bulkhead {
namespace {

namespace fs = std::filesystem;

const fs::path kCorpus = fs::path(BULKHEAD_SOURCE_DIR) / ".." / "shared" / "corpus" / "vbox";

// Machine files written to a fresh folder, read back as one inventory.
class Lab {
 public:
  // A 7.0 machine: `hardware` goes into its Hardware, `snapshots` before it.
  void Machine(const std::string& name, const std::string& hardware,
               const std::string& snapshots = "") {
    dir_.Write(name + ".vbox", harness::VBoxMachineFile(name, hardware, snapshots));
  }

  VBoxInventory Read() const {
    VBoxInventory inv;
    Diagnostics diags;
    EXPECT_TRUE(ReadVBox(dir_.path().string(), inv, diags)) << diags.Format();
    return inv;
  }

 private:
  harness::ScratchDir dir_;
};

std::string Adapter(int slot, const std::string& attachment, const std::string& extra = "") {
  return fmt::format("<Network><Adapter slot=\"{}\" enabled=\"true\" {}>{}</Adapter></Network>",
                     slot, extra, attachment);
}

// "high vm-bypass-adapter vm 'pc' | pc.vbox: Machine/Hardware/Network/Adapter[slot=1]"
std::vector<std::string> Lines(const std::vector<Finding>& findings) {
  std::vector<std::string> out;
  for (const Finding& f : findings) {
    out.push_back(fmt::format("{} {} {} | {}", RiskName(f.risk), f.kind, f.subject, f.where));
  }
  return out;
}

std::string Joined(const std::vector<Finding>& findings) {
  return fmt::format("{}", fmt::join(Lines(findings), "\n"));
}

const Finding* FindKind(const std::vector<Finding>& findings, const std::string& kind) {
  for (const Finding& f : findings) {
    if (f.kind == kind) return &f;
  }
  return nullptr;
}

const char kNat[] = "<NAT/>";
const char kLan[] = "<InternalNetwork name=\"lan\"/>";

TEST(VmFindings, PfSenseLabWithAClientThatBypassesTheFirewall) {
  Lab lab;
  lab.Machine("pfSense",
              "<Network><Adapter slot=\"0\" enabled=\"true\"><NAT/></Adapter>"
              "<Adapter slot=\"1\" enabled=\"true\"><InternalNetwork name=\"lan\"/>"
              "</Adapter></Network>");
  lab.Machine("pc", Adapter(0, kLan));
  lab.Machine("kali",
              "<Network><Adapter slot=\"0\" enabled=\"true\">"
              "<InternalNetwork name=\"lan\"/></Adapter>"
              "<Adapter slot=\"1\" enabled=\"true\"><BridgedInterface name=\"eth0\"/>"
              "</Adapter></Network>");
  VBoxInventory inv = lab.Read();
  ASSERT_EQ(FindFirewallVm(inv, ""), "pfSense");
  std::vector<Finding> f = VmFindings(inv, "pfSense");
  EXPECT_EQ(Joined(f),
            "high vm-bypass-adapter vm 'kali' | kali.vbox: "
            "Machine/Hardware/Network/Adapter[slot=1]\n"
            "medium vms-share-internal-network internal network 'lan' | ");
  EXPECT_EQ(f[0].message,
            "adapter 2 is attached to the host interface 'eth0' (bridged): the VM reaches the host "
            "or its networks "
            "without passing the firewall VM");
  EXPECT_EQ(f[1].message,
            "vms 'kali', 'pc' share internal network 'lan': they reach each other without "
            "passing the firewall VM");
}

// A VM on two internal networks routes between them past the firewall VM; the firewall VM
// itself is on every one of them by design.
TEST(VmFindings, VmOnTwoInternalNetworksJoinsThem) {
  Lab lab;
  lab.Machine("pfSense",
              "<Network><Adapter slot=\"0\" enabled=\"true\"><NAT/></Adapter>"
              "<Adapter slot=\"1\" enabled=\"true\"><InternalNetwork name=\"lan\"/></Adapter>"
              "<Adapter slot=\"2\" enabled=\"true\"><InternalNetwork name=\"dmz\"/></Adapter>"
              "</Network>");
  lab.Machine("dual",
              "<Network><Adapter slot=\"0\" enabled=\"true\"><InternalNetwork name=\"lan\"/>"
              "</Adapter><Adapter slot=\"1\" enabled=\"true\"><InternalNetwork name=\"lan\"/>"
              "</Adapter><Adapter slot=\"2\" enabled=\"true\" cable=\"false\">"
              "<InternalNetwork name=\"web\"/></Adapter><Adapter slot=\"3\" enabled=\"true\">"
              "<InternalNetwork name=\"dmz\"/></Adapter></Network>");
  std::vector<Finding> f = VmFindings(lab.Read(), "pfSense");
  EXPECT_EQ(Joined(f), "high vm-joins-networks vm 'dual' | dual.vbox: "
                       "Machine/Hardware/Network/Adapter[slot=3]");
  ASSERT_FALSE(f.empty());
  EXPECT_EQ(f[0].message,
            "it is attached to internal network 'lan' (adapter 1) and internal network 'dmz' "
            "(adapter 4): it can pass traffic between them without the firewall VM");
}

TEST(VmFindings, DisabledAndUnpluggedBypassAdapters) {
  Lab lab;
  lab.Machine("a",
              "<Network><Adapter slot=\"0\"><NAT/></Adapter>"
              "<Adapter slot=\"1\" enabled=\"true\" cable=\"false\">"
              "<HostOnlyInterface name=\"vboxnet0\"/></Adapter>"
              "<Adapter slot=\"2\"><DisabledModes><NAT/></DisabledModes></Adapter>"
              "<Adapter slot=\"3\" cable=\"false\"><BridgedInterface name=\"eth0\"/></Adapter>"
              "</Network>");
  std::vector<Finding> f = VmFindings(lab.Read(), "");
  EXPECT_EQ(Joined(f),
            "low vm-disabled-bypass-adapter vm 'a' | a.vbox: "
            "Machine/Hardware/Network/Adapter[slot=0]\n"
            "low vm-disabled-bypass-adapter vm 'a' | a.vbox: "
            "Machine/Hardware/Network/Adapter[slot=1]\n"
            "low vm-disabled-bypass-adapter vm 'a' | a.vbox: "
            "Machine/Hardware/Network/Adapter[slot=3]");
  EXPECT_EQ(f[0].message,
            "adapter 1 is disabled but is attached to NAT: one click makes it "
            "bypass the firewall VM");
  EXPECT_EQ(f[1].message,
            "adapter 2 has its cable unplugged but is attached to host-only "
            "interface 'vboxnet0': one click makes it bypass the firewall VM");
  EXPECT_EQ(f[2].message,
            "adapter 4 is disabled and has its cable unplugged but is attached to the host "
            "interface 'eth0' (bridged): enabling it and plugging its cable in make it bypass the "
            "firewall VM");
}

// Any segment other machines may share can be sniffed; a NAT adapter's engine is its own.
TEST(VmFindings, PromiscuousOnEverySharedSegment) {
  Lab lab;
  lab.Machine("sniffer",
              "<Network>"
              "<Adapter slot=\"0\" enabled=\"true\" promiscuousModePolicy=\"AllowAll\">"
              "<NAT/></Adapter>"
              "<Adapter slot=\"1\" enabled=\"true\" promiscuousModePolicy=\"AllowNetwork\">"
              "<NATNetwork name=\"natnet\"/></Adapter>"
              "<Adapter slot=\"2\" enabled=\"true\" promiscuousModePolicy=\"AllowAll\">"
              "<HostOnlyInterface name=\"vboxnet0\"/></Adapter>"
              "<Adapter slot=\"3\" enabled=\"true\" promiscuousModePolicy=\"Deny\">"
              "<InternalNetwork name=\"lan\"/></Adapter>"
              "<Adapter slot=\"4\" enabled=\"true\" cable=\"false\" "
              "promiscuousModePolicy=\"AllowAll\"><InternalNetwork name=\"dmz\"/></Adapter>"
              "</Network>");
  std::vector<std::string> promiscuous;
  for (const Finding& x : VmFindings(lab.Read(), "")) {
    if (x.kind == "vm-promiscuous-adapter") promiscuous.push_back(x.message);
  }
  EXPECT_EQ(promiscuous,
            (std::vector<std::string>{
                "adapter 2 on NAT network 'natnet' may run promiscuous (allow-network): it can "
                "read its neighbours' traffic",
                "adapter 3 on host-only interface 'vboxnet0' may run promiscuous (allow-all): it "
                "can read its neighbours' traffic"}));
}

// NAT networks live in VirtualBox.xml or `list natnets`: their forwards and loopback mappings
// are judged once, a disabled network's one level lower; VMs on one of them reach each other.
TEST(VmFindings, NatNetworks) {
  VBoxInventory inv;
  NatNetwork on{"NatNet1",
                "10.0.3.0/24",
                true,
                {},
                "/home/u/.config/VirtualBox/VirtualBox.xml",
                {{"127.0.0.1", 2}},
                "Global/NetserviceRegistry/NATNetworks/NATNetwork[networkName='NatNet1']"};
  on.forwards = {{"web", "tcp", "", 8080, "10.0.3.5", 80},
                 {"ssh", "tcp", "127.0.0.1", 2222, "", 22}};
  NatNetwork off{"old", "10.0.9.0/24", false, {}, "natnets.txt", {{"127.0.0.1", 300}}, ""};
  inv.nat_networks = {on, off};
  for (const char* name : {"a", "b"}) {
    VBoxMachine m;
    m.name = name;
    m.file = std::string(name) + ".vbox";
    VBoxAdapter adapter;
    adapter.enabled = true;
    adapter.attachment = Attachment::kNatNetwork;
    adapter.network = "NatNet1";
    m.current.adapters = {adapter};
    inv.machines.push_back(m);
  }
  std::vector<Finding> f;
  for (Finding& x : VmFindings(inv, "")) {
    if (x.kind != "vm-bypass-adapter") f.push_back(x);
  }
  const std::string at =
      "VirtualBox.xml: Global/NetserviceRegistry/NATNetworks/NATNetwork[networkName='NatNet1']";
  EXPECT_EQ(Lines(f), (std::vector<std::string>{
                          "high nat-network-port-forward NAT network 'NatNet1' | " + at +
                              "/PortForwarding4/Forwarding[name='web']",
                          "medium nat-network-loopback NAT network 'NatNet1' | " + at + "/Mappings",
                          "medium nat-network-port-forward NAT network 'NatNet1' | " + at +
                              "/PortForwarding4/Forwarding[name='ssh']",
                          "medium vms-share-nat-network NAT network 'NatNet1' | ",
                          "low nat-network-loopback NAT network 'old' | natnets.txt: loopback "
                          "mappings (ipv4)",
                      }));
  EXPECT_EQ(f[0].message,
            "port forward 'web' exposes guest port 10.0.3.5:80/tcp on every host address, "
            "port 8080");
  EXPECT_EQ(f[1].message,
            "its guests reach the host's 127.0.0.1 at 10.0.3.2: services bound to the host's "
            "loopback are open to them");
  EXPECT_EQ(f[3].message,
            "vms 'a', 'b' share NAT network 'NatNet1': they reach each other without passing the "
            "firewall VM");
  EXPECT_EQ(f[4].message,
            "its guests reach the host's 127.0.0.1 at offset 300 of '10.0.9.0/24': services bound "
            "to the host's loopback are open to them");
}

TEST(VmFindings, SnapshotsAreOneLevelLowerAndOnlyWhenTheyDiffer) {
  Lab lab;
  std::string hw = Adapter(0, kLan);
  lab.Machine("pc", hw,
              fmt::format("<Snapshot uuid=\"{{s1}}\" name=\"base\"><Hardware>{}</Hardware>"
                          "<Snapshots><Snapshot uuid=\"{{s2}}\" name=\"online\"><Hardware>{}"
                          "</Hardware></Snapshot></Snapshots></Snapshot>\n",
                          hw, Adapter(0, kNat)));
  std::vector<Finding> f = VmFindings(lab.Read(), "fw");
  EXPECT_EQ(Joined(f),
            "medium vm-bypass-adapter vm 'pc' (snapshot 'base / online') | pc.vbox: "
            "Machine/Snapshot[name='base']/Snapshots/Snapshot[name='online']/Hardware/Network/"
            "Adapter[slot=0]");
}

TEST(VmFindings, PortForwardsAndLoopbackReach) {
  Lab lab;
  lab.Machine("web", Adapter(0,
                             "<NAT localhost-reachable=\"true\">"
                             "<Forwarding name=\"ssh\" proto=\"1\" hostip=\"127.0.0.1\" "
                             "hostport=\"2222\" guestport=\"22\"/>"
                             "<Forwarding name=\"http\" proto=\"1\" hostport=\"8080\" "
                             "guestport=\"80\"/>"
                             "<Forwarding name=\"dns\" proto=\"0\" hostip=\"0.0.0.0\" "
                             "hostport=\"5353\" guestport=\"53\"/></NAT>"));
  // On the firewall VM the NAT adapter is expected, its forwards are not.
  std::vector<Finding> f = VmFindings(lab.Read(), "web");
  EXPECT_EQ(Joined(f),
            "high vm-nat-port-forward vm 'web' | web.vbox: "
            "Machine/Hardware/Network/Adapter[slot=0]/NAT/Forwarding[name='dns']\n"
            "high vm-nat-port-forward vm 'web' | web.vbox: "
            "Machine/Hardware/Network/Adapter[slot=0]/NAT/Forwarding[name='http']\n"
            "medium vm-nat-localhost-reachable vm 'web' | web.vbox: "
            "Machine/Hardware/Network/Adapter[slot=0]/NAT\n"
            "medium vm-nat-port-forward vm 'web' | web.vbox: "
            "Machine/Hardware/Network/Adapter[slot=0]/NAT/Forwarding[name='ssh']");
  EXPECT_EQ(f[1].message,
            "port forward 'http' on adapter 1 exposes guest port 80/tcp on every host address, "
            "port 8080");
  EXPECT_EQ(f[3].message,
            "port forward 'ssh' on adapter 1 exposes guest port 22/tcp on host address "
            "127.0.0.1, port 2222");
}

TEST(VmFindings, Channels) {
  Lab lab;
  lab.Machine("open",
              "<RemoteDisplay enabled=\"true\"/>"
              "<SharedFolders><SharedFolder name=\"ro\" hostPath=\"/ro\" writable=\"false\" "
              "autoMount=\"true\"/></SharedFolders>"
              "<Clipboard mode=\"HostToGuest\" fileTransfersEnabled=\"true\"/>"
              "<DragAndDrop mode=\"GuestToHost\"/>"
              "<UART><Port slot=\"0\" enabled=\"true\" IOBase=\"0x3f8\" IRQ=\"4\" "
              "hostMode=\"HostPipe\" path=\"/tmp/pipe\" server=\"true\"/></UART>"
              "<LPT><Port slot=\"0\" enabled=\"true\" IOBase=\"0x378\" IRQ=\"7\" "
              "path=\"/dev/lp0\"/></LPT>"
              "<USB><Controllers><Controller name=\"x\" type=\"XHCI\"/></Controllers>"
              "<DeviceFilters><DeviceFilter name=\"any\" active=\"true\"/></DeviceFilters></USB>"
              "<AudioAdapter enabled=\"true\" enabledIn=\"true\"/>");
  lab.Machine("local",
              "<RemoteDisplay enabled=\"true\"><VRDEProperties>"
              "<Property name=\"TCP/Address\" value=\"127.0.0.1\"/></VRDEProperties>"
              "</RemoteDisplay><USB><Controllers><Controller name=\"o\" type=\"OHCI\"/>"
              "</Controllers></USB>");
  std::vector<Finding> f = VmFindings(lab.Read(), "");
  EXPECT_EQ(Joined(f),
            "high vm-vrde vm 'open' | open.vbox: Machine/Hardware/RemoteDisplay\n"
            "medium vm-clipboard-file-transfers vm 'open' | open.vbox: Machine/Hardware/Clipboard\n"
            "medium vm-drag-and-drop vm 'open' | open.vbox: Machine/Hardware/DragAndDrop\n"
            "medium vm-serial-port vm 'open' | open.vbox: Machine/Hardware/UART/Port[slot=0]\n"
            "medium vm-shared-folder vm 'open' | open.vbox: "
            "Machine/Hardware/SharedFolders/SharedFolder[name='ro']\n"
            "medium vm-usb-filter vm 'open' | open.vbox: "
            "Machine/Hardware/USB/DeviceFilters/DeviceFilter[name='any']\n"
            "medium vm-vrde vm 'local' | local.vbox: Machine/Hardware/RemoteDisplay\n"
            "low vm-audio-input vm 'open' | open.vbox: Machine/Hardware/AudioAdapter\n"
            "low vm-clipboard vm 'open' | open.vbox: Machine/Hardware/Clipboard\n"
            "low vm-parallel-port vm 'open' | open.vbox: Machine/Hardware/LPT\n"
            "low vm-usb-controller vm 'local' | local.vbox: Machine/Hardware/USB");
  EXPECT_EQ(FindKind(f, "vm-vrde")->message,
            "the remote display (VRDE) listens on every host address, port 3389, without "
            "authentication");
  EXPECT_EQ(FindKind(f, "vm-serial-port")->message,
            "serial port 1 is connected to the host (hostpipe '/tmp/pipe', listening)");
  EXPECT_EQ(FindKind(f, "vm-shared-folder")->message,
            "shared folder 'ro' gives the guest the host folder '/ro' (mounted automatically)");
}

class VmFindingsCorpus : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!fs::is_directory(kCorpus)) GTEST_SKIP() << "no corpus at " << kCorpus;
  }
  static VBoxInventory Read(const std::string& file) {
    VBoxInventory inv;
    Diagnostics diags;
    EXPECT_TRUE(ReadVBox((kCorpus / file).string(), inv, diags)) << diags.Format();
    return inv;
  }
};

// A client of a pfSense lab: internal network, a disabled and unplugged NAT adapter, a
// writable auto-mounted shared folder, bidirectional clipboard and drag and drop.
TEST_F(VmFindingsCorpus, ClientWithDisabledNatAndSharedFolder) {
  std::vector<Finding> f =
      VmFindings(Read("desktop3__1.16-windows__intnet_disabled-nat_sharedfolder.vbox"), "");
  const std::string file = "desktop3__1.16-windows__intnet_disabled-nat_sharedfolder.vbox: ";
  EXPECT_EQ(Joined(f), "high vm-shared-folder vm 'Desktop3' | " + file +
                           "Machine/Hardware/SharedFolders/SharedFolder[name='Desktop2']\n"
                           "medium vm-clipboard vm 'Desktop3' | " +
                           file +
                           "Machine/Hardware/Clipboard\n"
                           "medium vm-drag-and-drop vm 'Desktop3' | " +
                           file +
                           "Machine/Hardware/DragAndDrop\n"
                           "medium vm-promiscuous-adapter vm 'Desktop3' | " +
                           file +
                           "Machine/Hardware/Network/Adapter[slot=0]\n"
                           "low vm-audio-input vm 'Desktop3' | " +
                           file +
                           "Machine/Hardware/AudioAdapter\n"
                           "low vm-disabled-bypass-adapter vm 'Desktop3' | " +
                           file +
                           "Machine/Hardware/Network/Adapter[slot=1]\n"
                           "low vm-usb-controller vm 'Desktop3' | " +
                           file + "Machine/Hardware/USB");
  EXPECT_EQ(FindKind(f, "vm-disabled-bypass-adapter")->message,
            "adapter 2 is disabled and has its cable unplugged but is attached to NAT: enabling "
            "it and plugging its cable in make it bypass the firewall VM");
}

TEST_F(VmFindingsCorpus, TenIdenticalSnapshotsAddNothing) {
  std::vector<Finding> f =
      VmFindings(Read("kali-2022.4__1.19-windows__bridged_10-snapshots_bidir.vbox"), "");
  for (const Finding& x : f) EXPECT_EQ(x.subject, "vm 'kali-linux-2022.4-virtualbox-amd64'");
  ASSERT_NE(FindKind(f, "vm-bypass-adapter"), nullptr);
  EXPECT_EQ(FindKind(f, "vm-bypass-adapter")->risk, Risk::kHigh);
  EXPECT_EQ(FindKind(f, "vm-clipboard")->risk, Risk::kMedium);
  EXPECT_EQ(FindKind(f, "vm-guest-additions")->risk, Risk::kInfo);
}

TEST_F(VmFindingsCorpus, ShowVmInfoForwardsOnEveryAddress) {
  std::vector<Finding> f =
      VmFindings(Read("vagrant-box__vbox5.0__running_nat-3pf_guestadditions.showvminfo.txt"), "");
  std::vector<std::string> forwards;
  for (const Finding& x : f) {
    if (x.kind == "vm-nat-port-forward") {
      forwards.push_back(fmt::format("{} {}", RiskName(x.risk), x.where));
    }
  }
  const std::string where = "vagrant-box__vbox5.0__running_nat-3pf_guestadditions.showvminfo.txt";
  EXPECT_EQ(forwards,
            (std::vector<std::string>{"high " + where + ": nic1", "high " + where + ": nic1",
                                      "medium " + where + ": nic1"}));
  EXPECT_EQ(FindKind(f, "vm-shared-folder")->where, where + ": SharedFolderNameMachineMapping1");
  EXPECT_EQ(FindKind(f, "vm-shared-folder")->message,
            "shared folder 'vagrant' gives the guest the host folder "
            "'/Users/user/.vagrant.d/foobaz/urfve6cb85a2' (showvminfo does not say whether it is "
            "writable or mounted automatically)");
}

TEST_F(VmFindingsCorpus, NatNetworkListWithALoopbackMapping) {
  std::vector<Finding> f = VmFindings(Read("list-natnets.txt"), "");
  EXPECT_EQ(Joined(f),
            "medium nat-network-loopback NAT network 'NatNetwork' | list-natnets.txt: loopback "
            "mappings (ipv4)");
  EXPECT_EQ(f[0].message,
            "its guests reach the host's 127.0.0.1 at 10.0.2.2: services bound to the host's "
            "loopback are open to them");
}

TEST_F(VmFindingsCorpus, LocationsOfOldUsbAndOfAudioWithoutAudioIn) {
  std::vector<Finding> old =
      VmFindings(Read("foo__1.9-macosx-innotek-ns__nat_snapshot_vbox3.1.xml"), "");
  EXPECT_EQ(FindKind(old, "vm-usb-controller")->where,
            "foo__1.9-macosx-innotek-ns__nat_snapshot_vbox3.1.xml: Machine/Hardware/USBController");
  std::vector<Finding> info =
      VmFindings(Read("ubuntu__vbox5.2__nat-pf_sharedfolder_vrde-localhost.showvminfo.txt"), "");
  EXPECT_EQ(FindKind(info, "vm-audio-input")->where,
            "ubuntu__vbox5.2__nat-pf_sharedfolder_vrde-localhost.showvminfo.txt: audio");
}

TEST_F(VmFindingsCorpus, FourLabMachinesShareIntnet) {
  VBoxInventory inv;
  Diagnostics diags;
  for (const char* file : {"desktop2__1.16-windows__intnet_disabled-intnet.vbox",
                           "desktop3__1.16-windows__intnet_disabled-nat_sharedfolder.vbox",
                           "servidor-arquivos__1.16-windows__intnet.vbox",
                           "servidor-email__1.16-windows__intnet.vbox"}) {
    ASSERT_TRUE(ReadVBox((kCorpus / file).string(), inv, diags));
  }
  EXPECT_EQ(FindFirewallVm(inv, ""), "");  // the lab's pfSense VM is not in the corpus
  std::vector<Finding> findings = VmFindings(inv, "");
  const Finding* shared = FindKind(findings, "vms-share-internal-network");
  ASSERT_NE(shared, nullptr);
  EXPECT_EQ(shared->message,
            "vms 'Desktop2', 'Desktop3', 'Servidor de Arquivos', 'Servidor de Email' share "
            "internal network 'intnet': they reach each other without passing the firewall VM");
}

TEST(FindFirewallVm, ByNameThenByShape) {
  auto machine = [](const std::string& name, std::vector<Attachment> attachments) {
    VBoxMachine m;
    m.name = name;
    int slot = 1;
    for (Attachment a : attachments) {
      VBoxAdapter adapter;
      adapter.slot = slot++;
      adapter.enabled = true;
      adapter.attachment = a;
      m.current.adapters.push_back(adapter);
    }
    return m;
  };
  VBoxInventory inv;
  inv.machines = {machine("gateway", {Attachment::kNat, Attachment::kIntnet}),
                  machine("pc", {Attachment::kIntnet})};
  EXPECT_EQ(FindFirewallVm(inv, ""), "gateway");
  EXPECT_EQ(FindFirewallVm(inv, "PC"), "pc");        // named and present
  EXPECT_EQ(FindFirewallVm(inv, "opn"), "gateway");  // named but absent: found as without
  inv.machines.push_back(machine("lab-fw", {Attachment::kBridged}));
  EXPECT_EQ(FindFirewallVm(inv, ""), "lab-fw");
  inv.machines.push_back(machine("OPNsense", {Attachment::kBridged, Attachment::kIntnet}));
  EXPECT_EQ(FindFirewallVm(inv, ""), "OPNsense");  // two by name: the gateway of them
  inv.machines = {machine("fwupd-test", {Attachment::kNat, Attachment::kIntnet}),
                  machine("router", {Attachment::kBridged, Attachment::kIntnet})};
  EXPECT_EQ(FindFirewallVm(inv, ""), "");  // "fwupd" is no firewall; two gateways
  inv.machines[1].os_type = "FreeBSD_64";
  EXPECT_EQ(FindFirewallVm(inv, ""), "router");
}

TEST(VmFindings, EncryptedMachineCannotBeAudited) {
  VBoxInventory inv;
  inv.machines.emplace_back();
  inv.machines[0].name = "secret";
  inv.machines[0].file = "/vms/secret/secret.vbox";
  inv.machines[0].encrypted = true;
  EXPECT_EQ(Joined(VmFindings(inv, "")), "medium vm-encrypted vm 'secret' | secret.vbox");
}

}  // namespace
}  // namespace bulkhead
