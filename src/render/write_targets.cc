// SPDX-License-Identifier: Apache-2.0
// WriteTargets: stage every target, then swap them all in; on any failure, undo the swaps done
// so far and remove the staging folders.

#include "render/write_targets.h"

#include <fmt/format.h>

#include <filesystem>

#include "util/atomic_file.h"

namespace bulkhead {
namespace {

namespace fs = std::filesystem;

struct Folders {
  fs::path final_dir, staging, old;
};

Folders FoldersOf(const std::string& out_dir, const std::string& target) {
  fs::path dir(out_dir);
  return {dir / target, dir / ("." + target + ".new"), dir / ("." + target + ".old")};
}

std::string Stage(const Folders& f, const Artifacts& files) {
  std::error_code ec;
  fs::remove_all(f.staging, ec);
  for (const Artifact& a : files) {
    std::string err = WriteFileAtomically((f.staging / a.path).string(), a.content, a.executable);
    if (!err.empty()) return err;
  }
  // A target without files still replaces its folder (by an empty one).
  fs::create_directories(f.staging, ec);
  if (ec) return fmt::format("cannot create '{}': {}", f.staging.string(), ec.message());
  return "";
}

// The old folder steps aside (kept until every target is in) and the staging folder takes
// its place; on failure the old folder is put back.
std::string SwapIn(const Folders& f) {
  std::error_code ec;
  fs::remove_all(f.old, ec);
  if (fs::exists(f.final_dir)) fs::rename(f.final_dir, f.old, ec);
  if (!ec) {
    fs::rename(f.staging, f.final_dir, ec);
    std::error_code back;
    if (ec && fs::exists(f.old)) fs::rename(f.old, f.final_dir, back);
  }
  if (ec) return fmt::format("cannot replace '{}': {}", f.final_dir.string(), ec.message());
  return "";
}

void SwapOut(const Folders& f) {
  std::error_code ec;
  fs::remove_all(f.final_dir, ec);
  if (fs::exists(f.old)) fs::rename(f.old, f.final_dir, ec);
}

void RemoveAll(const std::vector<Folders>& folders, fs::path Folders::*which) {
  std::error_code ec;
  for (const Folders& f : folders) fs::remove_all(f.*which, ec);
}

}  // namespace

std::string WriteTargets(const std::string& out_dir, const std::vector<RenderedTarget>& targets) {
  std::vector<Folders> folders;
  for (const auto& [target, files] : targets) {
    folders.push_back(FoldersOf(out_dir, target));
    std::string err = Stage(folders.back(), files);
    if (err.empty()) continue;
    RemoveAll(folders, &Folders::staging);
    return err;
  }

  for (size_t i = 0; i < folders.size(); ++i) {
    std::string err = SwapIn(folders[i]);
    if (err.empty()) continue;
    for (size_t j = i; j-- > 0;) SwapOut(folders[j]);
    RemoveAll(folders, &Folders::staging);
    return err;
  }
  RemoveAll(folders, &Folders::old);
  return "";
}

}  // namespace bulkhead
