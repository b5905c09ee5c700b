#include <tiny_coro/channel.h>

#include <gtest/gtest.h>

#include <atomic>
#include <memory>
#include <stdexcept>
#include <vector>

#include "support/lifetime_probe.h"
#include "support/scale.h"
#include "support/wait_for.h"

namespace tiny_coro {
namespace {

// --- many senders, many receivers: every value exactly once ---

Task<void> send_range(Channel<long>& chan, long from, long to) {
  for (long v = from; v < to; ++v) {
    const bool sent = co_await chan.send(v);
    if (!sent) throw std::logic_error("send on an open channel failed");
  }
}

Task<long> receive_all(Channel<long>& chan, std::vector<std::atomic<std::uint8_t>>& seen) {
  long count = 0;
  while (auto v = co_await chan.recv()) {
    seen[static_cast<std::size_t>(*v)].fetch_add(1, std::memory_order_relaxed);
    ++count;
  }
  co_return count;
}

Task<long> mpmc(Scheduler& sched, Channel<long>& chan, std::vector<std::atomic<std::uint8_t>>& seen,
                long values) {
  constexpr int kSenders = 4;
  constexpr int kReceivers = 4;
  std::vector<JoinHandle<long>> receivers;
  for (int r = 0; r < kReceivers; ++r) receivers.push_back(sched.spawn(receive_all(chan, seen)));
  std::vector<JoinHandle<void>> senders;
  const long share = values / kSenders;
  for (int s = 0; s < kSenders; ++s)
    senders.push_back(sched.spawn(send_range(chan, s * share, (s + 1) * share)));
  for (auto& sender : senders) co_await std::move(sender);
  chan.close();
  long received = 0;
  for (auto& receiver : receivers) received += co_await std::move(receiver);
  co_return received;
}

class ChannelCapacities : public ::testing::TestWithParam<std::size_t> {};
INSTANTIATE_TEST_SUITE_P(Capacity, ChannelCapacities, ::testing::Values(0, 1, 1024),
                         [](const auto& param_info) {
                           return "cap_" + std::to_string(param_info.param);
                         });

TEST_P(ChannelCapacities, FourSendersAndFourReceiversMoveEveryValueExactlyOnce) {
  const long values = static_cast<long>(test::scaled(1'000'000, 20));
  std::vector<std::atomic<std::uint8_t>> seen(static_cast<std::size_t>(values));
  Scheduler sched(4);
  Channel<long> chan(sched, GetParam());
  EXPECT_EQ(sched.block_on(mpmc(sched, chan, seen, values)), values);
  std::size_t wrong = 0;
  for (auto& s : seen) wrong += s.load() != 1;
  EXPECT_EQ(wrong, 0u) << "values lost or received twice";
}

// --- close ---

Task<std::vector<int>> drain(Channel<int>& chan) {
  std::vector<int> got;
  while (auto v = co_await chan.recv()) got.push_back(*v);
  co_return got;
}

TEST(Channel, AfterCloseReceiversDrainTheBufferThenGetNullopt) {
  Scheduler sched(1);
  Channel<int> chan(sched, 4);
  for (int v : {1, 2, 3}) ASSERT_TRUE(chan.try_send(v));
  chan.close();
  EXPECT_FALSE(chan.try_send(4));
  EXPECT_EQ(sched.block_on(drain(chan)), (std::vector<int>{1, 2, 3}));
}

// `started` counts the tasks that reached their channel operation; on one worker nothing
// else runs between that count and the suspension inside the operation.
Task<bool> send_one(Channel<int>& chan, int v, int& started) {
  ++started;
  co_return co_await chan.send(v);
}
Task<std::optional<int>> recv_one(Channel<int>& chan, int& started) {
  ++started;
  co_return co_await chan.recv();
}

struct CloseOutcome {
  std::vector<bool> sent;
  std::vector<std::optional<int>> received;
};

Task<CloseOutcome> close_while_suspended(Scheduler& sched, Channel<int>& full,
                                         Channel<int>& empty) {
  std::vector<JoinHandle<bool>> senders;
  std::vector<JoinHandle<std::optional<int>>> receivers;
  int started = 0;
  for (int i = 1; i <= 3; ++i) senders.push_back(sched.spawn(send_one(full, i, started)));
  for (int i = 0; i < 3; ++i) receivers.push_back(sched.spawn(recv_one(empty, started)));
  while (started < 6) co_await yield_now();  // one worker: all six are now suspended
  full.close();
  empty.close();
  CloseOutcome outcome;
  for (auto& sender : senders) outcome.sent.push_back(co_await std::move(sender));
  for (auto& receiver : receivers) outcome.received.push_back(co_await std::move(receiver));
  co_return outcome;
}

TEST(Channel, CloseWakesSuspendedSendersWithFalseAndReceiversWithNullopt) {
  Scheduler sched(1);
  Channel<int> full(sched, 1);
  ASSERT_TRUE(full.try_send(0));
  Channel<int> empty(sched, 1);
  const CloseOutcome outcome = sched.block_on(close_while_suspended(sched, full, empty));
  EXPECT_EQ(outcome.sent, (std::vector<bool>{false, false, false}));
  EXPECT_EQ(outcome.received, (std::vector<std::optional<int>>(3, std::nullopt)));
  EXPECT_EQ(full.try_recv(), 0);  // what was buffered before close is still there
}

// --- rendezvous ---

Task<void> send_and_flag(Channel<int>& chan, std::atomic<bool>& returned, int& started) {
  ++started;
  const bool sent = co_await chan.send(7);
  returned.store(sent);
}

Task<int> rendezvous(Scheduler& sched, Channel<int>& chan, std::atomic<bool>& returned,
                     bool& returned_before_recv) {
  int started = 0;
  auto sender = sched.spawn(send_and_flag(chan, returned, started));
  while (started < 1) co_await yield_now();           // one worker: the sender is now suspended
  for (int i = 0; i < 10; ++i) co_await yield_now();  // ... and stays so, however long
  returned_before_recv = returned.load();
  const std::optional<int> v = co_await chan.recv();
  co_await std::move(sender);
  co_return v.value_or(-1);
}

TEST(Channel, ARendezvousSendCompletesOnlyOnceAReceiverTookTheValue) {
  std::atomic<bool> returned{false};
  bool returned_before_recv = true;
  Scheduler sched(1);
  Channel<int> chan(sched, 0);
  EXPECT_FALSE(chan.try_send(1));  // nobody is receiving: a rendezvous cannot buffer
  EXPECT_EQ(sched.block_on(rendezvous(sched, chan, returned, returned_before_recv)), 7);
  EXPECT_FALSE(returned_before_recv);
  EXPECT_TRUE(returned.load());
}

// --- move-only values, try_ operations, destroyed waiters ---

Task<int> pass_unique(Channel<std::unique_ptr<int>>& chan) {
  co_await chan.send(std::make_unique<int>(5));
  auto v = co_await chan.recv();
  co_return v&&* v ? **v : -1;
}

TEST(Channel, MoveOnlyValuesPassThrough) {
  Scheduler sched(2);
  Channel<std::unique_ptr<int>> chan(sched, 1);
  EXPECT_EQ(sched.block_on(pass_unique(chan)), 5);
  auto value = std::make_unique<int>(9);
  ASSERT_TRUE(chan.try_send(std::move(value)));
  auto full_value = std::make_unique<int>(10);
  EXPECT_FALSE(chan.try_send(std::move(full_value)));
  EXPECT_NE(full_value, nullptr);  // a failed try_send does not take the value
  auto got = chan.try_recv();
  ASSERT_TRUE(got.has_value());
  EXPECT_EQ(**got, 9);
  EXPECT_EQ(chan.try_recv(), std::nullopt);
}

Task<void> receive_forever(Channel<int>& chan, test::LifetimeProbe, std::atomic<int>& waiting) {
  waiting.fetch_add(1);
  (void)co_await chan.recv();
}

TEST(Channel, ReceiversDestroyedByShutdownLeaveTheChannel) {
  const long before = test::LifetimeProbe::live();
  std::atomic<int> waiting{0};
  Scheduler sched(2);
  Channel<int> chan(sched, 0);
  for (int i = 0; i < 100; ++i) sched.spawn(receive_forever(chan, test::LifetimeProbe{}, waiting));
  ASSERT_TRUE(test::wait_for([&] { return waiting.load() == 100; }));
  sched.shutdown();
  EXPECT_EQ(test::LifetimeProbe::live(), before);
  EXPECT_FALSE(chan.try_send(1));  // no receiver is left behind in the channel
}

}  // namespace
}  // namespace tiny_coro
