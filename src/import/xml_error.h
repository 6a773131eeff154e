// SPDX-License-Identifier: Apache-2.0
// What every XML reader shares: element names without namespaces, and the one way a file that
// does not parse is reported, with the position pugixml stopped at and the path of the element
// it was in, so that a file cut short names where.
#pragma once

#include <pugixml.hpp>
#include <string>
#include <string_view>

#include "spec/diagnostics.h"

namespace bulkhead {

// An element's name without its namespace prefix: VirtualBox files written with the old
// innotek namespace and the current one read alike.
std::string_view XmlLocalName(pugi::xml_node n);

// Adds an error for `file` whose `text` failed to parse into `doc` with `result`:
//   config.xml:116:12: error: malformed XML (start-end tags mismatch) in 'pfsense/filter/rule'
// The path is of the last element the parser opened, namespace prefixes left out.
void MalformedXml(const std::string& file, const std::string& text,
                  const pugi::xml_document& doc, const pugi::xml_parse_result& result,
                  Diagnostics& diags);

}  // namespace bulkhead
