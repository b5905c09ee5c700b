// GET and HEAD of what lies under the root: files (sendfile, Content-Type by extension,
// Last-Modified / If-Modified-Since, single byte ranges), directories (index.html, else a
// listing; a directory named without its trailing slash is redirected to it).
#pragma once

#include <tiny_coro/http_server.h>

#include "safe_path.h"

namespace tiny_httpd {

tiny_coro::HttpResponse serve_path(int root_fd, const RequestPath& path,
                                   tiny_coro::HttpExchange& exchange);

}  // namespace tiny_httpd
