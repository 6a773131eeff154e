// SPDX-License-Identifier: Apache-2.0
// Times the audit of a pfSense config.xml phase by phase: reading it, building the matrix,
// the rule findings and the matrix findings. Inputs are the largest config of the shared
// corpus (skipped when absent) and seeded generated configs of N filter rules over eight
// interfaces, with nested aliases, port aliases and one alias of up to 100,000 addresses; and
// configs whose rules all sit on one interface, random port rules with random prefixes, the
// case that makes a first-match walk grow faster than its rules.
//   cmake --build build-bench --target bulkhead_bench
//   build-bench/bulkhead_bench --benchmark_filter=Audit

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include <benchmark/benchmark.h>
#include <fmt/format.h>

#include "audit/audit_matrix.h"
#include "audit/matrix_findings.h"
#include "audit/rule_findings.h"
#include "import/artifacts.h"

namespace bulkhead {
namespace {

namespace fs = std::filesystem;

// ---- A generated config.xml ------------------------------------------------------------------

constexpr int kInsideInterfaces = 7;  // lan, opt1..opt6; the wan has the gateway

std::string IfaceKey(int i) { return i == 0 ? "lan" : fmt::format("opt{}", i); }

// The inside interface i has 10.i.0.1/16 (lan: 192.168.1.1/24).
std::string InsideHost(std::mt19937& rng, int i) {
  if (i == 0) return fmt::format("192.168.1.{}", 2 + rng() % 250);
  return fmt::format("10.{}.{}.{}", i, rng() % 256, 1 + rng() % 254);
}

std::string PublicHost(std::mt19937& rng) {
  return fmt::format("{}.{}.{}.{}", 20 + rng() % 180, rng() % 256, rng() % 256, 1 + rng() % 254);
}

std::string PublicPrefix(std::mt19937& rng) {
  int length = 16 + static_cast<int>(rng() % 13);
  uint32_t value = (20 + rng() % 180) << 24 | (rng() & 0xffffff);
  value &= ~0u << (32 - length);
  return fmt::format("{}.{}.{}.{}/{}", value >> 24, value >> 16 & 255, value >> 8 & 255,
                     value & 255, length);
}

class Generator {
 public:
  explicit Generator(int rules) : rules_(rules), rng_(20240601u + rules) {}
  std::string Config();

 private:
  std::string Interfaces();
  std::string Aliases();
  std::string Alias(const std::string& name, const std::string& type,
                    const std::vector<std::string>& members);
  std::string Filter();
  std::string Rule(int index);
  std::string Source(int iface);
  std::string Destination(const std::string& port);
  std::pair<std::string, std::string> Services();
  std::string Nat();
  int Pick(int n) { return static_cast<int>(rng_() % static_cast<uint32_t>(n)); }
  bool Chance(int percent) { return Pick(100) < percent; }

  int rules_;
  std::mt19937 rng_;
  int host_aliases_ = 0, net_aliases_ = 0, nested_aliases_ = 0, port_aliases_ = 0;
};

std::string Generator::Interfaces() {
  std::string s =
      "<interfaces><wan><enable/><if>vtnet0</if><ipaddr>203.0.113.2</ipaddr>"
      "<subnet>24</subnet><gateway>WANGW</gateway><blockbogons/></wan>"
      "<lan><enable/><if>vtnet1</if><ipaddr>192.168.1.1</ipaddr><subnet>24</subnet></lan>";
  for (int i = 1; i < kInsideInterfaces; ++i) {
    s += fmt::format("<opt{0}><enable/><if>vtnet{1}</if><descr>NET{0}</descr>"
                     "<ipaddr>10.{0}.0.1</ipaddr><subnet>16</subnet></opt{0}>",
                     i, i + 1);
  }
  return s + "</interfaces><gateways><gateway_item><interface>wan</interface>"
             "<gateway>203.0.113.1</gateway><name>WANGW</name></gateway_item>"
             "<defaultgw4>WANGW</defaultgw4></gateways>";
}

std::string Generator::Alias(const std::string& name, const std::string& type,
                             const std::vector<std::string>& members) {
  return fmt::format("<alias><name>{}</name><type>{}</type><address>{}</address></alias>", name,
                     type, fmt::join(members, " "));
}

// Host, network and port aliases in proportion to the rules, aliases of aliases, and one
// blocklist of two addresses per rule (at most 100,000), hosts and prefixes mixed.
std::string Generator::Aliases() {
  host_aliases_ = rules_ / 100 + 2, net_aliases_ = rules_ / 200 + 2;
  nested_aliases_ = rules_ / 500 + 2, port_aliases_ = rules_ / 200 + 2;
  std::string s = "<aliases>";
  for (int a = 0; a < host_aliases_; ++a) {
    std::vector<std::string> m;
    int iface = Pick(kInsideInterfaces);
    for (int k = 3 + Pick(18); k > 0; --k) m.push_back(InsideHost(rng_, iface));
    s += Alias(fmt::format("hosts{}", a), "host", m);
  }
  for (int a = 0; a < net_aliases_; ++a) {
    std::vector<std::string> m;
    for (int k = 2 + Pick(9); k > 0; --k) {
      bool outside = Chance(50);
      m.push_back(outside ? PublicPrefix(rng_) : fmt::format("10.{}.{}.0/24", Pick(7), Pick(256)));
    }
    s += Alias(fmt::format("nets{}", a), "network", m);
  }
  for (int a = 0; a < nested_aliases_; ++a) {
    std::vector<std::string> m = {fmt::format("hosts{}", Pick(host_aliases_)),
                                  fmt::format("nets{}", Pick(net_aliases_)), PublicHost(rng_)};
    if (a > 0) m.push_back(fmt::format("group{}", Pick(a)));
    s += Alias(fmt::format("group{}", a), "network", m);
  }
  for (int a = 0; a < port_aliases_; ++a) {
    std::vector<std::string> m;
    for (int k = 2 + Pick(5); k > 0; --k) {
      int port = 1 + Pick(60000);
      m.push_back(Chance(70) ? std::to_string(port) : fmt::format("{}:{}", port, port + Pick(500)));
    }
    if (a > 0 && Chance(30)) m.push_back(fmt::format("ports{}", Pick(a)));
    s += Alias(fmt::format("ports{}", a), "port", m);
  }
  std::vector<std::string> block;
  for (int k = std::min(100000, 2 * rules_); k > 0; --k) {
    block.push_back(Chance(70) ? PublicHost(rng_) : PublicPrefix(rng_));
  }
  return s + Alias("blocklist", "network", block) + "</aliases>";
}

// A <source> of a rule on inside interface `iface` (-1: the wan): mostly the interface's own
// network or some of its hosts, as real rule sets are written.
std::string Generator::Source(int iface) {
  int roll = Pick(100);
  std::string inner;
  if (roll < 8 || (iface < 0 && roll < 43)) {
    inner = "<any/>";
  } else if (roll < 43) {
    inner = fmt::format("<network>{}</network>", IfaceKey(iface));
  } else if (roll < 68) {
    inner = fmt::format("<address>hosts{}</address>", Pick(host_aliases_));
  } else if (roll < 76) {
    inner = fmt::format("<address>nets{}</address>", Pick(net_aliases_));
  } else if (roll < 86) {
    inner = fmt::format("<address>group{}</address>", Pick(nested_aliases_));
  } else {
    inner = fmt::format("<address>{}</address>",
                        iface < 0 ? PublicHost(rng_) : InsideHost(rng_, iface));
  }
  return "<source>" + inner + "</source>";
}

// A <destination>, with `port` inside it. "any" only with a port (`narrow` false), so that
// few rules take everything; a few are negated networks ("anything but ...").
std::string Generator::Destination(const std::string& port) {
  int roll = Pick(100);
  std::string inner;
  if (roll < 10 && !port.empty()) {
    inner = "<any/>";
  } else if (roll < 25) {
    inner = fmt::format("<network>{}</network>", IfaceKey(Pick(kInsideInterfaces)));
  } else if (roll < 55) {
    inner = fmt::format("<address>hosts{}</address>", Pick(host_aliases_));
  } else if (roll < 65) {
    inner = fmt::format("<address>nets{}</address>", Pick(net_aliases_));
  } else if (roll < 78) {
    inner = fmt::format("<address>group{}</address>", Pick(nested_aliases_));
  } else {
    inner = fmt::format("<address>{}</address>",
                        Chance(50) ? InsideHost(rng_, Pick(kInsideInterfaces)) : PublicHost(rng_));
  }
  if (roll >= 10 && roll < 25 && Chance(15)) inner += "<not/>";
  return "<destination>" + inner + port + "</destination>";
}

// The protocol elements, and the destination's <port> element (or nothing).
std::pair<std::string, std::string> Generator::Services() {
  int roll = Pick(100);
  if (roll < 15) return {};  // any protocol
  if (roll < 25) {
    return {Chance(50) ? "<protocol>icmp</protocol><icmptype>echoreq</icmptype>"
                       : "<protocol>icmp</protocol>",
            ""};
  }
  const char* proto = roll < 60 ? "tcp" : roll < 80 ? "udp" : "tcp/udp";
  std::string port;
  int kind = Pick(100);
  if (kind < 40) {
    port = std::to_string(1 + Pick(65000));
  } else if (kind < 60) {
    int first = 1 + Pick(60000);
    port = fmt::format("{}-{}", first, first + Pick(2000));
  } else if (kind < 85) {
    port = fmt::format("ports{}", Pick(port_aliases_));
  }
  return {fmt::format("<protocol>{}</protocol>", proto),
          port.empty() ? "" : "<port>" + port + "</port>"};
}

std::string Generator::Rule(int index) {
  bool floating = Chance(5);
  int iface = Pick(kInsideInterfaces + 1) - 1;  // -1: the wan
  std::string s = "<rule>";
  int type = Pick(100);
  s += type < 65 ? "<type>pass</type>" : type < 90 ? "<type>block</type>" : "<type>reject</type>";
  if (floating) {
    s += fmt::format("<floating>yes</floating>{}<direction>{}</direction>",
                     Chance(50) ? "<quick>yes</quick>" : "",
                     Chance(40) ? "in" : Chance(50) ? "out" : "any");
    s += Chance(30) ? "<interface>any</interface>"
                    : fmt::format("<interface>{},wan</interface>", IfaceKey(Pick(7)));
  } else {
    s += fmt::format("<interface>{}</interface>", iface < 0 ? "wan" : IfaceKey(iface));
  }
  if (Chance(3)) s += "<disabled/>";
  if (Chance(1)) s += "<sched>office_hours</sched>";
  int family = Pick(100);
  s += family < 85 ? "<ipprotocol>inet</ipprotocol>"
                   : family < 95 ? "<ipprotocol>inet46</ipprotocol>"
                                 : "<ipprotocol>inet6</ipprotocol>";
  auto [protocol, port] = Services();
  s += protocol + Source(iface) + Destination(port);
  return s + fmt::format("<tracker>{}</tracker><descr>rule {}</descr></rule>",
                         1700000000 + index, index);
}

// The blocklist is used as a blocklist is: dropped as a source on the wan, and as a
// destination by a floating rule on the way out. The lan lets out anything last; the rest is
// random.
std::string Generator::Filter() {
  std::string s =
      "<filter><rule><type>block</type><interface>wan</interface><ipprotocol>inet</ipprotocol>"
      "<source><address>blocklist</address></source><destination><any/></destination>"
      "<descr>drop the blocklist</descr></rule>"
      "<rule><type>reject</type><floating>yes</floating><quick>yes</quick><direction>out"
      "</direction><interface>wan</interface><ipprotocol>inet</ipprotocol><source><any/>"
      "</source><destination><address>blocklist</address></destination>"
      "<descr>no way to the blocklist</descr></rule>";
  for (int i = 2; i + 1 < rules_; ++i) s += Rule(i);
  return s + "<rule><type>pass</type><interface>lan</interface><ipprotocol>inet46</ipprotocol>"
             "<source><network>lan</network></source><destination><any/></destination>"
             "<descr>lan to any</descr></rule></filter>";
}

// Five port forwards to lan hosts, two of them moving the port, and hybrid outbound NAT.
std::string Generator::Nat() {
  std::string s = "<nat>";
  for (int i = 0; i < 5; ++i) {
    int port = 8080 + i;
    s += fmt::format(
        "<rule><interface>wan</interface><protocol>tcp</protocol><source><any/></source>"
        "<destination><network>wanip</network><port>{}</port></destination>"
        "<target>192.168.1.{}</target><local-port>{}</local-port><descr>forward {}</descr>"
        "</rule>",
        port, 10 + i, i < 2 ? 80 : port, i);
  }
  s += "<outbound><mode>hybrid</mode>";
  for (int i = 1; i < 4; ++i) {
    s += fmt::format("<rule><interface>wan</interface><source><network>10.{}.0.0/16</network>"
                     "</source><destination><any/></destination>{}<descr>out {}</descr></rule>",
                     i, i == 3 ? "<nonat/>" : "", i);
  }
  return s + "</outbound></nat>";
}

std::string Generator::Config() {
  std::string head =
      "<?xml version=\"1.0\"?>\n<pfsense><version>23.3</version><system><hostname>fw"
      "</hostname><webgui><protocol>https</protocol></webgui><ssh><enable/></ssh><ipv6allow/>"
      "</system>";
  std::string aliases = Aliases();  // before the rules: they pick among the aliases
  return head + Interfaces() + aliases + Filter() + Nat() + "</pfsense>\n";
}

// N random rules on the LAN: pass or block, from a LAN host or prefix or any, to a random
// prefix of 10.0.0.0/8, on TCP or UDP port ranges.
std::string OneChainConfig(int rules) {
  std::mt19937 rng(7u + rules);
  auto pick = [&rng](int n) { return static_cast<int>(rng() % static_cast<uint32_t>(n)); };
  std::string filter;
  for (int i = 0; i < rules; ++i) {
    int from_length = 24 + pick(9), to_length = 8 + pick(25);
    std::string from =
        pick(3) == 0 ? "<any/>"
                     : fmt::format("<address>192.168.1.{}/{}</address>",
                                   pick(256) & (0xff << (32 - from_length)), from_length);
    uint32_t to = (10u << 24 | (rng() & 0xffffff)) & (~0u << (32 - to_length));
    int first = 1 + pick(65000);
    filter += fmt::format(
        "<rule><type>{}</type><interface>lan</interface><ipprotocol>inet</ipprotocol>"
        "<protocol>{}</protocol><source>{}</source><destination><address>{}.{}.{}.{}/{}"
        "</address><port>{}-{}</port></destination></rule>",
        pick(2) ? "pass" : "block", pick(2) ? "tcp" : "udp", from, to >> 24, to >> 16 & 255,
        to >> 8 & 255, to & 255, to_length, first, first + pick(500));
  }
  return "<?xml version=\"1.0\"?>\n<pfsense><version>23.3</version><interfaces>"
         "<wan><enable/><if>em0</if><ipaddr>203.0.113.2</ipaddr><subnet>24</subnet>"
         "<gateway>WANGW</gateway></wan><lan><enable/><if>em1</if><ipaddr>192.168.1.1</ipaddr>"
         "<subnet>24</subnet></lan><opt1><enable/><if>em2</if><ipaddr>10.0.1.1</ipaddr>"
         "<subnet>24</subnet></opt1></interfaces><filter>" +
         filter + "</filter></pfsense>\n";
}

// ---- The inputs, made once per process -------------------------------------------------------

struct Input {
  std::string path;
  std::unique_ptr<FirewallView> fw;
  std::unique_ptr<Matrix> matrix;
  std::string error;
};

std::string LargestCorpusFile() {
  fs::path dir = fs::path(BULKHEAD_SOURCE_DIR) / ".." / "shared" / "corpus" / "pfsense";
  std::error_code ec;
  std::string best;
  uintmax_t best_size = 0;
  for (const auto& e : fs::directory_iterator(dir, ec)) {
    if (e.path().extension() != ".xml" || e.file_size() <= best_size) continue;
    best = e.path().string(), best_size = e.file_size();
  }
  return best;
}

// The config for `rules` (0: the corpus file; below 0: -rules on one interface), written to a
// temporary file once.
std::string ConfigPath(int rules) {
  if (rules == 0) return LargestCorpusFile();
  fs::path path = fs::temp_directory_path() /
                  fmt::format("bulkhead-audit-bench-{}-{}.xml", getpid(), rules);
  std::ofstream(path) << (rules > 0 ? Generator(rules).Config() : OneChainConfig(-rules));
  return path.string();
}

// Removes the generated files when the process ends, unless BULKHEAD_BENCH_KEEP is set (to
// profile the audit of one of them apart).
struct Inputs : std::map<int, Input> {
  ~Inputs() {
    if (getenv("BULKHEAD_BENCH_KEEP")) return;
    for (auto& [rules, in] : *this) {
      if (rules != 0 && !in.path.empty()) fs::remove(in.path);
    }
  }
};

Input& InputFor(int rules) {
  static Inputs inputs;
  auto [it, fresh] = inputs.try_emplace(rules);
  Input& in = it->second;
  if (!fresh) return in;
  in.path = ConfigPath(rules);
  if (in.path.empty()) {
    in.error = "no pfSense corpus under ../shared/corpus/pfsense";
    return in;
  }
  in.fw = std::make_unique<FirewallView>();
  Diagnostics diags;
  if (!ReadPfsenseFirewall(in.path, *in.fw, diags, Unmodelled::kUnknown)) {
    in.error = "cannot read " + in.path + ": " + diags.Format();
  }
  return in;
}

const Matrix& MatrixFor(Input& in) {
  if (!in.matrix) in.matrix = std::make_unique<Matrix>(AuditMatrix(*in.fw, {}));
  return *in.matrix;
}

void Describe(benchmark::State& state, const Input& in) {
  state.counters["rules"] = static_cast<double>(in.fw->written_rules.size());
  state.SetLabel(fs::path(in.path).filename().string());
}

// ---- The phases ------------------------------------------------------------------------------

void BM_AuditRead(benchmark::State& state) {
  Input& in = InputFor(static_cast<int>(state.range(0)));
  if (!in.error.empty()) return state.SkipWithError(in.error.c_str());
  for (auto _ : state) {
    FirewallView fw;
    Diagnostics diags;
    benchmark::DoNotOptimize(ReadPfsenseFirewall(in.path, fw, diags, Unmodelled::kUnknown));
  }
  Describe(state, in);
}

void BM_AuditMatrix(benchmark::State& state) {
  Input& in = InputFor(static_cast<int>(state.range(0)));
  if (!in.error.empty()) return state.SkipWithError(in.error.c_str());
  size_t cubes = 0, atoms = 0;
  for (auto _ : state) {
    Matrix m = AuditMatrix(*in.fw, {});
    cubes = 0;
    for (const auto& row : m.cells) {
      for (const Cell& c : row) cubes += c.passed.cubes().size();
    }
    atoms = m.atoms ? m.atoms->atoms() : 0;
  }
  Describe(state, in);
  state.counters["passed_cubes"] = static_cast<double>(cubes);
  state.counters["atoms"] = static_cast<double>(atoms);
}

void BM_AuditRuleFindings(benchmark::State& state) {
  Input& in = InputFor(static_cast<int>(state.range(0)));
  if (!in.error.empty()) return state.SkipWithError(in.error.c_str());
  std::vector<Finding> findings;
  for (auto _ : state) findings = RuleFindings(*in.fw);
  Describe(state, in);
  state.counters["findings"] = static_cast<double>(findings.size());
  for (const char* kind : {"rule-shadowed", "rule-redundant"}) {
    state.counters[kind] = static_cast<double>(std::count_if(
        findings.begin(), findings.end(), [&](const Finding& f) { return f.kind == kind; }));
  }
}

void BM_AuditMatrixFindings(benchmark::State& state) {
  Input& in = InputFor(static_cast<int>(state.range(0)));
  if (!in.error.empty()) return state.SkipWithError(in.error.c_str());
  const Matrix& m = MatrixFor(in);
  size_t findings = 0;
  for (auto _ : state) findings = MatrixFindings(*in.fw, {}, m).size();
  Describe(state, in);
  state.counters["findings"] = static_cast<double>(findings);
}

// The whole audit of a config whose rules are all on one interface.
void BM_AuditOneChain(benchmark::State& state) {
  Input& in = InputFor(-static_cast<int>(state.range(0)));
  if (!in.error.empty()) return state.SkipWithError(in.error.c_str());
  for (auto _ : state) {
    Matrix m = AuditMatrix(*in.fw, {});
    benchmark::DoNotOptimize(RuleFindings(*in.fw));
    benchmark::DoNotOptimize(MatrixFindings(*in.fw, {}, m));
  }
  Describe(state, in);
}

// rules:0 is the largest corpus config; the others are generated. The big ones run once.
void Small(benchmark::internal::Benchmark* b) {
  b->ArgName("rules")->Arg(0)->Arg(1000)->Unit(benchmark::kMillisecond);
}
void Big(benchmark::internal::Benchmark* b) {
  b->ArgName("rules")->Arg(10000)->Arg(50000)->Unit(benchmark::kMillisecond)->Iterations(1);
}

BENCHMARK(BM_AuditRead)->Apply(Small);
BENCHMARK(BM_AuditRead)->Apply(Big);
BENCHMARK(BM_AuditMatrix)->Apply(Small);
BENCHMARK(BM_AuditMatrix)->Apply(Big);
BENCHMARK(BM_AuditRuleFindings)->Apply(Small);
BENCHMARK(BM_AuditRuleFindings)->Apply(Big);
BENCHMARK(BM_AuditMatrixFindings)->Apply(Small);
BENCHMARK(BM_AuditMatrixFindings)->Apply(Big);
BENCHMARK(BM_AuditOneChain)
    ->ArgName("rules")
    ->Arg(1000)
    ->Arg(3000)
    ->Arg(6000)
    ->Unit(benchmark::kMillisecond)
    ->Iterations(1);

}  // namespace
}  // namespace bulkhead
