// SPDX-License-Identifier: Apache-2.0
// Traversal of filter paths, and the chain cutting that keeps it cheap: most rules of a
// firewall name an interface, so a chain cut for one known interface is a fraction of it.

#include "verify/paths.h"

#include <fmt/format.h>

namespace bulkhead {
namespace {

void AddReasons(const Chain& chain, const std::vector<Decision>& decisions, Outcome& out) {
  for (const Decision& d : decisions) {
    const Provenance& origin = d.rule >= 0 ? chain.rules[d.rule].origin : chain.default_origin;
    out.reasons.push_back({d.packets, d.action, origin});
  }
}

}  // namespace

Outcome Traverse(const Path& path, PacketSet packets) {
  Outcome out;
  for (const Stage& s : path) {
    std::vector<Decision> ds =
        Evaluate(*s.forward, s.iif, s.oif, StateMatch::kNew, packets, s.atoms);
    AddReasons(*s.forward, ds, out);
    packets = Accepted(ds);
    if (packets.empty()) return out;
  }
  PacketSet replies = packets.Reversed();
  for (auto it = path.rbegin(); it != path.rend(); ++it) {
    std::vector<Decision> ds =
        Evaluate(*it->reply, it->oif, it->iif, StateMatch::kEstablished, replies, it->atoms);
    for (const Decision& d : ds) {
      if (d.action == Action::kAccept) continue;
      const Provenance& origin =
          d.rule >= 0 ? it->reply->rules[d.rule].origin : it->reply->default_origin;
      out.reasons.push_back({d.packets.Reversed(), d.action, origin});
    }
    replies = Accepted(ds);
  }
  out.passed = replies.Reversed();
  return out;
}

void PutByColumn(Matrix& m, size_t row, const ColumnIndex& columns, const Outcome& o) {
  for (auto& [col, part] : columns.Split(o.passed)) {
    Cell& cell = m.At(row, col);
    cell.passed = cell.passed.empty() ? std::move(part) : cell.passed.Union(part);
  }
  for (const Reason& r : o.reasons) {
    for (auto& [col, part] : columns.Split(r.packets)) {
      m.At(row, col).reasons.push_back({std::move(part), r.action, r.origin});
    }
  }
}

bool FiltersLeaving(const Policy& fw) {
  if (!fw.output_sees_forwarded) return false;
  if (fw.output.default_action != Action::kAccept) return true;
  for (const PolicyRule& r : fw.output.rules) {
    if (r.state != StateMatch::kEstablished) return true;
  }
  return false;
}

Stage PathMaker::MakeStage(const Chain& chain, const std::string& iif, const std::string& oif) {
  const CutChain& fwd = Get(chain, StateMatch::kNew, iif, true);
  const CutChain& rep = Get(chain, StateMatch::kEstablished, iif, false);
  varies_[&fwd.chain] = {fwd.tests_other, rep.tests_other};
  varies_[&rep.chain] = {fwd.tests_other, rep.tests_other};
  return {&fwd.chain, &rep.chain, iif, oif, atoms_};
}

std::string PathMaker::GroupKey(const Path& path) const {
  std::string key;
  for (const Stage& s : path) {
    auto [fwd_tests_oif, reply_tests_iif] = varies_.at(s.forward);
    key += fmt::format("{}|{}|{};", static_cast<const void*>(s.forward), s.iif,
                       fwd_tests_oif || reply_tests_iif ? s.oif : "*");
  }
  return key;
}

const PathMaker::CutChain& PathMaker::Get(const Chain& c, StateMatch state,
                                          const std::string& known, bool known_is_iif) {
  auto key = std::make_tuple(&c, static_cast<int>(state), known, known_is_iif);
  auto it = cache_.find(key);
  if (it == cache_.end()) it = cache_.emplace(key, Cut(c, state, known, known_is_iif)).first;
  return it->second;
}

PathMaker::CutChain PathMaker::Cut(const Chain& c, StateMatch state, const std::string& known,
                                   bool known_is_iif) {
  CutChain out;
  out.chain.default_action = c.default_action;
  out.chain.default_origin = c.default_origin;
  for (const PolicyRule& r : c.rules) {
    if (r.state != StateMatch::kAny && r.state != state) continue;
    const IfaceMatch& mine = known_is_iif ? r.iif : r.oif;
    const IfaceMatch& other = known_is_iif ? r.oif : r.iif;
    if (!mine.Matches(known)) continue;
    out.chain.rules.push_back(r);
    if (!other.IsAny()) {
      out.tests_other = true;
    } else if (PacketSet::All().IsSubsetOf(r.match)) {
      break;  // nothing after it is ever reached
    }
  }
  return out;
}

}  // namespace bulkhead
