// HttpConnection: HttpServer::serve's keep-alive loop. It reads through a RequestReader
// (heads and the body stream behind HttpExchange::read_body; request_reader.h) and answers
// through a ResponseWriter (the batch, large bodies and files; response_writer.h), both views
// of the workspace it holds while a burst runs.
//
// The loop (http_server.cpp's connection_loop), per request:
//   1. Idle (nothing buffered): wait for readability holding no buffer (idle_timeout; the
//      first request's header_timeout from the start) — the wait is an awaiter in the loop's
//      own frame, so an idle connection is one small coroutine frame. Then serve_burst()
//      takes a workspace and reads what is there.
//   2. Parse the head; while it is incomplete, flush the responses batched so far and read
//      more, until header_timeout from the request's first byte (408).
//   3. Check what the server itself decides (400 Host, 501, 413), run the handler, finish
//      the body it left unread (drain it, or close), append the response to the batch.
//   4. If another request is already buffered, go to 2 without writing: pipelined
//      responses leave in one write. Else flush, give the workspace back, go to 1.
// A malformed head, a timeout, an error or a response that closes ends the loop after
// flushing what was batched, so earlier pipelined responses are never lost.
#pragma once

#include <sys/types.h>

#include <atomic>
#include <cstddef>
#include <cstdint>

#include <tiny_coro/detail/cancel_state.h>
#include <tiny_coro/http_server.h>
#include <tiny_coro/reactor.h>

#include "http/request_reader.h"
#include "http/response_writer.h"
#include "http/workspace.h"

namespace tiny_coro::detail {

class HttpConnection {
 public:
  HttpConnection(AsyncSocket& socket, const HttpServerOptions& options) noexcept;
  HttpConnection(const HttpConnection&) = delete;
  HttpConnection& operator=(const HttpConnection&) = delete;
  ~HttpConnection();

  // Registers with the drain (if any); returns the first request's head deadline (its
  // header clock starts with the connection), which is also the first wait's.
  TimePoint open() noexcept;
  // The deadline for the wait between requests: idle_timeout from now.
  TimePoint idle_deadline() const noexcept;

  enum class Burst : std::uint8_t {
    kIdle,         // answered everything that came; wait for more
    kNothingRead,  // woken, but nothing was there; wait again (same deadline)
    kClose,        // the connection is over
  };
  // Reads what arrived and answers every request in it (more if a head or body needs
  // more bytes). Holds a workspace only meanwhile. Before kClose it lingers if need be.
  // `first_head_deadline`: what open() returned (used while no request was taken).
  Task<Burst> serve_burst(const HttpHandler& handler, TimePoint first_head_deadline);

  // HttpExchange's view.
  const HttpRequest& request() const noexcept { return workspace_->request; }
  AsyncSocket& socket() noexcept { return socket_; }
  Task<ssize_t> read_body(void* buf, std::size_t size);
  Task<ssize_t> splice_body(int file_fd, std::uint64_t& written);  // RequestReader's
  const HttpServerOptions& options() const noexcept { return options_; }

 private:
  RequestReader reader() noexcept { return RequestReader(socket_, options_, *workspace_); }
  // The scheduler's clock, which deadlines are on (a test may hand it a manual one). Needed
  // for the deadlines that span several operations (a head read in pieces, the linger);
  // per-operation ones are passed as durations and cost no clock read unless they wait.
  TimePoint now() const noexcept { return socket_.reactor()->now(); }

  RequestState& state() noexcept { return workspace_->state; }
  ResponseWriter writer() noexcept { return ResponseWriter(socket_, options_, *workspace_); }
  Task<Burst> answer_burst(const HttpHandler& handler, TimePoint first_head_deadline);
  Task<void> linger_close();
  Task<bool> answer(const HttpHandler& handler);
  Task<HttpResponse> run_handler(const HttpHandler& handler);
  Task<HttpResponse> run_handler_bounded(const HttpHandler& handler, HttpExchange& exchange);
  static HttpResponse closing_error(int status, std::string body);
  int server_verdict() const noexcept;
  Task<void> answer_error(int status);
  Task<bool> flush();
  bool begin_request() noexcept;
  bool end_request() noexcept;

  // Kept small: an idle connection is this, its socket and the wait (http_server.cpp).
  AsyncSocket& socket_;
  const HttpServerOptions& options_;
  WorkspacePtr workspace_;  // only while a burst runs
  bool registered_ = false;
  bool answered_any_ = false;  // a request was taken: later heads get their own clock
  bool closing_ = false;       // a drain began: answer the request in hand, then close
  bool linger_ = false;        // closing with input perhaps unread: linger_close() first

 public:
  // Last, so drain_state packs beside the flags above.
  // The drain registry's view of this connection (HttpDrain, drain.cpp). The connection
  // moves kIdle <-> kBusy by CAS; drain() sets kDraining, and shuts the read side of an
  // idle one so its wait ends at once.
  enum DrainState : int { kIdle = 0, kBusy = 1, kDraining = 2 };
  std::atomic<int> drain_state{kIdle};
  HttpConnection* drain_prev = nullptr;  // under the registry's lock
  // The cancellation state of the task serving this connection (HttpDrain::cancel_all), set by
  // its first burst: an idle connection's frame keeps no awaiter for it, and one that never
  // had a burst has nothing to cancel (drain() shuts its read side).
  std::atomic<CancelState*> cancel_state{nullptr};
  HttpConnection* drain_next = nullptr;
};

}  // namespace tiny_coro::detail
