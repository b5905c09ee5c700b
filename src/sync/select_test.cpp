#include <tiny_coro/select.h>

#include <gtest/gtest.h>

#include <atomic>
#include <stdexcept>
#include <vector>

#include "support/lifetime_probe.h"
#include "support/scale.h"
#include "support/wait_for.h"

namespace tiny_coro {
namespace {

Task<std::size_t> select_ready(Channel<int>& a, Channel<int>& b, std::optional<int>& got) {
  auto from_a = a.recv_case();
  auto from_b = b.recv_case();
  const std::size_t which = co_await select(from_a, from_b);
  got = which == 0 ? from_a.value() : from_b.value();
  co_return which;
}

TEST(Select, TakesFromTheReadyCaseAndLeavesTheOtherUntouched) {
  Scheduler sched(1);
  Channel<int> a(sched, 4);
  Channel<int> b(sched, 4);
  ASSERT_TRUE(b.try_send(20));
  std::optional<int> got;
  EXPECT_EQ(sched.block_on(select_ready(a, b, got)), 1u);
  EXPECT_EQ(got, 20);
  ASSERT_TRUE(a.try_send(10));
  ASSERT_TRUE(b.try_send(21));
  EXPECT_EQ(sched.block_on(select_ready(a, b, got)), 0u);  // both ready: the first case wins
  EXPECT_EQ(got, 10);
  EXPECT_EQ(b.try_recv(), 21);  // the losing case consumed nothing
}

Task<std::size_t> select_send_or_recv(Channel<int>& out, Channel<int>& in, std::optional<int>& got,
                                      bool& sent) {
  auto send = out.send_case(5);
  auto recv = in.recv_case();
  const std::size_t which = co_await select(send, recv);
  sent = send.sent();
  got = recv.value();
  co_return which;
}

TEST(Select, ASuspendedSelectIsCompletedByTheFirstPeerAndOnlyByIt) {
  Scheduler sched(2);
  Channel<int> out(sched, 0);  // rendezvous: the send case waits for a receiver
  Channel<int> in(sched, 0);
  std::optional<int> got;
  bool sent = false;
  auto selecting = sched.spawn(select_send_or_recv(out, in, got, sent));
  // A receiver on `out` completes the send case; `in` then gets nothing from the select.
  std::optional<int> received;
  ASSERT_TRUE(test::wait_for([&] {
    received = out.try_recv();  // succeeds once the select's send node is queued
    return received.has_value();
  }));
  ASSERT_TRUE(test::wait_for([&] { return selecting.is_finished(); }));
  EXPECT_EQ(selecting.take_result(), 0u);
  EXPECT_EQ(received, 5);
  EXPECT_TRUE(sent);
  EXPECT_EQ(got, std::nullopt);
  EXPECT_FALSE(in.try_send(1));  // the receive case left no receiver behind
}

TEST(Select, ClosedChannelsCountAsReady) {
  Scheduler sched(1);
  Channel<int> a(sched, 1);
  Channel<int> b(sched, 1);
  b.close();
  std::optional<int> got = 0;
  EXPECT_EQ(sched.block_on(select_ready(a, b, got)), 1u);
  EXPECT_EQ(got, std::nullopt);
}

// Two channels fed concurrently, many selects draining them: every value exactly once, and no
// select ever takes from both (each takes exactly one value per completion).
Task<void> feed(Channel<long>& chan, long from, long to) {
  for (long v = from; v < to; ++v) (void)co_await chan.send(v);
}

Task<long> drain_with_select(Channel<long>& a, Channel<long>& b,
                             std::vector<std::atomic<std::uint8_t>>& seen, long total,
                             std::atomic<long>& taken) {
  long mine = 0;
  while (taken.load() < total) {
    auto from_a = a.recv_case();
    auto from_b = b.recv_case();
    const std::size_t which = co_await select(from_a, from_b);
    std::optional<long>& v = which == 0 ? from_a.value() : from_b.value();
    std::optional<long>& other = which == 0 ? from_b.value() : from_a.value();
    if (other.has_value()) throw std::logic_error("select consumed from two channels");
    if (!v) break;  // closed
    seen[static_cast<std::size_t>(*v)].fetch_add(1);
    taken.fetch_add(1);
    ++mine;
  }
  co_return mine;
}

Task<long> select_stress(Scheduler& sched, Channel<long>& a, Channel<long>& b,
                         std::vector<std::atomic<std::uint8_t>>& seen, long total) {
  std::atomic<long> taken{0};
  std::vector<JoinHandle<long>> drains;
  for (int i = 0; i < 3; ++i)
    drains.push_back(sched.spawn(drain_with_select(a, b, seen, total, taken)));
  auto fa = sched.spawn(feed(a, 0, total / 2));
  auto fb = sched.spawn(feed(b, total / 2, total));
  co_await std::move(fa);
  co_await std::move(fb);
  while (taken.load() < total) co_await yield_now();
  a.close();
  b.close();
  long sum = 0;
  for (auto& d : drains) sum += co_await std::move(d);
  co_return sum;
}

TEST(Select, ConcurrentSelectsTakeEveryValueExactlyOnce) {
  const long total = static_cast<long>(test::scaled(200'000));
  std::vector<std::atomic<std::uint8_t>> seen(static_cast<std::size_t>(total));
  Scheduler sched(4);
  Channel<long> a(sched, 0);
  Channel<long> b(sched, 3);
  EXPECT_EQ(sched.block_on(select_stress(sched, a, b, seen, total)), total);
  std::size_t wrong = 0;
  for (auto& s : seen) wrong += s.load() != 1;
  EXPECT_EQ(wrong, 0u);
}

// A send and a receive on the same buffered channel, from many selects at once, next to
// plain senders and receivers: each select completes exactly one of its two cases.
struct BothWays {
  std::atomic<long> sent{0};
  std::atomic<long> received{0};
  std::atomic<bool> both{false};
};

Task<void> send_or_receive(Channel<int>& chan, BothWays& tally, int rounds) {
  for (int i = 0; i < rounds; ++i) {
    auto to = chan.send_case(i);
    auto from = chan.recv_case();
    const std::size_t which = co_await select(to, from);
    if (which == 0 ? from.value().has_value() : to.sent()) tally.both.store(true);
    (which == 0 ? tally.sent : tally.received).fetch_add(1);
  }
}

// Never suspends: it may outlive every select, and nobody would then complete its wait.
Task<void> plain_traffic(Channel<int>& chan, BothWays& tally, int rounds) {
  for (int i = 0; i < rounds; ++i) {
    if (i % 2 == 0) {
      if (chan.try_send(i)) tally.sent.fetch_add(1);
    } else if (chan.try_recv()) {
      tally.received.fetch_add(1);
    }
    co_await yield_now();
  }
}

Task<void> both_ways(Scheduler& sched, Channel<int>& chan, BothWays& tally, int rounds) {
  std::vector<JoinHandle<void>> tasks;
  for (int i = 0; i < 4; ++i) tasks.push_back(sched.spawn(send_or_receive(chan, tally, rounds)));
  tasks.push_back(sched.spawn(plain_traffic(chan, tally, rounds)));
  for (auto& t : tasks) co_await std::move(t);
}

TEST(Select, SendAndReceiveOnOneBufferedChannelCompleteOneCaseEach) {
  const int rounds = static_cast<int>(test::scaled(20'000));
  BothWays tally;
  Scheduler sched(4);
  Channel<int> chan(sched, 2);
  sched.block_on(both_ways(sched, chan, tally, rounds));
  long left = 0;
  while (chan.try_recv()) ++left;
  EXPECT_FALSE(tally.both.load()) << "a select completed both of its cases";
  EXPECT_EQ(tally.sent.load(), tally.received.load() + left);
}

Task<void> select_forever(Channel<int>& a, Channel<int>& b, test::LifetimeProbe,
                          std::atomic<int>& waiting) {
  auto from_a = a.recv_case();
  auto from_b = b.recv_case();
  waiting.fetch_add(1);
  (void)co_await select(from_a, from_b);
}

TEST(Select, SelectsDestroyedByShutdownLeaveEveryChannel) {
  const long before = test::LifetimeProbe::live();
  std::atomic<int> waiting{0};
  Scheduler sched(2);
  Channel<int> a(sched, 0);
  Channel<int> b(sched, 0);
  for (int i = 0; i < 50; ++i) sched.spawn(select_forever(a, b, test::LifetimeProbe{}, waiting));
  ASSERT_TRUE(test::wait_for([&] { return waiting.load() == 50; }));
  sched.shutdown();
  EXPECT_EQ(test::LifetimeProbe::live(), before);
  EXPECT_FALSE(a.try_send(1));
  EXPECT_FALSE(b.try_send(1));
}

}  // namespace
}  // namespace tiny_coro
