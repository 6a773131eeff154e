// SPDX-License-Identifier: Apache-2.0
// The common form that every packet filter we read is lowered to: ordered first-match rule
// lists per hook, each rule carrying where it came from. nftables and pfSense importers produce
// a Policy; the analysis only ever sees this form, which is what lets one engine judge both.
#pragma once

#include <string>
#include <vector>

#include "engine/packet_set.h"

namespace bulkhead {

enum class Action { kAccept, kDrop, kReject };
const char* ActionName(Action a);  // "accept", "drop", "reject"

// Where a rule came from: a file position and the text a human recognises it by.
struct Provenance {
  std::string file;           // "out/nftables/nftables.conf", "config.xml"
  int line = 0;               // 1-based, 0 when not known (XML input uses `path`)
  std::string path;           // XML element path, e.g. "filter/rule[12]"; empty for text input
  std::string text;           // the rule as written, or its pfSense descr / nft comment
  std::string Where() const;  // "nftables.conf:42" or "config.xml: filter/rule[12]"
};

// Interface names a rule applies to. Empty `names` means any interface; `negated` inverts.
// A name ending in '*' matches every interface name starting with the rest ("vbox*"), as in
// nft. Listed names never match the empty interface (a hook without one); negated ones do.
struct IfaceMatch {
  std::vector<std::string> names;
  bool negated = false;
  bool Matches(const std::string& iface) const;
  bool IsAny() const { return names.empty() && !negated; }
};

// Connection-tracking state of the packets a rule applies to.
enum class StateMatch { kAny, kNew, kEstablished };

struct PolicyRule {
  IfaceMatch iif;
  IfaceMatch oif;
  StateMatch state = StateMatch::kAny;
  PacketSet match;
  Action action = Action::kAccept;
  Provenance origin;
  // Packets the rule may match besides `match`, when how it reads depends on something no
  // file says (a schedule, a downloaded URL table, an address given out at run time). Empty
  // for an exact rule. `unknown_why` says what it depends on.
  PacketSet unknown;
  std::string unknown_why;
};

// One chain of the filter, flattened: jumps and gotos already inlined by the importer.
struct Chain {
  std::vector<PolicyRule> rules;
  Action default_action = Action::kAccept;  // nft chain policy, or pf's implicit default
  Provenance default_origin;
};

// A whole packet filter of one machine (the firewall VM, or the host).
// input: to the machine itself; forward: through it; output: from the machine itself.
struct Policy {
  std::string engine;  // "nftables" or "pfsense"
  Chain input;
  Chain forward;
  Chain output;
  NameTable names;  // host names referred to by symbolic addresses in the rules
  // pf judges a forwarded packet twice: inbound on the interface it arrives by (`forward`
  // holds those rules), then outbound on the one it leaves by, with the same rules as the
  // firewall's own packets (`output`). nftables' output chain sees only its own packets.
  bool output_sees_forwarded = false;
};

// Which way to settle the rules that depend on something unknown: so that the least, or the
// most, gets through. Evaluating both bounds an unknown policy exactly as long as the unknowns
// of different rules do not depend on each other: a packet passes for sure when it passes the
// least policy, may pass when it passes the most, and is blocked for sure otherwise.
enum class Bound { kLeast, kMost };
Policy Settle(const Policy& p, Bound b);
bool HasUnknowns(const Policy& p);

enum class Hook { kInput, kForward, kOutput };
const Chain& ChainOf(const Policy& p, Hook h);

// The fate of one part of the packets put to a chain: which rule decided it (index into
// chain.rules, or -1 for the chain's default action) and what it decided.
struct Decision {
  PacketSet packets;
  Action action = Action::kDrop;
  int rule = -1;
};

// Whether Evaluate works on address atoms (engine/atoms.h) rather than on the addresses
// themselves. kAuto does when some address set is large; the decisions are the same either
// way, only the time and memory differ. kNever and kAlways are for tests and benchmarks.
enum class AtomUse { kAuto, kNever, kAlways };

class AddrAtoms;

// First-match evaluation of `packets` arriving on `iif` and leaving on `oif` (either may be
// empty for hooks that have none) in connection state `state` (kNew or kEstablished).
// The returned decisions partition `packets` exactly, in rule order, default last.
// `shared`: atoms built once for many evaluations of the chain (FirstMatchWalk).
std::vector<Decision> Evaluate(const Chain& chain, const std::string& iif, const std::string& oif,
                               StateMatch state, const PacketSet& packets,
                               AtomUse atoms = AtomUse::kAuto, AddrAtoms* shared = nullptr);

// Whether a rule takes part in a walk for `iif`, `oif` and `state` (interfaces and state only).
bool RuleApplies(const PolicyRule& rule, const std::string& iif, const std::string& oif,
                 StateMatch state);

// The accepted part of packets: the union of the accepting decisions.
PacketSet Accepted(const std::vector<Decision>& decisions);

}  // namespace bulkhead
