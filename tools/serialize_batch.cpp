// What CAF's binary serializer costs for one batch (docs/benchmarks.md):
// serializes and deserializes a 32-item `dine::batch` (40-byte inputs) in a
// loop, and the same items as one buffer plus offsets. Not part of the
// build; from the repository root:
//   g++ -O2 -std=c++17 -I. tools/serialize_batch.cpp -lcaf_core -pthread
//   ./a.out

#include <chrono>
#include <cstdio>

#include <caf/all.hpp>
#include <caf/binary_deserializer.hpp>
#include <caf/binary_serializer.hpp>

#include "messages/batch.hpp"

namespace {

/// The items of a batch as one buffer: item i is [ends[i-1], ends[i]).
struct flat_batch {
  uint64_t bid = 0;
  std::string model;
  uint32_t version = 0;
  std::vector<uint64_t> rids;
  std::vector<uint32_t> ends;
  std::vector<uint8_t> bytes;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, flat_batch& x) {
  return f(caf::meta::type_name("flat_batch"), x.bid, x.model, x.version,
           x.rids, x.ends, x.bytes);
}

template <class T>
void run(caf::actor_system& sys, const char* name, T value, int rounds) {
  using clock = std::chrono::steady_clock;
  std::vector<char> buf;
  auto t0 = clock::now();
  for (int i = 0; i < rounds; ++i) {
    buf.clear();
    caf::binary_serializer sink{sys, buf};
    if (auto err = sink(value)) {
      std::fprintf(stderr, "serialize failed\n");
      return;
    }
  }
  auto t1 = clock::now();
  for (int i = 0; i < rounds; ++i) {
    T out;
    caf::binary_deserializer source{sys, buf};
    if (auto err = source(out)) {
      std::fprintf(stderr, "deserialize failed\n");
      return;
    }
  }
  auto t2 = clock::now();
  auto us = [&](clock::duration d) {
    return std::chrono::duration<double, std::micro>(d).count() / rounds;
  };
  std::printf("%-22s %5zu bytes: serialize %.2f us, deserialize %.2f us\n",
              name, buf.size(), us(t1 - t0), us(t2 - t1));
}

} // namespace

int main() {
  caf::actor_system_config cfg;
  caf::actor_system sys{cfg};
  dine::batch b;
  b.bid = 1;
  b.model = "echo";
  b.version = 1;
  flat_batch fb;
  fb.bid = 1;
  fb.model = "echo";
  fb.version = 1;
  for (uint64_t i = 0; i < 32; ++i) {
    b.items.push_back(dine::batch_item{i, std::vector<uint8_t>(40, 7)});
    fb.rids.push_back(i);
    fb.bytes.insert(fb.bytes.end(), 40, 7);
    fb.ends.push_back(static_cast<uint32_t>(fb.bytes.size()));
  }
  run(sys, "batch of 32 items", b, 100000);
  run(sys, "one buffer + offsets", fb, 100000);
  return 0;
}
