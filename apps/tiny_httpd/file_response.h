// The response to a GET or HEAD of a regular file: 200, 206 (one range or
// multipart/byteranges), 304, 412 or 416, as the request's conditions and Range decide.
#pragma once

#include <tiny_coro/http_server.h>

#include "static_file.h"

namespace tiny_httpd {

// The response shares the file (its bytes or its descriptor) and keeps it alive until sent.
tiny_coro::HttpResponse respond_with_file(const StaticFilePtr& file,
                                          const tiny_coro::HttpRequest& request);

// The same for the form of `resource` the request's Accept-Encoding prefers.
tiny_coro::HttpResponse respond_with_resource(const StaticResource& resource,
                                              const tiny_coro::HttpRequest& request);

}  // namespace tiny_httpd
