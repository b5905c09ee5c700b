// Cancel safety of socket operations: a cancelled read consumed nothing, a cancelled accept
// took no connection, and every cancelled wait resumes at once with TaskCancelled rather than
// when the peer finally acts.
#include <tiny_coro/cancel.h>
#include <tiny_coro/scheduler.h>
#include <tiny_coro/socket.h>

#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cstdint>
#include <random>
#include <thread>
#include <vector>

#include "support/loopback.h"
#include "support/random_cancel.h"
#include "support/scale.h"

namespace tiny_coro {
namespace {

Task<AsyncSocket> accept_one(TcpListener& listener) { co_return co_await listener.accept(); }

// A connected pair: `socket` is ours (async), `peer` a blocking descriptor the test drives.
struct Connection {
  explicit Connection(Scheduler& sched) : listener(sched.reactor()) {
    if (listener.bind("127.0.0.1", 0) != 0) throw std::runtime_error("bind");
    peer = test::connect_loopback(listener.port());
    socket = sched.block_on(accept_one(listener));
    if (peer < 0 || !socket) throw std::runtime_error("connect");
  }
  ~Connection() { ::close(peer); }
  TcpListener listener;
  AsyncSocket socket;
  int peer = -1;
};

using test::ended_cancelled;

Task<ssize_t> read_into(AsyncSocket& socket, char* buf, std::size_t len) {
  co_return co_await socket.read(buf, len);
}

TEST(SocketCancel, ACancelledReadResumesAtOnceAndConsumesNothing) {
  Scheduler sched(2);
  Connection c(sched);
  char buf[8] = {};
  auto reader = sched.spawn(read_into(c.socket, buf, sizeof buf));
  reader.cancel();  // the peer stays silent: only the cancel can end this read
  EXPECT_TRUE(ended_cancelled(reader));
  ASSERT_EQ(::write(c.peer, "abc", 3), 3);
  auto next = sched.spawn(read_into(c.socket, buf, sizeof buf));
  next.wait_blocking();
  ASSERT_EQ(next.take_result(), 3);
  EXPECT_EQ(std::string(buf, 3), "abc");
}

Task<ssize_t> wait_then_read(AsyncSocket& socket, char* buf) {
  const ssize_t readable = co_await socket.wait_readable();
  if (readable < 0) co_return readable;
  co_return co_await socket.read(buf, 1);
}

TEST(SocketCancel, ACancelledWaitReadableResumesAtOnce) {
  Scheduler sched(1);
  Connection c(sched);
  char byte = 0;
  auto waiter = sched.spawn(wait_then_read(c.socket, &byte));
  waiter.cancel();
  EXPECT_TRUE(ended_cancelled(waiter));
}

// Reads one byte into `got` (if the read completes, the byte is the stream's next).
Task<void> read_one(AsyncSocket& socket, std::vector<std::uint8_t>& got) {
  char byte = 0;
  const ssize_t n = co_await socket.read(&byte, 1);
  if (n == 1) got.push_back(static_cast<std::uint8_t>(byte));
}

Task<void> read_exactly(AsyncSocket& socket, std::vector<std::uint8_t>& got, std::size_t total) {
  char buf[256];
  while (got.size() < total) {
    const ssize_t n = co_await socket.read(buf, std::min(sizeof buf, total - got.size()));
    if (n <= 0) co_return;
    got.insert(got.end(), buf, buf + n);
  }
}

// Each round writes one byte at a random moment and cancels a one-byte read at another: what
// the completed reads took plus what is left in the stream is the whole stream, in order.
TEST(SocketCancel, CancelledReadsRacingDataLoseNoByte) {
  const std::size_t rounds = test::scaled(10'000, 5);
  Scheduler sched(2);
  Connection c(sched);
  std::mt19937 rng(23);
  std::vector<std::uint8_t> got;
  std::size_t cancelled = 0;
  auto write_byte = [&, next = std::size_t{0}]() mutable {
    const auto byte = static_cast<char>(next++ & 0xff);
    ASSERT_EQ(::write(c.peer, &byte, 1), 1);
  };
  for (std::size_t i = 0; i < rounds; ++i) {
    const unsigned moment = rng() % 3;
    if (moment == 0) write_byte();
    auto reader = sched.spawn(read_one(c.socket, got));
    if (moment == 1) write_byte();
    for (unsigned spin = rng() % 500; spin > 0; --spin) {
      std::atomic_signal_fence(std::memory_order_seq_cst);  // a short, random delay
    }
    reader.cancel();
    if (moment == 2) write_byte();
    cancelled += ended_cancelled(reader) ? 1 : 0;
  }
  sched.block_on(read_exactly(c.socket, got, rounds));
  ASSERT_EQ(got.size(), rounds);
  for (std::size_t i = 0; i < rounds; ++i) {
    ASSERT_EQ(got[i], static_cast<std::uint8_t>(i & 0xff)) << "stream broken at byte " << i;
  }
  EXPECT_GT(cancelled, 0u);
}

TEST(SocketCancel, ACancelledAcceptTakesNoConnection) {
  Scheduler sched(2);
  TcpListener listener(sched.reactor());
  ASSERT_EQ(listener.bind("127.0.0.1", 0), 0);
  auto acceptor = sched.spawn(accept_one(listener));
  acceptor.cancel();
  EXPECT_TRUE(ended_cancelled(acceptor));
  const int client = test::connect_loopback(listener.port());
  ASSERT_GE(client, 0);
  AsyncSocket accepted = sched.block_on(accept_one(listener));
  EXPECT_TRUE(static_cast<bool>(accepted));
  ::close(client);
}

// Writes until the peer's buffers are full, then waits: only a cancel ends it.
Task<void> write_forever(AsyncSocket& socket) {
  std::vector<char> chunk(64 * 1024, 'w');
  for (;;) {
    const ssize_t n = co_await socket.write(chunk.data(), chunk.size());
    if (n < 0) co_return;
  }
}

TEST(SocketCancel, ACancelledWriteBlockedOnAFullPeerResumesAtOnce) {
  Scheduler sched(2);
  Connection c(sched);
  auto writer = sched.spawn(write_forever(c.socket));
  // Cancelled before or after it parks on the full buffer: either way its wait ends it.
  writer.cancel();
  EXPECT_TRUE(ended_cancelled(writer));
}

// Byte `offset` of the test stream: not periodic in 256, so a slip of any length shows.
char stream_byte(std::size_t offset) noexcept {
  return static_cast<char>((offset * 2654435761u) >> 24);
}

// What one write put on the stream: all of it, the prefix a WriteCancelled reports, or nothing.
Task<std::size_t> write_accounted(AsyncSocket& socket, const std::vector<char>& data,
                                  std::size_t& partial) {
  try {
    const ssize_t n = co_await socket.write(data.data(), data.size());
    co_return n < 0 ? 0 : static_cast<std::size_t>(n);
  } catch (const WriteCancelled& cancelled) {
    ++partial;
    co_return cancelled.written();
  } catch (const TaskCancelled&) {
    co_return 0;
  }
}

// Writes cancelled at random moments while a peer drains the stream: each write's data starts
// where the stream really is (the previous write's full length, its reported prefix, or
// nothing), so the peer sees one unbroken pattern exactly as long as the sum reported.
TEST(SocketCancel, CancelledWritesSayExactlyWhatWentOut) {
  const std::size_t rounds = test::scaled(1'000, 5);
  Scheduler sched(2);
  Connection c(sched);
  const int small = 16 * 1024;  // the writes outgrow it, so they wait and get cancelled mid-way
  ASSERT_EQ(::setsockopt(c.socket.fd(), SOL_SOCKET, SO_SNDBUF, &small, sizeof(small)), 0);
  std::size_t sent = 0;
  std::size_t partial = 0;
  std::vector<char> data;
  // First a write that is surely cut short: the peer reads nothing yet, so 4 MiB cannot fit
  // in the buffers; once the first bytes have reached the peer the write is under way, and the
  // cancel ends it with a prefix. (The random rounds below may or may not catch one.)
  data.resize(4 << 20);
  for (std::size_t j = 0; j < data.size(); ++j) data[j] = stream_byte(j);
  {
    auto writer = sched.spawn(write_accounted(c.socket, data, partial));
    for (int queued = 0; queued == 0;) {
      ASSERT_EQ(::ioctl(c.peer, FIONREAD, &queued), 0);
      if (queued == 0) std::this_thread::yield();
    }
    writer.cancel();
    writer.wait_blocking();
    sent = writer.take_result();
  }
  ASSERT_EQ(partial, 1u);
  ASSERT_GT(sent, 0u);
  ASSERT_LT(sent, data.size());
  std::size_t received = 0;
  std::size_t first_wrong = SIZE_MAX;
  std::thread drain([&] {
    std::vector<char> buf(8192);
    for (;;) {
      const ssize_t n = ::read(c.peer, buf.data(), buf.size());
      if (n <= 0) return;
      for (ssize_t i = 0; i < n; ++i) {
        if (buf[static_cast<std::size_t>(i)] !=
                stream_byte(received + static_cast<std::size_t>(i)) &&
            first_wrong == SIZE_MAX) {
          first_wrong = received + static_cast<std::size_t>(i);
        }
      }
      received += static_cast<std::size_t>(n);
    }
  });
  std::mt19937 rng(29);
  for (std::size_t i = 0; i < rounds; ++i) {
    data.resize(1 + rng() % (256 * 1024));
    for (std::size_t j = 0; j < data.size(); ++j) data[j] = stream_byte(sent + j);
    auto writer = sched.spawn(write_accounted(c.socket, data, partial));
    for (unsigned spin = rng() % 20'000; spin > 0; --spin) {
      std::atomic_signal_fence(std::memory_order_seq_cst);  // a short, random delay
    }
    writer.cancel();
    writer.wait_blocking();
    try {
      sent += writer.take_result();
    } catch (const TaskCancelled&) {
      // Cancelled before it started: it wrote nothing.
    }
  }
  c.socket.shutdown();
  drain.join();
  EXPECT_EQ(first_wrong, SIZE_MAX) << "the stream broke at byte " << first_wrong;
  EXPECT_EQ(received, sent);
}

}  // namespace
}  // namespace tiny_coro
