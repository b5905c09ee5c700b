// The read side of a connection (HttpConnection's, for the burst in hand): request heads, read
// until complete within header_timeout, and the body stream behind HttpExchange::read_body —
// Content-Length or chunked (decoded in place after its head), with 100 Continue sent when
// a body the client holds back is first asked for.
//
// Buffer layout: unconsumed input is buf[begin, end). Each request's head is moved to the
// front first (compaction between requests, when no views are alive), so a chunked body,
// decoded in place after its head, always has at least half the buffer to work in.
#pragma once

#include <sys/types.h>

#include <cstddef>
#include <cstdint>
#include <optional>

#include <tiny_coro/http_server.h>
#include <tiny_coro/reactor.h>
#include <tiny_coro/socket.h>
#include <tiny_coro/task.h>

#include "http/response_writer.h"
#include "http/workspace.h"

namespace tiny_coro::detail {

class RequestReader {
 public:
  RequestReader(AsyncSocket& socket, const HttpServerOptions& options, Workspace& ws) noexcept
      : socket_(socket), options_(options), ws_(ws) {}

  enum class HeadOutcome : std::uint8_t { kComplete, kClosed, kTimedOut, kTooLarge, kMalformed };
  // Parses the next head from what is buffered; nullopt if it is not complete yet.
  std::optional<HeadOutcome> parse_head();
  // Parses the next head, reading more (after flushing the answers batched so far) until it
  // is complete. `deadline`: TimePoint::min() for header_timeout from the first wait.
  Task<HeadOutcome> read_head(TimePoint deadline);
  // Readies the body stream of the head just parsed.
  void begin_body() noexcept;
  // The next body bytes; see HttpExchange::read_body.
  Task<ssize_t> read_body(void* buf, std::size_t size);
  // A Content-Length body's rest into `file_fd` from offset 0 without copying it through
  // user space: what is buffered with a write, the rest spliced (body_splice.h). The bytes
  // written, or < 0 as read_body. -EOPNOTSUPP: not spliced (a chunked body, or a socket that
  // cannot be); `written` bytes are in the file, and read_body goes on from there.
  Task<ssize_t> splice_body(int file_fd, std::uint64_t& written);
  // Consumes what the handler left of the body, so the next request starts after it. False
  // if the connection cannot be kept (the rest is too long, broken, or never asked for).
  Task<bool> finish_body();

 private:
  RequestState& state() noexcept { return ws_.state; }
  ResponseWriter writer() noexcept { return ResponseWriter(socket_, options_, ws_); }
  ssize_t fail_body(ssize_t error) noexcept;
  ssize_t take_buffered_length_body(void* buf, std::size_t size) noexcept;
  Task<ssize_t> read_chunked_body(void* buf, std::size_t size);

  AsyncSocket& socket_;
  const HttpServerOptions& options_;
  Workspace& ws_;
};

}  // namespace tiny_coro::detail
