// SPDX-License-Identifier: Apache-2.0
// Collecting and rendering diagnostics. Rendering sorts by position so that a user reads their
// file's problems top to bottom, each with its source line and a caret under the column.
// DidYouMean offers the closest valid word by edit distance (Levenshtein).

#include "spec/diagnostics.h"

#include <algorithm>
#include <set>
#include <tuple>

#include <fmt/format.h>

namespace bulkhead {
namespace {

const char* SeverityName(Severity s) {
  switch (s) {
    case Severity::kError:
      return "error";
    case Severity::kWarning:
      return "warning";
    case Severity::kNote:
      return "note";
  }
  return "error";
}

// The 1-based line `line` of `text`, without its line break; "" when out of range.
std::string_view SourceLine(std::string_view text, int line) {
  size_t start = 0;
  for (int i = 1; i < line; ++i) {
    size_t nl = text.find('\n', start);
    if (nl == std::string_view::npos) return {};
    start = nl + 1;
  }
  size_t end = text.find('\n', start);
  std::string_view out = text.substr(start, end == std::string_view::npos ? end : end - start);
  if (!out.empty() && out.back() == '\r') out.remove_suffix(1);
  return out;
}

// The length of the valid UTF-8 sequence at `text[i]`, or 0 when it is none.
size_t Utf8Length(std::string_view text, size_t i) {
  unsigned char c = static_cast<unsigned char>(text[i]);
  size_t n = c >= 0xF0 && c <= 0xF4 ? 4 : c >= 0xE0 ? 3 : c >= 0xC2 && c < 0xE0 ? 2 : 0;
  if (n == 0 || i + n > text.size()) return 0;
  for (size_t k = 1; k < n; ++k) {
    if ((static_cast<unsigned char>(text[i + k]) & 0xC0) != 0x80) return 0;
  }
  return n;
}

// A source line fit for a terminal: control bytes and bytes that are no UTF-8 become "\xNN";
// the caret line below it stays aligned (tabs are kept in both, so they line up however shown).
struct ShownLine {
  std::string text;
  std::string caret;
};

ShownLine Shown(std::string_view line, int column) {
  ShownLine out;
  for (size_t i = 0; i < line.size();) {
    unsigned char c = static_cast<unsigned char>(line[i]);
    size_t n = c >= 0x80 ? Utf8Length(line, i) : (c < 0x20 && c != '\t') || c == 0x7F ? 0 : 1;
    std::string piece = n == 0 ? fmt::format("\\x{:02x}", c) : std::string(line.substr(i, n));
    bool before_caret = static_cast<int>(i) + 1 < column;
    if (before_caret) out.caret += c == '\t' ? "\t" : std::string(n <= 1 ? piece.size() : 1, ' ');
    out.text += piece;
    i += std::max<size_t>(n, 1);
  }
  if (column > 0) {
    out.caret += std::string(std::max(0, column - 1 - static_cast<int>(line.size())), ' ') + "^";
  }
  return out;
}

std::string Where(const Diagnostic& d) {
  if (!d.path.empty()) return fmt::format("{}: {}", d.file, d.path);
  if (d.loc.line == 0) return d.file;
  if (d.loc.column == 0) return fmt::format("{}:{}", d.file, d.loc.line);
  return fmt::format("{}:{}:{}", d.file, d.loc.line, d.loc.column);
}

// Edit distance where swapping two neighbouring letters counts as one edit ("wrok" -> "work"),
// the commonest typo (optimal string alignment distance).
size_t EditDistance(std::string_view a, std::string_view b) {
  std::vector<std::vector<size_t>> d(a.size() + 1, std::vector<size_t>(b.size() + 1));
  for (size_t i = 0; i <= a.size(); ++i) d[i][0] = i;
  for (size_t j = 0; j <= b.size(); ++j) d[0][j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    for (size_t j = 1; j <= b.size(); ++j) {
      size_t cost = a[i - 1] == b[j - 1] ? 0 : 1;
      d[i][j] = std::min({d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost});
      if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1]) {
        d[i][j] = std::min(d[i][j], d[i - 2][j - 2] + 1);
      }
    }
  }
  return d[a.size()][b.size()];
}

}  // namespace

void Diagnostics::Error(std::string file, SourceLoc loc, std::string message) {
  list_.push_back({Severity::kError, std::move(file), loc, "", std::move(message)});
}

void Diagnostics::Warning(std::string file, SourceLoc loc, std::string message) {
  list_.push_back({Severity::kWarning, std::move(file), loc, "", std::move(message)});
}

void Diagnostics::ErrorAt(std::string file, std::string xml_path, std::string message) {
  list_.push_back({Severity::kError, std::move(file), {}, std::move(xml_path), std::move(message)});
}

bool Diagnostics::HasErrors() const {
  return std::any_of(list_.begin(), list_.end(),
                     [](const Diagnostic& d) { return d.severity == Severity::kError; });
}

std::string Diagnostics::Format(std::string_view source) const {
  std::vector<const Diagnostic*> sorted;
  for (const Diagnostic& d : list_) sorted.push_back(&d);
  std::stable_sort(sorted.begin(), sorted.end(), [](const Diagnostic* a, const Diagnostic* b) {
    return std::tie(a->file, a->loc.line, a->loc.column) <
           std::tie(b->file, b->loc.line, b->loc.column);
  });

  // A phase may reach one construct more than once (a chain inlined into several others):
  // each diagnostic is shown once.
  std::set<std::tuple<Severity, std::string, int, int, std::string, std::string>> seen;
  std::erase_if(sorted, [&](const Diagnostic* d) {
    return !seen.emplace(d->severity, d->file, d->loc.line, d->loc.column, d->path, d->message)
                .second;
  });

  std::string out;
  for (const Diagnostic* d : sorted) {
    out += fmt::format("{}: {}: {}\n", Where(*d), SeverityName(d->severity), d->message);
    if (source.empty() || d->loc.line == 0) continue;
    ShownLine line = Shown(SourceLine(source, d->loc.line), d->loc.column);
    out += line.text + "\n";
    if (d->loc.column > 0) out += line.caret + "\n";
  }
  return out;
}

SourceLoc LocAt(std::string_view text, ptrdiff_t offset) {
  SourceLoc loc{1, 1};
  for (ptrdiff_t i = 0; i < offset && i < static_cast<ptrdiff_t>(text.size()); ++i) {
    if (text[i] == '\n') {
      ++loc.line;
      loc.column = 1;
    } else {
      ++loc.column;
    }
  }
  return loc;
}

std::string DidYouMean(std::string_view word, const std::vector<std::string>& candidates) {
  size_t limit = std::max<size_t>(1, word.size() / 3);
  std::string best;
  size_t best_distance = limit + 1;
  for (const std::string& c : candidates) {
    size_t d = EditDistance(word, c);
    if (d < best_distance && c != word) {
      best = c;
      best_distance = d;
    }
  }
  return best;
}

std::string DidYouMeanSuffix(std::string_view word, const std::vector<std::string>& candidates) {
  std::string best = DidYouMean(word, candidates);
  return best.empty() ? "" : fmt::format(" (did you mean '{}'?)", best);
}

}  // namespace bulkhead
