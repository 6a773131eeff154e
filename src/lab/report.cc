// SPDX-License-Identifier: Apache-2.0
// How `lab probe` shows what it saw: per source, the services that got through to each
// destination address, then every probe where the kernel and verify disagree, and the same
// as JSON for machines.
#include <fmt/format.h>

#include <map>

#include "lab/lab.h"

namespace bulkhead {
namespace {

std::string ServiceText(const LabProbe& p) {
  switch (p.proto) {
    case 6:
      return fmt::format("tcp {}", p.port);
    case 17:
      return fmt::format("udp {}", p.port);
    case 58:
      return "icmpv6 echo";
    default:
      return "icmp echo";
  }
}

std::string DestinationText(const LabProbeResult& r, const LabProbe& p) {
  const std::string& name = r.verify.observed.destinations[p.destination].name;
  return name == p.target ? name : fmt::format("{} at {}", name, p.target);
}

// Per source and destination address, the services that passed: tcp, then udp, then icmp.
std::string PassedText(const LabProbeResult& r) {
  std::map<std::pair<size_t, std::string>, std::map<std::pair<int, uint16_t>, std::string>> open;
  for (const LabProbe& p : r.probes) {
    int order = p.proto == 6 ? 0 : p.proto == 17 ? 1 : 2;
    if (p.observed) open[{p.source, DestinationText(r, p)}][{order, p.port}] = ServiceText(p);
  }
  std::string out;
  size_t last_source = SIZE_MAX;
  for (const auto& [key, services] : open) {
    if (key.first != last_source) out += r.verify.observed.sources[key.first].name + "\n";
    last_source = key.first;
    std::vector<std::string> texts;
    for (const auto& [order, text] : services) texts.push_back(text);
    out += fmt::format("  -> {:<36} {}\n", key.second, fmt::join(texts, ", "));
  }
  return out;
}

std::string DifferenceText(const LabProbeResult& r, const LabProbe& p) {
  return fmt::format("{} -> {}: {} {} in the lab, verify predicts it is {}\n",
                     r.verify.observed.sources[p.source].name, DestinationText(r, p),
                     ServiceText(p), p.observed ? "passes" : "is blocked",
                     p.predicted ? "open" : "blocked");
}

}  // namespace

std::string FormatLabProbe(const LabProbeResult& r) {
  std::string out = PassedText(r);
  if (r.differences.empty()) {
    return out +
           fmt::format("\nagreed: all {} probes behaved as verify predicts\n", r.probes.size());
  }
  out += "\n";
  for (size_t i : r.differences) out += DifferenceText(r, r.probes[i]);
  return out + fmt::format("\n{} of {} probes differ from verify's prediction\n",
                           r.differences.size(), r.probes.size());
}

nlohmann::json LabProbeJson(const LabProbeResult& r) {
  nlohmann::json probes = nlohmann::json::array();
  for (const LabProbe& p : r.probes) {
    probes.push_back({{"source", r.verify.observed.sources[p.source].name},
                      {"destination", r.verify.observed.destinations[p.destination].name},
                      {"from", p.from.ToString()},
                      {"to", p.to.ToString()},
                      {"target", p.target},
                      {"service", ServiceText(p)},
                      {"predicted", p.predicted},
                      {"observed", p.observed}});
  }
  return {{"probes", probes}, {"differences", r.differences.size()}};
}

}  // namespace bulkhead
