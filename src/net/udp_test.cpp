// UdpSocket: a million datagrams checked one by one, truncation and ICMP
// errors as values, deadlines, close, cancel safety, and batches.
#include <tiny_coro/address.h>
#include <tiny_coro/cancel.h>
#include <tiny_coro/scheduler.h>
#include <tiny_coro/udp.h>

#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "support/random_cancel.h"
#include "support/scale.h"
#include "support/wait_for.h"

namespace tiny_coro {
namespace {

using namespace std::chrono_literals;

// The largest UDP payload over IPv4: 65535 - 20 (IP header) - 8 (UDP header).
constexpr std::size_t kMaxPayload = 65507;

// Two sockets on 127.0.0.1, each connected to the other.
struct Pair {
  explicit Pair(Scheduler& sched, UdpOptions options = {})
      : a(UdpSocket::bind(sched.reactor(), "127.0.0.1", 0, options)),
        b(UdpSocket::bind(sched.reactor(), "127.0.0.1", 0, options)) {
    if (!a || !b) throw std::system_error(a ? b.error() : a.error(), "bind");
    if (a.connect(b.local_address()) != 0 || b.connect(a.local_address()) != 0) {
      throw std::system_error(errno, std::system_category(), "connect");
    }
  }
  UdpSocket a;
  UdpSocket b;
};

template <class T>
Task<T> join(JoinHandle<T> handle) {
  co_return co_await std::move(handle);
}

// --- one million datagrams ---

std::uint64_t mix(std::uint64_t x) noexcept {  // splitmix64's finaliser
  x += 0x9e3779b97f4a7c15u;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9u;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebu;
  return x ^ (x >> 31);
}

// Datagram `seq`'s size, known to both ends: 8..65507 bytes, skewed towards small ones (the
// cube of a uniform draw as the exponent) so a million of them pass in seconds, with every
// thousandth the largest there is.
std::size_t datagram_size(std::uint64_t seq) noexcept {
  if (seq % 1000 == 999) return kMaxPayload;
  const double u = static_cast<double>(mix(seq) >> 11) * 0x1.0p-53;
  const auto size = static_cast<std::size_t>(std::exp(u * u * u * std::log(double(kMaxPayload))));
  return std::clamp<std::size_t>(size, 8, kMaxPayload);
}

// The datagram: its sequence number, then words that depend on it and on their offset, so
// a datagram delivered with another's content, or shifted, shows.
void fill_datagram(unsigned char* buf, std::uint64_t seq, std::size_t size) noexcept {
  std::memcpy(buf, &seq, 8);
  const std::uint64_t base = mix(seq);
  std::size_t offset = 8;
  for (; offset + 8 <= size; offset += 8) {
    const std::uint64_t word = base + offset;
    std::memcpy(buf + offset, &word, 8);
  }
  const std::uint64_t tail = base + offset;
  std::memcpy(buf + offset, &tail, size - offset);
}

bool datagram_intact(const unsigned char* buf, std::uint64_t seq, std::size_t size) noexcept {
  std::uint64_t got_seq = 0;
  std::memcpy(&got_seq, buf, 8);
  if (got_seq != seq) return false;
  const std::uint64_t base = mix(seq);
  std::size_t offset = 8;
  for (; offset + 8 <= size; offset += 8) {
    std::uint64_t word = 0;
    std::memcpy(&word, buf + offset, 8);
    if (word != base + offset) return false;
  }
  const std::uint64_t tail = base + offset;
  return std::memcmp(buf + offset, &tail, size - offset) == 0;
}

// Flow control, so no datagram is ever dropped at a full receive buffer: the sender keeps at
// most kWindow datagrams and `window_bytes` unacknowledged (it may overshoot by the one it
// just sent); the receiver acknowledges whenever half of either has arrived since its last
// acknowledgement. When the sender stops, what it waits for covers at least one half, so
// the acknowledgement it needs is always coming.
constexpr std::uint64_t kWindow = 64;

struct Ack {
  std::uint64_t datagrams = 0;  // received so far
  std::uint64_t bytes = 0;
};

Task<std::string> send_stream(UdpSocket& socket, std::uint64_t count, std::uint64_t window_bytes) {
  std::vector<unsigned char> buf(kMaxPayload);
  Ack acked;
  std::uint64_t sent_bytes = 0;
  for (std::uint64_t seq = 0; seq < count; ++seq) {
    while (seq - acked.datagrams >= kWindow || sent_bytes - acked.bytes >= window_bytes) {
      Ack ack;
      const ssize_t n = co_await socket.recv(&ack, sizeof ack, 10s);
      if (n != sizeof ack) co_return "ack: " + std::to_string(n);
      acked.datagrams = std::max(acked.datagrams, ack.datagrams);
      acked.bytes = std::max(acked.bytes, ack.bytes);
    }
    const std::size_t size = datagram_size(seq);
    fill_datagram(buf.data(), seq, size);
    const ssize_t n = co_await socket.send(buf.data(), size, 10s);
    if (n != static_cast<ssize_t>(size)) co_return "send: " + std::to_string(n);
    sent_bytes += size;
  }
  co_return "";
}

Task<std::string> receive_stream(UdpSocket& socket, std::uint64_t count,
                                 std::uint64_t window_bytes) {
  std::vector<unsigned char> buf(kMaxPayload + 1);  // one more: an overlong datagram shows
  Ack received;
  Ack last_ack;
  for (std::uint64_t seq = 0; seq < count; ++seq) {
    // A lost datagram would stall the stream: the deadline turns that into a failure.
    const ssize_t n = co_await socket.recv(buf.data(), buf.size(), 10s);
    if (n < 0) co_return "datagram " + std::to_string(seq) + ": error " + std::to_string(n);
    if (static_cast<std::size_t>(n) != datagram_size(seq) ||
        !datagram_intact(buf.data(), seq, static_cast<std::size_t>(n))) {
      std::uint64_t got = 0;
      std::memcpy(&got, buf.data(), 8);
      co_return "datagram " + std::to_string(seq) + ": got " + std::to_string(n) +
          " bytes, sequence number " + std::to_string(got);
    }
    ++received.datagrams;
    received.bytes += static_cast<std::uint64_t>(n);
    if (received.datagrams - last_ack.datagrams >= kWindow / 2 ||
        received.bytes - last_ack.bytes >= window_bytes / 2) {
      if (co_await socket.send(&received, sizeof received, 10s) != sizeof received) {
        co_return "ack send failed";
      }
      last_ack = received;
    }
  }
  co_return "";
}

TEST(Udp, AMillionDatagramsOfRandomSizesArriveExactlyOnceInOrder) {
  const std::uint64_t count = test::scaled(1'000'000, 20);
  Scheduler sched(2);
  Pair pair(sched, UdpOptions{.receive_buffer = 4 << 20});
  int receive_buffer = 0;  // as granted: the kernel caps the request at rmem_max
  socklen_t length = sizeof receive_buffer;
  ASSERT_EQ(::getsockopt(pair.b.fd(), SOL_SOCKET, SO_RCVBUF, &receive_buffer, &length), 0);
  // An eighth: room for the overshoot and for the kernel's per-datagram overhead, which
  // it charges to the buffer too.
  const auto window_bytes = static_cast<std::uint64_t>(receive_buffer) / 8;
  auto receiver = sched.spawn(receive_stream(pair.b, count, window_bytes));
  auto sender = sched.spawn(send_stream(pair.a, count, window_bytes));
  EXPECT_EQ(sched.block_on(join(std::move(sender))), "");
  EXPECT_EQ(sched.block_on(join(std::move(receiver))), "");
  // Nothing more: no duplicate queued behind the last one.
  char extra = 0;
  EXPECT_EQ(::recv(pair.b.fd(), &extra, 1, MSG_DONTWAIT), -1);
  EXPECT_EQ(errno, EAGAIN);
}

// --- errors as values ---

// A result and the errno beside it, read on the thread that ran the co_await (errno is
// per thread, and block_on's caller is not that thread).
struct Outcome {
  ssize_t result = 0;
  int error = 0;
};

Task<Outcome> recv_into(UdpSocket& socket, void* buf, std::size_t size, Deadline deadline = {}) {
  errno = 0;
  const ssize_t n = co_await socket.recv(buf, size, deadline);
  co_return Outcome{n, errno};
}
Task<Outcome> recv_from_into(UdpSocket& socket, void* buf, std::size_t size, SocketAddress& from,
                             Deadline deadline = {}) {
  errno = 0;
  const ssize_t n = co_await socket.recv_from(buf, size, from, deadline);
  co_return Outcome{n, errno};
}
Task<ssize_t> send_of(UdpSocket& socket, const void* buf, std::size_t len) {
  co_return co_await socket.send(buf, len, 10s);
}
Task<ssize_t> send_to_of(UdpSocket& socket, const void* buf, std::size_t len,
                         const SocketAddress& to) {
  co_return co_await socket.send_to(buf, len, to, 10s);
}

TEST(Udp, ADatagramLongerThanTheBufferIsCutReportedAndConsumed) {
  Scheduler sched(1);
  Pair pair(sched);
  std::array<char, 100> long_one{};
  for (std::size_t i = 0; i < long_one.size(); ++i) long_one[i] = static_cast<char>('a' + i % 26);
  ASSERT_EQ(sched.block_on(send_of(pair.a, long_one.data(), long_one.size())), 100);
  ASSERT_EQ(sched.block_on(send_of(pair.a, "hello", 5)), 5);

  std::array<char, 100> buf{};
  SocketAddress from;
  const Outcome cut = sched.block_on(recv_from_into(pair.b, buf.data(), 10, from, 10s));
  EXPECT_EQ(cut.result, -EMSGSIZE);
  EXPECT_EQ(cut.error, EMSGSIZE);
  EXPECT_EQ(std::string(buf.data(), 10), std::string(long_one.data(), 10));
  EXPECT_EQ(buf[10], 0);  // nothing past the buffer it was given
  EXPECT_EQ(from, pair.a.local_address());
  // The rest of the long one is gone: the next datagram comes whole.
  EXPECT_EQ(sched.block_on(recv_into(pair.b, buf.data(), buf.size(), 10s)).result, 5);
  EXPECT_EQ(std::string(buf.data(), 5), "hello");
}

TEST(Udp, SendingToAPortWithNoListenerIsReportedAsRefused) {
  Scheduler sched(1);
  UdpSocket socket = UdpSocket::bind(sched.reactor(), "127.0.0.1", 0);
  ASSERT_TRUE(socket);
  SocketAddress closed;
  {
    UdpSocket gone = UdpSocket::bind(sched.reactor(), "127.0.0.1", 0);
    ASSERT_TRUE(gone);
    closed = gone.local_address();
  }  // closed: the port answers with ICMP port unreachable now
  ASSERT_EQ(socket.connect(closed), 0);
  char byte = 'x';
  const ssize_t sent = sched.block_on(send_of(socket, &byte, 1));
  // Loopback may deliver the ICMP error before send returns; then the send reports it.
  if (sent != -ECONNREFUSED) {
    ASSERT_EQ(sent, 1);
    const Outcome refused = sched.block_on(recv_into(socket, &byte, 1, 10s));
    EXPECT_EQ(refused.result, -ECONNREFUSED);
    EXPECT_EQ(refused.error, ECONNREFUSED);
  }
  // Reported once: the socket works on (a datagram to itself arrives).
  ASSERT_EQ(socket.connect(socket.local_address()), 0);
  ASSERT_EQ(sched.block_on(send_of(socket, "y", 1)), 1);
  EXPECT_EQ(sched.block_on(recv_into(socket, &byte, 1, 10s)).result, 1);
  EXPECT_EQ(byte, 'y');
}

TEST(Udp, Ipv6LoopbackSendsAndNamesItsPeers) {
  Scheduler sched(1);
  UdpSocket a = UdpSocket::bind(sched.reactor(), "::1", 0);
  UdpSocket b = UdpSocket::bind(sched.reactor(), "[::1]", 0);
  if (!a || !b) GTEST_SKIP() << "no IPv6 loopback here: " << (a ? b : a).error().message();
  EXPECT_EQ(a.local_address().family(), AF_INET6);
  ASSERT_EQ(sched.block_on(send_to_of(a, "six", 3, b.local_address())), 3);
  std::array<char, 8> buf{};
  SocketAddress from;
  ASSERT_EQ(sched.block_on(recv_from_into(b, buf.data(), buf.size(), from, 10s)).result, 3);
  EXPECT_EQ(std::string(buf.data(), 3), "six");
  EXPECT_EQ(from, a.local_address());
  EXPECT_EQ(from.to_string(), "[::1]:" + std::to_string(a.local_address().port()));
}

TEST(Udp, BindFailuresTestFalseAndSayWhy) {
  Scheduler sched(1);
  UdpSocket a = UdpSocket::bind(sched.reactor(), "127.0.0.1", 0);
  ASSERT_TRUE(a);
  UdpSocket clash = UdpSocket::bind(sched.reactor(), a.local_address());
  EXPECT_FALSE(clash);
  EXPECT_EQ(clash.error(), std::error_code(EADDRINUSE, std::system_category()));
  UdpSocket malformed = UdpSocket::bind(sched.reactor(), "not an address", 0);
  EXPECT_FALSE(malformed);
  EXPECT_EQ(malformed.error(), std::error_code(EINVAL, std::system_category()));
  EXPECT_FALSE(UdpSocket::bind(sched.reactor(), SocketAddress()));
}

TEST(Udp, ARecvPastItsDeadlineTimesOut) {
  Scheduler sched(1);
  Pair pair(sched);
  char byte = 0;
  const Outcome late = sched.block_on(recv_into(pair.b, &byte, 1, 20ms));
  EXPECT_EQ(late.result, -ETIMEDOUT);
  EXPECT_EQ(late.error, ETIMEDOUT);
}

// One worker: once the receiver has started, it ran until it suspended in recv() (nothing is
// queued), and only then does this task run again and close the socket under it.
Task<ssize_t> flag_and_recv(UdpSocket& socket, bool& started) {
  started = true;
  char byte = 0;
  co_return co_await socket.recv(&byte, 1);
}

Task<ssize_t> close_under_pending_recv(Scheduler& sched, UdpSocket& socket) {
  bool started = false;
  auto receiver = sched.spawn(flag_and_recv(socket, started));
  while (!started) co_await yield_now();
  socket.close();
  co_return co_await std::move(receiver);
}

TEST(Udp, ClosingTheSocketWakesAPendingRecvWithEcanceled) {
  Scheduler sched(1);
  Pair pair(sched);
  EXPECT_EQ(sched.block_on(close_under_pending_recv(sched, pair.b)), -ECANCELED);
  bool started = false;
  EXPECT_EQ(sched.block_on(flag_and_recv(pair.b, started)), -EBADF);  // closed before it began
}

Task<void> recv_forever(UdpSocket& socket) {
  char byte = 0;
  (void)co_await socket.recv(&byte, 1);
}

TEST(Udp, ATaskDumpNamesAPendingRecvAsADatagramReceive) {
  if (!TINY_CORO_TRACK_AWAITS) GTEST_SKIP() << "built without await tracking";
  Scheduler sched(1);
  Pair pair(sched);
  auto receiver = sched.spawn(recv_forever(pair.b));
  std::string dump;
  EXPECT_TRUE(test::wait_for([&] {
    dump = sched.dump_tasks();
    return dump.find("] recv datagram\n") != std::string::npos;
  })) << dump;
  receiver.cancel();
  EXPECT_TRUE(test::ended_cancelled(receiver));
}

// --- cancel safety ---

Task<void> recv_one(UdpSocket& socket, std::vector<std::uint32_t>& got) {
  std::uint32_t value = 0;
  const ssize_t n = co_await socket.recv(&value, sizeof value);
  if (n == sizeof value) got.push_back(value);
}

Task<void> recv_until(UdpSocket& socket, std::vector<std::uint32_t>& got, std::size_t total) {
  while (got.size() < total) {
    std::uint32_t value = 0;
    if (co_await socket.recv(&value, sizeof value, 10s) != sizeof value) co_return;
    got.push_back(value);
  }
}

// Each round sends datagram i at a random moment and cancels a receive at another: what the
// completed receives took plus what is still queued is every datagram, once, in order.
TEST(Udp, CancelledRecvsRacingDatagramsLoseNoneAndDuplicateNone) {
  const std::size_t rounds = test::scaled(10'000, 5);
  Scheduler sched(2);
  Pair pair(sched, UdpOptions{.receive_buffer = 4 << 20});
  std::mt19937 rng(31);
  std::vector<std::uint32_t> got;
  std::size_t cancelled = 0;
  std::uint32_t next = 0;
  auto send_next = [&] {
    ASSERT_EQ(::send(pair.a.fd(), &next, sizeof next, 0), static_cast<ssize_t>(sizeof next));
    ++next;
  };
  for (std::size_t i = 0; i < rounds; ++i) {
    const unsigned moment = rng() % 3;
    if (moment == 0) send_next();
    auto receiver = sched.spawn(recv_one(pair.b, got));
    if (moment == 1) send_next();
    for (unsigned spin = rng() % 500; spin > 0; --spin) {
      std::atomic_signal_fence(std::memory_order_seq_cst);  // a short, random delay
    }
    receiver.cancel();
    if (moment == 2) send_next();
    cancelled += test::ended_cancelled(receiver) ? 1 : 0;
    // Keep the queue short, so no datagram can be dropped for want of room: the few left
    // after a run of cancels are taken here, in order.
    if (next - got.size() > 64) sched.block_on(recv_until(pair.b, got, next - 32));
  }
  sched.block_on(recv_until(pair.b, got, rounds));
  ASSERT_EQ(got.size(), rounds);
  for (std::size_t i = 0; i < rounds; ++i) {
    ASSERT_EQ(got[i], i) << "datagram stream broken at " << i;
  }
  EXPECT_GT(cancelled, 0u);
}

// --- batches ---

Task<ssize_t> send_many_of(UdpSocket& socket, std::span<const Datagram> batch) {
  co_return co_await socket.send_many(batch, 10s);
}
Task<ssize_t> recv_many_into(UdpSocket& socket, std::span<Datagram> batch) {
  co_return co_await socket.recv_many(batch, 10s);
}

// Rounds of a random number of datagrams (some to an explicit peer, some to the connected
// one), received through spans of random length: each arrives once, in order, with its
// length and sender; a span never gets more entries filled than it has.
TEST(Udp, RecvManyAndSendManyMoveExactBatches) {
  const int rounds = static_cast<int>(test::scaled(2'000, 10));
  Scheduler sched(2);
  Pair pair(sched);
  std::mt19937 rng(37);
  std::vector<std::vector<unsigned char>> out(UdpSocket::kMaxBatch + 8,
                                              std::vector<unsigned char>(512));
  std::vector<std::vector<unsigned char>> in(UdpSocket::kMaxBatch,
                                             std::vector<unsigned char>(512));
  std::uint64_t seq = 0;
  std::uint64_t expected = 0;
  for (int round = 0; round < rounds; ++round) {
    // More than kMaxBatch now and then: send_many then takes the first kMaxBatch.
    const std::size_t count = 1 + rng() % (UdpSocket::kMaxBatch + 8);
    std::vector<Datagram> batch(count);
    for (std::size_t i = 0; i < count; ++i) {
      const std::size_t size = 8 + rng() % 500;
      fill_datagram(out[i].data(), seq + i, size);
      batch[i].data = out[i].data();
      batch[i].size = size;
      if (rng() % 2 == 0) batch[i].peer = pair.b.local_address();
    }
    std::size_t sent = 0;
    while (sent < count) {
      const ssize_t n = sched.block_on(
          send_many_of(pair.a, std::span<const Datagram>(batch).subspan(sent)));
      ASSERT_GE(n, 1);
      ASSERT_LE(static_cast<std::size_t>(n), std::min(count - sent, UdpSocket::kMaxBatch));
      sent += static_cast<std::size_t>(n);
    }
    seq += count;
    while (expected < seq) {
      std::vector<Datagram> got(1 + rng() % UdpSocket::kMaxBatch);
      for (std::size_t i = 0; i < got.size(); ++i) {
        got[i].data = in[i].data();
        got[i].size = in[i].size();
      }
      const ssize_t n = sched.block_on(recv_many_into(pair.b, got));
      ASSERT_GE(n, 1);
      ASSERT_LE(static_cast<std::size_t>(n), got.size());
      for (std::size_t i = 0; i < static_cast<std::size_t>(n); ++i, ++expected) {
        const std::size_t size = batch[expected - (seq - count)].size;
        ASSERT_EQ(got[i].length, size) << "datagram " << expected;
        ASSERT_FALSE(got[i].truncated);
        ASSERT_TRUE(datagram_intact(in[i].data(), expected, size)) << "datagram " << expected;
        ASSERT_EQ(got[i].peer, pair.a.local_address());
      }
      for (std::size_t i = static_cast<std::size_t>(n); i < got.size(); ++i) {
        ASSERT_FALSE(got[i].peer);  // untouched
      }
    }
  }
  char extra = 0;
  EXPECT_EQ(::recv(pair.b.fd(), &extra, 1, MSG_DONTWAIT), -1);
}

TEST(Udp, RecvManyMarksACutDatagramAndCountsIt) {
  Scheduler sched(1);
  Pair pair(sched);
  ASSERT_EQ(sched.block_on(send_of(pair.a, "0123456789", 10)), 10);
  ASSERT_EQ(sched.block_on(send_of(pair.a, "ab", 2)), 2);
  std::array<char, 4> first{};
  std::array<char, 4> second{};
  std::array<Datagram, 2> got;
  got[0].data = first.data();
  got[0].size = first.size();
  got[1].data = second.data();
  got[1].size = second.size();
  // Both are queued by now (loopback delivers within send), but recvmmsg may still return
  // them one call at a time; take them in as many calls as it needs.
  ssize_t n = sched.block_on(recv_many_into(pair.b, got));
  ASSERT_GE(n, 1);
  EXPECT_TRUE(got[0].truncated);
  EXPECT_EQ(got[0].length, 4u);
  EXPECT_EQ(std::string(first.data(), 4), "0123");
  if (n == 1) {
    n = sched.block_on(recv_many_into(pair.b, std::span<Datagram>(got).subspan(1)));
    ASSERT_EQ(n, 1);
  }
  EXPECT_FALSE(got[1].truncated);
  EXPECT_EQ(got[1].length, 2u);
  EXPECT_EQ(std::string(second.data(), 2), "ab");
}

}  // namespace
}  // namespace tiny_coro
