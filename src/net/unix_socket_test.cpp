// UnixListener and connect_unix: names (paths, abstract, too long), socket files (in use,
// stale, not sockets, removed on close), failures, close and cancellation. The echo tests in
// socket_test.cpp run over Unix sockets too.
#include <tiny_coro/unix_socket.h>

#include <gtest/gtest.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstddef>
#include <cstring>
#include <fstream>
#include <random>
#include <string>
#include <system_error>

#include <tiny_coro/cancel.h>
#include <tiny_coro/scheduler.h>
#include <tiny_coro/socket.h>

#include "support/echo.h"
#include "support/open_sockets.h"
#include "support/random_cancel.h"
#include "support/scale.h"
#include "support/unix_name.h"
#include "support/wait_for.h"

namespace tiny_coro {
namespace {

bool exists(const std::string& path) {
  struct stat status {};
  return ::lstat(path.c_str(), &status) == 0;
}

// `path` as a sockaddr_un, written out by hand rather than by the code under test; returns
// its length.
socklen_t unix_address(const std::string& path, sockaddr_un& address) {
  address = sockaddr_un{};
  address.sun_family = AF_UNIX;
  std::memcpy(address.sun_path, path.data(), path.size());
  if (path[0] != '@') return sizeof address;
  address.sun_path[0] = '\0';
  return static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + path.size());
}

// A blocking Unix stream socket connected to `path`, or -1.
int connect_blocking(const std::string& path) {
  const int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_un address;
  const socklen_t length = unix_address(path, address);
  if (fd < 0 || ::connect(fd, reinterpret_cast<const sockaddr*>(&address), length) != 0) {
    ::close(fd);
    return -1;
  }
  return fd;
}

// What a crashed server leaves: a socket file that nobody listens on.
void leave_stale_socket_file(const std::string& path) {
  const int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_un address;
  const socklen_t length = unix_address(path, address);
  ASSERT_EQ(::bind(fd, reinterpret_cast<const sockaddr*>(&address), length), 0);
  ASSERT_EQ(::listen(fd, 1), 0);
  ::close(fd);  // the file stays
}

Task<AsyncSocket> connect_unix(Scheduler& sched, std::string path) {
  co_return co_await AsyncSocket::connect_unix(sched.reactor(), path);
}

Task<std::error_code> connect_error(Scheduler& sched, std::string path) {
  AsyncSocket socket = co_await AsyncSocket::connect_unix(sched.reactor(), path);
  co_return socket ? std::error_code{} : socket.error();
}

Task<AsyncSocket> accept_one(UnixListener& listener) { co_return co_await listener.accept(); }

TEST(UnixSocket, AnAbstractNameHasNoFileAndIsFreeAgainOnceClosed) {
  Scheduler sched(1);
  const std::string name = test::unique_abstract_name();
  {
    UnixListener listener(sched.reactor());
    ASSERT_EQ(listener.bind(name), 0);
    EXPECT_EQ(listener.path(), name);
    EXPECT_FALSE(exists(name));
    EXPECT_FALSE(exists(name.substr(1)));
    UnixListener clash(sched.reactor());
    EXPECT_EQ(clash.bind(name, UnixListenOptions{.replace_stale = true, .backlog = 16}), -1);
    EXPECT_EQ(errno, EADDRINUSE);
    AsyncSocket client = sched.block_on(connect_unix(sched, name));
    EXPECT_TRUE(client) << client.error().message();
  }
  UnixListener again(sched.reactor());
  EXPECT_EQ(again.bind(name), 0);
}

TEST(UnixSocket, ANameThatDoesNotFitSunPathIsTooLong) {
  Scheduler sched(1);
  UnixListener listener(sched.reactor());
  const std::string longest = "@" + std::string(sizeof(sockaddr_un::sun_path) - 2, 'n');
  EXPECT_EQ(listener.bind(longest), 0);
  listener.close();
  EXPECT_EQ(listener.bind(longest + "n"), -1);
  EXPECT_EQ(errno, ENAMETOOLONG);
  const std::string long_path = "/tmp/" + std::string(200, 'p');
  EXPECT_EQ(listener.bind(long_path), -1);
  EXPECT_EQ(errno, ENAMETOOLONG);
  EXPECT_EQ(listener.path(), "");
  EXPECT_EQ(sched.block_on(connect_error(sched, long_path)), std::errc::filename_too_long);
  EXPECT_EQ(listener.bind(""), -1);
  EXPECT_EQ(errno, EINVAL);
}

TEST(UnixSocket, AnExistingSocketFileIsInUseUnlessStaleAndReplacingItWasAsked) {
  Scheduler sched(1);
  const std::string path = test::unique_unix_path();
  leave_stale_socket_file(path);
  UnixListener listener(sched.reactor());
  EXPECT_EQ(listener.bind(path), -1);
  EXPECT_EQ(errno, EADDRINUSE);
  ASSERT_EQ(listener.bind(path, UnixListenOptions{.replace_stale = true, .backlog = 16}), 0);
  // Now somebody listens: the file is not stale, and stays the first listener's.
  UnixListener second(sched.reactor());
  EXPECT_EQ(second.bind(path, UnixListenOptions{.replace_stale = true, .backlog = 16}), -1);
  EXPECT_EQ(errno, EADDRINUSE);
  const int client = connect_blocking(path);
  EXPECT_GE(client, 0);
  EXPECT_TRUE(sched.block_on(accept_one(listener)));
  ::close(client);
  listener.close();
  EXPECT_FALSE(exists(path));
}

TEST(UnixSocket, AFileThatIsNotASocketIsNeverRemoved) {
  Scheduler sched(1);
  const std::string path = test::unique_unix_path();
  std::ofstream(path) << "precious";
  UnixListener listener(sched.reactor());
  EXPECT_EQ(listener.bind(path, UnixListenOptions{.replace_stale = true, .backlog = 16}), -1);
  EXPECT_EQ(errno, EADDRINUSE);
  listener.close();
  std::string content;
  std::ifstream(path) >> content;
  EXPECT_EQ(content, "precious");
  ::unlink(path.c_str());
}

TEST(UnixSocket, TheListenerRemovesItsSocketFileButNotOneThatReplacedIt) {
  Scheduler sched(1);
  const std::string path = test::unique_unix_path();
  {
    UnixListener listener(sched.reactor());
    ASSERT_EQ(listener.bind(path), 0);
    EXPECT_TRUE(exists(path));
  }  // destroyed: the file goes with it
  EXPECT_FALSE(exists(path));
  UnixListener listener(sched.reactor());
  ASSERT_EQ(listener.bind(path), 0);
  ASSERT_EQ(::unlink(path.c_str()), 0);
  std::ofstream(path) << "someone else's";
  listener.close();
  EXPECT_TRUE(exists(path));
  ::unlink(path.c_str());
}

TEST(UnixSocket, ConnectingWhereNobodyListensFailsWithAClearError) {
  Scheduler sched(1);
  const std::string path = test::unique_unix_path();
  EXPECT_EQ(sched.block_on(connect_error(sched, path)), std::errc::no_such_file_or_directory);
  leave_stale_socket_file(path);
  EXPECT_EQ(sched.block_on(connect_error(sched, path)), std::errc::connection_refused);
  ::unlink(path.c_str());
  EXPECT_EQ(sched.block_on(connect_error(sched, test::unique_abstract_name())),
            std::errc::connection_refused);
}

TEST(UnixSocket, AConnectToAFullBacklogFailsAtOnceWithEagain) {
  Scheduler sched(1);
  UnixListener listener(sched.reactor());
  ASSERT_EQ(listener.bind(test::unique_abstract_name(),
                          UnixListenOptions{.replace_stale = false, .backlog = 0}),
            0);
  AsyncSocket first = sched.block_on(connect_unix(sched, listener.path()));
  ASSERT_TRUE(first) << first.error().message();
  EXPECT_EQ(sched.block_on(connect_error(sched, listener.path())),
            std::errc::resource_unavailable_try_again);
}

Task<AsyncSocket> accept_once_started(UnixListener& listener, bool& started) {
  started = true;
  co_return co_await listener.accept();
}

template <class T>
Task<T> join(JoinHandle<T> handle) {
  co_return co_await std::move(handle);
}

// One worker: once the acceptor has started it ran until it suspended in accept(), and only
// then does this task run again and close the listener under it.
Task<std::error_code> close_under_pending_accept(Scheduler& sched, UnixListener& listener) {
  bool started = false;
  auto acceptor = sched.spawn(accept_once_started(listener, started));
  while (!started) co_await yield_now();
  listener.close();
  AsyncSocket socket = co_await std::move(acceptor);
  co_return socket ? std::error_code{} : socket.error();
}

TEST(UnixSocket, ClosingTheListenerWakesAPendingAcceptAndRemovesTheFile) {
  Scheduler sched(1);
  UnixListener listener(sched.reactor());
  const std::string path = test::unique_unix_path();
  ASSERT_EQ(listener.bind(path), 0);
  EXPECT_EQ(sched.block_on(close_under_pending_accept(sched, listener)),
            std::errc::operation_canceled);
  EXPECT_FALSE(exists(path));
}

TEST(UnixSocket, ACancelledAcceptTakesNoConnection) {
  Scheduler sched(2);
  UnixListener listener(sched.reactor());
  ASSERT_EQ(listener.bind(test::unique_abstract_name()), 0);
  auto acceptor = sched.spawn(accept_one(listener));
  acceptor.cancel();
  EXPECT_TRUE(test::ended_cancelled(acceptor));
  const int client = connect_blocking(listener.path());
  ASSERT_GE(client, 0);
  EXPECT_TRUE(sched.block_on(accept_one(listener)));
  ::close(client);
}

// A Unix connect completes or fails at once, so a cancel lands in what follows it: the
// socket it made must still be closed, whichever step the cancel hit.
Task<void> connect_and_echo_once(Scheduler& sched, std::string path) {
  AsyncSocket socket = co_await AsyncSocket::connect_unix(sched.reactor(), path);
  if (!socket) co_return;
  char byte = 'x';
  if (co_await socket.write(&byte, 1) != 1) co_return;
  (void)co_await socket.read(&byte, 1);
}

TEST(UnixSocket, CancelledConnectsLeaveNoDescriptorBehind) {
  Scheduler sched(2);
  const std::size_t before = test::open_sockets();
  {
    UnixListener listener(sched.reactor());
    ASSERT_EQ(listener.bind(test::unique_abstract_name()), 0);
    auto server = sched.spawn(test::echo_server(sched, listener));
    std::mt19937 rng(31);
    const std::size_t cancelled = test::spawn_and_cancel_randomly(
        sched, rng, test::scaled(500, 10),
        [&](std::size_t) { return connect_and_echo_once(sched, listener.path()); });
    EXPECT_GT(cancelled, 0u);
    listener.close();
    server.wait_blocking();
  }
  // The echo tasks close their ends once they read the clients' end of stream.
  EXPECT_TRUE(test::wait_for([&] { return test::open_sockets() == before; }))
      << test::open_sockets() << " open, " << before << " before";
}

// A recv on a Unix stream socket stops after a message that carried descriptors, with more
// data still queued: such a short read must not make the next read wait for an edge that
// already came (the short-read shortcut is TCP's only). The accepted side is the one at risk.
Task<std::string> read_exactly(AsyncSocket& socket, std::size_t want, bool& started) {
  started = true;
  std::string got;
  char buf[64];
  while (got.size() < want) {
    const ssize_t n = co_await socket.read(buf, sizeof buf, std::chrono::seconds(5));
    if (n <= 0) co_return got + " [read " + std::to_string(n) + "]";
    got.append(buf, static_cast<std::size_t>(n));
  }
  co_return got;
}

// "hello" with a descriptor passed along, then "world".
void send_with_passed_descriptor(int fd) {
  char text[] = "hello";
  iovec iov{text, 5};
  alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int))] = {};
  msghdr message{};
  message.msg_iov = &iov;
  message.msg_iovlen = 1;
  message.msg_control = control;
  message.msg_controllen = sizeof control;
  cmsghdr* passed = CMSG_FIRSTHDR(&message);
  passed->cmsg_level = SOL_SOCKET;
  passed->cmsg_type = SCM_RIGHTS;
  passed->cmsg_len = CMSG_LEN(sizeof(int));
  const int stdin_fd = 0;
  std::memcpy(CMSG_DATA(passed), &stdin_fd, sizeof stdin_fd);
  ASSERT_EQ(::sendmsg(fd, &message, 0), 5);
  ASSERT_EQ(::send(fd, "world", 5, 0), 5);
}

// One worker, so nobody polls while this task runs: the reader parks on an empty socket, both
// messages arrive, and their edges reach the reader as one, before its retry. That retry's
// read is short ("hello") with "world" queued and no edge left to come.
Task<std::string> read_across_passed_descriptor(Scheduler& sched, AsyncSocket& socket, int peer) {
  bool started = false;
  auto reader = sched.spawn(read_exactly(socket, 10, started));
  while (!started) co_await yield_now();
  send_with_passed_descriptor(peer);
  co_return co_await std::move(reader);
}

TEST(UnixSocket, AReadStoppingAtPassedDescriptorsDoesNotStallTheReader) {
  Scheduler sched(1);
  UnixListener listener(sched.reactor());
  ASSERT_EQ(listener.bind(test::unique_abstract_name()), 0);
  const int fd = connect_blocking(listener.path());
  ASSERT_GE(fd, 0);
  AsyncSocket accepted = sched.block_on(accept_one(listener));
  ASSERT_TRUE(accepted);
  EXPECT_EQ(sched.block_on(read_across_passed_descriptor(sched, accepted, fd)), "helloworld");
  ::close(fd);
}

}  // namespace
}  // namespace tiny_coro
