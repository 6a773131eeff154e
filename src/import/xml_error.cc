// SPDX-License-Identifier: Apache-2.0
// The elements open where pugixml stopped are found by following the tags before that point:
// the text there parsed, so every tag in it is whole. What pugixml leaves of the tree cannot
// tell them, since it keeps closed elements and open ones alike.

#include "import/xml_error.h"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <vector>

namespace bulkhead {
namespace {

// Where the markup that opens at `at` ends, one past its last character; npos when it does not
// end. A '>' inside a quoted attribute value ends no tag.
size_t MarkupEnd(std::string_view text, size_t at) {
  for (const auto& [open, close] : {std::pair<std::string_view, std::string_view>{"<!--", "-->"},
                                    {"<![CDATA[", "]]>"},
                                    {"<?", "?>"}}) {
    if (text.substr(at).starts_with(open)) {
      size_t end = text.find(close, at + open.size());
      return end == std::string_view::npos ? end : end + close.size();
    }
  }
  char quote = 0;
  for (size_t i = at + 1; i < text.size(); ++i) {
    if (quote) {
      if (text[i] == quote) quote = 0;
    } else if (text[i] == '"' || text[i] == '\'') {
      quote = text[i];
    } else if (text[i] == '>') {
      return i + 1;
    }
  }
  return std::string_view::npos;
}

std::string_view LocalName(std::string_view name) {
  size_t colon = name.find(':');
  return colon == std::string_view::npos ? name : name.substr(colon + 1);
}

// "pfsense/filter/rule": the elements whose start tag ends before `offset` and whose end tag
// does not, outermost first, namespace prefixes left out.
std::string OpenPathAt(std::string_view text, size_t offset) {
  std::vector<std::string_view> open;
  for (size_t at = text.find('<'); at < offset; at = text.find('<', at)) {
    size_t end = MarkupEnd(text, at);
    if (end == std::string_view::npos || end > offset) break;
    std::string_view tag = text.substr(at + 1, end - at - 2);
    at = end;
    if (tag.empty() || tag[0] == '!' || tag[0] == '?') continue;  // opens no element
    bool closing = tag[0] == '/';
    std::string_view name = tag.substr(closing ? 1 : 0);
    name = name.substr(0, name.find_first_of(" \t\r\n/"));
    if (closing && !open.empty()) open.pop_back();
    if (!closing && !tag.ends_with('/')) open.push_back(LocalName(name));
  }
  std::string path;
  for (std::string_view name : open) {
    if (!path.empty()) path += '/';
    path += name;
  }
  return path;
}

// Whether pugixml stopped because the text ended: at its last character, where it stops when it
// runs out, or where no markup ends after.
bool EndsTooSoon(std::string_view text, size_t offset, const pugi::xml_parse_result& result) {
  if (result.status == pugi::status_no_document_element) return false;
  return offset + 1 >= text.size() || text.find('>', offset) == std::string_view::npos;
}

}  // namespace

std::string_view XmlLocalName(pugi::xml_node n) { return LocalName(n.name()); }

void MalformedXml(const std::string& file, std::string_view text,
                  const pugi::xml_parse_result& result, Diagnostics& diags) {
  size_t offset = static_cast<size_t>(std::max<ptrdiff_t>(result.offset, 0));
  bool ended = EndsTooSoon(text, offset, result);
  // pugixml stops at the file's last character when it runs out: the tag that ends there is
  // whole, whereas one that it stops inside elsewhere is where the file is wrong.
  std::string where = OpenPathAt(text, ended ? text.size() : offset);
  std::string message;
  if (ended) {
    message = where.empty() ? "unexpected end of file"
                            : fmt::format("the file ends before '{}' is closed", where);
  } else {
    std::string why = result.description();
    for (char& c : why) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    message = where.empty() ? fmt::format("malformed XML ({})", why)
                            : fmt::format("malformed XML ({}) in '{}'", why, where);
  }
  diags.Error(file, LocAt(text, result.offset), std::move(message));
}

}  // namespace bulkhead
