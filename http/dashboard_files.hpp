#pragma once

// The dashboard's files (dashboard/ in the repo), embedded at build time by
// cmake/embed_dashboard.cmake: no file is read at run time.

#include <map>
#include <string>

#include "http/api.hpp"

namespace dine::http {

/// File name -> content; empty when dashboard/ held no files.
std::map<std::string, static_file> dashboard_files();

} // namespace dine::http
