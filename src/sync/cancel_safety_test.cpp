// Cancel safety of the synchronisation primitives: cancellation raced against completion
// thousands of times, with exact counts. A cancelled recv consumes nothing, a cancelled send
// delivers nothing, a cancelled lock() strands no lock and no waiter, a cancelled acquire()
// loses no permit, a cancelled select consumes no case.
#include <tiny_coro/async_event.h>
#include <tiny_coro/async_mutex.h>
#include <tiny_coro/async_semaphore.h>
#include <tiny_coro/channel.h>
#include <tiny_coro/scheduler.h>
#include <tiny_coro/select.h>

#include <gtest/gtest.h>

#include <atomic>
#include <optional>
#include <random>
#include <thread>
#include <vector>

#include "support/random_cancel.h"
#include "support/scale.h"

namespace tiny_coro {
namespace {

// Cancels each task at a random moment drawn from a generator seeded with `seed`.
template <class Make>
std::size_t spawn_and_cancel_randomly(Scheduler& sched, std::size_t count, unsigned seed,
                                      Make make) {
  std::mt19937 rng(seed);
  return test::spawn_and_cancel_randomly(sched, rng, count, make);
}

class CapacityShapes : public ::testing::TestWithParam<std::size_t> {};
INSTANTIATE_TEST_SUITE_P(Capacity, CapacityShapes, ::testing::Values(0, 4),
                         [](const auto& param_info) {
                           return "capacity_" + std::to_string(param_info.param);
                         });

Task<void> receive_one(Channel<int>& chan, std::vector<std::atomic<int>>& seen) {
  if (auto v = co_await chan.recv()) seen[static_cast<std::size_t>(*v)].fetch_add(1);
}

Task<void> receive_rest(Channel<int>& chan, std::vector<std::atomic<int>>& seen) {
  for (;;) {
    // Bound first: GCC 12 loses an exception thrown out of a co_await inside a condition.
    const std::optional<int> v = co_await chan.recv();
    if (!v) co_return;
    seen[static_cast<std::size_t>(*v)].fetch_add(1);
  }
}

Task<void> send_all(Channel<int>& chan, int count) {
  for (int i = 0; i < count; ++i) co_await chan.send(i);
  chan.close();
}

TEST_P(CapacityShapes, ACancelledRecvConsumesNothing) {
  const std::size_t rounds = test::scaled(10'000, 5);
  Scheduler sched(2);
  Channel<int> chan(sched, GetParam());
  std::vector<std::atomic<int>> seen(rounds);
  auto producer = sched.spawn(send_all(chan, static_cast<int>(rounds)));
  const std::size_t cancelled = spawn_and_cancel_randomly(
      sched, rounds, 7, [&](std::size_t) { return receive_one(chan, seen); });
  // Whatever the cancelled receivers did not take is still in the channel, in order.
  sched.block_on(receive_rest(chan, seen));
  producer.wait_blocking();
  producer.take_result();
  std::size_t exactly_once = 0;
  for (auto& s : seen) exactly_once += s.load() == 1;
  EXPECT_EQ(exactly_once, rounds);
  EXPECT_GT(cancelled, 0u);
}

Task<void> send_one(Channel<int>& chan, int value, std::vector<std::atomic<int>>& delivered) {
  const bool sent = co_await chan.send(value);
  if (sent) delivered[static_cast<std::size_t>(value)].store(1);
}

TEST_P(CapacityShapes, ACancelledSendDeliversNothing) {
  const std::size_t rounds = test::scaled(10'000, 5);
  Scheduler sched(2);
  Channel<int> chan(sched, GetParam());
  std::vector<std::atomic<int>> seen(rounds), delivered(rounds);
  auto consumer = sched.spawn(receive_rest(chan, seen));
  spawn_and_cancel_randomly(sched, rounds, 11, [&](std::size_t i) {
    return send_one(chan, static_cast<int>(i), delivered);
  });
  chan.close();
  consumer.wait_blocking();
  consumer.take_result();
  // A value arrived exactly when its send said so; a cancelled send's value never did.
  std::size_t agree = 0, arrived = 0;
  for (std::size_t i = 0; i < rounds; ++i) {
    agree += seen[i].load() == delivered[i].load();
    arrived += static_cast<std::size_t>(seen[i].load());
  }
  EXPECT_EQ(agree, rounds);
  EXPECT_GT(arrived, 0u);
}

Task<void> lock_and_count(AsyncMutex& mutex, long& counter, std::atomic<long>& locked) {
  auto guard = co_await mutex.lock();
  ++counter;  // plain: the mutex is what makes this safe
  locked.fetch_add(1);
  co_await yield_now();  // hold it across a suspension, so others queue
}

TEST(CancelSafety, ACancelledLockStrandsNoLockAndNoWaiter) {
  const std::size_t rounds = test::scaled(10'000, 5);
  Scheduler sched(2);
  AsyncMutex mutex(sched);
  long counter = 0;
  std::atomic<long> locked{0};
  spawn_and_cancel_randomly(sched, rounds, 13,
                            [&](std::size_t) { return lock_and_count(mutex, counter, locked); });
  EXPECT_TRUE(mutex.try_lock());  // nobody holds it and nobody waits
  mutex.unlock();
  EXPECT_EQ(counter, locked.load());
  EXPECT_GT(locked.load(), 0);
}

Task<void> release_on_unwind(Semaphore& sem, std::atomic<int>& inside, std::atomic<int>& worst) {
  struct Release {
    Semaphore& sem;
    std::atomic<int>& inside;
    bool held = false;
    ~Release() {
      if (held) {
        inside.fetch_sub(1);
        sem.release();
      }
    }
  } release{sem, inside};
  co_await sem.acquire();
  release.held = true;
  const int now = inside.fetch_add(1) + 1;
  int seen = worst.load();
  while (now > seen && !worst.compare_exchange_weak(seen, now)) {
  }
  co_await yield_now();
}

TEST(CancelSafety, ACancelledAcquireLosesNoPermit) {
  const std::size_t rounds = test::scaled(10'000, 5);
  constexpr std::size_t kPermits = 3;
  Scheduler sched(2);
  Semaphore sem(sched, kPermits);
  std::atomic<int> inside{0}, worst{0};
  spawn_and_cancel_randomly(sched, rounds, 17, [&](std::size_t) {
    return release_on_unwind(sem, inside, worst);
  });
  EXPECT_EQ(sem.approx_available(), kPermits);
  EXPECT_LE(worst.load(), static_cast<int>(kPermits));
  EXPECT_EQ(inside.load(), 0);
}

Task<void> wait_for_event(Event& event, std::atomic<int>& passed) {
  co_await event.wait();
  passed.fetch_add(1);
}

TEST(CancelSafety, ACancelledEventWaitLeavesTheOthersWaiting) {
  const std::size_t waiters = test::scaled(1'000, 5);
  Scheduler sched(2);
  Event event(sched);
  std::atomic<int> passed{0};
  std::vector<JoinHandle<void>> handles;
  for (std::size_t i = 0; i < waiters; ++i) handles.push_back(sched.spawn(wait_for_event(event, passed)));
  for (std::size_t i = 0; i < waiters; i += 2) handles[i].cancel();
  event.set();
  std::size_t cancelled = 0;
  for (auto& h : handles) cancelled += static_cast<std::size_t>(test::ended_cancelled(h));
  EXPECT_EQ(static_cast<std::size_t>(passed.load()) + cancelled, waiters);
  EXPECT_GE(static_cast<std::size_t>(passed.load()), waiters / 2);
}

Task<void> select_one(Channel<int>& a, Channel<int>& b, std::vector<std::atomic<int>>& seen) {
  auto from_a = a.recv_case();
  auto from_b = b.recv_case();
  const std::size_t winner = co_await select(from_a, from_b);
  const auto& value = winner == 0 ? from_a.value() : from_b.value();
  if (value) seen[static_cast<std::size_t>(*value)].fetch_add(1);
}

Task<void> send_evens_and_odds(Channel<int>& a, Channel<int>& b, int count) {
  for (int i = 0; i < count; ++i) co_await (i % 2 == 0 ? a : b).send(i);
  a.close();
  b.close();
}

TEST_P(CapacityShapes, ACancelledSelectConsumesNoCase) {
  const std::size_t rounds = test::scaled(10'000, 5);
  Scheduler sched(2);
  Channel<int> a(sched, GetParam()), b(sched, GetParam());
  std::vector<std::atomic<int>> seen(rounds);
  auto producer = sched.spawn(send_evens_and_odds(a, b, static_cast<int>(rounds)));
  spawn_and_cancel_randomly(sched, rounds, 19,
                            [&](std::size_t) { return select_one(a, b, seen); });
  // The producer alternates channels, so what the cancelled selects left must be drained from
  // both at once.
  auto rest_of_b = sched.spawn(receive_rest(b, seen));
  sched.block_on(receive_rest(a, seen));
  rest_of_b.wait_blocking();
  rest_of_b.take_result();
  producer.wait_blocking();
  producer.take_result();
  std::size_t exactly_once = 0;
  for (auto& s : seen) exactly_once += s.load() == 1;
  EXPECT_EQ(exactly_once, rounds);
}

}  // namespace
}  // namespace tiny_coro
