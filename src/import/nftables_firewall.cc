// SPDX-License-Identifier: Apache-2.0
// Reads back a Debian firewall VM's files as RenderNftables writes them: the packet filter from
// nftables.conf, interface names and MACs from systemd-networkd .link files, addresses and the
// DHCP-configured WAN from .network files, and DHCP reservations from dnsmasq.conf. Only the
// files decide; nothing is taken from the spec.
#include <fmt/format.h>

#include <algorithm>
#include <filesystem>
#include <sstream>

#include "import/artifacts.h"
#include "util/atomic_file.h"

namespace bulkhead {
namespace {

namespace fs = std::filesystem;

std::string Trim(std::string_view s) {
  size_t b = s.find_first_not_of(" \t\r");
  if (b == std::string_view::npos) return "";
  size_t e = s.find_last_not_of(" \t\r");
  return std::string(s.substr(b, e - b + 1));
}

// One "Key=Value" line of a systemd unit file, with the section it sits in.
struct IniEntry {
  std::string section;
  std::string key;
  std::string value;
  int line = 0;
};

std::vector<IniEntry> ReadIni(const std::string& text) {
  std::vector<IniEntry> out;
  std::istringstream in(text);
  std::string raw, section;
  for (int line = 1; std::getline(in, raw); ++line) {
    std::string s = Trim(raw);
    if (s.empty() || s[0] == '#' || s[0] == ';') continue;
    if (s.front() == '[' && s.back() == ']') {
      section = s.substr(1, s.size() - 2);
      continue;
    }
    size_t eq = s.find('=');
    if (eq != std::string::npos) {
      out.push_back({section, Trim(s.substr(0, eq)), Trim(s.substr(eq + 1)), line});
    }
  }
  return out;
}

FirewallInterface& InterfaceNamed(FirewallView& fw, const std::string& name) {
  for (FirewallInterface& i : fw.interfaces) {
    if (i.name == name) return i;
  }
  fw.interfaces.push_back({name, 0, "", {}});
  return fw.interfaces.back();
}

void ReadLink(const std::string& path, const std::string& text, FirewallView& fw,
              Diagnostics& diags) {
  std::string mac, name;
  for (const IniEntry& e : ReadIni(text)) {
    if (e.section == "Match" && e.key == "MACAddress") {
      mac = VirtualBoxMac(e.value);
      if (mac.empty()) diags.Error(path, {e.line, 1}, fmt::format("invalid MAC '{}'", e.value));
    }
    if (e.section == "Link" && e.key == "Name") name = e.value;
  }
  if (name.empty()) return diags.Error(path, {}, "no 'Name=' in [Link]");
  InterfaceNamed(fw, name).mac = mac;
}

bool IsDhcp(const std::string& v) { return v == "yes" || v == "ipv4" || v == "true"; }

void ReadNetwork(const std::string& path, const std::string& text, FirewallView& fw,
                 Diagnostics& diags) {
  std::vector<IniEntry> entries = ReadIni(text);
  auto name = std::find_if(entries.begin(), entries.end(), [](const IniEntry& e) {
    return e.section == "Match" && e.key == "Name";
  });
  if (name == entries.end()) return diags.Error(path, {}, "no 'Name=' in [Match]");
  FirewallInterface& iface = InterfaceNamed(fw, name->value);
  for (const IniEntry& e : entries) {
    if (e.section != "Network") continue;
    if (e.key == "DHCP" && IsDhcp(e.value)) fw.wan = iface.name;
    if (e.key != "Address") continue;
    std::optional<Prefix> p = Prefix::Parse(e.value);
    if (!p) {
      diags.Error(path, {e.line, static_cast<int>(e.key.size()) + 2},
                  fmt::format("invalid address '{}'", e.value));
    } else {
      iface.addresses.push_back(*p);
    }
  }
}

void ReadNetworkFolder(const std::string& dir, FirewallView& fw, Diagnostics& diags) {
  std::error_code ec;
  std::vector<fs::path> files;
  for (const auto& entry : fs::directory_iterator(fs::path(dir) / "network", ec)) {
    files.push_back(entry.path());
  }
  std::sort(files.begin(), files.end());
  for (const fs::path& f : files) {
    std::string text;
    if (!ReadWholeFile(f.string(), text)) continue;
    if (f.extension() == ".link") ReadLink(f.string(), text, fw, diags);
    if (f.extension() == ".network") ReadNetwork(f.string(), text, fw, diags);
  }
}

// dhcp-host=08:00:27:a1:b2:c3,10.137.1.10,browser (fields in any order, as dnsmasq allows).
void ReadDhcpHost(const std::string& path, int line, const std::string& value, FirewallView& fw,
                  Diagnostics& diags) {
  DhcpReservation r;
  std::optional<IpAddress> address;
  std::istringstream fields(value);
  for (std::string f; std::getline(fields, f, ',');) {
    f = Trim(f);
    if (r.mac.empty()) r.mac = VirtualBoxMac(f);
    if (!address) address = IpAddress::Parse(f);
  }
  if (r.mac.empty() || !address) {
    return diags.Error(path, {line, 1}, fmt::format("cannot read 'dhcp-host={}'", value));
  }
  r.address = *address;
  fw.reservations.push_back(r);
}

void ReadDnsmasq(const std::string& path, FirewallView& fw, Diagnostics& diags) {
  std::string text;
  if (!ReadWholeFile(path, text)) {
    return diags.Warning(path, {}, "cannot read the file (no DHCP reservations known)");
  }
  std::istringstream in(text);
  std::string raw;
  for (int line = 1; std::getline(in, raw); ++line) {
    std::string s = Trim(raw);
    if (s.rfind("dhcp-host=", 0) == 0) ReadDhcpHost(path, line, s.substr(10), fw, diags);
  }
}

}  // namespace

bool ReadNftablesFirewall(const std::string& dir, FirewallView& fw, Diagnostics& diags) {
  size_t before = diags.list().size();
  std::string conf = (fs::path(dir) / "nftables.conf").string();
  std::string text;
  if (!ReadWholeFile(conf, text)) {
    diags.Error(conf, {}, "cannot read the file");
  } else {
    (void)ParseNftables(conf, text, fw.policy, diags);
  }
  ReadNetworkFolder(dir, fw, diags);
  ReadDnsmasq((fs::path(dir) / "dnsmasq.conf").string(), fw, diags);
  if (fw.wan.empty()) {
    for (const FirewallInterface& i : fw.interfaces) {
      if (i.name == "wan0") fw.wan = i.name;
    }
  }
  return std::none_of(diags.list().begin() + before, diags.list().end(),
                      [](const Diagnostic& d) { return d.severity == Severity::kError; });
}

}  // namespace bulkhead
