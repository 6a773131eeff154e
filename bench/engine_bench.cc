// SPDX-License-Identifier: Apache-2.0
// How fast first-match evaluation is on chains the size real firewalls reach: seeded random
// chains of N rules over a few interfaces, with random prefixes and port ranges and some
// aliases of thousands of prefixes, evaluated for all traffic arriving on each interface.

#include <random>
#include <string>
#include <vector>

#include <benchmark/benchmark.h>

#include "engine/policy.h"

namespace bulkhead {
namespace {

constexpr int kInterfaces = 8;

std::string IfaceName(int i) { return "if" + std::to_string(i); }

// A random IPv4 prefix, mostly inside 10.0.0.0/8 so that rules overlap as in real set-ups.
Prefix RandomPrefix(std::mt19937& rng) {
  int length = 8 + static_cast<int>(rng() % 25);
  uint32_t value = rng();
  if (rng() % 4 != 0) value = 0x0a000000u | (value & 0x00ffffffu);
  return Prefix{IpAddress::V4(value), length}.Network();
}

// An alias like a blocklist or a cloud provider's ranges: thousands of small prefixes.
AddrSet RandomAlias(std::mt19937& rng, int size) {
  std::vector<Prefix> prefixes;
  for (int i = 0; i < size; ++i) {
    prefixes.push_back(Prefix{IpAddress::V4(rng()), 20 + static_cast<int>(rng() % 13)}.Network());
  }
  return AddrsOf(prefixes);
}

ServiceSet RandomServices(std::mt19937& rng) {
  switch (rng() % 6) {
    case 0:
      return AllServices();
    case 1:
      return IcmpType(kProtoIcmp, rng() % 2 ? 8 : 0);
    case 2: {
      uint16_t port = static_cast<uint16_t>(rng() % 65536);
      return Ports(kProtoUdp, port, port);
    }
    default: {
      uint16_t first = static_cast<uint16_t>(rng() % 65536);
      uint16_t last = static_cast<uint16_t>(std::min<uint32_t>(65535, first + rng() % 1000));
      return Ports(kProtoTcp, first, last);
    }
  }
}

PolicyRule RandomRule(std::mt19937& rng, const std::vector<AddrSet>& aliases) {
  PolicyRule rule;
  if (rng() % 5 != 0) rule.iif = {{IfaceName(static_cast<int>(rng() % kInterfaces))}, false};
  if (rng() % 10 == 0) rule.state = StateMatch::kEstablished;
  AddrSet src = rng() % 3 ? AddrsOf(RandomPrefix(rng)) : AllAddrs(Family::kV4);
  AddrSet dst = rng() % 20 == 0 ? aliases[rng() % aliases.size()] : AddrsOf(RandomPrefix(rng));
  rule.match = PacketSet::Of(std::move(src), std::move(dst), RandomServices(rng));
  rule.action = static_cast<Action>(rng() % 3);
  return rule;
}

Chain RandomChain(int rules, uint32_t seed) {
  std::mt19937 rng(seed);
  std::vector<AddrSet> aliases;
  for (int i = 0; i < 4; ++i) aliases.push_back(RandomAlias(rng, 1000 + 3000 * i));
  Chain chain;
  chain.default_action = Action::kDrop;
  for (int i = 0; i < rules; ++i) chain.rules.push_back(RandomRule(rng, aliases));
  return chain;
}

// What verify asks: everything arriving on one interface, new connections.
void RunEvaluations(benchmark::State& state, const Chain& chain,
                    const std::vector<PacketSet>& inputs) {
  size_t decisions = 0, cubes = 0;
  for (auto _ : state) {
    for (int i = 0; i < kInterfaces; ++i) {
      std::vector<Decision> d = Evaluate(chain, IfaceName(i), "wan", StateMatch::kNew, inputs[i]);
      decisions += d.size();
      for (const Decision& one : d) cubes += one.packets.cubes().size();
      benchmark::DoNotOptimize(d);
    }
  }
  double evaluations = static_cast<double>(state.iterations()) * kInterfaces;
  state.SetItemsProcessed(static_cast<int64_t>(evaluations));
  state.counters["s_per_eval"] =
      benchmark::Counter(evaluations, benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
  state.counters["decisions"] = static_cast<double>(decisions) / evaluations;
  state.counters["cubes"] = static_cast<double>(cubes) / evaluations;
}

// Input: every packet of either family (the question "what may this interface send at all").
void BM_EvaluateAllTraffic(benchmark::State& state) {
  Chain chain = RandomChain(static_cast<int>(state.range(0)), 42);
  std::vector<PacketSet> inputs(kInterfaces, PacketSet::All());
  RunEvaluations(state, chain, inputs);
}

// Input: packets from the interface's own subnet to anywhere, any service.
void BM_EvaluateFromSubnet(benchmark::State& state) {
  Chain chain = RandomChain(static_cast<int>(state.range(0)), 42);
  std::vector<PacketSet> inputs;
  for (int i = 0; i < kInterfaces; ++i) {
    Prefix subnet{IpAddress::V4(0x0a000000u | uint32_t(i) << 16), 16};
    inputs.push_back(PacketSet::Of(AddrsOf(subnet), AllAddrs(Family::kV4), AllServices()));
  }
  RunEvaluations(state, chain, inputs);
}

BENCHMARK(BM_EvaluateAllTraffic)
    ->Arg(10)
    ->Arg(100)
    ->Arg(1000)
    ->Arg(10000)
    ->Unit(benchmark::kMillisecond);
BENCHMARK(BM_EvaluateFromSubnet)
    ->Arg(10)
    ->Arg(100)
    ->Arg(1000)
    ->Arg(10000)
    ->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace bulkhead
