// SPDX-License-Identifier: Apache-2.0
// The matrix the spec declares, computed from the spec's own meaning and the plan's addresses,
// without looking at any compiler's output. Its meaning, per source:
//   - machines on one shared internal network reach each other with everything;
//   - the firewall VM itself answers DHCP, DNS (when the zone and the firewall allow it) and its
//     admin interface (for admin_from), from the source's own subnet only;
//   - everything else is the source's egress rules, first match, anything unmatched blocked,
//     sent from the source's own subnet over IPv4 (the planned networks are IPv4-only).
#pragma once

#include "plan/plan.h"
#include "spec/spec.h"
#include "verify/matrix.h"

namespace bulkhead {

// Sources: every VM in file order (offline ones included, with empty rows), the host, then
// the internet (whatever comes in by the WAN, the host LAN included), which may open nothing.
// Destinations: every VM, the host, the firewall VM, then ExternalEndpoints.
// `admin_port` is the firewall's admin service: 443 for pfSense, 22 for nftables.
// `firewall_runtime` holds the symbolic points of the firewall's addresses that are only given
// out at run time (its WAN's DHCP lease), as the artifacts name them: they are the firewall's
// too, and answer what its other addresses answer.
Matrix DeclaredMatrix(const Spec& spec, const Plan& plan, const Date& today, int admin_port,
                      NameTable& names, const AddrSet& firewall_runtime = {});

}  // namespace bulkhead
