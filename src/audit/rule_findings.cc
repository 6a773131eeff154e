// SPDX-License-Identifier: Apache-2.0
// One walk per interface and direction over the firewall's chains finds every rule that no
// packet reaches: each rule first tests whether any still undecided packet is one it might
// match, then takes the ones it surely matches. Only the rules found dead are explained,
// by looking back for the rules before them in the chain that take their packets, which pf may
// meet after them (the chains put quick rules first). For tens of thousands of rules, a box
// around each rule's packets rules out most pairs of rules without set algebra, a walk leaves
// out the rules that one rule before them covers, and it takes the packets part by part, each
// part through only the rules that meet it.

#include "audit/rule_findings.h"

#include <fmt/format.h>

#include <algorithm>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <unordered_map>
#include <unordered_set>
#include <utility>

#include "audit/nat.h"
#include "engine/first_match.h"

namespace bulkhead {
namespace {

std::string RuleName(const Provenance& p) {
  if (p.path.rfind("filter/rule[", 0) != 0 && p.path.rfind("nat/", 0) != 0) return p.text;
  if (p.text.empty()) return p.path;
  return fmt::format("'{}' ({})", p.text, p.path);
}

PacketSet MostOf(const PolicyRule& r) {
  return r.unknown.empty() ? r.match : r.match.Union(r.unknown);
}

ServiceSet Dhcp() { return Ports(kProtoUdp, 67, 68); }

// ---- Rules at a glance -----------------------------------------------------------------------

// The smallest box around every cube of a set. A set lies within another only if its box
// does, and meets it only if the boxes meet: a few comparisons rule out most pairs of rules.
// Addresses are ranks in a sorted list of a chain's cube bounds (IndexedChain): scanning
// thousands of boxes for each rule is bound by memory, and a rank is an eighth of an AddrKey.
struct Box {
  uint32_t src_lo = 0, src_hi = 0, dst_lo = 0, dst_hi = 0, svc_lo = 0, svc_hi = 0;
  bool empty = true;

  bool Meets(const Box& o) const {
    return !empty && !o.empty && svc_lo <= o.svc_hi && o.svc_lo <= svc_hi && dst_lo <= o.dst_hi &&
           o.dst_lo <= dst_hi && src_lo <= o.src_hi && o.src_lo <= src_hi;
  }

  bool Holds(const Box& o) const {
    return !empty && !o.empty && svc_lo <= o.svc_lo && o.svc_hi <= svc_hi && dst_lo <= o.dst_lo &&
           o.dst_hi <= dst_hi && src_lo <= o.src_lo && o.src_hi <= src_hi;
  }

  void Add(const Box& o) {
    if (empty) {
      *this = o;
      return;
    }
    src_lo = std::min(src_lo, o.src_lo), src_hi = std::max(src_hi, o.src_hi);
    dst_lo = std::min(dst_lo, o.dst_lo), dst_hi = std::max(dst_hi, o.dst_hi);
    svc_lo = std::min(svc_lo, o.svc_lo), svc_hi = std::max(svc_hi, o.svc_hi);
  }
};

// The services and destinations of a set. A set lies within another only if these do, which
// interval tests tell without the allocations of a set difference.
struct Outline {
  explicit Outline(const PacketSet& s) : services(s.Services()), destinations(s.Destinations()) {}

  bool Holds(const Outline& o) const {
    return o.services.IsSubsetOf(services) && o.destinations.IsSubsetOf(destinations);
  }

  ServiceSet services;
  AddrSet destinations;
};

// What the walks and the look-backs ask about each rule of a chain, worked out once: where
// it is written (Provenance::Where), all it may match (MostOf), and the boxes and outlines of
// both.
struct IndexedChain {
  explicit IndexedChain(const Chain& c);
  Box BoxOf(const PacketSet& s) const;

  const Chain& chain;
  std::vector<std::string> keys;
  std::vector<PacketSet> most;
  std::vector<Box> match_boxes, most_boxes;
  std::vector<Outline> match_outlines, most_outlines;
  std::vector<AddrKey> bounds;  // of every cube of both, sorted: what the boxes hold ranks in
};

IndexedChain::IndexedChain(const Chain& c) : chain(c) {
  for (const PolicyRule& r : c.rules) {
    keys.push_back(r.origin.Where());
    const PacketSet& m = most.emplace_back(MostOf(r));
    for (const PacketSet* s : {&r.match, &m}) {
      for (const Cube& cube : s->cubes()) {
        bounds.insert(bounds.end(),
                      {cube.src.front(), cube.src.back(), cube.dst.front(), cube.dst.back()});
      }
    }
  }
  std::sort(bounds.begin(), bounds.end());
  bounds.erase(std::unique(bounds.begin(), bounds.end()), bounds.end());
  for (size_t i = 0; i < c.rules.size(); ++i) {
    match_boxes.push_back(BoxOf(c.rules[i].match));
    most_boxes.push_back(BoxOf(most[i]));
    match_outlines.emplace_back(c.rules[i].match);
    most_outlines.emplace_back(most[i]);
  }
}

// Only for a set whose cube bounds are all in `bounds`, where ranks compare as addresses do.
Box IndexedChain::BoxOf(const PacketSet& s) const {
  auto rank = [&](const AddrKey& k) {
    return static_cast<uint32_t>(std::lower_bound(bounds.begin(), bounds.end(), k) -
                                 bounds.begin());
  };
  Box box;
  for (const Cube& c : s.cubes()) {
    box.Add({rank(c.src.front()), rank(c.src.back()), rank(c.dst.front()), rank(c.dst.back()),
             c.svc.front(), c.svc.back(), false});
  }
  return box;
}

// The first of the rules `earlier` (indices into the chain) whose match holds all that rule
// `at` may match; nullopt when there is none, or rule `at` matches nothing.
std::optional<size_t> FirstCover(const IndexedChain& c, std::span<const size_t> earlier,
                                 size_t at) {
  for (size_t i : earlier) {
    if (!c.match_boxes[i].Holds(c.most_boxes[at])) continue;
    if (!c.match_outlines[i].Holds(c.most_outlines[at])) continue;
    if (c.most[at].IsSubsetOf(c.chain.rules[i].match)) return i;
  }
  return std::nullopt;
}

// ---- The walks -------------------------------------------------------------------------------

// A part of all packets, which is walked apart from the others. A walk tests each rule
// against the undecided packets, which the rules before it cut into ever more fragments, so
// its time grows with the square of its rules; walking each part through only the rules that
// meet it costs far less than one walk of everything through all of them.
struct Part {
  AddrSet destinations;
  ServiceSet services;
  PacketSet packets;
};

Part MakePart(AddrSet destinations, ServiceSet services) {
  PacketSet packets =
      PacketSet::All().Intersect(PacketSet::Of(AddrSet::All(), destinations, services));
  return {std::move(destinations), std::move(services), std::move(packets)};
}

// The parts every walk starts from: TCP, UDP, DHCP and the other services apart, in each
// cell of `networks`. As each part lies inside or outside each network and DHCP, the parts
// a pass rule takes packets in tell what the findings ask of it (Passed) as exactly as the
// packets would.
std::vector<Part> FirstParts(const std::vector<AddrSet>& networks) {
  std::vector<AddrSet> cells = {AddrSet::All()};
  for (const AddrSet& net : networks) {
    std::vector<AddrSet> cut;
    for (const AddrSet& c : cells) {
      for (AddrSet s : {c.Intersect(net), c.Subtract(net)}) {
        if (!s.empty()) cut.push_back(std::move(s));
      }
    }
    cells = std::move(cut);
  }
  ServiceSet tcp = Proto(kProtoTcp), udp = Proto(kProtoUdp);
  ServiceSet others = AllServices().Subtract(tcp.Union(udp));
  std::vector<Part> parts;
  for (const AddrSet& c : cells) {
    for (ServiceSet s : {tcp, udp.Subtract(Dhcp()), Dhcp(), others}) {
      Part p = MakePart(c, std::move(s));
      if (!p.packets.empty()) parts.push_back(std::move(p));
    }
  }
  return parts;
}

// The two halves of a part by service, which lie inside or outside whatever it does; nullopt
// for a part of one service.
std::optional<std::pair<Part, Part>> Halves(const Part& p) {
  auto halves = ServiceHalves(p.services);
  if (!halves) return std::nullopt;
  return std::pair{MakePart(p.destinations, std::move(halves->first)),
                   MakePart(p.destinations, std::move(halves->second))};
}

// What an accepting rule decides first, as far as the findings look at it: where inside it
// passes to, and which services. Both are those of the parts it takes packets in rather than
// of the packets, which makes no difference to the findings (FirstParts).
struct Passed {
  AddrSet inside_destinations;
  ServiceSet services;
};

// What the walks found, by rule (Provenance::Where).
struct Walks {
  AddrSet inside;                             // the networks of the inside interfaces
  std::vector<Part> parts;                    // FirstParts
  std::unordered_set<std::string> looked_at;  // the accepting rules whose Passed counts
  std::unordered_set<std::string> reached;
  std::map<std::string, Passed> passed;  // of the rules looked at, inbound only
  bool inbound = true;                   // of the walk under way
};

void NotePassed(const Part& part, const AddrSet& inside, Passed& p) {
  p.inside_destinations = p.inside_destinations.Union(part.destinations.Intersect(inside));
  p.services = p.services.Union(part.services);
}

// The rules that apply on `iif` and `oif`, less those that one rule before them covers: such
// a rule takes nothing and is never reached, so leaving it out changes no walk. Most dead
// rules are of this kind. A rule that covers one is kept or covered by one kept, so looking
// among those kept is enough.
std::vector<size_t> Uncovered(const IndexedChain& c, const std::string& iif,
                              const std::string& oif) {
  std::vector<size_t> kept;
  for (size_t i = 0; i < c.chain.rules.size(); ++i) {
    if (!RuleApplies(c.chain.rules[i], iif, oif, StateMatch::kNew)) continue;
    if (!c.most[i].empty() && !FirstCover(c, kept, i)) kept.push_back(i);
  }
  return kept;
}

// Those of `rules` (indices into the chain) that may match a packet of `part`.
std::vector<size_t> Meeting(const IndexedChain& c, std::span<const size_t> rules,
                            const Part& part) {
  std::vector<size_t> out;
  for (size_t i : rules) {
    if (c.most[i].Intersects(part.packets)) out.push_back(i);
  }
  return out;
}

// Walks `part` through `rules`, those that meet it, on `atoms` when given, else on atoms of
// its own once the undecided packets hold a large alias (engine/first_match.h). Whether a rule
// takes packets is all that is read off the walk, which saves decoding what it takes.
void Walk(const IndexedChain& c, AddrAtoms* atoms, const std::vector<size_t>& rules,
          const Part& part, Walks& w) {
  Chain sub;  // the rules as the walk needs them: what they match
  for (size_t i : rules) {
    sub.rules.push_back({.match = c.chain.rules[i].match, .unknown = c.chain.rules[i].unknown});
  }
  FirstMatchWalk walk(sub, "", "", StateMatch::kNew, part.packets, AtomUse::kAuto, atoms);
  for (int k = walk.rule(); k >= 0; k = walk.rule()) {
    const std::string& key = c.keys[rules[k]];
    bool takes = walk.Reaches(sub.rules[k].match);
    if (takes || walk.Reaches(sub.rules[k].unknown)) w.reached.insert(key);
    // What a rule passes on the way out goes where routing already sent it: the findings
    // judge what a rule lets in.
    if (takes && w.inbound && c.chain.rules[rules[k]].action == Action::kAccept &&
        w.looked_at.count(key)) {
      NotePassed(part, w.inside, w.passed[key]);
    }
    walk.Discard();
  }
}

// Halved by service past kRulesPerWalk rules (engine/first_match.h).
void WalkPart(const IndexedChain& c, AddrAtoms* atoms, const std::vector<size_t>& rules,
              const Part& part, Walks& w) {
  if (rules.empty()) return;  // no rule to reach or pass
  std::optional<std::pair<Part, Part>> halves;
  if (rules.size() > kRulesPerWalk) halves = Halves(part);
  if (halves) {
    std::vector<size_t> first = Meeting(c, rules, halves->first);
    std::vector<size_t> second = Meeting(c, rules, halves->second);
    if (WorthHalving(rules.size(), first.size(), second.size())) {
      WalkPart(c, atoms, first, halves->first, w);
      WalkPart(c, atoms, second, halves->second, w);
      return;
    }
  }
  Walk(c, atoms, rules, part, w);
}

void WalkChain(const IndexedChain& c, AddrAtoms* atoms, const std::string& iif,
               const std::string& oif, Walks& w) {
  std::vector<size_t> rules = Uncovered(c, iif, oif);
  for (const Part& p : w.parts) WalkPart(c, atoms, Meeting(c, rules, p), p, w);
}

// Atoms of the chain's rules and of the parts, for every walk of the chain, when the rules
// hold large sets: each walk would otherwise make atoms of its own, of nearly the same rules.
std::unique_ptr<AddrAtoms> SharedAtoms(const Chain& chain, const std::vector<Part>& parts) {
  AtomWorth worth;
  for (const PolicyRule& r : chain.rules) worth.Add(r.match), worth.Add(r.unknown);
  if (!worth.Worth()) return nullptr;
  auto atoms = std::make_unique<AddrAtoms>();
  AddRules(*atoms, chain);
  for (const Part& p : parts) atoms->Add(p.packets);
  atoms->Build();
  return atoms;
}

AddrSet InsideNetworks(const FirewallView& fw) {
  AddrSet::Ranges ranges;
  for (const FirewallInterface& i : fw.interfaces) {
    if (i.outside) continue;
    for (const Prefix& p : i.addresses) ranges.push_back(AddrsOf(p.Network()).ranges().front());
  }
  return AddrSet::FromRanges(std::move(ranges));
}

AddrSet NetworkOf(const FirewallInterface& i) {
  AddrSet net;
  for (const Prefix& p : i.addresses) net = net.Union(AddrsOf(p.Network()));
  return net;
}

// The networks Wider asks a pass rule about, as far as they are inside.
std::vector<AddrSet> WiderNetworks(const FirewallView& fw, const AddrSet& inside) {
  std::vector<AddrSet> out;
  for (const FirewallInterface& i : fw.interfaces) {
    if (!i.outside && !i.addresses.empty()) out.push_back(NetworkOf(i).Intersect(inside));
  }
  return out;
}

// The accepting rules that RuleFindings asks Passed about.
std::unordered_set<std::string> PassesLookedAt(const FirewallView& fw) {
  std::unordered_set<std::string> keys;
  for (const WrittenRule& w : fw.written_rules) {
    if (w.action != Action::kAccept || w.direction == "out") continue;
    if (w.destination_any || w.source_any) keys.insert(w.origin.Where());
  }
  return keys;
}

Walks WalkAll(const FirewallView& fw, const IndexedChain& forward, const IndexedChain& output) {
  Walks w;
  w.inside = InsideNetworks(fw);
  w.parts = FirstParts(WiderNetworks(fw, w.inside));
  w.looked_at = PassesLookedAt(fw);
  std::unique_ptr<AddrAtoms> forward_atoms = SharedAtoms(forward.chain, w.parts);
  std::unique_ptr<AddrAtoms> output_atoms = SharedAtoms(output.chain, w.parts);
  for (const FirewallInterface& i : fw.interfaces) {
    w.inbound = true;
    WalkChain(forward, forward_atoms.get(), i.name, "", w);
    w.inbound = false;
    WalkChain(output, output_atoms.get(), "", i.name, w);
  }
  return w;
}

// ---- Explaining dead rules -------------------------------------------------------------------

// The rules before a dead rule in its chain that take what it would match: the first that takes
// all of it (`cover`), or else every one that takes some, together. None when it matches nothing.
struct Deciders {
  std::vector<const PolicyRule*> rules;  // in chain order
  bool cover = false;
};

// Looks back from the dead rules of one chain at the rules before them, for one direction:
// inbound on the forward chain, outbound on the output chain.
class LookBack {
 public:
  LookBack(const IndexedChain& c, bool inbound) : c_(c), inbound_(inbound) {
    for (size_t i = 0; i < c.keys.size(); ++i) at_key_.try_emplace(c.keys[i], i);
  }

  // The deciders of the rule written at `key`, on `iface`.
  Deciders ShadowedBy(const std::string& key, const std::string& iface);

 private:
  const std::vector<size_t>& OnInterface(const std::string& iface);

  const IndexedChain& c_;
  bool inbound_;
  std::unordered_map<std::string, size_t> at_key_;  // the first rule written there
  std::unordered_map<std::string, std::vector<size_t>> on_interface_;
};

// The rules that can decide new packets on `iface`, in order.
const std::vector<size_t>& LookBack::OnInterface(const std::string& iface) {
  auto [it, fresh] = on_interface_.try_emplace(iface);
  if (!fresh) return it->second;
  for (size_t i = 0; i < c_.chain.rules.size(); ++i) {
    const PolicyRule& r = c_.chain.rules[i];
    const IfaceMatch& on = inbound_ ? r.iif : r.oif;
    if (r.state != StateMatch::kEstablished && on.Matches(iface)) it->second.push_back(i);
  }
  return it->second;
}

Deciders LookBack::ShadowedBy(const std::string& key, const std::string& iface) {
  Deciders out;
  auto found = at_key_.find(key);
  if (found == at_key_.end()) return out;
  size_t at = found->second;
  const std::vector<size_t>& on = OnInterface(iface);
  std::span<const size_t> earlier(on.begin(), std::lower_bound(on.begin(), on.end(), at));
  if (std::optional<size_t> cover = FirstCover(c_, earlier, at)) {
    out.rules = {&c_.chain.rules[*cover]};
    out.cover = true;
    return out;
  }
  for (size_t i : earlier) {
    const PolicyRule& r = c_.chain.rules[i];
    if (!c_.match_boxes[i].Meets(c_.most_boxes[at]) || !r.match.Intersects(c_.most[at])) continue;
    out.rules.push_back(&r);
  }
  return out;
}

// The deciders as a reader finds them: four named and the rest counted, as the subject of a
// verb ("'a' (filter/rule[1])", "'a' (filter/rule[1]) and 'b' (filter/rule[2]) together").
std::string Names(const Deciders& d) {
  constexpr size_t kNamed = 4;
  size_t named = std::min(d.rules.size(), kNamed);
  std::string names;
  for (size_t i = 0; i < named; ++i) {
    names += (i == 0 ? "" : i + 1 == named ? " and " : ", ") + RuleName(d.rules[i]->origin);
  }
  if (d.rules.size() > kNamed) names += fmt::format(" (and {} more)", d.rules.size() - kNamed);
  return d.cover ? names : names + " together";
}

// Where pf meets a user's rule, as pfSense and OPNsense write the ruleset: after their own
// rules, the floating rules, then the group rules, then the interface rules, each in file order.
// The chains hold quick rules first and the others in reverse (the last match wins), so a rule
// before a dead one in its chain may come after it here, or after it in the file.
struct Place {
  int stage = 0;     // 0 the firewall's own rules, 1 floating, 2 group, 3 interface
  size_t index = 0;  // in the file
  auto operator<=>(const Place&) const = default;
};
using Places = std::unordered_map<std::string, Place>;  // by path: "filter/rule[3]"

// A group rule's tab names a group (or a VPN tab), not an interface.
Places PlacesOf(const FirewallView& fw) {
  Places out;
  for (size_t i = 0; i < fw.written_rules.size(); ++i) {
    const WrittenRule& w = fw.written_rules[i];
    int stage = w.floating ? 1 : fw.FindInterface(w.tab) ? 3 : 2;
    out.try_emplace(w.origin.path, Place{stage, i});
  }
  return out;
}

const char* StageName(int stage) {
  return stage == 1 ? "floating" : stage == 2 ? "group" : "interface";
}

// How the deciders of the dead rule `w` stand to it in pf's order. A decider that pf meets
// after it can only be there because `w` is not quick: the later match wins over it. Where a
// decider is of another kind than `w`, the order of the kinds is what explains it, and is said.
struct Order {
  bool before = false;
  bool after = false;
  std::vector<std::string> notes;  // "interface rules are evaluated after floating rules"
};

Order OrderOf(const Deciders& d, const WrittenRule& w, const Places& places) {
  Order o;
  auto self = places.find(w.origin.path);
  for (const PolicyRule* r : d.rules) {
    auto it = places.find(r->origin.path);
    if (self == places.end() || it == places.end()) {  // the firewall's own rules come first
      o.before = true;
      continue;
    }
    bool after = self->second < it->second;
    (after ? o.after : o.before) = true;
    int theirs = it->second.stage, mine = self->second.stage;
    if (theirs == mine) continue;
    std::string note = fmt::format("{} rules are evaluated {} {} rules", StageName(theirs),
                                   after ? "after" : "before", StageName(mine));
    if (std::find(o.notes.begin(), o.notes.end(), note) == o.notes.end()) o.notes.push_back(note);
  }
  return o;
}

// ---- The findings ----------------------------------------------------------------------------

void NotLoaded(const WrittenRule& w, std::vector<Finding>& out) {
  if (w.skipped_why == "it is disabled") {
    out.push_back({Risk::kInfo, "rule-disabled", "rule " + RuleName(w.origin),
                   "the rule is disabled", w.origin.Where()});
  } else {
    out.push_back({Risk::kMedium, "rule-not-loaded", "rule " + RuleName(w.origin),
                   fmt::format("the firewall does not load the rule: {}", w.skipped_why),
                   w.origin.Where()});
  }
}

// The deciders of a dead rule in parentheses, and what of pf's order it takes to see them win;
// empty when there are none.
std::string Why(const Deciders& by, const Order& order) {
  if (by.rules.empty()) return "";
  std::string notes;
  for (const std::string& n : order.notes) notes += (order.after ? "; " : ": ") + n;
  const char* s = by.cover ? "s" : "";
  if (!order.after) return fmt::format(" ({} decide{} first{})", Names(by), s, notes);
  return fmt::format(" ({} decide{} instead: the rule is not quick, and the last match wins{})",
                     Names(by), s, notes);
}

// What becomes of a dead rule's packets. Rules that pf meets after it decide them only because
// it is not quick, so they are "later rules", never "rules before it"; with `same` they do what
// it would anyway.
std::string DeadRuleText(bool same, const Deciders& by, const Order& order) {
  std::string why = Why(by, order);
  if (!order.after && same) {
    return fmt::format("no packet ever reaches the rule, and the rules before it already do "
                       "what it would{}", why);
  }
  if (!order.after) {
    return fmt::format("the rule never takes effect: rules before it decide every packet it "
                       "would match otherwise{}", why);
  }
  bool one = by.cover;  // a single decider, so not both before and after
  std::string who = order.before ? "quick rules before it and later rules"
                    : one        ? "a later rule"
                                 : "later rules";
  if (same) {
    return fmt::format("the rule never decides a packet, and {} already do{} what it would{}",
                       who, one ? "es" : "", why);
  }
  return fmt::format("the rule never takes effect: {} decide{} every packet it would match "
                     "otherwise{}", who, one ? "s" : "", why);
}

void Shadowed(LookBack& forward, LookBack& output, const Places& places, const WrittenRule& w,
              std::vector<Finding>& out) {
  Deciders by =
      (w.direction != "out" ? forward : output).ShadowedBy(w.origin.Where(), w.interfaces.front());
  bool same = std::all_of(by.rules.begin(), by.rules.end(),
                          [&](const PolicyRule* r) { return r->action == w.action; });
  std::string text = DeadRuleText(same, by, OrderOf(by, w, places));
  if (same) {
    out.push_back(
        {Risk::kLow, "rule-redundant", "rule " + RuleName(w.origin), text, w.origin.Where()});
  } else {
    out.push_back(
        {Risk::kMedium, "rule-shadowed", "rule " + RuleName(w.origin), text, w.origin.Where()});
  }
}

// A pass to "any" from an inside interface also passes to every other inside network.
void Wider(const FirewallView& fw, const WrittenRule& w, const Passed& passed,
           std::vector<Finding>& out) {
  std::vector<std::string> reached;
  for (const FirewallInterface& i : fw.interfaces) {
    if (i.outside || i.addresses.empty()) continue;
    if (std::find(w.interfaces.begin(), w.interfaces.end(), i.name) != w.interfaces.end()) {
      continue;
    }
    if (passed.inside_destinations.Intersects(NetworkOf(i))) reached.push_back("'" + i.name + "'");
  }
  if (reached.empty()) return;
  std::string list;
  for (size_t i = 0; i < reached.size(); ++i) {
    list += (i == 0 ? "" : i + 1 == reached.size() ? " and " : ", ") + reached[i];
  }
  out.push_back({Risk::kMedium, "rule-wider-than-it-looks", "rule " + RuleName(w.origin),
                 fmt::format("its destination is any: besides the internet it passes to the "
                             "network{} of {}",
                             reached.size() > 1 ? "s" : "", list),
                 w.origin.Where()});
}

// A port is matched only with a protocol that has ports; written without one, pfSense keeps
// the rule to TCP and drops the port, so the rule passes every TCP port.
void PortWithoutProtocol(const WrittenRule& w, std::vector<Finding>& out) {
  out.push_back({Risk::kMedium, "rule-wider-than-it-looks", "rule " + RuleName(w.origin),
                 "it names a destination port but no protocol: the port is ignored, and the "
                 "rule passes every TCP port",
                 w.origin.Where()});
}

void AnySource(const FirewallView& fw, const WrittenRule& w, std::vector<Finding>& out) {
  for (const std::string& key : w.interfaces) {
    const FirewallInterface* i = fw.FindInterface(key);
    if (!i || i->outside) continue;
    out.push_back({Risk::kLow, "rule-any-source", "rule " + RuleName(w.origin),
                   fmt::format("it passes packets from any source address on '{}', spoofed "
                               "ones included",
                               key),
                   w.origin.Where()});
    return;
  }
}

void PortForwards(const FirewallView& fw, std::vector<Finding>& out) {
  for (const Redirect& r : fw.redirects) {
    if (r.exclude || r.iif.names.empty()) continue;
    std::string name = (r.one_to_one ? "1:1 NAT " : "port forward ") + RuleName(r.origin);
    if (r.proxy) {
      std::string on;
      for (const std::string& i : r.iif.names) on += (on.empty() ? "'" : ", '") + i + "'";
      out.push_back({Risk::kMedium, "port-forward-reflected", name,
                     fmt::format("NAT reflection by proxy lets {} reach what it forwards (tcp) at "
                                 "the forwarded address, whatever their own rules say",
                                 on),
                     r.origin.Where()});
      continue;
    }
    if (r.pass) {
      out.push_back({Risk::kInfo, "port-forward-skips-filter", name,
                     "what it forwards is let in without any filter rule", r.origin.Where()});
      continue;
    }
    PacketSet rewritten = RewriteDestinations(r, r.match);
    if (rewritten.empty()) continue;
    const std::string& iif = r.iif.names.front();
    std::string oif = InterfaceHolding(fw, rewritten.Destinations());
    if (!Accepted(Evaluate(fw.policy.forward, iif, oif, StateMatch::kNew, rewritten)).empty()) {
      continue;
    }
    out.push_back({Risk::kMedium, "port-forward-blocked", name,
                   fmt::format("no filter rule on '{}' lets through what it forwards ({} to {})",
                               iif, FormatServices(rewritten.Services()),
                               FormatAddrs(rewritten.Destinations(), &fw.policy.names)),
                   r.origin.Where()});
  }
}

}  // namespace

std::vector<Finding> RuleFindings(const FirewallView& fw) {
  std::vector<Finding> out;
  IndexedChain forward(fw.policy.forward), output(fw.policy.output);
  Walks walks = WalkAll(fw, forward, output);
  LookBack forward_back(forward, true), output_back(output, false);
  Places places = PlacesOf(fw);
  for (const WrittenRule& w : fw.written_rules) {
    if (!w.loaded) {
      NotLoaded(w, out);
      continue;
    }
    if (!w.decides || w.interfaces.empty()) continue;
    std::string key = w.origin.Where();
    if (!w.skipped_why.empty()) {
      out.push_back({Risk::kLow, "rule-never-matches", "rule " + RuleName(w.origin),
                     fmt::format("the rule can never match: {}", w.skipped_why), key});
      continue;
    }
    if (!walks.reached.count(key)) {
      Shadowed(forward_back, output_back, places, w, out);
      continue;
    }
    if (w.action != Action::kAccept || w.direction == "out") continue;
    auto passed = walks.passed.find(key);
    if (passed == walks.passed.end()) continue;
    if (w.destination_any) Wider(fw, w, passed->second, out);
    if (w.any_protocol && w.has_destination_port) PortWithoutProtocol(w, out);
    // DHCP clients ask before they have an address: any source is how such a rule must read.
    bool dhcp = passed->second.services.IsSubsetOf(Dhcp());
    if (w.source_any && !dhcp) AnySource(fw, w, out);
  }
  PortForwards(fw, out);
  return out;
}

}  // namespace bulkhead
