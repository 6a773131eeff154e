// SPDX-License-Identifier: Apache-2.0
// Reads a pfSense or OPNsense config.xml into a FirewallView. This file reads what the rules
// refer to: interfaces with their static, virtual and run-time addresses, interface groups,
// aliases (nested, FQDN members kept symbolic, URL tables unknown), ports and protocols; then
// drives the passes that read the filter (pfsense_rules.cc) and NAT (pfsense_nat.cc).
#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <set>
#include <string_view>

#include "import/pfsense_reader.h"
#include "import/xml_error.h"
#include "util/decimal.h"
#include "util/atomic_file.h"

namespace bulkhead {
namespace pfsense {

// ---- Text helpers ----------------------------------------------------------------------------

std::string Trim(std::string_view s) {
  size_t b = s.find_first_not_of(" \t\r\n");
  if (b == std::string_view::npos) return "";
  size_t e = s.find_last_not_of(" \t\r\n");
  return std::string(s.substr(b, e - b + 1));
}

std::string Text(Node n) { return Trim(n.text().as_string()); }

std::vector<std::string> Split(const std::string& text, const std::string& separators) {
  std::vector<std::string> out;
  size_t pos = 0;
  while (pos <= text.size()) {
    size_t end = text.find_first_of(separators, pos);
    if (end == std::string::npos) end = text.size();
    std::string word = Trim(std::string_view(text).substr(pos, end - pos));
    if (!word.empty()) out.push_back(word);
    pos = end + 1;
  }
  return out;
}


std::optional<uint16_t> ServicePort(const std::string& name) {
  static const std::map<std::string, uint16_t> kPorts = {
      {"ftp", 21},   {"ssh", 22},    {"telnet", 23},      {"smtp", 25},   {"domain", 53},
      {"http", 80},  {"pop3", 110},  {"ntp", 123},        {"imap", 143},  {"snmp", 161},
      {"ldap", 389}, {"https", 443}, {"submission", 587}, {"imaps", 993}, {"pop3s", 995}};
  if (auto n = ParseDecimal(name, 65535)) return static_cast<uint16_t>(*n);
  auto it = kPorts.find(name);
  if (it == kPorts.end()) return std::nullopt;
  return it->second;
}

PolicyRule MakeRule(Action action, PacketSet match, Provenance origin) {
  PolicyRule r;
  r.action = action;
  r.match = std::move(match);
  r.origin = std::move(origin);
  return r;
}

namespace {

// vtnetN and emN are the devices VirtualBox adapters appear as; adapter numbers are 1-based.
int SlotOf(const std::string& device) {
  for (const char* prefix : {"vtnet", "em"}) {
    std::string p = prefix;
    if (device.rfind(p, 0) != 0) continue;
    if (auto n = ParseDecimal(device.substr(p.size()), 4095)) return *n + 1;
  }
  return 0;
}

struct IcmpName {
  uint8_t type;
  const char* name;
};

// pfSense's names (pf's): the GUI offers these, and the renderer writes them.
constexpr IcmpName kIcmpV4Names[] = {
    {0, "echorep"},    {3, "unreach"},    {4, "squench"},    {5, "redir"},     {6, "althost"},
    {8, "echoreq"},    {9, "routeradv"},  {10, "routersol"}, {11, "timex"},    {12, "paramprob"},
    {13, "timereq"},   {14, "timerep"},   {15, "inforeq"},   {16, "inforep"},  {17, "maskreq"},
    {18, "maskrep"},   {30, "trace"},     {31, "dataconv"},  {32, "mobredir"}, {33, "ipv6-where"},
    {34, "ipv6-here"}, {35, "mobregreq"}, {36, "mobregrep"}, {39, "skip"},     {40, "photuris"}};

constexpr IcmpName kIcmpV6Names[] = {{1, "unreach"},      {2, "toobig"},      {3, "timex"},
                                     {4, "paramprob"},    {128, "echoreq"},   {129, "echorep"},
                                     {130, "groupqry"},   {130, "listqry"},   {131, "grouprep"},
                                     {131, "listenrep"},  {132, "groupterm"}, {132, "listendone"},
                                     {133, "routersol"},  {134, "routeradv"}, {135, "neighbrsol"},
                                     {136, "neighbradv"}, {137, "redir"},     {138, "routrrenum"}};

// A name, or a number (pf accepts both).
std::optional<uint8_t> IcmpTypeNumber(const std::string& name, Family f) {
  if (auto n = ParseDecimal(name, 255)) return static_cast<uint8_t>(*n);
  auto find = [&](const auto& table) -> std::optional<uint8_t> {
    for (const IcmpName& entry : table) {
      if (name == entry.name) return entry.type;
    }
    return std::nullopt;
  };
  return f == Family::kV4 ? find(kIcmpV4Names) : find(kIcmpV6Names);
}

std::optional<uint8_t> ProtocolNumber(const std::string& name) {
  static const std::map<std::string, uint8_t> kNumbers = {
      {"igmp", 2},  {"ipv6", 41}, {"gre", 47},   {"esp", 50},   {"ah", 51},     {"etherip", 97},
      {"ospf", 89}, {"pim", 103}, {"carp", 112}, {"sctp", 132}, {"pfsync", 240}};
  auto it = kNumbers.find(name);
  if (it != kNumbers.end()) return it->second;
  return ProtoByName(name);
}

const char* FamilyLabel(Family f) { return f == Family::kV4 ? "IPv4" : "IPv6"; }

// What pfSense writes in <ipaddr> and <ipaddrv6> for each IPv4 and IPv6 configuration type that
// gets its address at run time (interfaces.php); OPNsense adds "idassoc6".
constexpr std::string_view kRunTimeV4[] = {"dhcp", "ppp", "pppoe", "pptp", "l2tp"};
constexpr std::string_view kRunTimeV6[] = {"dhcp6", "slaac", "6rd", "6to4", "track6", "idassoc6"};

bool IsRunTimeAddress(std::string_view text, Family f) {
  auto matches = [&](const auto& types) {
    return std::find(std::begin(types), std::end(types), text) != std::end(types);
  };
  return f == Family::kV4 ? matches(kRunTimeV4) : matches(kRunTimeV6);
}

// "dhcp, ppp, pppoe, pptp or l2tp"
std::string RunTimeAddressTypes(Family f) {
  auto list = [](const auto& types) {
    std::vector<std::string_view> v(std::begin(types), std::end(types));
    return fmt::format("{} or {}", fmt::join(v.begin(), v.end() - 1, ", "), v.back());
  };
  return f == Family::kV4 ? list(kRunTimeV4) : list(kRunTimeV6);
}

bool HasErrorsSince(const Diagnostics& diags, size_t first) {
  const auto& list = diags.list();
  return std::any_of(list.begin() + first, list.end(),
                     [](const Diagnostic& d) { return d.severity == Severity::kError; });
}

// A host name as filterdns takes it: letters, digits, dots, dashes and underscores, with at
// least one letter (so that a mistyped address is not taken for a name).
bool LooksLikeHostName(const std::string& token) {
  bool letter = false;
  for (char c : token) {
    if (std::isalpha(static_cast<unsigned char>(c))) {
      letter = true;
    } else if (!std::isdigit(static_cast<unsigned char>(c)) && c != '.' && c != '-' && c != '_') {
      return false;
    }
  }
  return letter;
}

std::optional<AddrSet> RangeAddrs(const std::string& token) {
  size_t dash = token.find('-');
  if (dash == std::string::npos) return std::nullopt;
  auto a = IpAddress::Parse(token.substr(0, dash));
  auto b = IpAddress::Parse(token.substr(dash + 1));
  if (!a || !b || a->family != b->family || *b < *a) return std::nullopt;
  return AddrSet(AddrsOf(*a).ranges().front().first, AddrsOf(*b).ranges().front().last);
}

// The sections pfSense and OPNsense write at the top of config.xml: the default config, the
// settings pages and upgrade code (config.lib.inc, upgrade_config.inc), the wizards and common
// packages. Any other is said to be skipped, since the firewall may act on what it holds.
bool IsKnownSection(std::string_view name) {
  static const std::set<std::string_view> kSections = {
      // pfSense and m0n0wall.
      "aliases", "bridge", "bridges", "ca", "captiveportal", "cert", "crl", "cron", "dhcpd",
      "dhcpdv6", "dhcrelay", "dhcrelay6", "diag", "dnshaper", "dnsmasq", "dnsupdates", "dyndnses",
      "ezshaper", "filter", "gateways", "gifs", "gres", "hasync", "ifgroups", "igmpproxy",
      "installedpackages", "interfaces", "ipsec", "l2tp", "l7shaper", "laggs", "lastchange",
      "load_balancer", "nat", "notifications", "ntpd", "openvpn", "ovpnserver", "ppps", "pppoes",
      "pptpd", "proxyarp", "qinqs", "revision", "rrd", "schedules", "shaper", "snmpd", "sshdata",
      "staticroutes", "switches", "sysctl", "syslog", "system", "theme", "unbound", "version",
      "virtualip", "vlans", "voucher", "widgets", "wireless", "wizardtemp", "wol",
      // OPNsense: its MVC models live under one section.
      "OPNsense", "trigger_initial_wizard"};
  return kSections.count(name) > 0;
}

}  // namespace

// ---- The reader's shared parts ---------------------------------------------------------------

bool Reader::Flag(Node parent, const char* name) const {
  Node n = parent.child(name);
  if (!n) return false;
  if (!opnsense_) return true;
  std::string v = Text(n);
  return !v.empty() && v != "0";
}

void Reader::Error(const std::string& path, std::string message) {
  diags_.ErrorAt(file_, path, std::move(message));
}

void Reader::Warning(const std::string& path, std::string message) {
  diags_.Add({Severity::kWarning, file_, {}, path, std::move(message)});
}

void Reader::Note(const std::string& path, std::string message) {
  diags_.Add({Severity::kNote, file_, {}, path, std::move(message)});
}

void Reader::Unknown(const std::string& path, const std::string& message, RuleNotes& notes) {
  if (std::find(notes.unknown_why.begin(), notes.unknown_why.end(), message) !=
      notes.unknown_why.end()) {
    return;  // an inet46 rule reads its endpoints twice
  }
  notes.unknown_why.push_back(message);
  if (exact()) {
    Error(path, message);
    notes.failed = true;
  } else {
    Note(path, message);
  }
}

void Reader::Skip(const std::string& path, const std::string& why, RuleNotes& notes) {
  if (!notes.skipped_why.empty()) return;
  notes.Skip(why);
  Warning(path, fmt::format("{}: {} skips the rule", why, product()));
}

const Iface* Reader::FindIface(const std::string& key) const {
  for (const Iface& i : ifaces_) {
    if (i.key == key) return &i;
  }
  return nullptr;
}

// ---- Interfaces, groups, reservations --------------------------------------------------------

void Reader::ReadInterfaces(Node root) {
  for (Node n : root.child("interfaces").children()) {
    if (n.type() != pugi::node_element) continue;
    if (!Flag(n, "enable")) continue;  // pfSense loads no rule of a disabled interface
    ReadInterface(n, fmt::format("interfaces/{}", n.name()), root);
  }
}

// interface_has_gateway(): a gateway set, an address that comes with one (DHCP, PPP), or a
// tunnel device.
bool Reader::IsOutside(Node n, Node, const std::string& device) const {
  if (!Text(n.child("gateway")).empty() || !Text(n.child("gatewayv6")).empty()) return true;
  if (IsRunTimeAddress(Text(n.child("ipaddr")), Family::kV4)) return true;
  return device.rfind("ovpn", 0) == 0 || device.rfind("ipsec", 0) == 0;
}

// One family's <ipaddr> or <ipaddrv6>: a static address and its prefix length, a type of
// address given at run time (true), or none. Anything else is an error rather than a run-time
// address: a mistyped address would otherwise turn into one the firewall never has.
bool Reader::ReadIfaceAddress(Node n, const std::string& path, Family f, Iface& i) {
  std::string element = f == Family::kV4 ? "ipaddr" : "ipaddrv6";
  std::string subnet = f == Family::kV4 ? "subnet" : "subnetv6";
  std::string text = Text(n.child(element.c_str()));
  if (text.empty() || text == "none") return false;
  if (auto a = IpAddress::Parse(text); a && a->family == f) {
    auto len = ParseDecimal(Text(n.child(subnet.c_str())), AddressBits(f));
    if (!len) Error(path + "/" + subnet, fmt::format("invalid prefix length for '{}'", i.key));
    i.addresses.push_back({*a, len.value_or(AddressBits(f))});
    return false;
  }
  if (IsRunTimeAddress(text, f)) return true;
  Error(path + "/" + element,
        fmt::format("invalid {} address '{}' for '{}' (expected an address, none, {})",
                    FamilyLabel(f), text, i.key, RunTimeAddressTypes(f)));
  return false;
}

void Reader::ReadInterface(Node n, const std::string& path, Node root) {
  Iface i;
  i.key = n.name();
  i.descr = Text(n.child("descr"));
  i.device = Text(n.child("if"));
  i.outside = IsOutside(n, root, i.device);
  i.dynamic_v4 = ReadIfaceAddress(n, path, Family::kV4, i);
  i.dynamic_v6 = ReadIfaceAddress(n, path, Family::kV6, i);
  i.own_addresses = i.addresses.size();
  // An address only known at run time is still one address: a symbolic point of its own.
  if (i.dynamic_v4 || i.dynamic_v6) {
    uint32_t id = fw_.policy.names.Intern(i.key + " address");
    if (i.dynamic_v4) i.dynamic = i.dynamic.Union(NameAddr(id, Family::kV4));
    if (i.dynamic_v6) i.dynamic = i.dynamic.Union(NameAddr(id, Family::kV6));
  }
  ifaces_.push_back(i);
}

// Virtual IPs are more addresses of their interface: part of its network and of (self).
void Reader::ReadVirtualIps(Node root) {
  int index = 0;
  for (Node vip : root.child("virtualip").children("vip")) {
    std::string path = fmt::format("virtualip/vip[{}]", ++index);
    std::string key = Text(vip.child("interface"));
    std::string text = Text(vip.child("subnet"));
    auto a = IpAddress::Parse(text);
    auto it =
        std::find_if(ifaces_.begin(), ifaces_.end(), [&](const Iface& i) { return i.key == key; });
    if (it == ifaces_.end()) continue;
    if (text.empty()) {
      RuleNotes ignored;
      Unknown(path, "virtual IP without a literal address is not modelled", ignored);
      continue;
    }
    if (!a) {
      Error(path + "/subnet",
            fmt::format("invalid address '{}' of a virtual IP of '{}'", text, key));
      continue;
    }
    auto len = ParseDecimal(Text(vip.child("subnet_bits")), AddressBits(a->family));
    if (!len) {
      Error(path + "/subnet_bits",
            fmt::format("invalid prefix length of a virtual IP of '{}'", key));
      continue;
    }
    it->addresses.push_back({*a, *len});
  }
}

void Reader::ReadGroups(Node root) {
  for (Node g : root.child("ifgroups").children("ifgroupentry")) {
    groups_[Text(g.child("ifname"))] = Split(Text(g.child("members")), " ");
  }
}

void Reader::ReadReservations(Node root) {
  for (Node n : root.child("dhcpd").children()) {
    if (n.type() != pugi::node_element || !FindIface(n.name())) continue;
    for (Node map : n.children("staticmap")) {
      auto a = IpAddress::Parse(Text(map.child("ipaddr")));
      std::string mac = VirtualBoxMac(Text(map.child("mac")));
      if (a && mac.size() == 12) fw_.reservations.push_back({mac, *a});
    }
  }
}

void Reader::ReadAliases(Node root) {
  for (Node a : root.child("aliases").children("alias")) aliases_[Text(a.child("name"))] = a;
}

// Once per name: a config often repeats a package's section, and one note says it all.
void Reader::NoteUnknownSections(Node root) {
  std::set<std::string> said;
  for (Node n : root.children()) {
    if (n.type() != pugi::node_element || IsKnownSection(n.name())) continue;
    if (!said.insert(n.name()).second) continue;
    Note(n.name(), fmt::format("unknown section '{}' (skipped)", n.name()));
  }
}

// The web GUI's port (and SSH's, when enabled): what "the admin interface" means.
void Reader::ReadAdminServices(Node root) {
  Node system = root.child("system");
  Node webgui = system.child("webgui");
  // pfSense: 443 only for "https"; no protocol at all means plain http on 80.
  bool https = Text(webgui.child("protocol")) == "https";
  int gui = ParseDecimal(Text(webgui.child("port")), 65535).value_or(https ? 443 : 80);
  fw_.admin_services = Ports(kProtoTcp, gui, gui);
  if (Flag(system.child("ssh"), "enable") || Flag(system, "enablesshd")) {
    int ssh = ParseDecimal(Text(system.child("ssh").child("port")), 65535).value_or(22);
    fw_.admin_services = fw_.admin_services.Union(Ports(kProtoTcp, ssh, ssh));
  }
}

// The interface the internet is reached by: the default IPv4 gateway's, else "wan", else the
// first interface with a gateway.
std::string Reader::DefaultWan(Node root) const {
  Node gateways = root.child("gateways");
  std::string name = Text(gateways.child("defaultgw4"));
  for (Node g : gateways.children("gateway_item")) {
    if (!name.empty() && Text(g.child("name")) == name && FindIface(Text(g.child("interface")))) {
      return Text(g.child("interface"));
    }
  }
  if (FindIface("wan")) return "wan";
  for (const Iface& i : ifaces_) {
    if (i.outside) return i.key;
  }
  return "wan";
}

void Reader::PublishInterfaces() {
  for (const Iface& i : ifaces_) {
    FirewallInterface out{i.key, SlotOf(i.device), "", i.addresses};
    out.descr = i.descr;
    out.device = i.device;
    out.outside = i.outside;
    out.dynamic = i.dynamic;
    fw_.interfaces.push_back(std::move(out));
  }
}

// ---- Addresses -------------------------------------------------------------------------------

AddrSet Reader::SelfAddrs() const {
  AddrSet::Ranges ranges;
  for (const Iface& i : ifaces_) {
    for (const Prefix& p : i.addresses) {
      AddrSet one = AddrsOf(p.address);
      ranges.insert(ranges.end(), one.ranges().begin(), one.ranges().end());
    }
    ranges.insert(ranges.end(), i.dynamic.ranges().begin(), i.dynamic.ranges().end());
  }
  return AddrSet::FromRanges(std::move(ranges));
}

// <network>: an interface's subnet ("opt1"), its address ("opt1ip"), (self), or a group. An
// interface without an address of the rule's family gives nothing: pfSense then leaves that
// family's rule out, which the caller sees as an empty `sure` with `why` "no address".
Addrs Reader::NetworkToken(const std::string& token, const std::string& path,
                           const std::vector<Family>& families, RuleNotes& notes) {
  if (token == "(self)") return {SelfAddrs(), {}, ""};
  if (token == "pppoe" || token == "l2tp") {
    Unknown(path, fmt::format("the client pool of the '{}' server is not modelled", token), notes);
    return {{}, AllAddrsBothFamilies(), token + " clients"};
  }
  bool ip = token.size() > 2 && token.ends_with("ip") &&
            FindIface(token.substr(0, token.size() - 2));
  std::string key = ip ? token.substr(0, token.size() - 2) : token;
  std::vector<std::string> keys = {key};
  if (!ip && groups_.count(token)) keys = groups_.at(token);
  if (!FindIface(keys.empty() ? "" : keys.front()) && !groups_.count(token)) {
    Skip(path, fmt::format("interface network '{}' does not exist or is disabled", token), notes);
    return {};
  }
  Addrs out;
  bool has_address = false;
  for (const std::string& k : keys) {
    const Iface* i = FindIface(k);
    if (!i) continue;
    // "lanip" is the interface's own address; "lan" also takes the subnets of its virtual IPs.
    size_t count = ip ? i->own_addresses : i->addresses.size();
    for (size_t n = 0; n < count; ++n) {
      const Prefix& p = i->addresses[n];
      out.sure = out.sure.Union(ip ? AddrsOf(p.address) : AddrsOf(p.Network()));
      has_address = has_address || std::count(families.begin(), families.end(),
                                               p.address.family) > 0;
    }
    out.sure = out.sure.Union(i->dynamic);
    for (Family f : families) {
      bool dynamic = f == Family::kV4 ? i->dynamic_v4 : i->dynamic_v6;
      has_address = has_address || dynamic;
      if (!dynamic || ip) continue;
      // The address is a known point; the subnet around it is whatever the lease says.
      std::string subnet = fmt::format("the {} subnet of '{}'", FamilyLabel(f), k);
      Unknown(path, subnet + " is assigned at run time (not modelled)", notes);
      out.maybe = out.maybe.Union(AllRealAddrs(f));
      out.why = subnet;
    }
  }
  if (!has_address && notes.never_why.empty() && families.size() == 1) {
    notes.never_why =
        fmt::format("'{}' has no {} address, so {} leaves the rule out", token,
                    FamilyLabel(families.front()), product());
  }
  return out;
}

// A cycle is cut without a word, as pfSense cuts it; past the depth bound the rule fails.
template <typename Result>
bool Reader::EnterAlias(const std::string& name, const std::string& path, RuleNotes& notes,
                        AliasWalk<Result>& walk) {
  if (walk.visiting.count(name)) {
    ++walk.cuts;
    return false;
  }
  if (walk.visiting.size() >= kMaxAliasDepth) {
    if (!walk.too_deep) {
      Error(path, fmt::format("alias '{}' nests deeper than {} levels", name, kMaxAliasDepth));
    }
    walk.too_deep = true;
    notes.failed = true;
    ++walk.cuts;
    return false;
  }
  walk.visiting.insert(name);
  return true;
}

Addrs Reader::AliasAddrs(const std::string& name, const std::string& path, RuleNotes& notes,
                         AddrWalk& walk) {
  if (auto done = alias_addrs_.find(name); done != alias_addrs_.end()) return done->second;
  if (auto done = walk.done.find(name); done != walk.done.end()) return done->second;
  if (!EnterAlias(name, path, notes, walk)) return {};
  int cuts = walk.cuts;
  Addrs out = ExpandAlias(name, path, notes, walk);
  walk.visiting.erase(name);
  // One cut short by a cycle depends on where it started, so only whole expansions serve the
  // rest of the walk; the rule's own alias, always cut alike from the top, serves later rules.
  if (walk.cuts == cuts) walk.done.emplace(name, out);
  if (walk.visiting.empty() && !walk.too_deep) alias_addrs_.emplace(name, out);
  return out;
}

Addrs Reader::ExpandAlias(const std::string& name, const std::string& path, RuleNotes& notes,
                          AddrWalk& walk) {
  Node alias = aliases_.at(name);
  std::string type = Text(alias.child("type"));
  std::vector<std::string> members = Split(Text(alias.child("address")), " ");
  Addrs out;
  if (type == "urltable" || (type == "url" && members.empty())) {
    Unknown(path, fmt::format("alias '{}' is filled from a URL at run time (not modelled)", name),
            notes);
    out.maybe = AllAddrsBothFamilies();
    out.why = fmt::format("the contents of alias '{}'", name);
  } else if (type != "host" && type != "network" && type != "url") {
    Unknown(path, fmt::format("alias '{}' of type '{}' as an address is not modelled", name, type),
            notes);
    out.maybe = AllAddrsBothFamilies();
    out.why = fmt::format("alias '{}'", name);
  }
  AddrSet::Ranges sure, maybe;
  for (const std::string& token : members) {
    Addrs set = MemberAddrs(token, path, notes, walk);
    sure.insert(sure.end(), set.sure.ranges().begin(), set.sure.ranges().end());
    maybe.insert(maybe.end(), set.maybe.ranges().begin(), set.maybe.ranges().end());
    if (!set.why.empty()) out.why = set.why;
  }
  out.sure = AddrSet::FromRanges(std::move(sure));
  out.maybe = out.maybe.Union(AddrSet::FromRanges(std::move(maybe))).Subtract(out.sure);
  return out;
}

// One member of a host or network alias: an address, a prefix, a range "a-b", another alias,
// or a host name that filterdns resolves (kept symbolic).
Addrs Reader::MemberAddrs(const std::string& token, const std::string& path, RuleNotes& notes,
                          AddrWalk& walk) {
  if (aliases_.count(token)) return AliasAddrs(token, path, notes, walk);
  if (auto p = Prefix::Parse(token)) return {AddrsOf(p->Network()), {}, ""};
  if (auto r = RangeAddrs(token)) return {*r, {}, ""};
  if (LooksLikeHostName(token)) {
    return {NameAddrsBothFamilies(fw_.policy.names.Intern(token)), {}, ""};
  }
  Unknown(path, fmt::format("alias member '{}' is not modelled", token), notes);
  return {{}, AllAddrsBothFamilies(), fmt::format("alias member '{}'", token)};
}

// A rule's <address>: an IP, a prefix, a range, an alias, or an IPv6 suffix merged with the
// interface's delegated prefix. A name that is none of these makes pfSense skip the rule.
Addrs Reader::AddressToken(const std::string& token, const std::string& path, RuleNotes& notes) {
  if (aliases_.count(token)) {
    AddrWalk walk;
    Addrs a = AliasAddrs(token, path, notes, walk);
    if (a.sure.empty() && a.maybe.empty()) {
      notes.never_why = fmt::format("alias '{}' is empty", token);
    }
    return a;
  }
  if (auto p = Prefix::Parse(token)) return {AddrsOf(p->Network()), {}, ""};
  if (auto r = RangeAddrs(token)) return {*r, {}, ""};
  if (token.starts_with("::")) {
    Unknown(path, fmt::format("IPv6 suffix '{}' of a delegated prefix is not modelled", token),
            notes);
    return {{}, AllRealAddrs(Family::kV6), "a delegated IPv6 prefix"};
  }
  Skip(path, fmt::format("alias '{}' does not exist", token), notes);
  return {};
}

// A <source> or <destination>: any, network or address, optionally negated.
Addrs Reader::Endpoint(Node n, const std::string& path, const std::vector<Family>& families,
                       RuleNotes& notes) {
  Addrs set;
  if (!n || n.child("any")) {
    set.sure = AllAddrsBothFamilies();
  } else if (Node net = n.child("network")) {
    set = NetworkToken(Text(net), path + "/network", families, notes);
  } else if (Node addr = n.child("address")) {
    std::string token = Text(addr);
    set = AddressToken(token, path + "/address", notes);
    // The GUI refuses an address of the other family; in a file, the rule matches nothing.
    auto literal = Prefix::Parse(token);
    if (literal && families.size() == 1 && literal->address.family != families.front() &&
        notes.never_why.empty()) {
      notes.never_why = fmt::format(
          "'{}' is an {} address in an {} rule (pfSense's GUI refuses this, and pfctl may "
          "refuse the whole ruleset)",
          token, FamilyLabel(literal->address.family), FamilyLabel(families.front()));
    }
  } else {
    Unknown(path, "an address that is neither any, network nor address is not modelled", notes);
    return {{}, AllAddrsBothFamilies(), "an address without a value"};
  }
  if (n && n.child("not")) {
    // not (sure or maybe): surely outside the most, maybe outside the sure part only.
    AddrSet all = AllAddrsBothFamilies();
    Addrs negated{all.Subtract(set.Most()), {}, set.why};
    negated.maybe = all.Subtract(set.sure).Subtract(negated.sure);
    return negated;
  }
  return set;
}

// ---- Services --------------------------------------------------------------------------------

std::optional<std::vector<PortSpan>> Reader::PortSpans(const std::string& text,
                                                       const std::string& path,
                                                       RuleNotes& notes) {
  PortWalk walk;
  return PortSpans(text, path, notes, walk);
}

std::optional<std::vector<PortSpan>> Reader::PortSpans(const std::string& text,
                                                       const std::string& path, RuleNotes& notes,
                                                       PortWalk& walk) {
  if (aliases_.count(text)) return PortAliasSpans(text, path, notes, walk);
  size_t sep = text.find_first_of("-:");
  auto first = ServicePort(text.substr(0, sep));
  auto last = sep == std::string::npos ? first : ServicePort(text.substr(sep + 1));
  if (first && last && *first <= *last) return std::vector<PortSpan>{{*first, *last}};
  // A number out of range is no port at all (pfctl refuses the whole ruleset, and the rules
  // loaded before stay in force), and the GUI writes no range that ends before it starts: the
  // file is wrong. A name is another matter: it may be a service this reader does not know.
  bool numeric = !text.empty() && text.find_first_not_of("0123456789-:") == std::string::npos;
  if (first && last) {
    Error(path, fmt::format("port range '{}' ends before it starts", text));
    notes.failed = true;
  } else if (numeric) {
    Error(path, fmt::format("'{}' is not a port or a range of ports from 0 to 65535", text));
    notes.failed = true;
  } else {
    Unknown(path, fmt::format("port '{}' is not modelled", text), notes);
  }
  return std::nullopt;
}

// The members of a port alias in their order, each span once (an alias reached along many
// paths would otherwise repeat its spans exponentially often).
std::optional<std::vector<PortSpan>> Reader::PortAliasSpans(const std::string& name,
                                                            const std::string& path,
                                                            RuleNotes& notes, PortWalk& walk) {
  if (auto done = walk.done.find(name); done != walk.done.end()) return done->second;
  Node alias = aliases_.at(name);
  std::string type = Text(alias.child("type"));
  if (type != "port" && type != "url_ports") {
    Unknown(path, fmt::format("alias '{}' of type '{}' as a port is not modelled", name, type),
            notes);
    return std::nullopt;
  }
  std::vector<std::string> members = Split(Text(alias.child("address")), " ");
  if (members.empty() && type == "url_ports") {
    Unknown(path, fmt::format("alias '{}' is filled from a URL at run time (not modelled)", name),
            notes);
    return std::nullopt;
  }
  if (!EnterAlias(name, path, notes, walk)) return std::vector<PortSpan>{};
  int cuts = walk.cuts;
  std::vector<PortSpan> out;
  std::set<std::pair<uint16_t, uint16_t>> seen;
  for (const std::string& token : members) {
    auto spans = PortSpans(token, path, notes, walk);
    if (!spans) {
      walk.visiting.erase(name);
      return std::nullopt;
    }
    for (const PortSpan& s : *spans) {
      if (seen.insert({s.first, s.last}).second) out.push_back(s);
    }
  }
  walk.visiting.erase(name);
  if (walk.cuts == cuts) walk.done.emplace(name, out);
  return out;
}

Services Reader::IcmpServices(Node rule, const std::string& path, Family f, RuleNotes& notes) {
  uint8_t number = f == Family::kV4 ? kProtoIcmp : kProtoIcmpV6;
  std::string types = Text(rule.child(f == Family::kV6 && rule.child("icmp6-type")
                                          ? "icmp6-type"
                                          : "icmptype"));
  if (types.empty() || types == "any") return {Proto(number), {}, ""};
  Services out;
  for (const std::string& name : Split(types, ",")) {
    auto type = IcmpTypeNumber(name, f);
    if (!type) {
      Unknown(path + "/icmptype", fmt::format("icmp type '{}' is not modelled", name), notes);
      return {{}, Proto(number), "an icmp type"};
    }
    out.sure = out.sure.Union(IcmpType(number, *type));
  }
  return out;
}

// tcp, udp or both, limited to the destination port when one is given.
Services Reader::PortServices(const std::string& proto, const std::string& port,
                              const std::string& path, RuleNotes& notes) {
  std::vector<uint8_t> protos;
  if (proto != "udp") protos.push_back(kProtoTcp);
  if (proto != "tcp") protos.push_back(kProtoUdp);
  ServiceSet whole;
  for (uint8_t n : protos) whole = whole.Union(Proto(n));
  if (port.empty() || port == "any") return {whole, {}, ""};
  auto spans = PortSpans(port, path + "/destination/port", notes);
  if (!spans) return {{}, whole, "the ports"};
  Services out;
  for (uint8_t n : protos) {
    for (const PortSpan& s : *spans) out.sure = out.sure.Union(Ports(n, s.first, s.last));
  }
  return out;
}

Services Reader::RuleServices(Node rule, const std::string& path, Family f, RuleNotes& notes) {
  std::string proto = Text(rule.child("protocol"));
  std::string port = Text(rule.child("destination").child("port"));
  if (proto == "tcp" || proto == "udp" || proto == "tcp/udp") {
    return PortServices(proto, port, path, notes);
  }
  // pfSense turns a port without a protocol into "proto tcp" without the port.
  if (proto.empty() || proto == "any") {
    return {port.empty() ? AllServices() : Proto(kProtoTcp), {}, ""};
  }
  if (proto == "icmp" || proto == "icmp6" || proto == "ipv6-icmp") {
    return IcmpServices(rule, path, f, notes);
  }
  if (auto number = ProtocolNumber(proto)) {
    if (*number == 132 && !port.empty() && port != "any") {
      auto spans = PortSpans(port, path + "/destination/port", notes);
      if (!spans) return {{}, Proto(132), "the ports"};
      Services out;
      for (const PortSpan& s : *spans) out.sure = out.sure.Union(Ports(132, s.first, s.last));
      return out;
    }
    return {Proto(*number), {}, ""};
  }
  Unknown(path + "/protocol", fmt::format("protocol '{}' is not modelled", proto), notes);
  return {{}, AllServices(), "the protocol"};
}

std::vector<Family> Reader::RuleFamilies(Node rule, const std::string& path, RuleNotes& notes) {
  std::string p = Text(rule.child("ipprotocol"));
  if (p.empty() || p == "inet") return {Family::kV4};
  if (p == "inet6") return {Family::kV6};
  if (p == "inet46") return {Family::kV4, Family::kV6};
  Error(path + "/ipprotocol", fmt::format("unknown ipprotocol '{}'", p));
  notes.failed = true;
  return {};
}

// The match of a rule, family by family. An interface network without an address of one
// family leaves that family out, as pfSense does.
Maybe<PacketSet> Reader::RuleMatch(Node rule, const std::string& path,
                                   const std::vector<Family>& families, RuleNotes& notes) {
  Addrs src = Endpoint(rule.child("source"), path + "/source", families, notes);
  Addrs dst = Endpoint(rule.child("destination"), path + "/destination", families, notes);
  Maybe<PacketSet> out;
  for (Family f : families) {
    Services svc = RuleServices(rule, path, f, notes);
    AddrSet family = AllAddrs(f);
    out.sure = out.sure.Union(PacketSet::Of(src.sure.Intersect(family),
                                            dst.sure.Intersect(family), svc.sure));
    PacketSet most = PacketSet::Of(src.Most().Intersect(family), dst.Most().Intersect(family),
                                   svc.Most());
    out.maybe = out.maybe.Union(most);
  }
  out.maybe = out.maybe.Subtract(out.sure);
  return out;
}

// What a report calls the rule: its description, else its tracker.
std::string Reader::RuleText(Node rule) const {
  std::string descr = Text(rule.child("descr"));
  if (!descr.empty()) return descr;
  std::string tracker = Text(rule.child("tracker"));
  return tracker.empty() ? "" : "rule with tracker " + tracker;
}

bool Reader::Read(const std::string& text) {
  pugi::xml_document doc;
  pugi::xml_parse_result parsed = doc.load_string(text.c_str());
  if (!parsed) {
    MalformedXml(file_, text, parsed, diags_);
    return false;
  }
  Node root = doc.child("pfsense");
  if (!root) root = doc.child("opnsense");
  if (!root) {
    Error(doc.document_element().name(),
          "not a pfSense or OPNsense configuration (no 'pfsense' or 'opnsense' root)");
    return false;
  }
  opnsense_ = std::string(root.name()) == "opnsense";
  size_t first_diag = diags_.list().size();

  NoteUnknownSections(root);
  ReadInterfaces(root);
  ReadVirtualIps(root);
  ReadGroups(root);
  ReadReservations(root);
  ReadAliases(root);
  ReadAdminServices(root);
  gateways_ = root.child("gateways");
  PublishInterfaces();
  AddAutomaticRules(root);
  ReadFilter(root);
  ReadNat(root);
  Assemble();
  if (Flag(root.child("system"), "disablefilter")) SwitchFilterOff();
  fw_.wan = DefaultWan(root);
  return !HasErrorsSince(diags_, first_diag);
}

}  // namespace pfsense

// Shared with the renderer (render/pfsense.cc), so that both spell ICMP types alike.
std::string PfsenseIcmpTypeName(int type) {
  for (const pfsense::IcmpName& entry : pfsense::kIcmpV4Names) {
    if (entry.type == type) return entry.name;
  }
  return std::to_string(type);
}

namespace {

// Why `path` cannot be read, in the VirtualBox reader's words; `error` is the errno of the
// failed read, for what the file's status does not tell.
std::string WhyUnreadable(const std::string& path, int error) {
  std::error_code ec;
  std::filesystem::file_status st = std::filesystem::status(path, ec);
  if (!std::filesystem::exists(st)) return "no such file or folder";
  if (std::filesystem::is_directory(st)) return "is a folder";
  std::string text = std::strerror(error);
  if (!text.empty()) text[0] = static_cast<char>(std::tolower(static_cast<unsigned char>(text[0])));
  return text;
}

}  // namespace

const FirewallInterface* FirewallView::FindInterface(std::string_view name) const {
  for (const FirewallInterface& i : interfaces) {
    if (i.name == name) return &i;
  }
  return nullptr;
}

bool ReadPfsenseFirewall(const std::string& config_xml, FirewallView& fw, Diagnostics& diags,
                         Unmodelled unmodelled) {
  std::string text;
  if (!ReadWholeFile(config_xml, text)) {
    int error = errno;
    diags.Error(config_xml, {},
                fmt::format("cannot read the file ({})", WhyUnreadable(config_xml, error)));
    return false;
  }
  return pfsense::Reader(config_xml, fw, diags, unmodelled).Read(text);
}

}  // namespace bulkhead
