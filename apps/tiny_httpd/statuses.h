// The answers tiny_httpd gives when a request fails, shared by its handlers.
#pragma once

#include <tiny_coro/http_server.h>

namespace tiny_httpd {

// A plain-text response whose body is the reason phrase ("Not Found\n").
tiny_coro::HttpResponse status_response(int status);

// The status for a failed open or mkdir below the root. `reading`: for GET, where a missing
// directory in the path is just "not found"; for PUT it is a file in the way (409).
int status_for_errno(int err, bool reading) noexcept;

}  // namespace tiny_httpd
