// SPDX-License-Identifier: Apache-2.0
// Reads a pfSense config.xml into a FirewallView: interfaces, DHCP reservations and the packet
// filter as first-match chains. pf's own order is rebuilt: state first, then pfSense's automatic
// quick rules, floating quick rules, group rules, interface rules, non-quick floating rules
// (reversed, because pf lets the last of them win) and the default deny. Whatever changes a
// verdict and is not modelled becomes an error naming its element path, never a silent guess.
#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <map>
#include <optional>
#include <pugixml.hpp>
#include <set>
#include <string>
#include <vector>

#include "import/artifacts.h"
#include "util/atomic_file.h"

namespace bulkhead {
namespace {

using Node = pugi::xml_node;

struct Iface {
  std::string key;     // "lan", "opt1"
  std::string device;  // "vtnet1"
  std::vector<Prefix> addresses;
  bool dynamic_v4 = false;  // dhcp, pppoe, ...: the address is only known at run time
  bool dynamic_v6 = false;
};

struct PortSpan {
  uint16_t first = 0, last = 0;
};

// The rules of one evaluation bucket, before they are placed into chains.
struct Bucketed {
  std::vector<PolicyRule> automatic;  // pfSense's own quick rules
  std::vector<PolicyRule> floating_quick;
  std::vector<PolicyRule> group;
  std::vector<PolicyRule> iface;
  std::vector<PolicyRule> floating_last;  // non-quick: last match wins
  std::vector<PolicyRule> outbound;       // floating rules filtering traffic leaving on oif
};

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

std::optional<int> ParseInt(const std::string& s, int max) {
  if (s.empty() || s.size() > 6) return std::nullopt;
  int v = 0;
  for (char c : s) {
    if (!std::isdigit(static_cast<unsigned char>(c))) return std::nullopt;
    v = v * 10 + (c - '0');
  }
  if (v > max) return std::nullopt;
  return v;
}

// vtnetN and emN are the devices VirtualBox adapters appear as; adapter numbers are 1-based.
int SlotOf(const std::string& device) {
  for (const char* prefix : {"vtnet", "em"}) {
    std::string p = prefix;
    if (device.rfind(p, 0) != 0) continue;
    if (auto n = ParseInt(device.substr(p.size()), 4095)) return *n + 1;
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
  if (auto n = ParseInt(name, 255)) return static_cast<uint8_t>(*n);
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
  if (it == kNumbers.end()) return std::nullopt;
  return it->second;
}

std::optional<uint16_t> ServicePort(const std::string& name) {
  static const std::map<std::string, uint16_t> kPorts = {
      {"ftp", 21},   {"ssh", 22},    {"telnet", 23},      {"smtp", 25},   {"domain", 53},
      {"http", 80},  {"pop3", 110},  {"ntp", 123},        {"imap", 143},  {"snmp", 161},
      {"ldap", 389}, {"https", 443}, {"submission", 587}, {"imaps", 993}, {"pop3s", 995}};
  if (auto n = ParseInt(name, 65535)) return static_cast<uint16_t>(*n);
  auto it = kPorts.find(name);
  if (it == kPorts.end()) return std::nullopt;
  return it->second;
}

// The line and column of a byte offset, for parse errors.
SourceLoc LocAt(const std::string& text, ptrdiff_t offset) {
  SourceLoc loc{1, 1};
  for (ptrdiff_t i = 0; i < offset && i < static_cast<ptrdiff_t>(text.size()); ++i) {
    if (text[i] == '\n') {
      ++loc.line;
      loc.column = 1;
    } else {
      ++loc.column;
    }
  }
  return loc;
}

bool HasErrorsSince(const Diagnostics& diags, size_t first) {
  const auto& list = diags.list();
  return std::any_of(list.begin() + first, list.end(),
                     [](const Diagnostic& d) { return d.severity == Severity::kError; });
}

PolicyRule MakeRule(Action action, PacketSet match, Provenance origin) {
  PolicyRule r;
  r.action = action;
  r.match = std::move(match);
  r.origin = std::move(origin);
  return r;
}

class PfsenseReader {
 public:
  PfsenseReader(std::string file, FirewallView& fw, Diagnostics& diags)
      : file_(std::move(file)), fw_(fw), diags_(diags) {}

  bool Read(const std::string& text);

 private:
  // pfSense marks flags by presence; OPNsense writes 1/0.
  bool Flag(Node parent, const char* name) const {
    Node n = parent.child(name);
    if (!n) return false;
    if (!opnsense_) return true;
    std::string v = Text(n);
    return !v.empty() && v != "0";
  }
  void Error(const std::string& path, std::string message) {
    diags_.ErrorAt(file_, path, std::move(message));
  }
  void Warning(const std::string& path, std::string message) {
    diags_.Add({Severity::kWarning, file_, {}, path, std::move(message)});
  }
  Provenance Origin(const std::string& path, std::string text) const {
    return {file_, 0, path, std::move(text)};
  }
  const Iface* FindIface(const std::string& key) const {
    for (const Iface& i : ifaces_) {
      if (i.key == key) return &i;
    }
    return nullptr;
  }

  void ReadInterfaces(Node root);
  void ReadInterface(Node n, const std::string& path);
  void ReadVirtualIps(Node root);
  void ReadGroups(Node root);
  void ReadReservations(Node root);
  void ReadAliases(Node root);
  void NoteUnmodelled(Node root);

  void AddAutomaticRules(Node root, Bucketed& b);
  void AddIpv6Block(Node root, Bucketed& b);
  void AddAntiLockout(Node root, Bucketed& b);
  void AddDhcpServerRules(Node root, Bucketed& b);
  void AddBlockPrivate(Bucketed& b, const Iface& i, const std::string& path);

  struct RulePlace {
    std::string direction;  // "in", "out", or "" / "any" for both
    bool quick = true;
  };
  RulePlace PlaceOf(Node rule, bool floating) const;
  std::string RuleText(Node rule) const;
  void ReadRules(Node root, Bucketed& b);
  void ReadRule(Node rule, const std::string& path, Bucketed& b);
  std::optional<IfaceMatch> RuleInterfaces(Node rule, const std::string& path, bool floating);
  std::optional<Action> RuleAction(Node rule, const std::string& path);
  std::vector<Family> RuleFamilies(Node rule, const std::string& path);
  bool CheckUnmodelledOptions(Node rule, const std::string& path);
  std::optional<PacketSet> RuleMatch(Node rule, const std::string& path,
                                     const std::vector<Family>& families);

  std::optional<AddrSet> Endpoint(Node n, const std::string& path,
                                  const std::vector<Family>& families);
  std::optional<AddrSet> NetworkToken(const std::string& token, const std::string& path,
                                      const std::vector<Family>& families);
  std::optional<AddrSet> AddressToken(const std::string& token, const std::string& path,
                                      std::set<std::string>& visiting);
  std::optional<AddrSet> AliasAddrs(const std::string& name, const std::string& path,
                                    std::set<std::string>& visiting);
  std::optional<ServiceSet> Services(Node rule, const std::string& path, Family f);
  std::optional<ServiceSet> IcmpServices(Node rule, const std::string& path, Family f);
  std::optional<ServiceSet> PortServices(const std::string& proto, const std::string& port,
                                         const std::string& path);
  std::optional<std::vector<PortSpan>> PortSpans(const std::string& text, const std::string& path,
                                                 std::set<std::string>& visiting);
  AddrSet SelfAddrs() const;

  void Assemble(Bucketed& b);

  std::string file_;
  FirewallView& fw_;
  Diagnostics& diags_;
  bool opnsense_ = false;
  std::vector<Iface> ifaces_;                               // enabled interfaces only
  std::map<std::string, std::vector<std::string>> groups_;  // interface groups: members
  std::map<std::string, Node> aliases_;
  std::map<std::string, AddrSet> alias_addrs_;  // whole expansions, by alias name
};

// ---- Interfaces, groups, reservations --------------------------------------------------------

void PfsenseReader::ReadInterfaces(Node root) {
  for (Node n : root.child("interfaces").children()) {
    if (n.type() != pugi::node_element) continue;
    std::string path = fmt::format("interfaces/{}", n.name());
    if (!Flag(n, "enable")) continue;  // pfSense loads no rule of a disabled interface
    ReadInterface(n, path);
  }
}

void PfsenseReader::ReadInterface(Node n, const std::string& path) {
  Iface i{n.name(), Text(n.child("if")), {}, false, false};
  std::string v4 = Text(n.child("ipaddr"));
  std::string v6 = Text(n.child("ipaddrv6"));
  if (auto a = IpAddress::Parse(v4); a && a->family == Family::kV4) {
    auto len = ParseInt(Text(n.child("subnet")), 32);
    if (!len) Error(path + "/subnet", fmt::format("invalid prefix length for '{}'", i.key));
    i.addresses.push_back({*a, len.value_or(32)});
  } else {
    i.dynamic_v4 = !v4.empty() && v4 != "none";
  }
  if (auto a = IpAddress::Parse(v6); a && a->family == Family::kV6) {
    auto len = ParseInt(Text(n.child("subnetv6")), 128);
    if (!len) Error(path + "/subnetv6", fmt::format("invalid prefix length for '{}'", i.key));
    i.addresses.push_back({*a, len.value_or(128)});
  } else {
    i.dynamic_v6 = !v6.empty() && v6 != "none";
  }
  ifaces_.push_back(i);
  fw_.interfaces.push_back({i.key, SlotOf(i.device), "", i.addresses});
}

// Virtual IPs are more addresses of their interface: part of its network and of (self).
void PfsenseReader::ReadVirtualIps(Node root) {
  int index = 0;
  for (Node vip : root.child("virtualip").children("vip")) {
    std::string path = fmt::format("virtualip/vip[{}]", ++index);
    std::string key = Text(vip.child("interface"));
    auto a = IpAddress::Parse(Text(vip.child("subnet")));
    auto len = ParseInt(Text(vip.child("subnet_bits")), 128);
    auto it =
        std::find_if(ifaces_.begin(), ifaces_.end(), [&](const Iface& i) { return i.key == key; });
    if (it == ifaces_.end()) continue;
    if (!a || !len) {
      Error(path, "virtual IP without a literal address (not modelled)");
      continue;
    }
    it->addresses.push_back({*a, *len});
  }
}

void PfsenseReader::ReadGroups(Node root) {
  for (Node g : root.child("ifgroups").children("ifgroupentry")) {
    groups_[Text(g.child("ifname"))] = Split(Text(g.child("members")), " ");
  }
}

void PfsenseReader::ReadReservations(Node root) {
  for (Node n : root.child("dhcpd").children()) {
    if (n.type() != pugi::node_element || !FindIface(n.name())) continue;
    for (Node map : n.children("staticmap")) {
      auto a = IpAddress::Parse(Text(map.child("ipaddr")));
      std::string mac = VirtualBoxMac(Text(map.child("mac")));
      if (a && mac.size() == 12) fw_.reservations.push_back({mac, *a});
    }
  }
}

void PfsenseReader::ReadAliases(Node root) {
  for (Node a : root.child("aliases").children("alias")) aliases_[Text(a.child("name"))] = a;
}

// Sections that change reachability but that this reader does not evaluate.
void PfsenseReader::NoteUnmodelled(Node root) {
  Node nat = root.child("nat");
  int index = 0;
  for (Node r : nat.children("rule")) {
    ++index;
    if (!Flag(r, "disabled")) {
      Warning(fmt::format("nat/rule[{}]", index), "port forward is not modelled");
    }
  }
  index = 0;
  for (Node r : nat.children("onetoone")) {
    ++index;
    if (!Flag(r, "disabled")) {
      Warning(fmt::format("nat/onetoone[{}]", index), "1:1 NAT is not modelled");
    }
  }
}

// ---- Addresses -------------------------------------------------------------------------------

AddrSet PfsenseReader::SelfAddrs() const {
  AddrSet::Ranges ranges;
  for (const Iface& i : ifaces_) {
    for (const Prefix& p : i.addresses) {
      AddrSet one = AddrsOf(p.address);
      ranges.insert(ranges.end(), one.ranges().begin(), one.ranges().end());
    }
  }
  return AddrSet::FromRanges(std::move(ranges));
}

// <network>: an interface's subnet ("opt1"), its address ("opt1ip"), (self), or a group.
std::optional<AddrSet> PfsenseReader::NetworkToken(const std::string& token,
                                                   const std::string& path,
                                                   const std::vector<Family>& families) {
  if (token == "(self)") return SelfAddrs();
  bool ip = token.size() > 2 && token.ends_with("ip");
  std::string key = ip ? token.substr(0, token.size() - 2) : token;
  std::vector<std::string> keys = {key};
  if (!ip && groups_.count(token)) keys = groups_[token];
  if (!FindIface(keys.front()) && !groups_.count(token)) {
    Error(path, fmt::format("unknown interface network '{}' (not modelled)", token));
    return std::nullopt;
  }
  AddrSet out;
  for (const std::string& k : keys) {
    const Iface* i = FindIface(k);
    if (!i) continue;
    for (Family f : families) {
      bool dynamic = f == Family::kV4 ? i->dynamic_v4 : i->dynamic_v6;
      if (dynamic) {
        Error(path, fmt::format("the address of '{}' is assigned at run time (not modelled)", k));
        return std::nullopt;
      }
    }
    for (const Prefix& p : i->addresses) {
      out = out.Union(ip ? AddrsOf(p.address) : AddrsOf(p.Network()));
    }
  }
  return out;
}

std::optional<AddrSet> PfsenseReader::AliasAddrs(const std::string& name, const std::string& path,
                                                 std::set<std::string>& visiting) {
  if (auto done = alias_addrs_.find(name); done != alias_addrs_.end()) return done->second;
  if (!visiting.insert(name).second) return AddrSet();  // pfSense cuts cycles
  Node alias = aliases_[name];
  std::string type = Text(alias.child("type"));
  if (type != "host" && type != "network") {
    Error(path, fmt::format("alias '{}' of type '{}' as an address (not modelled)", name, type));
    return std::nullopt;
  }
  AddrSet::Ranges ranges;
  for (const std::string& token : Split(Text(alias.child("address")), " ")) {
    auto set = AddressToken(token, path, visiting);
    if (!set) return std::nullopt;
    ranges.insert(ranges.end(), set->ranges().begin(), set->ranges().end());
  }
  visiting.erase(name);
  AddrSet out = AddrSet::FromRanges(std::move(ranges));
  // Only a whole expansion is kept: one cut short by a cycle depends on where it started.
  if (visiting.empty()) alias_addrs_.emplace(name, out);
  return out;
}

// An IP, a prefix, a range "a-b", an alias name, or a host name kept symbolic.
std::optional<AddrSet> PfsenseReader::AddressToken(const std::string& token,
                                                   const std::string& path,
                                                   std::set<std::string>& visiting) {
  if (aliases_.count(token)) return AliasAddrs(token, path, visiting);
  if (auto p = Prefix::Parse(token)) return AddrsOf(p->Network());
  if (size_t dash = token.find('-'); dash != std::string::npos) {
    auto a = IpAddress::Parse(token.substr(0, dash));
    auto b = IpAddress::Parse(token.substr(dash + 1));
    if (a && b && a->family == b->family && *a <= *b) {
      return AddrSet(AddrsOf(*a).ranges().front().first, AddrsOf(*b).ranges().front().last);
    }
  }
  if (token.find('.') != std::string::npos && !token.starts_with("::")) {
    return NameAddrsBothFamilies(fw_.policy.names.Intern(token));
  }
  Error(path, fmt::format("unknown alias '{}' (pfSense drops the rule; not modelled)", token));
  return std::nullopt;
}

// A <source> or <destination>: any, network or address, optionally negated.
std::optional<AddrSet> PfsenseReader::Endpoint(Node n, const std::string& path,
                                               const std::vector<Family>& families) {
  std::optional<AddrSet> set;
  if (!n || n.child("any")) {
    set = AllAddrsBothFamilies();
  } else if (Node net = n.child("network")) {
    set = NetworkToken(Text(net), path + "/network", families);
  } else if (Node addr = n.child("address")) {
    std::set<std::string> visiting;
    set = AddressToken(Text(addr), path + "/address", visiting);
  } else {
    Error(path, "no address given (not modelled)");
    return std::nullopt;
  }
  if (set && n && n.child("not")) set = AllAddrsBothFamilies().Subtract(*set);
  return set;
}

// ---- Services --------------------------------------------------------------------------------

std::optional<std::vector<PortSpan>> PfsenseReader::PortSpans(const std::string& text,
                                                              const std::string& path,
                                                              std::set<std::string>& visiting) {
  if (aliases_.count(text)) {
    Node alias = aliases_[text];
    if (Text(alias.child("type")) != "port") {
      Error(path, fmt::format("alias '{}' is not a port alias (not modelled)", text));
      return std::nullopt;
    }
    std::vector<PortSpan> out;
    if (!visiting.insert(text).second) return out;
    for (const std::string& token : Split(Text(alias.child("address")), " ")) {
      auto spans = PortSpans(token, path, visiting);
      if (!spans) return std::nullopt;
      out.insert(out.end(), spans->begin(), spans->end());
    }
    return out;
  }
  size_t sep = text.find_first_of("-:");
  auto first = ServicePort(text.substr(0, sep));
  auto last = sep == std::string::npos ? first : ServicePort(text.substr(sep + 1));
  if (!first || !last || *last < *first) {
    Error(path, fmt::format("invalid port '{}'", text));
    return std::nullopt;
  }
  return std::vector<PortSpan>{{*first, *last}};
}

std::optional<ServiceSet> PfsenseReader::IcmpServices(Node rule, const std::string& path,
                                                      Family f) {
  uint8_t number = f == Family::kV4 ? kProtoIcmp : kProtoIcmpV6;
  std::string types = Text(rule.child("icmptype"));
  if (types.empty() || types == "any") return Proto(number);
  ServiceSet out;
  for (const std::string& name : Split(types, ",")) {
    auto type = IcmpTypeNumber(name, f);
    if (!type) {
      Error(path + "/icmptype", fmt::format("unknown icmp type '{}'", name));
      return std::nullopt;
    }
    out = out.Union(IcmpType(number, *type));
  }
  return out;
}

// tcp, udp or both, limited to the destination port when one is given.
std::optional<ServiceSet> PfsenseReader::PortServices(const std::string& proto,
                                                      const std::string& port,
                                                      const std::string& path) {
  std::vector<PortSpan> spans = {{0, 65535}};
  if (!port.empty() && port != "any") {
    std::set<std::string> visiting;
    auto parsed = PortSpans(port, path + "/destination/port", visiting);
    if (!parsed) return std::nullopt;
    spans = *parsed;
  }
  ServiceSet out;
  for (uint8_t n : {kProtoTcp, kProtoUdp}) {
    if ((n == kProtoTcp && proto == "udp") || (n == kProtoUdp && proto == "tcp")) continue;
    for (const PortSpan& s : spans) out = out.Union(Ports(n, s.first, s.last));
  }
  return out;
}

std::optional<ServiceSet> PfsenseReader::Services(Node rule, const std::string& path, Family f) {
  std::string proto = Text(rule.child("protocol"));
  std::string port = Text(rule.child("destination").child("port"));
  if (proto == "tcp" || proto == "udp" || proto == "tcp/udp") {
    return PortServices(proto, port, path);
  }
  // pfSense turns a port without a protocol into "proto tcp" without the port.
  if (proto.empty() || proto == "any") return port.empty() ? AllServices() : Proto(kProtoTcp);
  if (proto == "icmp") return IcmpServices(rule, path, f);
  if (auto number = ProtocolNumber(proto)) return Proto(*number);
  Error(path + "/protocol", fmt::format("unknown protocol '{}'", proto));
  return std::nullopt;
}

// ---- Rules -----------------------------------------------------------------------------------

std::optional<Action> PfsenseReader::RuleAction(Node rule, const std::string& path) {
  std::string type = Text(rule.child("type"));
  if (type == "block") return Action::kDrop;
  if (type == "reject") return Action::kReject;
  if (type == "match") return std::nullopt;  // tags or queues; never decides
  // pfSense writes the filter rule of a port forward without a type: a pass.
  if (!type.empty() && type != "pass")
    Warning(path + "/type", fmt::format("type '{}' is taken as pass", type));
  return Action::kAccept;
}

std::vector<Family> PfsenseReader::RuleFamilies(Node rule, const std::string& path) {
  std::string p = Text(rule.child("ipprotocol"));
  if (p.empty() || p == "inet") return {Family::kV4};
  if (p == "inet6") return {Family::kV6};
  if (p == "inet46") return {Family::kV4, Family::kV6};
  Error(path + "/ipprotocol", fmt::format("unknown ipprotocol '{}'", p));
  return {};
}

std::optional<IfaceMatch> PfsenseReader::RuleInterfaces(Node rule, const std::string& path,
                                                        bool floating) {
  std::string text = Text(rule.child("interface"));
  if (floating && (text.empty() || text == "any")) return IfaceMatch{};
  IfaceMatch m;
  for (const std::string& key : Split(text, ",")) {
    if (FindIface(key)) {
      m.names.push_back(key);
    } else if (groups_.count(key)) {
      for (const std::string& member : groups_[key]) {
        if (FindIface(member)) m.names.push_back(member);
      }
    } else if (key == "openvpn" || key == "enc0" || key == "l2tp" || key == "pppoe") {
      Error(path + "/interface", fmt::format("rules of the '{}' tab are not modelled", key));
    } else {
      Warning(path + "/interface",
              fmt::format("interface '{}' is disabled or missing: pfSense skips the rule", key));
    }
  }
  if (m.names.empty()) return std::nullopt;
  return m;
}

// Options that add match conditions or make a rule come and go: not evaluated here.
bool PfsenseReader::CheckUnmodelledOptions(Node rule, const std::string& path) {
  bool ok = true;
  for (const char* name : {"sched", "tagged", "os", "dscp", "vlanprio"}) {
    if (!Text(rule.child(name)).empty()) {
      Error(path + "/" + name, fmt::format("rule option '{}' is not modelled", name));
      ok = false;
    }
  }
  std::string sport = Text(rule.child("source").child("port"));
  if (!sport.empty() && sport != "any") {
    Error(path + "/source/port", "source ports are not modelled");
    ok = false;
  }
  if (Text(rule.child("statetype")) == "none") {
    Error(path + "/statetype", "rules without state are not modelled");
    ok = false;
  }
  if (!Text(rule.child("gateway")).empty()) {
    Warning(path + "/gateway", "policy routing is not modelled (the verdict still holds)");
  }
  return ok;
}

std::optional<PacketSet> PfsenseReader::RuleMatch(Node rule, const std::string& path,
                                                  const std::vector<Family>& families) {
  auto src = Endpoint(rule.child("source"), path + "/source", families);
  auto dst = Endpoint(rule.child("destination"), path + "/destination", families);
  if (!src || !dst) return std::nullopt;
  PacketSet out;
  for (Family f : families) {
    auto svc = Services(rule, path, f);
    if (!svc) return std::nullopt;
    AddrSet family = AllAddrs(f);
    out = out.Union(PacketSet::Of(src->Intersect(family), dst->Intersect(family), *svc));
  }
  return out;
}

void PfsenseReader::ReadRule(Node rule, const std::string& path, Bucketed& b) {
  if (Flag(rule, "disabled")) return;
  bool floating = Flag(rule, "floating") && Text(rule.child("floating")) != "no";
  auto action = RuleAction(rule, path);
  auto ifaces = RuleInterfaces(rule, path, floating);
  std::vector<Family> families = RuleFamilies(rule, path);
  bool options_ok = CheckUnmodelledOptions(rule, path);
  if (families.empty()) return;
  auto match = RuleMatch(rule, path, families);  // reports its errors even when others failed
  if (!action || !ifaces || !options_ok || !match) return;

  PolicyRule r = MakeRule(*action, std::move(*match), Origin(path, RuleText(rule)));
  RulePlace place = PlaceOf(rule, floating);
  if (place.direction != "in") {
    PolicyRule out = r;
    out.oif = *ifaces;
    b.outbound.push_back(std::move(out));
  }
  if (place.direction == "out") return;
  r.iif = *ifaces;
  bool group = groups_.count(Text(rule.child("interface"))) > 0;
  if (!place.quick) {
    b.floating_last.push_back(std::move(r));
  } else if (floating) {
    b.floating_quick.push_back(std::move(r));
  } else {
    (group ? b.group : b.iface).push_back(std::move(r));
  }
}

// pfSense: interface rules are always "in quick"; floating rules choose both. OPNsense lets
// interface rules choose too, and defaults them to "in quick".
PfsenseReader::RulePlace PfsenseReader::PlaceOf(Node rule, bool floating) const {
  std::string direction = Text(rule.child("direction"));
  if (!floating) {
    if (!opnsense_) return {"in", true};
    bool quick = !rule.child("quick") || Flag(rule, "quick");
    return {direction.empty() ? "in" : direction, quick};
  }
  return {direction, Flag(rule, "quick")};
}

// What a report calls the rule: its description, else its tracker.
std::string PfsenseReader::RuleText(Node rule) const {
  std::string descr = Text(rule.child("descr"));
  if (!descr.empty()) return descr;
  std::string tracker = Text(rule.child("tracker"));
  return tracker.empty() ? "" : "rule with tracker " + tracker;
}

void PfsenseReader::ReadRules(Node root, Bucketed& b) {
  int index = 0;
  for (Node rule : root.child("filter").children("rule")) {
    ReadRule(rule, fmt::format("filter/rule[{}]", ++index), b);
  }
}

// ---- pfSense's automatic rules ---------------------------------------------------------------

// Without system/ipv6allow pfSense drops all IPv6 before any user rule.
void PfsenseReader::AddIpv6Block(Node root, Bucketed& b) {
  if (Flag(root.child("system"), "ipv6allow")) return;
  AddrSet v6 = AllAddrs(Family::kV6);
  b.automatic.push_back(MakeRule(Action::kDrop, PacketSet::Of(v6, v6, AllServices()),
                                 Origin("system/ipv6allow", "pfSense blocks IPv6 (not allowed)")));
}

// The GUI (and SSH when enabled) on the LAN address, unless system/webgui/noantilockout.
void PfsenseReader::AddAntiLockout(Node root, Bucketed& b) {
  Node system = root.child("system");
  Node webgui = system.child("webgui");
  if (Flag(webgui, "noantilockout")) return;
  std::string on = ifaces_.size() > 1 ? "lan" : "wan";
  const Iface* i = FindIface(on);
  if (!i) return;
  bool https = Text(webgui.child("protocol")) != "http";
  int gui = ParseInt(Text(webgui.child("port")), 65535).value_or(https ? 443 : 80);
  ServiceSet svc = Ports(kProtoTcp, gui, gui);
  if (https && gui != 80 && !Flag(webgui, "disablehttpredirect")) {
    svc = svc.Union(Ports(kProtoTcp, 80, 80));
  }
  if (Flag(system.child("ssh"), "enable")) {
    int ssh = ParseInt(Text(system.child("ssh").child("port")), 65535).value_or(22);
    svc = svc.Union(Ports(kProtoTcp, ssh, ssh));
  }
  AddrSet own;
  for (const Prefix& p : i->addresses) own = own.Union(AddrsOf(p.address));
  PolicyRule r = MakeRule(Action::kAccept, PacketSet::Of(AllAddrsBothFamilies(), own, svc),
                          Origin("system/webgui", "pfSense anti-lockout rule"));
  r.iif.names = {on};
  b.automatic.push_back(std::move(r));
}

// An enabled DHCP server opens udp 67 on its interface, to broadcast and to its address.
void PfsenseReader::AddDhcpServerRules(Node root, Bucketed& b) {
  for (Node n : root.child("dhcpd").children()) {
    const Iface* i = FindIface(n.name());
    if (n.type() != pugi::node_element || !i || !Flag(n, "enable")) continue;
    AddrSet dst = AddrsOf(*IpAddress::Parse("255.255.255.255"));
    for (const Prefix& p : i->addresses) {
      if (p.address.family == Family::kV4) dst = dst.Union(AddrsOf(p.address));
    }
    PolicyRule r = MakeRule(Action::kAccept,
                            PacketSet::Of(AllAddrs(Family::kV4), dst, Ports(kProtoUdp, 67, 67)),
                            Origin(fmt::format("dhcpd/{}", i->key), "pfSense DHCP server"));
    r.iif.names = {i->key};
    b.automatic.push_back(std::move(r));
  }
}

void PfsenseReader::AddBlockPrivate(Bucketed& b, const Iface& i, const std::string& path) {
  AddrSet priv;
  for (const char* p :
       {"10.0.0.0/8", "127.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "fc00::/7"}) {
    priv = priv.Union(AddrsOf(*Prefix::Parse(p)));
  }
  PolicyRule r = MakeRule(Action::kDrop, PacketSet::Of(priv, AllAddrsBothFamilies(), AllServices()),
                          Origin(path, "pfSense blocks private networks"));
  r.iif.names = {i.key};
  b.automatic.push_back(std::move(r));
}

void PfsenseReader::AddAutomaticRules(Node root, Bucketed& b) {
  AddIpv6Block(root, b);
  if (!Flag(root.child("system"), "no_apipa_block")) {
    AddrSet apipa = AddrsOf(*Prefix::Parse("169.254.0.0/16"));
    AddrSet all = AllAddrsBothFamilies();
    PacketSet m =
        PacketSet::Of(apipa, all, AllServices()).Union(PacketSet::Of(all, apipa, AllServices()));
    b.automatic.push_back(
        MakeRule(Action::kDrop, m, Origin("system", "pfSense blocks link-local")));
  }
  ServiceSet port0 = Ports(kProtoTcp, 0, 0).Union(Ports(kProtoUdp, 0, 0));
  b.automatic.push_back(
      MakeRule(Action::kDrop, PacketSet::Of(AllAddrsBothFamilies(), AllAddrsBothFamilies(), port0),
               Origin("filter", "pfSense blocks port 0")));
  for (const Iface& i : ifaces_) {
    std::string path = fmt::format("interfaces/{}", i.key);
    Node n = root.child("interfaces").child(i.key.c_str());
    if (Flag(n, "blockpriv")) AddBlockPrivate(b, i, path + "/blockpriv");
    if (Flag(n, "blockbogons")) Warning(path + "/blockbogons", "the bogons table is not modelled");
  }
  AddDhcpServerRules(root, b);
  AddAntiLockout(root, b);
}

// ---- Chains ----------------------------------------------------------------------------------

void PfsenseReader::Assemble(Bucketed& b) {
  Policy& p = fw_.policy;
  p.engine = "pfsense";
  PolicyRule state = MakeRule(Action::kAccept, PacketSet::All(), Origin("", "pfSense keeps state"));
  state.state = StateMatch::kEstablished;
  Provenance deny = Origin("filter", "pfSense default deny");

  // Outbound, pass out is the default; only floating out-blocks change it. A pass among them
  // would shadow the blocks after it, which a first-match chain cannot say without the order.
  std::vector<PolicyRule> out_blocks;
  for (PolicyRule& r : b.outbound) {
    if (r.action != Action::kAccept) out_blocks.push_back(r);
  }
  if (!out_blocks.empty() && out_blocks.size() != b.outbound.size()) {
    Error("filter", "floating out rules mixing pass and block are not modelled");
  }

  std::vector<PolicyRule> in = b.automatic;
  in.insert(in.end(), b.floating_quick.begin(), b.floating_quick.end());
  in.insert(in.end(), b.group.begin(), b.group.end());
  in.insert(in.end(), b.iface.begin(), b.iface.end());
  in.insert(in.end(), b.floating_last.rbegin(), b.floating_last.rend());

  p.input.rules = {state};
  p.input.rules.insert(p.input.rules.end(), in.begin(), in.end());
  p.forward.rules = {state};
  p.forward.rules.insert(p.forward.rules.end(), out_blocks.begin(), out_blocks.end());
  p.forward.rules.insert(p.forward.rules.end(), in.begin(), in.end());
  p.output.rules = out_blocks;
  p.input.default_action = p.forward.default_action = Action::kDrop;
  p.input.default_origin = p.forward.default_origin = deny;
  p.output.default_action = Action::kAccept;
  p.output.default_origin = Origin("filter", "pfSense lets out anything from the firewall");
}

bool PfsenseReader::Read(const std::string& text) {
  pugi::xml_document doc;
  pugi::xml_parse_result parsed = doc.load_string(text.c_str());
  if (!parsed) {
    std::string why = parsed.description();
    why[0] = static_cast<char>(std::tolower(static_cast<unsigned char>(why[0])));
    diags_.Error(file_, LocAt(text, parsed.offset), fmt::format("malformed XML ({})", why));
    return false;
  }
  Node root = doc.child("pfsense");
  if (!root) root = doc.child("opnsense");
  if (!root) {
    Error(doc.document_element().name(), "not a pfSense configuration (no 'pfsense' root)");
    return false;
  }
  opnsense_ = std::string(root.name()) == "opnsense";
  size_t first_diag = diags_.list().size();

  ReadInterfaces(root);
  ReadVirtualIps(root);
  ReadGroups(root);
  ReadReservations(root);
  ReadAliases(root);
  NoteUnmodelled(root);
  Bucketed b;
  AddAutomaticRules(root, b);
  ReadRules(root, b);
  Assemble(b);
  fw_.wan = "wan";
  return !HasErrorsSince(diags_, first_diag);
}

}  // namespace

// Shared with the renderer (render/pfsense.cc), so that both spell ICMP types alike.
std::string PfsenseIcmpTypeName(int type) {
  for (const IcmpName& entry : kIcmpV4Names) {
    if (entry.type == type) return entry.name;
  }
  return std::to_string(type);
}

bool ReadPfsenseFirewall(const std::string& config_xml, FirewallView& fw, Diagnostics& diags) {
  std::string text;
  if (!ReadWholeFile(config_xml, text)) {
    diags.Error(config_xml, {}, "cannot read the file");
    return false;
  }
  return PfsenseReader(config_xml, fw, diags).Read(text);
}

}  // namespace bulkhead
