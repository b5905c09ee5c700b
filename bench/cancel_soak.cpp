// A randomized soak of cancellation racing completion, run by hand (not in CI):
//
//   cancel_soak [OPERATIONS=10000000] [SEED=1]
//
// Runs blocks of 10,000 operations of one kind — channel recv, channel send, select,
// mutex lock, semaphore acquire, sleep, timeout around a recv, socket read — each operation a
// task cancelled at a random moment (at once, after a yield, after a random spin, or never).
// After every block it checks exact counts (every value received exactly once, nothing a
// cancelled send offered delivered, the mutex free, every permit back, no timer left, every
// byte of the stream in order) and that every task it spawned has finished and been
// destroyed (a live count back to zero). The seed fixes every choice of kind, moment and
// value, so a failure replays with the same arguments (thread interleavings aside).
#include <tiny_coro/async_mutex.h>
#include <tiny_coro/async_semaphore.h>
#include <tiny_coro/channel.h>
#include <tiny_coro/scheduler.h>
#include <tiny_coro/select.h>
#include <tiny_coro/socket.h>
#include <tiny_coro/timeout.h>
#include <tiny_coro/timer.h>

#include "support/random_cancel.h"

#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <optional>
#include <random>
#include <string>
#include <thread>
#include <vector>

namespace {

using tiny_coro::Channel;
using tiny_coro::JoinHandle;
using tiny_coro::Scheduler;
using tiny_coro::Task;
using namespace std::chrono_literals;

constexpr std::size_t kBlock = 10'000;

std::atomic<long> live_tasks{0};

// Held by every soak task's frame: the live count is back to zero only once every task of a
// block has finished and its frame is gone.
struct Live {
  Live() { live_tasks.fetch_add(1, std::memory_order_relaxed); }
  Live(const Live&) = delete;
  Live& operator=(const Live&) = delete;
  ~Live() { live_tasks.fetch_sub(1, std::memory_order_relaxed); }
};

[[noreturn]] void fail(const char* kind, std::size_t block, const std::string& what) {
  std::fprintf(stderr, "cancel_soak: block %zu (%s): %s\n", block, kind, what.c_str());
  std::exit(1);
}

template <class Make>
std::size_t run_cancelling(Scheduler& sched, std::mt19937_64& rng, std::size_t count, Make make) {
  return tiny_coro::test::spawn_and_cancel_randomly(sched, rng, count, make);
}

Task<void> receive_one(Channel<int>& chan, std::vector<std::atomic<int>>& seen) {
  Live live;
  const std::optional<int> v = co_await chan.recv();
  if (v) seen[static_cast<std::size_t>(*v)].fetch_add(1, std::memory_order_relaxed);
}

Task<void> receive_rest(Channel<int>& chan, std::vector<std::atomic<int>>& seen) {
  Live live;
  for (;;) {
    const std::optional<int> v = co_await chan.recv();
    if (!v) co_return;
    seen[static_cast<std::size_t>(*v)].fetch_add(1, std::memory_order_relaxed);
  }
}

Task<void> send_all(Channel<int>& chan, int count) {
  Live live;
  for (int i = 0; i < count; ++i) co_await chan.send(i);
  chan.close();
}

void check_exactly_once(const std::vector<std::atomic<int>>& seen, const char* kind,
                        std::size_t block) {
  for (std::size_t i = 0; i < seen.size(); ++i) {
    if (seen[i].load() != 1) {
      fail(kind, block, "value " + std::to_string(i) + " seen " + std::to_string(seen[i].load()) + " times");
    }
  }
}

void soak_recv(Scheduler& sched, std::mt19937_64& rng, std::size_t block) {
  Channel<int> chan(sched, rng() % 2 == 0 ? 0 : 4);
  std::vector<std::atomic<int>> seen(kBlock);
  auto producer = sched.spawn(send_all(chan, static_cast<int>(kBlock)));
  run_cancelling(sched, rng, kBlock, [&](std::size_t) { return receive_one(chan, seen); });
  sched.block_on(receive_rest(chan, seen));
  producer.wait_blocking();
  check_exactly_once(seen, "recv", block);
}

Task<void> send_one(Channel<int>& chan, int value, std::vector<std::atomic<int>>& offered_and_sent) {
  Live live;
  const bool sent = co_await chan.send(value);
  if (sent) offered_and_sent[static_cast<std::size_t>(value)].fetch_add(1, std::memory_order_relaxed);
}

void soak_send(Scheduler& sched, std::mt19937_64& rng, std::size_t block) {
  Channel<int> chan(sched, rng() % 2 == 0 ? 0 : 4);
  std::vector<std::atomic<int>> sent(kBlock), received(kBlock);
  auto consumer = sched.spawn(receive_rest(chan, received));
  run_cancelling(sched, rng, kBlock,
                 [&](std::size_t i) { return send_one(chan, static_cast<int>(i), sent); });
  chan.close();
  consumer.wait_blocking();
  for (std::size_t i = 0; i < kBlock; ++i) {
    if (sent[i].load() != received[i].load()) {
      fail("send", block, "value " + std::to_string(i) + " sent " + std::to_string(sent[i].load()) +
                              " received " + std::to_string(received[i].load()));
    }
  }
}

Task<void> select_one(Channel<int>& a, Channel<int>& b, std::vector<std::atomic<int>>& seen) {
  Live live;
  auto from_a = a.recv_case();
  auto from_b = b.recv_case();
  const std::size_t winner = co_await tiny_coro::select(from_a, from_b);
  const auto& value = winner == 0 ? from_a.value() : from_b.value();
  if (value) seen[static_cast<std::size_t>(*value)].fetch_add(1, std::memory_order_relaxed);
}

Task<void> send_alternating(Channel<int>& a, Channel<int>& b, int count) {
  Live live;
  for (int i = 0; i < count; ++i) co_await (i % 2 == 0 ? a : b).send(i);
  a.close();
  b.close();
}

void soak_select(Scheduler& sched, std::mt19937_64& rng, std::size_t block) {
  const std::size_t capacity = rng() % 2 == 0 ? 0 : 4;
  Channel<int> a(sched, capacity), b(sched, capacity);
  std::vector<std::atomic<int>> seen(kBlock);
  auto producer = sched.spawn(send_alternating(a, b, static_cast<int>(kBlock)));
  run_cancelling(sched, rng, kBlock, [&](std::size_t) { return select_one(a, b, seen); });
  auto rest_of_b = sched.spawn(receive_rest(b, seen));
  sched.block_on(receive_rest(a, seen));
  rest_of_b.wait_blocking();
  producer.wait_blocking();
  check_exactly_once(seen, "select", block);
}

Task<void> lock_and_count(tiny_coro::AsyncMutex& mutex, long& inside, std::atomic<long>& done) {
  Live live;
  auto guard = co_await mutex.lock();  // unlocks when the frame unwinds, cancelled or not
  struct Leave {  // the yield below is a cancellation point too
    long& inside;
    ~Leave() { --inside; }
  } leave{inside};
  ++inside;  // guarded by the mutex: a lock held twice shows as a count above 1
  if (inside != 1) fail("mutex", 0, "two holders at once");
  co_await tiny_coro::yield_now();
  done.fetch_add(1, std::memory_order_relaxed);
}

void soak_mutex(Scheduler& sched, std::mt19937_64& rng, std::size_t block) {
  tiny_coro::AsyncMutex mutex(sched);
  long inside = 0;
  std::atomic<long> done{0};
  run_cancelling(sched, rng, kBlock, [&](std::size_t) { return lock_and_count(mutex, inside, done); });
  if (!mutex.try_lock()) fail("mutex", block, "the mutex was left locked");
  mutex.unlock();
  if (inside != 0) fail("mutex", block, "inside count " + std::to_string(inside));
}

Task<void> acquire_and_release(tiny_coro::Semaphore& sem, std::atomic<int>& holders, int permits,
                               std::atomic<bool>& over) {
  Live live;
  co_await sem.acquire();
  if (holders.fetch_add(1) + 1 > permits) over.store(true);
  holders.fetch_sub(1);
  sem.release();  // nothing between acquire and here can throw
}

void soak_semaphore(Scheduler& sched, std::mt19937_64& rng, std::size_t block) {
  constexpr int kPermits = 3;
  tiny_coro::Semaphore sem(sched, kPermits);
  std::atomic<int> holders{0};
  std::atomic<bool> over{false};
  run_cancelling(sched, rng, kBlock,
                 [&](std::size_t) { return acquire_and_release(sem, holders, kPermits, over); });
  if (sem.approx_available() != kPermits) {
    fail("semaphore", block, "permits " + std::to_string(sem.approx_available()));
  }
  if (over.load()) fail("semaphore", block, "more holders than permits");
}

Task<void> nap(Scheduler& sched, int micros) {
  Live live;
  co_await tiny_coro::sleep_for(sched, std::chrono::microseconds(micros));
}

void soak_sleep(Scheduler& sched, std::mt19937_64& rng, std::size_t block) {
  std::vector<int> micros(kBlock);
  for (auto& m : micros) m = static_cast<int>(rng() % 500);
  run_cancelling(sched, rng, kBlock, [&](std::size_t i) { return nap(sched, micros[i]); });
  if (sched.reactor()->pending_timers() != 0) {
    fail("sleep", block, std::to_string(sched.reactor()->pending_timers()) + " timers left");
  }
}

Task<std::optional<int>> recv_value(Channel<int>& chan) { co_return co_await chan.recv(); }

Task<void> receive_with_timeout(Scheduler& sched, Channel<int>& chan,
                                std::vector<std::atomic<int>>& seen, int micros) {
  Live live;
  try {
    const std::optional<int> v =
        co_await tiny_coro::timeout(sched, std::chrono::microseconds(micros), recv_value(chan));
    if (v) seen[static_cast<std::size_t>(*v)].fetch_add(1, std::memory_order_relaxed);
  } catch (const tiny_coro::TimedOut&) {
  }
}

void soak_timeout(Scheduler& sched, std::mt19937_64& rng, std::size_t block) {
  Channel<int> chan(sched, 4);
  std::vector<std::atomic<int>> seen(kBlock);
  std::vector<int> micros(kBlock);
  for (auto& m : micros) m = static_cast<int>(rng() % 200);
  auto producer = sched.spawn(send_all(chan, static_cast<int>(kBlock)));
  run_cancelling(sched, rng, kBlock,
                 [&](std::size_t i) { return receive_with_timeout(sched, chan, seen, micros[i]); });
  sched.block_on(receive_rest(chan, seen));
  producer.wait_blocking();
  check_exactly_once(seen, "timeout", block);
}

// --- socket read ---
struct Stream {
  explicit Stream(Scheduler& sched) : listener(sched.reactor()) {
    if (listener.bind("127.0.0.1", 0) != 0) throw std::runtime_error("bind");
    peer = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_port = htons(static_cast<std::uint16_t>(listener.port()));
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::connect(peer, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0) {
      throw std::runtime_error("connect");
    }
    socket = sched.block_on(accept(listener));
  }
  ~Stream() { ::close(peer); }
  static Task<tiny_coro::AsyncSocket> accept(tiny_coro::TcpListener& l) { co_return co_await l.accept(); }
  tiny_coro::TcpListener listener;
  tiny_coro::AsyncSocket socket;
  int peer = -1;
};

Task<void> read_byte(tiny_coro::AsyncSocket& socket, std::vector<unsigned char>& got) {
  Live live;
  char byte = 0;
  const ssize_t n = co_await socket.read(&byte, 1);
  if (n == 1) got.push_back(static_cast<unsigned char>(byte));
}

Task<void> read_until(tiny_coro::AsyncSocket& socket, std::vector<unsigned char>& got, std::size_t total) {
  Live live;
  char buf[512];
  while (got.size() < total) {
    const ssize_t n = co_await socket.read(buf, std::min(sizeof buf, total - got.size()));
    if (n <= 0) co_return;
    got.insert(got.end(), buf, buf + n);
  }
}

void soak_socket(Scheduler& sched, std::mt19937_64& rng, std::size_t block) {
  Stream stream(sched);
  std::vector<unsigned char> got;
  std::size_t written = 0;
  // One task at a time (the reads share `got` and the stream's order), so no batch here.
  for (std::size_t i = 0; i < kBlock; ++i) {
    const auto byte = static_cast<char>(written & 0xff);
    const bool write_first = rng() % 2 == 0;
    if (write_first && ::write(stream.peer, &byte, 1) == 1) ++written;
    auto reader = sched.spawn(read_byte(stream.socket, got));
    for (auto spin = rng() % 400; spin > 0; --spin) std::atomic_signal_fence(std::memory_order_seq_cst);
    reader.cancel();
    if (!write_first && ::write(stream.peer, &byte, 1) == 1) ++written;
    reader.wait_blocking();
  }
  sched.block_on(read_until(stream.socket, got, written));
  if (got.size() != written) fail("socket", block, "read " + std::to_string(got.size()) + " of " + std::to_string(written));
  for (std::size_t i = 0; i < got.size(); ++i) {
    if (got[i] != static_cast<unsigned char>(i & 0xff)) fail("socket", block, "stream broken at byte " + std::to_string(i));
  }
}

}  // namespace

int main(int argc, char** argv) {
  const std::size_t operations = argc > 1 ? std::strtoull(argv[1], nullptr, 10) : 10'000'000;
  const std::uint64_t seed = argc > 2 ? std::strtoull(argv[2], nullptr, 10) : 1;
  std::mt19937_64 rng(seed);
  Scheduler sched(2);
  using Soak = void (*)(Scheduler&, std::mt19937_64&, std::size_t);
  const std::pair<const char*, Soak> kinds[] = {
      {"recv", soak_recv},   {"send", soak_send},   {"select", soak_select},
      {"mutex", soak_mutex}, {"semaphore", soak_semaphore}, {"sleep", soak_sleep},
      {"timeout", soak_timeout}, {"socket", soak_socket},
  };
  std::vector<std::size_t> per_kind(std::size(kinds));
  const auto start = std::chrono::steady_clock::now();
  const std::size_t blocks = (operations + kBlock - 1) / kBlock;
  for (std::size_t block = 0; block < blocks; ++block) {
    const std::size_t kind = rng() % std::size(kinds);
    kinds[kind].second(sched, rng, block);
    ++per_kind[kind];
    if (live_tasks.load() != 0) {
      fail(kinds[kind].first, block, std::to_string(live_tasks.load()) + " tasks still alive");
    }
  }
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::printf("cancel_soak: %zu operations in %zu blocks, seed %llu, %.1f s: all counts exact, "
              "live tasks back to 0\n",
              blocks * kBlock, blocks, static_cast<unsigned long long>(seed), seconds);
  for (std::size_t k = 0; k < std::size(kinds); ++k) {
    std::printf("  %-9s %zu blocks\n", kinds[k].first, per_kind[k]);
  }
  return 0;
}
