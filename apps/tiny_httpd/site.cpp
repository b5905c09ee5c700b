// The request methods tiny_httpd knows, and the status for each failure.
#include "site.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <system_error>

#include "directories_in_use.h"
#include "safe_path.h"
#include "static_files.h"
#include "statuses.h"

namespace tiny_httpd {

using tiny_coro::HttpExchange;
using tiny_coro::HttpResponse;
using tiny_coro::Task;

namespace {

// Status for a body that could not be stored.
int status_for_save_error(const std::error_code& error) noexcept {
  switch (error.value()) {
    case EMSGSIZE:
      return 413;
    case EPROTO:
    case ECONNABORTED:
    case ETIMEDOUT:
    case ECONNRESET:
    case EPIPE:
      return 400;  // the client broke off or sent garbage; it likely never reads this
    case EISDIR:
    case ENOTDIR:
      return 409;
    case ENOSPC:
    case EDQUOT:
      return 507;
    default:
      return status_for_errno(error.value(), /*reading=*/false);
  }
}

// Closes a descriptor when it goes out of scope.
struct ScopedFd {
  int fd = -1;
  ~ScopedFd() {
    if (fd >= 0) ::close(fd);
  }
};

// Opens (creating as needed) the directories of `segments` but the last, beneath the root.
// `created` collects what it made, so a failed upload can remove them again.
int open_parent(int root_fd, const RequestPath& path, std::vector<std::string>& created) {
  std::string relative;
  for (std::size_t i = 0; i + 1 < path.segments.size(); ++i) {
    relative += (relative.empty() ? "" : "/") + path.segments[i];
    int fd = open_beneath(root_fd, relative, O_PATH | O_DIRECTORY);
    if (fd < 0 && errno == ENOENT) {
      const std::size_t slash = relative.rfind('/');
      const std::string parent = slash == std::string::npos ? "." : relative.substr(0, slash);
      const int parent_fd = open_beneath(root_fd, parent, O_PATH | O_DIRECTORY);
      if (parent_fd < 0) return -1;
      const int made = ::mkdirat(parent_fd, path.segments[i].c_str(), 0755);
      const int saved = errno;
      ::close(parent_fd);
      if (made != 0 && saved != EEXIST) {
        errno = saved;
        return -1;
      }
      if (made == 0) created.push_back(relative);
      fd = open_beneath(root_fd, relative, O_PATH | O_DIRECTORY);
    }
    if (fd < 0) return -1;
    ::close(fd);
  }
  return open_beneath(root_fd, relative.empty() ? "." : relative, O_PATH | O_DIRECTORY);
}

}  // namespace

Site::Site(const std::string& root) {
  root_fd_ = ::open(root.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (root_fd_ < 0) throw std::system_error(errno, std::system_category(), "--root " + root);
}

Site::~Site() {
  if (root_fd_ >= 0) ::close(root_fd_);
}

Task<HttpResponse> Site::handle(HttpExchange& exchange) const {
  const std::string_view method = exchange.request().method;
  if (method == "GET" || method == "HEAD") co_return co_await get(exchange);
  if (method == "PUT") co_return co_await put(exchange);
  if (method == "POST" && exchange.path() == "/upload") co_return co_await upload(exchange);
  HttpResponse response = status_response(405);
  response.headers.emplace_back("Allow", exchange.path() == "/upload" ? "POST" : "GET, HEAD, PUT");
  co_return response;
}

Task<HttpResponse> Site::get(HttpExchange& exchange) const {
  const RequestPath path = parse_request_path(exchange.path());
  if (path.error_status != 0) co_return status_response(path.error_status);
  co_return serve_path(root_fd_, path, exchange);
}

Task<HttpResponse> Site::put(HttpExchange& exchange) const {
  const RequestPath path = parse_request_path(exchange.path());
  if (path.error_status != 0) co_return status_response(path.error_status);
  if (path.segments.empty() || path.trailing_slash) co_return status_response(400);
  // Held until the upload is stored or given up: no failing PUT removes our directories.
  DirectoriesInUse::Lease lease(directories_in_use_, path.segments);
  std::vector<std::string> created;
  ScopedFd parent{open_parent(root_fd_, path, created)};
  if (parent.fd < 0) {
    const int status = status_for_errno(errno, /*reading=*/false);
    lease.remove_created(root_fd_, created);
    co_return status_response(status);
  }
  struct stat existing {};
  const std::string& name = path.segments.back();
  if (::fstatat(parent.fd, name.c_str(), &existing, AT_SYMLINK_NOFOLLOW) == 0 &&
      S_ISDIR(existing.st_mode)) {
    co_return status_response(409);
  }
  const HttpExchange::SavedBody saved = co_await exchange.save_body_in(parent.fd, name);
  if (saved.error) {
    lease.remove_created(root_fd_, created);
    co_return status_response(status_for_save_error(saved.error));
  }
  co_return saved.replaced ? HttpResponse::text(204, "") : status_response(201);
}

Task<HttpResponse> Site::upload(HttpExchange& exchange) const {
  // The manual's example 3 stores every upload under one name; so does this.
  const HttpExchange::SavedBody saved =
      co_await exchange.save_body_in(root_fd_, "uploaded_file.bin");
  if (saved.error) co_return status_response(status_for_save_error(saved.error));
  co_return HttpResponse::text(200, "Upload Success!", "text/plain");
}

}  // namespace tiny_httpd
