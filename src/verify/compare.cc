// SPDX-License-Identifier: Apache-2.0
// Cell-by-cell comparison of two matrices with the same endpoints, keeping for each difference
// the rules of the generated side that decided the differing packets.

#include "verify/matrix.h"

#include <cstdlib>

namespace bulkhead {
namespace {

// The reasons whose packets overlap `diff` with the given disposition, cut down to the overlap.
void AddCauses(const Cell& observed, const PacketSet& diff, bool accepted,
               std::vector<Reason>& out) {
  if (diff.empty()) return;
  for (const Reason& r : observed.reasons) {
    if ((r.action == Action::kAccept) != accepted) continue;
    PacketSet part = r.packets.Intersect(diff);
    if (!part.empty()) out.push_back({part, r.action, r.origin});
  }
}

}  // namespace

AddrSet Matrix::InAddresses(const AddrSet& s) const { return atoms ? atoms->Decode(s) : s; }

PacketSet Matrix::InAddresses(const PacketSet& p) const { return atoms ? atoms->Decode(p) : p; }

PacketSet Matrix::InTerms(const PacketSet& p) const {
  if (!atoms) return p;
  std::optional<PacketSet> ids = atoms->TryEncode(p);
  if (!ids) std::abort();  // a set the builder did not provide for: a programming error
  return *std::move(ids);
}

const char* EndpointKindName(EndpointKind k) {
  switch (k) {
    case EndpointKind::kVm: return "vm";
    case EndpointKind::kHost: return "host";
    case EndpointKind::kFirewall: return "firewall";
    case EndpointKind::kDestination: return "destination";
    case EndpointKind::kInternet: return "internet";
    case EndpointKind::kNetwork: return "network";
  }
  return "?";
}

std::vector<Difference> Compare(const Matrix& declared, const Matrix& observed) {
  std::vector<Difference> out;
  for (size_t s = 0; s < declared.sources.size(); ++s) {
    for (size_t d = 0; d < declared.destinations.size(); ++d) {
      const Cell& want = declared.At(s, d);
      const Cell& got = observed.At(s, d);
      Difference diff{s, d, got.passed.Subtract(want.passed), want.passed.Subtract(got.passed),
                      {}};
      if (diff.extra.empty() && diff.missing.empty()) continue;
      AddCauses(got, diff.extra, true, diff.causes);
      AddCauses(got, diff.missing, false, diff.causes);
      diff.extra.Compact();
      diff.missing.Compact();
      out.push_back(std::move(diff));
    }
  }
  return out;
}

}  // namespace bulkhead
