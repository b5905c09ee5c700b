// One body, several runtime shapes (1, 2 and 4 workers), as Tokio's rt_common.rs.
#include <tiny_coro/scheduler.h>

#include <gtest/gtest.h>

#include <atomic>
#include <latch>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <thread>
#include <vector>

#include "support/lifetime_probe.h"
#include "support/live_count.h"
#include "support/scale.h"

namespace tiny_coro {
namespace {

class SchedulerShapes : public ::testing::TestWithParam<std::size_t> {};

INSTANTIATE_TEST_SUITE_P(Workers, SchedulerShapes, ::testing::Values(1, 2, 4),
                         [](const auto& param_info) {
                           return std::to_string(param_info.param) + "_workers";
                         });

Task<void> count_once(std::vector<std::atomic<std::uint8_t>>& runs, std::size_t id,
                      std::latch& all_done) {
  runs[id].fetch_add(1, std::memory_order_relaxed);
  all_done.count_down();
  co_return;
}

Task<void> spawn_all(Scheduler& sched, std::vector<std::atomic<std::uint8_t>>& runs,
                     std::latch& all_done) {
  for (std::size_t i = 0; i < runs.size(); ++i) sched.spawn(count_once(runs, i, all_done));
  co_return;
}

TEST_P(SchedulerShapes, AMillionSpawnedTasksEachRunExactlyOnce) {
  const std::size_t count = test::scaled(1'000'000);
  std::vector<std::atomic<std::uint8_t>> runs(count);
  std::latch all_done(static_cast<std::ptrdiff_t>(count));
  Scheduler sched(GetParam());
  sched.spawn(spawn_all(sched, runs, all_done));  // from a worker: local queues, stealing
  all_done.wait();
  sched.shutdown();
  std::size_t wrong = 0;
  for (auto& r : runs) wrong += r.load() != 1;
  EXPECT_EQ(wrong, 0u);
}

TEST_P(SchedulerShapes, TasksSpawnedFromOutsideTheWorkersAllRun) {
  const std::size_t count = test::scaled(100'000);
  std::vector<std::atomic<std::uint8_t>> runs(count);
  std::latch all_done(static_cast<std::ptrdiff_t>(count));
  Scheduler sched(GetParam());
  for (std::size_t i = 0; i < count; ++i) sched.spawn(count_once(runs, i, all_done));
  all_done.wait();
  sched.shutdown();
  std::size_t wrong = 0;
  for (auto& r : runs) wrong += r.load() != 1;
  EXPECT_EQ(wrong, 0u);
}

Task<int> square(int x) { co_return x* x; }

Task<int> throw_after(int x) {
  co_await yield_now();
  throw std::out_of_range("value " + std::to_string(x));
}

Task<long> sum_of_squares(Scheduler& sched, int n) {
  std::vector<JoinHandle<int>> handles;
  for (int i = 1; i <= n; ++i) handles.push_back(sched.spawn(square(i)));
  long sum = 0;
  for (auto& handle : handles) sum += co_await std::move(handle);
  co_return sum;
}

TEST_P(SchedulerShapes, JoinHandlesDeliverValues) {
  Scheduler sched(GetParam());
  EXPECT_EQ(sched.block_on(sum_of_squares(sched, 1000)), 333'833'500L);
}

Task<std::string> join_failure(Scheduler& sched) {
  try {
    co_await sched.spawn(throw_after(7));
  } catch (const std::out_of_range& e) {
    co_return e.what();
  }
  co_return "no exception";
}

TEST_P(SchedulerShapes, JoinHandlesRethrowTheTasksException) {
  Scheduler sched(GetParam());
  EXPECT_EQ(sched.block_on(join_failure(sched)), "value 7");
}

TEST_P(SchedulerShapes, BlockOnRethrowsInMain) {
  Scheduler sched(GetParam());
  EXPECT_THROW(sched.block_on(throw_after(1)), std::out_of_range);
}

Task<void> fail_detached(std::latch& ran) {
  ran.count_down();
  throw std::runtime_error("nobody is listening");
  co_return;
}

TEST_P(SchedulerShapes, ADetachedTasksExceptionIsReportedAndStopsNothing) {
  std::latch ran(1);
  Scheduler sched(GetParam());
  testing::internal::CaptureStderr();
  sched.spawn(fail_detached(ran));
  ran.wait();
  // The scheduler keeps working after the report ...
  EXPECT_EQ(sched.block_on(square(9)), 81);
  sched.shutdown();  // ... and the report is out by the time the task's frame is gone
  const std::string err = testing::internal::GetCapturedStderr();
  EXPECT_NE(err.find("nobody is listening"), std::string::npos) << err;
}

Task<long> nested(long depth) {
  if (depth == 0) co_return 0;
  co_return 1 + co_await nested(depth - 1);
}

TEST_P(SchedulerShapes, AMillionNestedAwaitsRunOnAWorker) {
  if (!test::deep_symmetric_transfer_supported()) {
    GTEST_SKIP() << "this compiler/mode does not emit symmetric transfer as a tail call";
  }
  Scheduler sched(GetParam());
  EXPECT_EQ(sched.block_on(nested(1'000'000)), 1'000'000);
}

Task<void> record_after_yields(std::mutex& m, std::vector<int>& order, int id, int yields) {
  for (int i = 0; i < yields; ++i) co_await yield_now();
  std::lock_guard lock(m);
  order.push_back(id);
}

Task<void> yield_ordering(Scheduler& sched, std::mutex& m, std::vector<int>& order) {
  // All spawned from one worker before any runs; a task that yields more finishes later.
  std::vector<JoinHandle<void>> handles;
  for (int id = 0; id < 3; ++id)
    handles.push_back(sched.spawn(record_after_yields(m, order, id, 3 - id)));
  for (auto& handle : handles) co_await std::move(handle);
}

TEST(Scheduler, YieldNowLetsTheOtherReadyTasksRunFirst) {
  std::mutex m;
  std::vector<int> order;
  Scheduler sched(1);
  sched.block_on(yield_ordering(sched, m, order));
  EXPECT_EQ(order, (std::vector<int>{2, 1, 0}));
}

Task<void> yield_many_times(std::atomic<long>& yields, int n) {
  for (int i = 0; i < n; ++i) {
    co_await yield_now();
    yields.fetch_add(1, std::memory_order_relaxed);
  }
}

Task<void> spawn_yielders(Scheduler& sched, std::atomic<long>& yields, int tasks, int n) {
  std::vector<JoinHandle<void>> handles;
  for (int i = 0; i < tasks; ++i) handles.push_back(sched.spawn(yield_many_times(yields, n)));
  for (auto& handle : handles) co_await std::move(handle);
}

TEST_P(SchedulerShapes, ManyTasksYieldingAllFinish) {
  std::atomic<long> yields{0};
  Scheduler sched(GetParam());
  const int tasks = static_cast<int>(test::scaled(1000));
  sched.block_on(spawn_yielders(sched, yields, tasks, 100));
  EXPECT_EQ(yields.load(), tasks * 100L);
}

TEST(Scheduler, WorkerCountIsWhatWasAskedFor) {
  Scheduler three(3);
  EXPECT_EQ(three.worker_count(), 3u);
  Scheduler by_default;
  EXPECT_EQ(by_default.worker_count(), std::max(1u, std::thread::hardware_concurrency()));
  EXPECT_NE(three.reactor(), nullptr);
}

Task<bool> on_worker(Scheduler& sched) { co_return sched.on_worker_thread(); }

TEST(Scheduler, BlockOnRunsTheTaskOnAWorkerAndRefusesToRunOnOne) {
  Scheduler sched(2);
  EXPECT_FALSE(sched.on_worker_thread());
  EXPECT_TRUE(sched.block_on(on_worker(sched)));
}

Task<void> nested_block_on(Scheduler& sched, bool& threw) {
  try {
    sched.block_on(square(2));
  } catch (const std::logic_error&) {
    threw = true;
  }
  co_return;
}

TEST(Scheduler, BlockOnFromAWorkerThrowsInsteadOfDeadlocking) {
  bool threw = false;
  Scheduler sched(1);
  sched.block_on(nested_block_on(sched, threw));
  EXPECT_TRUE(threw);
}

// skynet in miniature: children's sums come back through join handles.
Task<long> skynet(Scheduler& sched, long num, long size) {
  if (size == 1) co_return num;
  std::vector<JoinHandle<long>> children;
  children.reserve(10);
  const long child_size = size / 10;
  for (long i = 0; i < 10; ++i)
    children.push_back(sched.spawn(skynet(sched, num + i * child_size, child_size)));
  long sum = 0;
  for (auto& child : children) sum += co_await std::move(child);
  co_return sum;
}

TEST_P(SchedulerShapes, SkynetSumsEveryLeafExactlyOnce) {
  Scheduler sched(GetParam());
  const long leaves = test::kSanitized ? 10'000 : 100'000;
  EXPECT_EQ(sched.block_on(skynet(sched, 0, leaves)), leaves * (leaves - 1) / 2);
}

// `live` counts the skynet frames that exist: spawned and not yet joined.
Task<long> counted_skynet(Scheduler& sched, test::LiveCount& live, long num, long size) {
  if (size == 1) co_return num;
  std::vector<JoinHandle<long>> children;
  children.reserve(10);
  const long child_size = size / 10;
  for (long i = 0; i < 10; ++i) {
    live.made();
    children.push_back(sched.spawn(counted_skynet(sched, live, num + i * child_size, child_size)));
  }
  long sum = 0;
  for (auto& child : children) {
    sum += co_await std::move(child);  // the awaiter, holding the last reference, is gone
    live.gone();
  }
  co_return sum;
}

// Each worker walks its part of a fork-join tree depth first: what is pending is at most the
// 10 siblings of each node on the paths the workers are on, not a whole level of the tree.
TEST_P(SchedulerShapes, AForkJoinTreeUnfoldsDepthFirst) {
  Scheduler sched(GetParam());
  const long leaves = test::kSanitized ? 10'000 : 100'000;
  const long depth = test::kSanitized ? 4 : 5;
  test::LiveCount live;
  EXPECT_EQ(sched.block_on(counted_skynet(sched, live, 0, leaves)), leaves * (leaves - 1) / 2);
  EXPECT_EQ(live.now.load(), 0);
  // Per worker: 10 children on each level of its path, and the chains it stole work from.
  const long bound = static_cast<long>(GetParam()) * 10 * (depth + 1) * 4;
  EXPECT_LE(live.peak.load(), bound) << "of " << leaves * 10 / 9 << " tasks";
}

}  // namespace
}  // namespace tiny_coro

namespace tiny_coro {
namespace {

Task<void> nothing() { co_return; }

Task<void> yield_once_then_flag(std::atomic<bool>& flag) {
  co_await yield_now();
  flag.store(true);
}

// Keeps its worker's LIFO slot busy: each child it spawns runs from the slot and resumes it.
Task<long> spawn_until_flag(Scheduler& sched, std::atomic<bool>& flag, long limit) {
  long rounds = 0;
  while (!flag.load() && rounds < limit) {
    co_await sched.spawn(nothing());
    ++rounds;
  }
  co_return rounds;
}

Task<long> starve_attempt(Scheduler& sched, std::atomic<bool>& flag) {
  auto yielder = sched.spawn(yield_once_then_flag(flag));
  const long rounds = co_await sched.spawn(spawn_until_flag(sched, flag, 1'000'000));
  co_await std::move(yielder);
  co_return rounds;
}

TEST(Scheduler, AYieldedTaskRunsEvenWhileAnotherKeepsTheLifoSlotBusy) {
  std::atomic<bool> flag{false};
  Scheduler sched(1);
  const long rounds = sched.block_on(starve_attempt(sched, flag));
  EXPECT_TRUE(flag.load());
  EXPECT_LT(rounds, 1'000'000) << "the yielded task only ran after the spinner gave up";
}

}  // namespace
}  // namespace tiny_coro
