// SPDX-License-Identifier: Apache-2.0
// `bulkhead lab`: the declared set-up built from network namespaces on this machine, with the
// nftables firewall VM loaded with exactly the rendered ruleset, then probed with real packets
// and compared with verify's prediction. Everything the lab makes is named "bhl-<lab>-..." and
// rendered under /run/bulkhead-lab/<lab>/, so `down` finds it again, also after a crash.
#pragma once

#include <functional>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "net/ip.h"
#include "plan/plan.h"
#include "spec/spec.h"
#include "verify/verify.h"

namespace bulkhead {

inline constexpr const char* kLabStateRoot = "/run/bulkhead-lab";
inline constexpr const char* kLabPrefix = "bhl-";
// In the state folder: written, atomically, as the very last step of a `lab up` that finished.
inline constexpr const char* kLabCompleteFile = "up-complete";
// What the lab's own diagnostics name as their place: they concern no file of the user's.
inline constexpr const char* kLabDiagnosticsFile = "bulkhead";

// Lab names are 1 to 8 of [a-z0-9], so that "bhl-<lab>-" prefixes never overlap.
bool ValidLabName(const std::string& name);

// A host name the lab gives an address to, as dnsmasq would after resolving it.
struct LabHostName {
  std::string name;  // "deb.debian.org"
  IpAddress address;
};

// Where the lab puts things. Pure: computed from the spec and plan alone. The planned networks
// are IPv4; the lab adds IPv6 sources, routes and permanent neighbour entries, so that IPv6
// passes exactly where the firewall's ruleset lets it and probes show where that is.
struct LabLayout {
  std::string name;       // "lab"
  std::string state_dir;  // "/run/bulkhead-lab/lab": the rendered artifacts
  std::string firewall_ns, host_ns, internet_ns, switch_ns;
  std::map<std::string, std::string> vm_ns;  // online VM name -> namespace
  std::vector<LabHostName> host_names;       // lab addresses of every declared host name
  IpAddress elsewhere;                       // an internet address no destination holds
  IpAddress elsewhere_v6;                    // the same in IPv6: 2001:db8:ffff::250
  std::optional<IpAddress> lan_address;      // on the host LAN, when the spec names one
  IpAddress wan_address, uplink_address;     // wan0's, and the internet side's
  std::vector<std::string> namespaces;       // all of the above, creation order
  std::vector<std::string> commands;         // `ip` commands that wire them, run in order
  // Source namespace -> its IPv6 address, from fd00:b4::/48 (the plan gives none).
  std::map<std::string, IpAddress> v6_sources;
};

LabLayout MakeLabLayout(const Spec& spec, const Plan& plan, const std::string& name);

// The address a literal destination entry is probed at (the first host of its prefix, "::1"
// of an IPv6 one), or nullopt for IPv6 entries outside 2000::/3, which no internet host holds.
std::optional<IpAddress> LabEntryAddress(const Prefix& prefix);

// Builds the lab: renders into the state folder, creates and wires the namespaces, loads both
// rulesets, fills the DNS sets, and last writes kLabCompleteFile. An existing lab of that name
// is torn down first. Returns "" or an error; `log` gets one line per step a user wants to know.
std::string LabUp(const Spec& spec, const Plan& plan, const Date& today, const LabLayout& layout,
                  std::string& log);

// "" when the lab is up and its `lab up` finished; otherwise why not, telling what to run
// ("lab 'two' is not up (run 'bulkhead lab up FILE --name two')").
std::string LabReady(const LabLayout& layout);

// Loads the state folder's two rulesets into the firewall and host namespaces again (after
// editing them by hand, say) and refills the DNS sets. User and group names the rulesets match
// sockets by (`meta skuid "bulkhead-fw"`) that this machine lacks are resolved to unused ids
// while nft reads them; no lab process runs as those. Returns "" or an error.
std::string LabLoadRulesets(const LabLayout& layout, std::string& log);

// Deletes the namespaces of lab `name` ("" for every lab) and their state folders. Deleting a
// namespace deletes its links and bridges; the lab leaves no process running. Returns the
// namespaces deleted.
std::vector<std::string> LabDown(const std::string& name);

// One probe: a connection attempt from a source namespace to one address and service.
struct LabProbe {
  size_t source = 0;       // index into the matrix's sources
  size_t destination = 0;  // index into the matrix's destinations
  std::string source_ns, destination_ns;
  IpAddress from, to;
  std::string target;  // what `to` stands for: "deb.debian.org" or the address
  uint8_t proto = 6;   // 6 tcp, 17 udp, 1 icmp (echo), 58 icmpv6 (echo)
  uint16_t port = 0;
  bool predicted = false;  // verify says it passes
  bool observed = false;   // the kernel let it through (connected, echoed, answered)
};

struct LabProbeResult {
  VerifyResult verify;
  std::vector<LabProbe> probes;
  std::vector<size_t> differences;  // indexes into probes
};

// Reads verify's prediction from the lab's state folder, then probes every source against
// every destination column on the ports the spec's rules mention and the closed ports beside
// them, the admin and DNS ports, one port no rule names, and the edges of what verify lets
// through. Fails, with a diagnostic, on a lab that is not up or whose `up` did not finish.
// `progress` is called with a line per batch of probes.
[[nodiscard]] bool ProbeLab(const Spec& spec, const Plan& plan, const LabLayout& layout,
                            const Date& today, LabProbeResult& result, Diagnostics& diags,
                            const std::function<void(const std::string&)>& progress);

std::string FormatLabProbe(const LabProbeResult& r);
nlohmann::json LabProbeJson(const LabProbeResult& r);

}  // namespace bulkhead
