// Helpers every tiny_coro benchmark program shares.
#pragma once

#include <benchmark/benchmark.h>

#include <cstddef>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>

namespace tiny_coro::bench {

// Every workload runs on two workers: the machine this project is measured on has 2 cores.
inline constexpr std::size_t kWorkers = 2;

// A benchmark whose result is wrong measured nothing: stop loudly.
inline void check(bool ok, const char* what) {
  if (!ok) {
    std::fprintf(stderr, "benchmark result wrong: %s\n", what);
    std::abort();
  }
}

// Reports `items` per iteration as a time per item (Google Benchmark inverts the rate).
inline void per_item(benchmark::State& state, const char* name, double items) {
  state.counters[name] = benchmark::Counter(
      items, benchmark::Counter::kIsIterationInvariantRate | benchmark::Counter::kInvert);
}

// The process's resident memory (VmRSS), in bytes; -1 if /proc says nothing.
inline long resident_bytes() {
  std::ifstream status("/proc/self/status");
  std::string line;
  while (std::getline(status, line)) {
    if (line.rfind("VmRSS:", 0) == 0) return std::atol(line.c_str() + 6) * 1024;
  }
  return -1;
}

}  // namespace tiny_coro::bench
