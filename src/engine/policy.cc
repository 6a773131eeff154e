// SPDX-License-Identifier: Apache-2.0
// First-match evaluation of a chain over a whole packet set at once: each rule takes the part
// of the still undecided packets it matches. The walk itself (engine/first_match.h) skips rules
// on their interfaces, state and cube bounds, and moves to address atoms on large sets.

#include "engine/policy.h"

#include <algorithm>
#include <map>

#include <fmt/format.h>

#include "engine/first_match.h"

namespace bulkhead {
namespace {

// "vbox*" matches every interface whose name starts with "vbox", as nft wildcards do.
bool NameMatches(const std::string& pattern, const std::string& iface) {
  if (!pattern.empty() && pattern.back() == '*') {
    return iface.compare(0, pattern.size() - 1, pattern, 0, pattern.size() - 1) == 0 &&
           iface.size() >= pattern.size() - 1;
  }
  return pattern == iface;
}

}  // namespace

const char* ActionName(Action a) {
  switch (a) {
    case Action::kAccept:
      return "accept";
    case Action::kDrop:
      return "drop";
    case Action::kReject:
      return "reject";
  }
  return "?";
}

std::string Provenance::Where() const {
  if (line > 0) return fmt::format("{}:{}", file, line);
  if (!path.empty()) return fmt::format("{}: {}", file, path);
  return file;
}

bool IfaceMatch::Matches(const std::string& iface) const {
  if (names.empty()) return !negated;
  bool listed = !iface.empty() && std::any_of(names.begin(), names.end(),
                                              [&](const auto& n) { return NameMatches(n, iface); });
  return listed != negated;
}

const Chain& ChainOf(const Policy& p, Hook h) {
  switch (h) {
    case Hook::kInput:
      return p.input;
    case Hook::kForward:
      return p.forward;
    case Hook::kOutput:
      return p.output;
  }
  return p.forward;
}

bool RuleApplies(const PolicyRule& rule, const std::string& iif, const std::string& oif,
                 StateMatch state) {
  if (rule.state != StateMatch::kAny && rule.state != state) return false;
  return rule.iif.Matches(iif) && rule.oif.Matches(oif);
}

namespace {

// Evaluate on a long chain: the packets in parts by service (kRulesPerWalk), decisions gathered
// by rule. The result is one walk's: a packet of one part is never matched by a rule that
// matches no service of that part.
class ServiceCutWalk {
 public:
  ServiceCutWalk(const Chain& chain, AtomUse atoms, AddrAtoms* shared)
      : chain_(chain), atoms_(atoms), shared_(shared) {
    for (const PolicyRule& r : chain.rules) services_.push_back(r.match.Services());
  }

  // TCP, UDP and the other protocols apart first: halving the service space as it is numbered
  // would keep TCP and UDP together.
  void Start(const std::vector<size_t>& rules, const PacketSet& packets) {
    ServiceSet tcp = Proto(kProtoTcp), udp = Proto(kProtoUdp);
    for (const ServiceSet& part : {tcp, udp, AllServices().Subtract(tcp.Union(udp))}) {
      Walk(Meeting(rules, part), part, OfServices(packets, part));
    }
  }

  void Walk(std::vector<size_t> rules, const ServiceSet& part, PacketSet packets) {
    if (packets.empty()) return;
    std::optional<std::pair<ServiceSet, ServiceSet>> halves;
    if (rules.size() > kRulesPerWalk) halves = ServiceHalves(part);
    if (halves) {
      auto& [low, high] = *halves;
      std::vector<size_t> low_rules = Meeting(rules, low), high_rules = Meeting(rules, high);
      if (WorthHalving(rules.size(), low_rules.size(), high_rules.size())) {
        Walk(std::move(low_rules), low, OfServices(packets, low));
        Walk(std::move(high_rules), high, OfServices(packets, high));
        return;
      }
    }
    FirstMatchWalk walk(chain_, std::move(rules), packets, atoms_, shared_);
    for (int i = walk.rule(); i >= 0; i = walk.rule()) {
      PacketSet matched = walk.Take();
      if (!matched.empty()) taken_[i].UnionDisjoint(matched);
    }
    PacketSet rest = walk.TakeRest();
    if (!rest.empty()) taken_[-1].UnionDisjoint(rest);
  }

  // In rule order, default last, as one walk gives them.
  std::vector<Decision> Decisions() {
    std::vector<Decision> out;
    for (auto& [i, packets] : taken_) {
      if (i >= 0) out.push_back({std::move(packets), chain_.rules[i].action, i});
    }
    if (taken_.count(-1)) out.push_back({std::move(taken_[-1]), chain_.default_action, -1});
    return out;
  }

 private:
  std::vector<size_t> Meeting(const std::vector<size_t>& rules, const ServiceSet& part) const {
    std::vector<size_t> out;
    for (size_t i : rules) {
      if (services_[i].Intersects(part)) out.push_back(i);
    }
    return out;
  }

  // Services are not address atoms: cutting them cube by cube holds in either terms.
  static PacketSet OfServices(const PacketSet& p, const ServiceSet& part) {
    PacketSet out;
    for (const Cube& c : p.cubes()) {
      ServiceSet svc = c.svc.Intersect(part);
      if (!svc.empty()) out.UnionDisjoint(PacketSet(Cube{c.src, c.dst, std::move(svc)}));
    }
    return out;
  }

  const Chain& chain_;
  AtomUse atoms_;
  AddrAtoms* shared_;
  std::vector<ServiceSet> services_;  // of each rule's match
  std::map<int, PacketSet> taken_;    // by rule index, -1 for the default
};

}  // namespace

std::vector<Decision> Evaluate(const Chain& chain, const std::string& iif, const std::string& oif,
                               StateMatch state, const PacketSet& packets, AtomUse atoms,
                               AddrAtoms* shared) {
  std::vector<size_t> applying;
  for (size_t i = 0; i < chain.rules.size(); ++i) {
    if (RuleApplies(chain.rules[i], iif, oif, state)) applying.push_back(i);
  }
  if (applying.size() > kRulesPerWalk) {
    ServiceCutWalk walk(chain, atoms, shared);
    walk.Start(applying, packets);
    return walk.Decisions();
  }
  std::vector<Decision> decisions;
  FirstMatchWalk walk(chain, std::move(applying), packets, atoms, shared);
  for (int i = walk.rule(); i >= 0; i = walk.rule()) {
    PacketSet matched = walk.Take();
    if (!matched.empty()) decisions.push_back({std::move(matched), chain.rules[i].action, i});
  }
  PacketSet rest = walk.TakeRest();
  if (!rest.empty()) decisions.push_back({std::move(rest), chain.default_action, -1});
  return decisions;
}

namespace {

Chain SettleChain(const Chain& c, Bound b) {
  Chain out = c;
  for (PolicyRule& r : out.rules) {
    if (r.unknown.empty()) continue;
    bool takes_unknown = (r.action == Action::kAccept) == (b == Bound::kMost);
    if (takes_unknown) r.match = r.match.Union(r.unknown);
    r.unknown = PacketSet();
  }
  return out;
}

bool ChainHasUnknowns(const Chain& c) {
  return std::any_of(c.rules.begin(), c.rules.end(),
                     [](const PolicyRule& r) { return !r.unknown.empty(); });
}

}  // namespace

Policy Settle(const Policy& p, Bound b) {
  Policy out = p;
  out.input = SettleChain(p.input, b);
  out.forward = SettleChain(p.forward, b);
  out.output = SettleChain(p.output, b);
  return out;
}

bool HasUnknowns(const Policy& p) {
  return ChainHasUnknowns(p.input) || ChainHasUnknowns(p.forward) || ChainHasUnknowns(p.output);
}

PacketSet Accepted(const std::vector<Decision>& decisions) {
  PacketSet accepted;
  for (const Decision& d : decisions) {
    if (d.action == Action::kAccept) accepted.UnionDisjoint(d.packets);
  }
  return accepted;
}

}  // namespace bulkhead
