// SPDX-License-Identifier: Apache-2.0
// IPv4 and IPv6 addresses and prefixes as plain value types. Both families share one
// 128-bit value so that arithmetic (first, last, containment) is written once; the family
// says how many of the low bits are meaningful.
#pragma once

#include <compare>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace bulkhead {

using uint128 = unsigned __int128;

enum class Family : uint8_t { kV4, kV6 };

inline int AddressBits(Family f) { return f == Family::kV4 ? 32 : 128; }

// One address. For kV4 only the low 32 bits of `value` are used.
struct IpAddress {
  Family family = Family::kV4;
  uint128 value = 0;

  // Accepts "192.0.2.1" and any RFC 4291 text form of IPv6 ("2001:db8::1", "::ffff:1.2.3.4").
  // Returns nullopt for anything else (no surrounding spaces, no zone index).
  static std::optional<IpAddress> Parse(std::string_view text);
  static IpAddress V4(uint32_t v) { return {Family::kV4, v}; }

  // Canonical text: dotted quad, or RFC 5952 compressed IPv6.
  std::string ToString() const;

  auto operator<=>(const IpAddress&) const = default;
};

// An address with a prefix length, e.g. "10.20.0.0/24" or "2001:db8::/32". Parse accepts a bare
// address as a host prefix (/32 or /128). Host bits need not be zero in the text; `Network()`
// clears them and `HasHostBits()` tells whether the text had them set.
struct Prefix {
  IpAddress address;
  int length = 0;

  static std::optional<Prefix> Parse(std::string_view text);

  IpAddress First() const;  // network address
  IpAddress Last() const;   // broadcast address for v4
  Prefix Network() const { return {First(), length}; }
  bool HasHostBits() const { return First() != address; }
  bool Contains(const IpAddress& a) const;
  bool Overlaps(const Prefix& other) const;
  // Number of addresses, saturating at 2^64 for huge IPv6 prefixes.
  uint64_t Size() const;
  // The n-th address of the prefix (0 is the network address); n must be < Size().
  IpAddress Nth(uint64_t n) const;
  std::string ToString() const;  // "10.20.0.0/24"

  auto operator<=>(const Prefix&) const = default;
};

// IPv4 netmasks as VirtualBox writes them: NetmaskV4(24) is 255.255.255.0, and
// NetmaskLength("255.255.255.0") is 24; nullopt for text that is not a contiguous IPv4 mask.
IpAddress NetmaskV4(int length);
std::optional<int> NetmaskLength(std::string_view text);

}  // namespace bulkhead
