// SPDX-License-Identifier: Apache-2.0
// Writing output files so that a reader never sees half of one: write a temporary file in the
// same folder, flush it, then rename it over the target.
#pragma once

#include <string>

namespace bulkhead {

// Creates missing parent folders. Returns "" on success or an error text naming the path.
[[nodiscard]] std::string WriteFileAtomically(const std::string& path, const std::string& content,
                                              bool executable = false);

// Reads a whole file; returns false (and leaves `out` empty) when it cannot.
[[nodiscard]] bool ReadWholeFile(const std::string& path, std::string& out);

}  // namespace bulkhead
