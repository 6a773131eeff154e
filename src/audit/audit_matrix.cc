// SPDX-License-Identifier: Apache-2.0
// Builds the audit matrix twice, once with every unknown rule settled so that the least gets
// through and once so that the most does; what passes the first surely passes, what passes
// only the second is unknown. Each build walks every source's packets through the rewrites
// on its interface, then through the filters on their way, as verify does.
//
// When the rules hold large address sets, both builds work in address atoms (engine/atoms.h)
// from the start: the policy, the endpoints and every packet set are encoded once, walks split
// small sets of atom ids, and the finished matrix keeps them (Matrix::atoms). Decoding every
// decision instead would copy the part of a 100,000-address blocklist it holds, per decision.

#include "audit/audit_matrix.h"

#include <fmt/format.h>

#include <map>
#include <memory>
#include <optional>

#include "audit/nat.h"
#include "engine/first_match.h"
#include "verify/endpoints.h"
#include "verify/paths.h"

namespace bulkhead {
namespace {

std::string RewriteNote(const Redirect& r, const FirewallView& fw, const PacketSet& matched) {
  std::string what = r.one_to_one ? "1:1 NAT"
                     : r.proxy    ? "the NAT reflection proxy of port forward"
                                  : "port forward";
  std::string text = r.origin.text.empty() ? "" : fmt::format(" '{}'", r.origin.text);
  return fmt::format("through {}{} ({}): {} to {}", what, text, r.origin.path,
                     FormatServices(matched.Services()),
                     FormatAddrs(matched.Destinations(), &fw.policy.names));
}

// The endpoints of both builds, in addresses.
struct Endpoints {
  std::vector<Endpoint> sources, destinations;
  std::vector<AddrSet> sent_from;  // per source: the addresses it sends from
};

class Builder {
 public:
  // `atoms`, when given, holds every set of `policy` and of the endpoints: the build works in
  // its terms.
  Builder(const FirewallView& fw, const Policy& policy, const std::vector<PlacedVm>& vms,
          Bound bound, const Endpoints& ends, std::shared_ptr<AddrAtoms> atoms)
      : fw_(fw), policy_(policy), vms_(vms), bound_(bound), ends_(ends), atoms_(atoms) {}

  // Nothing when a 1:1 NAT moved packets to addresses the atoms cannot tell apart. What a
  // rewrite takes is built from the atoms' own vocabulary, whose moved copies MatrixAtoms adds,
  // so this is a guard rather than a path: the caller then builds in addresses, never guesses.
  std::optional<Matrix> Build();

 private:
  void Prepare();
  // Between addresses and the build's terms. Only sets made from the atoms' vocabulary go in.
  AddrSet InTerms(const AddrSet& s) const { return atoms_ ? atoms_->Encode(s) : s; }
  PacketSet InTerms(const PacketSet& p) const { return atoms_ ? atoms_->Encode(p) : p; }
  PacketSet InAddresses(const PacketSet& p) const { return atoms_ ? atoms_->Decode(p) : p; }
  void FillRow(size_t row);
  void ThroughFirewall(size_t row, const std::string& iface, const PacketSet& packets,
                       const Provenance* rewrite, const std::string& note);
  void Direct(size_t row, size_t col, const std::string& note);
  void FillVmExtras(size_t row, const PlacedVm& vm);
  PacketSet ApplyRewrites(size_t row, const std::string& iface, PacketSet packets);

  const FirewallView& fw_;
  const Policy& policy_;
  const std::vector<PlacedVm>& vms_;
  Bound bound_;
  const Endpoints& ends_;
  std::shared_ptr<AddrAtoms> atoms_;  // null: the build works in addresses
  Policy encoded_;                    // policy_ in atoms, when atoms_ is set
  const Policy* walked_ = nullptr;    // policy_ or encoded_
  Matrix m_;
  std::vector<std::string> route_;  // the interface each column is behind; "" none
  std::vector<AddrSet> columns_in_terms_;
  std::optional<ColumnIndex> columns_;
  PacketSet towards_all_;  // everything towards some column, in the build's terms
  PathMaker paths_;
  bool off_atoms_ = false;  // a rewrite left the atoms' vocabulary: the build is given up
};

Chain EncodeChain(const Chain& c, AddrAtoms& atoms) {
  Chain out = c;
  for (PolicyRule& r : out.rules) {
    r.match = atoms.Encode(r.match);
    r.unknown = atoms.Encode(r.unknown);
  }
  return out;
}

void MakeDestinations(const FirewallView& fw, const std::vector<PlacedVm>& placed,
                      Endpoints& out) {
  AddrSet firewall;
  for (const FirewallInterface& i : fw.interfaces) {
    for (const Prefix& p : i.addresses) firewall = firewall.Union(AddrsOf(p.address));
    firewall = firewall.Union(i.dynamic);
  }
  AddrSet taken = firewall.Union(NonRoutableAddrs());
  std::vector<Endpoint> vms;
  for (const PlacedVm& vm : placed) {
    if (vm.addresses.empty()) continue;
    AddrSet own = vm.addresses.Subtract(taken);
    vms.push_back({EndpointKind::kVm, vm.name, own, vm.iface});
    taken = taken.Union(own);
  }
  for (const FirewallInterface& i : fw.interfaces) {
    if (i.addresses.empty()) continue;
    AddrSet net;
    for (const Prefix& p : i.addresses) net = net.Union(AddrsOf(p.Network()));
    net = net.Subtract(taken);
    out.destinations.push_back({EndpointKind::kNetwork, i.name, net, i.name});
    taken = taken.Union(net);
  }
  for (Endpoint& e : vms) out.destinations.push_back(std::move(e));
  out.destinations.push_back({EndpointKind::kFirewall, "firewall", firewall, ""});
  out.destinations.push_back(
      {EndpointKind::kInternet, "internet", AllAddrsBothFamilies().Subtract(taken), fw.wan});
}

// The addresses a source sends from. A VM sends from its reservation and a network from its
// subnets; what comes in from outside is everything but the inside subnets, which pf's
// antispoof rules drop on every interface but their own. Packets with forged sources are not
// connections: the replies go elsewhere. Unknown addresses (a run-time subnet) are anything.
AddrSet SentFrom(const FirewallView& fw, const Endpoint& src) {
  if (src.kind == EndpointKind::kVm && !src.addresses.empty()) return src.addresses;
  AddrSet own, others;
  bool has[2] = {false, false};
  for (const FirewallInterface& i : fw.interfaces) {
    bool mine = i.name == src.iface;
    for (const Prefix& p : i.addresses) {
      AddrSet& to = mine ? own : others;
      to = to.Union(AddrsOf(p.Network()));
      if (mine) has[p.address.family == Family::kV6] = true;
    }
  }
  if (src.kind == EndpointKind::kInternet) return AllAddrsBothFamilies().Subtract(others);
  // A family the interface has no static subnet of is given out at run time, if at all.
  for (Family f : {Family::kV4, Family::kV6}) {
    if (!has[f == Family::kV6]) own = own.Union(AllAddrs(f).Subtract(others));
  }
  return own;
}

void MakeSources(const FirewallView& fw, const std::vector<PlacedVm>& vms, Endpoints& out) {
  for (const FirewallInterface& i : fw.interfaces) {
    if (!i.outside) out.sources.push_back({EndpointKind::kNetwork, i.name, {}, i.name});
  }
  for (const PlacedVm& vm : vms) {
    out.sources.push_back({EndpointKind::kVm, vm.name, vm.addresses, vm.iface});
  }
  std::vector<const FirewallInterface*> outside;
  for (const FirewallInterface& i : fw.interfaces) {
    if (i.outside) outside.push_back(&i);
  }
  for (const FirewallInterface* i : outside) {
    std::string name = outside.size() == 1 ? "internet" : "internet via " + i->name;
    out.sources.push_back({EndpointKind::kInternet, name, {}, i->name});
  }
  for (const Endpoint& e : out.sources) out.sent_from.push_back(SentFrom(fw, e));
}

void Builder::Prepare() {
  m_.sources = ends_.sources;
  m_.destinations = ends_.destinations;
  m_.cells.assign(m_.sources.size(), std::vector<Cell>(m_.destinations.size()));
  m_.atoms = atoms_;
  walked_ = &policy_;
  if (atoms_) {
    encoded_.engine = policy_.engine;
    encoded_.input = EncodeChain(policy_.input, *atoms_);
    encoded_.forward = EncodeChain(policy_.forward, *atoms_);
    encoded_.output = EncodeChain(policy_.output, *atoms_);
    encoded_.output_sees_forwarded = policy_.output_sees_forwarded;
    walked_ = &encoded_;
    paths_.OnAtoms();
  }
  std::vector<Endpoint> in_terms = m_.destinations;
  AddrSet all_columns;
  for (Endpoint& e : in_terms) {
    all_columns = all_columns.Union(e.addresses);
    e.addresses = InTerms(e.addresses);
    columns_in_terms_.push_back(e.addresses);
  }
  towards_all_ = InTerms(PacketsTowards(all_columns));
  for (const Endpoint& e : m_.destinations) {
    route_.push_back(e.kind == EndpointKind::kFirewall ? "" : e.iface);
  }
  columns_.emplace(in_terms);
}

void Builder::Direct(size_t row, size_t col, const std::string& note) {
  Cell& cell = m_.At(row, col);
  PacketSet all = InTerms(PacketsTowards(m_.destinations[col].addresses));
  cell.passed = cell.passed.Union(all);
  cell.reasons.push_back({all, Action::kAccept, {"", 0, "", note}});
  if (std::find(cell.notes.begin(), cell.notes.end(), note) == cell.notes.end()) {
    cell.notes.push_back(note);
  }
}

// Rewrites in pf's order, first match: what a port forward or 1:1 NAT takes is judged as
// rewritten, towards the column of its new destination; the rest keeps its destination.
PacketSet Builder::ApplyRewrites(size_t row, const std::string& iface, PacketSet packets) {
  PacketSet kept;
  for (const Redirect& r : fw_.redirects) {
    if (!r.iif.Matches(iface) || packets.empty()) continue;
    PacketSet match = InTerms(bound_ == Bound::kMost ? r.match.Union(r.unknown) : r.match);
    PacketSet taken = packets.SplitOff(match);
    if (taken.empty()) continue;
    if (r.exclude) {
      kept = kept.Union(taken);
      continue;
    }
    PacketSet real = InAddresses(taken);
    PacketSet rewritten = RewriteDestinations(r, real);
    if (atoms_) {
      std::optional<PacketSet> ids = atoms_->TryEncode(rewritten);
      if (!ids) {
        off_atoms_ = true;
        return packets;
      }
      rewritten = *std::move(ids);
    }
    ThroughFirewall(row, iface, rewritten, r.pass ? &r.origin : nullptr, RewriteNote(r, fw_, real));
  }
  return packets.Union(kept);
}

// Judges packets arriving on `iface`, towards whichever columns they are addressed to. A
// rewrite that passes without the filter (`rewrite`) skips the inbound stage.
void Builder::ThroughFirewall(size_t row, const std::string& iface, const PacketSet& packets,
                              const Provenance* rewrite, const std::string& note) {
  struct Group {
    Path path;
    AddrSet::Ranges addresses;
  };
  std::map<std::string, Group> groups;
  const Endpoint& self = m_.sources[row];
  AddrSet towards = packets.Destinations();
  for (size_t col = 0; col < m_.destinations.size(); ++col) {
    const Endpoint& dst = m_.destinations[col];
    if (dst.name == self.name && dst.kind == self.kind) continue;
    if (!towards.Intersects(columns_in_terms_[col])) continue;
    Path path;
    if (dst.kind == EndpointKind::kFirewall) {
      if (!rewrite) path.push_back(paths_.MakeStage(walked_->input, iface, ""));
    } else {
      const std::string& out = route_[col];
      if (out.empty() || (out == iface && !rewrite && note.empty())) continue;
      if (!rewrite) path.push_back(paths_.MakeStage(walked_->forward, iface, out));
      if (FiltersLeaving(policy_)) path.push_back(paths_.MakeStage(walked_->output, "", out));
    }
    Group& g = groups[paths_.GroupKey(path) + (path.empty() ? std::to_string(col) : "")];
    g.path = path;
    const auto& ranges = columns_in_terms_[col].ranges();
    g.addresses.insert(g.addresses.end(), ranges.begin(), ranges.end());
  }
  AddrSet anywhere = InTerms(AllAddrsBothFamilies());
  for (auto& [key, g] : groups) {
    PacketSet part = packets.Intersect(
        PacketSet::Of(anywhere, AddrSet::FromRanges(std::move(g.addresses)), AllServices()));
    Outcome o = g.path.empty() ? Outcome{part, {}} : Traverse(g.path, part);
    if (rewrite) o.reasons.insert(o.reasons.begin(), {part, Action::kAccept, *rewrite});
    PutByColumn(m_, row, *columns_, o);
    if (note.empty()) continue;
    for (auto& [col, passed] : columns_->Split(o.passed)) m_.At(row, col).notes.push_back(note);
  }
}

// A VM's own ways out: adapters around the firewall, and other VMs on its internal networks.
void Builder::FillVmExtras(size_t row, const PlacedVm& vm) {
  for (const std::string& bypass : vm.bypasses) {
    Direct(row, m_.destinations.size() - 1, bypass);
  }
  for (size_t col = 0; col < m_.destinations.size(); ++col) {
    const Endpoint& dst = m_.destinations[col];
    if (dst.kind != EndpointKind::kVm || dst.name == vm.name) continue;
    for (const PlacedVm& peer : vms_) {
      if (peer.name != dst.name) continue;
      for (const std::string& seg : vm.segments) {
        if (seg == AttachmentName(Attachment::kNat)) continue;  // each VM has a NAT of its own
        if (std::find(peer.segments.begin(), peer.segments.end(), seg) != peer.segments.end()) {
          Direct(row, col, fmt::format("same network '{}': no firewall in between", seg));
        }
      }
    }
  }
}

void Builder::FillRow(size_t row) {
  const Endpoint& src = m_.sources[row];
  if (!src.iface.empty()) {
    // Hosts on the source's own network reach each other without the firewall.
    for (size_t col = 0; col < m_.destinations.size(); ++col) {
      const Endpoint& dst = m_.destinations[col];
      bool self = dst.name == src.name && dst.kind == src.kind;
      if (!self && dst.kind != EndpointKind::kFirewall && !dst.addresses.empty() &&
          route_[col] == src.iface && src.kind != EndpointKind::kInternet) {
        Direct(row, col, "same network: no firewall in between");
      }
    }
    PacketSet packets = towards_all_.Intersect(
        InTerms(PacketSet::Of(ends_.sent_from[row], AllAddrsBothFamilies(), AllServices())));
    packets = ApplyRewrites(row, src.iface, std::move(packets));
    ThroughFirewall(row, src.iface, packets, nullptr, "");
  }
  if (src.kind == EndpointKind::kVm) {
    for (const PlacedVm& vm : vms_) {
      if (vm.name == src.name) FillVmExtras(row, vm);
    }
  }
}

std::optional<Matrix> Builder::Build() {
  Prepare();
  for (size_t row = 0; row < m_.sources.size() && !off_atoms_; ++row) FillRow(row);
  if (off_atoms_) return std::nullopt;
  // Walks leave their decisions in many pieces; merged, the sets that findings and the other
  // bound compare cell by cell are several times smaller, and pairwise algebra on them is
  // quadratic in pieces.
  for (auto& cells : m_.cells) {
    for (Cell& c : cells) {
      c.passed.Compact();
      for (Reason& r : c.reasons) r.packets.Compact();
    }
  }
  return std::move(m_);
}

// Where each rule that depends on something unknown is written, with what it depends on.
std::map<std::string, std::string> UnknownRules(const FirewallView& fw) {
  std::map<std::string, std::string> out;
  for (const Chain* c : {&fw.policy.input, &fw.policy.forward, &fw.policy.output}) {
    for (const PolicyRule& r : c->rules) {
      if (!r.unknown_why.empty()) out[r.origin.Where()] = r.unknown_why;
    }
  }
  for (const Redirect& r : fw.redirects) {
    if (!r.unknown_why.empty()) out[r.origin.Where()] = r.unknown_why;
  }
  return out;
}

// Merges the two bounds: the least is what surely passes; the rest of the most is unknown,
// explained by the unknown rules that decided some of it in either build.
void MergeBounds(Matrix& least, const Matrix& most, const FirewallView& fw) {
  std::map<std::string, std::string> unknown_rules = UnknownRules(fw);
  for (size_t s = 0; s < least.sources.size(); ++s) {
    for (size_t d = 0; d < least.destinations.size(); ++d) {
      Cell& cell = least.At(s, d);
      cell.unknown = most.At(s, d).passed.Subtract(cell.passed);
      cell.unknown.Compact();
      if (cell.unknown.empty()) continue;
      const std::vector<Reason>* both[] = {&most.At(s, d).reasons, &cell.reasons};
      for (const std::vector<Reason>* reasons : both) {
        for (const Reason& r : *reasons) {
          auto it = unknown_rules.find(r.origin.Where());
          if (it == unknown_rules.end() || !r.packets.Intersects(cell.unknown)) continue;
          std::string why = fmt::format("{} ({})", it->second, it->first);
          auto& list = cell.unknown_why;
          if (std::find(list.begin(), list.end(), why) == list.end()) list.push_back(why);
        }
      }
    }
  }
}

// Atoms over every set the builds and the findings meet: the rules of both settled policies,
// the rewrites, the endpoints, the families, and the sets the NAT findings cut cells by. A 1:1
// NAT moves addresses between its prefixes, so what each set holds of one prefix is added
// moved into the other: the atoms on both sides then match, and a moved set stays a union of
// atoms. Null when no set is large enough to be worth it.
std::shared_ptr<AddrAtoms> MatrixAtoms(const FirewallView& fw,
                                       const std::vector<const Policy*>& policies,
                                       const Endpoints& ends, AtomUse use) {
  AtomWorth worth;
  for (const Policy* p : policies) {
    for (const Chain* c : {&p->input, &p->forward, &p->output}) {
      for (const PolicyRule& r : c->rules) worth.Add(r.match), worth.Add(r.unknown);
    }
  }
  if (use == AtomUse::kNever || (use == AtomUse::kAuto && !worth.Worth())) return {};

  std::vector<AddrSet> words;
  auto add = [&words](const PacketSet& p) {
    for (const Cube& c : p.cubes()) words.push_back(c.src), words.push_back(c.dst);
  };
  for (const Policy* p : policies) {
    for (const Chain* c : {&p->input, &p->forward, &p->output}) {
      for (const PolicyRule& r : c->rules) add(r.match), add(r.unknown);
    }
  }
  for (const Redirect& r : fw.redirects) {
    add(r.match), add(r.unknown);
    if (!r.exclude) words.push_back(r.one_to_one ? AddrsOf(r.target) : AddrsOf(r.target.address));
    if (r.one_to_one) words.push_back(AddrsOf(r.external));
  }
  for (const SourceNat& n : fw.source_nat) add(n.match);
  for (const FirewallInterface& i : fw.interfaces) {
    for (const Prefix& p : i.addresses) words.push_back(AddrsOf(p.Network()));
  }
  words.push_back(PrivateAddrs());
  for (const Endpoint& e : ends.destinations) words.push_back(e.addresses);
  for (const AddrSet& from : ends.sent_from) words.push_back(from);
  for (Family f : {Family::kV4, Family::kV6}) words.push_back(AllAddrs(f));
  words.push_back(MatrixSources());

  size_t unmoved = words.size();
  for (const Redirect& r : fw.redirects) {
    if (!r.one_to_one || r.exclude) continue;
    AddrSet external = AddrsOf(r.external), target = AddrsOf(r.target);
    uint128 from = r.external.First().value, to = r.target.First().value;
    for (size_t k = 0; k < unmoved; ++k) {
      AddrSet out = words[k].Intersect(external), back = words[k].Intersect(target);
      if (!out.empty()) words.push_back(ShiftAddrs(out, from, to));
      if (!back.empty()) words.push_back(ShiftAddrs(back, to, from));
    }
  }
  auto atoms = std::make_shared<AddrAtoms>();
  for (const AddrSet& w : words) atoms->Add(w);
  atoms->Build();
  return atoms;
}

}  // namespace

Matrix AuditMatrix(const FirewallView& fw, const std::vector<PlacedVm>& vms, AtomUse atoms) {
  Endpoints ends;
  MakeDestinations(fw, vms, ends);
  MakeSources(fw, vms, ends);
  bool unknowns = HasUnknowns(fw.policy) ||
                  std::any_of(fw.redirects.begin(), fw.redirects.end(),
                              [](const Redirect& r) { return !r.unknown.empty(); });
  Policy least_policy, most_policy;
  if (unknowns) {
    least_policy = Settle(fw.policy, Bound::kLeast);
    most_policy = Settle(fw.policy, Bound::kMost);
  }
  const Policy& least_of = unknowns ? least_policy : fw.policy;
  std::vector<const Policy*> policies = {&least_of};
  if (unknowns) policies.push_back(&most_policy);
  std::shared_ptr<AddrAtoms> terms = MatrixAtoms(fw, policies, ends, atoms);

  std::optional<Matrix> least = Builder(fw, least_of, vms, Bound::kLeast, ends, terms).Build();
  std::optional<Matrix> most;
  if (least && unknowns) most = Builder(fw, most_policy, vms, Bound::kMost, ends, terms).Build();
  if (!least || (unknowns && !most)) return AuditMatrix(fw, vms, AtomUse::kNever);
  if (unknowns) MergeBounds(*least, *most, fw);
  return *std::move(least);
}

}  // namespace bulkhead
