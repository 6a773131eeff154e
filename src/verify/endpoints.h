// SPDX-License-Identifier: Apache-2.0
// The endpoints both matrices share, and the small pieces of packet arithmetic that build
// their cells. Named destinations and "the internet" are defined by the spec alone, so that the
// declared and the generated matrix always have the same columns.
#pragma once

#include <utility>
#include <vector>

#include "engine/packet_set.h"
#include "plan/plan.h"
#include "spec/spec.h"
#include "verify/matrix.h"

namespace bulkhead {

// Addresses no column stands for: this-network, loopback, link-local, multicast and the
// limited broadcast. Firewalls treat them apart (pfSense always blocks link-local), and no
// endpoint of the set-up is reached through them.
AddrSet NonRoutableAddrs();

// Every source address the matrix judges: any address a machine can send from, but the
// non-routable ranges (0.0.0.0 itself stays: DHCP clients send from it).
AddrSet MatrixSources();

// Every service the matrix judges: what can open a connection. Not TCP and UDP port 0, which is
// no service (pfSense blocks it unconditionally), and of ICMP only the requests that connection
// tracking lets open one (echo, timestamp, information, address mask; ICMPv6 echo and node
// information): answers and errors only ever pass as part of a connection.
ServiceSet MatrixServices();

// Every network of the set-up: internal networks, the host-only network and the host LAN.
AddrSet InternalAddrs(const Spec& spec, const Plan& plan);

// The addresses and host names of one declared destination (names interned into `names`).
AddrSet DestinationAddrs(const Destination& d, NameTable& names);
// What a literal entry (address, prefix or host name) stands for.
AddrSet EntryAddrs(const DestinationEntry& e, NameTable& names);

// The column of the host LAN (host.lan_subnet), when the spec names one.
inline constexpr const char* kHostLanColumn = "host-lan";

// Columns after the machines: the host LAN, each declared destination in file order (less what
// an earlier column has), then the internet (every address and name outside the set-up's
// networks, the host LAN, the declared destinations and the non-routable ranges). Columns never
// overlap.
std::vector<Endpoint> ExternalEndpoints(const Spec& spec, const Plan& plan, NameTable& names);

// Everything a source can send towards `dst`: from every MatrixSources() address, every
// MatrixServices() service, each family kept apart.
PacketSet PacketsTowards(const AddrSet& dst);

// Services of a rule's protocol and ports. ICMP types are given for IPv4; `family` picks the
// ICMPv6 equivalent for IPv6.
ServiceSet RuleServices(Protocol proto, const std::vector<PortRange>& ports,
                        std::optional<int> icmp_type, Family family);

// The packets of `set` whose addresses lie in `family`'s spaces.
PacketSet OfFamily(const PacketSet& set, Family family);

// Splits packet sets by destination column without intersecting them with every column: the
// columns' addresses are disjoint, so one sorted index finds the columns a set touches.
// Packets are assumed to lie within the matrix's sources and services already (as those built
// from PacketsTowards do); only their destinations are looked at.
class ColumnIndex {
 public:
  explicit ColumnIndex(const std::vector<Endpoint>& columns);

  // The non-empty parts of `packets`, by column, in column order.
  std::vector<std::pair<size_t, PacketSet>> Split(const PacketSet& packets) const;

 private:
  struct Entry {
    AddrKey first;
    AddrKey last;
    size_t column;
  };
  std::vector<Entry> entries_;  // sorted, disjoint
};

}  // namespace bulkhead
