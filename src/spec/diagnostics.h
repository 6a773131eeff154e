// SPDX-License-Identifier: Apache-2.0
// Diagnostics for bad input. Every phase collects all of its errors into a Diagnostics list
// before stopping, so that one run tells the user everything wrong with their file. Rendered as
//   workstation.toml:42:7: error: unknown zone 'wrok' (did you mean 'work'?)
//       zone = "wrok"
//              ^
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace bulkhead {

// A position in a text file; line and column are 1-based, 0 means unknown.
struct SourceLoc {
  int line = 0;
  int column = 0;
  bool operator==(const SourceLoc&) const = default;
};

enum class Severity { kError, kWarning, kNote };

struct Diagnostic {
  Severity severity = Severity::kError;
  std::string file;     // as the user named it
  SourceLoc loc;        // for text input
  std::string path;     // for XML input: "filter/rule[12]/destination/address"
  std::string message;  // lowercase, no final period, names in single quotes
};

class Diagnostics {
 public:
  void Error(std::string file, SourceLoc loc, std::string message);
  void Warning(std::string file, SourceLoc loc, std::string message);
  void ErrorAt(std::string file, std::string xml_path, std::string message);
  void Add(Diagnostic d) { list_.push_back(std::move(d)); }

  bool HasErrors() const;
  const std::vector<Diagnostic>& list() const { return list_; }

  // Renders every diagnostic, sorted by position, each followed by its source line and a caret
  // when `source` (the whole file text) is given and the location has a line.
  std::string Format(std::string_view source = {}) const;

 private:
  std::vector<Diagnostic> list_;
};

// The 1-based line and column of a byte offset into `text` (an XML parser's error offset).
SourceLoc LocAt(std::string_view text, ptrdiff_t offset);

// The closest candidate to `word` by edit distance, or "" when none is close enough to be a
// plausible typo (distance at most max(1, word.size() / 3)).
std::string DidYouMean(std::string_view word, const std::vector<std::string>& candidates);

// " (did you mean 'x'?)" or "" — ready to append to a message.
std::string DidYouMeanSuffix(std::string_view word, const std::vector<std::string>& candidates);

}  // namespace bulkhead
