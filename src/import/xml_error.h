// SPDX-License-Identifier: Apache-2.0
// The one way every XML reader reports a file that does not parse: the position pugixml
// stopped at, and the path of the element it was in, so that a file cut short names where.
#pragma once

#include <pugixml.hpp>
#include <string>

#include "spec/diagnostics.h"

namespace bulkhead {

// Adds an error for `file` whose `text` failed to parse into `doc` with `result`:
//   config.xml:116:12: error: malformed XML (start-end tags mismatch) in 'pfsense/filter/rule'
// The path is of the last element the parser opened, namespace prefixes left out.
void MalformedXml(const std::string& file, const std::string& text,
                  const pugi::xml_document& doc, const pugi::xml_parse_result& result,
                  Diagnostics& diags);

}  // namespace bulkhead
