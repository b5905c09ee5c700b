// HTTP/1.1 serving (manual §3): the manual's HttpServer helpers, and a keep-alive connection
// loop that runs request handlers.
//
// The manual's way — one request, by hand:
//   HttpServer server(socket);
//   co_await server.send_response(200, "text/plain", "hi");
//   co_await server.receive_to_file("upload.bin", content_length, body_already_read);
//
// The server's way — every request of a connection, keep-alive and pipelining included:
//   HttpRouter router;
//   router.get("/hello", [](HttpExchange&) -> Task<HttpResponse> {
//     co_return HttpResponse::text(200, "Hello, World!");
//   });
//   co_await HttpServer(socket).serve(router);           // until the peer leaves
//
// serve() reads until each head is complete (never assumes one read holds it), answers
// pipelined requests in order and batches their responses into one write, adds Date, Server
// and Content-Length, keeps HTTP/1.1 connections open unless told to close (HTTP/1.0 the
// other way round), sends 100 Continue when a handler first reads a body it was asked about,
// decodes chunked bodies, and answers on its own: 400 (malformed, HTTP/1.1 without exactly
// one Host, or a Host that is not uri-host[:port]), 408 (head not complete within header_timeout),
// 413 (body over max_body), 431 (head over max_head_bytes), 501 (unknown method), 500 (the handler
// threw).
//
// A handler is a coroutine taking the HttpExchange; the request's views stay valid until it
// returns. A lambda handler's captures live in the router, which must outlive serve().
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>
#include <vector>

#include <tiny_coro/http_parser.h>
#include <tiny_coro/socket.h>
#include <tiny_coro/task.h>

namespace tiny_coro {

namespace detail {
class HttpConnection;
struct ExchangeBody;  // http_server.cpp: the uploads' splice path
}
class HttpDrain;

// A file region sent as a response body with sendfile(2). Owns the descriptor, unless made
// by borrow().
class HttpFileBody {
 public:
  HttpFileBody() noexcept = default;
  HttpFileBody(int fd, off_t offset, std::uint64_t length) noexcept
      : fd_(fd), offset_(offset), length_(length) {}
  // A region of a descriptor someone else keeps open (a file cache's) until the response is
  // written: put its owner in HttpResponse::shared.owner. Never closed here.
  static HttpFileBody borrow(int fd, off_t offset, std::uint64_t length) noexcept {
    HttpFileBody body(fd, offset, length);
    body.owned_ = false;
    return body;
  }
  HttpFileBody(HttpFileBody&& other) noexcept
      : fd_(std::exchange(other.fd_, -1)),
        offset_(other.offset_),
        length_(other.length_),
        owned_(other.owned_) {}
  HttpFileBody& operator=(HttpFileBody&& other) noexcept;
  HttpFileBody(const HttpFileBody&) = delete;
  HttpFileBody& operator=(const HttpFileBody&) = delete;
  ~HttpFileBody();

  bool has_file() const noexcept { return fd_ >= 0; }
  int fd() const noexcept { return fd_; }
  off_t offset() const noexcept { return offset_; }
  std::uint64_t length() const noexcept { return length_; }

 private:
  int fd_ = -1;
  off_t offset_ = 0;
  std::uint64_t length_ = 0;
  bool owned_ = true;
};

// Bytes made once and sent by many responses without a copy into each (a file cache's):
// `head_fields`, whole "Name: value\r\n" lines, go out after the response's other fields;
// `body`, unless it is a null view, is the body. `owner` keeps both alive until written.
struct HttpSharedBytes {
  std::shared_ptr<const void> owner;
  std::string_view head_fields;
  std::string_view body;
};

struct HttpResponse {
  int status = 200;
  std::string content_type;  // empty: no Content-Type field
  std::string body;          // ignored when `file` or `shared` has a body
  HttpFileBody file;
  HttpSharedBytes shared;
  std::vector<std::pair<std::string, std::string>> headers;  // further fields, sent as given
  bool close = false;  // close the connection after this response

  static HttpResponse text(int status, std::string body,
                           std::string content_type = "text/plain; charset=utf-8");
  // The body in memory: `shared`'s unless that is a null view, else `body` (not `file`'s).
  std::string_view body_bytes() const noexcept {
    return shared.body.data() != nullptr ? shared.body : std::string_view(body);
  }
};

// The standard reason phrase ("Not Found"), or "Unknown".
std::string_view http_reason_phrase(int status) noexcept;

// A time as an HTTP date (RFC 9110 §5.6.7 IMF-fixdate, "Sun, 06 Nov 1994 08:49:37 GMT").
std::string http_date(std::int64_t unix_seconds);
// An HTTP date back to seconds, in any of its three forms (RFC 9110 §5.6.7: IMF-fixdate, and
// the obsolete RFC 850 and asctime ones); nullopt for anything else.
std::optional<std::int64_t> parse_http_date(std::string_view text) noexcept;

// What a server's access log needs of one response.
struct HttpAccessRecord {
  std::string_view peer;    // the client's address ("127.0.0.1", "::1"; "unix:" for a Unix
                            // socket's client, "unix:/path" if it bound one; "-" unknown)
  std::string_view method;  // empty when the head could not be parsed
  std::string_view target;
  int minor_version = 1;
  int status = 0;
  std::uint64_t body_bytes = 0;          // as sent (0 for HEAD)
  std::uint64_t request_body_bytes = 0;  // as received (decoded, if chunked), read or drained
  std::chrono::nanoseconds duration{0};  // from the complete head to the queued response
};

// How an upload is stored (receive_to_file, HttpExchange::save_body).
struct FileSaveOptions {
  // fsync(2) the file before it is renamed into place: once the rename is seen, the data
  // survives a crash (without it a crash can leave the new name on an empty file). Costs a
  // disk flush per upload.
  bool fsync_before_rename = false;
};

struct HttpServerOptions {
  std::size_t max_head_bytes = HttpParser::kMaxHeadBytes;
  std::uint64_t max_body = std::uint64_t{16} << 30;  // 16 GiB
  // From the first byte of a request (or from the start of serve()) to the end of its head.
  std::chrono::nanoseconds header_timeout = std::chrono::seconds(10);
  // Between requests on a keep-alive connection; also bounds each body read and each write.
  std::chrono::nanoseconds idle_timeout = std::chrono::seconds(60);
  // How long a handler may run (0: unbounded). One that overruns is cancelled at its
  // suspension point (cancel.h); once it has unwound the client gets 503 and the connection
  // closes. Needs serve() to run in a task spawned on a Scheduler.
  std::chrono::nanoseconds handler_timeout{0};
  // Checked between requests: once it holds, the connection closes after its current
  // response (a graceful shutdown sets it, then wakes idle connections — see HttpDrain).
  HttpDrain* drain = nullptr;
  // Called on the worker after each response is queued, including those the server decides
  // itself (400, 408, ...). Must not block.
  std::function<void(const HttpAccessRecord&)> on_response;
  // For save_body() and save_body_in().
  FileSaveOptions uploads;
};

// Lets a server stop its connections gracefully: each connection registers while serve()
// runs; begin() makes busy connections close after the response in progress and closes idle
// ones' read side, so they leave at once. Thread-safe.
class HttpDrain {
 public:
  HttpDrain();
  HttpDrain(const HttpDrain&) = delete;
  HttpDrain& operator=(const HttpDrain&) = delete;
  ~HttpDrain();

  void begin() noexcept;
  // After begin(), for what would not finish in time: cancels the task serving each
  // registered connection (cancel.h). A request still running gets TaskCancelled at its
  // suspension point and unwinds — its socket closes, an unfinished upload leaves no file —
  // and its connection leaves; wait_until_idle() then sees them go.
  void cancel_all() noexcept;
  bool draining() const noexcept;
  std::size_t active_connections() const noexcept;
  // Blocks the calling thread (not a worker!) until no connection is registered, or until
  // `timeout` passed; whether none is left.
  bool wait_until_idle(std::chrono::nanoseconds timeout) const;

 private:
  friend class detail::HttpConnection;
  // Registers the connection; false if draining already (it then serves one request).
  bool enter(detail::HttpConnection& connection) noexcept;
  void leave(detail::HttpConnection& connection) noexcept;
  struct State;
  std::unique_ptr<State> state_;
};

// One request as its handler sees it, with its body as a stream.
class HttpExchange {
 public:
  const HttpRequest& request() const noexcept;
  // The target's path, before any '?', still percent-encoded; for an absolute-form target
  // ("http://host/p?q") the path of it ("/p").
  std::string_view path() const noexcept;
  std::string_view query() const noexcept;  // after '?', or empty
  // The next body bytes: > 0 bytes, 0 at the end of the body (at once for a request without
  // one), or < 0 an error: -EMSGSIZE over max_body, -EPROTO malformed chunked framing,
  // -ECONNABORTED when the peer closed before the body ended, -ETIMEDOUT, or the socket's.
  Task<ssize_t> read_body(void* buf, std::size_t size);
  // Streams the rest of the body into the file `path`, whole or not at all (as
  // HttpServer::receive_to_file). error: the body's error as an errno code (EMSGSIZE, ...),
  // or the file system's.
  struct SavedBody {
    std::error_code error;
    std::uint64_t bytes = 0;
    bool replaced = false;  // a file was at `path` before
  };
  Task<SavedBody> save_body(std::string path);
  // The same into `name` (one path component) inside the open directory `dir_fd`. With
  // `may_commit`, it is asked once the whole body is stored, just before the rename: false
  // stores nothing and reports std::errc::operation_canceled. Nothing suspends from the
  // question until this co_await returns, so a lock it takes, released by the caller after
  // the co_await, covers the rename (a PUT's If-Match checked against the file it replaces).
  Task<SavedBody> save_body_in(int dir_fd, std::string name, std::function<bool()> may_commit = {});
  // The Content-Length, when the body is framed by one.
  std::optional<std::uint64_t> content_length() const noexcept;
  AsyncSocket& socket() noexcept;

 private:
  friend class detail::HttpConnection;
  friend struct detail::ExchangeBody;
  explicit HttpExchange(detail::HttpConnection& connection) noexcept : connection_(connection) {}
  detail::HttpConnection& connection_;
};

using HttpHandler = std::function<Task<HttpResponse>(HttpExchange&)>;

// Maps method + path to a handler: exact paths first, then the longest matching prefix.
// A path that matches with the wrong method answers 405; none at all 404.
class HttpRouter {
 public:
  HttpRouter();
  // Not copyable or movable: the handler it presents to serve() refers to it.
  HttpRouter(const HttpRouter&) = delete;
  HttpRouter& operator=(const HttpRouter&) = delete;

  HttpRouter& add(std::string method, std::string path, HttpHandler handler);
  HttpRouter& add_prefix(std::string method, std::string prefix, HttpHandler handler);
  HttpRouter& get(std::string path, HttpHandler handler);  // also answers HEAD
  HttpRouter& post(std::string path, HttpHandler handler);
  HttpRouter& put(std::string path, HttpHandler handler);

  Task<HttpResponse> operator()(HttpExchange& exchange) const;
  // This router as a handler; valid while the router lives.
  const HttpHandler& as_handler() const noexcept { return self_; }

 private:
  struct Route {
    std::string method;
    std::string path;
    bool prefix;
    HttpHandler handler;
  };
  const Route* find(std::string_view method, std::string_view path, bool& path_known) const;
  std::vector<Route> routes_;
  HttpHandler self_;
};

class HttpServer {
 public:
  explicit HttpServer(AsyncSocket& socket) noexcept : socket_(socket) {}

  // Writes one response: status line, Date, Server, Content-Type, Content-Length, the body.
  // Leaves the connection open. Throws std::system_error if the write fails.
  Task<void> send_response(int code, std::string_view type, std::string_view body);

  // Stores a body of `len` bytes at `path`: first what init_data holds of it, then the rest
  // from the socket. The file appears whole or not at all: the bytes go to a temporary file
  // beside `path`, renamed over it only once all `len` arrived. If the peer stops short, errs
  // or times out, the temporary is removed, `path` is left as it was, and std::system_error
  // says what happened. The rest is spliced from the socket into the file on the scheduler's
  // blocking pool (blocking.h), never through user space (read through a buffer where the
  // socket cannot be spliced from), so a slow disk stalls no worker.
  Task<void> receive_to_file(std::string path, std::size_t len, std::string_view init_data);
  Task<void> receive_to_file(std::string path, std::size_t len, std::string_view init_data,
                             FileSaveOptions options);

  // Serves requests on the socket until the peer closes, a timeout passes, an error, or a
  // response that closes. Never throws for the peer's misbehaviour. The handler (router) and
  // the options must outlive the call; one set of options serves every connection.
  Task<void> serve(const HttpHandler& handler, const HttpServerOptions& options);
  Task<void> serve(const HttpRouter& router, const HttpServerOptions& options);
  Task<void> serve(const HttpHandler& handler);  // default options
  Task<void> serve(const HttpRouter& router);

  // serve() on a socket it takes over, all in one coroutine frame: what a server spawns for
  // each accepted connection. An idle keep-alive connection then costs a few hundred bytes.
  static Task<void> serve_connection(AsyncSocket socket, const HttpHandler& handler,
                                     const HttpServerOptions& options);
  static Task<void> serve_connection(AsyncSocket socket, const HttpRouter& router,
                                     const HttpServerOptions& options);

 private:
  AsyncSocket& socket_;
};

// Decodes %XX escapes of a path; nullopt for a malformed escape or an encoded NUL.
std::optional<std::string> percent_decode_path(std::string_view path);

}  // namespace tiny_coro

#ifndef TINY_CORO_NO_GLOBAL_NAMES
using tiny_coro::HttpServer;
#endif
