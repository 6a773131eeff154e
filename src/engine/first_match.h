// SPDX-License-Identifier: Apache-2.0
// A first-match walk over one chain, rule by rule: each rule that applies takes the part of
// the still undecided packets it matches. The walk starts on addresses and moves to address
// atoms (engine/atoms.h) once the undecided packets hold a large set, so that rules splitting
// an alias of 100,000 ranges cost what splitting a few ranges does. A caller that walks the
// same rules many times builds the atoms once (AddRules) and hands them to every walk.
#pragma once

#include <algorithm>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "engine/atoms.h"
#include "engine/policy.h"

namespace bulkhead {

class FirstMatchWalk {
 public:
  // The rules that apply on `iif`, `oif` and `state`, over `packets`. The chain must outlive
  // the walk. `shared`, when given, is used if the packets and every rule that applies are
  // unions of its atoms; otherwise the walk makes atoms of its own if it needs them.
  FirstMatchWalk(const Chain& chain, const std::string& iif, const std::string& oif,
                 StateMatch state, const PacketSet& packets, AtomUse atoms = AtomUse::kAuto,
                 AddrAtoms* shared = nullptr);
  // As above, through `rules` only: indices into chain.rules, ascending, each of which applies.
  FirstMatchWalk(const Chain& chain, std::vector<size_t> rules, const PacketSet& packets,
                 AtomUse atoms = AtomUse::kAuto, AddrAtoms* shared = nullptr);
  ~FirstMatchWalk();

  // The index in chain.rules of the rule the walk is at; -1 once no rule applies any more or
  // no packet is left undecided.
  int rule() const;
  // Whether some undecided packet is in `p`, the match or the unknown of the current rule.
  bool Reaches(const PacketSet& p);
  // Moves the undecided packets the current rule matches out of the walk, returns them, and
  // goes on to the next rule.
  PacketSet Take();
  // As Take, for a caller that needs no packets: saves decoding them.
  void Discard();
  // The packets no rule took; ends the walk.
  PacketSet TakeRest();

 private:
  void Start(AddrAtoms* shared);
  const PacketSet& Encoded(const PacketSet& p);
  bool UseShared(AddrAtoms& shared);
  PacketSet Split();
  void NoteRemaining();
  void MoveToAtoms();

  const Chain& chain_;
  std::vector<size_t> applying_;
  size_t next_ = 0;  // into applying_
  AtomUse use_;
  PacketSet remaining_;  // in atoms once atoms_ is set
  size_t compacted_size_ = 0;
  std::unique_ptr<AddrAtoms> own_atoms_;
  AddrAtoms* atoms_ = nullptr;  // own_atoms_, or the caller's
  std::unordered_map<const PacketSet*, PacketSet> encoded_;  // rule sets, once on atoms
  struct Bounds;
  std::unique_ptr<Bounds> bounds_;  // of remaining_
};

// Adds every address set of the chain's rules to `atoms`, before Build.
void AddRules(AddrAtoms& atoms, const Chain& chain);

// A walk through many rules costs each rule a look at every undecided cube, and the rules
// before it cut those into ever more pieces. Past kRulesPerWalk rules, walking the packets in
// parts by service, each part through only the rules that meet it, costs far less; a part is
// halved while each half keeps at most six in seven of its rules (those meeting both are mostly
// wide ones, which cut little). Both numbers are the fastest found on generated rule sets.
inline constexpr size_t kRulesPerWalk = 512;
// The two halves of `services` by number; nullopt for a set of one service.
std::optional<std::pair<ServiceSet, ServiceSet>> ServiceHalves(const ServiceSet& services);
// Whether a part met by `rules` rules is worth walking as halves met by `low` and `high`.
inline bool WorthHalving(size_t rules, size_t low, size_t high) {
  return 7 * std::max(low, high) <= 6 * rules;
}

}  // namespace bulkhead
