// SPDX-License-Identifier: Apache-2.0
// Compiles the lowered filter into a complete pfSense 2.7 config.xml: system settings, one
// interface per planned network, DHCP with a reservation per VM, the DNS resolver, aliases, and
// per interface the lowered rules in order followed by an explicit block. Every rule carries its
// provenance as descr, so the GUI and our reader point back into the spec.
#include <fmt/format.h>

#include <pugixml.hpp>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "render/lowered.h"
#include "render/render.h"

namespace bulkhead {

// Defined with the reader (import/pfsense_firewall.cc): pfSense's name of an ICMPv4 type.
std::string PfsenseIcmpTypeName(int type);

namespace {

using Node = pugi::xml_node;

constexpr int kAdminPort = 443;
constexpr int kFirstTracker = 1000000000;

Node Add(Node parent, const char* name) { return parent.append_child(name); }

Node Add(Node parent, const char* name, const std::string& text) {
  Node n = parent.append_child(name);
  n.text().set(text.c_str());
  return n;
}

// pfSense shows descriptions as CDATA; pugixml splits any "]]>" inside safely.
void AddDescr(Node parent, const std::string& text) {
  parent.append_child("descr").append_child(pugi::node_cdata).set_value(text.c_str());
}

// pfSense accepts [A-Za-z0-9_], at most 31 characters, not all digits, and not the name of a
// protocol or service; prefixing such names keeps them valid and recognisable.
std::string PfsenseName(const std::string& name) {
  static const std::set<std::string> kReserved = {"port", "pass", "tcp",  "udp",   "icmp",   "ip",
                                                  "any",  "ssh",  "http", "https", "domain", "ftp",
                                                  "smtp", "ntp",  "gre",  "esp",   "ah"};
  std::string out;
  for (char c : name) out += std::isalnum(static_cast<unsigned char>(c)) ? c : '_';
  bool digits = out.find_first_not_of("0123456789_") == std::string::npos;
  if (digits || kReserved.count(out)) out = "dst_" + out;
  return out.substr(0, 31);
}

std::string PrefixText(const Prefix& p) {
  if (p.length == AddressBits(p.address.family)) return p.address.ToString();
  return p.ToString();
}

class ConfigWriter {
 public:
  ConfigWriter(const Spec& spec, const Plan& plan, LoweredFilter filter)
      : spec_(spec), plan_(plan), filter_(std::move(filter)) {}

  std::string Write();

 private:
  void AddSystem(Node root);
  void AddInterfaces(Node root);
  void AddInterface(Node parent, const char* key, const std::string& nic, const std::string& descr,
                    const Prefix& subnet, const IpAddress& address);
  void AddDhcp(Node root);
  void AddUnbound(Node root);
  void AddAliases(Node root);
  void AddAlias(const std::string& name, const std::vector<std::string>& entries,
                const std::string& descr);
  void AddFilter(Node root);
  void AddRules(const LoweredInterface& in);
  void AddRule(const LoweredInterface& in, const LoweredRule& r, const std::string& port);
  bool AddDestination(Node dst, const LoweredInterface& in, const LoweredRule& r);

  const Spec& spec_;
  const Plan& plan_;
  LoweredFilter filter_;
  Node aliases_;
  Node filter_node_;
  int tracker_ = kFirstTracker;
  int generated_aliases_ = 0;
};

void ConfigWriter::AddSystem(Node root) {
  Node system = Add(root, "system");
  Add(system, "optimization", "normal");
  Add(system, "hostname", spec_.firewall.name);
  Add(system, "domain", "home.arpa");
  // Upstream resolvers come with the WAN's DHCP lease; unbound resolves from the roots anyway.
  Add(system, "dnsallowoverride");
  Add(system, "timezone", "Etc/UTC");
  Add(system, "timeservers", "2.pfsense.pool.ntp.org");
  Node admins = Add(system, "group");
  Add(admins, "name", "admins");
  Add(admins, "scope", "system");
  Add(admins, "gid", "1999");
  Add(admins, "member", "0");
  Add(admins, "priv", "page-all");
  // Without firewall.admin_password_hash the GUI has no password until one is set at the
  // console ("Reset webConfigurator password"); render warns about it.
  Node admin = Add(system, "user");
  Add(admin, "name", "admin");
  Add(admin, "scope", "system");
  Add(admin, "groupname", "admins");
  Add(admin, "uid", "0");
  if (!spec_.firewall.admin_password_hash.empty()) {
    Add(admin, "bcrypt-hash", spec_.firewall.admin_password_hash);
  }
  Add(system, "nextuid", "2000");
  Add(system, "nextgid", "2000");
  Node webgui = Add(system, "webgui");
  Add(webgui, "protocol", "https");
  Add(webgui, "port", std::to_string(kAdminPort));
  Add(webgui, "disablehttpredirect");
  // Admin access is an explicit rule from firewall.admin_from, not pfSense's implicit one.
  Add(webgui, "noantilockout");
  Add(system, "disablenatreflection", "yes");
  Node bogons = Add(system, "bogons");
  Add(bogons, "interval", "monthly");
}

void ConfigWriter::AddInterface(Node parent, const char* key, const std::string& nic,
                                const std::string& descr, const Prefix& subnet,
                                const IpAddress& address) {
  Node n = Add(parent, key);
  Add(n, "enable");
  Add(n, "if", nic);
  AddDescr(n, descr);
  Add(n, "ipaddr", address.ToString());
  Add(n, "subnet", std::to_string(subnet.length));
}

void ConfigWriter::AddInterfaces(Node root) {
  Node ifaces = Add(root, "interfaces");
  Node wan = Add(ifaces, "wan");
  Add(wan, "enable");
  Add(wan, "if", plan_.wan.pfsense_nic);
  AddDescr(wan, "WAN");
  Add(wan, "ipaddr", "dhcp");
  const PlannedHostOnly& h = plan_.hostonly;
  AddInterface(ifaces, h.pfsense_if.c_str(), h.pfsense_nic, "HOST", h.subnet, h.firewall_address);
  for (const PlannedNetwork& n : plan_.networks) {
    AddInterface(ifaces, n.pfsense_if.c_str(), n.pfsense_nic, PfsenseName(n.name), n.subnet,
                 n.gateway);
  }
}

// The host has a static address, so the host-only network gets no DHCP server: pfSense would
// open udp 67 there by itself, which the lowered intent does not allow.
void ConfigWriter::AddDhcp(Node root) {
  Node dhcpd = Add(root, "dhcpd");
  for (size_t i = 0; i < plan_.networks.size(); ++i) {
    const PlannedNetwork& n = plan_.networks[i];
    Node d = Add(dhcpd, n.pfsense_if.c_str());
    Add(d, "enable");
    Node range = Add(d, "range");
    Add(range, "from", n.dhcp_first.ToString());
    Add(range, "to", n.dhcp_last.ToString());
    for (const PlannedVm& vm : plan_.vms) {
      if (vm.network != static_cast<int>(i)) continue;
      Node map = Add(d, "staticmap");
      Add(map, "mac", MacWithColons(vm.mac));
      Add(map, "ipaddr", vm.address.ToString());
      Add(map, "hostname", vm.name);
    }
  }
}

// The resolver listens where its clients may ask: the host-only network and zones with dns.
void ConfigWriter::AddUnbound(Node root) {
  Node unbound = Add(root, "unbound");
  if (!spec_.firewall.dns_resolver) return;
  Add(unbound, "enable");
  Add(unbound, "dnssec");
  std::string listen = plan_.hostonly.pfsense_if;
  for (const PlannedNetwork& n : plan_.networks) {
    const Zone* zone = spec_.FindZone(n.zone);
    if (zone == nullptr || zone->dns) listen += "," + n.pfsense_if;
  }
  Add(unbound, "active_interface", listen + ",lo0");
  Add(unbound, "outgoing_interface", plan_.wan.pfsense_if);
}

void ConfigWriter::AddAlias(const std::string& name, const std::vector<std::string>& entries,
                            const std::string& descr) {
  Node a = Add(aliases_, "alias");
  Add(a, "name", name);
  Add(a, "type", "network");
  std::string address, detail;
  for (const std::string& e : entries) {
    address += (address.empty() ? "" : " ") + e;
    detail += (detail.empty() ? "" : "||") + e;
  }
  Add(a, "address", address);
  AddDescr(a, descr);
  a.append_child("detail").append_child(pugi::node_cdata).set_value(detail.c_str());
}

void ConfigWriter::AddAliases(Node root) {
  aliases_ = Add(root, "aliases");
  for (const AddressSet& set : filter_.sets) {
    std::vector<std::string> entries;
    for (const Prefix& p : set.v4) entries.push_back(PrefixText(p));
    for (const Prefix& p : set.v6) entries.push_back(PrefixText(p));
    entries.insert(entries.end(), set.host_names.begin(), set.host_names.end());
    std::string descr = set.name == kInternalSet ? "bulkhead: every network of the set-up"
                                                 : "bulkhead: destination '" + set.name + "'";
    AddAlias(PfsenseName(set.name), entries, descr);
  }
}

// Fills <destination>; false when the target holds no IPv4 address, so the rule would match
// nothing (an offline VM, an empty zone) and is left out.
bool ConfigWriter::AddDestination(Node dst, const LoweredInterface& in, const LoweredRule& r) {
  using To = LoweredRule::To;
  switch (r.to) {
    case To::kFirewall:
      Add(dst, "network", "(self)");
      return true;
    case To::kInternet:
      Add(dst, "address", kInternalSet);
      Add(dst, "not");
      return true;
    case To::kSet: {
      if (!r.set.empty()) {
        Add(dst, "address", PfsenseName(r.set));
        return true;
      }
      std::string name = fmt::format("host_{}_{}", in.pfsense_if, ++generated_aliases_);
      AddAlias(name, r.host_names, "bulkhead: " + r.descr);
      Add(dst, "address", name);
      return true;
    }
    case To::kPrefixes:
      break;
  }
  std::vector<std::string> v4;
  for (const Prefix& p : r.prefixes) {
    if (p.address.family == Family::kV4) v4.push_back(PrefixText(p));
  }
  if (v4.empty()) return false;
  if (v4.size() == 1) {
    Add(dst, "address", v4.front());
    return true;
  }
  std::string name = fmt::format("net_{}_{}", in.pfsense_if, ++generated_aliases_);
  AddAlias(name, v4, "bulkhead: " + r.descr);
  Add(dst, "address", name);
  return true;
}

void ConfigWriter::AddRule(const LoweredInterface& in, const LoweredRule& r,
                           const std::string& port) {
  Node rule = filter_node_.append_child("rule");
  Add(rule, "tracker", std::to_string(++tracker_));
  Add(rule, "type", r.action == RuleAction::kAllow ? "pass" : "block");
  Add(rule, "interface", in.pfsense_if);
  Add(rule, "ipprotocol", "inet");
  if (r.protocol != Protocol::kAny) Add(rule, "protocol", ProtocolName(r.protocol));
  if (r.protocol == Protocol::kIcmp && r.icmp_type) {
    Add(rule, "icmptype", PfsenseIcmpTypeName(*r.icmp_type));
  }
  Node src = Add(rule, "source");
  if (r.any_source) {
    Add(src, "any");
  } else {
    Add(src, "network", in.pfsense_if);
  }
  Node dst = Add(rule, "destination");
  if (!AddDestination(dst, in, r)) {
    filter_node_.remove_child(rule);
    --tracker_;
    return;
  }
  if (!port.empty()) Add(dst, "port", port);
  AddDescr(rule, "bulkhead: " + r.descr);
}

void ConfigWriter::AddRules(const LoweredInterface& in) {
  for (const LoweredRule& r : in.rules) {
    bool ported = r.protocol == Protocol::kTcp || r.protocol == Protocol::kUdp;
    if (!ported || r.ports.empty()) {
      AddRule(in, r, "");
      continue;
    }
    // One rule per port range: pfSense's port field holds one number or one range.
    for (const PortRange& p : r.ports) {
      std::string text =
          p.first == p.last ? std::to_string(p.first) : fmt::format("{}-{}", p.first, p.last);
      AddRule(in, r, text);
    }
  }
  Node block = filter_node_.append_child("rule");
  Add(block, "tracker", std::to_string(++tracker_));
  Add(block, "type", "block");
  Add(block, "interface", in.pfsense_if);
  Add(block, "ipprotocol", "inet46");
  Add(Add(block, "source"), "any");
  Add(Add(block, "destination"), "any");
  AddDescr(block, fmt::format("bulkhead: nothing else from '{}'", in.network));
}

void ConfigWriter::AddFilter(Node root) {
  filter_node_ = Add(root, "filter");
  for (const LoweredInterface& in : filter_.interfaces) AddRules(in);
}

std::string ConfigWriter::Write() {
  pugi::xml_document doc;
  Node decl = doc.append_child(pugi::node_declaration);
  decl.append_attribute("version") = "1.0";
  Node root = doc.append_child("pfsense");
  Add(root, "version", "23.3");
  AddSystem(root);
  AddInterfaces(root);
  AddDhcp(root);
  AddUnbound(root);
  AddAliases(root);
  AddFilter(root);
  Node outbound = Add(Add(root, "nat"), "outbound");
  Add(outbound, "mode", "automatic");

  std::ostringstream out;
  doc.save(out, "  ", pugi::format_default, pugi::encoding_utf8);
  return out.str();
}

}  // namespace

Artifacts RenderPfsense(const Spec& spec, const Plan& plan, const Date& today) {
  ConfigWriter writer(spec, plan, LowerFilter(spec, plan, today, kAdminPort));
  return {{"config.xml", writer.Write(), false}};
}

}  // namespace bulkhead
