// SPDX-License-Identifier: Apache-2.0
// One walk per interface and direction over the firewall's chains finds every rule that no
// packet reaches: each rule first tests whether any still undecided packet is one it might
// match, then takes the ones it surely matches. Only the rules found dead are explained,
// by looking back for the rules before them that take their packets.

#include "audit/rule_findings.h"

#include <fmt/format.h>

#include <map>
#include <set>
#include <unordered_map>

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

// What an accepting rule decides first, as far as the findings look at it: where inside it
// passes to, and which services. Whole packet sets would hold a copy of a large alias each.
struct Passed {
  AddrSet inside_destinations;
  ServiceSet services;
};

// What the walks found, by rule (Provenance::Where).
struct Walks {
  AddrSet inside;  // the networks of the inside interfaces
  std::set<std::string> reached;
  std::map<std::string, Passed> passed;  // accepting rules
};

void NotePassed(const PacketSet& taken, const AddrSet& inside, Passed& p) {
  for (const Cube& c : taken.cubes()) {
    p.inside_destinations = p.inside_destinations.Union(c.dst.Intersect(inside));
    p.services = p.services.Union(c.svc);
  }
}

// On atoms once the undecided packets hold a large alias (engine/first_match.h).
void WalkChain(const Chain& chain, const std::string& iif, const std::string& oif,
               Walks& w) {
  FirstMatchWalk walk(chain, iif, oif, StateMatch::kNew, PacketSet::All());
  for (int i = walk.rule(); i >= 0; i = walk.rule()) {
    const PolicyRule& r = chain.rules[i];
    std::string key = r.origin.Where();
    if (walk.Reaches(r.match) || walk.Reaches(r.unknown)) w.reached.insert(key);
    if (r.action != Action::kAccept) {
      walk.Discard();
      continue;
    }
    PacketSet taken = walk.Take();
    if (!taken.empty()) NotePassed(taken, w.inside, w.passed[key]);
  }
}

AddrSet InsideNetworks(const FirewallView& fw) {
  AddrSet::Ranges ranges;
  for (const FirewallInterface& i : fw.interfaces) {
    if (i.outside) continue;
    for (const Prefix& p : i.addresses) ranges.push_back(AddrsOf(p.Network()).ranges().front());
  }
  return AddrSet::FromRanges(std::move(ranges));
}

Walks WalkAll(const FirewallView& fw) {
  Walks w;
  w.inside = InsideNetworks(fw);
  for (const FirewallInterface& i : fw.interfaces) {
    WalkChain(fw.policy.forward, i.name, "", w);
    WalkChain(fw.policy.output, "", i.name, w);
  }
  return w;
}

// Where each rule of the forward and output chains sits, by Provenance::Where (the first
// rule written there), so that explaining many dead rules does not search the chains for each.
struct Positions {
  std::unordered_map<std::string, size_t> forward, output;
};

std::unordered_map<std::string, size_t> PositionsIn(const Chain& chain) {
  std::unordered_map<std::string, size_t> out;
  for (size_t i = 0; i < chain.rules.size(); ++i) out.try_emplace(chain.rules[i].origin.Where(), i);
  return out;
}

// The rules before `dead` on `chain` that take what it would match: one that takes all of
// it, or else those that together do.
std::string ShadowedBy(const Chain& chain, const std::unordered_map<std::string, size_t>& at_key,
                       const std::string& key, const std::string& iface, bool inbound,
                       Action action, bool& same_action) {
  auto found = at_key.find(key);
  if (found == at_key.end()) return "";
  size_t at = found->second;
  PacketSet most = MostOf(chain.rules[at]);
  std::vector<const PolicyRule*> together;
  same_action = true;
  for (size_t i = 0; i < at; ++i) {
    const PolicyRule& r = chain.rules[i];
    const IfaceMatch& on = inbound ? r.iif : r.oif;
    if (r.state == StateMatch::kEstablished || !on.Matches(iface)) continue;
    if (!r.match.Intersects(most)) continue;
    if (most.IsSubsetOf(r.match)) {
      same_action = r.action == action;
      return RuleName(r.origin);
    }
    together.push_back(&r);
    same_action = same_action && r.action == action;
  }
  std::string names;
  for (size_t i = 0; i < together.size() && i < 4; ++i) {
    names += (i == 0 ? "" : i + 1 == together.size() || i == 3 ? " and " : ", ") +
             RuleName(together[i]->origin);
  }
  if (together.size() > 4) names += fmt::format(" (and {} more)", together.size() - 4);
  return together.empty() ? "" : names + " together";
}

void NotLoaded(const WrittenRule& w, std::vector<Finding>& out) {
  if (w.skipped_why == "it is disabled") {
    out.push_back({Risk::kInfo, "rule-disabled", "rule " + RuleName(w.origin),
                   "the rule is disabled", w.origin.Where()});
  } else {
    out.push_back({Risk::kMedium, "rule-not-loaded", "rule " + RuleName(w.origin),
                   fmt::format("pfSense does not load the rule: {}", w.skipped_why),
                   w.origin.Where()});
  }
}

void Shadowed(const FirewallView& fw, const Positions& positions, const WrittenRule& w,
              std::vector<Finding>& out) {
  bool inbound = w.direction != "out";
  const Chain& chain = inbound ? fw.policy.forward : fw.policy.output;
  bool same = true;
  std::string by = ShadowedBy(chain, inbound ? positions.forward : positions.output,
                              w.origin.Where(), w.interfaces.front(), inbound, w.action, same);
  std::string why = by.empty() ? "" : fmt::format(" ({} decide{} first)", by,
                                                  by.ends_with("together") ? "" : "s");
  if (same) {
    out.push_back({Risk::kLow, "rule-redundant", "rule " + RuleName(w.origin),
                   "no packet ever reaches the rule, and the rules before it already do what it "
                   "would" + why,
                   w.origin.Where()});
  } else {
    out.push_back({Risk::kMedium, "rule-shadowed", "rule " + RuleName(w.origin),
                   "the rule never takes effect: rules before it decide every packet it would "
                   "match otherwise" + why,
                   w.origin.Where()});
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
    AddrSet net;
    for (const Prefix& p : i.addresses) net = net.Union(AddrsOf(p.Network()));
    if (passed.inside_destinations.Intersects(net)) reached.push_back("'" + i.name + "'");
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
  Walks walks = WalkAll(fw);
  Positions positions{PositionsIn(fw.policy.forward), PositionsIn(fw.policy.output)};
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
      Shadowed(fw, positions, w, out);
      continue;
    }
    if (w.action != Action::kAccept || w.direction == "out") continue;
    auto passed = walks.passed.find(key);
    if (passed == walks.passed.end()) continue;
    if (w.destination_any) Wider(fw, w, passed->second, out);
    // DHCP clients ask before they have an address: any source is how such a rule must read.
    bool dhcp = passed->second.services.IsSubsetOf(Ports(kProtoUdp, 67, 68));
    if (w.source_any && !dhcp) AnySource(fw, w, out);
  }
  PortForwards(fw, out);
  return out;
}

}  // namespace bulkhead
