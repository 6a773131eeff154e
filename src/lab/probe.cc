// SPDX-License-Identifier: Apache-2.0
// `lab probe`: real packets through the lab, compared with verify's prediction, IPv4 and IPv6
// alike. One thread enters each namespace only long enough to open sockets (a batch's
// listeners, then its probes); one poll loop drives non-blocking connects, UDP echoes and ICMP
// echo requests until each answers or 300 ms pass. Batches fit the open-file limit.
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
#include <cerrno>
#include <chrono>
#include <map>
#include <optional>
#include <set>
#include <system_error>

#include "lab/lab.h"
#include "lab/netns.h"

namespace bulkhead {
namespace {

constexpr int kProbeMillis = 300;
constexpr uint8_t kTcp = 6, kUdp = 17, kIcmp = 1, kIcmp6 = 58;

// Bounds on the ports added beside open ranges, so that a rule with thousands of ranges does
// not multiply the probes: per rule, the ranges whose neighbours are probed; per cell and
// protocol, the intervals of verify's prediction whose edges are probed.
constexpr size_t kRuleEdgeRanges = 64;
constexpr size_t kCellEdgeIntervals = 8;

struct PortChoice {
  std::set<uint16_t> tcp, udp;
};

// A range's first and last port, and the closed port on either side of it (port 0 excepted):
// a ruleset open one port too far or too short then shows.
std::vector<uint16_t> RangePorts(uint32_t first, uint32_t last, bool with_neighbours) {
  std::vector<uint16_t> out = {static_cast<uint16_t>(first), static_cast<uint16_t>(last)};
  if (with_neighbours && first > 1) out.push_back(static_cast<uint16_t>(first - 1));
  if (with_neighbours && last < 65535) out.push_back(static_cast<uint16_t>(last + 1));
  return out;
}

void AddRulePorts(const EgressRule& r, PortChoice& ports) {
  for (size_t i = 0; i < r.ports.size(); ++i) {
    for (uint16_t p : RangePorts(r.ports[i].first, r.ports[i].last, i < kRuleEdgeRanges)) {
      if (r.protocol != Protocol::kUdp) ports.tcp.insert(p);
      if (r.protocol != Protocol::kTcp) ports.udp.insert(p);
    }
  }
}

// The ports the spec's rules name and their neighbours, SSH (the nftables firewall's admin
// port), DNS and DHCP, and one port no rule names.
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
    case EndpointKind::kNetwork:
      return {};  // only audits have network endpoints
  }
  return {};
}

ServiceSet ServiceOf(uint8_t proto, uint16_t port) {
  if (proto == kIcmp) return IcmpType(kIcmp, ICMP_ECHO);
  if (proto == kIcmp6) return IcmpType(kIcmp6, ICMP6_ECHO_REQUEST);
  return Ports(proto, port, port);
}

// Ports where verify's prediction for one cell changes, beyond the shared choice: the edges of
// its open intervals (a hand-edited ruleset names ranges the spec does not); past
// kCellEdgeIntervals of them, the first port of what the probes chosen so far miss.
std::set<uint16_t> CellPorts(const ServiceSet& open, const std::set<uint16_t>& shared,
                             uint8_t proto) {
  std::set<uint16_t> out;
  const auto& intervals = open.ranges();
  for (size_t i = 0; i < intervals.size() && i < kCellEdgeIntervals; ++i) {
    for (uint16_t p : RangePorts(intervals[i].first & 0xffff, intervals[i].last & 0xffff, true)) {
      if (!shared.count(p)) out.insert(p);
    }
  }
  if (intervals.size() <= kCellEdgeIntervals) return out;
  ServiceSet::Ranges probed;  // one set built at once: port lists can be long
  auto add = [&](uint16_t port) { probed.push_back(Ports(proto, port, port).ranges()[0]); };
  std::for_each(shared.begin(), shared.end(), add);
  std::for_each(out.begin(), out.end(), add);
  ServiceSet rest = open.Subtract(ServiceSet::FromRanges(std::move(probed)));
  if (!rest.empty()) out.insert(static_cast<uint16_t>(rest.front() & 0xffff));
  return out;
}

// Every probe of one target, IPv4 or IPv6 alike: TCP and UDP on the shared ports and on the
// cell's own, and an ICMP echo.
void AddProbes(LabProbe base, const Target& t, const Cell& cell, const PortChoice& ports,
               std::vector<LabProbe>& out) {
  base.destination_ns = t.ns;
  base.to = t.address;
  base.target = t.label;
  auto packets = [&](const ServiceSet& svc) {
    return PacketSet::Of(AddrsOf(base.from), t.as_seen, svc);
  };
  auto add = [&](uint8_t proto, uint16_t port) {
    LabProbe p = base;
    p.proto = proto;
    p.port = port;
    p.predicted = cell.passed.Intersects(packets(ServiceOf(proto, port)));
    out.push_back(p);
  };
  for (uint8_t proto : {kTcp, kUdp}) {
    const std::set<uint16_t>& shared = proto == kTcp ? ports.tcp : ports.udp;
    ServiceSet open = cell.passed.Intersect(packets(Proto(proto))).Services();
    for (uint16_t port : shared) add(proto, port);
    for (uint16_t port : CellPorts(open, shared, proto)) add(proto, port);
  }
  add(t.address.family == Family::kV4 ? kIcmp : kIcmp6, 0);
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

// What a failed call says, for error messages: "Too many open files".
std::string ErrnoText(int err) { return std::system_category().message(err); }

std::string EnterError(const std::string& ns, int err) {
  return fmt::format("cannot enter network namespace '{}' ({}{})", ns, ErrnoText(err),
                     err == ENOENT ? "; is the lab up?" : "");
}

// A socket bound to `address` and `port`, listening if TCP; or -1 with errno set. IPv6 sockets
// take IPv6 only, so that a wildcard listener leaves the IPv4 one its port.
int OpenBound(int type, const IpAddress& address, uint16_t port) {
  int fd = ::socket(FamilyOf(address), type | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return -1;
  int one = 1;
  ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  if (address.family == Family::kV6) ::setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one);
  SockAddr sa = MakeSockAddr(address, port);
  if (::bind(fd, sa.get(), sa.len) != 0 || (type == SOCK_STREAM && ::listen(fd, 128) != 0)) {
    int err = errno;
    ::close(fd);
    errno = err;
    return -1;
  }
  return fd;
}

struct Listener {
  int fd = -1;
  bool tcp = false;
};

// What one namespace listens on for a batch: TCP on any address of a family, UDP on each
// probed address.
struct ListenSet {
  std::set<std::pair<IpAddress, uint16_t>> tcp, udp;
};

// TCP listeners take any address of their namespace; UDP ones are bound to each probed
// address, so that an echo leaves from the address the probe went to (the internet namespace
// holds many) and conntrack and the prober's connected socket recognise it. Listeners go
// exactly where some probe of the batch [first, last) is aimed. Returns "" or an error.
std::string OpenListeners(const std::vector<LabProbe>& probes, size_t first, size_t last,
                          std::vector<Listener>& out) {
  std::map<std::string, ListenSet> wanted;
  for (size_t i = first; i < last; ++i) {
    const LabProbe& p = probes[i];
    if (p.proto == kTcp) wanted[p.destination_ns].tcp.insert({{p.to.family, 0}, p.port});
    if (p.proto == kUdp) wanted[p.destination_ns].udp.insert({p.to, p.port});
  }
  for (const auto& [ns, set] : wanted) {
    EnterNetns enter(ns);
    if (!enter.ok()) return EnterError(ns, enter.error());
    for (bool tcp : {true, false}) {
      for (const auto& [a, port] : tcp ? set.tcp : set.udp) {
        int fd = OpenBound(tcp ? SOCK_STREAM : SOCK_DGRAM, a, port);
        if (fd < 0) {
          return fmt::format("cannot listen on {} {} port {} in '{}' ({})", tcp ? "tcp" : "udp",
                             a.ToString(), port, ns, ErrnoText(errno));
        }
        out.push_back({fd, tcp});
      }
    }
  }
  return "";
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

void SendEcho(int fd, uint8_t proto) {
  if (proto == kUdp) {
    (void)::send(fd, "bulkhead-lab", 12, 0);
  } else if (proto == kIcmp) {
    icmphdr echo{};
    echo.type = ICMP_ECHO;
    echo.un.echo.sequence = htons(1);
    (void)::send(fd, &echo, sizeof echo, 0);
  } else if (proto == kIcmp6) {
    icmp6_hdr echo{};
    echo.icmp6_type = ICMP6_ECHO_REQUEST;
    echo.icmp6_seq = htons(1);
    (void)::send(fd, &echo, sizeof echo, 0);
  }
}

// Returned by StartProbe when the kernel refused the probe at once (no route, a local filter):
// it is blocked, and there is nothing to wait for.
constexpr int kRefused = -2;

// Starts one probe in the current namespace: a connect, a datagram or an echo request. Returns
// its socket, kRefused, or -1 with errno set when no socket could be made.
int StartProbe(const LabProbe& p) {
  int type = p.proto == kTcp ? SOCK_STREAM : SOCK_DGRAM;
  int protocol = p.proto == kIcmp ? IPPROTO_ICMP : p.proto == kIcmp6 ? IPPROTO_ICMPV6 : 0;
  int fd = ::socket(FamilyOf(p.to), type | SOCK_NONBLOCK | SOCK_CLOEXEC, protocol);
  if (fd < 0) return -1;
  SockAddr sa = MakeSockAddr(p.to, p.port);
  if (::connect(fd, sa.get(), sa.len) != 0 && errno != EINPROGRESS) {
    ::close(fd);
    return kRefused;
  }
  SendEcho(fd, p.proto);
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

// Starts probes [first, last), each from its source's namespace, appending one entry to `fds`
// per probe (fd -1 for one refused at once). Returns "" or an error.
std::string StartProbes(const std::vector<LabProbe>& probes, size_t first, size_t last,
                        std::vector<pollfd>& fds, size_t& pending) {
  std::optional<EnterNetns> enter;
  for (size_t i = first; i < last; ++i) {
    const LabProbe& p = probes[i];
    if (i == first || p.source_ns != probes[i - 1].source_ns) {
      enter.reset();
      enter.emplace(p.source_ns);
      if (!enter->ok()) return EnterError(p.source_ns, enter->error());
    }
    int fd = StartProbe(p);
    if (fd == -1) {
      return fmt::format("cannot open a socket in '{}' to probe {} ({})", p.source_ns,
                         p.to.ToString(), ErrnoText(errno));
    }
    fds.push_back({std::max(fd, -1), static_cast<short>(p.proto == kTcp ? POLLOUT : POLLIN), 0});
    pending += fd >= 0;
  }
  return "";
}

// Serves the listeners (the first entries of `fds`) and collects the probes' answers until
// each has one or kProbeMillis pass.
void AwaitAnswers(std::vector<LabProbe>& probes, size_t first,
                  const std::vector<Listener>& listeners, std::vector<pollfd>& fds,
                  size_t pending) {
  auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(kProbeMillis);
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
}

// Runs probes [first, last) at once, with the listeners they need, for at most kProbeMillis;
// every socket is closed again at the end. Returns "" or an error.
std::string RunBatch(std::vector<LabProbe>& probes, size_t first, size_t last) {
  std::vector<Listener> listeners;
  std::string err = OpenListeners(probes, first, last, listeners);
  std::vector<pollfd> fds;
  for (const Listener& l : listeners) fds.push_back({l.fd, POLLIN, 0});
  size_t pending = 0;
  if (err.empty()) err = StartProbes(probes, first, last, fds, pending);
  if (err.empty()) AwaitAnswers(probes, first, listeners, fds, pending);
  for (const pollfd& f : fds) {
    if (f.fd >= 0) ::close(f.fd);
  }
  return err;
}

// Probes per batch. A probe holds one socket and needs at most one listener, so a batch takes
// at most twice its size in file descriptors: it fits the limit (raised as far as allowed)
// less a margin, and kMaxBatch keeps each poll(2) cheap.
size_t BatchSize() {
  constexpr rlim_t kWantedFds = 65536, kMargin = 64;
  constexpr size_t kMaxBatch = 8192;
  rlimit limit{};
  if (::getrlimit(RLIMIT_NOFILE, &limit) != 0) return 16;
  limit.rlim_cur = std::min(limit.rlim_max, kWantedFds);
  (void)::setrlimit(RLIMIT_NOFILE, &limit);
  (void)::getrlimit(RLIMIT_NOFILE, &limit);
  size_t room = limit.rlim_cur > kMargin ? (limit.rlim_cur - kMargin) / 2 : 1;
  return std::clamp<size_t>(room, 1, kMaxBatch);
}

std::string RunProbes(std::vector<LabProbe>& probes,
                      const std::function<void(const std::string&)>& progress) {
  size_t batch = BatchSize();
  for (size_t first = 0; first < probes.size(); first += batch) {
    size_t last = std::min(probes.size(), first + batch);
    progress(fmt::format("probing: {} to {} of {} probes, at most {} ms", first + 1, last,
                         probes.size(), kProbeMillis));
    std::string err = RunBatch(probes, first, last);
    if (!err.empty()) return err;
  }
  return "";
}

}  // namespace

bool ProbeLab(const Spec& spec, const Plan& plan, const LabLayout& layout, const Date& today,
              LabProbeResult& result, Diagnostics& diags,
              const std::function<void(const std::string&)>& progress) {
  std::string err = LabReady(layout);
  if (!err.empty()) {
    diags.Error(kLabDiagnosticsFile, {}, err);
    return false;
  }
  if (!VerifyArtifacts(spec, plan, FirewallEngine::kNftables, layout.state_dir, today,
                       result.verify, diags)) {
    return false;
  }
  result.probes = PlanProbes(spec, plan, layout, result.verify);

  err = RunProbes(result.probes, progress);
  if (!err.empty()) {
    diags.Error(kLabDiagnosticsFile, {}, err);
    return false;
  }
  for (size_t i = 0; i < result.probes.size(); ++i) {
    if (result.probes[i].predicted != result.probes[i].observed) result.differences.push_back(i);
  }
  return true;
}

}  // namespace bulkhead
