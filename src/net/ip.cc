// SPDX-License-Identifier: Apache-2.0
// Strict parsing and canonical printing of IP addresses and prefixes. Parsing accepts exactly
// the RFC 4291 text forms (and dotted quads without leading zeros); printing follows RFC 5952,
// so two equal addresses always print the same and a printed address always parses back.

#include "net/ip.h"

#include <algorithm>
#include <array>
#include <vector>

#include <fmt/format.h>

namespace bulkhead {
namespace {

// Splits `text` at every `sep`, keeping empty fields.
std::vector<std::string_view> Split(std::string_view text, char sep) {
  std::vector<std::string_view> fields;
  size_t start = 0;
  for (size_t i = 0; i <= text.size(); ++i) {
    if (i == text.size() || text[i] == sep) {
      fields.push_back(text.substr(start, i - start));
      start = i + 1;
    }
  }
  return fields;
}

// A decimal number of at most `max_digits` digits without a leading zero ("0" itself is fine).
std::optional<int> ParseDecimal(std::string_view text, size_t max_digits) {
  if (text.empty() || text.size() > max_digits) return std::nullopt;
  if (text.size() > 1 && text[0] == '0') return std::nullopt;
  int value = 0;
  for (char c : text) {
    if (c < '0' || c > '9') return std::nullopt;
    value = value * 10 + (c - '0');
  }
  return value;
}

std::optional<uint32_t> ParseV4(std::string_view text) {
  std::vector<std::string_view> parts = Split(text, '.');
  if (parts.size() != 4) return std::nullopt;
  uint32_t value = 0;
  for (std::string_view part : parts) {
    std::optional<int> octet = ParseDecimal(part, 3);
    if (!octet || *octet > 255) return std::nullopt;
    value = value << 8 | static_cast<uint32_t>(*octet);
  }
  return value;
}

std::optional<uint16_t> ParseHexGroup(std::string_view text) {
  if (text.empty() || text.size() > 4) return std::nullopt;
  uint16_t value = 0;
  for (char c : text) {
    int digit;
    if (c >= '0' && c <= '9')
      digit = c - '0';
    else if (c >= 'a' && c <= 'f')
      digit = c - 'a' + 10;
    else if (c >= 'A' && c <= 'F')
      digit = c - 'A' + 10;
    else
      return std::nullopt;
    value = static_cast<uint16_t>(value << 4 | digit);
  }
  return value;
}

// Parses a colon-separated list of groups (no "::" inside); the last field may be a dotted
// quad, which counts as two groups. An empty text is an empty list.
std::optional<std::vector<uint16_t>> ParseGroups(std::string_view text, bool allow_v4_tail) {
  std::vector<uint16_t> groups;
  if (text.empty()) return groups;
  std::vector<std::string_view> fields = Split(text, ':');
  for (size_t i = 0; i < fields.size(); ++i) {
    bool last = i + 1 == fields.size();
    if (last && allow_v4_tail && fields[i].find('.') != std::string_view::npos) {
      std::optional<uint32_t> v4 = ParseV4(fields[i]);
      if (!v4) return std::nullopt;
      groups.push_back(static_cast<uint16_t>(*v4 >> 16));
      groups.push_back(static_cast<uint16_t>(*v4 & 0xffff));
      continue;
    }
    std::optional<uint16_t> group = ParseHexGroup(fields[i]);
    if (!group) return std::nullopt;
    groups.push_back(*group);
  }
  return groups;
}

uint128 GroupsToValue(const std::vector<uint16_t>& groups) {
  uint128 value = 0;
  for (uint16_t g : groups) value = value << 16 | g;
  return value;
}

std::optional<uint128> ParseV6(std::string_view text) {
  size_t gap = text.find("::");
  if (gap == std::string_view::npos) {
    std::optional<std::vector<uint16_t>> groups = ParseGroups(text, true);
    if (!groups || groups->size() != 8) return std::nullopt;
    return GroupsToValue(*groups);
  }

  // "::" stands for one or more zero groups, and may appear once only.
  std::string_view head = text.substr(0, gap);
  std::string_view tail = text.substr(gap + 2);
  if (tail.find("::") != std::string_view::npos) return std::nullopt;
  std::optional<std::vector<uint16_t>> front = ParseGroups(head, false);
  std::optional<std::vector<uint16_t>> back = ParseGroups(tail, true);
  if (!front || !back || front->size() + back->size() > 7) return std::nullopt;
  std::vector<uint16_t> groups = *front;
  groups.resize(8 - back->size(), 0);
  groups.insert(groups.end(), back->begin(), back->end());
  return GroupsToValue(groups);
}

std::string V4ToString(uint32_t v) {
  return fmt::format("{}.{}.{}.{}", v >> 24, (v >> 16) & 0xff, (v >> 8) & 0xff, v & 0xff);
}

// The longest run of at least two zero groups, the first one on a tie (RFC 5952 4.2).
std::pair<int, int> LongestZeroRun(const std::array<uint16_t, 8>& groups) {
  int best_start = -1, best_len = 0;
  for (int i = 0; i < 8;) {
    if (groups[i] != 0) {
      ++i;
      continue;
    }
    int j = i;
    while (j < 8 && groups[j] == 0) ++j;
    if (j - i > best_len) best_start = i, best_len = j - i;
    i = j;
  }
  if (best_len < 2) return {-1, 0};
  return {best_start, best_len};
}

std::string V6ToString(uint128 v) {
  // IPv4-mapped addresses print in mixed notation (RFC 5952 5), as inet_ntop does.
  if (v >> 32 == 0xffff) return "::ffff:" + V4ToString(static_cast<uint32_t>(v));

  std::array<uint16_t, 8> groups;
  for (int i = 0; i < 8; ++i) groups[i] = static_cast<uint16_t>(v >> (16 * (7 - i)));
  auto [run_start, run_len] = LongestZeroRun(groups);
  std::string out;
  for (int i = 0; i < 8; ++i) {
    if (i == run_start) {
      out += "::";
      i += run_len - 1;
      continue;
    }
    if (!out.empty() && out.back() != ':') out += ':';
    out += fmt::format("{:x}", groups[i]);
  }
  return out;
}

// The bits of an address of `f` that a prefix of `length` leaves to hosts.
uint128 HostMask(Family f, int length) {
  int host_bits = AddressBits(f) - length;
  if (host_bits >= 128) return ~uint128(0);
  return (uint128(1) << host_bits) - 1;
}

}  // namespace

std::optional<IpAddress> IpAddress::Parse(std::string_view text) {
  if (text.find(':') != std::string_view::npos) {
    std::optional<uint128> v6 = ParseV6(text);
    if (!v6) return std::nullopt;
    return IpAddress{Family::kV6, *v6};
  }
  std::optional<uint32_t> v4 = ParseV4(text);
  if (!v4) return std::nullopt;
  return V4(*v4);
}

std::string IpAddress::ToString() const {
  if (family == Family::kV4) return V4ToString(static_cast<uint32_t>(value));
  return V6ToString(value);
}

std::optional<Prefix> Prefix::Parse(std::string_view text) {
  size_t slash = text.find('/');
  std::optional<IpAddress> address = IpAddress::Parse(text.substr(0, slash));
  if (!address) return std::nullopt;
  int bits = AddressBits(address->family);
  if (slash == std::string_view::npos) return Prefix{*address, bits};

  std::optional<int> length = ParseDecimal(text.substr(slash + 1), 3);
  if (!length || *length > bits) return std::nullopt;
  return Prefix{*address, *length};
}

IpAddress Prefix::First() const {
  return {address.family, address.value & ~HostMask(address.family, length)};
}

IpAddress Prefix::Last() const {
  return {address.family, First().value | HostMask(address.family, length)};
}

bool Prefix::Contains(const IpAddress& a) const {
  if (a.family != address.family) return false;
  return (a.value & ~HostMask(a.family, length)) == First().value;
}

bool Prefix::Overlaps(const Prefix& other) const {
  if (other.address.family != address.family) return false;
  return length <= other.length ? Contains(other.address) : other.Contains(address);
}

uint64_t Prefix::Size() const {
  int host_bits = AddressBits(address.family) - length;
  if (host_bits >= 64) return UINT64_MAX;
  return uint64_t{1} << host_bits;
}

IpAddress Prefix::Nth(uint64_t n) const { return {address.family, First().value + n}; }

std::string Prefix::ToString() const { return fmt::format("{}/{}", address.ToString(), length); }

IpAddress NetmaskV4(int length) {
  return IpAddress::V4(length <= 0 ? 0u : 0xffffffffu << (32 - std::min(length, 32)));
}

std::optional<int> NetmaskLength(std::string_view text) {
  std::optional<IpAddress> mask = IpAddress::Parse(text);
  if (!mask || mask->family != Family::kV4) return std::nullopt;
  uint32_t bits = static_cast<uint32_t>(mask->value);
  int length = 0;
  while (length < 32 && (bits & (0x80000000u >> length)) != 0) ++length;
  if (length < 32 && (bits << length) != 0) return std::nullopt;
  return length;
}

}  // namespace bulkhead
