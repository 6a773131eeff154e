// SPDX-License-Identifier: Apache-2.0
// The walk behind Evaluate and the rule findings. Most walks never meet a large set and stay
// on addresses, where they cost nothing to start; a walk whose undecided packets come to hold
// one encodes them and the rules still ahead once, and decodes only what it hands out.

#include "engine/first_match.h"

#include <algorithm>

namespace bulkhead {

// The smallest box around every cube of a set; lets a rule be skipped without set algebra.
struct FirstMatchWalk::Bounds {
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

  static Bounds Of(const PacketSet& s) {
    Bounds b;
    for (const Cube& c : s.cubes()) b.Add(c);
    return b;
  }
};

FirstMatchWalk::FirstMatchWalk(const Chain& chain, const std::string& iif, const std::string& oif,
                               StateMatch state, const PacketSet& packets, AtomUse atoms,
                               AddrAtoms* shared)
    : chain_(chain), use_(atoms), remaining_(packets), bounds_(std::make_unique<Bounds>()) {
  for (size_t i = 0; i < chain.rules.size(); ++i) {
    if (RuleApplies(chain.rules[i], iif, oif, state)) applying_.push_back(i);
  }
  Start(shared);
}

FirstMatchWalk::FirstMatchWalk(const Chain& chain, std::vector<size_t> rules,
                               const PacketSet& packets, AtomUse atoms, AddrAtoms* shared)
    : chain_(chain),
      applying_(std::move(rules)),
      use_(atoms),
      remaining_(packets),
      bounds_(std::make_unique<Bounds>()) {
  Start(shared);
}

void FirstMatchWalk::Start(AddrAtoms* shared) {
  if (shared && use_ != AtomUse::kNever && UseShared(*shared)) return;
  compacted_size_ = remaining_.cubes().size();
  NoteRemaining();
}

// Shared atoms serve when they tell apart everything this walk must: the packets, and each rule
// ahead. Rules of the chain they were built from encode from a cache; anything else is checked.
bool FirstMatchWalk::UseShared(AddrAtoms& shared) {
  std::optional<PacketSet> packets = shared.TryEncode(remaining_);
  if (!packets) return false;
  for (size_t i : applying_) {
    const PolicyRule& r = chain_.rules[i];
    for (const PacketSet* p : {&r.match, &r.unknown}) {
      std::optional<PacketSet> e = shared.TryEncode(*p);
      if (!e) {
        encoded_.clear();
        return false;
      }
      encoded_.emplace(p, *std::move(e));
    }
  }
  atoms_ = &shared;
  remaining_ = *std::move(packets);
  compacted_size_ = remaining_.cubes().size();
  *bounds_ = Bounds::Of(remaining_);
  return true;
}

FirstMatchWalk::~FirstMatchWalk() = default;

int FirstMatchWalk::rule() const {
  if (remaining_.empty() || next_ >= applying_.size()) return -1;
  return static_cast<int>(applying_[next_]);
}

// Bounds for the cheap skip, and the size that decides the move to atoms. Kept tight after
// every take: most rules are skipped on them alone.
void FirstMatchWalk::NoteRemaining() {
  *bounds_ = Bounds::Of(remaining_);
  if (atoms_ || use_ == AtomUse::kNever) return;
  AtomWorth worth;
  worth.Add(remaining_);
  if (use_ == AtomUse::kAlways || worth.Worth()) MoveToAtoms();
}

// The vocabulary is what is left to split: the undecided packets and the rules ahead.
void FirstMatchWalk::MoveToAtoms() {
  own_atoms_ = std::make_unique<AddrAtoms>();
  atoms_ = own_atoms_.get();
  atoms_->Add(remaining_);
  for (size_t k = next_; k < applying_.size(); ++k) {
    const PolicyRule& r = chain_.rules[applying_[k]];
    atoms_->Add(r.match);
    atoms_->Add(r.unknown);
  }
  atoms_->Build();
  remaining_ = atoms_->Encode(remaining_);
  compacted_size_ = remaining_.cubes().size();
  *bounds_ = Bounds::Of(remaining_);
}

const PacketSet& FirstMatchWalk::Encoded(const PacketSet& p) {
  if (!atoms_) return p;
  auto [it, fresh] = encoded_.try_emplace(&p);
  if (fresh) it->second = atoms_->Encode(p);
  return it->second;
}

bool FirstMatchWalk::Reaches(const PacketSet& p) {
  const PacketSet& e = Encoded(p);
  return bounds_->Meets(Bounds::Of(e)) && remaining_.Intersects(e);
}

// Splits the current rule's match off, in the walk's terms, and goes on to the next rule.
PacketSet FirstMatchWalk::Split() {
  const PacketSet& match = Encoded(chain_.rules[applying_[next_++]].match);
  if (!bounds_->Meets(Bounds::Of(match))) return {};
  PacketSet taken = remaining_.SplitOff(match);
  if (taken.empty()) return {};

  // Splitting fragments the rest; merging it back now and then keeps later rules cheap.
  if (remaining_.cubes().size() > 2 * compacted_size_ + 8) {
    remaining_.Compact();
    compacted_size_ = remaining_.cubes().size();
  }
  return taken;
}

PacketSet FirstMatchWalk::Take() {
  PacketSet taken = Split();
  if (taken.empty()) return taken;
  // Decoded in the terms it was split in: the walk may move to atoms just below.
  if (atoms_) taken = atoms_->Decode(taken);
  NoteRemaining();
  return taken;
}

void FirstMatchWalk::Discard() {
  if (!Split().empty()) NoteRemaining();
}

PacketSet FirstMatchWalk::TakeRest() {
  PacketSet rest = std::move(remaining_);
  remaining_ = PacketSet();
  next_ = applying_.size();
  return atoms_ ? atoms_->Decode(rest) : rest;
}

std::optional<std::pair<ServiceSet, ServiceSet>> ServiceHalves(const ServiceSet& services) {
  uint32_t lo = services.front(), hi = services.back();
  if (lo == hi) return std::nullopt;
  uint32_t mid = lo + (hi - lo) / 2;
  return std::pair{services.Intersect(ServiceSet(lo, mid)),
                   services.Intersect(ServiceSet(mid + 1, hi))};
}

void AddRules(AddrAtoms& atoms, const Chain& chain) {
  for (const PolicyRule& r : chain.rules) {
    atoms.Add(r.match);
    atoms.Add(r.unknown);
  }
}

}  // namespace bulkhead
