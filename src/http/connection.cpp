#include "http/connection.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <string_view>

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

std::chrono::nanoseconds time_left(const Reactor& reactor, TimePoint deadline) noexcept {
  const TimePoint now = reactor.now();
  // At least 1 ns: a zero timeout would mean "none".
  return deadline > now ? deadline - now : std::chrono::nanoseconds(1);
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

Task<void> HttpConnection::run(const HttpHandler& handler) {
  if (options_.drain != nullptr) {
    registered_ = true;
    // Draining already: this connection (accepted before the listener closed) still gets
    // its first request answered, then closes.
    // acq_rel: as drain.cpp's fetch_or, which this stands in for.
    if (!options_.drain->enter(*this)) drain_state.fetch_or(kDraining, std::memory_order_acq_rel);
  }
  socket_.set_write_timeout(options_.idle_timeout);
  co_await serve_requests(handler);
  if (linger_) co_await linger_close();
}

Task<void> HttpConnection::serve_requests(const HttpHandler& handler) {
  Reactor& reactor = *socket_.reactor();
  // The first request's head is due header_timeout after the connection began; later ones
  // header_timeout after their first byte.
  TimePoint head_deadline = deadline_after(reactor.now(), options_.header_timeout);
  bool first_request = true;
  for (;;) {
    if (!workspace_) {
      const TimePoint wait_deadline =
          first_request ? head_deadline : deadline_after(reactor.now(), options_.idle_timeout);
      if (!co_await await_first_bytes(wait_deadline)) co_return;
      if (!first_request) head_deadline = deadline_after(reactor.now(), options_.header_timeout);
    } else if (!first_request) {
      head_deadline = deadline_after(reactor.now(), options_.header_timeout);
    }
    // A drain that began while this connection was idle still lets the request it already
    // received be answered — with Connection: close.
    closing_ = !begin_request();
    first_request = false;
    head_parsed_ = false;

    switch (co_await read_head(head_deadline)) {
      case HeadOutcome::kComplete:
        break;
      case HeadOutcome::kClosed:
        co_await flush();
        co_return;
      case HeadOutcome::kTimedOut:
        co_await answer_error(408);
        co_return;
      case HeadOutcome::kTooLarge:
        co_await answer_error(431);
        co_return;
      case HeadOutcome::kMalformed:
        co_await answer_error(400);
        co_return;
    }
    if (!co_await answer(handler)) {
      co_await flush();
      co_return;
    }
    Workspace& ws = *workspace_;
    ws.begin = body_pos_;
    // Batched answers go out before the connection could be found draining below.
    if (ws.begin == ws.end || ws.out.size() >= kFlushThreshold) {
      if (!co_await flush()) co_return;
    }
    if (ws.begin == ws.end) workspace_.reset();  // idle: hold no buffer
    if (!end_request()) {
      co_await flush();
      co_return;
    }
  }
}

// Waits, holding no buffer, until the peer sends; then takes a workspace and reads. False:
// the connection is over (closed, an error, or `deadline` passed).
Task<bool> HttpConnection::await_first_bytes(TimePoint deadline) {
  Reactor& reactor = *socket_.reactor();
  for (;;) {
    const ssize_t ready = co_await socket_.wait_readable(time_left(reactor, deadline));
    if (ready < 0) co_return false;
    workspace_ = acquire_workspace();
    const ssize_t n = socket_.try_read(workspace_->buf, Workspace::kCapacity);
    if (n > 0) {
      workspace_->end = static_cast<std::size_t>(n);
      co_return true;
    }
    workspace_.reset();
    // -EAGAIN: woken with nothing to read (urgent data, a spurious edge); the EAGAIN itself
    // makes the next wait block until new data.
    if (n != -EAGAIN) co_return false;
  }
}

// RFC 9112 §9.6: closing while the peer is still sending makes the kernel answer with a
// reset, which can destroy the response the peer has not read yet. So the server shuts its
// side, then reads and drops what still comes, for a bounded time and amount.
Task<void> HttpConnection::linger_close() {
  workspace_.reset();
  if (socket_.shutdown(SHUT_WR) != 0) co_return;
  Reactor& reactor = *socket_.reactor();
  const TimePoint deadline = reactor.now() + kLingerTime;
  std::uint64_t dropped = 0;
  char sink[4096];
  while (dropped < kMaxLingerBytes) {
    socket_.set_read_timeout(time_left(reactor, deadline));
    const ssize_t n = co_await socket_.read(sink, sizeof(sink));
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
        head_end_ = result.head_length;
        head_parsed_ = true;
        co_return HeadOutcome::kComplete;
      case ParseStatus::kTooLarge:
        co_return HeadOutcome::kTooLarge;
      case ParseStatus::kMalformed:
        co_return HeadOutcome::kMalformed;
      case ParseStatus::kIncomplete:
        break;
    }
    // Earlier pipelined answers go out before waiting on the peer.
    if (!co_await flush()) co_return HeadOutcome::kClosed;
    socket_.set_read_timeout(time_left(*socket_.reactor(), deadline));
    const ssize_t n = co_await socket_.read(ws.buf + ws.end, Workspace::kCapacity - ws.end);
    if (n == -ETIMEDOUT) co_return HeadOutcome::kTimedOut;
    if (n <= 0) co_return HeadOutcome::kClosed;
    ws.end += static_cast<std::size_t>(n);
  }
}

// What the server answers without asking the handler; 0 if the handler decides.
int HttpConnection::server_verdict() const noexcept {
  const HttpRequest& req = workspace_->request;
  if (req.minor_version >= 1 && req.host_count != 1) return 400;  // RFC 9112 §3.2
  if (!known_method(req.method)) return 501;
  if (req.framing == BodyFraming::kContentLength && req.content_length > options_.max_body) {
    return 413;
  }
  return 0;
}

// Answers the request whose head was just parsed. False: close after what is batched.
Task<bool> HttpConnection::answer(const HttpHandler& handler) {
  const HttpRequest& req = workspace_->request;
  body_pos_ = head_end_;
  body_error_ = 0;
  body_left_ = req.framing == BodyFraming::kContentLength ? req.content_length : 0;
  body_done_ = req.framing == BodyFraming::kNone ||
               (req.framing == BodyFraming::kContentLength && body_left_ == 0);
  body_touched_ = workspace_->end > head_end_;
  continue_sent_ = false;
  chunked_ = ChunkedDecoder();
  decoded_len_ = 0;

  if (const int status = server_verdict(); status != 0) {
    co_await answer_error(status);
    co_return false;
  }
  HttpResponse response = co_await run_handler(handler);
  const bool body_finished = co_await finish_body();
  const bool keep_alive = body_finished && req.keep_alive() && !response.close && !closing_ &&
                          (options_.drain == nullptr || !options_.drain->draining());
  // Unread input (a body left behind, pipelined requests after a close) means lingering.
  if (!keep_alive && (!body_finished || body_pos_ < workspace_->end)) linger_ = true;
  const bool written = co_await write_response(response, keep_alive);
  co_return written&& keep_alive;
}

Task<HttpResponse> HttpConnection::run_handler(const HttpHandler& handler) {
  HttpExchange exchange(*this);
  try {
    co_return co_await handler(exchange);
  } catch (...) {  // the handler's bug: the peer hears 500 and the connection ends
  }
  HttpResponse error = HttpResponse::text(500, "Internal Server Error\n");
  error.close = true;
  co_return error;
}

// Consumes what the handler left of the body, so the next request starts at body_pos_.
// False if the connection cannot be kept (the rest is too long, broken, or never asked for).
Task<bool> HttpConnection::finish_body() {
  if (body_done_) co_return true;
  if (body_error_ != 0) co_return false;
  // The client waits for our 100 Continue before sending: nothing to drain, and it may
  // still send later, so the connection cannot carry another request.
  if (workspace_->request.expect_continue && !continue_sent_ && !body_touched_) co_return false;
  if (body_left_ > kMaxDrainedBody) co_return false;  // known too long: close at once
  char sink[4096];
  std::uint64_t drained = 0;
  while (!body_done_) {
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
  const std::uint64_t length =
      response.file.has_file() ? response.file.length() : response.body.size();
  ResponseHeadFields fields;
  fields.status = response.status;
  if (has_body) {
    fields.content_type = response.content_type;
    fields.content_length = length;
  }
  fields.extra = &response.headers;
  fields.close = !keep_alive;
  fields.keep_alive = keep_alive && ws.request.minor_version == 0;  // 1.0 must be told
  append_response_head(ws.out, fields);
  log(response.status, has_body && !head_only ? length : 0);
  if (!has_body || head_only || length == 0) co_return true;

  if (!response.file.has_file() && response.body.size() < kCopyBodyLimit) {
    ws.out.append(response.body);
    co_return true;
  }
  if (!co_await flush()) co_return false;
  for (std::uint64_t done = 0; done < length;) {
    const auto piece =
        static_cast<std::size_t>(std::min<std::uint64_t>(kWritePiece, length - done));
    const ssize_t sent =
        response.file.has_file()
            ? co_await socket_.sendfile(response.file.fd(),
                                        response.file.offset() + static_cast<off_t>(done), piece)
            : co_await socket_.write(response.body.data() + done, piece);
    if (sent != static_cast<ssize_t>(piece)) co_return false;
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
  workspace_->out.append(reason);
  workspace_->out.push_back('\n');
  log(status, reason.size() + 1);
  linger_ = status != 408;  // the peer may still be sending; a timed-out one is not
  co_await flush();
}

void HttpConnection::log(int status, std::uint64_t body_bytes) {
  if (!options_.on_response) return;
  if (peer_.empty()) peer_ = peer_address(socket_.fd());
  HttpAccessRecord record;
  record.peer = peer_;
  if (head_parsed_ && workspace_) {
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
  const ssize_t n = co_await socket_.write(workspace_->out);
  const bool ok = n == static_cast<ssize_t>(workspace_->out.size());
  workspace_->out.clear();
  co_return ok;
}

// RFC 9110 §10.1.1: a client that sent Expect: 100-continue waits for this before the body.
Task<bool> HttpConnection::send_continue() {
  const HttpRequest& req = workspace_->request;
  if (continue_sent_ || !req.expect_continue || req.minor_version < 1) co_return true;
  continue_sent_ = true;
  workspace_->out.append("HTTP/1.1 100 Continue\r\n\r\n");
  co_return co_await flush();
}

ssize_t HttpConnection::fail_body(ssize_t error) noexcept {
  body_error_ = error;
  return error;
}

// Content-Length body bytes that arrived with the head (or with earlier reads).
ssize_t HttpConnection::take_buffered_length_body(void* buf, std::size_t size) noexcept {
  Workspace& ws = *workspace_;
  std::uint64_t n = ws.end - body_pos_;
  n = std::min<std::uint64_t>(n, body_left_);
  n = std::min<std::uint64_t>(n, size);
  std::memcpy(buf, ws.buf + body_pos_, n);
  body_pos_ += n;
  body_left_ -= n;
  body_done_ = body_left_ == 0;
  return static_cast<ssize_t>(n);
}

Task<ssize_t> HttpConnection::read_body(void* buf, std::size_t size) {
  if (body_error_ != 0) co_return body_error_;
  if (body_done_ || size == 0) co_return 0;
  body_touched_ = true;
  if (workspace_->request.framing == BodyFraming::kChunked) {
    co_return co_await read_chunked_body(buf, size);
  }
  if (body_pos_ < workspace_->end) co_return take_buffered_length_body(buf, size);
  // Nothing buffered: straight from the socket into the caller's buffer, never past the body.
  if (!co_await send_continue()) co_return fail_body(-EPIPE);
  socket_.set_read_timeout(options_.idle_timeout);
  const std::size_t want = static_cast<std::size_t>(std::min<std::uint64_t>(size, body_left_));
  const ssize_t n = co_await socket_.read(buf, want);
  if (n == 0) co_return fail_body(-ECONNABORTED);
  if (n < 0) co_return fail_body(n);
  body_left_ -= static_cast<std::uint64_t>(n);
  body_done_ = body_left_ == 0;
  co_return n;
}

Task<ssize_t> HttpConnection::read_chunked_body(void* buf, std::size_t size) {
  Workspace& ws = *workspace_;
  for (;;) {
    if (decoded_len_ > 0) {
      const std::size_t n = std::min(size, decoded_len_);
      std::memcpy(buf, ws.buf + decoded_pos_, n);
      decoded_pos_ += n;
      decoded_len_ -= n;
      co_return static_cast<ssize_t>(n);
    }
    if (chunked_.done()) {
      body_done_ = true;
      co_return 0;
    }
    if (body_pos_ < ws.end) {
      const auto result = chunked_.decode(ws.buf + body_pos_, ws.end - body_pos_);
      if (result.status == ChunkedDecoder::Status::kError) co_return fail_body(-EPROTO);
      if (chunked_.decoded_bytes() > options_.max_body) co_return fail_body(-EMSGSIZE);
      decoded_pos_ = body_pos_;
      decoded_len_ = result.body_bytes;
      body_pos_ += result.consumed;
      continue;
    }
    // Everything after the head is used: read the next piece into the same room.
    ws.end = body_pos_ = head_end_;
    if (!co_await send_continue()) co_return fail_body(-EPIPE);
    socket_.set_read_timeout(options_.idle_timeout);
    const ssize_t n = co_await socket_.read(ws.buf + ws.end, Workspace::kCapacity - ws.end);
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
  return drain_state.compare_exchange_strong(expected, kBusy, std::memory_order_acq_rel);
}

bool HttpConnection::end_request() noexcept {
  if (!registered_) return true;
  int expected = kBusy;
  return drain_state.compare_exchange_strong(expected, kIdle, std::memory_order_acq_rel);
}

HttpConnection::~HttpConnection() {
  if (registered_) options_.drain->leave(*this);
}

}  // namespace tiny_coro::detail
