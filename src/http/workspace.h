// A connection's working memory while it has a request in hand: the input buffer, the parsed
// request and the output being batched. Idle keep-alive connections hold none (the
// memory-per-idle-connection target in docs/BENCHMARKS.md); workspaces are recycled through
// a small per-thread cache, so taking one per request costs no malloc in steady state.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include <tiny_coro/http_parser.h>

namespace tiny_coro::detail {

// The request in hand (HttpConnection's; see connection.h for the buffer layout).
struct RequestState {
  std::size_t head_end = 0;     // its head is buf[0, head_end)
  std::size_t body_pos = 0;     // its next unread body byte (framing bytes included)
  std::uint64_t body_left = 0;  // Content-Length bytes not yet read
  ChunkedDecoder chunked;
  std::size_t decoded_pos = 0;  // decoded chunked bytes not yet handed out:
  std::size_t decoded_len = 0;  // buf[decoded_pos, + decoded_len)
  long body_error = 0;          // the -errno the body failed with
  bool body_done = true;
  bool body_touched = false;  // a body byte was asked for, or arrived with the head
  bool continue_sent = false;
  bool head_parsed = false;  // for the access log
  // For HttpAccessRecord: body bytes handed out (or drained), and when the head was complete
  // (read only if somebody takes the records).
  std::uint64_t body_bytes_read = 0;
  std::chrono::steady_clock::time_point head_done_at{};
};

struct Workspace {
  // Twice the largest head, so a body read after a maximal head still has 16 KiB of room.
  static constexpr std::size_t kCapacity = 2 * HttpParser::kMaxHeadBytes;

  std::size_t begin = 0;  // unconsumed input is buf[begin, end)
  std::size_t end = 0;
  HttpRequest request;
  RequestState state;
  std::string out;   // responses not yet written
  std::string peer;  // the client's address, looked up for the access log
  char buf[kCapacity];
};

struct WorkspaceDeleter {
  void operator()(Workspace* workspace) const noexcept;  // back to this thread's cache
};
using WorkspacePtr = std::unique_ptr<Workspace, WorkspaceDeleter>;

// Empty (begin == end == 0, no output), from this thread's cache or new.
WorkspacePtr acquire_workspace();

}  // namespace tiny_coro::detail
