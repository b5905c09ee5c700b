// Job (job.h): fork-join trees whose children write into their parent's slots. Exact results
// and every frame freed for deep and wide trees, a tree that unfolds depth first, a failure
// at a random leaf (through join() and through the implicit join at a Job's end), a tree
// cancelled half-way, a cancelled task that forks nothing, a parent stolen against one taken
// back by its child, shutdown with a tree in flight, the ends of Jobs whose parameters need
// destroying, whose frames are large or whose parameters' copies made other Jobs, and forks
// off the workers.
#include <tiny_coro/cancel.h>
#include <tiny_coro/detail/job_frames.h>
#include <tiny_coro/job.h>
#include <tiny_coro/scheduler.h>
#include <tiny_coro/stop_token.h>

#include <gtest/gtest.h>

#include <array>
#include <atomic>
#include <cstdint>
#include <latch>
#include <random>
#include <stdexcept>
#include <string>
#include <thread>
#include <type_traits>
#include <vector>

#include "support/halfway_stop.h"
#include "support/lifetime_probe.h"
#include "support/live_count.h"
#include "support/scale.h"
#include "support/thread_now.h"
#include "support/wait_for.h"

namespace tiny_coro {
namespace {

using test::HalfwayStop;
using test::LifetimeProbe;
using test::thread_now;

template <class T>
Task<T> run(Job<T> root) {
  co_return co_await std::move(root);
}

// --- skynet: every node forks its ten children into an array, then joins once ---

Job<std::int64_t> skynet(std::int64_t first_leaf, std::int64_t leaves) {
  LifetimeProbe probe;
  if (leaves == 1) co_return first_leaf;
  const std::int64_t per_child = leaves / 10;
  std::array<std::int64_t, 10> sums{};
  for (int i = 0; i < 10; ++i) {
    co_await fork(sums[static_cast<std::size_t>(i)], skynet(first_leaf + i * per_child, per_child));
  }
  co_await tiny_coro::join();
  std::int64_t sum = 0;
  for (const std::int64_t part : sums) sum += part;
  co_return sum;
}

class JobTree : public ::testing::TestWithParam<int> {};

TEST_P(JobTree, SkynetSumsExactlyAndFreesEveryFrame) {
  const long live_before = LifetimeProbe::live();
  const auto leaves = static_cast<std::int64_t>(test::scaled(1'000'000));
  Scheduler sched(static_cast<std::size_t>(GetParam()));
  EXPECT_EQ(sched.block_on(run(skynet(0, leaves))), leaves * (leaves - 1) / 2);
  EXPECT_EQ(LifetimeProbe::live(), live_before);  // every frame freed by the end of the tree
}

// `live` counts the Job bodies that exist at once: each counted in while its body runs
// (a frame's locals live as long as its body; the frame itself goes at the body's end or,
// for a child that ran apart, at its parent's join).
struct LiveGuard {
  explicit LiveGuard(test::LiveCount& count) : live(count) { live.made(); }
  LiveGuard(const LiveGuard&) = delete;
  LiveGuard& operator=(const LiveGuard&) = delete;
  ~LiveGuard() { live.gone(); }
  test::LiveCount& live;
};

Job<std::int64_t> counted_skynet(test::LiveCount& live, std::int64_t first_leaf,
                                 std::int64_t leaves) {
  const LiveGuard guard(live);
  if (leaves == 1) co_return first_leaf;
  const std::int64_t per_child = leaves / 10;
  std::array<std::int64_t, 10> sums{};
  for (int i = 0; i < 10; ++i) {
    co_await fork(sums[static_cast<std::size_t>(i)],
                  counted_skynet(live, first_leaf + i * per_child, per_child));
  }
  co_await tiny_coro::join();
  std::int64_t sum = 0;
  for (const std::int64_t part : sums) sum += part;
  co_return sum;
}

// Depth first: a worker holds the Jobs on its path from the root, and those it stole
// parents from; not a level of the tree.
TEST_P(JobTree, ATreeOfJobsUnfoldsDepthFirst) {
  const std::int64_t leaves = test::kSanitized ? 100'000 : 1'000'000;
  const long depth = test::kSanitized ? 5 : 6;
  Scheduler sched(static_cast<std::size_t>(GetParam()));
  test::LiveCount live;
  EXPECT_EQ(sched.block_on(run(counted_skynet(live, 0, leaves))), leaves * (leaves - 1) / 2);
  EXPECT_EQ(live.now.load(), 0);
  const long bound = static_cast<long>(GetParam()) * 10 * (depth + 1) * 4;
  EXPECT_LE(live.peak.load(), bound) << "of " << leaves * 10 / 9 << " Jobs";
}

// --- fib: fork fib(n-1), call fib(n-2), join; one leaf may throw ---

struct LeafFailure : std::runtime_error {
  using std::runtime_error::runtime_error;
};

struct FibLeaves {
  std::atomic<std::int64_t> visited{0};
  std::int64_t failing = -1;  // the index (in visiting order) of the leaf that throws
  // From this leaf on, each waits until `released` (shutdown's test holds the tree so).
  std::int64_t held_from = -1;
  std::atomic<bool> released{false};
};

Job<std::int64_t> fib(FibLeaves& leaves, int n) {
  LifetimeProbe probe;
  if (n < 2) {
    const std::int64_t index = leaves.visited.fetch_add(1);
    if (index == leaves.failing) throw LeafFailure("leaf " + std::to_string(index));
    if (leaves.held_from >= 0 && index >= leaves.held_from) {
      while (!leaves.released.load()) std::this_thread::yield();
    }
    co_return n;
  }
  std::int64_t first = 0;
  co_await fork(first, fib(leaves, n - 1));
  const std::int64_t second = co_await fib(leaves, n - 2);
  co_await tiny_coro::join();
  co_return first + second;
}

TEST_P(JobTree, Fib25IsExactAndVisitsEveryLeafOnce) {
  const long live_before = LifetimeProbe::live();
  FibLeaves leaves;
  Scheduler sched(static_cast<std::size_t>(GetParam()));
  EXPECT_EQ(sched.block_on(run(fib(leaves, 25))), 75'025);
  EXPECT_EQ(leaves.visited.load(), 121'393);  // fib(26): the calls with n < 2
  EXPECT_EQ(LifetimeProbe::live(), live_before);
}

TEST_P(JobTree, ALeafThatThrowsInFib25ReachesTheRootThroughJoinAndNoFrameLeaks) {
  const long live_before = LifetimeProbe::live();
  const auto seed = std::random_device{}();
  SCOPED_TRACE("seed " + std::to_string(seed));
  std::mt19937_64 random(seed);
  FibLeaves leaves;
  leaves.failing = std::uniform_int_distribution<std::int64_t>(0, 121'392)(random);
  Scheduler sched(static_cast<std::size_t>(GetParam()));
  try {
    (void)sched.block_on(run(fib(leaves, 25)));
    ADD_FAILURE() << "fib(25) returned although a leaf threw";
  } catch (const LeafFailure& failure) {
    EXPECT_EQ(std::string(failure.what()), "leaf " + std::to_string(leaves.failing));
  }
  EXPECT_EQ(leaves.visited.load(), 121'393);      // a failure stops nothing already forked
  EXPECT_EQ(LifetimeProbe::live(), live_before);  // before shutdown: the tree freed itself
}

// --- the implicit join at a Job's end ---

// Forks `children` counters and ends without join(): its caller must see all of them.
Job<void> count_children(std::atomic<int>& count, int depth) {
  LifetimeProbe probe;
  if (depth == 0) {
    count.fetch_add(1);
    co_return;
  }
  for (int i = 0; i < 4; ++i) co_await fork(count_children(count, depth - 1));
}

Task<int> counted_after_the_tree(std::atomic<int>& count) {
  co_await count_children(count, 7);
  co_return count.load();  // every leaf ran before the root ended
}

TEST_P(JobTree, AJobWithoutJoinEndsOnlyAfterItsChildren) {
  const long live_before = LifetimeProbe::live();
  std::atomic<int> count{0};
  Scheduler sched(static_cast<std::size_t>(GetParam()));
  EXPECT_EQ(sched.block_on(counted_after_the_tree(count)), 16'384);  // 4^7
  EXPECT_EQ(LifetimeProbe::live(), live_before);
}

Job<void> throw_at_leaf(std::atomic<int>& count, int failing, int depth) {
  LifetimeProbe probe;
  if (depth == 0) {
    if (count.fetch_add(1) == failing) throw LeafFailure("leaf");
    co_return;
  }
  for (int i = 0; i < 4; ++i) co_await fork(throw_at_leaf(count, failing, depth - 1));
}

TEST_P(JobTree, AFailureReachesTheRootThroughTheImplicitJoin) {
  const long live_before = LifetimeProbe::live();
  const auto seed = std::random_device{}();
  SCOPED_TRACE("seed " + std::to_string(seed));
  std::mt19937_64 random(seed);
  std::atomic<int> count{0};
  const int failing = std::uniform_int_distribution<int>(0, 16'383)(random);
  Scheduler sched(static_cast<std::size_t>(GetParam()));
  EXPECT_THROW(sched.block_on(run(throw_at_leaf(count, failing, 7))), LeafFailure);
  EXPECT_EQ(count.load(), 16'384);
  EXPECT_EQ(LifetimeProbe::live(), live_before);
}

// --- a tree cancelled half-way ---

Job<void> job_tree(HalfwayStop& state, int depth) {
  LifetimeProbe probe;
  if (depth == 0) {
    state.leaf_ran();
    co_return;
  }
  for (int i = 0; i < 10; ++i) co_await fork(job_tree(state, depth - 1));
  co_await tiny_coro::join();
}

TEST_P(JobTree, ATreeCancelledHalfwayStopsEarlyAndFreesEveryFrame) {
  const long live_before = LifetimeProbe::live();
  HalfwayStop state;
  {
    Scheduler sched(static_cast<std::size_t>(GetParam()));
    EXPECT_THROW(sched.block_on(with_stop_token(state.stop.get_token(),
                                                run(job_tree(state, HalfwayStop::depth())))),
                 TaskCancelled);
    // The tree waited for every child it had forked: nothing is left for shutdown.
    EXPECT_EQ(LifetimeProbe::live(), live_before);
  }
  EXPECT_GE(state.leaves_run.load(), HalfwayStop::halfway);
  EXPECT_LT(state.leaves_run.load(), HalfwayStop::leaves()) << "the cancel stopped nothing";
}

INSTANTIATE_TEST_SUITE_P(Workers, JobTree, ::testing::Values(1, 2, 4), [](const auto& param_info) {
  return std::to_string(param_info.param) + "_workers";
});

// The size the fork-join issue asks for under TSan: 10^7 leaves on two workers, where
// parents are stolen all the time and children end apart from them.
TEST(JobTreeLarge, TenMillionLeafSkynetOnTwoWorkersSumsExactlyAndFreesEveryFrame) {
  const long live_before = LifetimeProbe::live();
  const std::int64_t leaves = 10'000'000;
  Scheduler sched(2);
  EXPECT_EQ(sched.block_on(run(skynet(0, leaves))), leaves * (leaves - 1) / 2);
  EXPECT_EQ(LifetimeProbe::live(), live_before);
  EXPECT_GT(sched.metrics().workers.at(0).tasks_run, 0u);
  EXPECT_GT(sched.metrics().workers.at(1).tasks_run, 0u);
}

// --- a parent that is stolen, and one that its child takes back ---

struct Seen {
  std::thread::id child_on;
  std::thread::id continuation_on;
};

// Holds its worker until the parent's continuation has run: only a thief can run it.
Job<int> child_that_waits_for_a_thief(Seen& seen, std::latch& continued) {
  LifetimeProbe probe;
  seen.child_on = thread_now();
  continued.wait();
  co_return 7;
}

Job<int> quick_child(Seen& seen) {
  LifetimeProbe probe;
  seen.child_on = thread_now();
  co_return 11;
}

Job<int> fork_stolen(Seen& seen, std::latch& continued) {
  int result = 0;
  co_await fork(result, child_that_waits_for_a_thief(seen, continued));
  seen.continuation_on = thread_now();
  continued.count_down();
  co_await tiny_coro::join();  // a real wait: the child may still be finishing
  co_return result;
}

Job<int> fork_taken_back(Seen& seen) {
  int result = 0;
  co_await fork(result, quick_child(seen));
  seen.continuation_on = thread_now();
  co_await tiny_coro::join();
  co_return result;
}

TEST(JobSteal, AStolenParentAndATakenBackOneCompleteJoinAndFreeAlike) {
  const long live_before = LifetimeProbe::live();
  Scheduler sched(2);
  Seen stolen;
  std::latch continued(1);
  EXPECT_EQ(sched.block_on(run(fork_stolen(stolen, continued))), 7);
  EXPECT_NE(stolen.continuation_on, stolen.child_on) << "the parent was not stolen";
  Seen local;
  EXPECT_EQ(sched.block_on(run(fork_taken_back(local))), 11);
  EXPECT_EQ(LifetimeProbe::live(), live_before);
  Scheduler one(1);
  Seen alone;
  EXPECT_EQ(one.block_on(run(fork_taken_back(alone))), 11);
  EXPECT_EQ(alone.continuation_on, alone.child_on);
}

// --- a cancelled task's tree forks nothing ---

Job<int> count_a_run(std::atomic<int>& runs) {
  runs.fetch_add(1);
  co_return 1;
}

Job<int> fork_one(std::atomic<int>& runs) {
  int result = 0;
  co_await fork(result, count_a_run(runs));
  co_await tiny_coro::join();
  co_return result;
}

TEST(JobCancel, ACancelledTaskForksNothing) {
  std::atomic<int> runs{0};
  Scheduler sched(1);
  std::stop_source stop;
  stop.request_stop();
  EXPECT_THROW(sched.block_on(with_stop_token(stop.get_token(), run(fork_one(runs)))),
               TaskCancelled);
  EXPECT_EQ(runs.load(), 0);
}

// --- shutdown with a tree in flight ---

// Past its first thousand leaves the tree holds its workers until shutdown begins, so that
// shutdown finds it in flight, with continuations queued and children parked in joins.
TEST(JobShutdown, ShutdownWithATreeInFlightFreesEveryFrame) {
  const long live_before = LifetimeProbe::live();
  FibLeaves leaves;
  leaves.held_from = 1000;
  {
    Scheduler sched(2);
    // fib(32): 3.5 million leaves, far from done when shutdown stops the workers (each
    // returns to its loop within 61 take-backs).
    auto root = sched.spawn(run(fib(leaves, 32)));
    EXPECT_TRUE(test::wait_for([&] { return leaves.visited.load() > leaves.held_from; }));
    leaves.released.store(true);
    sched.shutdown();
    EXPECT_THROW((void)root.take_result(), TaskCancelled);
  }
  EXPECT_EQ(LifetimeProbe::live(), live_before);
}

// --- how a Job's end frees its frame ---

// Parameters that need a destructor (a probe, a string) keep the frame for destroy(), which
// destroys them: the probes' count comes back, and the strings' bytes reach the root.
Job<std::int64_t> with_parameters(LifetimeProbe probe, std::string label, int depth) {
  if (depth == 0) co_return static_cast<std::int64_t>(label.size());
  std::int64_t left = 0;
  co_await fork(left, with_parameters(probe, label + "l", depth - 1));
  const std::int64_t right = co_await with_parameters(probe, label + "rr", depth - 1);
  co_await tiny_coro::join();
  co_return left + right;
}

// A frame larger than every size class of the Job lists (its buffer lives across the fork)
// has no class to go back to, and is destroyed.
Job<std::int64_t> with_a_large_frame(int depth) {
  std::array<std::int64_t, 256> values{};
  values[static_cast<std::size_t>(depth)] = depth;
  if (depth == 0) co_return 1;
  std::int64_t left = 0;
  co_await fork(left, with_a_large_frame(depth - 1));
  const std::int64_t right = co_await with_a_large_frame(depth - 1);
  co_await tiny_coro::join();
  co_return left + right + values[static_cast<std::size_t>(depth)];
}

std::int64_t expected_label_sizes(std::int64_t label, int depth) {
  if (depth == 0) return label;
  return expected_label_sizes(label + 1, depth - 1) + expected_label_sizes(label + 2, depth - 1);
}

TEST(JobEnd, ParametersThatNeedADestructorAndLargeFramesAreFreedExactly) {
  const long live_before = LifetimeProbe::live();
  Scheduler sched(2);
  EXPECT_EQ(sched.block_on(run(with_parameters(LifetimeProbe(), "root", 12))),
            expected_label_sizes(4, 12));
  EXPECT_EQ(LifetimeProbe::live(), live_before);
  // Leaves count 1 each and every inner node adds its depth: 2^10 + the sum over d of
  // d * 2^(10-d).
  std::int64_t expected = 1 << 10;
  for (int depth = 1; depth <= 10; ++depth) expected += depth * (std::int64_t{1} << (10 - depth));
  EXPECT_EQ(sched.block_on(run(with_a_large_frame(10))), expected);
}

// A parameter whose copy makes a Job of its own: a Job frame is allocated between the outer
// frame's allocation and its promise's construction. The inner Jobs are kept (so that no
// compiler can elide their frames) until the test drops them. The parameter's destructor is
// trivial, so the outer Job's end frees its own frame, and must put it back in its own size
// class: a list hands out its blocks as frames of its class's size, which a block from a
// smaller class would overrun.
// maybe_unused: ASan builds skip the test below.
[[maybe_unused]] Job<int> small_job() { co_return 1; }

[[maybe_unused]] std::vector<Job<int>>& kept_jobs() {
  static std::vector<Job<int>> jobs;
  return jobs;
}

struct MakesAJobWhenCopied {
  MakesAJobWhenCopied() = default;
  MakesAJobWhenCopied(const MakesAJobWhenCopied&) { kept_jobs().push_back(small_job()); }
  MakesAJobWhenCopied(MakesAJobWhenCopied&&) { kept_jobs().push_back(small_job()); }
  MakesAJobWhenCopied& operator=(const MakesAJobWhenCopied&) = default;
  MakesAJobWhenCopied& operator=(MakesAJobWhenCopied&&) = default;
};
static_assert(std::is_trivially_destructible_v<MakesAJobWhenCopied>);

[[maybe_unused]] Job<int> larger_job(MakesAJobWhenCopied) {
  std::array<int, 60> values{};
  values[7] = 7;
  int child = 0;
  co_await fork(child, small_job());  // keeps `values` in the frame
  co_await tiny_coro::join();
  co_return values[7] + child;
}

// How many frames this thread's Job lists hold, per size class.
[[maybe_unused]] std::vector<std::size_t> job_frames_held_per_class() {
  std::vector<std::size_t> held;
  for (std::size_t c = 0; c < detail::frame_cache::kClasses; ++c) {
    held.push_back(detail::job_frames_held(detail::frame_cache::class_bytes(c)));
  }
  return held;
}

// Runs larger_job off the workers (every frame is made and freed on this thread) and drops
// the Jobs its parameter's copies made.
[[maybe_unused]] void run_larger_job_here() {
  Task<int> task = run(larger_job(MakesAJobWhenCopied{}));
  ASSERT_FALSE(kept_jobs().empty());
  task.handle().resume();
  ASSERT_TRUE(task.done());
  EXPECT_EQ(task.handle().promise().take_result(), 7 + 1);
  kept_jobs().clear();
}

TEST(JobEnd, AFrameGoesBackToItsOwnSizeClassWhenItsParametersMadeOtherJobs) {
#ifdef TINY_CORO_ASAN
  GTEST_SKIP() << "Job frames are not cached in ASan builds";
#else
  kept_jobs().reserve(16);
  // The first run leaves a block of each class it used on this thread's lists; the second
  // takes each of its frames from there and puts each back where it came from, so no
  // class's count moves. Had the outer frame gone to the inner frames' class, that class
  // would count one more.
  run_larger_job_here();
  const std::vector<std::size_t> before = job_frames_held_per_class();
  run_larger_job_here();
  EXPECT_EQ(job_frames_held_per_class(), before);
#endif
}

// --- off the workers a fork is a call ---

TEST(JobOffWorker, ATaskResumedByHandRunsItsForksAsCalls) {
  FibLeaves leaves;
  Task<std::int64_t> task = run(fib(leaves, 12));
  task.handle().resume();
  ASSERT_TRUE(task.done());
  EXPECT_EQ(task.handle().promise().take_result(), 144);
}

}  // namespace
}  // namespace tiny_coro
