#include <tiny_coro/socket.h>

#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

#include <tiny_coro/scheduler.h>
#include <tiny_coro/unix_socket.h>

#include "support/echo.h"
#include "support/loopback.h"
#include "support/scale.h"
#include "support/unix_name.h"
#include "support/wait_for.h"

namespace tiny_coro {
namespace {

using namespace std::chrono_literals;

// The echo tests run over every kind of stream socket.
enum class Transport { kTcp, kUnixPath, kUnixAbstract };

std::string transport_name(const ::testing::TestParamInfo<Transport>& info) {
  switch (info.param) {
    case Transport::kTcp:
      return "Tcp";
    case Transport::kUnixPath:
      return "UnixPath";
    case Transport::kUnixAbstract:
      break;
  }
  return "UnixAbstract";
}

// A listener of the transport (127.0.0.1 with a free port, a fresh socket file, a fresh
// abstract name), echoing in the background until closed.
struct EchoFixture {
  EchoFixture(Scheduler& sched, Transport transport)
      : tcp_listener(sched.reactor()), unix_listener(sched.reactor()) {
    if (transport == Transport::kTcp) {
      if (tcp_listener.bind("127.0.0.1", 0) != 0)
        throw std::system_error(errno, std::system_category());
      address.port = tcp_listener.port();
      server = sched.spawn(test::echo_server(sched, tcp_listener));
    } else {
      address.unix_path = transport == Transport::kUnixPath ? test::unique_unix_path()
                                                            : test::unique_abstract_name();
      if (unix_listener.bind(address.unix_path) != 0)
        throw std::system_error(errno, std::system_category());
      server = sched.spawn(test::echo_server(sched, unix_listener));
    }
  }
  ~EchoFixture() {  // the accept loop ends; echoes end with their peers
    tcp_listener.close();
    unix_listener.close();
  }
  TcpListener tcp_listener;
  UnixListener unix_listener;
  test::ServerAddress address;
  JoinHandle<void> server;
};

class EchoOverEveryTransport : public ::testing::TestWithParam<Transport> {};
INSTANTIATE_TEST_SUITE_P(Socket, EchoOverEveryTransport,
                         ::testing::Values(Transport::kTcp, Transport::kUnixPath,
                                           Transport::kUnixAbstract),
                         transport_name);

template <class T>
Task<T> join(JoinHandle<T> handle) {
  co_return co_await std::move(handle);
}

void raise_fd_limit() {
  rlimit limit{};
  ASSERT_EQ(::getrlimit(RLIMIT_NOFILE, &limit), 0);
  limit.rlim_cur = limit.rlim_max;
  ASSERT_EQ(::setrlimit(RLIMIT_NOFILE, &limit), 0);
}

Task<int> many_echo_clients(Scheduler& sched, test::ServerAddress server, int clients,
                            std::size_t bytes) {
  std::vector<JoinHandle<bool>> handles;
  for (int i = 0; i < clients; ++i)
    handles.push_back(sched.spawn(test::echo_client(sched, server, bytes)));
  int ok = 0;
  for (auto& h : handles) ok += co_await std::move(h) ? 1 : 0;
  co_return ok;
}

TEST_P(EchoOverEveryTransport, ManyConcurrentClientsGetEveryByteBackInOrder) {
  raise_fd_limit();
  // A Unix listener's backlog is a hard limit: past it a connect fails (EAGAIN) instead of
  // waiting, so the clients stay below the default backlog.
  const int clients = static_cast<int>(test::scaled(1000, 10));
  const std::size_t bytes = test::scaled(1 << 20, 16);
  Scheduler sched(2);
  EchoFixture echo(sched, GetParam());
  EXPECT_EQ(sched.block_on(many_echo_clients(sched, echo.address, clients, bytes)), clients);
}

TEST(Socket, BindReportsTheChosenPortAndErrorsWithErrno) {
  Scheduler sched(1);
  TcpListener listener(sched.reactor());
  EXPECT_EQ(listener.port(), -1);
  ASSERT_EQ(listener.bind("127.0.0.1", 0), 0);
  EXPECT_GT(listener.port(), 0);
  TcpListener clash(sched.reactor());
  EXPECT_EQ(clash.bind("127.0.0.1", listener.port()), -1);
  EXPECT_EQ(errno, EADDRINUSE);
  EXPECT_EQ(clash.bind("not an address", 0), -1);
  EXPECT_EQ(errno, EINVAL);
}

Task<std::string> exchange_over(Scheduler& sched, test::ServerAddress server) {
  AsyncSocket socket = co_await server.connect(sched.reactor());
  if (!socket) co_return "connect: " + socket.error().message();
  const std::string hello = "hello over " + (server.unix_path.empty() ? server.ip : "unix");
  if (co_await socket.write(hello) != static_cast<ssize_t>(hello.size())) co_return "write";
  socket.shutdown(SHUT_WR);
  std::string back;
  char buf[256];
  for (ssize_t n; (n = co_await socket.read(buf, sizeof buf)) > 0;)
    back.append(buf, static_cast<std::size_t>(n));
  co_return back;
}

TEST(Socket, Ipv6LoopbackWorks) {
  Scheduler sched(1);
  TcpListener listener(sched.reactor());
  if (listener.bind("::1", 0) != 0)
    GTEST_SKIP() << "no IPv6 loopback here: " << std::strerror(errno);
  auto server = sched.spawn(test::echo_server(sched, listener));
  EXPECT_EQ(sched.block_on(exchange_over(sched, test::ServerAddress::tcp(listener.port(), "::1"))),
            "hello over ::1");
  listener.close();
}

Task<std::string> read_to_end(AsyncSocket& socket) {
  std::string back;
  std::vector<char> buf(64 * 1024);
  for (ssize_t r; (r = co_await socket.read(buf.data(), buf.size())) > 0;) {
    back.append(buf.data(), static_cast<std::size_t>(r));
  }
  co_return back;
}

Task<std::string> send_header_and_body(Scheduler& sched, test::ServerAddress server) {
  AsyncSocket socket = co_await server.connect(sched.reactor());
  if (!socket) co_return "connect failed";
  auto echoed = sched.spawn(read_to_end(socket));  // reading meanwhile: no buffer deadlock
  // Large enough that the kernel takes it in several pieces: partial writev progress is
  // carried across entries.
  const std::string header = "HEADER:";
  const std::string body(4 << 20, 'b');
  const std::string empty;
  iovec parts[] = {{const_cast<char*>(header.data()), header.size()},
                   {const_cast<char*>(empty.data()), 0},
                   {const_cast<char*>(body.data()), body.size()}};
  const ssize_t n = co_await socket.writev(parts, 3);
  socket.shutdown(SHUT_WR);
  const std::string back = co_await std::move(echoed);
  if (n != static_cast<ssize_t>(header.size() + body.size()))
    co_return "writev " + std::to_string(n);
  co_return back == header + body ? "ok" : "mismatch";
}

TEST_P(EchoOverEveryTransport, WritevSendsEveryEntryInOrder) {
  Scheduler sched(2);
  EchoFixture echo(sched, GetParam());
  EXPECT_EQ(sched.block_on(send_header_and_body(sched, echo.address)), "ok");
}

TEST(Socket, ReusePortLetsTwoListenersShareAPort) {
  Scheduler sched(1);
  TcpListener first(sched.reactor());
  ASSERT_EQ(first.bind("127.0.0.1", 0, ListenOptions{.reuse_port = true}), 0);
  TcpListener second(sched.reactor());
  EXPECT_EQ(second.bind("127.0.0.1", first.port(), ListenOptions{.reuse_port = true}), 0);
  TcpListener without(sched.reactor());
  EXPECT_EQ(without.bind("127.0.0.1", first.port()), -1);
}

// --- half-close, reset, refused, timeouts ---

template <class Listener>
Task<std::string> half_close_server(Listener& listener) {
  AsyncSocket peer = co_await listener.accept();
  std::string got;
  char buf[64];
  for (ssize_t n; (n = co_await peer.read(buf, sizeof buf)) > 0;)
    got.append(buf, static_cast<std::size_t>(n));
  // The client only closed its sending side: we can still answer.
  co_await peer.write(std::string("got ") + got);
  co_return got;
}

TEST(Socket, HalfCloseLetsThePeerStillAnswer) {
  Scheduler sched(2);
  TcpListener listener(sched.reactor());
  ASSERT_EQ(listener.bind("127.0.0.1", 0), 0);
  auto server = sched.spawn(half_close_server(listener));
  EXPECT_EQ(sched.block_on(exchange_over(sched, test::ServerAddress::tcp(listener.port()))),
            "got hello over 127.0.0.1");
  EXPECT_EQ(sched.block_on(join(std::move(server))), "hello over 127.0.0.1");
}

TEST(Socket, HalfCloseLetsAUnixPeerStillAnswer) {
  Scheduler sched(2);
  UnixListener listener(sched.reactor());
  ASSERT_EQ(listener.bind(test::unique_abstract_name()), 0);
  auto server = sched.spawn(half_close_server(listener));
  EXPECT_EQ(sched.block_on(exchange_over(sched, test::ServerAddress::unix_socket(listener.path()))),
            "got hello over unix");
  EXPECT_EQ(sched.block_on(join(std::move(server))), "hello over unix");
}

Task<void> accept_and_reset(TcpListener& listener) {
  AsyncSocket peer = co_await listener.accept();
  // Only once the client's connect has completed on its side (it writes first): a reset
  // before that is a failed connect, another test.
  char first = 0;
  (void)co_await peer.read(&first, 1);
  linger abort_on_close{1, 0};  // close() sends RST instead of FIN
  ::setsockopt(peer.fd(), SOL_SOCKET, SO_LINGER, &abort_on_close, sizeof abort_on_close);
}

Task<ssize_t> write_until_error(Scheduler& sched, int port) {
  AsyncSocket socket = co_await AsyncSocket::connect(sched.reactor(), "127.0.0.1", port);
  if (!socket) co_return 0;
  if (co_await socket.write("x", 1) != 1) co_return 0;
  std::vector<char> chunk(64 * 1024, 'x');
  for (int i = 0; i < 10'000; ++i) {
    const ssize_t n = co_await socket.write(chunk.data(), chunk.size());
    if (n < 0) co_return n;
  }
  co_return 0;
}

TEST(Socket, APeerResetIsAnErrorReturnNotASignal) {
  Scheduler sched(2);
  TcpListener listener(sched.reactor());
  ASSERT_EQ(listener.bind("127.0.0.1", 0), 0);
  auto server = sched.spawn(accept_and_reset(listener));
  const ssize_t result = sched.block_on(write_until_error(sched, listener.port()));
  EXPECT_TRUE(result == -ECONNRESET || result == -EPIPE) << result;
}

// A head and a file region as one operation: every byte of both, in order, even when the
// region is far larger than the socket's buffer.
Task<ssize_t> send_head_and_file(Scheduler& sched, int port, int file_fd, std::size_t size) {
  AsyncSocket socket = co_await AsyncSocket::connect(sched.reactor(), "127.0.0.1", port);
  if (!socket) co_return -1;
  const std::string first = "HEAD-1|";
  const std::string second = "HEAD-2|";
  const iovec head[2] = {{const_cast<char*>(first.data()), first.size()},
                         {const_cast<char*>(second.data()), second.size()}};
  co_return co_await socket.sendfile(head, 2, file_fd, 3, size - 3);
}

Task<std::string> read_all(TcpListener& listener) {
  AsyncSocket peer = co_await listener.accept();
  std::string got;
  char buf[65536];
  for (;;) {
    const ssize_t n = co_await peer.read(buf, sizeof(buf));
    if (n <= 0) co_return got;
    got.append(buf, static_cast<std::size_t>(n));
  }
}

TEST(Socket, SendfileWithAHeadSendsTheHeadThenTheRegion) {
  Scheduler sched(2);
  TcpListener listener(sched.reactor());
  ASSERT_EQ(listener.bind("127.0.0.1", 0), 0);
  std::string content;
  for (int i = 0; i < (4 << 20); ++i) content.push_back(static_cast<char>('a' + i % 23));
  FILE* file = std::tmpfile();
  ASSERT_NE(file, nullptr);
  ASSERT_EQ(std::fwrite(content.data(), 1, content.size(), file), content.size());
  ASSERT_EQ(std::fflush(file), 0);
  auto reader = sched.spawn(read_all(listener));
  const ssize_t sent =
      sched.block_on(send_head_and_file(sched, listener.port(), ::fileno(file), content.size()));
  EXPECT_EQ(sent, static_cast<ssize_t>(14 + content.size() - 3));
  const std::string got = sched.block_on(join(std::move(reader)));
  std::fclose(file);
  EXPECT_TRUE(got == "HEAD-1|HEAD-2|" + content.substr(3)) << got.size();
}

// sendfile(2) has no MSG_NOSIGNAL: to a reset peer it raises SIGPIPE in the calling thread,
// which kills the process unless the worker keeps that signal blocked.
Task<ssize_t> sendfile_until_error(Scheduler& sched, int port) {
  AsyncSocket socket = co_await AsyncSocket::connect(sched.reactor(), "127.0.0.1", port);
  if (!socket) co_return 0;
  if (co_await socket.write("x", 1) != 1) co_return 0;
  FILE* file = std::tmpfile();
  if (file == nullptr) co_return 0;
  const std::vector<char> chunk(64 * 1024, 'x');
  if (std::fwrite(chunk.data(), 1, chunk.size(), file) != chunk.size() || std::fflush(file) != 0)
    co_return 0;
  // Writes find the reset first (which consumes it); the sendfile after them meets EPIPE,
  // the error that comes with the signal.
  ssize_t result = 0;
  for (int i = 0; i < 10'000 && result >= 0; ++i)
    result = co_await socket.write(chunk.data(), chunk.size());
  if (result >= 0) co_return 0;
  result = co_await socket.sendfile(::fileno(file), 0, chunk.size());
  std::fclose(file);
  co_return result;
}

TEST(Socket, ASendfileToAResetPeerIsAnErrorReturnNotASignal) {
  Scheduler sched(2);
  TcpListener listener(sched.reactor());
  ASSERT_EQ(listener.bind("127.0.0.1", 0), 0);
  auto server = sched.spawn(accept_and_reset(listener));
  EXPECT_EQ(sched.block_on(sendfile_until_error(sched, listener.port())), -EPIPE);
}

Task<std::error_code> connect_error(Scheduler& sched, int port) {
  AsyncSocket socket = co_await AsyncSocket::connect(sched.reactor(), "127.0.0.1", port);
  co_return socket ? std::error_code{} : socket.error();
}

TEST(Socket, ConnectingToAClosedPortFailsWithConnectionRefused) {
  Scheduler sched(1);
  int port = 0;
  {
    TcpListener listener(sched.reactor());
    ASSERT_EQ(listener.bind("127.0.0.1", 0), 0);
    port = listener.port();
  }  // closed: nothing listens there now
  EXPECT_EQ(sched.block_on(connect_error(sched, port)), std::errc::connection_refused);
}

Task<ssize_t> read_with_timeout(Scheduler& sched, int port, std::chrono::milliseconds timeout) {
  AsyncSocket socket = co_await AsyncSocket::connect(sched.reactor(), "127.0.0.1", port);
  if (!socket) co_return 0;
  char buf[16];
  co_return co_await socket.read(buf, sizeof buf, timeout);
}

TEST(Socket, AReadTimeoutFiresWhenThePeerStaysSilent) {
  Scheduler sched(2);
  TcpListener listener(sched.reactor());  // accepts into its backlog, never answers
  ASSERT_EQ(listener.bind("127.0.0.1", 0), 0);
  const auto start = std::chrono::steady_clock::now();
  EXPECT_EQ(sched.block_on(read_with_timeout(sched, listener.port(), 50ms)), -ETIMEDOUT);
  EXPECT_GE(std::chrono::steady_clock::now() - start, 50ms);  // a timer never fires early
}

// A deadline at a point in time is shared by every read given it: the second read gets only
// what the first left, and once it has passed a read that would wait returns at once.
Task<std::vector<ssize_t>> two_reads_under_one_deadline(Scheduler& sched, int port,
                                                         TimePoint deadline) {
  AsyncSocket socket = co_await AsyncSocket::connect(sched.reactor(), "127.0.0.1", port);
  std::vector<ssize_t> results;
  if (!socket) co_return results;
  char buf[16];
  results.push_back(co_await socket.read(buf, sizeof buf, deadline));
  results.push_back(co_await socket.read(buf, sizeof buf, deadline));
  co_return results;
}

TEST(Socket, AReadDeadlineAtATimePointIsSharedByTheReadsGivenIt) {
  Scheduler sched(2);
  TcpListener listener(sched.reactor());  // accepts into its backlog, never answers
  ASSERT_EQ(listener.bind("127.0.0.1", 0), 0);
  const auto start = std::chrono::steady_clock::now();
  const TimePoint deadline = sched.reactor()->now() + 50ms;
  const auto results =
      sched.block_on(two_reads_under_one_deadline(sched, listener.port(), deadline));
  EXPECT_EQ(results, (std::vector<ssize_t>{-ETIMEDOUT, -ETIMEDOUT}));
  EXPECT_GE(std::chrono::steady_clock::now() - start, 50ms);  // a timer never fires early
}

TEST(Deadline, NoneZeroAndHugeDurationsMeanNever) {
  Scheduler sched(1);
  const Reactor& clock = *sched.reactor();
  EXPECT_TRUE(Deadline().is_never());
  EXPECT_TRUE(Deadline(0ms).is_never());
  EXPECT_TRUE(Deadline(-5s).is_never());
  EXPECT_EQ(Deadline(std::chrono::hours::max()).resolve(clock), TimePoint::max());
  EXPECT_EQ(Deadline(std::chrono::milliseconds::max()).resolve(clock), TimePoint::max());
  const TimePoint at = clock.now() + 1h;
  EXPECT_EQ(Deadline(at).resolve(clock), at);
  const TimePoint before = clock.now();
  const TimePoint resolved = Deadline(2s).resolve(clock);
  EXPECT_GE(resolved, before + 2s);
  EXPECT_LE(resolved, clock.now() + 2s);
}

Task<std::error_code> connect_error_within(Scheduler& sched, int port,
                                           std::chrono::milliseconds timeout) {
  AsyncSocket socket = co_await AsyncSocket::connect(sched.reactor(), "127.0.0.1", port, timeout);
  co_return socket ? std::error_code{} : socket.error();
}

TEST(Socket, AConnectTimeoutFiresWhenTheHandshakeNeverCompletes) {
  Scheduler sched(1);
  TcpListener listener(sched.reactor());
  // A backlog that is full and never accepted: Linux drops further SYNs, so a connect hangs.
  ASSERT_EQ(listener.bind("127.0.0.1", 0, ListenOptions{.reuse_port = false, .backlog = 0}), 0);
  std::error_code error;
  for (int i = 0; i < 8 && !error; ++i) {
    error = sched.block_on(connect_error_within(sched, listener.port(), 200ms));
  }
  EXPECT_EQ(error, std::errc::timed_out);
}

Task<std::error_code> accept_error(TcpListener& listener, std::chrono::milliseconds timeout) {
  AsyncSocket socket = co_await listener.accept(timeout);
  co_return socket ? std::error_code{} : socket.error();
}

TEST(Socket, AnAcceptTimeoutFires) {
  Scheduler sched(1);
  TcpListener listener(sched.reactor());
  ASSERT_EQ(listener.bind("127.0.0.1", 0), 0);
  EXPECT_EQ(sched.block_on(accept_error(listener, 20ms)), std::errc::timed_out);
}

// --- running out of descriptors ---

// Occupies its worker until `phase` is 2, so that the next task must run on the other one.
Task<void> hold_worker(std::atomic<int>& phase) {
  phase.store(1);
  while (phase.load() != 2) std::this_thread::yield();
  co_return;
}

Task<void> set_phase(std::atomic<int>& phase, int value) {
  phase.store(value);
  co_return;
}

TEST(Socket, AcceptBacksOffWhenOutOfDescriptorsAndServesOnceSomeAreFree) {
  Scheduler sched(2);
  // Both workers must have started before descriptors run out: UBSan's check of a starting
  // thread's std::thread state probes memory through a pipe, and reports nonsense without one.
  std::atomic<int> phase{0};
  auto holder = sched.spawn(hold_worker(phase));
  ASSERT_TRUE(test::wait_for([&] { return phase.load() == 1; }));
  sched.block_on(set_phase(phase, 2));  // runs on the other worker: the first one is held
  sched.block_on(join(std::move(holder)));
  // UBSan checks a virtual call the first time it meets a pair (object's type, static type),
  // and probes the vtable's memory through a pipe: with no descriptor free that probe fails
  // and it reports an "invalid vptr". Make those first calls while descriptors remain: the
  // reactor's calls into the scheduler (this one, a spurious "wake a sleeper to drive me",
  // is harmless and otherwise happens only when two workers race for the reactor), then an
  // echo round trip for accept, read and write.
  sched.reactor()->executor().driver_wanted();
  {
    TcpListener warm(sched.reactor());
    ASSERT_EQ(warm.bind("127.0.0.1", 0), 0);
    auto warm_server = sched.spawn(test::echo_server(sched, warm));
    const int fd = test::connect_loopback(warm.port());
    ASSERT_GE(fd, 0);
    ASSERT_EQ(::write(fd, "warm", 4), 4);
    char buf[4] = {};
    ASSERT_EQ(::read(fd, buf, 4), 4);
    ::close(fd);
    warm.close();
    sched.block_on(join(std::move(warm_server)));
  }
  TcpListener listener(sched.reactor());
  ASSERT_EQ(listener.bind("127.0.0.1", 0), 0);
  constexpr int kClients = 8;
  std::vector<int> clients;  // connected: the kernel completes handshakes into the backlog
  for (int i = 0; i < kClients; ++i) clients.push_back(test::connect_loopback(listener.port()));
  for (int fd : clients) ASSERT_GE(fd, 0);
  std::vector<int> spares;
  for (int i = 0; i < kClients; ++i) spares.push_back(::dup(0));

  rlimit saved{};
  ASSERT_EQ(::getrlimit(RLIMIT_NOFILE, &saved), 0);
  const int lowest_free = ::dup(0);
  ::close(lowest_free);
  rlimit tight = saved;
  tight.rlim_cur = static_cast<rlim_t>(lowest_free);  // not one descriptor left
  ASSERT_EQ(::setrlimit(RLIMIT_NOFILE, &tight), 0);
  ASSERT_EQ(::dup(0), -1);
  EXPECT_EQ(errno, EMFILE);

  auto server = sched.spawn(test::echo_server(sched, listener));
  // accept fails with EMFILE and backs off on a timer: the only timer in this scheduler.
  ASSERT_TRUE(test::wait_for([&] { return sched.reactor()->pending_timers() > 0; }));
  for (int fd : spares) ::close(fd);  // descriptors free up; accept must resume by itself

  for (int fd : clients) {
    ASSERT_EQ(::write(fd, "ping", 4), 4);
    char buf[4] = {};
    EXPECT_EQ(::read(fd, buf, 4), 4) << "no echo: the server stopped accepting";
    EXPECT_EQ(std::string(buf, 4), "ping");
    ::close(fd);
  }
  ASSERT_EQ(::setrlimit(RLIMIT_NOFILE, &saved), 0);
  listener.close();
}

// --- urgent data ---

Task<std::string> read_in_band(TcpListener& listener, std::size_t want) {
  AsyncSocket peer = co_await listener.accept();
  std::string got;
  char buf[64];
  while (got.size() < want) {
    const ssize_t n = co_await peer.read(buf, sizeof buf, 5s);  // a hang becomes a failure
    if (n <= 0) co_return got + " [read " + std::to_string(n) + "]";
    got.append(buf, static_cast<std::size_t>(n));
  }
  co_return got;
}

TEST(Socket, UrgentDataDoesNotStallTheReader) {
  Scheduler sched(2);
  TcpListener listener(sched.reactor());
  ASSERT_EQ(listener.bind("127.0.0.1", 0), 0);
  auto reader = sched.spawn(read_in_band(listener, 10));
  const int fd = test::connect_loopback(listener.port());
  ASSERT_GE(fd, 0);
  // A recv stops at the urgent mark with in-band data still queued: the short read there
  // must not make the next read wait for an edge that already came.
  ASSERT_EQ(::send(fd, "hello", 5, 0), 5);
  ASSERT_EQ(::send(fd, "!", 1, MSG_OOB), 1);
  ASSERT_EQ(::send(fd, "world", 5, 0), 5);
  EXPECT_EQ(sched.block_on(join(std::move(reader))), "helloworld");
  ::close(fd);
}

// --- closing under a pending read ---

Task<ssize_t> read_one(AsyncSocket& socket, bool& started) {
  char buf[16];
  started = true;
  co_return co_await socket.read(buf, sizeof buf);
}

Task<AsyncSocket> connect_to(Scheduler& sched, int port) {
  co_return co_await AsyncSocket::connect(sched.reactor(), "127.0.0.1", port);
}

// One worker: once the reader has started, it ran until it suspended in read() (the socket
// is empty), and only then does this task run again and close the socket under it.
Task<ssize_t> close_under_pending_read(Scheduler& sched, AsyncSocket& socket) {
  bool started = false;
  auto reader = sched.spawn(read_one(socket, started));
  while (!started) co_await yield_now();
  socket.close();
  co_return co_await std::move(reader);
}

TEST(Socket, ClosingASocketWakesItsPendingReaderWithAnError) {
  Scheduler sched(1);
  TcpListener listener(sched.reactor());
  ASSERT_EQ(listener.bind("127.0.0.1", 0), 0);
  AsyncSocket socket = sched.block_on(connect_to(sched, listener.port()));
  ASSERT_TRUE(socket);
  EXPECT_EQ(sched.block_on(close_under_pending_read(sched, socket)), -ECANCELED);
  bool started = false;
  EXPECT_EQ(sched.block_on(read_one(socket, started)), -EBADF);  // closed before it began
}

// Another task closes the socket while a read is in every possible state (not yet tried,
// mid-syscall, suspended, just woken by the data's edge). The read must get the byte meant
// for it or ECANCELED — never an error from a closed descriptor, nor another connection's
// data through a reused one.
Task<ssize_t> read_after_flag(AsyncSocket& socket, std::atomic<bool>& started, char& byte) {
  auto read = socket.read(&byte, 1);  // the operation exists from here on
  started.store(true);
  co_return co_await read;
}

Task<void> close_once_started(AsyncSocket& socket, std::atomic<bool>& started) {
  while (!started.load()) co_await yield_now();
  socket.close();
}

Task<int> close_race_round(Scheduler& sched, TcpListener& listener, int round) {
  AsyncSocket client = co_await AsyncSocket::connect(sched.reactor(), "127.0.0.1", listener.port());
  AsyncSocket server = co_await listener.accept();
  if (!client || !server) co_return 3;
  std::atomic<bool> started{false};
  char byte = 0;
  auto reader = sched.spawn(read_after_flag(client, started, byte));
  auto closer = sched.spawn(close_once_started(client, started));
  const char sent = static_cast<char>('a' + round % 26);
  (void)co_await server.write(&sent, 1);
  co_await std::move(closer);
  const ssize_t n = co_await std::move(reader);
  if (n == 1) co_return byte == sent ? 0 : 1;
  co_return n == -ECANCELED ? 0 : 2;
}

Task<std::vector<int>> close_races(Scheduler& sched, TcpListener& listener, int rounds) {
  std::vector<int> outcomes(4, 0);
  for (int round = 0; round < rounds; ++round)
    ++outcomes[co_await close_race_round(sched, listener, round)];
  co_return outcomes;
}

TEST(Socket, CloseRacingAReadNeverTouchesAClosedDescriptor) {
  const int rounds = static_cast<int>(test::scaled(500, 5));
  Scheduler sched(2);
  TcpListener listener(sched.reactor());
  ASSERT_EQ(listener.bind("127.0.0.1", 0), 0);
  const std::vector<int> outcomes = sched.block_on(close_races(sched, listener, rounds));
  EXPECT_EQ(outcomes[0], rounds) << "wrong data: " << outcomes[1]
                                 << ", other errors: " << outcomes[2]
                                 << ", setup failed: " << outcomes[3];
}

// The same for a write big enough to wait for buffer space: it completes whole or ends in
// ECANCELED, never in an error from a closed (or reused) descriptor.
Task<ssize_t> write_after_flag(AsyncSocket& socket, std::atomic<bool>& started,
                               const std::vector<char>& data) {
  auto write = socket.write(data.data(), data.size());
  started.store(true);
  co_return co_await write;
}

Task<int> close_write_race_round(Scheduler& sched, TcpListener& listener) {
  AsyncSocket client = co_await AsyncSocket::connect(sched.reactor(), "127.0.0.1", listener.port());
  AsyncSocket server = co_await listener.accept();  // never reads: the write fills the buffers
  if (!client || !server) co_return 3;
  const std::vector<char> data(8 << 20, 'w');
  std::atomic<bool> started{false};
  auto writer = sched.spawn(write_after_flag(client, started, data));
  auto closer = sched.spawn(close_once_started(client, started));
  co_await std::move(closer);
  const ssize_t n = co_await std::move(writer);
  if (n == static_cast<ssize_t>(data.size()) || n == -ECANCELED) co_return 0;
  co_return 2;
}

Task<int> close_write_races(Scheduler& sched, TcpListener& listener, int rounds) {
  int bad = 0;
  for (int round = 0; round < rounds; ++round)
    bad += co_await close_write_race_round(sched, listener) != 0;
  co_return bad;
}

TEST(Socket, CloseRacingAWriteNeverTouchesAClosedDescriptor) {
  const int rounds = static_cast<int>(test::scaled(100, 5));
  Scheduler sched(2);
  TcpListener listener(sched.reactor());
  ASSERT_EQ(listener.bind("127.0.0.1", 0), 0);
  EXPECT_EQ(sched.block_on(close_write_races(sched, listener, rounds)), 0);
}

// --- the cooperative budget ---

Task<long> read_until_flag(Scheduler& sched, AsyncSocket& socket, std::atomic<bool>& flag,
                           long& reads_before_other_task_ran);

Task<void> raise_flag(std::atomic<bool>& flag) {
  flag.store(true);
  co_return;
}

Task<long> read_until_flag(Scheduler& sched, AsyncSocket& socket, std::atomic<bool>& flag,
                           long& reads_before_other_task_ran) {
  // On one worker, the spawned task can only run if this one lets it.
  auto other = sched.spawn(raise_flag(flag));
  long reads = 0;
  char byte;
  while (!flag.load()) {
    if (co_await socket.read(&byte, 1) != 1) co_return -1;
    ++reads;
  }
  reads_before_other_task_ran = reads;
  co_await std::move(other);
  co_return reads;
}

TEST(Socket, AnAlwaysReadySocketCannotStarveOtherTasks) {
  int pair[2];
  ASSERT_EQ(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, pair), 0);
  // Fill the reader's side: every 1-byte read below succeeds without waiting.
  std::vector<char> fill(4096, 'x');
  std::size_t buffered = 0;
  for (ssize_t n; (n = ::write(pair[1], fill.data(), fill.size())) > 0;)
    buffered += static_cast<std::size_t>(n);
  ASSERT_GT(buffered, 10'000u);
  Scheduler sched(1);
  AsyncSocket socket(sched.reactor(), pair[0]);
  std::atomic<bool> flag{false};
  long reads_before = -1;
  EXPECT_GT(sched.block_on(read_until_flag(sched, socket, flag, reads_before)), 0);
  // Without the budget the reader would drain all `buffered` bytes first.
  EXPECT_GT(reads_before, 0);
  EXPECT_LE(reads_before, 1000);
  ::close(pair[1]);
}

}  // namespace
}  // namespace tiny_coro
