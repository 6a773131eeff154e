// SPDX-License-Identifier: Apache-2.0
// Atoms by one sweep over every range boundary of the vocabulary: each set gets a random
// 64-bit key, toggled in and out at its boundaries (Zobrist hashing), so the running XOR is
// the signature of "which sets hold this address". Pieces of equal signature form one atom,
// numbered in sweep order so that the atoms of one prefix tend to be consecutive ids.

#include "engine/atoms.h"

#include <algorithm>
#include <cstdlib>

namespace bulkhead {
namespace {

uint64_t SplitMix(uint64_t& state) {
  uint64_t z = (state += 0x9e3779b97f4a7c15ull);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

// Mixed into the signature of each address space, so that no atom holds addresses of two
// families, or names and real addresses together.
constexpr uint64_t kSpaceKeys[] = {0, 0x5bd1e9955bd1e995ull, 0xc2b2ae3d27d4eb4full,
                                   0x165667b19e3779f9ull};

size_t HashRanges(const AddrSet& s) {
  size_t h = s.ranges().size();
  for (const AddrSet::Range& r : s.ranges()) {
    for (const AddrKey& k : {r.first, r.last}) {
      uint64_t v = static_cast<uint64_t>(k.value) ^ static_cast<uint64_t>(k.value >> 64) * 31;
      h = (h ^ v ^ uint64_t(k.space) << 60) * 0x100000001b3ull;
    }
  }
  return h;
}

AddrKey IdKey(uint32_t id) { return {AddrSpace::kV4, id}; }

// Ids, sorted and unique, as an encoded set.
AddrSet IdSet(std::vector<uint32_t>& ids) {
  std::sort(ids.begin(), ids.end());
  ids.erase(std::unique(ids.begin(), ids.end()), ids.end());
  AddrSet::Ranges ranges;
  for (uint32_t id : ids) {
    if (!ranges.empty() && ranges.back().last.value + 1 == id) {
      ranges.back().last = IdKey(id);
    } else {
      ranges.push_back({IdKey(id), IdKey(id)});
    }
  }
  return AddrSet::FromRanges(std::move(ranges));
}

}  // namespace

size_t AddrAtoms::IndexOf(const AddrSet& s) {
  auto known = by_identity_.find(s.Identity());
  if (known != by_identity_.end()) return known->second;

  // Importers build "any" afresh for every rule: equal sets of other identities are one word.
  size_t hash = HashRanges(s);
  auto [lo, hi] = by_content_.equal_range(hash);
  for (auto it = lo; it != hi; ++it) {
    if (vocabulary_[it->second].set != s) continue;
    also_known_.push_back(s);  // its identity must not pass to another set while it is known
    return by_identity_[s.Identity()] = it->second;
  }
  size_t index = vocabulary_.size();
  vocabulary_.push_back({s, {}, false});
  by_content_.emplace(hash, index);
  by_identity_[s.Identity()] = index;
  return index;
}

void AddrAtoms::Add(const AddrSet& s) {
  if (!s.empty()) IndexOf(s);
}

void AddrAtoms::Add(const PacketSet& p) {
  for (const Cube& c : p.cubes()) Add(c.src), Add(c.dst);
}

void AddrAtoms::Build() {
  built_ = vocabulary_.size();
  Sweep();
  IndexAtoms();
}

void AddrAtoms::Sweep() {
  struct Toggle {
    AddrKey at;
    uint64_t key;
  };
  std::vector<Toggle> toggles;
  uint64_t seed = 20240601;
  for (const Entry& e : vocabulary_) {
    uint64_t key = SplitMix(seed);
    for (const AddrSet::Range& r : e.set.ranges()) {
      toggles.push_back({r.first, key});
      if (r.last != AddrKeyTraits::Max()) toggles.push_back({AddrKeyTraits::Next(r.last), key});
    }
  }
  for (AddrSpace s : {AddrSpace::kV4Name, AddrSpace::kV6, AddrSpace::kV6Name}) {
    toggles.push_back({{s, 0}, 0});
  }
  std::sort(toggles.begin(), toggles.end(),
            [](const Toggle& a, const Toggle& b) { return a.at < b.at; });

  // A piece starts wherever the signature changes; a boundary where it does not (two sets
  // meeting end to start) is no boundary at all.
  std::unordered_map<uint64_t, uint32_t> ids;
  uint64_t signature = 0;
  size_t i = 0;
  auto piece_at = [&](AddrKey at) {
    while (i < toggles.size() && toggles[i].at == at) signature ^= toggles[i++].key;
    uint64_t atom_key = signature ^ kSpaceKeys[static_cast<int>(at.space)];
    uint32_t atom = ids.try_emplace(atom_key, static_cast<uint32_t>(ids.size())).first->second;
    if (!atom_of_.empty() && atom_of_.back() == atom) return;
    piece_starts_.push_back(at);
    atom_of_.push_back(atom);
  };
  piece_at(AddrKeyTraits::Min());
  while (i < toggles.size()) piece_at(toggles[i].at);
  atom_starts_.assign(ids.size() + 1, 0);
}

// Lays out the pieces of each atom contiguously (counting sort), for decoding.
void AddrAtoms::IndexAtoms() {
  for (uint32_t atom : atom_of_) ++atom_starts_[atom + 1];
  for (size_t a = 1; a < atom_starts_.size(); ++a) atom_starts_[a] += atom_starts_[a - 1];
  atom_pieces_.resize(atom_of_.size());
  std::vector<uint32_t> next(atom_starts_.begin(), atom_starts_.end() - 1);
  for (size_t i = 0; i < atom_of_.size(); ++i) {
    atom_pieces_[next[atom_of_[i]]++] = static_cast<uint32_t>(i);
  }
}

// The pieces [first, last] that range r is made of; r is a union of pieces.
std::pair<size_t, size_t> AddrAtoms::Pieces(const AddrSet::Range& r) const {
  auto first = std::lower_bound(piece_starts_.begin(), piece_starts_.end(), r.first);
  auto after = std::upper_bound(first, piece_starts_.end(), r.last);
  return {static_cast<size_t>(first - piece_starts_.begin()),
          static_cast<size_t>(after - piece_starts_.begin()) - 1};
}

void AddrAtoms::CollectAtoms(size_t first, size_t last, std::vector<uint32_t>& out) const {
  for (size_t i = first; i <= last && i < atom_of_.size(); ++i) out.push_back(atom_of_[i]);
}

// Whether range r, made of pieces [first, last], starts and ends on piece boundaries.
bool AddrAtoms::Aligned(const AddrSet::Range& r, size_t first, size_t last) const {
  if (first >= piece_starts_.size() || piece_starts_[first] != r.first) return false;
  if (last + 1 == piece_starts_.size()) return r.last == AddrKeyTraits::Max();
  return r.last != AddrKeyTraits::Max() && piece_starts_[last + 1] == AddrKeyTraits::Next(r.last);
}

// The atoms of s, from the pieces it holds or, when it holds most of them, from the pieces it
// lacks: a set of whole atoms lacks whole atoms too, so a set of most of the axis is encoded
// from its few holes. With `check`, nullopt when s is not a union of whole atoms: some range
// ends inside a piece, or the pieces found are not every piece of their atoms.
std::optional<AddrSet> AddrAtoms::EncodeWalk(const AddrSet& s, bool check) const {
  size_t held = 0;
  for (const AddrSet::Range& r : s.ranges()) {
    auto [first, last] = Pieces(r);
    if (check && !Aligned(r, first, last)) return std::nullopt;
    held += last + 1 - first;
  }
  bool via_complement = 2 * held > atom_of_.size();
  std::vector<uint32_t> ids;
  size_t next = 0;
  for (const AddrSet::Range& r : s.ranges()) {
    auto [first, last] = Pieces(r);
    if (via_complement) {
      if (first > 0) CollectAtoms(next, first - 1, ids);
      next = last + 1;
    } else {
      CollectAtoms(first, last, ids);
    }
  }
  if (via_complement) CollectAtoms(next, atom_of_.size() - 1, ids);
  size_t pieces = ids.size();
  AddrSet found = IdSet(ids);
  if (check) {
    size_t whole = 0;
    for (const AddrSet::Range& r : found.ranges()) {
      whole += atom_starts_[static_cast<size_t>(r.last.value) + 1] -
               atom_starts_[static_cast<size_t>(r.first.value)];
    }
    if (whole != pieces) return std::nullopt;
  }
  if (!via_complement) return found;
  return AddrSet(IdKey(0), IdKey(static_cast<uint32_t>(atoms() - 1))).Subtract(found);
}

AddrSet AddrAtoms::Encode(const AddrSet& s) {
  std::optional<AddrSet> ids = TryEncode(s);
  if (!ids) std::abort();  // a set that was never added, and that cuts through an atom
  return *std::move(ids);
}

std::optional<AddrSet> AddrAtoms::TryEncode(const AddrSet& s) {
  if (s.empty()) return AddrSet();
  size_t index = IndexOf(s);
  Entry& e = vocabulary_[index];
  if (!e.encoded_done) {
    std::optional<AddrSet> ids = EncodeWalk(s, index >= built_);
    e.whole_atoms = ids.has_value();
    if (ids) e.encoded = *std::move(ids);
    e.encoded_done = true;
  }
  if (!e.whole_atoms) return std::nullopt;
  return e.encoded;
}

AddrSet::Range AddrAtoms::PieceRange(size_t i) const {
  AddrKey last = i + 1 < piece_starts_.size() ? AddrKeyTraits::Prev(piece_starts_[i + 1])
                                              : AddrKeyTraits::Max();
  return {piece_starts_[i], last};
}

AddrSet AddrAtoms::Decode(const AddrSet& ids) {
  if (ids.empty()) return {};
  size_t hash = HashRanges(ids);
  auto [lo, hi] = decoded_.equal_range(hash);
  for (auto it = lo; it != hi; ++it) {
    if (it->second.first.ranges() == ids.ranges()) return it->second.second;
  }

  std::vector<uint32_t> pieces;
  for (const AddrSet::Range& r : ids.ranges()) {
    for (auto a = static_cast<size_t>(r.first.value); a <= r.last.value; ++a) {
      pieces.insert(pieces.end(), atom_pieces_.begin() + atom_starts_[a],
                    atom_pieces_.begin() + atom_starts_[a + 1]);
    }
  }
  std::sort(pieces.begin(), pieces.end());
  AddrSet::Ranges ranges;
  ranges.reserve(pieces.size());
  for (uint32_t i : pieces) ranges.push_back(PieceRange(i));
  AddrSet real = AddrSet::FromRanges(std::move(ranges));
  decoded_.emplace(hash, std::make_pair(ids, real));
  return real;
}

PacketSet AddrAtoms::Encode(const PacketSet& p) {
  PacketSet out;
  for (const Cube& c : p.cubes()) {
    out.UnionDisjoint(PacketSet::Of(Encode(c.src), Encode(c.dst), c.svc));
  }
  return out;
}

std::optional<PacketSet> AddrAtoms::TryEncode(const PacketSet& p) {
  PacketSet out;
  for (const Cube& c : p.cubes()) {
    std::optional<AddrSet> src = TryEncode(c.src), dst = TryEncode(c.dst);
    if (!src || !dst) return std::nullopt;
    out.UnionDisjoint(PacketSet::Of(*std::move(src), *std::move(dst), c.svc));
  }
  return out;
}

PacketSet AddrAtoms::Decode(const PacketSet& p) {
  PacketSet out;
  for (const Cube& c : p.cubes()) {
    out.UnionDisjoint(PacketSet::Of(Decode(c.src), Decode(c.dst), c.svc));
  }
  return out;
}

void AtomWorth::Add(const PacketSet& p) {
  for (const Cube& c : p.cubes()) {
    for (const AddrSet* s : {&c.src, &c.dst}) {
      largest_ = std::max(largest_, s->ranges().size());
      total_ += s->ranges().size();
    }
  }
}

}  // namespace bulkhead
