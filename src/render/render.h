// SPDX-License-Identifier: Apache-2.0
// The compilers: each turns a Spec and its Plan into the files one part of the set-up needs.
// They only build text; the CLI writes the files (atomically) under DIR/<target>/.
#pragma once

#include <string>
#include <vector>

#include "plan/plan.h"
#include "spec/spec.h"

namespace bulkhead {

struct Artifact {
  std::string path;     // relative to the target's folder: "nftables.conf", "network/10-wan0.link"
  std::string content;
  bool executable = false;
};

using Artifacts = std::vector<Artifact>;

// vboxmanage/create.sh: creates and wires every VM, idempotently (VirtualBox 7 syntax).
Artifacts RenderVBoxManage(const Spec& spec, const Plan& plan, const Date& today);
// pfsense/config.xml: a complete pfSense 2.7 configuration.
Artifacts RenderPfsense(const Spec& spec, const Plan& plan, const Date& today);
// nftables/: nftables.conf, systemd-networkd .link/.network files, dnsmasq.conf for a Debian
// firewall VM.
Artifacts RenderNftables(const Spec& spec, const Plan& plan, const Date& today);
// host/: the host's nftables.conf and systemd-networkd files.
Artifacts RenderHost(const Spec& spec, const Plan& plan, const Date& today);

}  // namespace bulkhead
