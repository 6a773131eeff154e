// SPDX-License-Identifier: Apache-2.0
// `lab probe`: real packets through the lab, compared with verify's prediction. One process
// does it all: it enters each namespace from its own thread only long enough to open sockets
// (listeners in every destination, then every probe), then one poll loop drives
// non-blocking connects, UDP echoes and ICMP echo requests until each answers or 300 ms pass.
// IPv6 destinations get one connect, one echo and one ICMPv6 echo each: the plan is IPv4, and
// those probes show that no IPv6 passes where verify says none does.
#include <arpa/inet.h>
#include <fmt/format.h>
#include <netinet/icmp6.h>
#include <netinet/in.h>
#include <netinet/ip_icmp.h>
#include <poll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <map>
#include <optional>
#include <set>

#include "lab/lab.h"
#include "lab/netns.h"

namespace bulkhead {
namespace {

constexpr int kProbeMillis = 300;
constexpr uint8_t kTcp = 6, kUdp = 17, kIcmp = 1, kIcmp6 = 58;

struct PortChoice {
  std::set<uint16_t> tcp, udp;
};

void AddRulePorts(const EgressRule& r, PortChoice& ports) {
  for (const PortRange& range : r.ports) {
    for (uint16_t p : {range.first, range.last}) {
      if (r.protocol != Protocol::kUdp) ports.tcp.insert(p);
      if (r.protocol != Protocol::kTcp) ports.udp.insert(p);
    }
  }
}

// The ports the spec's rules name, SSH (the nftables firewall's admin port), DNS and DHCP,
// and one port no rule names.
PortChoice ProbePorts(const Spec& spec) {
  PortChoice ports{{22, 53}, {53, 67}};
  for (const EgressRule& r : spec.host.egress) AddRulePorts(r, ports);
  for (const Zone& z : spec.zones) {
    for (const EgressRule& r : z.egress) AddRulePorts(r, ports);
  }
  uint16_t closed = 9;
  while (ports.tcp.count(closed) || ports.udp.count(closed)) ++closed;
  ports.tcp.insert(closed);
  ports.udp.insert(closed);
  return ports;
}

// One address a destination column is probed at, and what verify calls it.
struct Target {
  std::string ns;
  IpAddress address;
  AddrSet as_seen;
  std::string label;
};

Target AddressTarget(const std::string& ns, const IpAddress& a) {
  return {ns, a, AddrsOf(a), a.ToString()};
}

std::vector<Target> DestinationTargets(const Destination& d, const LabLayout& l,
                                       const NameTable& names) {
  std::vector<Target> out;
  for (const DestinationEntry& e : d.entries) {
    if (e.prefix) {
      std::optional<IpAddress> a = LabEntryAddress(*e.prefix);
      if (a) out.push_back(AddressTarget(l.internet_ns, *a));
      continue;
    }
    std::optional<uint32_t> id = names.Find(e.host_name);
    for (const LabHostName& h : l.host_names) {
      if (h.name != e.host_name || !id) continue;
      out.push_back({l.internet_ns, h.address, NameAddr(*id, Family::kV4),
                     fmt::format("{} ({})", h.name, h.address.ToString())});
    }
  }
  return out;
}

// Destinations may overlap, and verify gives a shared address or host name to the first
// destination that declares it: probed under a later one, it would be judged by the wrong column.
std::vector<Target> OwnedBy(std::vector<Target> targets, const Endpoint& dst) {
  std::erase_if(targets, [&](const Target& t) { return !t.as_seen.IsSubsetOf(dst.addresses); });
  return targets;
}

// The firewall is probed at its address on the source's own network.
IpAddress FirewallAddressFor(const Endpoint& src, const Plan& plan) {
  if (src.kind == EndpointKind::kHost) return plan.hostonly.firewall_address;
  return plan.NetworkOf(src.name)->gateway;
}

std::vector<Target> Targets(const Endpoint& src, const Endpoint& dst, const Spec& spec,
                            const Plan& plan, const LabLayout& l, const NameTable& names) {
  switch (dst.kind) {
    case EndpointKind::kVm: {
      auto ns = l.vm_ns.find(dst.name);
      if (ns == l.vm_ns.end() || dst.name == src.name) return {};
      return {AddressTarget(ns->second, plan.FindVm(dst.name)->address)};
    }
    case EndpointKind::kHost:
      if (src.kind == EndpointKind::kHost) return {};  // itself, over loopback
      return {AddressTarget(l.host_ns, plan.hostonly.host_address)};
    case EndpointKind::kFirewall:
      return {AddressTarget(l.firewall_ns, FirewallAddressFor(src, plan))};
    case EndpointKind::kDestination: {
      const Destination* d = spec.FindDestination(dst.name);
      if (d) return OwnedBy(DestinationTargets(*d, l, names), dst);
      if (l.lan_address) return {AddressTarget(l.internet_ns, *l.lan_address)};  // the host LAN
      return {};
    }
    case EndpointKind::kInternet:
      return OwnedBy(
          {AddressTarget(l.internet_ns, l.elsewhere), AddressTarget(l.internet_ns, l.elsewhere_v6)},
          dst);
  }
  return {};
}

ServiceSet ServiceOf(uint8_t proto, uint16_t port) {
  if (proto == kIcmp) return IcmpType(kIcmp, ICMP_ECHO);
  if (proto == kIcmp6) return IcmpType(kIcmp6, ICMP6_ECHO_REQUEST);
  return Ports(proto, port, port);
}

// IPv6 targets get one probe per protocol: the first candidate port verify lets through, or
// else the first candidate.
void AddV6Probes(LabProbe base, const Target& t, const Cell& cell, const PortChoice& ports,
                 std::vector<LabProbe>& out) {
  auto passes = [&](uint8_t proto, uint16_t port) {
    return cell.passed.Intersects(
        PacketSet::Of(AddrsOf(base.from), t.as_seen, ServiceOf(proto, port)));
  };
  auto add = [&](uint8_t proto, const std::set<uint16_t>& candidates) {
    LabProbe p = base;
    p.proto = proto;
    p.port = candidates.empty() ? 0 : *candidates.begin();
    for (uint16_t port : candidates) {
      if (passes(proto, port)) {
        p.port = port;
        break;
      }
    }
    p.predicted = passes(proto, p.port);
    out.push_back(p);
  };
  add(kTcp, ports.tcp);
  add(kUdp, ports.udp);
  add(kIcmp6, {});
}

void AddProbes(LabProbe base, const Target& t, const Cell& cell, const PortChoice& ports,
               std::vector<LabProbe>& out) {
  base.destination_ns = t.ns;
  base.to = t.address;
  base.target = t.label;
  if (t.address.family == Family::kV6) {
    AddV6Probes(base, t, cell, ports, out);
    return;
  }
  auto add = [&](uint8_t proto, uint16_t port) {
    LabProbe p = base;
    p.proto = proto;
    p.port = port;
    ServiceSet svc = ServiceOf(proto, port);
    p.predicted = cell.passed.Intersects(PacketSet::Of(AddrsOf(p.from), t.as_seen, svc));
    out.push_back(p);
  };
  for (uint16_t port : ports.tcp) add(kTcp, port);
  for (uint16_t port : ports.udp) add(kUdp, port);
  add(kIcmp, 0);

  // A class of traffic verify lets through that none of those ports is in (a rule for "any"
  // protocol, a range): probe its first port too.
  for (uint8_t proto : {kTcp, kUdp}) {
    ServiceSet open =
        cell.passed.Intersect(PacketSet::Of(AddrsOf(base.from), t.as_seen, Proto(proto)))
            .Services();
    for (uint16_t port : proto == kTcp ? ports.tcp : ports.udp) {
      open = open.Subtract(Ports(proto, port, port));
    }
    if (!open.empty()) add(proto, static_cast<uint16_t>(open.front() & 0xffff));
  }
}

// Sources the lab built (online VMs and the host), each with its namespace and address.
bool SourceOf(const Endpoint& src, const Plan& plan, const LabLayout& l, LabProbe& base) {
  if (src.kind == EndpointKind::kHost) {
    base.source_ns = l.host_ns;
    base.from = plan.hostonly.host_address;
    return true;
  }
  auto ns = l.vm_ns.find(src.name);
  if (src.kind != EndpointKind::kVm || ns == l.vm_ns.end()) return false;
  base.source_ns = ns->second;
  base.from = plan.FindVm(src.name)->address;
  return true;
}

std::vector<LabProbe> PlanProbes(const Spec& spec, const Plan& plan, const LabLayout& l,
                                 const VerifyResult& v) {
  PortChoice ports = ProbePorts(spec);
  std::vector<LabProbe> out;
  for (size_t s = 0; s < v.observed.sources.size(); ++s) {
    LabProbe base;
    base.source = s;
    if (!SourceOf(v.observed.sources[s], plan, l, base)) continue;
    for (size_t d = 0; d < v.observed.destinations.size(); ++d) {
      base.destination = d;
      const Endpoint& src = v.observed.sources[s];
      for (const Target& t : Targets(src, v.observed.destinations[d], spec, plan, l, v.names)) {
        LabProbe from = base;
        if (t.address.family == Family::kV6) {
          auto v6 = l.v6_sources.find(base.source_ns);
          if (v6 == l.v6_sources.end()) continue;
          from.from = v6->second;
        }
        AddProbes(from, t, v.observed.At(s, d), ports, out);
      }
    }
  }
  return out;
}

// ---- Sockets -----------------------------------------------------------------------------

int FamilyOf(const IpAddress& a) { return a.family == Family::kV4 ? AF_INET : AF_INET6; }

// A socket address of either family, with its length.
struct SockAddr {
  sockaddr_storage storage{};
  socklen_t len = 0;
  sockaddr* get() { return reinterpret_cast<sockaddr*>(&storage); }
};

SockAddr MakeSockAddr(const IpAddress& a, uint16_t port) {
  SockAddr out;
  if (a.family == Family::kV4) {
    auto* sa = reinterpret_cast<sockaddr_in*>(&out.storage);
    sa->sin_family = AF_INET;
    sa->sin_port = htons(port);
    sa->sin_addr.s_addr = htonl(static_cast<uint32_t>(a.value));
    out.len = sizeof *sa;
    return out;
  }
  auto* sa = reinterpret_cast<sockaddr_in6*>(&out.storage);
  sa->sin6_family = AF_INET6;
  sa->sin6_port = htons(port);
  for (int i = 0; i < 16; ++i) {
    sa->sin6_addr.s6_addr[i] = static_cast<uint8_t>(a.value >> (8 * (15 - i)));
  }
  out.len = sizeof *sa;
  return out;
}

// IPv6 sockets take IPv6 only, so that a wildcard listener leaves the IPv4 one its port.
int OpenBound(int type, const IpAddress& address, uint16_t port) {
  int fd = ::socket(FamilyOf(address), type | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  int one = 1;
  ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  if (address.family == Family::kV6) ::setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one);
  SockAddr sa = MakeSockAddr(address, port);
  if (fd < 0 || ::bind(fd, sa.get(), sa.len) != 0 ||
      (type == SOCK_STREAM && ::listen(fd, 128) != 0)) {
    if (fd >= 0) ::close(fd);
    return -1;
  }
  return fd;
}

struct Listener {
  int fd = -1;
  bool tcp = false;
};

// TCP listeners take any address of their namespace; UDP ones are bound to each probed
// address, so that an echo leaves from the address the probe went to (the internet namespace
// holds many) and conntrack and the prober's connected socket recognise it. Listeners go
// exactly where some probe is aimed.
bool OpenListeners(const std::vector<LabProbe>& probes, std::vector<Listener>& out,
                   Diagnostics& diags) {
  std::map<std::string, std::set<std::pair<IpAddress, uint16_t>>> tcp, udp;
  for (const LabProbe& p : probes) {
    if (p.proto == kTcp) tcp[p.destination_ns].insert({IpAddress{p.to.family, 0}, p.port});
    if (p.proto == kUdp) udp[p.destination_ns].insert({p.to, p.port});
  }
  std::set<std::string> namespaces;
  for (const LabProbe& p : probes) namespaces.insert(p.destination_ns);
  for (const std::string& ns : namespaces) {
    EnterNetns enter(ns);
    if (!enter.ok()) {
      diags.Error("", {}, fmt::format("cannot enter network namespace '{}' (is the lab up?)", ns));
      return false;
    }
    for (const auto& [a, port] : tcp[ns]) out.push_back({OpenBound(SOCK_STREAM, a, port), true});
    for (const auto& [a, port] : udp[ns]) out.push_back({OpenBound(SOCK_DGRAM, a, port), false});
  }
  return true;
}

// Echoes a datagram, or accepts and drops a connection: the connect already succeeded.
void Serve(const Listener& l) {
  if (l.tcp) {
    int fd = ::accept4(l.fd, nullptr, nullptr, SOCK_CLOEXEC);
    if (fd >= 0) ::close(fd);
    return;
  }
  char buf[512];
  sockaddr_storage from{};
  socklen_t len = sizeof from;
  ssize_t n = ::recvfrom(l.fd, buf, sizeof buf, 0, reinterpret_cast<sockaddr*>(&from), &len);
  if (n > 0) ::sendto(l.fd, buf, n, 0, reinterpret_cast<sockaddr*>(&from), len);
}

// Starts one probe in the current namespace: a connect, a datagram or an echo request.
int StartProbe(const LabProbe& p) {
  int type = p.proto == kTcp ? SOCK_STREAM : SOCK_DGRAM;
  int protocol = p.proto == kIcmp ? IPPROTO_ICMP : p.proto == kIcmp6 ? IPPROTO_ICMPV6 : 0;
  int fd = ::socket(FamilyOf(p.to), type | SOCK_NONBLOCK | SOCK_CLOEXEC, protocol);
  if (fd < 0) return -1;
  SockAddr sa = MakeSockAddr(p.to, p.port);
  int rc = ::connect(fd, sa.get(), sa.len);
  if (rc != 0 && errno != EINPROGRESS) {
    ::close(fd);
    return -1;
  }
  if (p.proto == kUdp) {
    (void)::send(fd, "bulkhead-lab", 12, 0);
  } else if (p.proto == kIcmp) {
    icmphdr echo{};
    echo.type = ICMP_ECHO;
    echo.un.echo.sequence = htons(1);
    (void)::send(fd, &echo, sizeof echo, 0);
  } else if (p.proto == kIcmp6) {
    icmp6_hdr echo{};
    echo.icmp6_type = ICMP6_ECHO_REQUEST;
    echo.icmp6_seq = htons(1);
    (void)::send(fd, &echo, sizeof echo, 0);
  }
  return fd;
}

bool Answered(const LabProbe& p, int fd) {
  if (p.proto == kTcp) {
    int err = 0;
    socklen_t len = sizeof err;
    return ::getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) == 0 && err == 0;
  }
  unsigned char buf[512];
  ssize_t n = ::recv(fd, buf, sizeof buf, 0);
  if (p.proto == kIcmp) return n > 0 && buf[0] == ICMP_ECHOREPLY;
  if (p.proto == kIcmp6) return n > 0 && buf[0] == ICMP6_ECHO_REPLY;
  return n > 0;
}

int MillisLeft(std::chrono::steady_clock::time_point deadline) {
  auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
      deadline - std::chrono::steady_clock::now());
  return left.count() > 0 ? static_cast<int>(left.count()) : 0;
}

// Opens probes [first, last) into `fds`, each from its source's namespace.
void StartProbes(const std::vector<LabProbe>& probes, size_t first, size_t last,
                 std::vector<pollfd>& fds) {
  std::optional<EnterNetns> enter;
  for (size_t i = first; i < last; ++i) {
    if (i == first || probes[i].source_ns != probes[i - 1].source_ns) {
      enter.reset();
      enter.emplace(probes[i].source_ns);
    }
    short events = probes[i].proto == kTcp ? POLLOUT : POLLIN;
    fds.push_back({enter->ok() ? StartProbe(probes[i]) : -1, events, 0});
  }
}

// Runs probes [first, last) at once while serving the listeners, for at most kProbeMillis.
void RunBatch(std::vector<LabProbe>& probes, size_t first, size_t last,
              const std::vector<Listener>& listeners) {
  std::vector<pollfd> fds;
  for (const Listener& l : listeners) fds.push_back({l.fd, POLLIN, 0});
  StartProbes(probes, first, last, fds);
  auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(kProbeMillis);
  size_t pending = last - first;
  while (pending > 0 && MillisLeft(deadline) > 0) {
    if (::poll(fds.data(), fds.size(), MillisLeft(deadline)) <= 0) continue;
    for (size_t k = 0; k < fds.size(); ++k) {
      if (fds[k].fd < 0 || fds[k].revents == 0) continue;
      fds[k].revents = 0;
      if (k < listeners.size()) {
        Serve(listeners[k]);
        continue;
      }
      LabProbe& p = probes[first + k - listeners.size()];
      p.observed = Answered(p, fds[k].fd);
      ::close(fds[k].fd);
      fds[k].fd = -1;
      --pending;
    }
  }
  for (size_t k = listeners.size(); k < fds.size(); ++k) {
    if (fds[k].fd >= 0) ::close(fds[k].fd);
  }
}

// How many probes may be open at once: the file descriptor limit, raised as far as allowed,
// less the listeners and a margin.
size_t BatchSize(size_t listeners) {
  rlimit limit{};
  if (::getrlimit(RLIMIT_NOFILE, &limit) == 0) {
    limit.rlim_cur = std::min<rlim_t>(limit.rlim_max, 8192);
    (void)::setrlimit(RLIMIT_NOFILE, &limit);
    (void)::getrlimit(RLIMIT_NOFILE, &limit);
  }
  size_t room = limit.rlim_cur > listeners + 64 ? limit.rlim_cur - listeners - 64 : 0;
  return std::max<size_t>(room, 16);
}

void RunProbes(std::vector<LabProbe>& probes, const std::vector<Listener>& listeners,
               const std::function<void(const std::string&)>& progress) {
  size_t batch = BatchSize(listeners.size());
  for (size_t first = 0; first < probes.size(); first += batch) {
    size_t last = std::min(probes.size(), first + batch);
    progress(fmt::format("probing: {} to {} of {} probes, at most {} ms", first + 1, last,
                         probes.size(), kProbeMillis));
    RunBatch(probes, first, last, listeners);
  }
}

}  // namespace

bool ProbeLab(const Spec& spec, const Plan& plan, const LabLayout& layout, const Date& today,
              LabProbeResult& result, Diagnostics& diags,
              const std::function<void(const std::string&)>& progress) {
  if (!std::filesystem::exists(layout.state_dir)) {
    diags.Error("", {},
                fmt::format("lab '{}' is not up (run 'bulkhead lab up FILE --name {}')",
                            layout.name, layout.name));
    return false;
  }
  if (!VerifyArtifacts(spec, plan, FirewallEngine::kNftables, layout.state_dir, today,
                       result.verify, diags)) {
    return false;
  }
  result.probes = PlanProbes(spec, plan, layout, result.verify);

  std::vector<Listener> listeners;
  bool ok = OpenListeners(result.probes, listeners, diags);
  if (ok) RunProbes(result.probes, listeners, progress);
  for (const Listener& l : listeners) {
    if (l.fd >= 0) ::close(l.fd);
  }
  for (size_t i = 0; i < result.probes.size(); ++i) {
    if (result.probes[i].predicted != result.probes[i].observed) result.differences.push_back(i);
  }
  return ok;
}

}  // namespace bulkhead
