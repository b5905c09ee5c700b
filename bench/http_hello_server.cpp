// The HTTP plaintext peer of nginx's `return 200 "Hello, World!"`: tiny_coro's HttpServer with
// one route. bench/run_http.sh drives it (and nginx) with wrk.
//
//   http_hello_server PORT THREADS      prints "listening on http://127.0.0.1:PORT"
#include <pthread.h>
#include <signal.h>
#include <sys/socket.h>

#include <cstdio>
#include <cstdlib>

#include <tiny_coro/http_server.h>
#include <tiny_coro/scheduler.h>
#include <tiny_coro/socket.h>

namespace {

using tiny_coro::AsyncSocket;
using tiny_coro::HttpExchange;
using tiny_coro::HttpResponse;
using tiny_coro::HttpRouter;
using tiny_coro::HttpServer;
using tiny_coro::HttpServerOptions;
using tiny_coro::JoinHandle;
using tiny_coro::Scheduler;
using tiny_coro::TcpListener;
template <class T>
using Task = tiny_coro::Task<T>;

Task<HttpResponse> hello(HttpExchange&) {
  co_return HttpResponse::text(200, "Hello, World!", "text/plain");
}

Task<void> accept_loop(Scheduler& sched, TcpListener& listener, const HttpRouter& router,
                       const HttpServerOptions& options) {
  for (;;) {
    AsyncSocket socket = co_await listener.accept();
    if (!socket) co_return;
    socket.set_nodelay();
    sched.spawn(HttpServer::serve_connection(std::move(socket), router, options));
  }
}

Task<void> join(JoinHandle<void> handle) { co_await std::move(handle); }

}  // namespace

int main(int argc, char** argv) {
  const int port = argc > 1 ? std::atoi(argv[1]) : 0;
  const int threads = argc > 2 ? std::atoi(argv[2]) : 2;
  sigset_t stop;
  sigemptyset(&stop);
  sigaddset(&stop, SIGINT);
  sigaddset(&stop, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &stop, nullptr);

  HttpRouter router;
  router.get("/", hello);
  HttpServerOptions options;
  Scheduler sched(static_cast<std::size_t>(threads));
  TcpListener listener(sched.reactor());
  if (listener.bind("127.0.0.1", port) != 0) {
    std::perror("bind");
    return 1;
  }
  auto acceptor = sched.spawn(accept_loop(sched, listener, router, options));
  std::printf("listening on http://127.0.0.1:%d\n", listener.port());
  std::fflush(stdout);
  int signal_number = 0;
  sigwait(&stop, &signal_number);
  ::shutdown(listener.fd(), SHUT_RDWR);
  sched.block_on(join(std::move(acceptor)));
  sched.shutdown();
  return 0;
}
