// SPDX-License-Identifier: Apache-2.0
// What pugixml leaves of a document it could not finish is still a tree: its last open
// element, followed down the last children, is where the parser stopped.

#include "import/xml_error.h"

#include <fmt/format.h>

#include <cctype>

namespace bulkhead {
namespace {

std::string LastOpenPath(const pugi::xml_document& doc) {
  std::string path;
  pugi::xml_node n = doc.last_child();
  while (n) {
    while (n && n.type() != pugi::node_element) n = n.previous_sibling();
    if (!n) break;
    path += (path.empty() ? "" : "/") + std::string(XmlLocalName(n));
    n = n.last_child();
  }
  return path;
}

}  // namespace

std::string_view XmlLocalName(pugi::xml_node n) {
  std::string_view name = n.name();
  size_t colon = name.find(':');
  return colon == std::string_view::npos ? name : name.substr(colon + 1);
}

void MalformedXml(const std::string& file, const std::string& text,
                  const pugi::xml_document& doc, const pugi::xml_parse_result& result,
                  Diagnostics& diags) {
  std::string why = result.description();
  for (char& c : why) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  std::string where = LastOpenPath(doc);
  diags.Error(file, LocAt(text, result.offset),
              where.empty() ? fmt::format("malformed XML ({})", why)
                            : fmt::format("malformed XML ({}) in '{}'", why, where));
}

}  // namespace bulkhead
