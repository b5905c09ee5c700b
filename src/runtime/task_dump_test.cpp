// Scheduler::dump_tasks(): the right file:line and kind for tasks suspended in each kind of
// wait, through nested co_awaits; finished and cancelled tasks leave it; safe while tasks
// churn, from a worker, and during shutdown.
#include <tiny_coro/async_mutex.h>
#include <tiny_coro/channel.h>
#include <tiny_coro/scheduler.h>
#include <tiny_coro/socket.h>
#include <tiny_coro/timer.h>

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include "support/loopback.h"
#include "support/scale.h"
#include "support/wait_for.h"

namespace tiny_coro {
namespace {

using namespace std::chrono_literals;

// Where each coroutine below suspends: set to the line of its co_await.
std::atomic<int> sleep_line{0};
std::atomic<int> recv_line{0};
std::atomic<int> lock_line{0};
std::atomic<int> read_line{0};
std::atomic<int> join_line{0};
std::atomic<int> outer_line{0};
std::atomic<int> middle_line{0};

// "FILE:LINE" as the dump prints it for this file.
std::string here(int line) { return std::string(__FILE__) + ":" + std::to_string(line); }

Task<void> sleeps(Scheduler& sched) {
  sleep_line = __LINE__ + 1;
  co_await sleep_for(sched, 1h);
}

Task<void> receives(Channel<int>& channel) {
  recv_line = __LINE__ + 1;
  (void)co_await channel.recv();
}

Task<void> locks(AsyncMutex& mutex) {
  lock_line = __LINE__ + 1;
  auto guard = co_await mutex.lock();
}

Task<void> reads(TcpListener& listener) {
  AsyncSocket socket = co_await listener.accept();
  char byte = 0;
  read_line = __LINE__ + 1;
  (void)co_await socket.read(&byte, 1);
}

Task<void> joins(Scheduler& sched) {
  auto sleeper = sched.spawn(sleeps(sched));
  join_line = __LINE__ + 1;
  co_await std::move(sleeper);
}

Task<void> middle(Scheduler& sched) {
  middle_line = __LINE__ + 1;
  co_await sleeps(sched);
}

Task<void> outer(Scheduler& sched) {
  outer_line = __LINE__ + 1;
  co_await middle(sched);
}

// The dump's entry for the task whose chain contains `needle` (from "task" to the next task).
std::string entry_with(const std::string& dump, const std::string& needle) {
  const auto at = dump.find(needle);
  if (at == std::string::npos) return {};
  const auto begin = dump.rfind("\ntask ", at);
  const auto end = dump.find("\ntask ", at);
  return dump.substr(begin, end == std::string::npos ? std::string::npos : end - begin);
}

TEST(TaskDump, NamesTheKindAndTheLineOfEveryWait) {
  // It waits until the dump names each task's wait, which needs the await records.
  if (!TINY_CORO_TRACK_AWAITS) GTEST_SKIP() << "built without await tracking";
  Scheduler sched(2);
  Channel<int> channel(sched, 0);
  AsyncMutex mutex(sched);
  TcpListener listener(sched.reactor());
  ASSERT_EQ(listener.bind("127.0.0.1", 0), 0);
  std::vector<JoinHandle<void>> handles;
  auto held =
      sched.block_on([](AsyncMutex& m) -> Task<ScopedLock> { co_return co_await m.lock(); }(mutex));
  handles.push_back(sched.spawn(receives(channel)));
  handles.push_back(sched.spawn(locks(mutex)));
  handles.push_back(sched.spawn(reads(listener)));
  handles.push_back(sched.spawn(joins(sched)));
  handles.push_back(sched.spawn(outer(sched)));
  const int client = test::connect_loopback(listener.port());
  ASSERT_GE(client, 0);

  std::string dump;
  // Every task reaches its wait: the dump shows each one (eventually, without sleeping).
  ASSERT_TRUE(test::wait_for([&] {
    dump = sched.dump_tasks();
    // All six, in one dump: a dump reads the tables in turns, and a task spawned into a
    // table already read shows up in the next one.
    return dump.find("tiny_coro task dump: 6 tasks, 2 workers") != std::string::npos &&
           dump.find(here(recv_line) + "\n") != std::string::npos &&
           dump.find(here(lock_line) + "\n") != std::string::npos &&
           dump.find(here(read_line) + "\n") != std::string::npos &&
           dump.find(here(join_line) + "\n") != std::string::npos &&
           dump.find(here(outer_line) + "\n") != std::string::npos;
  })) << dump;

  EXPECT_NE(entry_with(dump, here(recv_line)).find("] recv\n"), std::string::npos) << dump;
  EXPECT_NE(entry_with(dump, here(lock_line)).find("] lock\n"), std::string::npos) << dump;
  EXPECT_NE(entry_with(dump, here(read_line)).find("] read\n"), std::string::npos) << dump;
  EXPECT_NE(entry_with(dump, here(join_line)).find("] join\n"), std::string::npos) << dump;
  EXPECT_NE(entry_with(dump, here(recv_line)).find("[suspended, "), std::string::npos) << dump;
  // Two levels of nested co_await: innermost first, then outwards.
  const std::string nested = entry_with(dump, here(outer_line));
  const auto sleep_at = nested.find("sleeps  " + here(sleep_line));
  const auto middle_at = nested.find("middle  " + here(middle_line));
  const auto outer_at = nested.find("outer  " + here(outer_line));
  EXPECT_NE(nested.find("] sleep\n"), std::string::npos) << nested;
  ASSERT_NE(sleep_at, std::string::npos) << nested;
  ASSERT_NE(middle_at, std::string::npos) << nested;
  ASSERT_NE(outer_at, std::string::npos) << nested;
  EXPECT_LT(sleep_at, middle_at);
  EXPECT_LT(middle_at, outer_at);
  // The join's own sleeper is a task of its own, waiting in its sleep.
  EXPECT_NE(dump.find("] join\n"), std::string::npos);

  for (auto& handle : handles) handle.cancel();
  for (auto& handle : handles) handle.wait_blocking();
  ::close(client);
}

TEST(TaskDump, FinishedAndCancelledTasksLeaveIt) {
  // It waits until the dump names each task's wait, which needs the await records.
  if (!TINY_CORO_TRACK_AWAITS) GTEST_SKIP() << "built without await tracking";
  Scheduler sched(2);
  auto sleeper = sched.spawn(sleeps(sched));
  Channel<int> channel(sched, 0);
  auto receiver = sched.spawn(receives(channel));
  ASSERT_TRUE(test::wait_for([&] {
    const std::string dump = sched.dump_tasks();
    return dump.find(here(sleep_line)) != std::string::npos &&
           dump.find(here(recv_line)) != std::string::npos;
  }));
  sleeper.cancel();
  sleeper.wait_blocking();
  sched.block_on([](Channel<int>& c) -> Task<void> { (void)co_await c.send(1); }(channel));
  receiver.wait_blocking();
  // The block_on's own task has finished too: nothing is left.
  EXPECT_TRUE(test::wait_for([&] {
    return sched.dump_tasks().find("tiny_coro task dump: 0 tasks") == 0;
  })) << sched.dump_tasks();
}

Task<void> churn(Scheduler& sched, std::atomic<bool>& stop) {
  while (!stop.load()) {
    std::vector<JoinHandle<void>> children;
    for (int i = 0; i < 50; ++i) children.push_back(sched.spawn(sleeps(sched)));
    for (auto& child : children) child.cancel();
    for (auto& child : children) {
      try {
        co_await std::move(child);
      } catch (const TaskCancelled&) {
      }
    }
  }
}

// Under TSan this is the check that the pause orders every read of a frame.
TEST(TaskDump, IsSafeWhileTasksChurnFromAnyThreadAndFromAWorker) {
  Scheduler sched(2);
  std::atomic<bool> stop{false};
  auto churner = sched.spawn(churn(sched, stop));
  std::string from_worker;
  auto dumper = sched.spawn([](Scheduler& s, std::string& out) -> Task<void> {
    out = s.dump_tasks();
    co_return;
  }(sched, from_worker));
  const int rounds = test::kSanitized ? 20 : 200;
  for (int i = 0; i < rounds; ++i) {
    const std::string dump = sched.dump_tasks();
    ASSERT_EQ(dump.rfind("tiny_coro task dump: ", 0), 0u) << dump;
  }
  dumper.wait_blocking();
  // Called from a task: that task is the one running.
  EXPECT_NE(from_worker.find("[running, "), std::string::npos) << from_worker;
  stop.store(true);
  churner.wait_blocking();
}

Task<int> returns_at_once() { co_return 7; }

TEST(TaskDump, ATaskThatDumpsAfterItsCallEndedReadsNoFreedFrame) {
  Scheduler sched(2);
  std::string out;
  auto dumper = sched.spawn([](Scheduler& s, std::string& dump) -> Task<void> {
    // The call suspends (its note names the callee), and the callee's frame is freed at the
    // end of this line; the dump, taken by this very task, must not follow the note.
    const int seven = co_await returns_at_once();
    dump = s.dump_tasks() + std::to_string(seven);
  }(sched, out));
  dumper.wait_blocking();
  EXPECT_NE(out.find("[running, "), std::string::npos) << out;
  EXPECT_EQ(out.back(), '7');
}

TEST(TaskDump, IsSafeDuringShutdown) {
  auto sched = std::make_unique<Scheduler>(2);
  for (int i = 0; i < 100; ++i) sched->spawn(sleeps(*sched));
  std::atomic<bool> done{false};
  std::thread dumper([&] {
    while (!done.load()) (void)sched->dump_tasks();
  });
  sched->shutdown();
  EXPECT_EQ(sched->dump_tasks(), "tiny_coro task dump: the scheduler has shut down\n");
  done.store(true);
  dumper.join();
}

}  // namespace
}  // namespace tiny_coro
