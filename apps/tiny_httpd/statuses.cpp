#include "statuses.h"

#include <cerrno>
#include <string>

namespace tiny_httpd {

tiny_coro::HttpResponse status_response(int status) {
  return tiny_coro::HttpResponse::text(status,
                                       std::string(tiny_coro::http_reason_phrase(status)) + "\n");
}

int status_for_errno(int err, bool reading) noexcept {
  switch (err) {
    case ENOENT:
      return 404;
    case ENOTDIR:
      return reading ? 404 : 409;
    case EACCES:
    case EPERM:
    case EXDEV:  // the path would leave the root
    case ELOOP:
      return 403;
    case ENAMETOOLONG:
      return 414;
    default:
      return 500;
  }
}

}  // namespace tiny_httpd
