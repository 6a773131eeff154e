// SPDX-License-Identifier: Apache-2.0
// First-match evaluation of a chain over a whole packet set at once: each rule takes the part
// of the still undecided packets it matches. Rules that cannot apply are skipped on their
// interfaces and state, then on cube bounds, before any exact set work is done.

#include "engine/policy.h"

#include <algorithm>

#include <fmt/format.h>

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

bool RuleApplies(const PolicyRule& rule, const std::string& iif, const std::string& oif,
                 StateMatch state) {
  if (rule.state != StateMatch::kAny && rule.state != state) return false;
  return rule.iif.Matches(iif) && rule.oif.Matches(oif);
}

// The smallest box around every cube of a set; lets a rule be skipped without set algebra.
struct Bounds {
  AddrKey src_lo, src_hi, dst_lo, dst_hi;
  uint32_t svc_lo = 0, svc_hi = 0;
  bool empty = true;

  void Add(const Cube& c) {
    if (empty) {
      *this = {c.src.front(), c.src.back(), c.dst.front(), c.dst.back(),
               c.svc.front(), c.svc.back(), false};
      return;
    }
    src_lo = std::min(src_lo, c.src.front()), src_hi = std::max(src_hi, c.src.back());
    dst_lo = std::min(dst_lo, c.dst.front()), dst_hi = std::max(dst_hi, c.dst.back());
    svc_lo = std::min(svc_lo, c.svc.front()), svc_hi = std::max(svc_hi, c.svc.back());
  }

  bool Meets(const Bounds& o) const {
    return !empty && !o.empty && !(src_hi < o.src_lo) && !(o.src_hi < src_lo) &&
           !(dst_hi < o.dst_lo) && !(o.dst_hi < dst_lo) && svc_lo <= o.svc_hi && o.svc_lo <= svc_hi;
  }
};

Bounds BoundsOf(const PacketSet& s) {
  Bounds b;
  for (const Cube& c : s.cubes()) b.Add(c);
  return b;
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

std::vector<Decision> Evaluate(const Chain& chain, const std::string& iif, const std::string& oif,
                               StateMatch state, const PacketSet& packets) {
  std::vector<Decision> decisions;
  PacketSet remaining = packets;
  Bounds remaining_bounds = BoundsOf(remaining);
  size_t compacted_size = remaining.cubes().size();

  for (size_t i = 0; i < chain.rules.size() && !remaining.empty(); ++i) {
    const PolicyRule& rule = chain.rules[i];
    if (!RuleApplies(rule, iif, oif, state)) continue;
    if (!remaining_bounds.Meets(BoundsOf(rule.match))) continue;
    PacketSet matched = remaining.SplitOff(rule.match);
    if (matched.empty()) continue;

    // Splitting fragments the rest; merging it back now and then keeps later rules cheap.
    if (remaining.cubes().size() > 2 * compacted_size + 8) {
      remaining.Compact();
      compacted_size = remaining.cubes().size();
    }
    remaining_bounds = BoundsOf(remaining);
    decisions.push_back({std::move(matched), rule.action, static_cast<int>(i)});
  }

  if (!remaining.empty()) decisions.push_back({std::move(remaining), chain.default_action, -1});
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
