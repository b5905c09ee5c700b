// The ping-pong: two tasks passing a number back and forth through two rendezvous channels,
// the latency of a wake-up round trip. sync_bench measures it alone; blocking_bench beside
// sleeping blocking calls.
#pragma once

#include <tiny_coro/channel.h>
#include <tiny_coro/scheduler.h>
#include <tiny_coro/task.h>

#include <cstdint>
#include <utility>

namespace tiny_coro::bench {

inline Task<void> pinger(Channel<int>& to, Channel<int>& from, int rounds, std::uint64_t& sum) {
  for (int i = 0; i < rounds; ++i) {
    (void)co_await to.send(i);
    const auto back = co_await from.recv();
    sum += static_cast<std::uint64_t>(back.value_or(0));
  }
}

inline Task<void> ponger(Channel<int>& from, Channel<int>& to, int rounds) {
  for (int i = 0; i < rounds; ++i) {
    auto v = co_await from.recv();
    (void)co_await to.send(*v);
  }
}

// The sum of the numbers that came back: rounds * (rounds - 1) / 2.
inline Task<std::uint64_t> ping_pong(Scheduler& sched, int rounds) {
  Channel<int> there(sched, 0);
  Channel<int> back(sched, 0);
  std::uint64_t sum = 0;
  auto a = sched.spawn(pinger(there, back, rounds, sum));
  auto b = sched.spawn(ponger(there, back, rounds));
  co_await std::move(a);
  co_await std::move(b);
  co_return sum;
}

}  // namespace tiny_coro::bench
