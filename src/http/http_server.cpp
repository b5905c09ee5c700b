// HttpServer's manual helpers, HttpExchange, HttpResponse and the small pieces around them.
#include <tiny_coro/http_server.h>

#include <tiny_coro/blocking.h>
#include <tiny_coro/cancel.h>
#include <tiny_coro/file.h>
#include <tiny_coro/file_writer.h>

#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>
#include <system_error>
#include <vector>

#include "http/ascii.h"
#include "http/body_splice.h"
#include "http/connection.h"
#include "http/file_receiver.h"
#include "http/response_head.h"

namespace tiny_coro {
namespace {

// Upload bodies reach their file on the blocking pool, so a slow disk never stalls the worker:
// spliced from the socket when they can be (body_splice.h), else (chunked bodies) through a
// FileWriter, several buffers in flight while the socket fills the next. Open, link and
// rename stay with FileReceiver on the worker: they are quick, and a commit must not suspend
// (save_body_in's may_commit). The FileWriter's buffers stay at 128 KiB rather than growing as
// they do for a file written from memory: in one A/B of a 1 GiB PUT (7 alternating rounds,
// before uploads were spliced) fixed buffers gave 1640 MB/s median against 1148 grown.
FileWriterOptions upload_writer_options(std::uint64_t expected) noexcept {
  FileWriterOptions options;
  options.expected = expected;
  options.max_buffer_size = options.buffer_size;
  return options;
}

// fsync(2) of a spliced upload, before its rename (FileSaveOptions::fsync_before_rename).
Task<ssize_t> sync_on_pool(int fd) {
  co_return co_await run_blocking([fd] { return detail::file_sync(fd, false); });
}

std::error_code errno_code(ssize_t negative_errno) {
  return {static_cast<int>(-negative_errno), std::system_category()};
}

}  // namespace

// --- HttpFileBody, HttpResponse ---

HttpFileBody& HttpFileBody::operator=(HttpFileBody&& other) noexcept {
  if (this != &other) {
    if (fd_ >= 0 && owned_) ::close(fd_);
    fd_ = std::exchange(other.fd_, -1);
    offset_ = other.offset_;
    length_ = other.length_;
    owned_ = other.owned_;
  }
  return *this;
}

HttpFileBody::~HttpFileBody() {
  if (fd_ >= 0 && owned_) ::close(fd_);
}

HttpResponse HttpResponse::text(int status, std::string body, std::string content_type) {
  HttpResponse response;
  response.status = status;
  response.body = std::move(body);
  response.content_type = std::move(content_type);
  return response;
}

// --- HttpServer: the manual's helpers ---

Task<void> HttpServer::send_response(int code, std::string_view type, std::string_view body) {
  std::string head;
  detail::ResponseHeadFields fields;
  fields.status = code;
  fields.content_type = type;
  fields.content_length = body.size();
  detail::append_response_head(head, fields);
  const iovec parts[2] = {{head.data(), head.size()},
                          {const_cast<char*>(body.data()), body.size()}};
  const ssize_t total = static_cast<ssize_t>(head.size() + body.size());
  const ssize_t n = co_await socket_.writev(parts, 2);
  if (n != total) {
    throw std::system_error(errno_code(n < 0 ? n : -EPIPE), "send_response");
  }
}

Task<void> HttpServer::receive_to_file(std::string path, std::size_t len,
                                       std::string_view init_data) {
  co_await receive_to_file(std::move(path), len, init_data, FileSaveOptions{});
}

Task<void> HttpServer::receive_to_file(std::string path, std::size_t len,
                                       std::string_view init_data, FileSaveOptions options) {
  detail::FileReceiver file;
  auto fail = [&](std::error_code error, std::size_t received) {
    return std::system_error(error, "receive_to_file(" + path + "): " + std::to_string(received) +
                                        " of " + std::to_string(len) + " bytes");
  };
  if (const std::error_code error = file.open(path)) throw fail(error, 0);
  // What arrived with the head first, then the rest spliced from the socket (body_splice.h).
  std::size_t received = std::min(init_data.size(), len);
  if (received > 0) {
    const int fd = file.fd();
    const char* from = init_data.data();
    const std::size_t count = received;
    const ssize_t put =
        co_await run_blocking([&] { return detail::file_write(fd, from, count, 0); });
    if (put < 0) throw fail(errno_code(put), 0);
  }
  std::uint64_t moved = 0;
  const ssize_t spliced = co_await detail::splice_socket_to_file(
      socket_, file.fd(), static_cast<off_t>(received), len - received, Deadline{}, moved);
  received += static_cast<std::size_t>(moved);
  if (spliced >= 0) {
    if (options.fsync_before_rename) {
      const ssize_t synced = co_await sync_on_pool(file.fd());
      if (synced < 0) throw fail(errno_code(synced), received);
    }
  } else if (spliced != -EOPNOTSUPP) {
    throw fail(errno_code(spliced), received);
  } else {
    // A socket that cannot be spliced from, or an urgent byte that stopped the splice:
    // the rest is read through a FileWriter.
    FileWriterOptions writer_options = upload_writer_options(len);
    writer_options.offset = static_cast<off_t>(received);
    FileWriter writer(file.shared_fd(), writer_options);
    while (received < len) {
      const std::span<char> space = writer.space();
      const std::size_t want = std::min(space.size(), len - received);
      const ssize_t n = co_await socket_.read(space.data(), want);
      if (n <= 0) throw fail(n == 0 ? errno_code(-ECONNABORTED) : errno_code(n), received);
      writer.filled(static_cast<std::size_t>(n));
      received += static_cast<std::size_t>(n);
      if (writer.full()) {
        const std::error_code error = co_await writer.flush();
        if (error) throw fail(error, received);
      }
    }
    const std::error_code error = co_await writer.finish(options.fsync_before_rename);
    if (error) throw fail(error, received);
  }
  if (const std::error_code error = file.commit()) throw fail(error, received);
}

namespace {
const HttpServerOptions& default_options() {
  static const HttpServerOptions options;
  return options;
}
}  // namespace

namespace {

// One connection's whole life in one coroutine frame: while it is idle, this frame — the
// HttpConnection, the socket when owned, and the readiness awaiter — is all it costs (the
// idle-memory target in docs/BENCHMARKS.md), so it holds nothing else across the wait.
// `Socket`: AsyncSocket (owned) or AsyncSocket& (the caller's).
template <class Socket>
Task<void> connection_loop(Socket socket, const HttpHandler& handler,
                           const HttpServerOptions& options) {
  detail::HttpConnection connection(socket, options);
  // Until a request is taken, the wait's deadline is the first head's (serve_burst's).
  TimePoint deadline = connection.open();
  for (;;) {
    // Each awaitable is made in a statement of its own: GCC keeps every temporary of a
    // co_await's full expression in the frame (the Deadline and the TimePoint copies), and
    // this frame is what an idle connection costs. Each result is bound before it is tested:
    // GCC 12 loses an exception (TaskCancelled) thrown out of a co_await in a condition.
    // The two results are one byte each, side by side: GCC gives every local its own slot.
    auto readiness = socket.wait_readable(deadline);
    const bool gone = co_await readiness < 0;  // an lvalue: g++ 12 would copy an xvalue
    if (gone) co_return;
    detail::HttpConnection::Burst burst;
    auto serving = connection.serve_burst(handler, deadline);
    burst = co_await std::move(serving);
    switch (burst) {
      case detail::HttpConnection::Burst::kClose:
        co_return;
      case detail::HttpConnection::Burst::kIdle:
        deadline = connection.idle_deadline();
        break;
      case detail::HttpConnection::Burst::kNothingRead:
        break;
    }
  }
}

}  // namespace

Task<void> HttpServer::serve(const HttpHandler& handler, const HttpServerOptions& options) {
  return connection_loop<AsyncSocket&>(socket_, handler, options);
}

Task<void> HttpServer::serve(const HttpHandler& handler) {
  return serve(handler, default_options());
}

Task<void> HttpServer::serve(const HttpRouter& router) { return serve(router, default_options()); }

Task<void> HttpServer::serve(const HttpRouter& router, const HttpServerOptions& options) {
  return connection_loop<AsyncSocket&>(socket_, router.as_handler(), options);
}

Task<void> HttpServer::serve_connection(AsyncSocket socket, const HttpHandler& handler,
                                        const HttpServerOptions& options) {
  return connection_loop<AsyncSocket>(std::move(socket), handler, options);
}

Task<void> HttpServer::serve_connection(AsyncSocket socket, const HttpRouter& router,
                                        const HttpServerOptions& options) {
  return connection_loop<AsyncSocket>(std::move(socket), router.as_handler(), options);
}

// --- HttpExchange ---

const HttpRequest& HttpExchange::request() const noexcept { return connection_.request(); }

AsyncSocket& HttpExchange::socket() noexcept { return connection_.socket(); }

Task<ssize_t> HttpExchange::read_body(void* buf, std::size_t size) {
  return connection_.read_body(buf, size);
}

std::optional<std::uint64_t> HttpExchange::content_length() const noexcept {
  const HttpRequest& req = request();
  if (req.framing != BodyFraming::kContentLength) return std::nullopt;
  return req.content_length;
}

namespace {

// The length of an absolute-form target's "scheme://" prefix (RFC 3986 §3.1: a letter,
// then letters, digits, '+', '-', '.'), or 0 if the target does not start with one.
std::size_t scheme_prefix(std::string_view target) noexcept {
  auto letter = [](char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); };
  if (target.empty() || !letter(target[0])) return 0;
  std::size_t i = 1;
  while (i < target.size() && (letter(target[i]) || (target[i] >= '0' && target[i] <= '9') ||
                               target[i] == '+' || target[i] == '-' || target[i] == '.')) {
    ++i;
  }
  return target.substr(i).starts_with("://") ? i + 3 : 0;
}

}  // namespace

std::string_view HttpExchange::path() const noexcept {
  std::string_view target = request().path;
  // Absolute form (RFC 9112 §3.2.2): skip "scheme://authority".
  if (const std::size_t prefix = scheme_prefix(target); prefix > 0) {
    target.remove_prefix(prefix);
    const std::size_t path_start = target.find_first_of("/?");
    if (path_start == std::string_view::npos || target[path_start] == '?') return "/";
    target.remove_prefix(path_start);
  }
  return target.substr(0, target.find('?'));
}

std::string_view HttpExchange::query() const noexcept {
  const std::string_view target = request().path;
  const std::size_t mark = target.find('?');
  return mark == std::string_view::npos ? std::string_view() : target.substr(mark + 1);
}

namespace {

// The body as a stream of reads through a FileWriter, after the `already` bytes in the file.
Task<std::error_code> write_rest_of_body(HttpExchange& exchange, detail::FileReceiver& file,
                                         std::uint64_t already, bool sync,
                                         HttpExchange::SavedBody& saved) {
  FileWriterOptions options = upload_writer_options(exchange.content_length().value_or(0));
  options.offset = static_cast<off_t>(already);
  FileWriter writer(file.shared_fd(), options);
  saved.bytes = already;
  for (;;) {
    const std::span<char> space = writer.space();
    const ssize_t n = co_await exchange.read_body(space.data(), space.size());
    if (n == 0) break;
    if (n < 0) co_return errno_code(n);
    writer.filled(static_cast<std::size_t>(n));
    saved.bytes += static_cast<std::uint64_t>(n);
    if (writer.full()) {
      const std::error_code error = co_await writer.flush();
      if (error) co_return error;
    }
  }
  const std::error_code error = co_await writer.finish(sync);
  co_return error;
}

}  // namespace

namespace detail {
struct ExchangeBody {
  static Task<ssize_t> splice(HttpExchange& exchange, int file_fd, std::uint64_t& written) {
    return exchange.connection_.splice_body(file_fd, written);
  }
};
}  // namespace detail

namespace {

// A Content-Length body is spliced into the file (body_splice.h); a chunked one, or the rest
// of one whose splice cannot go on (body_splice.h), goes through a FileWriter.
Task<HttpExchange::SavedBody> stream_body(HttpExchange& exchange, detail::FileReceiver& file,
                                          std::error_code opened, bool sync,
                                          const std::function<bool()>& may_commit = {}) {
  HttpExchange::SavedBody saved;
  if ((saved.error = opened)) co_return saved;
  std::uint64_t spliced = 0;
  const ssize_t whole = co_await detail::ExchangeBody::splice(exchange, file.fd(), spliced);
  saved.bytes = spliced;
  if (whole >= 0) {
    if (sync) {
      const ssize_t synced = co_await sync_on_pool(file.fd());
      if (synced < 0) {
        saved.error = errno_code(synced);
        co_return saved;
      }
    }
  } else if (whole != -EOPNOTSUPP) {
    saved.error = errno_code(whole);
    co_return saved;
  } else {
    // Named, not tested inside the if: g++ 12 miscompiles a co_await of a
    // Task<std::error_code> in a condition (task.h).
    const std::error_code error = co_await write_rest_of_body(exchange, file, spliced, sync, saved);
    if (error) {
      saved.error = error;
      co_return saved;
    }
  }
  // No suspension between the question and the rename: the answer holds for the commit.
  if (may_commit && !may_commit()) {
    saved.error = std::make_error_code(std::errc::operation_canceled);
    co_return saved;
  }
  saved.error = file.commit(&saved.replaced);
  co_return saved;
}

}  // namespace

Task<HttpExchange::SavedBody> HttpExchange::save_body(std::string path) {
  detail::FileReceiver file;
  const std::error_code opened = file.open(path);
  co_return co_await stream_body(*this, file, opened,
                                 connection_.options().uploads.fsync_before_rename);
}

Task<HttpExchange::SavedBody> HttpExchange::save_body_in(int dir_fd, std::string name,
                                                         std::function<bool()> may_commit) {
  detail::FileReceiver file;
  const std::error_code opened = file.open_in(dir_fd, name);
  co_return co_await stream_body(*this, file, opened,
                                 connection_.options().uploads.fsync_before_rename, may_commit);
}

// --- percent-decoding ---

std::optional<std::string> percent_decode_path(std::string_view path) {
  auto hex = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    const char lower = detail::ascii_lower(c);
    return lower >= 'a' && lower <= 'f' ? lower - 'a' + 10 : -1;
  };
  std::string out;
  out.reserve(path.size());
  for (std::size_t i = 0; i < path.size(); ++i) {
    if (path[i] != '%') {
      out.push_back(path[i]);
      continue;
    }
    if (i + 2 >= path.size()) return std::nullopt;
    const int high = hex(path[i + 1]);
    const int low = hex(path[i + 2]);
    if (high < 0 || low < 0) return std::nullopt;
    const char c = static_cast<char>(high * 16 + low);
    if (c == '\0') return std::nullopt;
    out.push_back(c);
    i += 2;
  }
  return out;
}

}  // namespace tiny_coro
