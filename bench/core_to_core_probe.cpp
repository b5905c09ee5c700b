// Measures the round trip of one cache line between two threads (two cores on this machine).
// The runtime benchmarks are dominated by such transfers, and on a virtual machine their cost
// depends on where the host places the virtual CPUs at the moment — seen here: ~90 ns in one
// placement, ~430 ns in another. bench/run_runtime.sh prints this next to its results so a
// reader knows which placement a run had.
#include <atomic>
#include <chrono>
#include <cstdio>
#include <thread>

int main() {
  constexpr int kRoundTrips = 1'000'000;
  alignas(128) std::atomic<int> turn{0};
  const auto start = std::chrono::steady_clock::now();
  std::thread other([&] {
    for (int i = 0; i < kRoundTrips; ++i) {
      while (turn.load(std::memory_order_acquire) != 1) {
      }
      turn.store(0, std::memory_order_release);
    }
  });
  for (int i = 0; i < kRoundTrips; ++i) {
    turn.store(1, std::memory_order_release);
    while (turn.load(std::memory_order_acquire) != 0) {
    }
  }
  other.join();
  const std::chrono::duration<double, std::nano> elapsed = std::chrono::steady_clock::now() - start;
  std::printf("core_to_core_round_trip_ns %.0f\n", elapsed.count() / kRoundTrips);
  return 0;
}
