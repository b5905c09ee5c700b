#include "http/connection.h"

#include <sys/socket.h>

#include <cerrno>
#include <optional>
#include <string_view>

#include <tiny_coro/cancel.h>
#include <tiny_coro/detail/cancel_scope.h>

#include "http/response_head.h"

namespace tiny_coro::detail {
namespace {

// Batched output past this is written before more requests are answered.
constexpr std::size_t kFlushThreshold = 64 * 1024;
// linger_close()'s bounds.
constexpr std::chrono::seconds kLingerTime{2};
constexpr std::uint64_t kMaxLingerBytes = 4 << 20;

bool known_method(std::string_view method) noexcept {
  for (const std::string_view known :
       {"GET", "HEAD", "POST", "PUT", "DELETE", "OPTIONS", "PATCH", "TRACE", "CONNECT"}) {
    if (method == known) return true;
  }
  return false;
}

}  // namespace

HttpConnection::HttpConnection(AsyncSocket& socket, const HttpServerOptions& options) noexcept
    : socket_(socket), options_(options) {}

TimePoint HttpConnection::open() noexcept {
  if (options_.drain != nullptr) {
    registered_ = true;
    // Draining already: this connection (accepted before the listener closed) still gets
    // its first request answered, then closes. acq_rel: as drain.cpp's fetch_or.
    if (!options_.drain->enter(*this)) drain_state.fetch_or(kDraining, std::memory_order_acq_rel);
  }
  return deadline_after(now(), options_.header_timeout);
}

TimePoint HttpConnection::idle_deadline() const noexcept {
  // The coarse clock: an idle timeout a few milliseconds late costs nothing, and every
  // request would otherwise pay for an exact clock read.
  return deadline_after(socket_.reactor()->coarse_upper_bound(), options_.idle_timeout);
}

Task<HttpConnection::Burst> HttpConnection::serve_burst(const HttpHandler& handler,
                                                        TimePoint first_head_deadline) {
  // relaxed: our own field; only the first burst stores it.
  if (registered_ && cancel_state.load(std::memory_order_relaxed) == nullptr) {
    CancelState* const state = co_await current_cancel_state();
    // release: pairs with HttpDrain::cancel_all()'s acquire load.
    cancel_state.store(state, std::memory_order_release);
  }
  const Burst burst = co_await answer_burst(handler, first_head_deadline);
  if (burst == Burst::kClose && linger_) co_await linger_close();
  co_return burst;
}

Task<HttpConnection::Burst> HttpConnection::answer_burst(const HttpHandler& handler,
                                                         TimePoint first_head_deadline) {
  workspace_ = acquire_workspace();
  const ssize_t n = socket_.try_read(workspace_->buf, Workspace::kCapacity);
  if (n <= 0) {
    workspace_.reset();
    // -EAGAIN: woken with nothing to read (urgent data, a spurious edge); that EAGAIN makes
    // the next wait block until new data.
    co_return n == -EAGAIN ? Burst::kNothingRead : Burst::kClose;
  }
  workspace_->end = static_cast<std::size_t>(n);
  for (;;) {
    // The first request's head is due header_timeout after the connection began; later
    // ones header_timeout after their first byte, which is here now (read_head reads the
    // clock for that only if it has to wait: most heads arrive whole).
    const TimePoint head_deadline = answered_any_ ? TimePoint::min() : first_head_deadline;
    answered_any_ = true;
    // A drain that began while this connection was idle still lets the request it already
    // received be answered — with Connection: close.
    closing_ = !begin_request();
    state().head_parsed = false;

    // Bound before branching: GCC 12 loses an exception (TaskCancelled) thrown out of a
    // co_await in an if or switch condition (docs/ARCHITECTURE.md, "Cancellation").
    using HeadOutcome = RequestReader::HeadOutcome;
    RequestReader in = reader();
    HeadOutcome head = HeadOutcome::kComplete;
    if (const std::optional<HeadOutcome> whole = in.parse_head()) {
      head = *whole;  // most heads arrive whole: no coroutine for them
    } else {
      const HeadOutcome read = co_await in.read_head(head_deadline);
      head = read;
    }
    switch (head) {
      case HeadOutcome::kComplete:
        break;
      case HeadOutcome::kClosed:
        co_await flush();
        co_return Burst::kClose;
      case HeadOutcome::kTimedOut:
        co_await answer_error(408);
        co_return Burst::kClose;
      case HeadOutcome::kTooLarge:
        co_await answer_error(431);
        co_return Burst::kClose;
      case HeadOutcome::kMalformed:
        co_await answer_error(400);
        co_return Burst::kClose;
    }
    const bool answered = co_await answer(handler);
    if (!answered) {
      co_await flush();
      co_return Burst::kClose;
    }
    Workspace& ws = *workspace_;
    ws.begin = state().body_pos;
    // Batched answers go out before the connection could be found draining below.
    if (ws.begin == ws.end || ws.out.size() >= kFlushThreshold) {
      const bool flushed = co_await flush();
      if (!flushed) co_return Burst::kClose;
    }
    const bool idle = ws.begin == ws.end;
    if (idle) workspace_.reset();  // hold no buffer while waiting
    if (!end_request()) {          // a drain began meanwhile
      if (!idle) {                 // an idle burst was flushed above and holds no workspace
        co_await flush();
        linger_ = true;  // pipelined requests stay unread
      }
      co_return Burst::kClose;
    }
    if (idle) co_return Burst::kIdle;
  }
}

// RFC 9112 §9.6: closing while the peer is still sending makes the kernel answer with a
// reset, which can destroy the response the peer has not read yet. So the server shuts its
// side, then reads and drops what still comes, for a bounded time and amount.
Task<void> HttpConnection::linger_close() {
  workspace_.reset();
  if (socket_.shutdown(SHUT_WR) != 0) co_return;
  const TimePoint deadline = now() + kLingerTime;
  std::uint64_t dropped = 0;
  char sink[4096];
  while (dropped < kMaxLingerBytes) {
    const ssize_t n = co_await socket_.read(sink, sizeof(sink), deadline);
    if (n <= 0) co_return;
    dropped += static_cast<std::uint64_t>(n);
  }
}

// What the server answers without asking the handler; 0 if the handler decides.
int HttpConnection::server_verdict() const noexcept {
  const HttpRequest& req = workspace_->request;
  if (req.minor_version >= 1 && req.host_count != 1) return 400;  // RFC 9112 §3.2
  if (req.host_count > 0 && !HttpParser::valid_host(req.host)) return 400;
  if (!known_method(req.method)) return 501;
  if (req.framing == BodyFraming::kContentLength && req.content_length > options_.max_body) {
    return 413;
  }
  return 0;
}

// Answers the request whose head was just parsed. False: close after what is batched.
Task<bool> HttpConnection::answer(const HttpHandler& handler) {
  const HttpRequest& req = workspace_->request;
  RequestReader in = reader();
  in.begin_body();

  if (const int status = server_verdict(); status != 0) {
    co_await answer_error(status);
    co_return false;
  }
  HttpResponse response = co_await run_handler(handler);
  const bool body_finished = co_await in.finish_body();
  const bool keep_alive = body_finished && req.keep_alive() && !response.close && !closing_ &&
                          (options_.drain == nullptr || !options_.drain->draining());
  // Unread input (a body left behind, pipelined requests after a close) means lingering.
  if (!keep_alive && (!body_finished || state().body_pos < workspace_->end)) linger_ = true;
  ResponseWriter out = writer();
  if (out.append(response, keep_alive)) co_return keep_alive;
  const bool written = co_await out.write_body(response);
  co_return written&& keep_alive;
}

Task<HttpResponse> HttpConnection::run_handler(const HttpHandler& handler) {
  HttpExchange exchange(*this);
  if (options_.handler_timeout.count() > 0)
    co_return co_await run_handler_bounded(handler, exchange);
  try {
    co_return co_await handler(exchange);
  } catch (const TaskCancelled&) {
    throw;         // the connection's task is being cancelled: it ends here, answering nothing
  } catch (...) {  // the handler's bug: the peer hears 500 and the connection ends
  }
  co_return closing_error(500, "Internal Server Error\n");
}

// The handler under a cancellation scope that its deadline requests: one that overruns is
// cancelled at its suspension point and, once it has unwound, the peer hears 503 and the
// connection closes (the body may be half read).
Task<HttpResponse> HttpConnection::run_handler_bounded(const HttpHandler& handler,
                                                       HttpExchange& exchange) {
  CancelScope scope(socket_.reactor(), deadline_after(now(), options_.handler_timeout));
  Task<HttpResponse> running = handler(exchange);
  std::exception_ptr error;
  std::optional<HttpResponse> response;
  try {
    response.emplace(co_await scope.run(running));
  } catch (...) {
    error = std::current_exception();
  }
  co_await scope.settle();
  if (!error) co_return std::move(*response);
  if (scope.timed_out(error))
    co_return closing_error(503, "Service Unavailable: the handler ran out of time\n");
  if (is_task_cancelled(error)) std::rethrow_exception(error);  // the connection's own
  co_return closing_error(500, "Internal Server Error\n");
}

Task<ssize_t> HttpConnection::read_body(void* buf, std::size_t size) {
  RequestReader in = reader();  // in this frame: the reader must outlive the read
  co_return co_await in.read_body(buf, size);
}

Task<ssize_t> HttpConnection::splice_body(int file_fd, std::uint64_t& written) {
  RequestReader in = reader();  // as in read_body
  co_return co_await in.splice_body(file_fd, written);
}

HttpResponse HttpConnection::closing_error(int status, std::string body) {
  HttpResponse error = HttpResponse::text(status, std::move(body));
  error.close = true;
  return error;
}

// A status the server decides itself; the connection closes after it.
Task<void> HttpConnection::answer_error(int status) {
  if (!workspace_) workspace_ = acquire_workspace();
  linger_ = status != 408;  // the peer may still be sending; a timed-out one is not
  ResponseWriter out = writer();
  co_await out.write_error(status);
}

// Only while a burst holds the workspace. Not a coroutine: the caller's frame is the only one.
Task<bool> HttpConnection::flush() {
  return ResponseWriter::flush_batch(socket_, workspace_->out, options_.idle_timeout);
}

// acq_rel on both CASes: acquire sees a drain() that set kDraining first; release publishes
// nothing here but keeps the pair symmetric with drain()'s fetch_or (drain.cpp).
bool HttpConnection::begin_request() noexcept {
  if (!registered_) return true;
  int expected = kIdle;
  // acq_rel: pairs with HttpDrain::begin()'s fetch_or, which reads the state we leave.
  return drain_state.compare_exchange_strong(expected, kBusy, std::memory_order_acq_rel);
}

bool HttpConnection::end_request() noexcept {
  if (!registered_) return true;
  int expected = kBusy;
  // acq_rel: as begin_request's.
  return drain_state.compare_exchange_strong(expected, kIdle, std::memory_order_acq_rel);
}

HttpConnection::~HttpConnection() {
  if (registered_) options_.drain->leave(*this);
}

}  // namespace tiny_coro::detail
