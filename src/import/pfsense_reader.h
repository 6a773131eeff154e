// SPDX-License-Identifier: Apache-2.0
// The inner parts of the pfSense config.xml reader, shared by the files that read interfaces
// and addresses (pfsense_firewall.cc), filter rules (pfsense_rules.cc) and NAT
// (pfsense_nat.cc). Everything read carries what is sure and what only may be: an alias
// downloaded from a URL, an address given by DHCP, a rule that a schedule switches on and
// off. Not a public interface: callers use ReadPfsenseFirewall.
#pragma once

#include <map>
#include <optional>
#include <pugixml.hpp>
#include <set>
#include <string>
#include <vector>

#include "import/artifacts.h"
#include "util/decimal.h"

namespace bulkhead::pfsense {

using Node = pugi::xml_node;

struct Iface {
  std::string key;     // "lan", "opt1"
  std::string descr;   // "LAN"
  std::string device;  // "vtnet1"
  std::vector<Prefix> addresses;  // static ones, then virtual IPs
  size_t own_addresses = 0;       // how many of `addresses` are static (not virtual IPs)
  AddrSet dynamic;     // symbolic points of run-time addresses
  bool dynamic_v4 = false;
  bool dynamic_v6 = false;
  bool outside = false;  // WAN-type: has a gateway
};

// Addresses or services as read: `sure` certainly belong; `maybe` may belong too, when part
// of the reading depends on run time (`why` says on what).
template <typename Set>
struct Maybe {
  Set sure;
  Set maybe;
  std::string why;
  Set Most() const { return sure.Union(maybe); }
};
using Addrs = Maybe<AddrSet>;
using Services = Maybe<ServiceSet>;

// What reading one rule (filter or NAT) found beyond its match.
struct RuleNotes {
  std::string skipped_why;  // pfSense does not load the rule, and why
  std::vector<std::string> unknown_why;
  std::string never_why;    // loaded, but can never match: "alias 'x' is empty"
  bool whole_unknown = false;  // an option makes it unknown whether the rule matches at all
  bool failed = false;      // an error was reported: the rule is left out
  AddrSet routed_away;      // destinations policy routing sends to a gateway instead
  void Skip(std::string why) {
    if (skipped_why.empty()) skipped_why = std::move(why);
  }
};

struct PortSpan {
  uint16_t first = 0, last = 0;
};

// How deep aliases may nest before the rule naming them fails: far beyond any real
// configuration, and short of what a crafted chain of aliases needs to exhaust the stack.
constexpr size_t kMaxAliasDepth = 200;

// One expansion of an alias a rule names. `visiting` holds the aliases being expanded, to cut
// cycles as pfSense does and to bound the depth; `done` keeps the expansions of nested aliases
// that no cycle cut short, so that an alias reached again along another path is not expanded
// again (which would take exponential time).
template <typename Result>
struct AliasWalk {
  std::set<std::string> visiting;
  std::map<std::string, Result> done;
  int cuts = 0;           // expansions cut short, by a cycle or by the depth bound
  bool too_deep = false;  // the depth bound was met, and said
};

class Reader {
 public:
  Reader(std::string file, FirewallView& fw, Diagnostics& diags, Unmodelled unmodelled)
      : file_(std::move(file)), fw_(fw), diags_(diags), unmodelled_(unmodelled) {}

  bool Read(const std::string& text);

  // ---- Shared by the parts ----
  // pfSense marks flags by presence; OPNsense writes 1/0.
  bool Flag(Node parent, const char* name) const;
  void Error(const std::string& path, std::string message);
  void Warning(const std::string& path, std::string message);
  void Note(const std::string& path, std::string message);
  // Something that changes verdicts and is not modelled: an error in exact mode; otherwise a
  // note, and the rule being read becomes unknown for it.
  void Unknown(const std::string& path, const std::string& message, RuleNotes& notes);
  // pfSense does not load the rule; said once per rule, as a warning.
  void Skip(const std::string& path, const std::string& why, RuleNotes& notes);
  Provenance Origin(const std::string& path, std::string text) const {
    return {file_, 0, path, std::move(text)};
  }
  const Iface* FindIface(const std::string& key) const;
  bool exact() const { return unmodelled_ == Unmodelled::kError; }

  // Addresses of a <source> or <destination>, for the rule's families.
  Addrs Endpoint(Node n, const std::string& path, const std::vector<Family>& families,
                 RuleNotes& notes);
  Addrs AddressToken(const std::string& token, const std::string& path, RuleNotes& notes);
  Addrs NetworkToken(const std::string& token, const std::string& path,
                     const std::vector<Family>& families, RuleNotes& notes);
  // Destination ports of a <port> ("80", "8000-8080", a port alias), as spans.
  std::optional<std::vector<PortSpan>> PortSpans(const std::string& text, const std::string& path,
                                                 RuleNotes& notes);
  // The services of a rule's protocol, ports and ICMP types, for one family.
  Services RuleServices(Node rule, const std::string& path, Family f, RuleNotes& notes);
  std::vector<Family> RuleFamilies(Node rule, const std::string& path, RuleNotes& notes);
  AddrSet SelfAddrs() const;
  const AddrSet& RoutedAway(const std::string& gateway);
  // The packets of a rule: source x destination x services, per family.
  Maybe<PacketSet> RuleMatch(Node rule, const std::string& path,
                             const std::vector<Family>& families, RuleNotes& notes);
  std::string RuleText(Node rule) const;

  FirewallView& fw() { return fw_; }
  const std::vector<Iface>& ifaces() const { return ifaces_; }
  const std::map<std::string, std::vector<std::string>>& groups() const { return groups_; }

 private:
  void ReadInterfaces(Node root);
  void ReadInterface(Node n, const std::string& path, Node root);
  bool ReadIfaceAddress(Node n, const std::string& path, Family f, Iface& i);
  void ReadVirtualIps(Node root);
  void ReadGroups(Node root);
  void ReadReservations(Node root);
  void ReadAliases(Node root);
  void ReadAdminServices(Node root);
  void NoteUnknownSections(Node root);
  void PublishInterfaces();
  std::string DefaultWan(Node root) const;
  bool IsOutside(Node n, Node root, const std::string& device) const;

  using AddrWalk = AliasWalk<Addrs>;
  using PortWalk = AliasWalk<std::vector<PortSpan>>;
  // Whether `name` may be expanded now: not on the way already (a cycle) and not too deep.
  template <typename Result>
  bool EnterAlias(const std::string& name, const std::string& path, RuleNotes& notes,
                  AliasWalk<Result>& walk);
  Addrs AliasAddrs(const std::string& name, const std::string& path, RuleNotes& notes,
                   AddrWalk& walk);
  Addrs ExpandAlias(const std::string& name, const std::string& path, RuleNotes& notes,
                    AddrWalk& walk);
  Addrs MemberAddrs(const std::string& token, const std::string& path, RuleNotes& notes,
                    AddrWalk& walk);
  std::optional<std::vector<PortSpan>> PortSpans(const std::string& text, const std::string& path,
                                                 RuleNotes& notes, PortWalk& walk);
  std::optional<std::vector<PortSpan>> PortAliasSpans(const std::string& name,
                                                      const std::string& path, RuleNotes& notes,
                                                      PortWalk& walk);
  Services IcmpServices(Node rule, const std::string& path, Family f, RuleNotes& notes);
  Services PortServices(const std::string& proto, const std::string& port,
                        const std::string& path, RuleNotes& notes);

  // Filter rules (pfsense_rules.cc).
  void ReadFilter(Node root);
  void AddAutomaticRules(Node root);
  void AddIpv6Block(Node root);
  void AddCarpRules(Node root);
  void AddAntiLockout(Node root);
  void AddCaptivePortals(Node root);
  void AddDhcpServerRules(Node root);
  void AddBlockLists(Node root);
  void AddUnreadRules(Node root);
  void ReadRule(Node rule, const std::string& path);
  std::optional<IfaceMatch> RuleInterfaces(Node rule, const std::string& path, bool floating,
                                           RuleNotes& notes, std::vector<std::string>& keys);
  void RuleOptions(Node rule, const std::string& path, bool passes, RuleNotes& notes);
  void NoteUnknownRuleElements(Node rule, const std::string& path);
  void PlaceOf(Node rule, WrittenRule& w) const;
  void Place(PolicyRule r, const WrittenRule& w, bool group,
             const PolicyRule* ahead = nullptr);
  void Assemble();
  void SwitchFilterOff();

  // NAT (pfsense_nat.cc).
  void ReadNat(Node root);
  // How a port forward is reflected to the inside interfaces (reaching the WAN address from the
  // LAN): not at all, by the same rewrite there (pure NAT), or by pfSense's own proxy, which
  // passes what it takes whatever the inside interface's rules say (NAT + proxy).
  enum class Reflection { kOff, kPureNat, kProxy };
  void ReadPortForward(Node rule, const std::string& path, Reflection by_default);
  void ReadOneToOne(Node rule, const std::string& path);
  void ReadOutboundNat(Node root);
  void AddAutomaticOutboundNat();

  std::string file_;
  FirewallView& fw_;
  Diagnostics& diags_;
  Unmodelled unmodelled_;
  // The product that wrote the file, as messages and the firewall's own rules name it.
  const char* product() const { return opnsense_ ? "OPNsense" : "pfSense"; }
  bool opnsense_ = false;
  std::vector<Iface> ifaces_;  // enabled interfaces only
  std::map<std::string, std::vector<std::string>> groups_;  // interface groups: members
  std::map<std::string, Node> aliases_;
  std::map<std::string, Addrs> alias_addrs_;  // whole expansions, by alias name
  Node gateways_;                              // <gateways>, for policy routing
  std::map<std::string, AddrSet> routed_away_;  // RoutedAway, by gateway name

  // The rules in pf's buckets, before they are placed into chains. Each list is indexed by
  // bucket: 0 floating, 1 group, 2 interface, in the order pf evaluates them.
  struct Buckets {
    std::vector<PolicyRule> automatic;  // pfSense's own quick rules
    std::vector<PolicyRule> in_quick[3];
    std::vector<PolicyRule> in_last[3];  // non-quick: the last match wins
    std::vector<PolicyRule> out_quick[3];
    std::vector<PolicyRule> out_last[3];
  } buckets_;
};

// Small text helpers.
std::string Trim(std::string_view s);
std::string Text(Node n);
std::vector<std::string> Split(const std::string& text, const std::string& separators);
std::optional<uint16_t> ServicePort(const std::string& name);
PolicyRule MakeRule(Action action, PacketSet match, Provenance origin);

}  // namespace bulkhead::pfsense
