// SPDX-License-Identifier: Apache-2.0
// Test helpers for tests that build labs: whether this machine can (root and `ip netns`), and
// a guard that takes a lab down when the test ends, passed or failed.
#pragma once

#include <unistd.h>

#include <string>

#include "lab/lab.h"
#include "lab/netns.h"

namespace bulkhead {

inline bool LabUsable() { return ::geteuid() == 0 && RunShell("ip netns list").status == 0; }

class LabGuard {
 public:
  explicit LabGuard(std::string name) : name_(std::move(name)) {}
  ~LabGuard() { LabDown(name_); }
  LabGuard(const LabGuard&) = delete;
  LabGuard& operator=(const LabGuard&) = delete;

 private:
  std::string name_;
};

}  // namespace bulkhead
