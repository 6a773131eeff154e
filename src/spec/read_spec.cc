// SPDX-License-Identifier: Apache-2.0
// Reading the user's TOML file into a Spec. Two passes: the first reads every table, checking
// keys and value types; the second, once every name is known, checks the namespace, resolves
// rule targets and cross-references. Both collect every error, each located at the offending key
// or value, so one run shows the user everything wrong with their file.

#include <algorithm>
#include <cctype>
#include <charconv>
#include <map>
#include <utility>

#include <fmt/format.h>
#include <toml++/toml.h>

#include "spec/spec.h"
#include "util/atomic_file.h"

namespace bulkhead {
namespace {

void MergeNeighbouringPorts(std::vector<PortRange>& ports);

using Keys = std::vector<std::string>;
template <typename E>
using Choices = std::vector<std::pair<std::string, E>>;

const Keys kTopKeys = {"host", "firewall", "plan", "destinations", "zones", "vms"};
const Keys kHostKeys = {
    "name",    "physical_nic", "lan_subnet", "hostonly_network", "hostonly_subnet",
    "address", "egress"};
const Keys kFirewallKeys = {"name",       "engine",  "wan",  "wan_nic", "nat_user",
                            "dns_resolver", "admin_from", "chipset", "cpus", "memory",
                            "disk",       "medium",  "admin_password_hash"};
const Keys kPlanKeys = {"pool", "prefix_length"};
const Keys kZoneKeys = {"network", "dns", "subnet", "egress"};
const Keys kRuleKeys = {"to", "action", "proto", "ports", "icmp_type", "comment", "expires"};
const Keys kVmKeys = {"zone",           "cpus",     "memory",    "disk",
                      "medium",         "template", "clipboard", "drag_and_drop",
                      "shared_folders", "address",  "subnet"};
const Keys kFolderKeys = {"name", "path", "read_only"};
const Keys kBuiltinNames = {"internet", "host", "firewall", kOfflineZone};

const Choices<FirewallEngine> kEngines = {{"pfsense", FirewallEngine::kPfsense},
                                          {"nftables", FirewallEngine::kNftables}};
const Choices<WanMode> kWanModes = {{"bridged", WanMode::kBridged}, {"nat", WanMode::kNat}};
const Choices<Chipset> kChipsets = {{"piix3", Chipset::kPiix3}, {"ich9", Chipset::kIch9}};
const Choices<NetworkMode> kNetworkModes = {{"per-vm", NetworkMode::kPerVm},
                                            {"shared", NetworkMode::kShared}};
const Choices<RuleAction> kActions = {{"allow", RuleAction::kAllow}, {"deny", RuleAction::kDeny}};
const Choices<Protocol> kProtocols = {{"tcp", Protocol::kTcp},
                                      {"udp", Protocol::kUdp},
                                      {"icmp", Protocol::kIcmp},
                                      {"any", Protocol::kAny}};
const Choices<Sharing> kSharings = {{"off", Sharing::kOff},
                                    {"host-to-guest", Sharing::kHostToGuest},
                                    {"guest-to-host", Sharing::kGuestToHost},
                                    {"bidirectional", Sharing::kBidirectional}};
const Choices<int> kIcmpTypes = {{"echo-reply", 0},           {"destination-unreachable", 3},
                                 {"source-quench", 4},        {"redirect", 5},
                                 {"echo-request", 8},         {"router-advertisement", 9},
                                 {"router-solicitation", 10}, {"time-exceeded", 11},
                                 {"parameter-problem", 12},   {"timestamp-request", 13},
                                 {"timestamp-reply", 14}};

constexpr int kMaxMib = 16 * 1024 * 1024;
constexpr int kSmallestSubnet = 28;  // room for the gateway, fixed addresses and a DHCP pool

SourceLoc LocOf(const toml::source_region& r) {
  return {static_cast<int>(r.begin.line), static_cast<int>(r.begin.column)};
}

template <typename E>
Keys ChoiceNames(const Choices<E>& choices) {
  Keys names;
  for (const auto& [name, value] : choices) names.push_back(name);
  return names;
}

// "'a' or 'b'", "'a', 'b' or 'c'".
std::string QuotedList(const Keys& words) {
  std::string out;
  for (size_t i = 0; i < words.size(); ++i) {
    if (i > 0) out += (i + 1 == words.size()) ? " or " : ", ";
    out += fmt::format("'{}'", words[i]);
  }
  return out;
}

bool IsValidName(std::string_view name) {
  if (name.empty() || name.size() > 32 || name[0] == '-') return false;
  return std::all_of(name.begin(), name.end(),
                     [](char c) { return std::islower(c) || std::isdigit(c) || c == '-'; });
}

bool IsHostLabel(std::string_view label) {
  if (label.empty() || label.size() > 63 || label.front() == '-' || label.back() == '-') {
    return false;
  }
  return std::all_of(label.begin(), label.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '-';
  });
}

// A host name has at least one dot, valid labels, and a last label that is not all digits (so
// that a mistyped address such as "10.0.0.300" is not taken for a name).
bool IsHostName(std::string_view text) {
  if (text.size() > 253 || text.find('.') == std::string_view::npos) return false;
  size_t start = 0;
  std::string_view last;
  while (true) {
    size_t dot = text.find('.', start);
    last = text.substr(start, dot == std::string_view::npos ? dot : dot - start);
    if (!IsHostLabel(last)) return false;
    if (dot == std::string_view::npos) break;
    start = dot + 1;
  }
  return !std::all_of(last.begin(), last.end(), [](char c) { return std::isdigit(c); });
}

// toml++ does not count an empty array as an array of tables; an empty list is fine here.
bool IsArrayOfTables(const toml::array& list) { return list.empty() || list.is_array_of_tables(); }

std::string Lower(std::string_view text) {
  std::string out(text);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

// Reads an address, a prefix or a host name. Returns "" and fills `entry`, or an error text.
std::string ParseEntry(std::string_view text, DestinationEntry& entry) {
  if (std::optional<Prefix> p = Prefix::Parse(text)) {
    if (p->HasHostBits()) {
      return fmt::format("'{}' has host bits set (did you mean '{}'?)", text,
                         p->Network().ToString());
    }
    entry.prefix = *p;
    return "";
  }
  if (IsHostName(text)) {
    entry.host_name = Lower(text);
    return "";
  }
  if (text.find('/') != std::string_view::npos) {
    return fmt::format("'{}' is not a valid prefix", text);
  }
  return fmt::format("'{}' is not a valid address or host name", text);
}

// Ports as written in a string: "443" or "8000-8080".
bool ParsePortText(std::string_view text, int64_t& first, int64_t& last) {
  size_t dash = text.find('-');
  std::string_view a = text.substr(0, dash);
  std::string_view b = dash == std::string_view::npos ? a : text.substr(dash + 1);
  auto [pa, ea] = std::from_chars(a.data(), a.data() + a.size(), first);
  auto [pb, eb] = std::from_chars(b.data(), b.data() + b.size(), last);
  if (a.empty() || b.empty() || ea != std::errc() || eb != std::errc() ||
      pa != a.data() + a.size() || pb != b.data() + b.size()) {
    return false;
  }
  return true;
}

struct NameDecl {
  std::string kind;  // "zone", "VM", "destination"
  std::string name;
  SourceLoc loc;
  std::string zone;  // for a VM
};

class SpecReader {
 public:
  SpecReader(Spec& spec, Diagnostics& diags, const Date& today)
      : spec_(spec), diags_(diags), today_(today) {}

  void Read(const toml::table& root);

 private:
  // Diagnostics.
  void Error(SourceLoc loc, std::string message) { diags_.Error(spec_.file, loc, message); }
  void Warning(SourceLoc loc, std::string message) { diags_.Warning(spec_.file, loc, message); }
  SourceLoc KeyLoc(const toml::table& t, std::string_view key) const;
  SourceLoc ValueLoc(const toml::table& t, std::string_view key) const;

  // Typed getters: leave `out` as it is when the key is absent; report a wrong type or value.
  void CheckKeys(const toml::table& t, std::string_view where, const Keys& allowed);
  bool Require(const toml::table& t, std::string_view key, std::string_view where);
  bool GetString(const toml::table& t, std::string_view key, std::string& out);
  bool GetInt(const toml::table& t, std::string_view key, int& out, int min, int max);
  bool GetBool(const toml::table& t, std::string_view key, bool& out);
  template <typename E>
  bool GetChoice(const toml::table& t, std::string_view key, const Choices<E>& choices, E& out);
  bool GetPrefix(const toml::table& t, std::string_view key, std::optional<Prefix>& out,
                 SourceLoc* loc = nullptr);
  bool GetSubnet(const toml::table& t, std::string_view key, std::optional<Prefix>& out,
                 SourceLoc& loc);
  bool GetAddress(const toml::table& t, std::string_view key, std::optional<IpAddress>& out,
                  SourceLoc& loc);
  const toml::table* GetTable(const toml::table& t, std::string_view key);
  // The entries of a table of named tables, in file order.
  std::vector<std::pair<const toml::key*, const toml::node*>> InFileOrder(const toml::table& t);

  // First pass: one function per table.
  void ReadHost(const toml::table& t);
  void ReadFirewall(const toml::table& t);
  void ReadNatUser(const toml::table& t);
  void ReadPasswordHash(const toml::table& t);
  void ReadAdminFrom(const toml::table& t);
  void ReadPlanSettings(const toml::table& t);
  void ReadDestinations(const toml::table& t);
  void ReadZones(const toml::table& t);
  void ReadZone(const toml::key& key, const toml::table& t);
  void ReadVms(const toml::table& t);
  void ReadVm(const toml::key& key, const toml::table& t);
  void ReadSharedFolders(const toml::table& t, Vm& vm);
  std::vector<EgressRule> ReadEgress(const toml::table& t, const std::string& where,
                                     const std::string& owner);
  void ReadRule(const toml::table& t, const std::string& where, EgressRule& rule);
  void ReadPorts(const toml::table& t, EgressRule& rule, bool proto_known);
  void ReadPort(const toml::node& n, EgressRule& rule);
  void ReadIcmpType(const toml::table& t, EgressRule& rule, bool proto_known);
  void ReadExpiry(const toml::table& t, EgressRule& rule);
  void DeclareName(std::string kind, const toml::key& key, std::string zone = "");

  // Second pass: cross-references.
  void CheckNames();
  void CheckVm(const Vm& vm);
  void CheckZone(const Zone& zone);
  void CheckAdminFrom();
  void ResolveTargets(std::vector<EgressRule>& rules);
  void ResolveTarget(EgressRule& rule);
  void WarnIfOnlyIpv6(const EgressRule& rule);
  bool ResolveName(const std::string& word, Target& target);
  Keys AllNames() const;

  Spec& spec_;
  Diagnostics& diags_;
  Date today_;
  std::vector<NameDecl> names_;
  std::vector<SourceLoc> admin_from_locs_;
};

SourceLoc SpecReader::KeyLoc(const toml::table& t, std::string_view key) const {
  auto it = t.find(key);
  return it == t.end() ? LocOf(t.source()) : LocOf(it->first.source());
}

SourceLoc SpecReader::ValueLoc(const toml::table& t, std::string_view key) const {
  const toml::node* n = t.get(key);
  return n ? LocOf(n->source()) : LocOf(t.source());
}

void SpecReader::CheckKeys(const toml::table& t, std::string_view where, const Keys& allowed) {
  for (auto&& [key, value] : t) {
    if (std::find(allowed.begin(), allowed.end(), key.str()) != allowed.end()) continue;
    Error(LocOf(key.source()), fmt::format("unknown key '{}' {}{}", key.str(), where,
                                           DidYouMeanSuffix(key.str(), allowed)));
  }
}

bool SpecReader::Require(const toml::table& t, std::string_view key, std::string_view where) {
  if (t.contains(key)) return true;
  Error(LocOf(t.source()), fmt::format("missing required key '{}' in {}", key, where));
  return false;
}

bool SpecReader::GetString(const toml::table& t, std::string_view key, std::string& out) {
  const toml::node* n = t.get(key);
  if (!n) return false;
  if (!n->is_string()) {
    Error(LocOf(n->source()), fmt::format("'{}' must be a string", key));
    return false;
  }
  out = n->as_string()->get();
  return true;
}

bool SpecReader::GetInt(const toml::table& t, std::string_view key, int& out, int min, int max) {
  const toml::node* n = t.get(key);
  if (!n) return false;
  if (!n->is_integer()) {
    Error(LocOf(n->source()), fmt::format("'{}' must be an integer", key));
    return false;
  }
  int64_t v = n->as_integer()->get();
  if (v < min || v > max) {
    Error(LocOf(n->source()), fmt::format("'{}' must be between {} and {}", key, min, max));
    return false;
  }
  out = static_cast<int>(v);
  return true;
}

bool SpecReader::GetBool(const toml::table& t, std::string_view key, bool& out) {
  const toml::node* n = t.get(key);
  if (!n) return false;
  if (!n->is_boolean()) {
    Error(LocOf(n->source()), fmt::format("'{}' must be true or false", key));
    return false;
  }
  out = n->as_boolean()->get();
  return true;
}

template <typename E>
bool SpecReader::GetChoice(const toml::table& t, std::string_view key, const Choices<E>& choices,
                           E& out) {
  std::string text;
  if (!GetString(t, key, text)) return false;
  for (const auto& [name, value] : choices) {
    if (name != text) continue;
    out = value;
    return true;
  }
  Error(ValueLoc(t, key), fmt::format("'{}' must be {}, not '{}'{}", key,
                                      QuotedList(ChoiceNames(choices)), text,
                                      DidYouMeanSuffix(text, ChoiceNames(choices))));
  return false;
}

bool SpecReader::GetPrefix(const toml::table& t, std::string_view key, std::optional<Prefix>& out,
                           SourceLoc* loc) {
  std::string text;
  if (!GetString(t, key, text)) return false;
  if (loc) *loc = ValueLoc(t, key);
  std::optional<Prefix> p = Prefix::Parse(text);
  if (!p || text.find('/') == std::string::npos) {
    Error(ValueLoc(t, key),
          fmt::format("'{}' is not a valid prefix (expected a form like '10.137.9.0/24')", text));
    return false;
  }
  if (p->HasHostBits()) {
    Error(ValueLoc(t, key), fmt::format("'{}' has host bits set (did you mean '{}'?)", text,
                                        p->Network().ToString()));
    return false;
  }
  out = p;
  return true;
}

// A pinned IPv4 subnet for an internal or host-only network.
bool SpecReader::GetSubnet(const toml::table& t, std::string_view key, std::optional<Prefix>& out,
                           SourceLoc& loc) {
  std::optional<Prefix> p;
  if (!GetPrefix(t, key, p, &loc)) return false;
  if (p->address.family != Family::kV4) {
    Error(loc,
          fmt::format("'{}' is not an IPv4 prefix (internal networks are IPv4)", p->ToString()));
    return false;
  }
  if (p->length > kSmallestSubnet) {
    Error(loc,
          fmt::format("subnet '{}' is too small (at most /{})", p->ToString(), kSmallestSubnet));
    return false;
  }
  out = p;
  return true;
}

bool SpecReader::GetAddress(const toml::table& t, std::string_view key,
                            std::optional<IpAddress>& out, SourceLoc& loc) {
  std::string text;
  if (!GetString(t, key, text)) return false;
  loc = ValueLoc(t, key);
  std::optional<IpAddress> a = IpAddress::Parse(text);
  if (!a) {
    Error(loc, fmt::format("'{}' is not a valid address", text));
    return false;
  }
  if (a->family != Family::kV4) {
    Error(loc, fmt::format("'{}' is not an IPv4 address (internal networks are IPv4)", text));
    return false;
  }
  out = a;
  return true;
}

const toml::table* SpecReader::GetTable(const toml::table& t, std::string_view key) {
  const toml::node* n = t.get(key);
  if (!n) return nullptr;
  if (!n->is_table()) {
    Error(LocOf(n->source()), fmt::format("'{}' must be a table", key));
    return nullptr;
  }
  return n->as_table();
}

std::vector<std::pair<const toml::key*, const toml::node*>> SpecReader::InFileOrder(
    const toml::table& t) {
  std::vector<std::pair<const toml::key*, const toml::node*>> out;
  for (auto&& [key, value] : t) out.emplace_back(&key, &value);
  std::stable_sort(out.begin(), out.end(), [](const auto& a, const auto& b) {
    SourceLoc la = LocOf(a.first->source()), lb = LocOf(b.first->source());
    return std::tie(la.line, la.column) < std::tie(lb.line, lb.column);
  });
  return out;
}

void SpecReader::Read(const toml::table& root) {
  CheckKeys(root, "at the top level", kTopKeys);
  size_t errors_before = diags_.list().size();
  if (const toml::table* host = GetTable(root, "host")) {
    ReadHost(*host);
  } else if (!root.contains("host")) {
    Error({}, "missing required table [host]");
  }
  if (const toml::table* t = GetTable(root, "plan")) ReadPlanSettings(*t);
  auto is_error = [](const Diagnostic& d) { return d.severity == Severity::kError; };
  spec_.plannable =
      std::none_of(diags_.list().begin() + errors_before, diags_.list().end(), is_error);
  if (const toml::table* t = GetTable(root, "firewall")) ReadFirewall(*t);
  if (const toml::table* t = GetTable(root, "destinations")) ReadDestinations(*t);
  if (const toml::table* t = GetTable(root, "zones")) ReadZones(*t);
  if (const toml::table* t = GetTable(root, "vms")) ReadVms(*t);

  CheckNames();
  for (const Zone& zone : spec_.zones) CheckZone(zone);
  for (const Vm& vm : spec_.vms) CheckVm(vm);
  CheckAdminFrom();
  ResolveTargets(spec_.host.egress);
  for (Zone& zone : spec_.zones) ResolveTargets(zone.egress);
}

void SpecReader::ReadHost(const toml::table& t) {
  Host& host = spec_.host;
  host.loc = LocOf(t.source());
  CheckKeys(t, "in [host]", kHostKeys);
  GetString(t, "name", host.name);
  if (Require(t, "physical_nic", "[host]")) GetString(t, "physical_nic", host.physical_nic);
  GetPrefix(t, "lan_subnet", host.lan_subnet, &host.lan_subnet_loc);
  GetString(t, "hostonly_network", host.hostonly_network);
  GetSubnet(t, "hostonly_subnet", host.hostonly_subnet, host.hostonly_subnet_loc);
  GetAddress(t, "address", host.address, host.address_loc);
  host.egress = ReadEgress(t, "[[host.egress]]", "host");
}

void SpecReader::ReadFirewall(const toml::table& t) {
  FirewallVm& fw = spec_.firewall;
  fw.loc = LocOf(t.source());
  CheckKeys(t, "in [firewall]", kFirewallKeys);
  if (GetString(t, "name", fw.name) && !IsValidName(fw.name)) {
    Error(ValueLoc(t, "name"), fmt::format("invalid name '{}' (use 1 to 32 lower-case letters, "
                                           "digits and '-', not starting with '-')",
                                           fw.name));
  }
  GetChoice(t, "engine", kEngines, fw.engine);
  GetChoice(t, "wan", kWanModes, fw.wan);
  GetString(t, "wan_nic", fw.wan_nic);
  ReadNatUser(t);
  GetBool(t, "dns_resolver", fw.dns_resolver);
  ReadAdminFrom(t);
  if (GetChoice(t, "chipset", kChipsets, fw.chipset)) fw.chipset_loc = KeyLoc(t, "chipset");
  GetInt(t, "cpus", fw.cpus, 1, 64);
  GetInt(t, "memory", fw.memory_mib, 64, kMaxMib);
  GetInt(t, "disk", fw.disk_mib, 1, kMaxMib);
  GetString(t, "medium", fw.medium);
  ReadPasswordHash(t);
}

// A bcrypt hash as pfSense stores it: "$2y$" (or "$2b$"), a two-digit cost, '$', 53 characters.
void SpecReader::ReadPasswordHash(const toml::table& t) {
  std::string& hash = spec_.firewall.admin_password_hash;
  if (!GetString(t, "admin_password_hash", hash)) return;
  bool valid = hash.size() == 60 && (hash.starts_with("$2y$") || hash.starts_with("$2b$")) &&
               std::isdigit(static_cast<unsigned char>(hash[4])) &&
               std::isdigit(static_cast<unsigned char>(hash[5])) && hash[6] == '$' &&
               std::all_of(hash.begin() + 7, hash.end(), [](char c) {
                 return std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '/';
               });
  if (valid) return;
  Error(ValueLoc(t, "admin_password_hash"),
        "'admin_password_hash' is not a bcrypt hash (expected '$2y$10$' and 53 more characters, "
        "as 'htpasswd -bnBC 10 \"\" PASSWORD | tr -d :' prints)");
  hash.clear();
}

// A Linux user name, as nft resolves it when loading the host's lockdown.
void SpecReader::ReadNatUser(const toml::table& t) {
  FirewallVm& fw = spec_.firewall;
  if (!GetString(t, "nat_user", fw.nat_user)) return;
  fw.nat_user_loc = ValueLoc(t, "nat_user");
  const std::string& u = fw.nat_user;
  bool valid = !u.empty() && u.size() <= 32 && (std::islower(u[0]) || u[0] == '_') &&
               std::all_of(u.begin(), u.end(), [](char c) {
                 return std::islower(c) || std::isdigit(c) || c == '_' || c == '-';
               });
  if (!valid) {
    Error(fw.nat_user_loc, fmt::format("invalid user name '{}' (use up to 32 lower-case letters, "
                                       "digits, '_' and '-', starting with a letter or '_')",
                                       u));
  } else if (u == "root") {
    Error(fw.nat_user_loc, "'nat_user' must be a user of its own, not 'root' (the host's own "
                           "traffic is every other user's)");
  }
}

void SpecReader::ReadAdminFrom(const toml::table& t) {
  const toml::node* n = t.get("admin_from");
  if (!n) return;
  spec_.firewall.admin_from_loc = LocOf(n->source());
  const toml::array* list = n->as_array();
  bool all_strings = list && std::all_of(list->begin(), list->end(),
                                         [](const toml::node& e) { return e.is_string(); });
  if (!all_strings) {
    Error(LocOf(n->source()), "'admin_from' must be an array of names");
    return;
  }
  spec_.firewall.admin_from.clear();
  for (const toml::node& e : *list) {
    spec_.firewall.admin_from.push_back(e.as_string()->get());
    admin_from_locs_.push_back(LocOf(e.source()));
  }
}

void SpecReader::ReadPlanSettings(const toml::table& t) {
  PlanSettings& plan = spec_.plan;
  plan.loc = LocOf(t.source());
  CheckKeys(t, "in [plan]", kPlanKeys);
  std::optional<Prefix> pool;
  if (GetPrefix(t, "pool", pool, &plan.pool_loc)) {
    if (pool->address.family != Family::kV4 || pool->length > kSmallestSubnet) {
      Error(plan.pool_loc,
            fmt::format("'pool' must be an IPv4 prefix of /{} or larger", kSmallestSubnet));
    } else {
      plan.pool = *pool;
    }
  }
  GetInt(t, "prefix_length", plan.prefix_length, plan.pool.length, kSmallestSubnet);
}

void SpecReader::ReadDestinations(const toml::table& t) {
  for (auto [key, node] : InFileOrder(t)) {
    DeclareName("destination", *key);
    Destination dest{std::string(key->str()), {}, LocOf(key->source())};
    const toml::array* list = node->as_array();
    if (!list) {
      Error(LocOf(node->source()), fmt::format("destination '{}' must be an array of addresses, "
                                               "prefixes and host names",
                                               dest.name));
      continue;
    }
    for (const toml::node& e : *list) {
      DestinationEntry entry;
      entry.loc = LocOf(e.source());
      std::string error = e.is_string() ? ParseEntry(e.as_string()->get(), entry)
                                        : "a destination entry must be a string";
      if (!error.empty()) {
        Error(entry.loc, error);
      } else {
        dest.entries.push_back(entry);
      }
    }
    if (list->empty()) Warning(dest.loc, fmt::format("destination '{}' is empty", dest.name));
    spec_.destinations.push_back(std::move(dest));
  }
}

void SpecReader::ReadZones(const toml::table& t) {
  for (auto [key, node] : InFileOrder(t)) {
    if (!node->is_table()) {
      Error(LocOf(node->source()), fmt::format("zone '{}' must be a table", key->str()));
      continue;
    }
    ReadZone(*key, *node->as_table());
  }
}

void SpecReader::ReadZone(const toml::key& key, const toml::table& t) {
  Zone zone;
  zone.name = key.str();
  zone.loc = LocOf(key.source());
  std::string where = fmt::format("[zones.{}]", zone.name);
  DeclareName("zone", key);
  CheckKeys(t, "in " + where, kZoneKeys);
  GetChoice(t, "network", kNetworkModes, zone.network);
  GetBool(t, "dns", zone.dns);
  GetSubnet(t, "subnet", zone.subnet, zone.subnet_loc);
  zone.egress = ReadEgress(t, fmt::format("[[zones.{}.egress]]", zone.name),
                           fmt::format("zone '{}'", zone.name));
  spec_.zones.push_back(std::move(zone));
}

void SpecReader::ReadVms(const toml::table& t) {
  for (auto [key, node] : InFileOrder(t)) {
    if (!node->is_table()) {
      Error(LocOf(node->source()), fmt::format("VM '{}' must be a table", key->str()));
      continue;
    }
    ReadVm(*key, *node->as_table());
  }
}

void SpecReader::ReadVm(const toml::key& key, const toml::table& t) {
  Vm vm;
  vm.name = key.str();
  vm.loc = LocOf(key.source());
  std::string where = fmt::format("[vms.{}]", vm.name);
  CheckKeys(t, "in " + where, kVmKeys);
  if (Require(t, "zone", where) && GetString(t, "zone", vm.zone)) {
    vm.zone_loc = ValueLoc(t, "zone");
  }
  DeclareName("VM", key, vm.zone);
  GetInt(t, "cpus", vm.cpus, 1, 64);
  GetInt(t, "memory", vm.memory_mib, 64, kMaxMib);
  GetInt(t, "disk", vm.disk_mib, 1, kMaxMib);
  GetString(t, "medium", vm.medium);
  GetString(t, "template", vm.template_vm);
  if (!vm.template_vm.empty() && vm.medium.empty() && t.contains("disk")) {
    Warning(KeyLoc(t, "disk"), fmt::format("'disk' is ignored: VM '{}' is cloned from template "
                                           "'{}' and keeps its disk",
                                           vm.name, vm.template_vm));
  }
  if (!vm.medium.empty() && !vm.template_vm.empty()) {
    Error(KeyLoc(t, "template"),
          "'medium' and 'template' exclude each other (a VM is installed "
          "from a medium or cloned from a template)");
  }
  GetChoice(t, "clipboard", kSharings, vm.clipboard);
  GetChoice(t, "drag_and_drop", kSharings, vm.drag_and_drop);
  ReadSharedFolders(t, vm);
  GetAddress(t, "address", vm.address, vm.address_loc);
  GetSubnet(t, "subnet", vm.subnet, vm.subnet_loc);
  spec_.vms.push_back(std::move(vm));
}

void SpecReader::ReadSharedFolders(const toml::table& t, Vm& vm) {
  const toml::node* n = t.get("shared_folders");
  if (!n) return;
  const toml::array* list = n->as_array();
  if (!list || !IsArrayOfTables(*list)) {
    Error(LocOf(n->source()), "'shared_folders' must be an array of tables");
    return;
  }
  std::string where = fmt::format("a shared folder of VM '{}'", vm.name);
  for (const toml::node& e : *list) {
    const toml::table& f = *e.as_table();
    SharedFolder folder;
    CheckKeys(f, "in " + where, kFolderKeys);
    if (Require(f, "name", where)) GetString(f, "name", folder.name);
    if (Require(f, "path", where) && GetString(f, "path", folder.host_path) &&
        !folder.host_path.starts_with('/')) {
      Error(ValueLoc(f, "path"), fmt::format("'{}' is not an absolute path", folder.host_path));
    }
    GetBool(f, "read_only", folder.read_only);
    vm.shared_folders.push_back(folder);
  }
}

std::vector<EgressRule> SpecReader::ReadEgress(const toml::table& t, const std::string& where,
                                               const std::string& owner) {
  std::vector<EgressRule> rules;
  const toml::node* n = t.get("egress");
  if (!n) return rules;
  const toml::array* list = n->as_array();
  if (!list || !IsArrayOfTables(*list)) {
    Error(LocOf(n->source()), fmt::format("'egress' must be an array of tables ({})", where));
    return rules;
  }
  for (const toml::node& e : *list) {
    EgressRule rule;
    rule.owner = owner;
    rule.index = static_cast<int>(rules.size()) + 1;
    ReadRule(*e.as_table(), where, rule);
    rules.push_back(std::move(rule));
  }
  return rules;
}

void SpecReader::ReadRule(const toml::table& t, const std::string& where, EgressRule& rule) {
  rule.loc = LocOf(t.source());
  CheckKeys(t, "in " + where, kRuleKeys);
  if (Require(t, "to", where) && GetString(t, "to", rule.to.name)) {
    rule.to_loc = ValueLoc(t, "to");
    if (rule.to.name.empty()) Error(rule.to_loc, "'to' must not be empty");
  }
  GetChoice(t, "action", kActions, rule.action);
  // An unknown proto is its own error: the ports and ICMP type are still checked, but not
  // against a protocol the rule does not have.
  bool proto_known = GetChoice(t, "proto", kProtocols, rule.protocol) || !t.contains("proto");
  ReadPorts(t, rule, proto_known);
  ReadIcmpType(t, rule, proto_known);
  GetString(t, "comment", rule.comment);
  ReadExpiry(t, rule);
}

void SpecReader::ReadPorts(const toml::table& t, EgressRule& rule, bool proto_known) {
  const toml::node* n = t.get("ports");
  if (!n) return;
  const toml::array* list = n->as_array();
  if (!list) {
    Error(LocOf(n->source()), "'ports' must be an array of port numbers and 'first-last' strings");
    return;
  }
  if (proto_known && rule.protocol != Protocol::kTcp && rule.protocol != Protocol::kUdp) {
    Error(KeyLoc(t, "ports"), fmt::format("'ports' needs proto 'tcp' or 'udp' (this rule has "
                                          "proto '{}')",
                                          ProtocolName(rule.protocol)));
    return;
  }
  if (list->empty()) {
    Error(LocOf(n->source()), "'ports' is empty (leave it out to mean every port)");
    return;
  }
  for (const toml::node& e : *list) ReadPort(e, rule);
  MergeNeighbouringPorts(rule.ports);
}

// [1, 2, 3, "4-9"] is the range 1-9: a list written out port by port would otherwise become a
// firewall rule and a lab probe per port. Only neighbours in the written order are merged, so
// the rendered rules keep the order the user gave.
void MergeNeighbouringPorts(std::vector<PortRange>& ports) {
  std::vector<PortRange> out;
  for (const PortRange& p : ports) {
    if (!out.empty() && p.first <= out.back().last + 1 && p.last + 1 >= out.back().first) {
      out.back().first = std::min(out.back().first, p.first);
      out.back().last = std::max(out.back().last, p.last);
    } else {
      out.push_back(p);
    }
  }
  ports = std::move(out);
}

// 443 or "8000-8080": a range checked for bounds and order.
void SpecReader::ReadPort(const toml::node& n, EgressRule& rule) {
  SourceLoc loc = LocOf(n.source());
  int64_t first = 0, last = 0;
  if (n.is_integer()) {
    first = last = n.as_integer()->get();
  } else if (!n.is_string()) {
    return Error(loc, "a port must be an integer or a 'first-last' string");
  } else if (!ParsePortText(n.as_string()->get(), first, last)) {
    return Error(loc, fmt::format("bad port '{}' (expected a number or 'first-last')",
                                  n.as_string()->get()));
  }

  for (int64_t port : {first, last}) {
    if (port < 1 || port > 65535) {
      return Error(loc, fmt::format("port {} is out of range (1-65535)", port));
    }
  }
  if (first > last) {
    return Error(loc, fmt::format("port range '{}-{}' is reversed (did you mean '{}-{}'?)", first,
                                  last, last, first));
  }
  rule.ports.push_back({static_cast<uint16_t>(first), static_cast<uint16_t>(last)});
}

void SpecReader::ReadIcmpType(const toml::table& t, EgressRule& rule, bool proto_known) {
  const toml::node* n = t.get("icmp_type");
  if (!n) return;
  SourceLoc loc = LocOf(n->source());
  if (proto_known && rule.protocol != Protocol::kIcmp) {
    Error(KeyLoc(t, "icmp_type"), fmt::format("'icmp_type' needs proto 'icmp' (this rule has "
                                              "proto '{}')",
                                              ProtocolName(rule.protocol)));
  } else if (n->is_integer()) {
    int64_t type = n->as_integer()->get();
    if (type < 0 || type > 255) {
      Error(loc, fmt::format("icmp type {} is out of range (0-255)", type));
    } else {
      rule.icmp_type = static_cast<int>(type);
    }
  } else if (n->is_string()) {
    const std::string& name = n->as_string()->get();
    for (const auto& [known, type] : kIcmpTypes) {
      if (known == name) rule.icmp_type = type;
    }
    if (!rule.icmp_type) {
      Error(loc, fmt::format("unknown icmp type '{}'{}", name,
                             DidYouMeanSuffix(name, ChoiceNames(kIcmpTypes))));
    }
  } else {
    Error(loc, "'icmp_type' must be an integer or a name like 'echo-request'");
  }
  // Connection tracking lets only these requests open a connection; answers and errors pass
  // as part of one, never by a rule of their own.
  static const int kOpening[] = {8, 13, 15, 17};
  if (rule.icmp_type && std::find(std::begin(kOpening), std::end(kOpening), *rule.icmp_type) ==
                            std::end(kOpening)) {
    Warning(loc, fmt::format("icmp type {} opens no connection (firewalls pass it only as part "
                             "of one); the rule changes nothing",
                             *rule.icmp_type));
  }
}

void SpecReader::ReadExpiry(const toml::table& t, EgressRule& rule) {
  const toml::node* n = t.get("expires");
  if (!n) return;
  SourceLoc loc = LocOf(n->source());
  if (!n->is_date()) {
    Error(loc, "'expires' must be a date, written without quotes (expires = 2027-01-31)");
    return;
  }
  toml::date d = n->as_date()->get();
  rule.expires = Date{d.year, d.month, d.day};
  if (!RuleInForce(rule, today_)) {
    Warning(loc, fmt::format("rule expired on {}; it is left out of the rendered rulesets",
                             rule.expires->ToString()));
  }
}

void SpecReader::DeclareName(std::string kind, const toml::key& key, std::string zone) {
  names_.push_back({std::move(kind), std::string(key.str()), LocOf(key.source()), std::move(zone)});
}

// One namespace for every name a rule can point at: the first declaration in the file wins and
// each later one is an error. A VM may share its own zone's name ([zones.work], [vms.work]).
void SpecReader::CheckNames() {
  std::vector<NameDecl> decls = names_;
  std::stable_sort(decls.begin(), decls.end(), [](const NameDecl& a, const NameDecl& b) {
    return std::tie(a.loc.line, a.loc.column) < std::tie(b.loc.line, b.loc.column);
  });
  std::map<std::string, const NameDecl*> first;
  for (const NameDecl& d : decls) {
    if (!IsValidName(d.name)) {
      Error(d.loc, fmt::format("invalid {} name '{}' (use 1 to 32 lower-case letters, digits "
                               "and '-', not starting with '-')",
                               d.kind, d.name));
    } else if (std::find(kBuiltinNames.begin(), kBuiltinNames.end(), d.name) !=
               kBuiltinNames.end()) {
      Error(d.loc, fmt::format("'{}' is a reserved name and cannot name a {}", d.name, d.kind));
    } else if (auto it = first.find(d.name); it != first.end()) {
      const NameDecl& prior = *it->second;
      bool vm_in_own_zone = d.kind == "VM" && prior.kind == "zone" && d.zone == d.name;
      if (!vm_in_own_zone) {
        Error(d.loc, fmt::format("{} '{}' clashes with {} '{}' declared on line {}", d.kind, d.name,
                                 prior.kind, prior.name, prior.loc.line));
      }
    } else {
      first[d.name] = &d;
    }
  }
  for (const Vm& vm : spec_.vms) {
    if (vm.name != spec_.firewall.name) continue;
    Error(vm.loc, fmt::format("VM '{}' has the name of the firewall VM", vm.name));
  }
  // The host's name labels its row and column of verify's matrix; a rule naming it would
  // silently mean the other declaration.
  for (const NameDecl& d : names_) {
    if (d.name != spec_.host.name) continue;
    Error(d.loc, fmt::format("{} '{}' has the name of the host ([host] name)", d.kind, d.name));
  }
}

void SpecReader::CheckZone(const Zone& zone) {
  if (zone.subnet && zone.network == NetworkMode::kPerVm) {
    Error(zone.subnet_loc, fmt::format("zone '{}' has a network per VM, so it has no subnet to "
                                       "pin (set network = \"shared\", or pin 'subnet' on each VM)",
                                       zone.name));
  }
}

void SpecReader::CheckVm(const Vm& vm) {
  if (vm.zone.empty()) return;
  if (vm.zone == kOfflineZone) {
    if (vm.address) {
      Error(vm.address_loc, fmt::format("VM '{}' is offline, so it takes no 'address'", vm.name));
    }
    if (vm.subnet) {
      Error(vm.subnet_loc, fmt::format("VM '{}' is offline, so it takes no 'subnet'", vm.name));
    }
    return;
  }
  const Zone* zone = spec_.FindZone(vm.zone);
  if (!zone) {
    Keys zones = {kOfflineZone};
    for (const Zone& z : spec_.zones) zones.push_back(z.name);
    Error(vm.zone_loc,
          fmt::format("unknown zone '{}'{}", vm.zone, DidYouMeanSuffix(vm.zone, zones)));
    return;
  }
  if (vm.subnet && zone->network == NetworkMode::kShared) {
    Error(vm.subnet_loc, fmt::format("VM '{}' is on the shared network of zone '{}' (pin the "
                                     "zone's 'subnet' instead)",
                                     vm.name, zone->name));
  }
}

void SpecReader::CheckAdminFrom() {
  Keys names = {"host"};
  for (const Zone& z : spec_.zones) names.push_back(z.name);
  for (const Vm& vm : spec_.vms) names.push_back(vm.name);
  for (size_t i = 0; i < admin_from_locs_.size(); ++i) {
    const std::string& name = spec_.firewall.admin_from[i];
    const Vm* vm = spec_.FindVm(name);
    if (vm && vm->zone == kOfflineZone) {
      Error(admin_from_locs_[i], fmt::format("VM '{}' in 'admin_from' is offline", name));
    }
    if (std::find(names.begin(), names.end(), name) != names.end()) continue;
    Error(admin_from_locs_[i],
          fmt::format("unknown name '{}' in 'admin_from'{}", name, DidYouMeanSuffix(name, names)));
  }
}

Keys SpecReader::AllNames() const {
  Keys names = kBuiltinNames;
  for (const NameDecl& d : names_) names.push_back(d.name);
  return names;
}

void SpecReader::ResolveTargets(std::vector<EgressRule>& rules) {
  for (EgressRule& rule : rules) {
    if (!rule.to.name.empty()) ResolveTarget(rule);
  }
}

bool SpecReader::ResolveName(const std::string& word, Target& target) {
  using Kind = Target::Kind;
  if (word == "internet") {
    target.kind = Kind::kInternet;
  } else if (spec_.FindDestination(word)) {
    target.kind = Kind::kDestination;
  } else if (spec_.FindZone(word)) {
    target.kind = Kind::kZone;
  } else if (spec_.FindVm(word)) {
    target.kind = Kind::kVm;
  } else if (word == "firewall") {
    target.kind = Kind::kFirewall;
  } else if (word == "host") {
    target.kind = Kind::kHost;
  } else {
    return false;
  }
  return true;
}

// The planned networks carry no IPv6: a destination of IPv6 entries alone is never reached.
void SpecReader::WarnIfOnlyIpv6(const EgressRule& rule) {
  const Destination* d = spec_.FindDestination(rule.to.name);
  bool only_v6 = !d->entries.empty() &&
                 std::all_of(d->entries.begin(), d->entries.end(), [](const DestinationEntry& e) {
                   return e.prefix && e.prefix->address.family == Family::kV6;
                 });
  if (!only_v6) return;
  Warning(rule.to_loc, fmt::format("destination '{}' has only IPv6 entries, and the set-up routes "
                                   "no IPv6; the rule never matches",
                                   d->name));
}

void SpecReader::ResolveTarget(EgressRule& rule) {
  Target& to = rule.to;
  if (ResolveName(to.name, to)) {
    if (to.kind == Target::Kind::kHost) {
      Error(rule.to_loc, "rule targets the host, which accepts no connections (nothing may open "
                         "a connection to the host)");
    } else if (to.kind == Target::Kind::kFirewall) {
      Error(rule.to_loc, "rule targets the firewall VM, whose services are opened by 'dns' and "
                         "firewall.admin_from, not by egress rules");
    } else if (to.kind == Target::Kind::kZone && spec_.FindVm(to.name)) {
      Warning(rule.to_loc, fmt::format("'{}' names both a zone and a VM; the rule targets the "
                                       "zone",
                                       to.name));
    }
    const Vm* vm = to.kind == Target::Kind::kVm ? spec_.FindVm(to.name) : nullptr;
    if (vm && vm->zone == kOfflineZone) {
      Error(rule.to_loc, fmt::format("rule targets VM '{}', which is offline", vm->name));
    }
    if (to.kind == Target::Kind::kDestination) WarnIfOnlyIpv6(rule);
    bool zone_empty = to.kind == Target::Kind::kZone &&
                      std::none_of(spec_.vms.begin(), spec_.vms.end(),
                                   [&](const Vm& v) { return v.zone == to.name; });
    if (zone_empty) {
      Warning(rule.to_loc, fmt::format("rule targets zone '{}', which has no VMs", to.name));
    }
    return;
  }
  // A bare word that is no known name is a typo far more often than a host name.
  if (to.name.find_first_of("./:") == std::string::npos) {
    Error(rule.to_loc,
          fmt::format("unknown target '{}'{}", to.name, DidYouMeanSuffix(to.name, AllNames())));
    return;
  }
  to.kind = Target::Kind::kLiteral;
  to.literal.loc = rule.to_loc;
  std::string error = ParseEntry(to.name, to.literal);
  if (!error.empty()) Error(rule.to_loc, error);
  if (to.literal.prefix && to.literal.prefix->address.family == Family::kV6) {
    Warning(rule.to_loc, fmt::format("'{}' is IPv6, which the planned networks do not carry; the "
                                     "rule never matches",
                                     to.name));
  }
}

// toml++ says "Error while parsing table header: cannot redefine existing table 'vms.a'".
std::string TomlMessage(std::string_view description) {
  constexpr std::string_view kPrefix = "Error while parsing ";
  if (description.starts_with(kPrefix)) description.remove_prefix(kPrefix.size());
  return fmt::format("malformed toml: {}", description);
}

}  // namespace

bool ParseSpec(const std::string& file_name, std::string text, Spec& spec, Diagnostics& diags,
               const Date& today) {
  spec = Spec{};
  spec.file = file_name;
  spec.text = std::move(text);
  toml::parse_result parsed = toml::parse(spec.text, std::string_view(file_name));
  if (!parsed) {
    diags.Error(file_name, LocOf(parsed.error().source()),
                TomlMessage(parsed.error().description()));
    spec.plannable = false;
    return false;
  }

  size_t errors_before = diags.list().size();
  SpecReader(spec, diags, today).Read(parsed.table());
  if (spec.firewall.wan_nic.empty()) spec.firewall.wan_nic = spec.host.physical_nic;
  for (size_t i = errors_before; i < diags.list().size(); ++i) {
    if (diags.list()[i].severity == Severity::kError) return false;
  }
  return true;
}

bool ParseSpec(const std::string& file_name, std::string text, Spec& spec, Diagnostics& diags) {
  return ParseSpec(file_name, std::move(text), spec, diags, Today());
}

bool ReadSpec(const std::string& path, Spec& spec, Diagnostics& diags, const Date& today) {
  std::string text;
  if (!ReadWholeFile(path, text)) {
    diags.Error(path, {}, fmt::format("cannot read '{}'", path));
    spec.plannable = false;
    return false;
  }
  return ParseSpec(path, std::move(text), spec, diags, today);
}

bool ReadSpec(const std::string& path, Spec& spec, Diagnostics& diags) {
  return ReadSpec(path, spec, diags, Today());
}

}  // namespace bulkhead
