// A connection's working memory while it has a request in hand: the input buffer, the parsed
// request and the output being batched. Idle keep-alive connections hold none (the
// memory-per-idle-connection target in docs/BENCHMARKS.md); workspaces are recycled through
// a small per-thread cache, so taking one per request costs no malloc in steady state.
#pragma once

#include <cstddef>
#include <memory>
#include <string>

#include <tiny_coro/http_parser.h>

namespace tiny_coro::detail {

struct Workspace {
  // Twice the largest head, so a body read after a maximal head still has 16 KiB of room.
  static constexpr std::size_t kCapacity = 2 * HttpParser::kMaxHeadBytes;

  std::size_t begin = 0;  // unconsumed input is buf[begin, end)
  std::size_t end = 0;
  HttpRequest request;
  std::string out;  // responses not yet written
  char buf[kCapacity];
};

struct WorkspaceDeleter {
  void operator()(Workspace* workspace) const noexcept;  // back to this thread's cache
};
using WorkspacePtr = std::unique_ptr<Workspace, WorkspaceDeleter>;

// Empty (begin == end == 0, no output), from this thread's cache or new.
WorkspacePtr acquire_workspace();

}  // namespace tiny_coro::detail
