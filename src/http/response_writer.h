// The write side of a connection (HttpConnection's, for the burst in hand). Responses are
// appended to the workspace's batch, so the answers to a pipelined burst leave in one write.
// A body too large to copy leaves with the batch before it: in one writev from memory, or in
// one sendfile from a file, whose head goes with MSG_MORE and so shares the first packet.
// Every write is bounded by idle_timeout: a slow reader is cut off only when it stalls.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

#include <tiny_coro/http_server.h>
#include <tiny_coro/socket.h>
#include <tiny_coro/task.h>

#include "http/workspace.h"

namespace tiny_coro::detail {

class ResponseWriter {
 public:
  ResponseWriter(AsyncSocket& socket, const HttpServerOptions& options, Workspace& ws) noexcept
      : socket_(socket), options_(options), ws_(ws) {}

  // Appends `response`'s head to the batch, and its body when it can wait there (or has none:
  // HEAD, 204, 304). False: a large or file body still has to go, by write_body().
  bool append(const HttpResponse& response, bool keep_alive);
  // The batch and `response`'s large or file body after it. False: the connection failed.
  Task<bool> write_body(const HttpResponse& response);
  // A status the server decides itself (400, 408, ...), with Connection: close, flushed.
  Task<void> write_error(int status);
  // Writes what is batched. False: the connection failed. Not a coroutine of its own (the
  // task holds no pointer to this view), so a caller's frame is the only one.
  Task<bool> flush() { return flush_batch(socket_, ws_.out, options_.idle_timeout); }
  static Task<bool> flush_batch(AsyncSocket& socket, std::string& out,
                                std::chrono::nanoseconds timeout);
  // RFC 9110 §10.1.1: the interim answer a client that sent Expect: 100-continue waits for
  // before its body; at most once per request, flushed at once.
  Task<bool> send_continue();

 private:
  Task<bool> write_batch_and(std::string_view body);
  Task<bool> write_batch_and_file(const HttpFileBody& file);
  void log(int status, std::uint64_t body_bytes);

  AsyncSocket& socket_;
  const HttpServerOptions& options_;
  Workspace& ws_;
};

}  // namespace tiny_coro::detail
