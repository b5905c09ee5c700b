// The manual's one-shot register_read/register_write, on a Scheduler: its reactor has no
// thread of its own, so an idle worker must be the one that sees the fd become ready.
#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <coroutine>
#include <filesystem>
#include <fstream>
#include <map>
#include <string>
#include <thread>

#include <tiny_coro/scheduler.h>
#include <tiny_coro/timer.h>

#include "support/wait_for.h"

namespace tiny_coro {
namespace {

struct Readable {
  Reactor* reactor;
  int fd;
  bool await_ready() const noexcept { return false; }
  void await_suspend(std::coroutine_handle<> waiting) {
    reactor->register_read(fd, waiting.address());
  }
  void await_resume() const noexcept {}
};

Task<char> read_when_readable(Scheduler& sched, int fd, std::atomic<bool>& waiting) {
  waiting.store(true);
  co_await Readable{sched.reactor(), fd};
  char c = 0;
  if (::read(fd, &c, 1) != 1) co_return '?';
  sched.reactor()->deregister(fd);
  co_return c;
}

TEST(DrivenReactor, AOneShotReadRegistrationWakesItsCoroutine) {
  int pipe_fds[2];
  ASSERT_EQ(::pipe(pipe_fds), 0);
  Scheduler sched(2);
  std::atomic<bool> waiting{false};
  auto reader = sched.spawn(read_when_readable(sched, pipe_fds[0], waiting));
  ASSERT_TRUE(test::wait_for([&] { return waiting.load(); }));
  ASSERT_EQ(::write(pipe_fds[1], "z", 1), 1);
  ASSERT_TRUE(test::wait_for([&] { return reader.is_finished(); }));
  EXPECT_EQ(reader.take_result(), 'z');
  ::close(pipe_fds[0]);
  ::close(pipe_fds[1]);
}

Task<void> busy_until(std::atomic<bool>& started, std::atomic<bool>& release) {
  started.store(true);
  while (!release.load()) std::this_thread::yield();  // one long task: its worker never polls
  co_return;
}

Task<void> nap(Scheduler& sched, std::atomic<bool>& armed, int ms) {
  armed.store(true);
  co_await sleep_for(sched, ms);
}

// Runs on a worker that is not driving the reactor (it left it to run this task).
Task<bool> take_driver(Reactor& reactor) { co_return reactor.try_lock_driver(); }

// One worker busy inside a single long task, the other idle: a timer must still fire, even
// when the idle worker went to sleep while somebody else held the reactor (here a task,
// standing in for a busy worker's quick poll, and then the test thread) and that holder
// then let go.
TEST(DrivenReactor, AnIdleWorkerTakesOverTheReactorItFoundTaken) {
  Scheduler sched(2);
  Reactor& reactor = *sched.reactor();
  std::atomic<bool> started{false};
  std::atomic<bool> release{false};
  auto busy = sched.spawn(busy_until(started, release));
  ASSERT_TRUE(test::wait_for([&] { return started.load(); }));
  // The other worker runs this, having let go of the reactor to do so; nobody else polls.
  auto taker = sched.spawn(take_driver(reactor));
  ASSERT_TRUE(test::wait_for([&] { return taker.is_finished(); }));
  ASSERT_TRUE(taker.take_result());
  // The idle worker runs the nap, then finds the reactor held as it parks: it must sleep
  // until the holder lets go, and then watch the timer.
  std::atomic<bool> armed{false};
  auto sleeper = sched.spawn(nap(sched, armed, 30));
  ASSERT_TRUE(test::wait_for([&] { return armed.load() && reactor.has_interest(); }));
  reactor.unlock_driver();
  EXPECT_TRUE(test::wait_for([&] { return sleeper.is_finished(); }, std::chrono::seconds(10)));
  release.store(true);
  EXPECT_TRUE(test::wait_for([&] { return busy.is_finished(); }));
}

// Voluntary context switches (sleeps) of each of this process's threads, by thread id.
std::map<std::string, long> sleeps_by_thread() {
  std::map<std::string, long> sleeps;
  for (const auto& task : std::filesystem::directory_iterator("/proc/self/task")) {
    std::ifstream status(task.path() / "status");
    std::string line;
    while (std::getline(status, line)) {
      if (line.rfind("voluntary_ctxt_switches:", 0) == 0) {
        sleeps[task.path().filename().string()] = std::stol(line.substr(line.find(':') + 1));
      }
    }
  }
  return sleeps;
}

// An idle scheduler with something to watch: one worker sleeps in the reactor until the
// timer is due, the other on its condvar until it is needed. Neither may wake in between
// just to check on the reactor (they used to, every 10 ms: 50 wake-ups over this nap).
TEST(DrivenReactor, IdleWorkersSleepUntilSomethingIsDue) {
  const std::map<std::string, long> before_scheduler = sleeps_by_thread();
  Scheduler sched(2);
  const auto worker_sleeps = [&] {
    long total = 0;
    for (const auto& [thread, sleeps] : sleeps_by_thread()) {
      if (!before_scheduler.contains(thread)) total += sleeps;
    }
    return total;
  };
  std::atomic<bool> armed{false};
  sched.block_on(nap(sched, armed, 1));  // both workers have started, run and parked once
  const long before_nap = worker_sleeps();
  sched.block_on(nap(sched, armed, 500));
  // A handful: the hand-over of the nap to a worker and back, each worker parking again.
  EXPECT_LE(worker_sleeps() - before_nap, 20);
}

}  // namespace
}  // namespace tiny_coro
