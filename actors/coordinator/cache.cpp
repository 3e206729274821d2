#include "actors/coordinator/cache.hpp"

#include <caf/actor_cast.hpp>
#include <caf/all.hpp>

#include <exception>
#include <tuple>
#include <utility>

#include "messages/errc.hpp"

namespace dine {

namespace {

using self_pointer = cache_state::self_pointer;

/// Runs `f`; an exception becomes a counted error and `fallback`.
template <class F, class T>
T guarded(self_pointer self, F f, T fallback) {
  try {
    return f();
  } catch (const std::exception& ex) {
    ++self->state.engine->counters().errors;
    caf::aout(self) << "cache: exception in handler: " << ex.what()
                    << std::endl;
  } catch (...) {
    ++self->state.engine->counters().errors;
  }
  return fallback;
}

/// The engine's clock, timer and log output on `self`.
tiered_cache_host make_host(self_pointer self) {
  tiered_cache_host host;
  host.now = [self] { return self->clock().now(); };
  host.wake_after = [self](std::chrono::microseconds delay) {
    if (delay.count() <= 0)
      self->send(self, tick_atom::value);
    else
      self->delayed_send(self, delay, tick_atom::value);
  };
  host.print = [self](const std::string& line) {
    caf::aout(self) << line << std::endl;
  };
  return host;
}

} // namespace

cache_actor::behavior_type cache(self_pointer self, cache_options opts) {
  // A safety net: the handlers catch everything themselves.
  self->set_exception_handler([](caf::scheduled_actor*, std::exception_ptr&) {
    return make_error(errc::internal, "cache: unexpected exception");
  });
  self->state.engine.emplace(std::move(opts), make_host(self));
  return {
      [=](const cache_lookup& req) {
        auto& eng = *self->state.engine;
        cache_hits result;
        result.tag = req.tag;
        guarded(
            self,
            [&] {
              auto n = req.keys.size();
              result.found.assign(n, 0);
              result.values.resize(n);
              for (size_t i = 0; i < n; ++i)
                result.found[i] =
                    eng.fetch(req.keys[i], result.values[i]) ? 1 : 0;
              return true;
            },
            false);
        return result;
      },
      [=](std::vector<cache_entry>& xs) {
        auto& eng = *self->state.engine;
        guarded(
            self,
            [&] {
              for (auto& x : xs)
                eng.store(x);
              if (eng.write_through())
                eng.flush();
              return true;
            },
            false);
      },
      [=](sync_atom, std::vector<cache_entry>& xs) {
        // Commits now whatever this cache's own flush interval: the
        // requester answers its clients only after this reply.
        auto& eng = *self->state.engine;
        return guarded(
            self,
            [&] {
              for (auto& x : xs)
                eng.store(x);
              return eng.flush();
            },
            false);
      },
      [=](caf::get_atom, const std::string& key) {
        std::vector<uint8_t> value;
        auto found = guarded(
            self, [&] { return self->state.engine->fetch(key, value); }, false);
        if (!found)
          value.clear();
        return std::make_tuple(found, std::move(value));
      },
      [=](caf::put_atom, cache_entry& x) {
        auto& eng = *self->state.engine;
        return guarded(
            self,
            [&] {
              auto stored = eng.store(x);
              if (eng.write_through())
                eng.flush();
              return stored;
            },
            false);
      },
      [=](caf::delete_atom, const std::string& key) {
        return guarded(
            self, [&] { return self->state.engine->erase(key); }, false);
      },
      [=](exists_atom, const std::string& key) {
        return guarded(
            self, [&] { return self->state.engine->contains(key); }, false);
      },
      [=](stats_atom) {
        auto& eng = *self->state.engine;
        return guarded(
            self, [&] { return eng.snapshot(); }, eng.counters());
      },
      [=](tick_atom) {
        auto& eng = *self->state.engine;
        if (eng.fatal()) {
          self->quit(eng.fatal());
          return;
        }
        guarded(
            self,
            [&] {
              eng.on_tick();
              return true;
            },
            false);
      },
  };
}

cache_actor spawn_cache(caf::actor_system& sys, cache_options opts,
                        bool detached) {
  if (detached)
    return sys.spawn<caf::detached>(cache, std::move(opts));
  return sys.spawn(cache, std::move(opts));
}

supervised_child cache_child(std::string id, cache_options opts,
                             std::chrono::milliseconds shutdown) {
  child_factory start = [opts](caf::local_actor* self) {
    return caf::actor_cast<caf::actor>(self->spawn<caf::detached>(cache, opts));
  };
  return {child_spec{std::move(id), restart_type::permanent, shutdown},
          std::move(start)};
}

} // namespace dine
