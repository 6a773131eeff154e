// SPDX-License-Identifier: Apache-2.0
// Atomic replacement of output files: the content goes to a unique temporary file beside the
// target, is flushed to disk, and only then renamed over it, so a crash leaves either the old
// file or the new one, never a mix.

#include "util/atomic_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <vector>

#include <fmt/format.h>

namespace bulkhead {
namespace {

std::string CannotWrite(const std::string& path, int error) {
  return fmt::format("cannot write '{}' ({})", path, std::strerror(error));
}

bool WriteAll(int fd, const std::string& content) {
  size_t done = 0;
  while (done < content.size()) {
    ssize_t n = ::write(fd, content.data() + done, content.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return false;
    done += static_cast<size_t>(n);
  }
  return true;
}

// Writes, flushes and closes the temporary file; returns 0 or the errno of the first failure.
int FillTemporary(int fd, const std::string& content, bool executable) {
  int error = 0;
  if (!WriteAll(fd, content) || ::fchmod(fd, executable ? 0755 : 0644) != 0 || ::fsync(fd) != 0) {
    error = errno;
  }
  if (::close(fd) != 0 && error == 0) error = errno;
  return error;
}

}  // namespace

std::string WriteFileAtomically(const std::string& path, const std::string& content,
                                bool executable) {
  std::filesystem::path target(path);
  std::error_code ec;
  if (target.has_parent_path()) std::filesystem::create_directories(target.parent_path(), ec);
  if (ec) return CannotWrite(path, ec.value());

  std::string pattern = path + ".tmp.XXXXXX";
  std::vector<char> tmp_name(pattern.begin(), pattern.end());
  tmp_name.push_back('\0');
  int fd = ::mkstemp(tmp_name.data());
  if (fd < 0) return CannotWrite(path, errno);

  int error = FillTemporary(fd, content, executable);
  if (error == 0 && ::rename(tmp_name.data(), path.c_str()) != 0) error = errno;
  if (error != 0) {
    ::unlink(tmp_name.data());
    return CannotWrite(path, error);
  }
  return "";
}

bool ReadWholeFile(const std::string& path, std::string& out) {
  out.clear();
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return false;
  char buffer[1 << 16];
  ssize_t n;
  while ((n = ::read(fd, buffer, sizeof buffer)) != 0) {
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) break;  // e.g. EISDIR: a folder opens, but does not read
    out.append(buffer, static_cast<size_t>(n));
  }
  ::close(fd);
  if (n < 0) out.clear();
  return n == 0;
}

}  // namespace bulkhead
