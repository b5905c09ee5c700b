// The response to a GET or HEAD of a regular file: 200, 206 (one range or
// multipart/byteranges), 304, 412 or 416, as the request's conditions and Range decide.
#pragma once

#include <tiny_coro/http_server.h>

#include "static_file.h"

namespace tiny_httpd {

// A file in memory is sent from its bytes (shared, not copied, for a whole-file 200); a
// file on a descriptor moves that descriptor into the response.
tiny_coro::HttpResponse respond_with_file(const StaticFilePtr& file,
                                          const tiny_coro::HttpRequest& request);

}  // namespace tiny_httpd
