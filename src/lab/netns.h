// SPDX-License-Identifier: Apache-2.0
// The lab's contact with the kernel: running `ip` and `nft`, listing the lab's namespaces, and
// entering a namespace from the calling thread for as long as a guard lives. Internal to
// src/lab; the rest of bulkhead never touches the machine's network.
#pragma once

#include <string>
#include <vector>

namespace bulkhead {

struct ShellRun {
  int status = -1;     // as from pclose: 0 on success
  std::string output;  // stdout and stderr together
};

// Runs `command` through /bin/sh and waits for it.
ShellRun RunShell(const std::string& command);

// Names under /run/netns that start with `prefix`, sorted.
std::vector<std::string> NamespacesWithPrefix(const std::string& prefix);

// Puts the calling thread into network namespace `ns` (/run/netns/<ns>) and back into the one
// it was in when the guard goes. Sockets made meanwhile stay in `ns` for their whole life.
class EnterNetns {
 public:
  explicit EnterNetns(const std::string& ns);
  ~EnterNetns();
  EnterNetns(const EnterNetns&) = delete;
  EnterNetns& operator=(const EnterNetns&) = delete;

  bool ok() const { return ok_; }
  int error() const { return error_; }  // errno of the failure when !ok()

 private:
  int home_ = -1;
  bool ok_ = false;
  int error_ = 0;
};

}  // namespace bulkhead
