// SPDX-License-Identifier: Apache-2.0
// The matrix the generated artifacts implement: VM wiring from the VBoxManage script, addresses
// from the firewall's DHCP reservations, and every packet filter on the way (the host's
// lockdown, the firewall VM's ruleset) evaluated exactly, replies included. Nothing here reads
// the spec's egress rules; the spec only names the endpoints and the external columns.
#pragma once

#include "engine/policy.h"
#include "import/artifacts.h"
#include "plan/plan.h"
#include "spec/spec.h"
#include "verify/matrix.h"

namespace bulkhead {

struct ObservedInputs {
  const Wiring& wiring;
  const FirewallView& firewall;
  const Policy& host;  // the host's own filter
};

// Sources and destinations in the same order as DeclaredMatrix. Symbolic host names use `names`,
// which must be the table the firewall's and the host's policies were read with.
Matrix ObservedMatrix(const Spec& spec, const Plan& plan, const ObservedInputs& in,
                      NameTable& names);

}  // namespace bulkhead
