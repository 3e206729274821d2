#pragma once

// A scratch directory for tests that need real files (LMDB, caches).

#include <doctest/doctest.h>

#include <cstdlib>
#include <filesystem>
#include <string>

namespace dine::test {

/// A fresh directory under /tmp, removed with its contents at scope exit.
struct temp_dir {
  std::string path;

  temp_dir() {
    char tmpl[] = "/tmp/dine-test-XXXXXX";
    auto p = mkdtemp(tmpl);
    REQUIRE(p != nullptr);
    path = p;
  }

  ~temp_dir() {
    std::error_code ec;
    std::filesystem::remove_all(path, ec);
  }

  temp_dir(const temp_dir&) = delete;
  temp_dir& operator=(const temp_dir&) = delete;

  /// Returns `path/name`.
  std::string sub(const std::string& name) const { return path + "/" + name; }
};

} // namespace dine::test
