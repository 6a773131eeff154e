// SPDX-License-Identifier: Apache-2.0
// Address atoms: the coarsest partition of the address axis that every set of a vocabulary
// (the addresses of a chain's rules and of the packets put to it) is a union of. Sets are
// rewritten as sets of atom ids, so an alias of 100,000 ranges whose ranges no other rule
// tells apart becomes one id, and first-match splitting no longer grows with alias size.
#pragma once

#include <cstdint>
#include <optional>
#include <unordered_map>
#include <vector>

#include "engine/packet_set.h"

namespace bulkhead {

// Use: Add every set (or packet set) to be encoded, Build once, then Encode and Decode.
// Encoded sets hold ids as AddrKey{kV4, id}; they support Intersect, Subtract, Union and
// the tests of IntervalSet, never Complement. Encode takes only sets that were added;
// TryEncode takes any set, and encodes it when it is a union of atoms, as every set made
// from added sets by union, intersection and difference is.
class AddrAtoms {
 public:
  void Add(const AddrSet& s);
  void Add(const PacketSet& p);
  void Build();

  AddrSet Encode(const AddrSet& s);
  AddrSet Decode(const AddrSet& ids);
  PacketSet Encode(const PacketSet& p);
  PacketSet Decode(const PacketSet& p);
  std::optional<AddrSet> TryEncode(const AddrSet& s);
  std::optional<PacketSet> TryEncode(const PacketSet& p);

  size_t atoms() const { return atom_starts_.empty() ? 0 : atom_starts_.size() - 1; }
  size_t vocabulary() const { return vocabulary_.size(); }

 private:
  struct Entry {
    AddrSet set;      // keeps the identity alive, so that no other set can take it over
    AddrSet encoded;  // empty until first encoded
    bool encoded_done = false;
    bool whole_atoms = true;  // false for a set met after Build that cuts through an atom
  };
  size_t IndexOf(const AddrSet& s);
  void Sweep();
  void IndexAtoms();
  std::pair<size_t, size_t> Pieces(const AddrSet::Range& r) const;
  void CollectAtoms(size_t first, size_t last, std::vector<uint32_t>& out) const;
  bool Aligned(const AddrSet::Range& r, size_t first, size_t last) const;
  std::optional<AddrSet> EncodeWalk(const AddrSet& s, bool check) const;
  AddrSet::Range PieceRange(size_t i) const;

  std::vector<Entry> vocabulary_;
  size_t built_ = 0;  // vocabulary_[0, built_) was added before Build: whole atoms by design
  std::unordered_map<const void*, size_t> by_identity_;
  std::vector<AddrSet> also_known_;  // sets found equal to a word, kept for their identity
  std::unordered_multimap<size_t, size_t> by_content_;  // hash of ranges -> index

  // Pieces: maximal intervals of one signature; piece i starts at piece_starts_[i] and ends
  // just before piece_starts_[i + 1] (the last at AddrKeyTraits::Max()).
  std::vector<AddrKey> piece_starts_;
  std::vector<uint32_t> atom_of_;      // per piece
  std::vector<uint32_t> atom_starts_;  // pieces of atom a: atom_pieces_[atom_starts_[a]..]
  std::vector<uint32_t> atom_pieces_;
  // Encoded -> real, by content: equal decisions share one decoded set, so a big alias that
  // many decisions carry is held once however many cells keep it.
  std::unordered_multimap<size_t, std::pair<AddrSet, AddrSet>> decoded_;
};

// Whether a first-match walk over these rule sets and packets is worth encoding: some address
// set is large, or all of them together are. Counting is linear in the number of cubes.
class AtomWorth {
 public:
  void Add(const PacketSet& p);
  bool Worth() const { return largest_ > kLargeSet || total_ > kLargeTotal; }

 private:
  static constexpr size_t kLargeSet = 64;
  static constexpr size_t kLargeTotal = 8192;
  size_t largest_ = 0, total_ = 0;
};

}  // namespace bulkhead
