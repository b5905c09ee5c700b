// connect_host() (resolve.h): Happy Eyeballs against a test resolver and listeners that
// answer at once, late, or never; failures are clear and no attempt outlives the call.
#include <tiny_coro/resolve.h>

#include <tiny_coro/cancel.h>
#include <tiny_coro/scheduler.h>
#include <tiny_coro/timeout.h>
#include <tiny_coro/timer.h>

#include <gtest/gtest.h>

#include <netdb.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <thread>
#include <vector>

#include "support/open_sockets.h"
#include "support/wait_for.h"

namespace tiny_coro {
namespace {

using namespace std::chrono_literals;

// A plain listening socket on `ip`, port chosen by the kernel.
struct Listener {
  Listener(int family, const char* ip, int backlog) {
    fd = ::socket(family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    const SocketAddress address = SocketAddress::parse(ip, 0);
    EXPECT_EQ(::bind(fd, address.data(), address.size()), 0);
    EXPECT_EQ(::listen(fd, backlog), 0);
    SocketAddress bound;
    socklen_t length = SocketAddress::capacity();
    ::getsockname(fd, bound.data(), &length);
    bound.set_size(length);
    port = bound.port();
  }
  ~Listener() { ::close(fd); }
  int fd;
  int port;
};

// A listener that never completes a handshake: a backlog of 0 that one unaccepted
// connection fills, after which the kernel drops further SYNs.
struct NeverListener : Listener {
  NeverListener(int family, const char* ip) : Listener(family, ip, 0) {
    parked = ::socket(family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    const SocketAddress address = SocketAddress::parse(ip, port);
    EXPECT_EQ(::connect(parked, address.data(), address.size()), 0);
  }
  ~NeverListener() { ::close(parked); }
  int parked;
};

Resolver table(std::vector<SocketAddress> addresses) {
  return [addresses](std::string, int) -> Task<ResolveResult> {
    co_return ResolveResult{addresses, {}};
  };
}

bool ipv6_loopback() {
  const int fd = ::socket(AF_INET6, SOCK_STREAM | SOCK_CLOEXEC, 0);
  const SocketAddress address = SocketAddress::parse("::1", 0);
  const bool ok = fd >= 0 && ::bind(fd, address.data(), address.size()) == 0;
  if (fd >= 0) ::close(fd);
  return ok;
}

// The preferred (IPv6) address never answers: after the stagger the IPv4 one is raced and
// wins, and the IPv6 attempt is cancelled and gone when connect_host returns.
TEST(HappyEyeballs, ALaterFamilyWinsWhenTheFirstNeverAnswers) {
  if (!ipv6_loopback()) GTEST_SKIP() << "no IPv6 loopback";
  Scheduler sched(2);
  const NeverListener never(AF_INET6, "::1");
  const Listener ready(AF_INET, "127.0.0.1", 16);
  const std::size_t before = test::open_sockets();
  ConnectOptions options;
  options.resolver = table(
      {SocketAddress::parse("::1", never.port), SocketAddress::parse("127.0.0.1", ready.port)});
  options.attempt_delay = 50ms;
  Connected connected = sched.block_on(connect_host(sched, "example.test", 0, options));
  ASSERT_TRUE(connected) << connected.error.message();
  EXPECT_EQ(connected.peer.ip(), "127.0.0.1");
  EXPECT_EQ(connected.peer.port(), ready.port);
  connected.socket.close();
  EXPECT_EQ(test::open_sockets(), before);  // the losing attempt's socket is closed too
}

// A refused first address starts the next at once; the winner is the second.
TEST(HappyEyeballs, ARefusedAddressMovesOnToTheNext) {
  Scheduler sched(2);
  int closed_port = 0;
  {
    const Listener gone(AF_INET, "127.0.0.1", 1);
    closed_port = gone.port;
  }
  const Listener ready(AF_INET, "127.0.0.1", 16);
  ConnectOptions options;
  options.resolver = table({SocketAddress::parse("127.0.0.1", closed_port),
                            SocketAddress::parse("127.0.0.1", ready.port)});
  options.attempt_delay = 1h;  // only the refusal can start the second attempt
  Connected connected = sched.block_on(connect_host(sched, "x", 0, options));
  ASSERT_TRUE(connected) << connected.error.message();
  EXPECT_EQ(connected.peer.port(), ready.port);
}

// A listener whose backlog frees up late: the handshake completes on the kernel's SYN
// retry, and connect_host waits for it.
TEST(HappyEyeballs, AListenerThatAcceptsLateStillConnects) {
  Scheduler sched(2);
  NeverListener late(AF_INET, "127.0.0.1");
  ConnectOptions options;
  options.resolver = table({SocketAddress::parse("127.0.0.1", late.port)});
  const std::size_t sources_before = sched.metrics().io_sources;
  std::thread accepter([&] {
    // The attempt's socket is registered once its SYN has gone (and been dropped).
    (void)test::wait_for([&] { return sched.metrics().io_sources > sources_before; });
    const int accepted = ::accept(late.fd, nullptr, nullptr);  // frees the backlog's place
    if (accepted >= 0) ::close(accepted);
  });
  Connected connected = sched.block_on(connect_host(sched, "late", 0, options));
  accepter.join();
  EXPECT_TRUE(connected) << connected.error.message();
}

TEST(HappyEyeballs, EveryAttemptFailingGivesTheFirstError) {
  Scheduler sched(2);
  const NeverListener never(AF_INET, "127.0.0.1");
  ConnectOptions options;
  options.resolver = table({SocketAddress::parse("127.0.0.1", never.port)});
  options.attempt_timeout = 100ms;
  const Connected connected = sched.block_on(connect_host(sched, "never", 0, options));
  EXPECT_FALSE(connected);
  EXPECT_EQ(connected.error, std::errc::timed_out);
}

TEST(HappyEyeballs, ResolverFailuresAndEmptyAnswersAreClear) {
  Scheduler sched(2);
  ConnectOptions options;
  options.resolver = [](std::string, int) -> Task<ResolveResult> {
    co_return ResolveResult{{}, std::error_code(EAI_NONAME, resolve_category())};
  };
  const Connected unresolved = sched.block_on(connect_host(sched, "nowhere", 80, options));
  EXPECT_FALSE(unresolved);
  EXPECT_EQ(unresolved.error.category(), resolve_category());
  // The system resolver, for a name that cannot exist.
  const Connected invalid = sched.block_on(connect_host(sched, "no-such-host.invalid", 80));
  EXPECT_FALSE(invalid);
  EXPECT_FALSE(invalid.error.message().empty());
}

// A resolver that hangs: a timeout around connect_host ends it, and nothing is left behind.
TEST(HappyEyeballs, AResolverThatHangsIsBoundedByATimeout) {
  Scheduler sched(2);
  ConnectOptions options;
  options.resolver = [&sched](std::string, int) -> Task<ResolveResult> {
    co_await sleep_for(sched, 1h);
    co_return ResolveResult{};
  };
  EXPECT_THROW(sched.block_on(timeout(sched, 100ms, connect_host(sched, "slow", 80, options))),
               TimedOut);
  EXPECT_TRUE(test::wait_for([&] { return sched.metrics().timers_armed == 0; }));
}

// Cancelled while attempts wait: it throws TaskCancelled only after every attempt ended.
TEST(HappyEyeballs, CancellingItEndsEveryAttempt) {
  Scheduler sched(2);
  const NeverListener never_a(AF_INET, "127.0.0.1");
  const NeverListener never_b(AF_INET, "127.0.0.1");
  const std::size_t before = test::open_sockets();
  ConnectOptions options;
  options.resolver = table({SocketAddress::parse("127.0.0.1", never_a.port),
                            SocketAddress::parse("127.0.0.1", never_b.port)});
  options.attempt_delay = 10ms;
  auto handle = sched.spawn(connect_host(sched, "stuck", 0, options));
  ASSERT_TRUE(test::wait_for([&] { return test::open_sockets() >= before + 2; }));  // both racing
  handle.cancel();
  handle.wait_blocking();
  EXPECT_THROW(handle.take_result(), TaskCancelled);
  EXPECT_EQ(test::open_sockets(), before);
}

}  // namespace
}  // namespace tiny_coro
