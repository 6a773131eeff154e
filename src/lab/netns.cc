// SPDX-License-Identifier: Apache-2.0
// Running commands, finding the lab's namespaces by name, and setns(2) into them. A thread's
// network namespace is its own, so entering one here never moves the rest of the process.
#include "lab/netns.h"

#include <fcntl.h>
#include <sched.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstdio>
#include <filesystem>

namespace bulkhead {

ShellRun RunShell(const std::string& command) {
  ShellRun r;
  FILE* pipe = ::popen((command + " 2>&1").c_str(), "r");
  if (pipe == nullptr) return r;
  std::array<char, 4096> buf;
  size_t n;
  while ((n = std::fread(buf.data(), 1, buf.size(), pipe)) > 0) r.output.append(buf.data(), n);
  r.status = ::pclose(pipe);
  return r;
}

std::vector<std::string> NamespacesWithPrefix(const std::string& prefix) {
  std::vector<std::string> out;
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator("/run/netns", ec)) {
    std::string name = entry.path().filename().string();
    if (name.rfind(prefix, 0) == 0) out.push_back(name);
  }
  std::sort(out.begin(), out.end());
  return out;
}

EnterNetns::EnterNetns(const std::string& ns) {
  home_ = ::open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
  int fd = home_ < 0 ? -1 : ::open(("/run/netns/" + ns).c_str(), O_RDONLY | O_CLOEXEC);
  ok_ = fd >= 0 && ::setns(fd, CLONE_NEWNET) == 0;
  if (!ok_) error_ = errno;
  if (fd >= 0) ::close(fd);
}

EnterNetns::~EnterNetns() {
  if (home_ < 0) return;
  if (ok_) (void)::setns(home_, CLONE_NEWNET);
  ::close(home_);
}

}  // namespace bulkhead
