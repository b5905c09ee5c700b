// tiny_httpd: a static-file and upload server on tiny_coro (SPEC.md §3).
//
// Startup: parse flags, listen for SIGINT/SIGTERM/SIGUSR1 (a SignalSet, made before any
// thread starts, so no thread takes them with their default action; SIGUSR1 writes the
// runtime's task dump to stderr and changes nothing else), open the root, bind, print
// "listening on http://HOST:PORT".
// Shutdown, on either signal:
//   1. stop accepting (the listener is shut, which ends the accept loop);
//   2. HttpDrain::begin(): idle keep-alive connections close now, busy ones after the
//      response in hand;
//   3. wait for the last connection, up to --shutdown-timeout;
//   4. cancel the requests still running (HttpDrain::cancel_all): each unwinds at its
//      suspension point, closing its socket and removing any unfinished upload, and its
//      connection leaves;
//   5. stop the scheduler and exit 0.
#include <signal.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <exception>
#include <memory>
#include <optional>
#include <string>

#include <tiny_coro/blocking.h>
#include <tiny_coro/http_server.h>
#include <tiny_coro/signal_set.h>
#include <tiny_coro/scheduler.h>
#include <tiny_coro/socket.h>

#include "access_log.h"
#include "file_cache.h"
#include "options.h"
#include "server_metrics.h"
#include "site.h"

namespace {

using tiny_coro::AsyncSocket;
using tiny_coro::HttpExchange;
using tiny_coro::HttpResponse;
using tiny_coro::HttpServerOptions;
using tiny_coro::Task;

// A connection served with --metrics-path: counted closed however it ends (also when
// shutdown destroys it).
Task<void> serve_counted(AsyncSocket socket, const tiny_coro::HttpHandler& handler,
                         const HttpServerOptions& options, tiny_httpd::ServerMetrics& metrics) {
  struct CountClosed {
    tiny_httpd::ServerMetrics& metrics;
    ~CountClosed() { metrics.connection_closed(); }
  } count_closed{metrics};
  co_await tiny_coro::HttpServer::serve_connection(std::move(socket), handler, options);
}

// `metrics`: null unless --metrics-path is on.
Task<void> accept_loop(tiny_coro::Scheduler& sched, tiny_coro::TcpListener& listener,
                       const tiny_coro::HttpHandler& handler, const HttpServerOptions& options,
                       tiny_httpd::ServerMetrics* metrics) {
  for (;;) {
    AsyncSocket socket = co_await listener.accept();
    if (!socket) {
      // Shut down for exit, or a failure accept() does not retry by itself.
      if (socket.error() == std::errc::invalid_argument ||
          socket.error() == std::errc::operation_canceled) {
        co_return;
      }
      if (metrics != nullptr) metrics->accept_failed();
      continue;
    }
    socket.set_nodelay();
    if (metrics == nullptr) {
      sched.spawn(tiny_coro::HttpServer::serve_connection(std::move(socket), handler, options));
      continue;
    }
    metrics->connection_accepted();
    sched.spawn(serve_counted(std::move(socket), handler, options, *metrics));
  }
}

// GET or HEAD on --metrics-path.
Task<HttpResponse> serve_metrics(HttpExchange& exchange, const tiny_httpd::ServerMetrics& metrics,
                                 const tiny_coro::Scheduler& sched) {
  const std::string_view method = exchange.request().method;
  if (method != "GET" && method != "HEAD") {
    HttpResponse refused = HttpResponse::text(405, "method not allowed\n");
    refused.headers.emplace_back("Allow", "GET, HEAD");
    co_return refused;
  }
  HttpResponse response = HttpResponse::text(200, metrics.render(sched.metrics()),
                                             "text/plain; version=0.0.4; charset=utf-8");
  response.headers.emplace_back("Cache-Control", "no-store");
  co_return response;
}

Task<void> join(tiny_coro::JoinHandle<void> handle) { co_await std::move(handle); }

// Raises the descriptor limit to its hard maximum (connections and the file cache both need
// descriptors; nginx users set worker_rlimit_nofile for the same reason), and gives the
// cache a quarter of it, at most 1000 (nginx's open_file_cache max in common configs).
std::size_t descriptors_to_spare() {
  rlimit limit{};
  if (::getrlimit(RLIMIT_NOFILE, &limit) != 0) return 0;
  if (limit.rlim_cur < limit.rlim_max) {
    limit.rlim_cur = limit.rlim_max;
    ::setrlimit(RLIMIT_NOFILE, &limit);
    ::getrlimit(RLIMIT_NOFILE, &limit);
  }
  return static_cast<std::size_t>(std::min<rlim_t>(limit.rlim_cur / 4, 1000));
}

std::string url_host(const std::string& host) {
  return host.find(':') != std::string::npos ? "[" + host + "]" : host;
}

// Returns on SIGINT or SIGTERM; on SIGUSR1 writes the task dump (Go's SIGQUIT dump, without
// the exit: what every task waits for, and where) and goes on listening.
Task<void> until_stop_signal(tiny_coro::Scheduler& sched, tiny_coro::SignalSet& signals) {
  for (;;) {
    const int signal_number = co_await signals.wait();
    if (signal_number != SIGUSR1) co_return;  // a stop signal, or the set failed: stop too
    std::string dump = sched.dump_tasks();
    // stderr may be a pipe nobody drains quickly: write on the blocking pool.
    co_await tiny_coro::run_blocking(sched, [&dump] {
      for (std::size_t written = 0; written < dump.size();) {
        const ssize_t n = ::write(STDERR_FILENO, dump.data() + written, dump.size() - written);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) break;
        written += static_cast<std::size_t>(n);
      }
    });
  }
}

}  // namespace

int main(int argc, char** argv) {
  std::string error;
  const std::optional<tiny_httpd::Options> parsed = tiny_httpd::parse_options(argc, argv, error);
  if (!parsed) {
    std::fprintf(stderr, "tiny_httpd: %s\n\n%s", error.c_str(), tiny_httpd::usage());
    return 2;
  }
  const tiny_httpd::Options& options = *parsed;
  if (options.help) {
    std::fputs(tiny_httpd::usage(), stdout);
    return 0;
  }

  tiny_coro::Scheduler sched(static_cast<std::size_t>(options.threads));
  // First, before the file cache or anything else starts a thread: see signal_set.h.
  tiny_coro::SignalSet signals(sched.reactor(), {SIGINT, SIGTERM, SIGUSR1});
  if (!signals) {
    std::fprintf(stderr, "tiny_httpd: cannot listen for signals: %s\n",
                 signals.error().message().c_str());
    return 1;
  }

  std::unique_ptr<tiny_httpd::Site> site;
  try {
    tiny_httpd::FileCache::Limits cache;
    cache.max_bytes = options.cache_size;
    cache.max_descriptors = descriptors_to_spare();
    site = std::make_unique<tiny_httpd::Site>(options.root, cache);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "tiny_httpd: %s\n", e.what());
    return 1;
  }
  std::optional<tiny_httpd::AccessLog> log;
  if (!options.quiet) log.emplace(STDOUT_FILENO);

  tiny_coro::HttpDrain drain;
  HttpServerOptions server_options;
  server_options.max_body = options.max_body;
  server_options.header_timeout = options.header_timeout;
  server_options.idle_timeout = options.idle_timeout;
  server_options.drain = &drain;
  server_options.uploads.fsync_before_rename = options.fsync_uploads;
  tiny_httpd::ServerMetrics server_metrics;
  const bool metrics_on = !options.metrics_path.empty();
  if (log || metrics_on) {
    server_options.on_response = [&log, &server_metrics,
                                  metrics_on](const tiny_coro::HttpAccessRecord& r) {
      if (log) log->record(r);
      if (metrics_on) server_metrics.record(r);
    };
  }

  const tiny_coro::HttpHandler handler = [&](HttpExchange& exchange) {
    if (metrics_on && exchange.path() == options.metrics_path) {
      return serve_metrics(exchange, server_metrics, sched);
    }
    return site->handle(exchange);
  };
  tiny_coro::TcpListener listener(sched.reactor());
  tiny_coro::ListenOptions listen_options;
  listen_options.reuse_port = options.reuse_port;
  if (listener.bind(options.host.c_str(), options.port, listen_options) != 0) {
    std::fprintf(stderr, "tiny_httpd: cannot listen on %s:%d: %s\n", options.host.c_str(),
                 options.port, std::strerror(errno));
    return 1;
  }
  auto acceptor = sched.spawn(accept_loop(sched, listener, handler, server_options,
                                          metrics_on ? &server_metrics : nullptr));
  std::printf("listening on http://%s:%d\n", url_host(options.host).c_str(), listener.port());
  std::fflush(stdout);

  sched.block_on(until_stop_signal(sched, signals));
  ::shutdown(listener.fd(), SHUT_RDWR);  // 1. wakes the pending accept with an error
  sched.block_on(join(std::move(acceptor)));
  drain.begin();                                           // 2.
  if (!drain.wait_until_idle(options.shutdown_timeout)) {  // 3.
    drain.cancel_all();                                    // 4.
    // Unwinding is prompt unless a handler computes without suspending; the scheduler's
    // shutdown destroys whatever is still suspended after this.
    drain.wait_until_idle(std::chrono::seconds(5));
  }
  sched.shutdown();  // 5.
  return 0;
}
