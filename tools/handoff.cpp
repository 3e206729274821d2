// What one hand-off between two threads costs on this machine
// (docs/benchmarks.md): two threads pass a turn back and forth through a
// mutex and a condition variable, so every hand-off puts one thread to sleep
// and wakes the other. Prints wall time and CPU time (both threads, user +
// system) per hand-off. Not part of the build:
//   g++ -O2 -pthread tools/handoff.cpp -o /tmp/handoff
//   /tmp/handoff [round trips=200000] [same|split|any]
// `same` pins both threads to CPU 0, `split` one to CPU 0 and one to CPU 1,
// `any` (the default) leaves the placement to the kernel.

#include <pthread.h>
#include <sched.h>
#include <sys/resource.h>

#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <thread>

namespace {

double cpu_us() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  auto us = [](const timeval& t) { return t.tv_sec * 1e6 + t.tv_usec; };
  return us(u.ru_utime) + us(u.ru_stime);
}

void pin(int cpu) {
  cpu_set_t set;
  CPU_ZERO(&set);
  CPU_SET(cpu, &set);
  pthread_setaffinity_np(pthread_self(), sizeof(set), &set);
}

} // namespace

int main(int argc, char** argv) {
  long n = argc > 1 ? std::atol(argv[1]) : 200000;
  const char* mode = argc > 2 ? argv[2] : "any";
  bool same = std::strcmp(mode, "same") == 0;
  bool split = std::strcmp(mode, "split") == 0;
  if (n <= 0 || !(same || split || std::strcmp(mode, "any") == 0)) {
    std::fprintf(stderr, "usage: handoff [round trips > 0] [same|split|any]\n");
    return 2;
  }
  if (same || split)
    pin(0);
  std::mutex mtx;
  std::condition_variable cv;
  int turn = 0;
  auto c0 = cpu_us();
  auto t0 = std::chrono::steady_clock::now();
  std::thread other{[&] {
    if (same || split)
      pin(split ? 1 : 0);
    for (long i = 0; i < n; ++i) {
      std::unique_lock<std::mutex> guard{mtx};
      cv.wait(guard, [&] { return turn == 1; });
      turn = 0;
      cv.notify_one();
    }
  }};
  for (long i = 0; i < n; ++i) {
    std::unique_lock<std::mutex> guard{mtx};
    turn = 1;
    cv.notify_one();
    cv.wait(guard, [&] { return turn == 0; });
  }
  other.join();
  auto wall = std::chrono::duration<double, std::micro>(
                  std::chrono::steady_clock::now() - t0)
                  .count();
  auto handoffs = 2.0 * static_cast<double>(n);
  std::printf("%s: %.0f hand-offs: %.2f us wall and %.2f us CPU each\n", mode,
              handoffs, wall / handoffs, (cpu_us() - c0) / handoffs);
  return 0;
}
