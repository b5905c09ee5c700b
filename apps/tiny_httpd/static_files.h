// GET and HEAD of what lies under the root: files (file_response.h: validators, conditions,
// ranges), directories (index.html, else a listing; a directory named without its trailing
// slash is redirected to it).
#pragma once

#include <tiny_coro/http_server.h>

#include "safe_path.h"
#include "static_file.h"

namespace tiny_httpd {

// `loaded`, if given, receives the file that was served (when one was), for a cache.
// A file with precompressed sidecars beside it is sent in the form Accept-Encoding prefers.
tiny_coro::HttpResponse serve_path(int root_fd, const RequestPath& path,
                                   tiny_coro::HttpExchange& exchange,
                                   StaticResourcePtr* loaded = nullptr);

}  // namespace tiny_httpd
