// SPDX-License-Identifier: Apache-2.0
// Writing rendered targets to disk all or none: every target goes to a staging folder first,
// and only once all of them are written are they swapped in, so that a failure leaves the
// output folder as it was, with no mix of new and old targets and no staging folder behind.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "render/render.h"

namespace bulkhead {

// A target's name ("pfsense") and its files, as the compilers return them.
using RenderedTarget = std::pair<std::string, Artifacts>;

// Replaces DIR/<target> for every target: each is written into DIR/.<target>.new, then each
// old folder becomes DIR/.<target>.old and the staging folder takes its place; the old
// folders go last. Returns "" or an error text naming the path; on error every target keeps
// its earlier folder and no staging folder remains.
[[nodiscard]] std::string WriteTargets(const std::string& out_dir,
                                       const std::vector<RenderedTarget>& targets);

}  // namespace bulkhead
