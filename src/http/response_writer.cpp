#include "http/response_writer.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <sys/un.h>

#include <algorithm>
#include <cstddef>
#include <cstring>
#include <string>

#include "http/response_head.h"

namespace tiny_coro::detail {
namespace {

// Bodies at least this large go out after the batch instead of being copied into it.
constexpr std::size_t kCopyBodyLimit = 16 * 1024;
// Large bodies go out in pieces, each under its own write timeout: a slow reader of a big
// file is cut off only when it stalls, not for being slow.
constexpr std::size_t kWritePiece = 4 << 20;

// A Unix-domain peer as "unix:" and its name, if it has one: "unix:/path", "unix:@name" (an
// abstract one). Clients rarely bind, so mostly just "unix:", as nginx logs them. An
// abstract name may hold any bytes: those a log line must not carry come out as \xHH.
std::string unix_peer(const sockaddr_un& address, socklen_t length) {
  std::string text = "unix:";
  const auto header = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path));
  if (length <= header) return text;
  const std::size_t size = std::min<std::size_t>(length - header, sizeof(address.sun_path));
  const char* name = address.sun_path;
  const bool abstract = name[0] == '\0';
  if (abstract) text.push_back('@');
  const std::size_t end = abstract ? size : ::strnlen(name, size);  // a path ends at its NUL
  for (std::size_t i = abstract ? 1 : 0; i < end; ++i) {
    const auto byte = static_cast<unsigned char>(name[i]);
    if (byte < 0x20 || byte >= 0x7f || byte == '"' || byte == '\\') {
      constexpr char kHex[] = "0123456789abcdef";
      text.append("\\x").push_back(kHex[byte >> 4]);
      text.push_back(kHex[byte & 0xf]);
    } else {
      text.push_back(static_cast<char>(byte));
    }
  }
  return text;
}

// The peer's address for the access log: an IP literal, a Unix peer (above), or "-".
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
    } else if (address.ss_family == AF_UNIX) {
      return unix_peer(reinterpret_cast<const sockaddr_un&>(address), length);
    }
  }
  return text;
}

}  // namespace

bool ResponseWriter::append(const HttpResponse& response, bool keep_alive) {
  const bool head_only = ws_.request.method == "HEAD";
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
  fields.keep_alive = keep_alive && ws_.request.minor_version == 0;  // 1.0 must be told
  append_response_head(ws_.out, fields);
  log(response.status, has_body && !head_only ? length : 0);
  if (!has_body || head_only || length == 0) return true;
  if (from_file || in_memory.size() >= kCopyBodyLimit) return false;
  ws_.out.append(in_memory);
  return true;
}

Task<bool> ResponseWriter::write_body(const HttpResponse& response) {
  if (response.file.has_file()) co_return co_await write_batch_and_file(response.file);
  co_return co_await write_batch_and(response.body_bytes());
}

Task<bool> ResponseWriter::write_batch_and(std::string_view body) {
  for (std::size_t done = 0; done < body.size();) {
    const std::size_t piece = std::min(kWritePiece, body.size() - done);
    iovec parts[2] = {{ws_.out.data(), ws_.out.size()},
                      {const_cast<char*>(body.data() + done), piece}};
    const std::size_t expected = ws_.out.size() + piece;
    const ssize_t sent = co_await socket_.writev(parts, 2, options_.idle_timeout);
    ws_.out.clear();
    if (sent != static_cast<ssize_t>(expected)) co_return false;
    done += piece;
  }
  co_return true;
}

Task<bool> ResponseWriter::write_batch_and_file(const HttpFileBody& file) {
  for (std::uint64_t done = 0; done < file.length();) {
    const auto piece =
        static_cast<std::size_t>(std::min<std::uint64_t>(kWritePiece, file.length() - done));
    const iovec head{ws_.out.data(), ws_.out.size()};
    const std::size_t expected = ws_.out.size() + piece;
    const ssize_t sent = co_await socket_.sendfile(&head, ws_.out.empty() ? 0 : 1, file.fd(),
                                                   file.offset() + static_cast<off_t>(done), piece,
                                                   options_.idle_timeout);
    ws_.out.clear();
    if (sent != static_cast<ssize_t>(expected)) co_return false;
    done += piece;
  }
  co_return true;
}

Task<void> ResponseWriter::write_error(int status) {
  const std::string_view reason = http_reason_phrase(status);
  ResponseHeadFields fields;
  fields.status = status;
  fields.content_type = "text/plain; charset=utf-8";
  fields.content_length = reason.size() + 1;
  fields.close = true;
  append_response_head(ws_.out, fields);
  // A response to HEAD has no body (RFC 9110 §9.3.2), whoever decided it.
  const bool head_only = ws_.state.head_parsed && ws_.request.method == "HEAD";
  if (!head_only) {
    ws_.out.append(reason);
    ws_.out.push_back('\n');
  }
  log(status, head_only ? 0 : reason.size() + 1);
  co_await flush();
}

Task<bool> ResponseWriter::flush_batch(AsyncSocket& socket, std::string& out,
                                       std::chrono::nanoseconds timeout) {
  if (out.empty()) co_return true;
  const ssize_t n = co_await socket.write(out, timeout);
  const bool ok = n == static_cast<ssize_t>(out.size());
  out.clear();
  co_return ok;
}

Task<bool> ResponseWriter::send_continue() {
  const HttpRequest& req = ws_.request;
  if (ws_.state.continue_sent || !req.expect_continue || req.minor_version < 1) co_return true;
  ws_.state.continue_sent = true;
  ws_.out.append("HTTP/1.1 100 Continue\r\n\r\n");
  co_return co_await flush();
}

void ResponseWriter::log(int status, std::uint64_t body_bytes) {
  if (!options_.on_response) return;
  if (ws_.peer.empty()) ws_.peer = peer_address(socket_.fd());
  HttpAccessRecord record;
  record.peer = ws_.peer;
  if (ws_.state.head_parsed) {
    record.method = ws_.request.method;
    record.target = ws_.request.path;
    record.minor_version = ws_.request.minor_version;
    record.request_body_bytes = ws_.state.body_bytes_read;
    record.duration = std::chrono::steady_clock::now() - ws_.state.head_done_at;
  }
  record.status = status;
  record.body_bytes = body_bytes;
  options_.on_response(record);
}

}  // namespace tiny_coro::detail
