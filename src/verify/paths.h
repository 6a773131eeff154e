// SPDX-License-Identifier: Apache-2.0
// Paths through packet filters. A packet's path is a list of stages (the host's output, the
// firewall's forward chain, its outbound filter, the host's input...), each a chain with the
// interfaces the packet crosses there. A connection opens when its first packet passes every
// stage and its replies pass the same stages backwards in the established state.
#pragma once

#include <map>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "engine/policy.h"
#include "verify/endpoints.h"
#include "verify/matrix.h"

namespace bulkhead {

// One filter a packet crosses. `forward` decides first packets, `reply` the replies coming back
// the other way; both are the same chain, cut down to the rules that can apply (PathMaker).
struct Stage {
  const Chain* forward;
  const Chain* reply;
  std::string iif;
  std::string oif;
  AtomUse atoms = AtomUse::kAuto;
};

using Path = std::vector<Stage>;

struct Outcome {
  PacketSet passed;             // first packets whose connection opens
  std::vector<Reason> reasons;  // every rule that decided a part, refusals of replies included
};

// First packets forwards through every stage, then their replies backwards.
Outcome Traverse(const Path& path, PacketSet packets);

// Shares an outcome over several destinations out to their cells in `row`.
void PutByColumn(Matrix& m, size_t row, const ColumnIndex& columns, const Outcome& o);

// pf judges forwarded packets again as they leave; a chain of nothing but state tracking and
// a passing default cannot refuse any, and is left off the path.
bool FiltersLeaving(const Policy& fw);

// Makes stages from chains cut down to the rules that can apply with one interface known, and
// keys paths so that destinations whose paths differ only in interfaces no rule on the way
// looks at are judged in one evaluation. Stages point into the maker: it must outlive them.
class PathMaker {
 public:
  Stage MakeStage(const Chain& chain, const std::string& iif, const std::string& oif);
  std::string GroupKey(const Path& path) const;
  // For chains whose sets are atoms already (engine/atoms.h): no walk needs atoms of its own.
  void OnAtoms() { atoms_ = AtomUse::kNever; }

 private:
  // A chain cut down to the rules that can decide packets in one state, ending at the first
  // rule that takes everything left; and whether a kept rule looks at the other interface.
  struct CutChain {
    Chain chain;
    bool tests_other = false;
  };
  // Known side: the input interface when `known_is_iif`, else the output interface.
  const CutChain& Get(const Chain& c, StateMatch state, const std::string& known,
                      bool known_is_iif);
  static CutChain Cut(const Chain& c, StateMatch state, const std::string& known,
                      bool known_is_iif);

  std::map<std::tuple<const Chain*, int, std::string, bool>, CutChain> cache_;
  // Per stage of a path: whether its cut chains look at the interface that varies.
  std::map<const Chain*, std::pair<bool, bool>> varies_;
  AtomUse atoms_ = AtomUse::kAuto;
};

}  // namespace bulkhead
