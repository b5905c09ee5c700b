#include "http/workspace.h"

#include <vector>

namespace tiny_coro::detail {
namespace {

// A worker holds one while it answers a connection, more only for connections suspended
// mid-request; a few cached cover that, and idle servers keep little.
constexpr std::size_t kCachedPerThread = 4;
// Output capacity kept across requests; a huge response's buffer is not hoarded.
constexpr std::size_t kKeptOutputCapacity = 64 * 1024;

// Reserved up front, so putting a workspace back never allocates (the deleter is noexcept).
struct Cache {
  Cache() { free.reserve(kCachedPerThread); }
  std::vector<std::unique_ptr<Workspace>> free;
};

Cache& cache() {
  thread_local Cache instance;
  return instance;
}

}  // namespace

void WorkspaceDeleter::operator()(Workspace* raw) const noexcept {
  std::unique_ptr<Workspace> workspace(raw);
  workspace->begin = 0;
  workspace->end = 0;
  workspace->request.clear();
  workspace->state = RequestState();
  workspace->peer.clear();
  if (workspace->out.capacity() > kKeptOutputCapacity) {
    std::string().swap(workspace->out);
  } else {
    workspace->out.clear();
  }
  Cache& local = cache();
  if (local.free.size() < local.free.capacity()) local.free.push_back(std::move(workspace));
}

WorkspacePtr acquire_workspace() {
  Cache& local = cache();
  std::unique_ptr<Workspace> workspace;
  if (local.free.empty()) {
    workspace = std::make_unique<Workspace>();
  } else {
    workspace = std::move(local.free.back());
    local.free.pop_back();
  }
  return WorkspacePtr(workspace.release());
}

}  // namespace tiny_coro::detail
