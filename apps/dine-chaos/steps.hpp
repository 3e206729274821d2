#pragma once

// Parsing of `at TIME ACTION ...` lines (docs/chaos.md, "at").

#include <string>
#include <vector>

#include "scenario.hpp"

namespace dine::chaos {

/// Parses the words of an `at` line (`w[0] == "at"`) from line `line`;
/// `sc` holds what was declared before it. Throws `syntax_error`.
step parse_step(const std::vector<std::string>& w, int line,
                const scenario& sc);

} // namespace dine::chaos
