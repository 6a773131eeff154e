// SPDX-License-Identifier: Apache-2.0
// The reachability matrix: for every source (each VM, the host) and every destination (each VM,
// the host, the firewall VM itself, each named destination, the rest of the internet), the exact
// set of packets that open a connection, and the rules that decided them. verify builds one
// matrix from the declared intent and one from the generated artifacts, then compares them.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "engine/atoms.h"
#include "engine/packet_set.h"
#include "engine/policy.h"

namespace bulkhead {

// kNetwork is a firewall interface's network as an audit sees it: every host behind it that
// is not an endpoint of its own.
enum class EndpointKind { kVm, kHost, kFirewall, kDestination, kInternet, kNetwork };
const char* EndpointKindName(EndpointKind k);  // "vm", "host", "firewall", "destination", ...

struct Endpoint {
  EndpointKind kind = EndpointKind::kVm;
  std::string name;
  AddrSet addresses;  // as a destination; symbolic points stand for host names
  std::string iface;  // audits: the firewall interface it sits behind or arrives by
};

// One rule's share in a cell: the packets it decided, what it did and where it is written.
struct Reason {
  PacketSet packets;
  Action action = Action::kDrop;
  Provenance origin;
};

struct Cell {
  PacketSet passed;             // packets from the source that open a connection to the dest.
  std::vector<Reason> reasons;  // accepting and refusing rules, in the order they decided
  std::vector<std::string> notes;  // e.g. "adapter 2 is NAT: bypasses the firewall"
  // Packets whose fate depends on something the artifacts leave open (a schedule, a URL
  // table): they may or may not pass. Always empty in verify, which requires exact input.
  PacketSet unknown;
  std::vector<std::string> unknown_why;  // what they depend on, with where it is written
};

struct Matrix {
  std::vector<Endpoint> sources;       // addresses always real
  std::vector<Endpoint> destinations;
  std::vector<std::vector<Cell>> cells;  // [source][destination]
  // Set when the cells' packet sets (passed, unknown, reasons) hold address atoms of these
  // (engine/atoms.h) instead of addresses, as the audit of a large configuration keeps them:
  // what is left of the internet after a blocklist of 100,000 addresses is a few atoms, and as
  // many ranges as the blocklist in addresses. Read the cells through InAddresses and InTerms.
  std::shared_ptr<AddrAtoms> atoms;

  const Cell& At(size_t s, size_t d) const { return cells[s][d]; }
  Cell& At(size_t s, size_t d) { return cells[s][d]; }

  // A cell's set in addresses.
  AddrSet InAddresses(const AddrSet& s) const;
  PacketSet InAddresses(const PacketSet& p) const;
  // A set of addresses in the cells' terms. With atoms, only for a set the matrix builder
  // added to them, or one made from such sets by set algebra (every family, every endpoint).
  PacketSet InTerms(const PacketSet& p) const;
};

// A difference between the declared and the generated matrix for one pair.
struct Difference {
  size_t source = 0;
  size_t destination = 0;
  PacketSet extra;    // passes in the artifacts, not declared
  PacketSet missing;  // declared, blocked in the artifacts
  std::vector<Reason> causes;  // the artifact rules that decided the differing packets
};

std::vector<Difference> Compare(const Matrix& declared, const Matrix& observed);

}  // namespace bulkhead
