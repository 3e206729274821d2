#pragma once

// The synthetic backends every node knows (docs/models.md): `echo` returns
// its inputs; `cost` burns CPU and `sleep` waits (without a thread) for
// fixed-us + per-item-us * batch size, then both return an FNV-1a hash of
// each item's inputs. An item whose inputs map holds the key `invalid` is
// failed alone with `invalid_input`.

#include <memory>

#include "runtime/model_backend.hpp"

namespace dine {

/// The `echo` backend: outputs = inputs.
std::unique_ptr<model_backend> make_echo_backend();

/// The `cost` backend: CPU time per batch, as a model on the CPU.
std::unique_ptr<model_backend> make_cost_backend(const model_config& cfg);

/// The `sleep` backend: the latency of `cost` without the CPU, as a
/// simulated accelerator (delay()).
std::unique_ptr<model_backend> make_sleep_backend(const model_config& cfg);

} // namespace dine
