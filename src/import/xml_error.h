// SPDX-License-Identifier: Apache-2.0
// What every XML reader shares: element names without namespaces, and the one way a file that
// does not parse is reported, with the position pugixml stopped at and the path of the elements
// open there, so that a file cut short names what it leaves open.
#pragma once

#include <pugixml.hpp>
#include <string>
#include <string_view>

#include "spec/diagnostics.h"

namespace bulkhead {

// An element's name without its namespace prefix: VirtualBox files written with the old
// innotek namespace and the current one read alike.
std::string_view XmlLocalName(pugi::xml_node n);

// Adds an error for `file` whose `text` failed to parse with `result`, at the position pugixml
// stopped and naming the elements open there, namespace prefixes left out:
//   config.xml:116:12: error: malformed XML (start-end tags mismatch) in 'pfsense/filter/rule'
// A file cut short says so instead, with what it leaves open:
//   config.xml:116:12: error: the file ends before 'pfsense/dhcpd/lan' is closed
// ("unexpected end of file" when nothing was open yet).
void MalformedXml(const std::string& file, std::string_view text,
                  const pugi::xml_parse_result& result, Diagnostics& diags);

}  // namespace bulkhead
