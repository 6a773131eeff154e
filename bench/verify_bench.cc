// SPDX-License-Identifier: Apache-2.0
// Times the whole pipeline on generated set-ups of N zones (one VM each, three egress rules
// each, N/10 destinations of 100 addresses): read and plan, render, then verify from the
// rendered files for both engines. Past 34 zones no VirtualBox chipset has enough adapters;
// the benchmark ignores that one diagnostic and takes the VM wiring from the plan instead of the
// VBoxManage script (which rightly refuses adapter 37), since it measures the engine, not
// VirtualBox. The firewall's and the host's rulesets are still read back from rendered files.
//   cmake --build build --target bulkhead_bench && build/bulkhead_bench --benchmark_filter=Pipeline

#include <filesystem>
#include <string>

#include <benchmark/benchmark.h>
#include <fmt/format.h>

#include "plan/plan.h"
#include "render/render.h"
#include "spec/spec.h"
#include "util/atomic_file.h"
#include "verify/verify.h"

namespace bulkhead {
namespace {

namespace fs = std::filesystem;

std::string GeneratedSpec(int zones) {
  int dests = zones / 10 + 1;
  std::string s =
      "[host]\nphysical_nic = \"eth0\"\n[[host.egress]]\nto = \"dest0\"\nproto = \"tcp\"\n"
      "ports = [443]\n[firewall]\nchipset = \"ich9\"\n[plan]\npool = \"10.0.0.0/8\"\n"
      "[destinations]\n";
  for (int d = 0; d < dests; ++d) {
    s += fmt::format("dest{} = [", d);
    for (int a = 0; a < 100; ++a) s += fmt::format("\"198.{}.{}.0/28\", ", 18 + d % 2, a + d);
    s += fmt::format("\"d{}.example\"]\n", d);
  }
  for (int z = 0; z < zones; ++z) {
    s += fmt::format(
        "[zones.z{0}]\n"
        "[[zones.z{0}.egress]]\nto = \"internet\"\nproto = \"tcp\"\nports = [443]\n"
        "[[zones.z{0}.egress]]\nto = \"dest{1}\"\nproto = \"tcp\"\nports = [\"80-90\"]\n"
        "[[zones.z{0}.egress]]\nto = \"vm{2}\"\nproto = \"tcp\"\nports = [22]\n"
        "[vms.vm{0}]\nzone = \"z{0}\"\nmedium = \"/iso\"\n",
        z, z % dests, (z + 1) % zones);
  }
  return s;
}

struct Setup {
  Spec spec;
  Plan plan;
};

bool Prepare(int zones, Setup& s) {
  Diagnostics diags;
  if (!ParseSpec("bench.toml", GeneratedSpec(zones), s.spec, diags)) return false;
  (void)MakePlan(s.spec, s.plan, diags);  // only the adapter limit may complain
  for (const Diagnostic& d : diags.list()) {
    if (d.severity == Severity::kError && d.message.find("adapters") == std::string::npos) {
      return false;
    }
  }
  return true;
}

// The wiring the VBoxManage script would describe, straight from the plan.
Wiring WiringOf(const Setup& s) {
  Wiring w;
  w.hostonly_if = s.plan.hostonly.name;
  w.hostonly_host = {s.plan.hostonly.host_address, s.plan.hostonly.subnet.length};
  VmWiring fw{s.spec.firewall.name, {}};
  fw.adapters.push_back({s.plan.wan.firewall_slot, Attachment::kBridged, s.plan.wan.bridge_nic,
                         s.plan.wan.firewall_mac});
  fw.adapters.push_back({s.plan.hostonly.firewall_slot, Attachment::kHostOnly,
                         s.plan.hostonly.name, s.plan.hostonly.firewall_mac});
  for (const PlannedNetwork& n : s.plan.networks) {
    fw.adapters.push_back({n.firewall_slot, Attachment::kIntnet, n.intnet, n.firewall_mac});
  }
  w.vms.push_back(fw);
  for (const PlannedVm& vm : s.plan.vms) {
    VmWiring v{vm.name, {}};
    if (vm.network >= 0) {
      v.adapters.push_back({1, Attachment::kIntnet, s.plan.networks[vm.network].intnet, vm.mac});
    }
    w.vms.push_back(v);
  }
  return w;
}

std::string RenderInto(const Setup& s, const std::string& dir) {
  Date today = Today();
  auto write = [&](const std::string& target, const Artifacts& files) {
    for (const Artifact& a : files) {
      (void)WriteFileAtomically(dir + "/" + target + "/" + a.path, a.content, a.executable);
    }
  };
  write("pfsense", RenderPfsense(s.spec, s.plan, today));
  write("nftables", RenderNftables(s.spec, s.plan, today));
  write("host", RenderHost(s.spec, s.plan, today));
  return dir;
}

void BM_PipelineReadAndPlan(benchmark::State& state) {
  std::string text = GeneratedSpec(static_cast<int>(state.range(0)));
  for (auto _ : state) {
    Setup s;
    Diagnostics diags;
    benchmark::DoNotOptimize(ParseSpec("bench.toml", text, s.spec, diags));
    benchmark::DoNotOptimize(MakePlan(s.spec, s.plan, diags));
  }
}

void BM_PipelineRender(benchmark::State& state) {
  Setup s;
  if (!Prepare(static_cast<int>(state.range(0)), s)) return state.SkipWithError("bad spec");
  Date today = Today();
  for (auto _ : state) {
    benchmark::DoNotOptimize(RenderPfsense(s.spec, s.plan, today));
    benchmark::DoNotOptimize(RenderNftables(s.spec, s.plan, today));
  }
}

void Verify(benchmark::State& state, FirewallEngine engine) {
  Setup s;
  if (!Prepare(static_cast<int>(state.range(0)), s)) return state.SkipWithError("bad spec");
  std::string dir = (fs::temp_directory_path() / fmt::format("bulkhead-bench-{}", getpid()))
                        .string();
  RenderInto(s, dir);
  Wiring wiring = WiringOf(s);
  size_t differences = 0;
  for (auto _ : state) {
    VerifyResult result;
    Diagnostics diags;
    if (!VerifyWithWiring(s.spec, s.plan, engine, dir, wiring, Today(), result, diags)) {
      state.SkipWithError("verify could not read the artifacts");
      break;
    }
    differences = result.differences.size();
  }
  fs::remove_all(dir);
  state.counters["differences"] = static_cast<double>(differences);
  state.counters["zones"] = static_cast<double>(state.range(0));
}

void BM_PipelineVerifyNftables(benchmark::State& state) {
  Verify(state, FirewallEngine::kNftables);
}
void BM_PipelineVerifyPfsense(benchmark::State& state) {
  Verify(state, FirewallEngine::kPfsense);
}

BENCHMARK(BM_PipelineReadAndPlan)->Arg(10)->Arg(100)->Arg(1000)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_PipelineRender)->Arg(10)->Arg(100)->Arg(1000)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_PipelineVerifyNftables)
    ->Arg(10)->Arg(100)->Arg(1000)->Unit(benchmark::kMillisecond)->Iterations(1);
BENCHMARK(BM_PipelineVerifyPfsense)
    ->Arg(10)->Arg(100)->Arg(1000)->Unit(benchmark::kMillisecond)->Iterations(1);

}  // namespace
}  // namespace bulkhead
