// SPDX-License-Identifier: Apache-2.0
// Test support: a small universe in which packet sets can be checked point by point. Random
// sets only use range ends from a fixed pool, so every address strictly between two pool
// points behaves alike, and the pool points plus one point per gap decide any set exactly.
#pragma once

#include <random>
#include <vector>

#include "engine/packet_set.h"

namespace bulkhead::testing {

class TinyUniverse {
 public:
  TinyUniverse() {
    for (AddrSpace space :
         {AddrSpace::kV4, AddrSpace::kV4Name, AddrSpace::kV6, AddrSpace::kV6Name}) {
      uint128 max = AddrKeyTraits::MaxValue(space);
      for (uint128 v : {uint128(0), uint128(5), max}) {
        addr_pool_.push_back({space, v});
      }
    }
    svc_pool_ = {0,
                 6u << 16 | 22,
                 6u << 16 | 80,
                 6u << 16 | 443,
                 17u << 16 | 53,
                 1u << 16 | 8u << 8,
                 1u << 16 | 8u << 8 | 255,
                 58u << 16 | 128u << 8,
                 ServiceTraits::Max()};
    addr_points_ = PointsOf<AddrKey, AddrKeyTraits>(addr_pool_);
    svc_points_ = PointsOf<uint32_t, ServiceTraits>(svc_pool_);
  }

  const std::vector<AddrKey>& addr_points() const { return addr_points_; }
  const std::vector<uint32_t>& svc_points() const { return svc_points_; }
  size_t size() const { return addr_points_.size() * addr_points_.size() * svc_points_.size(); }

  AddrSet RandomAddrs(std::mt19937& rng) const { return RandomSet<AddrSet>(addr_pool_, rng); }
  ServiceSet RandomServices(std::mt19937& rng) const {
    return RandomSet<ServiceSet>(svc_pool_, rng);
  }
  Cube RandomCube(std::mt19937& rng) const {
    return {RandomAddrs(rng), RandomAddrs(rng), RandomServices(rng)};
  }
  PacketSet RandomPackets(std::mt19937& rng, int max_cubes) const {
    PacketSet s;
    int n = static_cast<int>(rng() % (max_cubes + 1));
    for (int i = 0; i < n; ++i) s = s.Union(PacketSet(RandomCube(rng)));
    return s;
  }

  // Membership of every sample point, indexed by (src, dst, svc) point numbers.
  std::vector<bool> Model(const PacketSet& s) const {
    std::vector<bool> in(size());
    for (size_t i = 0; i < size(); ++i) in[i] = CountCubesHolding(s, i) > 0;
    return in;
  }

  // How many cubes of `s` hold sample point i: more than one breaks disjointness.
  int CountCubesHolding(const PacketSet& s, size_t i) const {
    size_t nv = svc_points_.size(), na = addr_points_.size();
    const AddrKey& src = addr_points_[i / (na * nv)];
    const AddrKey& dst = addr_points_[i / nv % na];
    uint32_t svc = svc_points_[i % nv];
    int holding = 0;
    for (const Cube& c : s.cubes()) {
      holding += c.src.Contains(src) && c.dst.Contains(dst) && c.svc.Contains(svc);
    }
    return holding;
  }

 private:
  // The pool points and, between two neighbours, one point of the gap.
  template <typename T, typename Traits>
  static std::vector<T> PointsOf(const std::vector<T>& pool) {
    std::vector<T> points;
    for (size_t i = 0; i < pool.size(); ++i) {
      points.push_back(pool[i]);
      if (i + 1 < pool.size() && Traits::Next(pool[i]) < pool[i + 1]) {
        points.push_back(Traits::Next(pool[i]));
      }
    }
    return points;
  }

  template <typename Set, typename T>
  static Set RandomSet(const std::vector<T>& pool, std::mt19937& rng) {
    Set s;
    int n = 1 + static_cast<int>(rng() % 3);
    for (int i = 0; i < n; ++i) {
      size_t a = rng() % pool.size(), b = rng() % pool.size();
      s = s.Union(Set(pool[std::min(a, b)], pool[std::max(a, b)]));
    }
    return s;
  }

  std::vector<AddrKey> addr_pool_;
  std::vector<AddrKey> addr_points_;
  std::vector<uint32_t> svc_pool_;
  std::vector<uint32_t> svc_points_;
};

}  // namespace bulkhead::testing
