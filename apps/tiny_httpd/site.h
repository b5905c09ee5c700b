// What tiny_httpd answers (SPEC.md §3): GET/HEAD of files and directories under the root,
// PUT of files, POST /upload. Everything else about HTTP is the library's HttpServer.
#pragma once

#include <cstdint>
#include <string>

#include <tiny_coro/http_server.h>
#include <tiny_coro/task.h>

#include "directories_in_use.h"

namespace tiny_httpd {

class Site {
 public:
  // Opens `root` (which must be a directory); throws std::system_error if it cannot.
  explicit Site(const std::string& root);
  Site(const Site&) = delete;
  Site& operator=(const Site&) = delete;
  ~Site();

  tiny_coro::Task<tiny_coro::HttpResponse> handle(tiny_coro::HttpExchange& exchange) const;

 private:
  tiny_coro::Task<tiny_coro::HttpResponse> get(tiny_coro::HttpExchange& exchange) const;
  tiny_coro::Task<tiny_coro::HttpResponse> put(tiny_coro::HttpExchange& exchange) const;
  tiny_coro::Task<tiny_coro::HttpResponse> upload(tiny_coro::HttpExchange& exchange) const;
  int root_fd_ = -1;
  mutable DirectoriesInUse directories_in_use_;  // handle() is const; PUTs share this
};

}  // namespace tiny_httpd
