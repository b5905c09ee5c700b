// Synchronisation workloads, 2 workers, mirroring bench/asio/sync_asio_bench.cpp:
//   ping_pong         two tasks, 1,000,000 round trips through two rendezvous channels
//   mpmc              4 producers, 4 consumers, 4,000,000 ints through one channel (cap 1024)
//   mutex_contention  1,000 tasks x 1,000 lock/unlock around a shared counter
//   uncontended_lock  one task, 1,000,000 lock/unlock
// One iteration per repetition; the reported figure is the median.
#include <tiny_coro/async_mutex.h>
#include <tiny_coro/channel.h>
#include <tiny_coro/scheduler.h>

#include <benchmark/benchmark.h>

#include "bench_support.h"
#include "ping_pong.h"

#include <cstdio>
#include <cstdlib>
#include <vector>

namespace {

using tiny_coro::AsyncMutex;
using tiny_coro::Channel;
using tiny_coro::JoinHandle;
using tiny_coro::Scheduler;
using tiny_coro::Task;

using tiny_coro::bench::check;
using tiny_coro::bench::kWorkers;
using tiny_coro::bench::per_item;

// --- ping_pong (ping_pong.h) ---
using tiny_coro::bench::ping_pong;

void BM_ping_pong(benchmark::State& state) {
  constexpr int kRounds = 1'000'000;
  Scheduler sched(kWorkers);
  for (auto _ : state) {
    check(sched.block_on(ping_pong(sched, kRounds)) == std::uint64_t{kRounds} * (kRounds - 1) / 2,
          "ping_pong sum");
  }
  per_item(state, "ns_per_round_trip", kRounds);
}

// --- mpmc ---
Task<void> produce(Channel<long>& chan, long from, long to) {
  for (long v = from; v < to; ++v) (void)co_await chan.send(v);
}
Task<long> consume(Channel<long>& chan) {
  long sum = 0;
  while (auto v = co_await chan.recv()) sum += *v;
  co_return sum;
}
Task<long> mpmc(Scheduler& sched, long items) {
  Channel<long> chan(sched, 1024);
  std::vector<JoinHandle<long>> consumers;
  for (int c = 0; c < 4; ++c) consumers.push_back(sched.spawn(consume(chan)));
  std::vector<JoinHandle<void>> producers;
  for (int p = 0; p < 4; ++p)
    producers.push_back(sched.spawn(produce(chan, p * items / 4, (p + 1) * items / 4)));
  for (auto& p : producers) co_await std::move(p);
  chan.close();
  long sum = 0;
  for (auto& c : consumers) sum += co_await std::move(c);
  co_return sum;
}
void BM_mpmc(benchmark::State& state) {
  constexpr long kItems = 4'000'000;
  Scheduler sched(kWorkers);
  for (auto _ : state) {
    const long sum = sched.block_on(mpmc(sched, kItems));
    check(sum == kItems * (kItems - 1) / 2, "mpmc sum");
  }
  per_item(state, "ns_per_item", kItems);
}

// --- mutex ---
Task<void> lock_many(AsyncMutex& mutex, long& counter, int times) {
  for (int i = 0; i < times; ++i) {
    auto guard = co_await mutex.lock();
    ++counter;
  }
}
Task<void> contend(Scheduler& sched, AsyncMutex& mutex, long& counter, int tasks, int times) {
  std::vector<JoinHandle<void>> handles;
  for (int t = 0; t < tasks; ++t) handles.push_back(sched.spawn(lock_many(mutex, counter, times)));
  for (auto& h : handles) co_await std::move(h);
}
void BM_mutex_contention(benchmark::State& state) {
  constexpr int kTasks = 1000;
  constexpr int kTimes = 1000;
  Scheduler sched(kWorkers);
  AsyncMutex mutex(sched);
  for (auto _ : state) {
    long counter = 0;
    sched.block_on(contend(sched, mutex, counter, kTasks, kTimes));
    check(counter == long{kTasks} * kTimes, "mutex counter");
  }
  per_item(state, "ns_per_lock", double(kTasks) * kTimes);
}
void BM_uncontended_lock(benchmark::State& state) {
  constexpr int kTimes = 1'000'000;
  Scheduler sched(kWorkers);
  AsyncMutex mutex(sched);
  for (auto _ : state) {
    long counter = 0;
    sched.block_on(lock_many(mutex, counter, kTimes));
    check(counter == kTimes, "uncontended counter");
  }
  per_item(state, "ns_per_lock", kTimes);
}

#define SYNC_BENCH(fn, name)          \
  BENCHMARK(fn)                       \
      ->Name(name)                    \
      ->Unit(benchmark::kMillisecond) \
      ->UseRealTime()                 \
      ->Iterations(1)                 \
      ->Repetitions(7)                \
      ->ReportAggregatesOnly(true)
SYNC_BENCH(BM_ping_pong, "ping_pong");
SYNC_BENCH(BM_mpmc, "mpmc");
SYNC_BENCH(BM_mutex_contention, "mutex_contention");
SYNC_BENCH(BM_uncontended_lock, "uncontended_lock");

}  // namespace

BENCHMARK_MAIN();
