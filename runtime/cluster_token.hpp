#pragma once

// cluster_token: whether a joining worker may register (docs/security.md,
// "Joins"). The coordinator compares the token a worker presents with its
// own in constant time, before the router registers the worker.

#include <string>

namespace dine {

/// Compares `a` and `b` in time that depends only on their lengths, never
/// on where they differ.
bool constant_time_equal(const std::string& a, const std::string& b);

/// Whether a worker presenting `given` may join a coordinator configured
/// with `expected`: always if `expected` is empty (no token configured),
/// else only if both are equal (constant-time).
bool join_allowed(const std::string& expected, const std::string& given);

} // namespace dine
