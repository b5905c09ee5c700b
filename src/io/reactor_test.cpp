#include <tiny_coro/reactor.h>

#include <gtest/gtest.h>
#include <unistd.h>

#include <condition_variable>
#include <coroutine>
#include <mutex>
#include <stdexcept>
#include <vector>

namespace tiny_coro {
namespace {

// Records what the reactor hands back instead of running it.
class RecordingExecutor final : public detail::Executor {
 public:
  void schedule(std::coroutine_handle<> ready) noexcept override {
    std::lock_guard lock(mutex_);
    ready_.push_back(ready.address());
    changed_.notify_all();
  }
  void schedule_batch(std::span<std::coroutine_handle<>> ready) noexcept override {
    std::lock_guard lock(mutex_);
    for (auto handle : ready) ready_.push_back(handle.address());
    changed_.notify_all();
  }
  void defer(std::coroutine_handle<> current) noexcept override { schedule(current); }
  void submit(detail::PromiseBase&, std::coroutine_handle<>) override {
    throw std::logic_error("RecordingExecutor runs no tasks");
  }
  std::vector<void*> wait_for(std::size_t count) {
    std::unique_lock lock(mutex_);
    changed_.wait(lock, [&] { return ready_.size() >= count; });
    return ready_;
  }
  std::size_t size() {
    std::lock_guard lock(mutex_);
    return ready_.size();
  }

 private:
  std::mutex mutex_;
  std::condition_variable changed_;
  std::vector<void*> ready_;
};

// Distinct fake "handles": the reactor never dereferences them.
void* fake_handle(int i) {
  return reinterpret_cast<void*>(static_cast<std::uintptr_t>(16 * (i + 1)));
}

TEST(Reactor, TimersFireInDeadlineOrderAndNeverEarly) {
  RecordingExecutor executor;
  Reactor reactor(executor);
  reactor.start();
  const TimePoint start = Clock::now();
  std::vector<HandleTimer> nodes(5);
  // 50 ms apart: the order holds unless this thread stalls for longer between two adds.
  const int order[] = {150, 50, 250, 100, 200};  // ms
  for (int i = 0; i < 5; ++i) {
    nodes[i].deadline = start + std::chrono::milliseconds(order[i]);
    nodes[i].handle = std::coroutine_handle<>::from_address(fake_handle(order[i]));
    reactor.add_timer(nodes[i]);
  }
  auto fired = executor.wait_for(5);
  const TimePoint end = Clock::now();
  ASSERT_EQ(fired.size(), 5u);
  for (int i = 0; i < 5; ++i) EXPECT_EQ(fired[i], fake_handle((i + 1) * 50));
  EXPECT_GE(end - start, std::chrono::milliseconds(250));  // the last one waited its 250 ms
  reactor.stop();
}

TEST(Reactor, ACancelledTimerNeverFires) {
  RecordingExecutor executor;
  Reactor reactor(executor);
  reactor.start();
  // Far enough ahead that this thread surely cancels it before it is due, even when a
  // sanitized build beside another test process stalls it for a while.
  HandleTimer cancelled;
  cancelled.deadline = Clock::now() + std::chrono::milliseconds(200);
  cancelled.handle = std::coroutine_handle<>::from_address(fake_handle(1));
  HandleTimer later;
  later.deadline = Clock::now() + std::chrono::milliseconds(400);
  later.handle = std::coroutine_handle<>::from_address(fake_handle(2));
  reactor.add_timer(cancelled);
  reactor.add_timer(later);
  EXPECT_TRUE(reactor.cancel_timer(cancelled));
  EXPECT_FALSE(cancelled.armed());
  auto fired = executor.wait_for(1);  // `later`, 200 ms after `cancelled` would have fired
  ASSERT_EQ(fired.size(), 1u);
  EXPECT_EQ(fired[0], fake_handle(2));
  EXPECT_FALSE(reactor.cancel_timer(later));  // already fired
  reactor.stop();
}

TEST(Reactor, AnEarlierTimerWakesAReactorSleepingOnALaterOne) {
  RecordingExecutor executor;
  Reactor reactor(executor);
  reactor.start();
  HandleTimer far;
  far.deadline = Clock::now() + std::chrono::hours(1);
  far.handle = std::coroutine_handle<>::from_address(fake_handle(1));
  reactor.add_timer(far);
  reactor.add_timer(Clock::now() + std::chrono::milliseconds(5),
                    std::coroutine_handle<>::from_address(fake_handle(2)));
  auto fired = executor.wait_for(1);  // would hang for an hour without the doorbell
  EXPECT_EQ(fired[0], fake_handle(2));
  EXPECT_TRUE(reactor.cancel_timer(far));
  reactor.stop();
}

TEST(Reactor, ReadinessOfAPipeResumesTheRegisteredWaiters) {
  RecordingExecutor executor;
  Reactor reactor(executor);
  reactor.start();
  int fds[2];
  ASSERT_EQ(::pipe(fds), 0);
  reactor.register_write(fds[1], fake_handle(7));  // an empty pipe is writable at once
  EXPECT_EQ(executor.wait_for(1)[0], fake_handle(7));
  reactor.register_read(fds[0], fake_handle(8));
  ASSERT_EQ(::write(fds[1], "x", 1), 1);
  auto fired = executor.wait_for(2);
  EXPECT_EQ(fired[1], fake_handle(8));
  reactor.deregister(fds[0]);
  reactor.deregister(fds[1]);
  reactor.stop();
  ::close(fds[0]);
  ::close(fds[1]);
}

}  // namespace
}  // namespace tiny_coro
