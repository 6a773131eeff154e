// SPDX-License-Identifier: Apache-2.0
// NAT in a pfSense config.xml: port forwards and 1:1 NAT become destination rewrites that the
// filter judges afterwards (a port forward with the "pass" filter rule option skips the
// filter), and outbound NAT becomes a first-match list per mode: manual rules, automatic
// rules for every inside network leaving by an interface with a gateway, or both, or none.
#include <fmt/format.h>

#include "import/pfsense_reader.h"

namespace bulkhead::pfsense {
namespace {

// The prefix a set of real addresses is, when it is exactly one.
std::optional<Prefix> SinglePrefix(const AddrSet& s) {
  if (s.ranges().size() != 1) return std::nullopt;
  const auto& r = s.ranges().front();
  if (r.first.space != r.last.space) return std::nullopt;
  if (r.first.space != AddrSpace::kV4 && r.first.space != AddrSpace::kV6) return std::nullopt;
  Family f = r.first.space == AddrSpace::kV4 ? Family::kV4 : Family::kV6;
  int bits = AddressBits(f);
  uint128 span = r.last.value - r.first.value;  // size - 1
  if ((span & (span + 1)) != 0 || (r.first.value & span) != 0) return std::nullopt;
  int host_bits = 0;
  while (host_bits < bits && ((span >> host_bits) & 1)) ++host_bits;
  return Prefix{{f, r.first.value}, bits - host_bits};
}

// The first port of a port field: its start, or the first port of an alias.
std::optional<uint16_t> FirstPort(const std::vector<PortSpan>& spans) {
  if (spans.empty()) return std::nullopt;
  return spans.front().first;
}

}  // namespace

void Reader::ReadNat(Node root) {
  Node nat = root.child("nat");
  // pfSense's modes: off, pure NAT, or else NAT + proxy (filter_nat_rules_generate);
  // OPNsense's reflection is pure NAT.
  Node system = root.child("system");
  Reflection reflect = Flag(system, "disablenatreflection") ? Reflection::kOff
                       : opnsense_ || Flag(system, "enablenatreflectionpurenat")
                           ? Reflection::kPureNat
                           : Reflection::kProxy;
  int index = 0;
  for (Node r : nat.children("rule")) {
    ReadPortForward(r, fmt::format("nat/rule[{}]", ++index), reflect);
  }
  index = 0;
  for (Node r : nat.children("onetoone")) ReadOneToOne(r, fmt::format("nat/onetoone[{}]", ++index));
  ReadOutboundNat(root);
}

// A port forward: packets to its destination (and port) on its interface are sent on to the
// target (and local port). With NAT reflection on, inside interfaces get the same rewrite.
void Reader::ReadPortForward(Node rule, const std::string& path, Reflection by_default) {
  if (Flag(rule, "disabled")) return;
  RuleNotes notes;
  std::string key = Text(rule.child("interface"));
  if (key.empty()) key = "wan";
  if (!FindIface(key)) {
    Warning(path + "/interface",
            fmt::format("interface '{}' is disabled or missing: {} skips the port forward", key,
                        product()));
    return;
  }
  std::vector<Family> families = RuleFamilies(rule, path, notes);
  if (families.empty()) return;
  if (!Text(rule.child("source").child("port")).empty()) {
    Unknown(path + "/source/port", "source ports are not modelled", notes);
    notes.whole_unknown = true;
  }
  Maybe<PacketSet> match = RuleMatch(rule, path, families, notes);
  Redirect r;
  r.exclude = Flag(rule, "nordr");
  r.pass = Text(rule.child("associated-rule-id")) == "pass";
  r.origin = Origin(path, RuleText(rule));
  if (!r.exclude) {
    std::string target = Text(rule.child("target"));
    Addrs to = target.empty() ? Addrs{} : aliases_.count(target) || Prefix::Parse(target)
                                              ? AddressToken(target, path + "/target", notes)
                                              : NetworkToken(target, path + "/target",
                                                             families, notes);
    auto one = SinglePrefix(to.sure);
    if (!one || one->length != AddressBits(one->address.family) || !to.maybe.empty()) {
      std::string why =
          target.empty() ? "no target" : fmt::format("target '{}' is not one address", target);
      Warning(path + "/target", fmt::format("{}: {} skips the port forward", why, product()));
      return;
    }
    r.target = *one;
    std::string dport = Text(rule.child("destination").child("port"));
    std::string local = Text(rule.child("local-port"));
    if (!dport.empty() && !local.empty() && local != dport) {
      auto from = PortSpans(dport, path + "/destination/port", notes);
      auto to_port = PortSpans(local, path + "/local-port", notes);
      if (from && to_port && FirstPort(*from) && FirstPort(*to_port)) {
        r.port_shift = int(*FirstPort(*to_port)) - int(*FirstPort(*from));
      }
    }
  }
  if (notes.failed || !notes.skipped_why.empty()) return;
  r.match = notes.whole_unknown ? PacketSet() : match.sure;
  r.unknown = match.sure.Union(match.maybe).Subtract(r.match);
  if (!notes.unknown_why.empty()) r.unknown_why = notes.unknown_why.front();
  r.iif.names = {key};

  // Reflection: the rule's own mode, else the system's.
  std::string own = Text(rule.child("natreflection"));
  Reflection mode = own == "purenat"   ? Reflection::kPureNat
                    : own == "enable"  ? Reflection::kProxy
                    : own == "disable" ? Reflection::kOff
                                       : by_default;
  // The inside interfaces whose hosts the forward's source lets in (those whose addresses are
  // only known at run time may be any).
  AddrSet sources = r.match.Union(r.unknown).Sources();
  std::vector<std::string> inside;
  for (const Iface& i : ifaces_) {
    if (i.outside || i.key == key) continue;
    bool meets = !i.dynamic.empty();
    for (const Prefix& p : i.addresses) meets = meets || sources.Intersects(AddrsOf(p.Network()));
    if (meets) inside.push_back(i.key);
  }
  if (mode == Reflection::kPureNat) {
    r.iif.names.insert(r.iif.names.end(), inside.begin(), inside.end());
  }
  // The proxy takes TCP only, and no forward of 500 ports or more. Its connections come from
  // the firewall, and the rule pfSense writes for them passes whatever was tagged on the way in.
  ServiceSet tcp_ports = r.match.Union(r.unknown).Services().Intersect(Proto(kProtoTcp));
  uint64_t ports = 0;
  for (const auto& span : tcp_ports.ranges()) ports += span.last - span.first + 1;
  std::optional<Redirect> proxied;
  if (mode == Reflection::kProxy && !r.exclude && !inside.empty() && ports < 500) {
    proxied = r;
    PacketSet tcp = PacketSet::Of(AllAddrsBothFamilies(), AllAddrsBothFamilies(), tcp_ports);
    proxied->match = r.match.Intersect(tcp);
    proxied->unknown = r.unknown.Intersect(tcp);
    proxied->iif.names = inside;
    proxied->pass = true;
    proxied->proxy = true;
  }
  fw_.redirects.push_back(std::move(r));
  if (proxied && !proxied->match.Union(proxied->unknown).empty()) {
    fw_.redirects.push_back(*std::move(proxied));
  }
}

// 1:1 NAT maps an inside address or prefix onto an outside one of the same length, both ways:
// packets arriving for the outside one are rewritten (and still filtered); packets the inside
// one sends out are given the outside one as source.
void Reader::ReadOneToOne(Node rule, const std::string& path) {
  if (Flag(rule, "disabled")) return;
  RuleNotes notes;
  std::string key = Text(rule.child("interface"));
  if (key.empty()) key = "wan";
  if (!FindIface(key)) return;
  std::vector<Family> families = RuleFamilies(rule, path, notes);
  if (families.empty()) return;
  Addrs inside = Endpoint(rule.child("source"), path + "/source", families, notes);
  Addrs remote = Endpoint(rule.child("destination"), path + "/destination", families, notes);
  std::string external = Text(rule.child("external"));
  Addrs outside = Prefix::Parse(external)
                      ? Addrs{AddrsOf(Prefix::Parse(external)->address), {}, ""}
                      : NetworkToken(external + "ip", path + "/external", families, notes);
  auto in_prefix = SinglePrefix(inside.sure);
  auto out_addr = SinglePrefix(outside.sure);
  if (!in_prefix || !out_addr || !inside.maybe.empty()) {
    Unknown(path, "1:1 NAT that is not between two addresses or prefixes is not modelled",
            notes);
    return;
  }
  Prefix out_prefix{out_addr->address, in_prefix->length};
  Redirect r;
  r.exclude = Flag(rule, "nobinat");
  r.one_to_one = true;
  r.external = out_prefix.Network();
  r.target = in_prefix->Network();
  r.origin = Origin(path, RuleText(rule));
  r.iif.names = {key};
  r.match = PacketSet::Of(remote.sure, AddrsOf(out_prefix.Network()), AllServices());
  fw_.redirects.push_back(r);

  SourceNat s;
  s.oif.names = {key};
  s.match = PacketSet::Of(AddrsOf(in_prefix->Network()), remote.sure, AllServices());
  s.translate = !r.exclude;
  s.origin = r.origin;
  fw_.source_nat.insert(fw_.source_nat.begin(), s);
}

// Outbound NAT by mode. "automatic" (or no mode) ignores manual rules, "hybrid" matches them
// before the automatic ones, "advanced" uses them alone, "disabled" translates nothing.
void Reader::ReadOutboundNat(Node root) {
  Node nat = root.child("nat");
  Node outbound = nat.child("outbound");
  std::string mode = Text(outbound.child("mode"));
  if (mode.empty() && Flag(nat.child("advancedoutbound"), "enable")) {
    mode = "advanced";
    outbound = nat.child("advancedoutbound");
  }
  if (mode.empty()) mode = "automatic";
  fw_.outbound_nat_mode = mode;
  if (mode == "disabled") return;
  int index = 0;
  for (Node rule : outbound.children("rule")) {
    std::string path = fmt::format("nat/outbound/rule[{}]", ++index);
    if (mode == "automatic") {
      Note(path, "manual outbound NAT rules are ignored in automatic mode");
      break;
    }
    if (Flag(rule, "disabled")) continue;
    std::string key = Text(rule.child("interface"));
    if (!FindIface(key)) continue;
    RuleNotes notes;
    std::vector<Family> families = RuleFamilies(rule, path, notes);
    Node src = rule.child("source");
    Addrs from;
    std::string net = Text(src.child("network"));
    if (net.empty() || net == "any") {
      from.sure = AllAddrsBothFamilies();
    } else if (Prefix::Parse(net) || aliases_.count(net)) {
      from = AddressToken(net, path + "/source/network", notes);
    } else {
      from = NetworkToken(net, path + "/source/network", families, notes);
    }
    Addrs to = Endpoint(rule.child("destination"), path + "/destination", families, notes);
    if (notes.failed || !notes.skipped_why.empty()) continue;
    SourceNat s;
    s.oif.names = {key};
    for (Family f : families) {
      AddrSet fam = AllAddrs(f);
      s.match = s.match.Union(PacketSet::Of(from.sure.Intersect(fam), to.sure.Intersect(fam),
                                            AllServices()));
    }
    s.translate = !Flag(rule, "nonat");
    s.origin = Origin(path, RuleText(rule));
    fw_.source_nat.push_back(std::move(s));
  }
  if (mode == "automatic" || mode == "hybrid") AddAutomaticOutboundNat();
}

// pfSense's automatic rules: the firewall itself and every inside network (an enabled
// interface without a gateway) get the address of each interface with a gateway.
void Reader::AddAutomaticOutboundNat() {
  AddrSet inside = AddrsOf(*Prefix::Parse("127.0.0.0/8"));
  for (const Iface& i : ifaces_) {
    if (i.outside) continue;
    for (const Prefix& p : i.addresses) inside = inside.Union(AddrsOf(p.Network()));
  }
  for (const Iface& i : ifaces_) {
    if (!i.outside || i.device.rfind("ovpn", 0) == 0 || i.device.rfind("ipsec", 0) == 0) {
      continue;
    }
    SourceNat s;
    s.oif.names = {i.key};
    s.match = PacketSet::Of(inside, AllAddrsBothFamilies(), AllServices());
    s.origin = Origin("nat/outbound", fmt::format("automatic outbound NAT on '{}'", i.key));
    fw_.source_nat.push_back(std::move(s));
  }
}

}  // namespace bulkhead::pfsense
