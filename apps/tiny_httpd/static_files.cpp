#include "static_files.h"

#include <fcntl.h>
#include <sys/stat.h>

#include <cerrno>
#include <string>

#include "escape.h"
#include "file_response.h"
#include "listing.h"
#include "statuses.h"

namespace tiny_httpd {

using tiny_coro::HttpExchange;
using tiny_coro::HttpResponse;
using tiny_coro::UniqueFd;

namespace {

HttpResponse serve_file(UniqueFd fd, const struct stat& info, int root_fd,
                        const std::string& relative, std::string_view name,
                        HttpExchange& exchange, StaticResourcePtr* loaded) {
  StaticResourcePtr resource = load_static_resource(std::move(fd), info, root_fd, relative, name);
  if (!resource) return status_response(500);
  HttpResponse response = respond_with_resource(*resource, exchange.request());
  if (loaded != nullptr) *loaded = std::move(resource);
  return response;
}

}  // namespace

HttpResponse serve_path(int root_fd, const RequestPath& path, HttpExchange& exchange,
                        StaticResourcePtr* loaded) {
  const std::string relative = path.relative();
  // O_NONBLOCK: opening a FIFO must not block the worker; it is refused below anyway.
  UniqueFd fd(open_beneath(root_fd, relative, O_RDONLY | O_NONBLOCK | O_NOCTTY));
  if (!fd.valid()) return status_response(status_for_errno(errno, /*reading=*/true));
  struct stat info {};
  if (::fstat(fd.get(), &info) != 0) return status_response(500);
  if (S_ISREG(info.st_mode)) {
    if (path.trailing_slash) return status_response(404);
    return serve_file(std::move(fd), info, root_fd, relative,
                      path.segments.empty() ? "" : path.segments.back(), exchange, loaded);
  }
  if (!S_ISDIR(info.st_mode)) return status_response(403);
  const std::string_view shown = exchange.path();
  if (!path.trailing_slash) {
    HttpResponse redirect = status_response(301);
    // Rebuilt from the checked segments, never copied from the request: "//evil.example"
    // must not become a Location that leaves this host.
    std::string location;
    for (const std::string& segment : path.segments)
      location += "/" + percent_encode_segment(segment);
    location += "/";
    if (!exchange.query().empty()) location += "?" + std::string(exchange.query());
    redirect.headers.emplace_back("Location", std::move(location));
    return redirect;
  }
  UniqueFd index(
      open_beneath(root_fd, relative + "/index.html", O_RDONLY | O_NONBLOCK | O_NOCTTY));
  struct stat index_info {};
  if (index.valid() && ::fstat(index.get(), &index_info) == 0 && S_ISREG(index_info.st_mode)) {
    return serve_file(std::move(index), index_info, root_fd, relative + "/index.html",
                      "index.html", exchange, loaded);
  }
  return listing(fd.get(), shown, exchange.request());
}

}  // namespace tiny_httpd
