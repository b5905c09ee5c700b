// HttpConnection: HttpServer::serve's keep-alive loop and the request body stream behind
// HttpExchange::read_body.
//
// The loop, per request:
//   1. Idle (nothing buffered): wait for readability holding no buffer (idle_timeout; the
//      first request's header_timeout from the start), take a workspace, read what is there.
//   2. Parse the head; while it is incomplete, flush the responses batched so far and read
//      more, until header_timeout from the request's first byte (408).
//   3. Check what the server itself decides (400 Host, 501, 413), run the handler, finish
//      the body it left unread (drain it, or close), append the response to the batch.
//   4. If another request is already buffered, go to 2 without writing: pipelined
//      responses leave in one write. Else flush, give the workspace back, go to 1.
// A malformed head, a timeout, an error or a response that closes ends the loop after
// flushing what was batched, so earlier pipelined responses are never lost.
//
// Buffer layout: unconsumed input is buf[begin, end). Each request's head is moved to the
// front first (compaction between requests, when no views are alive), so a chunked body,
// decoded in place after its head, always has at least half the buffer to work in.
#pragma once

#include <sys/types.h>

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <string>

#include <tiny_coro/http_server.h>
#include <tiny_coro/reactor.h>

#include "http/workspace.h"

namespace tiny_coro::detail {

class HttpConnection {
 public:
  HttpConnection(AsyncSocket& socket, const HttpServerOptions& options) noexcept;
  HttpConnection(const HttpConnection&) = delete;
  HttpConnection& operator=(const HttpConnection&) = delete;
  ~HttpConnection();

  Task<void> run(const HttpHandler& handler);

  // HttpExchange's view.
  const HttpRequest& request() const noexcept { return workspace_->request; }
  AsyncSocket& socket() noexcept { return socket_; }
  Task<ssize_t> read_body(void* buf, std::size_t size);

  // The drain registry's view of this connection (HttpDrain, drain.cpp). The connection
  // moves kIdle <-> kBusy by CAS; drain() sets kDraining, and shuts the read side of an
  // idle one so its wait ends at once.
  enum DrainState : int { kIdle = 0, kBusy = 1, kDraining = 2 };
  std::atomic<int> drain_state{kIdle};
  HttpConnection* drain_prev = nullptr;  // under the registry's lock
  HttpConnection* drain_next = nullptr;

 private:
  enum class HeadOutcome : std::uint8_t { kComplete, kClosed, kTimedOut, kTooLarge, kMalformed };

  Task<void> serve_requests(const HttpHandler& handler);
  Task<bool> await_first_bytes(TimePoint deadline);
  Task<void> linger_close();
  Task<HeadOutcome> read_head(TimePoint deadline);
  Task<bool> answer(const HttpHandler& handler);
  Task<HttpResponse> run_handler(const HttpHandler& handler);
  int server_verdict() const noexcept;
  Task<bool> finish_body();
  Task<bool> write_response(const HttpResponse& response, bool keep_alive);
  Task<void> answer_error(int status);
  Task<bool> flush();
  Task<bool> send_continue();
  ssize_t fail_body(ssize_t error) noexcept;
  ssize_t take_buffered_length_body(void* buf, std::size_t size) noexcept;
  Task<ssize_t> read_chunked_body(void* buf, std::size_t size);
  bool begin_request() noexcept;
  bool end_request() noexcept;
  void log(int status, std::uint64_t body_bytes);

  AsyncSocket& socket_;
  const HttpServerOptions& options_;
  std::string peer_;  // for the access log, looked up once
  WorkspacePtr workspace_;

  // The request in hand.
  std::size_t head_end_ = 0;     // its head is buf[0, head_end_)
  std::size_t body_pos_ = 0;     // its next unread body byte (framing bytes included)
  std::uint64_t body_left_ = 0;  // Content-Length bytes not yet read
  ChunkedDecoder chunked_;
  std::size_t decoded_pos_ = 0;  // decoded chunked bytes not yet handed out:
  std::size_t decoded_len_ = 0;  // buf[decoded_pos_, + decoded_len_)
  ssize_t body_error_ = 0;
  bool body_done_ = true;
  bool body_touched_ = false;  // a body byte was asked for, or arrived with the head
  bool continue_sent_ = false;
  bool registered_ = false;
  bool head_parsed_ = false;  // the request in hand has a parsed head (for the access log)
  bool closing_ = false;      // a drain began: answer the request in hand, then close
  bool linger_ = false;       // closing with input perhaps unread: linger_close() first
};

}  // namespace tiny_coro::detail
