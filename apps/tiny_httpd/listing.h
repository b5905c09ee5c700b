// A directory's listing, as nginx's autoindex gives one: every entry but hidden ones, sorted
// (directories first, then by name), each with its size and modification time; HTML with a
// parent link by default, JSON when the request's Accept prefers application/json.
#pragma once

#include <string_view>

#include <tiny_coro/http_server.h>

namespace tiny_httpd {

// `shown_path`: the request's path, still percent-encoded (it is decoded for display).
tiny_coro::HttpResponse listing(int dir_fd, std::string_view shown_path,
                                const tiny_coro::HttpRequest& request);

}  // namespace tiny_httpd
