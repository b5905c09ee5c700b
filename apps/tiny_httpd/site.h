// What tiny_httpd answers (SPEC.md §3): GET/HEAD of files and directories under the root,
// PUT of files, POST /upload. Everything else about HTTP is the library's HttpServer.
#pragma once

#include <array>
#include <cstdint>
#include <mutex>
#include <string>

#include <tiny_coro/http_server.h>
#include <tiny_coro/task.h>
#include <tiny_coro/unique_fd.h>

#include "directories_in_use.h"
#include "file_cache.h"

namespace tiny_httpd {

class Site {
 public:
  // Opens `root` (which must be a directory); throws std::system_error if it cannot.
  // Files served are kept in a FileCache with `cache`'s limits.
  Site(const std::string& root, FileCache::Limits cache);
  Site(const Site&) = delete;
  Site& operator=(const Site&) = delete;

  tiny_coro::Task<tiny_coro::HttpResponse> handle(tiny_coro::HttpExchange& exchange) const;

 private:
  tiny_coro::HttpResponse get(tiny_coro::HttpExchange& exchange) const;
  tiny_coro::Task<tiny_coro::HttpResponse> put(tiny_coro::HttpExchange& exchange) const;
  tiny_coro::Task<tiny_coro::HttpResponse> upload(tiny_coro::HttpExchange& exchange) const;
  tiny_coro::UniqueFd root_;
  mutable FileCache cache_;  // handle() is const; the cache is safe to share
  // A conditional PUT checks its preconditions and renames its file under one of these
  // (by the path's hash), so two such PUTs to one name cannot both pass their check.
  mutable std::array<std::mutex, 64> commit_locks_;
  mutable DirectoriesInUse directories_in_use_;  // handle() is const; PUTs share this
};

}  // namespace tiny_httpd
