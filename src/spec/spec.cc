// SPDX-License-Identifier: Apache-2.0
// Small helpers of the spec model: names of enumerations as the generated files spell them,
// lookups by name, and the calendar test that decides whether a rule is still in force.

#include "spec/spec.h"

#include <ctime>

#include <fmt/format.h>

namespace bulkhead {

std::string Date::ToString() const { return fmt::format("{:04}-{:02}-{:02}", year, month, day); }

const char* ProtocolName(Protocol p) {
  switch (p) {
    case Protocol::kAny:
      return "any";
    case Protocol::kTcp:
      return "tcp";
    case Protocol::kUdp:
      return "udp";
    case Protocol::kIcmp:
      return "icmp";
  }
  return "any";
}

const char* SharingName(Sharing s) {
  switch (s) {
    case Sharing::kOff:
      return "disabled";
    case Sharing::kHostToGuest:
      return "hosttoguest";
    case Sharing::kGuestToHost:
      return "guesttohost";
    case Sharing::kBidirectional:
      return "bidirectional";
  }
  return "disabled";
}

int MaxAdapters(Chipset c) { return c == Chipset::kIch9 ? 36 : 8; }

namespace {

template <typename T>
const T* FindByName(const std::vector<T>& items, std::string_view name) {
  for (const T& item : items) {
    if (item.name == name) return &item;
  }
  return nullptr;
}

}  // namespace

const Zone* Spec::FindZone(std::string_view name) const { return FindByName(zones, name); }
const Vm* Spec::FindVm(std::string_view name) const { return FindByName(vms, name); }
const Destination* Spec::FindDestination(std::string_view name) const {
  return FindByName(destinations, name);
}

bool RuleInForce(const EgressRule& r, const Date& today) {
  return !r.expires || today <= *r.expires;
}

// Today in UTC, so that one file gives the same rulesets wherever it is compiled.
Date Today() {
  std::time_t now = std::time(nullptr);
  std::tm utc{};
  gmtime_r(&now, &utc);
  return {utc.tm_year + 1900, utc.tm_mon + 1, utc.tm_mday};
}

}  // namespace bulkhead
