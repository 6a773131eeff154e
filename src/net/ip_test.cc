// SPDX-License-Identifier: Apache-2.0
// Table tests for address and prefix text forms: what parses, what prints back, and the
// arithmetic of prefixes. IPv6 parsing is also checked against the C library's inet_pton on
// random texts, the one reference implementation every firewall tool agrees with.

#include "net/ip.h"

#include <arpa/inet.h>

#include <random>

#include <gtest/gtest.h>

namespace bulkhead {
namespace {

struct TextCase {
  const char* text;
  const char* canonical;  // nullptr: must be rejected
};

TEST(IpAddressTest, ParseAndPrint) {
  const TextCase cases[] = {
      {"0.0.0.0", "0.0.0.0"},
      {"192.0.2.1", "192.0.2.1"},
      {"255.255.255.255", "255.255.255.255"},
      {"10.0.0.256", nullptr},
      {"1.2.3", nullptr},
      {"1.2.3.4.5", nullptr},
      {"01.2.3.4", nullptr},
      {"1.2.3.04", nullptr},
      {"1.2.3.", nullptr},
      {".1.2.3", nullptr},
      {"1..2.3", nullptr},
      {"1.2.3.4 ", nullptr},
      {" 1.2.3.4", nullptr},
      {"1.2.3.-4", nullptr},
      {"1.2.3.0x4", nullptr},
      {"1234.2.3.4", nullptr},
      {"", nullptr},
      {"::", "::"},
      {"::1", "::1"},
      {"1::", "1::"},
      {"2001:DB8::1", "2001:db8::1"},
      {"2001:0db8:0000:0000:0000:0000:0000:0001", "2001:db8::1"},
      {"2001:db8:0:0:1:0:0:1", "2001:db8::1:0:0:1"},
      {"2001:db8:0:1:1:1:1:1", "2001:db8:0:1:1:1:1:1"},
      {"2001:0:0:1:0:0:0:1", "2001:0:0:1::1"},
      {"1:2:3:4:5:6:7::", "1:2:3:4:5:6:7:0"},
      {"::2:3:4:5:6:7:8", "0:2:3:4:5:6:7:8"},
      {"fe80::1:2", "fe80::1:2"},
      {"::ffff:1.2.3.4", "::ffff:1.2.3.4"},
      {"::ffff:0102:0304", "::ffff:1.2.3.4"},
      {"::1.2.3.4", "::102:304"},
      {"64:ff9b::192.0.2.33", "64:ff9b::c000:221"},
      {"1:2:3:4:5:6:1.2.3.4", "1:2:3:4:5:6:102:304"},
      {"1:2:3:4:5:6:7:8", "1:2:3:4:5:6:7:8"},
      {"1:2:3:4:5:6:7:8:9", nullptr},
      {"1:2:3:4:5:6:7", nullptr},
      {"1:2:3:4:5:6:7:8::", nullptr},
      {"::1:2:3:4:5:6:7:8", nullptr},
      {"1::2::3", nullptr},
      {":::", nullptr},
      {":1::2", nullptr},
      {"1::2:", nullptr},
      {"12345::", nullptr},
      {"g::", nullptr},
      {"fe80::1%eth0", nullptr},
      {"1.2.3.4::", nullptr},
      {"::1.2.3", nullptr},
      {"::01.2.3.4", nullptr},
      {"1:2:3:4:5:6:7:1.2.3.4", nullptr},
  };
  for (const TextCase& c : cases) {
    std::optional<IpAddress> a = IpAddress::Parse(c.text);
    if (c.canonical == nullptr) {
      EXPECT_FALSE(a.has_value()) << "'" << c.text << "' parsed as " << a->ToString();
      continue;
    }
    ASSERT_TRUE(a.has_value()) << "'" << c.text << "' rejected";
    EXPECT_EQ(a->ToString(), c.canonical) << "'" << c.text << "'";
    EXPECT_EQ(IpAddress::Parse(a->ToString()), a) << "'" << c.text << "' does not round-trip";
  }
}

TEST(IpAddressTest, FamiliesAndOrder) {
  EXPECT_EQ(IpAddress::Parse("10.1.2.3")->family, Family::kV4);
  EXPECT_EQ(IpAddress::Parse("10.1.2.3")->value, 0x0a010203u);
  EXPECT_EQ(IpAddress::Parse("::a01:203")->family, Family::kV6);
  EXPECT_LT(*IpAddress::Parse("10.0.0.1"), *IpAddress::Parse("10.0.0.2"));
  EXPECT_LT(*IpAddress::Parse("255.255.255.255"), *IpAddress::Parse("::"));
}

// Random group lists, with or without "::" and a dotted tail: our parser must agree with
// inet_pton on acceptance and value.
TEST(IpAddressTest, AgreesWithInetPton) {
  std::mt19937 rng(4291);
  // Mostly valid groups, so that many texts parse; the rest probe the edges.
  const char* pieces[] = {"0", "1", "ffff", "FfFf", "0db8",    "a",     "0", "7f",
                          "",  "",  "::",   "",     "1.2.3.4", "12345", "g"};
  int accepted = 0;
  for (int round = 0; round < 50000; ++round) {
    std::string text;
    int n = 1 + static_cast<int>(rng() % 9);
    for (int i = 0; i < n; ++i) {
      if (i > 0 && rng() % 8 != 0) text += ':';
      text += pieces[rng() % std::size(pieces)];
    }
    in6_addr ref;
    bool ref_ok = inet_pton(AF_INET6, text.c_str(), &ref) == 1;
    std::optional<IpAddress> ours = IpAddress::Parse(text);
    if (ours && ours->family == Family::kV4) continue;  // inet_pton(AF_INET6) wants a colon
    ASSERT_EQ(ours.has_value(), ref_ok) << "'" << text << "'";
    if (!ref_ok) continue;
    ++accepted;
    uint128 value = 0;
    for (uint8_t byte : ref.s6_addr) value = value << 8 | byte;
    ASSERT_EQ(ours->value == value, true) << "'" << text << "'";
    char printed[INET6_ADDRSTRLEN];
    inet_ntop(AF_INET6, &ref, printed, sizeof printed);
    if (value >> 32 != 0 || value <= 0xffff) {  // glibc prints "::a.b.c.d" for the rest
      EXPECT_EQ(ours->ToString(), printed) << "'" << text << "'";
    }
  }
  EXPECT_GT(accepted, 1500);  // the comparison must not be vacuous
}

struct PrefixCase {
  const char* text;
  const char* printed;  // nullptr: rejected
  const char* first;
  const char* last;
  uint64_t size;
};

TEST(PrefixTest, ParseAndArithmetic) {
  const PrefixCase cases[] = {
      {"10.20.0.0/24", "10.20.0.0/24", "10.20.0.0", "10.20.0.255", 256},
      {"10.20.0.7/24", "10.20.0.7/24", "10.20.0.0", "10.20.0.255", 256},
      {"192.0.2.7", "192.0.2.7/32", "192.0.2.7", "192.0.2.7", 1},
      {"0.0.0.0/0", "0.0.0.0/0", "0.0.0.0", "255.255.255.255", uint64_t{1} << 32},
      {"10.0.0.0/8", "10.0.0.0/8", "10.0.0.0", "10.255.255.255", 1 << 24},
      {"10.0.0.1/31", "10.0.0.1/31", "10.0.0.0", "10.0.0.1", 2},
      {"2001:db8::/32", "2001:db8::/32", "2001:db8::", "2001:db8:ffff:ffff:ffff:ffff:ffff:ffff",
       UINT64_MAX},
      {"2001:db8::/64", "2001:db8::/64", "2001:db8::", "2001:db8::ffff:ffff:ffff:ffff", UINT64_MAX},
      {"2001:db8::/65", "2001:db8::/65", "2001:db8::", "2001:db8::7fff:ffff:ffff:ffff",
       uint64_t{1} << 63},
      {"::/0", "::/0", "::", "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", UINT64_MAX},
      {"::1", "::1/128", "::1", "::1", 1},
      {"10.0.0.0/33", nullptr},
      {"10.0.0.0/", nullptr},
      {"10.0.0.0/-1", nullptr},
      {"10.0.0.0/08", nullptr},
      {"10.0.0.0/8/8", nullptr},
      {"10.0.0.0/ 8", nullptr},
      {"/8", nullptr},
      {"1.2.3/24", nullptr},
      {"::/129", nullptr},
      {"::/1280", nullptr},
  };
  for (const PrefixCase& c : cases) {
    std::optional<Prefix> p = Prefix::Parse(c.text);
    if (c.printed == nullptr) {
      EXPECT_FALSE(p.has_value()) << "'" << c.text << "' parsed as " << p->ToString();
      continue;
    }
    ASSERT_TRUE(p.has_value()) << "'" << c.text << "' rejected";
    EXPECT_EQ(p->ToString(), c.printed) << c.text;
    EXPECT_EQ(p->First().ToString(), c.first) << c.text;
    EXPECT_EQ(p->Last().ToString(), c.last) << c.text;
    EXPECT_EQ(p->Size(), c.size) << c.text;
    EXPECT_TRUE(p->Contains(p->First())) << c.text;
    EXPECT_TRUE(p->Contains(p->Last())) << c.text;
    EXPECT_EQ(p->Nth(0), p->First()) << c.text;
  }
}

TEST(PrefixTest, HostBitsAndNetwork) {
  Prefix p = *Prefix::Parse("10.20.0.7/24");
  EXPECT_TRUE(p.HasHostBits());
  EXPECT_EQ(p.Network().ToString(), "10.20.0.0/24");
  EXPECT_FALSE(p.Network().HasHostBits());
  EXPECT_EQ(p.Nth(9).ToString(), "10.20.0.9");
  EXPECT_EQ(Prefix::Parse("10.0.0.0/30")->Nth(3).ToString(), "10.0.0.3");
}

struct RelationCase {
  const char* a;
  const char* b;
  bool overlaps;
};

TEST(PrefixTest, ContainsAndOverlaps) {
  const RelationCase cases[] = {
      {"10.0.0.0/8", "10.1.0.0/16", true},      {"10.1.0.0/16", "10.0.0.0/8", true},
      {"10.0.0.0/8", "11.0.0.0/8", false},      {"10.0.0.0/24", "10.0.1.0/24", false},
      {"0.0.0.0/0", "192.0.2.1", true},         {"::/0", "10.0.0.0/8", false},
      {"::/0", "::ffff:10.0.0.1", true},        {"2001:db8::/32", "2001:db9::/32", false},
      {"2001:db8::/31", "2001:db9::/32", true}, {"10.0.0.1", "10.0.0.1", true},
  };
  for (const RelationCase& c : cases) {
    Prefix a = *Prefix::Parse(c.a), b = *Prefix::Parse(c.b);
    EXPECT_EQ(a.Overlaps(b), c.overlaps) << c.a << " vs " << c.b;
    EXPECT_EQ(b.Overlaps(a), c.overlaps) << c.b << " vs " << c.a;
  }
  Prefix net = *Prefix::Parse("10.0.0.0/8");
  EXPECT_TRUE(net.Contains(*IpAddress::Parse("10.255.255.255")));
  EXPECT_FALSE(net.Contains(*IpAddress::Parse("11.0.0.0")));
  EXPECT_FALSE(net.Contains(*IpAddress::Parse("::a00:1")));
}

}  // namespace
}  // namespace bulkhead
