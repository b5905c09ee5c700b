// StealQueue throughput: the owner's push+pop pair (the hot path of every local spawn), and
// steals by one thief while the owner keeps the queue stocked.
#include <tiny_coro/steal_queue.h>

#include <benchmark/benchmark.h>

#include <atomic>
#include <cstdint>
#include <thread>

namespace {

using tiny_coro::StealQueue;
using tiny_coro::StealStatus;

void BM_push_pop(benchmark::State& state) {
  StealQueue<std::uintptr_t> queue;
  std::uintptr_t sum = 0;
  for (auto _ : state) {
    queue.push(1);
    sum += *queue.pop();
  }
  benchmark::DoNotOptimize(sum);
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_push_pop)->Name("push_pop")->Repetitions(5)->ReportAggregatesOnly(true);

void BM_push_batch_then_pop(benchmark::State& state) {
  StealQueue<std::uintptr_t> queue;
  std::uintptr_t sum = 0;
  for (auto _ : state) {
    for (std::uintptr_t i = 0; i < 128; ++i) queue.push(i);
    while (auto item = queue.pop()) sum += *item;
  }
  benchmark::DoNotOptimize(sum);
  state.SetItemsProcessed(state.iterations() * 128);
}
BENCHMARK(BM_push_batch_then_pop)
    ->Name("push_128_then_pop_128")
    ->Repetitions(5)
    ->ReportAggregatesOnly(true);

// One thief steals 1,000,000 items that the owner pushes; items per second of stealing.
void BM_steal(benchmark::State& state) {
  constexpr std::uintptr_t kItems = 1'000'000;
  for (auto _ : state) {
    StealQueue<std::uintptr_t> queue;
    std::atomic<bool> done{false};
    std::uintptr_t stolen_sum = 0;
    std::thread thief([&] {
      std::uintptr_t taken = 0;
      while (taken < kItems) {
        auto stolen = queue.steal();
        if (stolen.status == StealStatus::kSuccess) {
          stolen_sum += stolen.value;
          ++taken;
        }
      }
      done.store(true, std::memory_order_release);
    });
    for (std::uintptr_t i = 0; i < kItems; ++i) queue.push(i);
    thief.join();
    benchmark::DoNotOptimize(stolen_sum);
  }
  state.SetItemsProcessed(state.iterations() * kItems);
}
BENCHMARK(BM_steal)
    ->Name("steal_one_thief")
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime()
    ->Iterations(1)
    ->Repetitions(5)
    ->ReportAggregatesOnly(true);

}  // namespace

BENCHMARK_MAIN();
