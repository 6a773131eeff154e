// SPDX-License-Identifier: Apache-2.0
// Random set-ups for differential testing: a seed gives the TOML text of a spec for the
// nftables engine with zones, shared and per-VM networks, offline VMs, named destinations
// (IPv4 and IPv6 literals in documentation ranges, host names) and overlapping allow and deny
// rules. The same seed and options always give the same text; every text passes `check`.
#pragma once

#include <cstdint>
#include <string>

namespace bulkhead {

struct RandomSpecOptions {
  int min_vms = 1;
  int max_vms = 8;    // 50 makes a large set-up; networks turn shared to fit 36 adapters
  int max_zones = 6;  // at least 1
  int max_destinations = 4;
  int max_rules_per_zone = 5;
};

// The spec text for `seed`, e.g. "[host]\nphysical_nic = \"eth9\"\n...". Rules never expire
// on or before 2026-12-31 unless they are meant to have expired already (2020-01-01).
std::string RandomSpecToml(uint64_t seed, const RandomSpecOptions& options = {});

}  // namespace bulkhead
