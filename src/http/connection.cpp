#include "http/connection.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <string_view>

#include <optional>

#include <tiny_coro/cancel.h>
#include <tiny_coro/detail/cancel_scope.h>

#include "http/response_head.h"

namespace tiny_coro::detail {
namespace {

// Left unread by a handler, at most this much body is read and dropped to keep the
// connection; beyond it closing is cheaper.
constexpr std::uint64_t kMaxDrainedBody = 1 << 20;
// Batched output past this is written before more requests are answered.
constexpr std::size_t kFlushThreshold = 64 * 1024;
// Bodies at least this large go out after the head instead of being copied behind it.
constexpr std::size_t kCopyBodyLimit = 16 * 1024;
// Large bodies go out in pieces, each under its own write timeout: a slow reader of a big
// file is cut off only when it stalls, not for being slow.
constexpr std::size_t kWritePiece = 4 << 20;
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

std::string peer_address(int fd) {
  sockaddr_storage address{};
  socklen_t length = sizeof(address);
  char text[INET6_ADDRSTRLEN] = "-";
  if (::getpeername(fd, reinterpret_cast<sockaddr*>(&address), &length) == 0) {
    if (address.ss_family == AF_INET) {
      ::inet_ntop(AF_INET, &reinterpret_cast<sockaddr_in*>(&address)->sin_addr, text, sizeof(text));
    } else if (address.ss_family == AF_INET6) {
      ::inet_ntop(AF_INET6, &reinterpret_cast<sockaddr_in6*>(&address)->sin6_addr, text,
                  sizeof(text));
    }
  }
  return text;
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
  return deadline_after(now(), options_.idle_timeout);
}

Task<HttpConnection::Burst> HttpConnection::serve_burst(const HttpHandler& handler,
                                                        TimePoint first_head_deadline) {
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
    const HeadOutcome head = co_await read_head(head_deadline);
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
      co_await flush();
      if (!idle) linger_ = true;  // pipelined requests stay unread
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

Task<HttpConnection::HeadOutcome> HttpConnection::read_head(TimePoint deadline) {
  Workspace& ws = *workspace_;
  if (ws.begin > 0) {  // no views are alive between requests: move the next one to the front
    std::memmove(ws.buf, ws.buf + ws.begin, ws.end - ws.begin);
    ws.end -= ws.begin;
    ws.begin = 0;
  }
  const std::size_t max_head = std::min(options_.max_head_bytes, Workspace::kCapacity / 2);
  for (;;) {
    const ParseResult result = HttpParser::parse(ws.buf, ws.end, ws.request, max_head);
    switch (result.status) {
      case ParseStatus::kComplete:
        state().head_end = result.head_length;
        state().head_parsed = true;
        co_return HeadOutcome::kComplete;
      case ParseStatus::kTooLarge:
        co_return HeadOutcome::kTooLarge;
      case ParseStatus::kMalformed:
        co_return HeadOutcome::kMalformed;
      case ParseStatus::kIncomplete:
        break;
    }
    // Earlier pipelined answers go out before waiting on the peer.
    const bool flushed = co_await flush();
    if (!flushed) co_return HeadOutcome::kClosed;
    if (deadline == TimePoint::min()) deadline = deadline_after(now(), options_.header_timeout);
    const ssize_t n =
        co_await socket_.read(ws.buf + ws.end, Workspace::kCapacity - ws.end, deadline);
    if (n == -ETIMEDOUT) co_return HeadOutcome::kTimedOut;
    if (n <= 0) co_return HeadOutcome::kClosed;
    ws.end += static_cast<std::size_t>(n);
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
  state().body_pos = state().head_end;
  state().body_error = 0;
  state().body_left = req.framing == BodyFraming::kContentLength ? req.content_length : 0;
  state().body_done = req.framing == BodyFraming::kNone ||
                      (req.framing == BodyFraming::kContentLength && state().body_left == 0);
  state().body_touched = workspace_->end > state().head_end;
  state().continue_sent = false;
  state().chunked = ChunkedDecoder();
  state().decoded_len = 0;

  if (const int status = server_verdict(); status != 0) {
    co_await answer_error(status);
    co_return false;
  }
  HttpResponse response = co_await run_handler(handler);
  const bool body_finished = co_await finish_body();
  const bool keep_alive = body_finished && req.keep_alive() && !response.close && !closing_ &&
                          (options_.drain == nullptr || !options_.drain->draining());
  // Unread input (a body left behind, pipelined requests after a close) means lingering.
  if (!keep_alive && (!body_finished || state().body_pos < workspace_->end)) linger_ = true;
  const bool written = co_await write_response(response, keep_alive);
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

HttpResponse HttpConnection::closing_error(int status, std::string body) {
  HttpResponse error = HttpResponse::text(status, std::move(body));
  error.close = true;
  return error;
}

// Consumes what the handler left of the body, so the next request starts at state().body_pos.
// False if the connection cannot be kept (the rest is too long, broken, or never asked for).
Task<bool> HttpConnection::finish_body() {
  if (state().body_done) co_return true;
  if (state().body_error != 0) co_return false;
  // The client waits for our 100 Continue before sending: nothing to drain, and it may
  // still send later, so the connection cannot carry another request.
  if (workspace_->request.expect_continue && !state().continue_sent && !state().body_touched)
    co_return false;
  if (state().body_left > kMaxDrainedBody) co_return false;  // known too long: close at once
  char sink[4096];
  std::uint64_t drained = 0;
  while (!state().body_done) {
    const ssize_t n = co_await read_body(sink, sizeof(sink));
    if (n < 0) co_return false;
    drained += static_cast<std::uint64_t>(n);
    if (drained > kMaxDrainedBody) co_return false;
  }
  co_return true;
}

Task<bool> HttpConnection::write_response(const HttpResponse& response, bool keep_alive) {
  Workspace& ws = *workspace_;
  const bool head_only = ws.request.method == "HEAD";
  const bool has_body = status_allows_body(response.status);
  const bool from_file = response.file.has_file();
  const std::string_view in_memory = response.body_bytes();
  const std::uint64_t length = from_file ? response.file.length() : in_memory.size();
  ResponseHeadFields fields;
  fields.status = response.status;
  if (has_body) {
    fields.content_type = response.content_type;
    fields.content_length = length;
  }
  fields.extra = &response.headers;
  fields.raw_fields = response.shared.head_fields;
  fields.close = !keep_alive;
  fields.keep_alive = keep_alive && ws.request.minor_version == 0;  // 1.0 must be told
  append_response_head(ws.out, fields);
  log(response.status, has_body && !head_only ? length : 0);
  if (!has_body || head_only || length == 0) co_return true;

  if (!from_file) {
    if (in_memory.size() < kCopyBodyLimit) {
      ws.out.append(in_memory);
      co_return true;
    }
    co_return co_await write_batch_and(in_memory);
  }
  // The batch (this head, and any pipelined answers before it) leaves with the first piece
  // of the file, in one packet.
  for (std::uint64_t done = 0; done < length;) {
    const auto piece =
        static_cast<std::size_t>(std::min<std::uint64_t>(kWritePiece, length - done));
    const iovec head{ws.out.data(), ws.out.size()};
    const std::size_t expected = ws.out.size() + piece;
    const ssize_t sent = co_await socket_.sendfile(
        &head, ws.out.empty() ? 0 : 1, response.file.fd(),
        response.file.offset() + static_cast<off_t>(done), piece, options_.idle_timeout);
    ws.out.clear();
    if (sent != static_cast<ssize_t>(expected)) co_return false;
    done += piece;
  }
  co_return true;
}

// The batch so far and a large body after it, in one writev per piece: the head and the
// body's first bytes share a packet instead of going out as two sends.
Task<bool> HttpConnection::write_batch_and(std::string_view body) {
  Workspace& ws = *workspace_;
  for (std::size_t done = 0; done < body.size();) {
    const std::size_t piece = std::min(kWritePiece, body.size() - done);
    iovec parts[2] = {{ws.out.data(), ws.out.size()},
                      {const_cast<char*>(body.data() + done), piece}};
    const std::size_t expected = ws.out.size() + piece;
    const ssize_t sent = co_await socket_.writev(parts, 2, options_.idle_timeout);
    ws.out.clear();
    if (sent != static_cast<ssize_t>(expected)) co_return false;
    done += piece;
  }
  co_return true;
}

// A status the server decides itself; the connection closes after it.
Task<void> HttpConnection::answer_error(int status) {
  if (!workspace_) workspace_ = acquire_workspace();
  const std::string_view reason = http_reason_phrase(status);
  ResponseHeadFields fields;
  fields.status = status;
  fields.content_type = "text/plain; charset=utf-8";
  fields.content_length = reason.size() + 1;
  fields.close = true;
  append_response_head(workspace_->out, fields);
  // A response to HEAD has no body (RFC 9110 §9.3.2), whoever decided it.
  const bool head_only = state().head_parsed && workspace_->request.method == "HEAD";
  if (!head_only) {
    workspace_->out.append(reason);
    workspace_->out.push_back('\n');
  }
  log(status, head_only ? 0 : reason.size() + 1);
  linger_ = status != 408;  // the peer may still be sending; a timed-out one is not
  co_await flush();
}

void HttpConnection::log(int status, std::uint64_t body_bytes) {
  if (!options_.on_response || !workspace_) return;
  Workspace& ws = *workspace_;
  if (ws.peer.empty()) ws.peer = peer_address(socket_.fd());
  HttpAccessRecord record;
  record.peer = ws.peer;
  if (state().head_parsed) {
    const HttpRequest& req = workspace_->request;
    record.method = req.method;
    record.target = req.path;
    record.minor_version = req.minor_version;
  }
  record.status = status;
  record.body_bytes = body_bytes;
  options_.on_response(record);
}

Task<bool> HttpConnection::flush() {
  if (!workspace_ || workspace_->out.empty()) co_return true;
  const ssize_t n = co_await socket_.write(workspace_->out, options_.idle_timeout);
  const bool ok = n == static_cast<ssize_t>(workspace_->out.size());
  workspace_->out.clear();
  co_return ok;
}

// RFC 9110 §10.1.1: a client that sent Expect: 100-continue waits for this before the body.
Task<bool> HttpConnection::send_continue() {
  const HttpRequest& req = workspace_->request;
  if (state().continue_sent || !req.expect_continue || req.minor_version < 1) co_return true;
  state().continue_sent = true;
  workspace_->out.append("HTTP/1.1 100 Continue\r\n\r\n");
  co_return co_await flush();
}

ssize_t HttpConnection::fail_body(ssize_t error) noexcept {
  state().body_error = error;
  return error;
}

// Content-Length body bytes that arrived with the head (or with earlier reads).
ssize_t HttpConnection::take_buffered_length_body(void* buf, std::size_t size) noexcept {
  Workspace& ws = *workspace_;
  std::uint64_t n = ws.end - state().body_pos;
  n = std::min<std::uint64_t>(n, state().body_left);
  n = std::min<std::uint64_t>(n, size);
  std::memcpy(buf, ws.buf + state().body_pos, n);
  state().body_pos += n;
  state().body_left -= n;
  state().body_done = state().body_left == 0;
  return static_cast<ssize_t>(n);
}

Task<ssize_t> HttpConnection::read_body(void* buf, std::size_t size) {
  if (state().body_error != 0) co_return state().body_error;
  if (state().body_done || size == 0) co_return 0;
  state().body_touched = true;
  if (workspace_->request.framing == BodyFraming::kChunked) {
    co_return co_await read_chunked_body(buf, size);
  }
  if (state().body_pos < workspace_->end) co_return take_buffered_length_body(buf, size);
  // Nothing buffered: straight from the socket into the caller's buffer, never past the body.
  const bool continued = co_await send_continue();
  if (!continued) co_return fail_body(-EPIPE);
  const std::size_t want =
      static_cast<std::size_t>(std::min<std::uint64_t>(size, state().body_left));
  const ssize_t n = co_await socket_.read(buf, want, options_.idle_timeout);
  if (n == 0) co_return fail_body(-ECONNABORTED);
  if (n < 0) co_return fail_body(n);
  state().body_left -= static_cast<std::uint64_t>(n);
  state().body_done = state().body_left == 0;
  co_return n;
}

Task<ssize_t> HttpConnection::read_chunked_body(void* buf, std::size_t size) {
  Workspace& ws = *workspace_;
  for (;;) {
    if (state().decoded_len > 0) {
      const std::size_t n = std::min(size, state().decoded_len);
      std::memcpy(buf, ws.buf + state().decoded_pos, n);
      state().decoded_pos += n;
      state().decoded_len -= n;
      co_return static_cast<ssize_t>(n);
    }
    if (state().chunked.done()) {
      state().body_done = true;
      co_return 0;
    }
    if (state().body_pos < ws.end) {
      const auto result =
          state().chunked.decode(ws.buf + state().body_pos, ws.end - state().body_pos);
      if (result.status == ChunkedDecoder::Status::kError) co_return fail_body(-EPROTO);
      if (state().chunked.decoded_bytes() > options_.max_body) co_return fail_body(-EMSGSIZE);
      state().decoded_pos = state().body_pos;
      state().decoded_len = result.body_bytes;
      state().body_pos += result.consumed;
      continue;
    }
    // Everything after the head is used: read the next piece into the same room.
    ws.end = state().body_pos = state().head_end;
    const bool continued = co_await send_continue();
    if (!continued) co_return fail_body(-EPIPE);
    const ssize_t n = co_await socket_.read(ws.buf + ws.end, Workspace::kCapacity - ws.end,
                                            options_.idle_timeout);
    if (n == 0) co_return fail_body(-ECONNABORTED);
    if (n < 0) co_return fail_body(n);
    ws.end += static_cast<std::size_t>(n);
  }
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
