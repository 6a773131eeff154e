// SPDX-License-Identifier: Apache-2.0
// Wall times of `lab up`, `lab probe` and `lab down` on the example (as an nftables set-up)
// and on a random 50-VM set-up (lab/random_spec.h, seed 50). Builds real network namespaces,
// so it needs root; each phase is timed alone, the others run with the clock paused.
//   cmake --build build --target bulkhead_bench && build/bulkhead_bench --benchmark_filter=Lab

#include <benchmark/benchmark.h>
#include <unistd.h>

#include <filesystem>
#include <string>

#include "lab/lab.h"
#include "lab/random_spec.h"
#include "plan/plan.h"
#include "spec/spec.h"
#include "util/atomic_file.h"

namespace bulkhead {
namespace {

constexpr Date kToday{2026, 12, 1};
constexpr const char* kLab = "bench";

std::string SpecText(int which) {
  if (which == 50) {
    RandomSpecOptions options;
    options.min_vms = options.max_vms = 50;
    return RandomSpecToml(50, options);
  }
  std::string text;
  // The build compiles this file by its absolute path: the example sits beside bench/.
  std::filesystem::path root = std::filesystem::path(__FILE__).parent_path().parent_path();
  (void)ReadWholeFile((root / "examples/workstation.toml").string(), text);
  size_t at = text.find("engine = \"pfsense\"");
  if (at != std::string::npos) text.replace(at, 18, "engine = \"nftables\"");
  return text;
}

// The set-up of the benchmark's argument (0: the example, 50: 50 random VMs), ready for the
// lab; false (and the benchmark skipped) when it cannot be read or the machine cannot build it.
struct SetUp {
  Spec spec;
  Plan plan;
  LabLayout layout;
};

bool Prepare(benchmark::State& state, SetUp& s) {
  if (::geteuid() != 0) {
    state.SkipWithError("needs root");
    return false;
  }
  Diagnostics diags;
  if (!ParseSpec("bench.toml", SpecText(state.range(0)), s.spec, diags, kToday) ||
      !MakePlan(s.spec, s.plan, diags)) {
    state.SkipWithError(diags.Format().c_str());
    return false;
  }
  s.layout = MakeLabLayout(s.spec, s.plan, kLab);
  state.SetLabel(std::to_string(s.layout.namespaces.size()) + " namespaces");
  return true;
}

bool Up(benchmark::State& state, const SetUp& s) {
  std::string log;
  std::string err = LabUp(s.spec, s.plan, kToday, s.layout, log);
  if (!err.empty()) state.SkipWithError(err.c_str());
  return err.empty();
}

void BM_LabUp(benchmark::State& state) {
  SetUp s;
  if (!Prepare(state, s)) return;
  for (auto _ : state) {
    if (!Up(state, s)) break;
    state.PauseTiming();
    LabDown(kLab);
    state.ResumeTiming();
  }
}

void BM_LabProbe(benchmark::State& state) {
  SetUp s;
  if (!Prepare(state, s) || !Up(state, s)) return;
  size_t probes = 0, differences = 0;
  for (auto _ : state) {
    LabProbeResult result;
    Diagnostics diags;
    if (!ProbeLab(s.spec, s.plan, s.layout, kToday, result, diags, [](const std::string&) {})) {
      state.SkipWithError(diags.Format().c_str());
      break;
    }
    probes = result.probes.size();
    differences = result.differences.size();
  }
  state.counters["probes"] = static_cast<double>(probes);
  state.counters["differences"] = static_cast<double>(differences);
  LabDown(kLab);
}

void BM_LabDown(benchmark::State& state) {
  SetUp s;
  if (!Prepare(state, s)) return;
  for (auto _ : state) {
    state.PauseTiming();
    bool up = Up(state, s);
    state.ResumeTiming();
    if (!up) break;
    LabDown(kLab);
  }
}

BENCHMARK(BM_LabUp)->Arg(0)->Arg(50)->Iterations(3)->UseRealTime()->Unit(benchmark::kMillisecond);
BENCHMARK(BM_LabProbe)
    ->Arg(0)
    ->Arg(50)
    ->Iterations(3)
    ->UseRealTime()
    ->Unit(benchmark::kMillisecond);
BENCHMARK(BM_LabDown)->Arg(0)->Arg(50)->Iterations(3)->UseRealTime()->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace bulkhead
