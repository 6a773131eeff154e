// SPDX-License-Identifier: Apache-2.0
// The filter of a pfSense config.xml as first-match chains. pf is last-match with `quick`
// rules deciding at once, and pfSense writes every interface and group rule quick, so the
// order is rebuilt: state first, pfSense's automatic quick rules, floating quick rules, group
// rules, interface rules, then the non-quick rules in reverse (the last of them wins) and the
// default deny. Rules judging packets that leave an interface go to the output chain, which
// pf also applies to forwarded packets.
#include <fmt/format.h>

#include <algorithm>
#include <set>
#include <string_view>

#include "import/pfsense_reader.h"

namespace bulkhead::pfsense {
namespace {

bool IsSystemTab(const std::string& key) {
  return key == "openvpn" || key == "enc0" || key == "l2tp" || key == "pppoe";
}

AddrSet PrefixesOf(std::initializer_list<const char*> prefixes) {
  AddrSet out;
  for (const char* p : prefixes) out = out.Union(AddrsOf(*Prefix::Parse(p)));
  return out;
}

// The elements of a filter rule that pfSense's and OPNsense's rule pages write and their
// filter.inc reads, with those of older versions (l7container) and of the OpenVPN wizard
// (enabled, which nothing reads).
bool IsKnownRuleElement(std::string_view name) {
  // clang-format off
  static const std::set<std::string_view> kElements = {
      "ackqueue", "allowopts", "associated-rule-id", "category", "created", "defaultqueue",
      "descr", "destination", "direction", "disabled", "disablereplyto", "dnpipe", "dscp",
      "enabled", "floating", "gateway", "icmp6-type", "icmptype", "id", "interface",
      "ipprotocol", "l7container", "label", "log", "max", "max-src-conn", "max-src-conn-rate",
      "max-src-conn-rates", "max-src-nodes", "max-src-states", "nopfsync", "nosync", "os",
      "overload", "pdnpipe", "prio", "protocol", "quick", "reply-to", "sched", "set-prio",
      "set-prio-low", "source", "statepolicy", "statetimeout", "statetype", "tag", "tagged",
      "tcpflags1", "tcpflags2", "tcpflags_any", "tracker", "type", "updated", "uuid",
      "vlanprio", "vlanprioset"};
  // clang-format on
  return kElements.count(name) > 0;
}

// Bucket of a rule in pf's order: 0 floating, 1 group, 2 interface.
int BucketOf(const WrittenRule& w, bool group) { return w.floating ? 0 : group ? 1 : 2; }

}  // namespace

// ---- User rules ------------------------------------------------------------------------------

// The interfaces a rule applies to. An interface that is disabled or missing is left out;
// pfSense skips a rule none of whose interfaces remain. The OpenVPN, IPsec, L2TP and PPPoE
// tabs judge VPN and dial-in clients, which the matrix has no source for, except for the
// OpenVPN interfaces that are assigned (their device is ovpnsN or ovpncN).
std::optional<IfaceMatch> Reader::RuleInterfaces(Node rule, const std::string& path,
                                                 bool floating, RuleNotes& notes,
                                                 std::vector<std::string>& keys) {
  std::string text = Text(rule.child("interface"));
  if (floating && (text.empty() || text == "any")) {
    for (const Iface& i : ifaces_) keys.push_back(i.key);
    return IfaceMatch{};
  }
  IfaceMatch m;
  bool system_tab = false;
  for (const std::string& key : Split(text, ",")) {
    if (FindIface(key)) {
      m.names.push_back(key);
    } else if (groups_.count(key)) {
      for (const std::string& member : groups_.at(key)) {
        if (FindIface(member)) m.names.push_back(member);
      }
    } else if (IsSystemTab(key)) {
      system_tab = true;
      for (const Iface& i : ifaces_) {
        if (key == "openvpn" && i.device.rfind("ovpn", 0) == 0) m.names.push_back(i.key);
      }
    }
  }
  keys = m.names;
  if (!m.names.empty()) return m;
  if (system_tab) {
    Note(path + "/interface",
         fmt::format("rules of the '{}' tab judge clients the matrix has no source for", text));
    return m;  // loaded, but applies to no interface of the matrix
  }
  notes.Skip(fmt::format("interface '{}' is disabled or missing", text));
  Warning(path + "/interface",
          fmt::format("interface '{}' is disabled or missing: {} skips the rule", text,
                      product()));
  return std::nullopt;
}

// Options that add match conditions the packet model has no axis for, or that make a rule
// come and go: whether the rule matches at all is then unknown.
void Reader::RuleOptions(Node rule, const std::string& path, bool passes, RuleNotes& notes) {
  for (const char* name :
       {"sched", "tagged", "os", "dscp", "vlanprio", "tcpflags1", "tcpflags2", "prio"}) {
    if (Text(rule.child(name)).empty()) continue;
    Unknown(path + "/" + name, fmt::format("rule option '{}' is not modelled", name), notes);
    notes.whole_unknown = true;
  }
  std::string sport = Text(rule.child("source").child("port"));
  if (!sport.empty() && sport != "any") {
    Unknown(path + "/source/port", "source ports are not modelled", notes);
    notes.whole_unknown = true;
  }
  if (Text(rule.child("statetype")) == "none") {
    Unknown(path + "/statetype", "rules without state are not modelled", notes);
    notes.whole_unknown = true;
  }
  std::string gateway = Text(rule.child("gateway"));
  if (!gateway.empty() && passes) {
    notes.routed_away = RoutedAway(gateway);
    Unknown(path + "/gateway",
            fmt::format("policy routing to gateway '{}' sends what the rule passes to the "
                        "firewall and to other interfaces' networks out to the gateway instead "
                        "(not modelled)",
                        gateway),
            notes);
  }
}

// A pass rule with a gateway routes what it passes to that gateway, whatever its destination
// (pfSense exempts only VPN networks, and only for a destination of any): packets for the
// firewall itself or for a network behind another interface do not get there. Those behind the
// gateway's own interface, and the internet, still do. Unknown gateways and gateway groups may
// leave by any interface. Worked out once per gateway.
const AddrSet& Reader::RoutedAway(const std::string& gateway) {
  auto [it, fresh] = routed_away_.try_emplace(gateway);
  if (!fresh) return it->second;
  std::string via;
  for (Node g : gateways_.children("gateway_item")) {
    if (Text(g.child("name")) == gateway) via = Text(g.child("interface"));
  }
  AddrSet away = SelfAddrs();
  for (const Iface& i : ifaces_) {
    if (i.key == via) continue;
    for (const Prefix& p : i.addresses) away = away.Union(AddrsOf(p.Network()));
    away = away.Union(i.dynamic);
  }
  it->second = std::move(away);
  return it->second;
}

// An element this reader does not know may be a match condition of a newer version: said once
// per name, since the rule is read without it.
void Reader::NoteUnknownRuleElements(Node rule, const std::string& path) {
  std::set<std::string> said;
  for (Node n : rule.children()) {
    if (n.type() != pugi::node_element || IsKnownRuleElement(n.name())) continue;
    if (!said.insert(n.name()).second) continue;
    Note(path + "/" + n.name(),
         fmt::format("unknown rule element '{}' (skipped; it may change what the rule matches)",
                     n.name()));
  }
}

// The written form of a rule, for the analyses of the user's rules.
WrittenRule Written(Node rule, const std::string& path, const Reader& r, bool floating) {
  WrittenRule w;
  w.origin = r.Origin(path, r.RuleText(rule));
  w.tab = floating ? "floating" : Text(rule.child("interface"));
  w.floating = floating;
  Node src = rule.child("source");
  Node dst = rule.child("destination");
  w.source_any = !src || src.child("any");
  w.destination_any = !dst || dst.child("any");
  w.source_negated = src.child("not");
  w.destination_negated = dst.child("not");
  std::string proto = Text(rule.child("protocol"));
  w.any_protocol = proto.empty() || proto == "any";
  std::string port = Text(dst.child("port"));
  w.has_destination_port = !port.empty() && port != "any";
  w.ipprotocol = Text(rule.child("ipprotocol"));
  if (w.ipprotocol.empty()) w.ipprotocol = "inet";
  return w;
}

void Reader::ReadRule(Node rule, const std::string& path) {
  bool floating = Flag(rule, "floating") && Text(rule.child("floating")) != "no";
  WrittenRule w = Written(rule, path, *this, floating);
  PlaceOf(rule, w);
  RuleNotes notes;
  std::string type = Text(rule.child("type"));
  w.action = type == "block" ? Action::kDrop : type == "reject" ? Action::kReject
                                                                : Action::kAccept;
  w.decides = type != "match";  // match rules tag or queue, and never decide
  if (w.decides && !type.empty() && type != "pass" && w.action == Action::kAccept) {
    Warning(path + "/type", fmt::format("type '{}' is taken as pass", type));
  }

  std::optional<IfaceMatch> ifaces;
  if (Flag(rule, "disabled")) {
    notes.Skip("it is disabled");
  } else {
    ifaces = RuleInterfaces(rule, path, floating, notes, w.interfaces);
  }
  std::vector<Family> families = RuleFamilies(rule, path, notes);
  Maybe<PacketSet> match;
  if (notes.skipped_why.empty() && !families.empty()) {
    match = RuleMatch(rule, path, families, notes);
  }
  if (notes.skipped_why.empty()) {
    RuleOptions(rule, path, w.decides && w.action == Action::kAccept, notes);
    NoteUnknownRuleElements(rule, path);
  }
  w.loaded = notes.skipped_why.empty() && !notes.failed && !families.empty();
  w.skipped_why = notes.skipped_why;
  w.unknown = !notes.unknown_why.empty();

  // A rule of a VPN tab with no assigned interface judges only VPN clients: it is loaded,
  // but no interface of the matrix sees it (an empty interface list would mean every one).
  bool nowhere = ifaces && ifaces->names.empty() && w.interfaces.empty();
  if (w.loaded && w.decides && !nowhere) {
    PacketSet sure = notes.whole_unknown ? PacketSet() : match.sure;
    PolicyRule r = MakeRule(w.action, sure, w.origin);
    r.unknown = match.sure.Union(match.maybe).Subtract(sure);
    if (!notes.unknown_why.empty()) r.unknown_why = notes.unknown_why.front();
    r.iif = *ifaces;
    bool group = groups_.count(w.tab) > 0 || IsSystemTab(w.tab);
    // The rule still takes what policy routing sends away, but whether that arrives is unknown:
    // a rule just ahead of it, which may drop those packets, says so to both bounds.
    std::optional<PolicyRule> routed;
    if (!notes.routed_away.empty()) {
      routed = MakeRule(Action::kDrop, PacketSet(), w.origin);
      routed->unknown = match.sure.Union(match.maybe).Intersect(
          PacketSet::Of(AllAddrsBothFamilies(), notes.routed_away, AllServices()));
      routed->unknown_why = notes.unknown_why.back();
      routed->iif = *ifaces;
    }
    Place(std::move(r), w, group, routed ? &*routed : nullptr);
  }
  if (!notes.never_why.empty() && w.loaded) w.skipped_why = notes.never_why;
  fw_.written_rules.push_back(std::move(w));
}

// pfSense: interface rules are always "in quick"; floating rules choose both. OPNsense lets
// interface rules choose too, and defaults them to "in quick".
void Reader::PlaceOf(Node rule, WrittenRule& w) const {
  std::string direction = Text(rule.child("direction"));
  if (direction == "any") direction = "";
  if (!w.floating) {
    w.direction = opnsense_ && !direction.empty() ? direction : "in";
    w.quick = !opnsense_ || !rule.child("quick") || Flag(rule, "quick");
    return;
  }
  w.direction = direction;
  w.quick = Flag(rule, "quick");
}

// `ahead`, when given, is evaluated just before `r`: in a non-quick list, whose order Assemble
// reverses, that is just after it.
void Reader::Place(PolicyRule r, const WrittenRule& w, bool group, const PolicyRule* ahead) {
  int bucket = BucketOf(w, group);
  auto add = [&](std::vector<PolicyRule>& list, PolicyRule rule, bool out) {
    std::optional<PolicyRule> first;
    if (ahead) {
      first = *ahead;
      if (out) first->oif = first->iif, first->iif = IfaceMatch{};
    }
    if (first && w.quick) list.push_back(*first);
    list.push_back(std::move(rule));
    if (first && !w.quick) list.push_back(*first);
  };
  if (w.direction != "in") {
    PolicyRule out = r;
    out.oif = r.iif;
    out.iif = IfaceMatch{};
    add((w.quick ? buckets_.out_quick : buckets_.out_last)[bucket], std::move(out), true);
  }
  if (w.direction == "out") return;
  add((w.quick ? buckets_.in_quick : buckets_.in_last)[bucket], std::move(r), false);
}

void Reader::ReadFilter(Node root) {
  int index = 0;
  for (Node rule : root.child("filter").children("rule")) {
    std::string path = fmt::format("filter/rule[{}]", ++index);
    ReadRule(rule, path);
  }
  AddUnreadRules(root);
}

// OPNsense's newer rules live in their own section, which this reader does not read: while
// any is there, every verdict may be theirs.
void Reader::AddUnreadRules(Node root) {
  Node mvc = root.child("OPNsense").child("Firewall").child("Filter").child("rules");
  if (!mvc.child("rule")) return;
  RuleNotes notes;
  std::string path = "OPNsense/Firewall/Filter/rules";
  Unknown(path, "OPNsense's automation filter rules are not modelled", notes);
  for (Action a : {Action::kDrop, Action::kAccept}) {
    PolicyRule r = MakeRule(a, PacketSet(), Origin(path, "OPNsense automation rules"));
    r.unknown = PacketSet::All();
    r.unknown_why = notes.unknown_why.empty() ? "" : notes.unknown_why.front();
    buckets_.in_quick[0].insert(buckets_.in_quick[0].begin(), r);
    r.oif = r.iif;
    buckets_.out_quick[0].insert(buckets_.out_quick[0].begin(), r);
  }
}

// ---- pfSense's automatic rules ---------------------------------------------------------------

// Without system/ipv6allow pfSense drops all IPv6 before any user rule. OPNsense tests this
// flag by presence too (isset), so an empty <ipv6allow/> allows IPv6 there as well.
void Reader::AddIpv6Block(Node root) {
  if (root.child("system").child("ipv6allow")) return;
  AddrSet v6 = AllAddrs(Family::kV6);
  buckets_.automatic.push_back(MakeRule(
      Action::kDrop, PacketSet::Of(v6, v6, AllServices()),
      Origin("system/ipv6allow", fmt::format("{} blocks IPv6 (not allowed)", product()))));
}

// The GUI (and SSH when enabled) on the LAN address, unless system/webgui/noantilockout.
void Reader::AddAntiLockout(Node root) {
  Node system = root.child("system");
  Node webgui = system.child("webgui");
  if (Flag(webgui, "noantilockout")) return;
  std::string on = ifaces_.size() > 1 ? "lan" : "wan";
  const Iface* i = FindIface(on);
  if (!i) return;
  bool https = Text(webgui.child("protocol")) == "https";
  int gui = ParseDecimal(Text(webgui.child("port")), 65535).value_or(https ? 443 : 80);
  ServiceSet svc = fw_.admin_services;
  if (https && gui != 80 && !Flag(webgui, "disablehttpredirect")) {
    svc = svc.Union(Ports(kProtoTcp, 80, 80));
  }
  AddrSet own = i->dynamic;
  for (const Prefix& p : i->addresses) own = own.Union(AddrsOf(p.address));
  PolicyRule r =
      MakeRule(Action::kAccept, PacketSet::Of(AllAddrsBothFamilies(), own, svc),
               Origin("system/webgui", fmt::format("{} anti-lockout rule", product())));
  r.iif.names = {on};
  buckets_.automatic.push_back(std::move(r));
}

// An enabled DHCP server opens udp 67 on its interface, to broadcast and to its address.
void Reader::AddDhcpServerRules(Node root) {
  for (Node n : root.child("dhcpd").children()) {
    const Iface* i = FindIface(n.name());
    if (n.type() != pugi::node_element || !i || !Flag(n, "enable")) continue;
    AddrSet dst = AddrsOf(*IpAddress::Parse("255.255.255.255"));
    for (const Prefix& p : i->addresses) {
      if (p.address.family == Family::kV4) dst = dst.Union(AddrsOf(p.address));
    }
    PolicyRule r = MakeRule(
        Action::kAccept, PacketSet::Of(AllAddrs(Family::kV4), dst, Ports(kProtoUdp, 67, 67)),
        Origin(fmt::format("dhcpd/{}", i->key), fmt::format("{} DHCP server", product())));
    r.iif.names = {i->key};
    buckets_.automatic.push_back(std::move(r));
  }
}

// "Block private networks" and "block bogon networks" on the interfaces that ask for them.
// The bogons table is downloaded, so it is read as the ranges IANA reserves.
void Reader::AddBlockLists(Node root) {
  AddrSet priv = PrefixesOf({"10.0.0.0/8", "127.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16",
                             "fc00::/7"});
  AddrSet bogons = PrefixesOf({"0.0.0.0/8", "100.64.0.0/10", "127.0.0.0/8", "169.254.0.0/16",
                               "192.0.0.0/24", "192.0.2.0/24", "198.18.0.0/15",
                               "198.51.100.0/24", "203.0.113.0/24", "224.0.0.0/3", "::/8",
                               "2001:db8::/32", "fec0::/10", "ff00::/8"});
  bool noted = false;
  for (const Iface& i : ifaces_) {
    std::string path = fmt::format("interfaces/{}", i.key);
    Node n = root.child("interfaces").child(i.key.c_str());
    auto block = [&](const AddrSet& from, const std::string& where, const char* what) {
      PolicyRule r =
          MakeRule(Action::kDrop, PacketSet::Of(from, AllAddrsBothFamilies(), AllServices()),
                   Origin(where, fmt::format("{} blocks {}", product(), what)));
      r.iif.names = {i.key};
      buckets_.automatic.push_back(std::move(r));
    };
    if (Flag(n, "blockbogons")) {
      block(bogons, path + "/blockbogons", "bogon networks");
      if (!noted) Note(path + "/blockbogons", "the bogons table is read as IANA's reserved ranges");
      noted = true;
    }
    if (Flag(n, "blockpriv")) block(priv, path + "/blockpriv", "private networks");
  }
}

// CARP advertisements pass everywhere, both ways and without state, except (usually) inbound
// from the firewall's own addresses. CARP is IP protocol 112, which VRRP uses too and the
// matrix names vrrp: the rules say both. pfSense writes them once there is a virtual IP (of any
// mode) or HA sync, and none without (filter_process_carp_rules); OPNsense always writes the
// pass (filter_core_rules_system), so there no element of the file is where it comes from.
void Reader::AddCarpRules(Node root) {
  auto filled = [](Node n) { return n && (n.first_child().type() == pugi::node_element); };
  bool vips = false;
  for (Node vip : root.child("virtualip").children("vip")) vips = vips || filled(vip);
  bool carp = vips || filled(root.child("hasync"));
  if (!carp && !opnsense_) return;
  std::string where = opnsense_ ? "filter" : vips ? "virtualip" : "hasync";
  AddrSet all = AllAddrsBothFamilies();
  if (opnsense_ ? !carp : carp) {  // OPNsense keeps this block only without CARP in use
    std::string text = fmt::format(
        "{} blocks CARP (IP protocol 112, vrrp) from the firewall itself", product());
    buckets_.automatic.push_back(MakeRule(
        Action::kDrop, PacketSet::Of(SelfAddrs(), all, Proto(kProtoCarp)), Origin(where, text)));
  }
  PolicyRule pass = MakeRule(
      Action::kAccept, PacketSet::Of(all, all, Proto(kProtoCarp)),
      Origin(where, fmt::format("{} passes CARP (IP protocol 112, vrrp)", product())));
  buckets_.automatic.push_back(pass);
  buckets_.out_quick[0].push_back(pass);
}

void Reader::AddAutomaticRules(Node root) {
  AddIpv6Block(root);
  if (!Flag(root.child("system"), "no_apipa_block")) {
    AddrSet apipa = AddrsOf(*Prefix::Parse("169.254.0.0/16"));
    AddrSet all = AllAddrsBothFamilies();
    PacketSet m =
        PacketSet::Of(apipa, all, AllServices()).Union(PacketSet::Of(all, apipa, AllServices()));
    buckets_.automatic.push_back(
        MakeRule(Action::kDrop, m,
                 Origin("system", fmt::format("{} blocks link-local", product()))));
  }
  ServiceSet port0 = Ports(kProtoTcp, 0, 0).Union(Ports(kProtoUdp, 0, 0));
  buckets_.automatic.push_back(
      MakeRule(Action::kDrop, PacketSet::Of(AllAddrsBothFamilies(), AllAddrsBothFamilies(), port0),
               Origin("filter", fmt::format("{} blocks port 0", product()))));
  AddCarpRules(root);
  AddBlockLists(root);
  AddDhcpServerRules(root);
  AddAntiLockout(root);
  AddCaptivePortals(root);
}

// A captive portal holds back a client's traffic until it logs in, which no file says: what
// its interface sends past the firewall may pass (once logged in) or not (before).
void Reader::AddCaptivePortals(Node root) {
  for (Node zone : root.child("captiveportal").children()) {
    if (zone.type() != pugi::node_element || !Flag(zone, "enable")) continue;
    std::string path = fmt::format("captiveportal/{}", zone.name());
    RuleNotes notes;
    Unknown(path, "a captive portal (clients pass only once logged in) is not modelled", notes);
    PolicyRule r = MakeRule(Action::kDrop, PacketSet(),
                            Origin(path, fmt::format("captive portal '{}'", zone.name())));
    r.iif.names = Split(Text(zone.child("interface")), ",");
    r.unknown = PacketSet::Of(AllAddrsBothFamilies(),
                              AllAddrsBothFamilies().Subtract(SelfAddrs()), AllServices());
    r.unknown_why = "a captive portal lets clients through only once they log in";
    if (!r.iif.names.empty()) buckets_.automatic.push_back(std::move(r));
  }
}

// ---- Chains ----------------------------------------------------------------------------------

void Reader::Assemble() {
  Policy& p = fw_.policy;
  p.engine = "pfsense";
  p.output_sees_forwarded = true;
  PolicyRule state = MakeRule(Action::kAccept, PacketSet::All(),
                              Origin("", fmt::format("{} keeps state", product())));
  state.state = StateMatch::kEstablished;
  Provenance deny = Origin("filter", fmt::format("{} default deny", product()));
  Buckets& b = buckets_;

  auto append = [](std::vector<PolicyRule>& to, const std::vector<PolicyRule> (&quick)[3],
                   const std::vector<PolicyRule> (&last)[3]) {
    for (const auto& bucket : quick) to.insert(to.end(), bucket.begin(), bucket.end());
    for (int i = 2; i >= 0; --i) to.insert(to.end(), last[i].rbegin(), last[i].rend());
  };
  std::vector<PolicyRule> in = b.automatic;
  append(in, b.in_quick, b.in_last);

  p.input.rules = {state};
  p.input.rules.insert(p.input.rules.end(), in.begin(), in.end());
  p.forward.rules = p.input.rules;
  p.input.default_action = p.forward.default_action = Action::kDrop;
  p.input.default_origin = p.forward.default_origin = deny;

  // Leaving, "pass out all" comes after the default deny and before the floating rules, so
  // it wins over the deny, and floating rules win over it.
  p.output.rules = {state};
  append(p.output.rules, b.out_quick, b.out_last);
  p.output.default_action = Action::kAccept;
  p.output.default_origin = Origin("filter", fmt::format("{} lets out anything", product()));
}

// "Disable all packet filtering" turns pf off, NAT with it: the firewall is a plain router.
void Reader::SwitchFilterOff() {
  Policy& p = fw_.policy;
  Provenance off = Origin("system/disablefilter", "packet filtering is switched off");
  for (Chain* c : {&p.input, &p.forward, &p.output}) {
    c->rules.clear();
    c->default_action = Action::kAccept;
    c->default_origin = off;
  }
  fw_.redirects.clear();
  fw_.source_nat.clear();
  fw_.outbound_nat_mode = "disabled";
  Warning("system/disablefilter", "packet filtering is switched off: every packet passes");
}

}  // namespace bulkhead::pfsense
