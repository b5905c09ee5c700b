// Helpers every tiny_coro benchmark program shares.
#pragma once

#include <benchmark/benchmark.h>

#include <cstddef>
#include <cstdio>
#include <cstdlib>
#include <cstring>
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

// A benchmark program's main: `mode_flag` on the command line runs `mode` (a measurement that
// is not a Google Benchmark, such as an RSS probe) instead of the registered benchmarks.
inline int main_with_mode(int argc, char** argv, const char* mode_flag, int (*mode)()) {
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], mode_flag) == 0) return mode();
  }
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}

}  // namespace tiny_coro::bench
