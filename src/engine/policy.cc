// SPDX-License-Identifier: Apache-2.0
// First-match evaluation of a chain over a whole packet set at once: each rule takes the part
// of the still undecided packets it matches. The walk itself (engine/first_match.h) skips rules
// on their interfaces, state and cube bounds, and moves to address atoms on large sets.

#include "engine/policy.h"

#include <algorithm>

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

std::vector<Decision> Evaluate(const Chain& chain, const std::string& iif, const std::string& oif,
                               StateMatch state, const PacketSet& packets, AtomUse atoms,
                               AddrAtoms* shared) {
  std::vector<Decision> decisions;
  FirstMatchWalk walk(chain, iif, oif, state, packets, atoms, shared);
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
