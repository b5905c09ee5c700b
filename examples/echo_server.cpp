// A TCP echo server on tiny_coro: every byte a client sends comes straight back.
//
//   echo_server [port] [ip]        defaults: 7000 127.0.0.1; port 0 picks a free one
//
// Prints "listening on IP:PORT" once it accepts connections; SIGINT or SIGTERM stops it.
#include <pthread.h>
#include <signal.h>
#include <sys/socket.h>

#include <cstdio>
#include <cstdlib>
#include <vector>

#include <tiny_coro/scheduler.h>
#include <tiny_coro/socket.h>

// The manual's global names: Task is tiny_coro::Task<void>, and so on.
Task echo(AsyncSocket client) {
  std::vector<char> buf(16 * 1024);
  for (;;) {
    const ssize_t n = co_await client.read(buf.data(), buf.size());
    if (n <= 0) co_return;  // the client is done (0) or gone (< 0)
    const ssize_t sent = co_await client.write(buf.data(), static_cast<std::size_t>(n));
    if (sent < 0) co_return;
  }
}

Task serve(Scheduler& sched, TcpListener& listener) {
  for (;;) {
    AsyncSocket client = co_await listener.accept();
    if (!client) co_return;  // the listener was shut down
    client.set_nodelay();    // echo each message at once
    sched.spawn(echo(std::move(client)));
  }
}

Task join(tiny_coro::JoinHandle<void> server) { co_await std::move(server); }

int main(int argc, char** argv) {
  const int port = argc > 1 ? std::atoi(argv[1]) : 7000;
  const char* ip = argc > 2 ? argv[2] : "127.0.0.1";

  // Blocked before any thread starts, so that every thread inherits the mask and the signals
  // wait for sigwait below instead of killing the process mid-write.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGINT);
  sigaddset(&stop_signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);

  Scheduler sched(2);
  TcpListener listener(sched.reactor());
  if (listener.bind(ip, port) != 0) {
    std::perror("bind");
    return 1;
  }
  std::printf("listening on %s:%d\n", ip, listener.port());
  std::fflush(stdout);
  auto server = sched.spawn(serve(sched, listener));

  int signal_number = 0;
  sigwait(&stop_signals, &signal_number);
  // Wakes the pending accept with an error (no data race with the task using the listener).
  ::shutdown(listener.fd(), SHUT_RDWR);
  sched.block_on(join(std::move(server)));
  return 0;
}
