#include "http/request_reader.h"

#include <algorithm>
#include <cerrno>
#include <cstring>

#include <tiny_coro/blocking.h>
#include <tiny_coro/deadline.h>
#include <tiny_coro/file.h>

#include "http/body_splice.h"

namespace tiny_coro::detail {
namespace {

// Left unread by a handler, at most this much body is read and dropped to keep the
// connection; beyond it closing is cheaper.
constexpr std::uint64_t kMaxDrainedBody = 1 << 20;

}  // namespace

std::optional<RequestReader::HeadOutcome> RequestReader::parse_head() {
  if (ws_.begin > 0) {  // no views are alive between requests: move the next one to the front
    std::memmove(ws_.buf, ws_.buf + ws_.begin, ws_.end - ws_.begin);
    ws_.end -= ws_.begin;
    ws_.begin = 0;
  }
  const std::size_t max_head = std::min(options_.max_head_bytes, Workspace::kCapacity / 2);
  const ParseResult result = HttpParser::parse(ws_.buf, ws_.end, ws_.request, max_head);
  switch (result.status) {
    case ParseStatus::kComplete:
      state().head_end = result.head_length;
      state().head_parsed = true;
      if (options_.on_response) state().head_done_at = std::chrono::steady_clock::now();
      return HeadOutcome::kComplete;
    case ParseStatus::kTooLarge:
      return HeadOutcome::kTooLarge;
    case ParseStatus::kMalformed:
      return HeadOutcome::kMalformed;
    case ParseStatus::kIncomplete:
      break;
  }
  return std::nullopt;
}

Task<RequestReader::HeadOutcome> RequestReader::read_head(TimePoint deadline) {
  for (;;) {
    if (const std::optional<HeadOutcome> whole = parse_head()) co_return *whole;
    // Earlier pipelined answers go out before waiting on the peer.
    ResponseWriter out = writer();
    const bool flushed = co_await out.flush();
    if (!flushed) co_return HeadOutcome::kClosed;
    if (deadline == TimePoint::min())
      deadline = deadline_after(socket_.reactor()->now(), options_.header_timeout);
    const ssize_t n =
        co_await socket_.read(ws_.buf + ws_.end, Workspace::kCapacity - ws_.end, deadline);
    if (n == -ETIMEDOUT) co_return HeadOutcome::kTimedOut;
    if (n <= 0) co_return HeadOutcome::kClosed;
    ws_.end += static_cast<std::size_t>(n);
  }
}

void RequestReader::begin_body() noexcept {
  const HttpRequest& req = ws_.request;
  state().body_pos = state().head_end;
  state().body_error = 0;
  state().body_left = req.framing == BodyFraming::kContentLength ? req.content_length : 0;
  state().body_done = req.framing == BodyFraming::kNone ||
                      (req.framing == BodyFraming::kContentLength && state().body_left == 0);
  state().body_touched = ws_.end > state().head_end;
  state().continue_sent = false;
  state().chunked = ChunkedDecoder();
  state().decoded_len = 0;
  state().body_bytes_read = 0;
}

Task<bool> RequestReader::finish_body() {
  if (state().body_done) co_return true;
  if (state().body_error != 0) co_return false;
  // The client waits for our 100 Continue before sending: nothing to drain, and it may
  // still send later, so the connection cannot carry another request.
  if (ws_.request.expect_continue && !state().continue_sent && !state().body_touched)
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

ssize_t RequestReader::fail_body(ssize_t error) noexcept {
  state().body_error = error;
  return error;
}

// Content-Length body bytes that arrived with the head (or with earlier reads).
ssize_t RequestReader::take_buffered_length_body(void* buf, std::size_t size) noexcept {
  std::uint64_t n = ws_.end - state().body_pos;
  n = std::min<std::uint64_t>(n, state().body_left);
  n = std::min<std::uint64_t>(n, size);
  std::memcpy(buf, ws_.buf + state().body_pos, n);
  state().body_pos += n;
  state().body_left -= n;
  state().body_bytes_read += n;
  state().body_done = state().body_left == 0;
  return static_cast<ssize_t>(n);
}

Task<ssize_t> RequestReader::read_body(void* buf, std::size_t size) {
  if (state().body_error != 0) co_return state().body_error;
  if (state().body_done || size == 0) co_return 0;
  state().body_touched = true;
  if (ws_.request.framing == BodyFraming::kChunked) {
    co_return co_await read_chunked_body(buf, size);
  }
  if (state().body_pos < ws_.end) co_return take_buffered_length_body(buf, size);
  // Nothing buffered: straight from the socket into the caller's buffer, never past the body.
  ResponseWriter out = writer();
  const bool continued = co_await out.send_continue();
  if (!continued) co_return fail_body(-EPIPE);
  const std::size_t want =
      static_cast<std::size_t>(std::min<std::uint64_t>(size, state().body_left));
  const ssize_t n = co_await socket_.read(buf, want, options_.idle_timeout);
  if (n == 0) co_return fail_body(-ECONNABORTED);
  if (n < 0) co_return fail_body(n);
  state().body_left -= static_cast<std::uint64_t>(n);
  state().body_done = state().body_left == 0;
  state().body_bytes_read += static_cast<std::uint64_t>(n);
  co_return n;
}

Task<ssize_t> RequestReader::splice_body(int file_fd, std::uint64_t& written) {
  written = 0;
  if (state().body_error != 0) co_return state().body_error;
  if (ws_.request.framing == BodyFraming::kChunked) co_return -EOPNOTSUPP;
  if (state().body_done) co_return 0;
  state().body_touched = true;
  if (state().body_pos < ws_.end) {  // what came with the head (or with an earlier read)
    const auto buffered = static_cast<std::size_t>(
        std::min<std::uint64_t>(ws_.end - state().body_pos, state().body_left));
    const char* from = ws_.buf + state().body_pos;
    const ssize_t put =
        co_await run_blocking([&] { return file_write(file_fd, from, buffered, 0); });
    if (put < 0) co_return put;  // the file's error: nothing was taken from the socket
    state().body_pos += buffered;
    state().body_left -= buffered;
    state().body_bytes_read += buffered;
    state().body_done = state().body_left == 0;
    written = buffered;
    if (state().body_done) co_return static_cast<ssize_t>(written);
  }
  ResponseWriter out = writer();
  const bool continued = co_await out.send_continue();
  if (!continued) co_return fail_body(-EPIPE);
  std::uint64_t moved = 0;
  auto account = [&] {
    state().body_left -= moved;
    state().body_bytes_read += moved;
    state().body_done = state().body_left == 0;
    written += moved;
  };
  ssize_t result = 0;
  try {
    result = co_await splice_socket_to_file(socket_, file_fd, static_cast<off_t>(written),
                                            state().body_left, options_.idle_timeout, moved);
  } catch (...) {
    // Cancelled (a handler deadline) after some batches: what they took from the socket is
    // counted, and the body is broken, so the connection closes instead of draining a body
    // whose end it no longer knows.
    account();
    if (!state().body_done) state().body_error = -ECANCELED;
    throw;
  }
  account();
  if (result == -EOPNOTSUPP) co_return result;  // read_body goes on after `written`
  if (result < 0) co_return fail_body(result);
  co_return static_cast<ssize_t>(written);
}

Task<ssize_t> RequestReader::read_chunked_body(void* buf, std::size_t size) {
  for (;;) {
    if (state().decoded_len > 0) {
      const std::size_t n = std::min(size, state().decoded_len);
      std::memcpy(buf, ws_.buf + state().decoded_pos, n);
      state().decoded_pos += n;
      state().decoded_len -= n;
      state().body_bytes_read += n;
      co_return static_cast<ssize_t>(n);
    }
    if (state().chunked.done()) {
      state().body_done = true;
      co_return 0;
    }
    if (state().body_pos < ws_.end) {
      const auto result =
          state().chunked.decode(ws_.buf + state().body_pos, ws_.end - state().body_pos);
      if (result.status == ChunkedDecoder::Status::kError) co_return fail_body(-EPROTO);
      if (state().chunked.decoded_bytes() > options_.max_body) co_return fail_body(-EMSGSIZE);
      state().decoded_pos = state().body_pos;
      state().decoded_len = result.body_bytes;
      state().body_pos += result.consumed;
      continue;
    }
    // Everything after the head is used: read the next piece into the same room.
    ws_.end = state().body_pos = state().head_end;
    ResponseWriter out = writer();
    const bool continued = co_await out.send_continue();
    if (!continued) co_return fail_body(-EPIPE);
    const ssize_t n = co_await socket_.read(ws_.buf + ws_.end, Workspace::kCapacity - ws_.end,
                                            options_.idle_timeout);
    if (n == 0) co_return fail_body(-ECONNABORTED);
    if (n < 0) co_return fail_body(n);
    ws_.end += static_cast<std::size_t>(n);
  }
}

}  // namespace tiny_coro::detail
