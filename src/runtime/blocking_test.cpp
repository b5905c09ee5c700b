// The blocking pool (blocking.h): values and exceptions come back, the pool grows to its
// bound and shrinks when idle, a call is cancellable until it starts, shutdown drains, and a
// blocking call never stalls a worker.
#include <tiny_coro/blocking.h>
#include <tiny_coro/channel.h>
#include <tiny_coro/scheduler.h>

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <latch>
#include <memory>
#include <random>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "runtime/blocking_pool.h"
#include "runtime/scheduler_core.h"
#include "support/scale.h"
#include "support/wait_for.h"

namespace tiny_coro {
namespace {

using namespace std::chrono_literals;

// A gate a blocking call waits at, opened by the test: "still running" is then a state the
// test controls, not a guess about timing.
struct Gate {
  std::atomic<bool> open{false};
  void wait() const {
    while (!open.load()) std::this_thread::sleep_for(1ms);
  }
};

template <class T>
T join(JoinHandle<T> handle) {
  handle.wait_blocking();
  return handle.take_result();
}

TEST(Blocking, SpawnBlockingDeliversValueVoidAndException) {
  Scheduler sched(2);
  EXPECT_EQ(join(sched.spawn_blocking([] { return 41 + 1; })), 42);
  std::atomic<bool> ran{false};
  join(sched.spawn_blocking([&] { ran = true; }));
  EXPECT_TRUE(ran);
  EXPECT_THROW(join(sched.spawn_blocking([]() -> int { throw std::runtime_error("disk"); })),
               std::runtime_error);
  // Move-only values and callables.
  auto owned = std::make_unique<int>(7);
  auto result =
      join(sched.spawn_blocking([owned = std::move(owned)]() mutable { return std::move(owned); }));
  ASSERT_NE(result, nullptr);
  EXPECT_EQ(*result, 7);
}

Task<std::string> fill_locals(Scheduler& sched) {
  std::string text = "from";
  // The call may refer to the awaiting frame's locals: they outlive it.
  const std::size_t length = co_await run_blocking(sched, [&] {
    text += " the pool";
    return text.size();
  });
  EXPECT_EQ(length, text.size());
  co_return text;
}

TEST(Blocking, RunBlockingRunsOffTheWorkersAndSeesLocals) {
  Scheduler sched(1);
  EXPECT_EQ(sched.block_on(fill_locals(sched)), "from the pool");
  const auto worker_id =
      sched.block_on([]() -> Task<std::thread::id> { co_return std::this_thread::get_id(); }());
  const auto pool_id = join(sched.spawn_blocking([] { return std::this_thread::get_id(); }));
  EXPECT_NE(worker_id, pool_id);
}

// The pool grows to as many threads as calls that wait for each other need, then shrinks
// back to none once they have been idle for keep_alive.
TEST(Blocking, GrowsOnDemandAndShrinksWhenIdle) {
  Scheduler sched(2);
  sched.set_blocking_pool_options({.max_threads = 64, .keep_alive = 50ms});
  constexpr int kCalls = 8;
  std::latch all_running(kCalls);
  std::vector<JoinHandle<int>> handles;
  for (int i = 0; i < kCalls; ++i) {
    // Each waits until every one runs: they can only finish on eight threads at once.
    handles.push_back(sched.spawn_blocking([&all_running, i] {
      all_running.arrive_and_wait();
      return i;
    }));
  }
  int sum = 0;
  for (auto& handle : handles) sum += join(std::move(handle));
  EXPECT_EQ(sum, kCalls * (kCalls - 1) / 2);
  EXPECT_GE(sched.metrics().blocking.threads_started, static_cast<std::uint64_t>(kCalls));
  // keep_alive is a timer: the generous bound of wait_for covers it.
  EXPECT_TRUE(test::wait_for([&] { return sched.metrics().blocking.threads == 0; }, 10s));
  EXPECT_EQ(sched.metrics().blocking.calls_run, static_cast<std::uint64_t>(kCalls));
}

// Never more threads than max_threads: the rest queue, in order, and all run.
TEST(Blocking, BoundedByMaxThreads) {
  Scheduler sched(2);
  sched.set_blocking_pool_options({.max_threads = 2, .keep_alive = 10'000ms});
  std::atomic<int> running{0};
  std::atomic<int> most{0};
  std::vector<JoinHandle<void>> handles;
  for (int i = 0; i < 20; ++i) {
    handles.push_back(sched.spawn_blocking([&] {
      const int now = ++running;
      int seen = most.load();
      while (now > seen && !most.compare_exchange_weak(seen, now)) {
      }
      std::this_thread::sleep_for(2ms);
      --running;
    }));
  }
  for (auto& handle : handles) join(std::move(handle));
  EXPECT_LE(most.load(), 2);
  EXPECT_LE(sched.metrics().blocking.threads_started, 2u);
}

// A queued call that is cancelled never runs, and its awaiter hears TaskCancelled at once.
TEST(Blocking, CancelledBeforeItStartsNeverRuns) {
  Scheduler sched(2);
  sched.set_blocking_pool_options({.max_threads = 1, .keep_alive = 10'000ms});
  Gate gate;
  std::atomic<bool> first_started{false};
  auto first = sched.spawn_blocking([&] {
    first_started = true;
    gate.wait();
    return 1;
  });
  ASSERT_TRUE(test::wait_for([&] { return first_started.load(); }));
  std::atomic<bool> second_ran{false};
  auto second = sched.spawn_blocking([&] {
    second_ran = true;
    return 2;
  });
  ASSERT_TRUE(test::wait_for([&] { return sched.metrics().blocking.queued == 1; }));
  second.cancel();
  EXPECT_THROW(join(std::move(second)), TaskCancelled);  // while the only thread is busy
  EXPECT_EQ(sched.metrics().blocking.queued, 0u);
  gate.open = true;
  EXPECT_EQ(join(std::move(first)), 1);
  EXPECT_FALSE(second_ran);
}

// Once started, a blocking call cannot be interrupted: cancelling it changes nothing about
// its outcome, which is delivered.
TEST(Blocking, CancelledWhileRunningDeliversTheOutcome) {
  Scheduler sched(2);
  Gate gate;
  std::atomic<bool> started{false};
  auto handle = sched.spawn_blocking([&] {
    started = true;
    gate.wait();
    return 5;
  });
  ASSERT_TRUE(test::wait_for([&] { return started.load(); }));
  handle.cancel();
  gate.open = true;
  EXPECT_EQ(join(std::move(handle)), 5);
}

// A detachable call lets its task go while it runs: the task hears TaskCancelled at once,
// and the call ends later on its own, its outcome dropped and its state freed (ASan would
// report a leak, TSan a race with the frame that has gone).
TEST(Blocking, DetachableCallLetsACancelledTaskGoWhileItRuns) {
  auto gate = std::make_shared<Gate>();
  auto started = std::make_shared<std::atomic<bool>>(false);
  {
    Scheduler sched(2);
    auto task = sched.spawn([](Scheduler& s, std::shared_ptr<Gate> g,
                               std::shared_ptr<std::atomic<bool>> began) -> Task<int> {
      const auto value = co_await run_blocking_detachable(s, [g, began] {
        *began = true;
        g->wait();
        return std::make_unique<int>(9);  // owned memory: dropped, not leaked
      });
      co_return *value;
    }(sched, gate, started));
    ASSERT_TRUE(test::wait_for([&] { return started->load(); }));
    task.cancel();
    task.wait_blocking();
    EXPECT_THROW(task.take_result(), TaskCancelled);  // while the call still waits at its gate
    EXPECT_FALSE(gate->open.load());
    gate->open = true;  // shutdown waits for the call; its state is freed by the pool
  }
}

// Cancellation racing the pool, many times: every call either ran and its value arrived,
// or never ran and its awaiter heard TaskCancelled. Nothing lost, nothing twice.
TEST(Blocking, CancelRacingStartIsExact) {
  Scheduler sched(2);
  constexpr std::size_t kThreads = 3;
  sched.set_blocking_pool_options({.max_threads = kThreads, .keep_alive = 10'000ms});
  // The pool's threads are held until half the cancels are made, so that some cancels
  // certainly find their call queued; the rest race the threads that run the calls.
  Gate gate;
  std::atomic<std::size_t> holding{0};
  std::vector<JoinHandle<void>> holders;
  for (std::size_t i = 0; i < kThreads; ++i) {
    holders.push_back(sched.spawn_blocking([&] {
      holding.fetch_add(1);
      gate.wait();
    }));
  }
  ASSERT_TRUE(test::wait_for([&] { return holding.load() == kThreads; }));
  const int calls = static_cast<int>(test::scaled(4000, 4));
  std::vector<std::atomic<int>> ran(static_cast<std::size_t>(calls));
  std::vector<JoinHandle<int>> handles;
  handles.reserve(static_cast<std::size_t>(calls));
  for (int i = 0; i < calls; ++i) {
    handles.push_back(sched.spawn_blocking([&ran, i] {
      ran[static_cast<std::size_t>(i)].fetch_add(1);
      return i;
    }));
  }
  std::mt19937 random(12345);
  for (int i = 0; i < calls; ++i) {
    if (i == calls / 2) gate.open = true;
    if (random() % 2 == 0) handles[static_cast<std::size_t>(i)].cancel();
  }
  for (auto& holder : holders) join(std::move(holder));
  int delivered = 0;
  int cancelled = 0;
  for (int i = 0; i < calls; ++i) {
    const auto index = static_cast<std::size_t>(i);
    try {
      EXPECT_EQ(join(std::move(handles[index])), i);
      EXPECT_EQ(ran[index].load(), 1) << i;
      ++delivered;
    } catch (const TaskCancelled&) {
      EXPECT_EQ(ran[index].load(), 0) << i;
      ++cancelled;
    }
  }
  EXPECT_EQ(delivered + cancelled, calls);
  EXPECT_GT(cancelled, 0);
}

// A worker with nothing to do keeps looking for as long as a short call usually takes,
// instead of sleeping, but only while a call runs and only if calls lately were short.
TEST(Blocking, AShortCallIsWaitedForOnlyWhileOneRuns) {
  Scheduler sched(2);
  auto& pool = static_cast<detail::SchedulerCore&>(detail::executor_of(sched)).blocking_pool();
  pool.note_call_took(200'000);
  EXPECT_EQ(pool.short_call_wait(), 0ns);  // no call runs
  Gate gate;
  std::atomic<bool> started{false};
  auto running = sched.spawn_blocking([&] {
    started = true;
    gate.wait();
  });
  ASSERT_TRUE(test::wait_for([&] { return started.load(); }));
  EXPECT_EQ(pool.short_call_wait(), 300us);  // half again the typical call
  for (int i = 0; i < 64; ++i) pool.note_call_took(10'000'000);
  EXPECT_EQ(pool.short_call_wait(), 0ns);  // calls lately took 10 ms: not worth a wait
  gate.open = true;
  join(std::move(running));
}

// Shutdown waits for the call that is running and drops the queued one, whose handle
// reports TaskCancelled.
TEST(Blocking, ShutdownDrainsRunningAndDropsQueued) {
  Scheduler sched(2);
  sched.set_blocking_pool_options({.max_threads = 1, .keep_alive = 10'000ms});
  Gate gate;
  std::atomic<bool> started{false};
  std::atomic<bool> finished{false};
  auto running = sched.spawn_blocking([&] {
    started = true;
    gate.wait();
    finished = true;
    return 1;
  });
  ASSERT_TRUE(test::wait_for([&] { return started.load(); }));
  std::atomic<bool> queued_ran{false};
  auto queued = sched.spawn_blocking([&] { queued_ran = true; });
  ASSERT_TRUE(test::wait_for([&] { return sched.metrics().blocking.queued == 1; }));
  std::thread opener([&] {
    // Shutdown has begun once it dropped the queued call; it then waits for the running one.
    (void)test::wait_for([&] { return sched.metrics().blocking.queued == 0; });
    gate.open = true;
  });
  sched.shutdown();
  EXPECT_TRUE(finished);  // shutdown returned only after the running call ended
  opener.join();
  EXPECT_FALSE(queued_ran);
  EXPECT_THROW(join(std::move(queued)), TaskCancelled);
  EXPECT_THROW(join(std::move(running)), TaskCancelled);  // its task was not resumed
  EXPECT_EQ(sched.metrics().blocking.threads, 0u);
  // After shutdown: nothing runs, the handle says so.
  std::atomic<bool> late_ran{false};
  EXPECT_THROW(join(sched.spawn_blocking([&] { late_ran = true; })), TaskCancelled);
  EXPECT_FALSE(late_ran);
}

// The ping-pong: two tasks passing a counter through two channels, `round_trips` times.
Task<std::uint64_t> ping_pong(Scheduler& sched, std::uint64_t round_trips) {
  Channel<std::uint64_t> to_b(sched, 1);
  Channel<std::uint64_t> to_a(sched, 1);
  auto b = sched.spawn([](Channel<std::uint64_t>& in, Channel<std::uint64_t>& out) -> Task<void> {
    while (auto value = co_await in.recv()) co_await out.send(*value + 1);
    out.close();
  }(to_b, to_a));
  std::uint64_t sum = 0;
  for (std::uint64_t i = 0; i < round_trips; ++i) {
    co_await to_b.send(i);
    const auto back = co_await to_a.recv();
    sum += back.value_or(0);
  }
  to_b.close();
  co_await std::move(b);
  co_return sum;
}

// A worker is never blocked by a blocking call: with 2 workers, 100 tasks each in a
// spawn_blocking call that is held (all 100 at once on the pool), the workers still run
// everything else — a ping-pong of 10,000 round trips completes before any call is let go.
// (The rate beside sleeping calls, against alone, is bench/blocking_bench's last two rows.)
TEST(Blocking, WorkersAreNeverBlocked) {
  Scheduler sched(2);
  constexpr int kCalls = 100;
  std::latch all_held(kCalls);
  std::latch release(1);
  std::vector<JoinHandle<void>> callers;
  for (int i = 0; i < kCalls; ++i) {
    callers.push_back(sched.spawn([](Scheduler& s, std::latch& held, std::latch& go) -> Task<void> {
      co_await s.spawn_blocking([&held, &go] {
        held.count_down();
        go.wait();
      });
    }(sched, all_held, release)));
  }
  all_held.wait();  // every call is running on the pool, none can return
  constexpr std::uint64_t kRoundTrips = 10'000;
  EXPECT_EQ(sched.block_on(ping_pong(sched, kRoundTrips)), kRoundTrips * (kRoundTrips + 1) / 2);
  release.count_down();
  for (auto& caller : callers) join(std::move(caller));
  EXPECT_GE(sched.metrics().blocking.threads_started, static_cast<std::uint64_t>(kCalls));
}

}  // namespace
}  // namespace tiny_coro
