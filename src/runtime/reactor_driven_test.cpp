// The manual's one-shot register_read/register_write, on a Scheduler: its reactor has no
// thread of its own, so an idle worker must be the one that sees the fd become ready.
#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <coroutine>

#include <tiny_coro/scheduler.h>

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

}  // namespace
}  // namespace tiny_coro
