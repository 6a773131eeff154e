// SPDX-License-Identifier: Apache-2.0
// NAT as the audit needs it: what a port forward or 1:1 NAT makes of the packets it takes, and
// which packets leave for the internet without outbound NAT (their replies cannot come back to
// a private address).
#pragma once

#include <string>
#include <vector>

#include "audit/finding.h"
#include "import/artifacts.h"
#include "verify/matrix.h"

namespace bulkhead {

// `s` moved by to - from, as a 1:1 NAT moves addresses from its external to its target prefix.
AddrSet ShiftAddrs(const AddrSet& s, uint128 from, uint128 to);

// The packets a rewrite makes of `matched`: the target as destination (for 1:1 NAT, the same
// offset in the target prefix), TCP, UDP and SCTP ports moved by its shift.
PacketSet RewriteDestinations(const Redirect& r, const PacketSet& matched);

// The interface whose static network holds some of `addresses`, or "" when none does.
std::string InterfaceHolding(const FirewallView& fw, const AddrSet& addresses);

// The part of `packets`, leaving by `oif`, that no outbound NAT rule translates. `terms`: the
// matrix whose terms `packets` are in, when they are a matrix cell's.
PacketSet Untranslated(const FirewallView& fw, const std::string& oif, const PacketSet& packets,
                       const Matrix* terms = nullptr);

// Addresses the internet does not route back to: RFC 1918, shared (CGNAT), link-local, ULA.
AddrSet PrivateAddrs();

// Inside networks with private addresses whose connections to the internet the filter lets
// through but no outbound NAT rule translates on the way out: their replies never come back.
std::vector<Finding> OutboundNatFindings(const FirewallView& fw, const Matrix& m);

}  // namespace bulkhead
