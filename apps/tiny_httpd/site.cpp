// The request methods tiny_httpd knows, and the status for each failure.
#include "site.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <functional>
#include <system_error>

#include "directories_in_use.h"
#include "file_response.h"
#include "preconditions.h"
#include "safe_path.h"
#include "static_file.h"
#include "static_files.h"
#include "statuses.h"

namespace tiny_httpd {

using tiny_coro::HttpExchange;
using tiny_coro::HttpResponse;
using tiny_coro::Task;
using tiny_coro::HttpRequest;
using tiny_coro::UniqueFd;

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

// Opens (creating as needed) the directories of `segments` but the last, beneath the root.
// `created` collects what it made, so a failed upload can remove them again.
int open_parent(int root_fd, const RequestPath& path, std::vector<std::string>& created) {
  std::string relative;
  for (std::size_t i = 0; i + 1 < path.segments.size(); ++i) {
    relative += (relative.empty() ? "" : "/") + path.segments[i];
    UniqueFd fd(open_beneath(root_fd, relative, O_PATH | O_DIRECTORY));
    if (!fd.valid() && errno == ENOENT) {
      const std::size_t slash = relative.rfind('/');
      const std::string parent = slash == std::string::npos ? "." : relative.substr(0, slash);
      const UniqueFd parent_fd(open_beneath(root_fd, parent, O_PATH | O_DIRECTORY));
      if (!parent_fd.valid()) return -1;
      if (::mkdirat(parent_fd.get(), path.segments[i].c_str(), 0755) == 0) {
        created.push_back(relative);
      } else if (errno != EEXIST) {
        return -1;
      }
      fd.reset(open_beneath(root_fd, relative, O_PATH | O_DIRECTORY));
    }
    if (!fd.valid()) return -1;
  }
  return open_beneath(root_fd, relative.empty() ? "." : relative, O_PATH | O_DIRECTORY);
}

// A PUT's conditions (If-Match: "the version I edited", If-None-Match: * "only if new", ...)
// checked against what is at `name` in `parent` now.
bool has_preconditions(const tiny_coro::HttpRequest& request) {
  return !request.get_header("If-Match").empty() || !request.get_header("If-None-Match").empty() ||
         !request.get_header("If-Unmodified-Since").empty();
}

Precondition put_precondition(int parent, const std::string& name,
                              const tiny_coro::HttpRequest& request) {
  if (!has_preconditions(request)) return Precondition::kProceed;
  const UniqueFd existing(::openat(parent, name.c_str(),
                                   O_RDONLY | O_NONBLOCK | O_NOCTTY | O_NOFOLLOW | O_CLOEXEC));
  struct stat info {};
  if (!existing.valid() || ::fstat(existing.get(), &info) != 0 || !S_ISREG(info.st_mode))
    return evaluate_preconditions(request, nullptr, /*safe=*/false);
  const std::string etag = etag_of(existing.get(), info);
  const Validators current{etag, info.st_mtim.tv_sec};
  return evaluate_preconditions(request, &current, /*safe=*/false);
}

// The root is opened before the cache starts watching beneath it.
UniqueFd open_root(const std::string& root) {
  UniqueFd fd(::open(root.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
  if (!fd.valid()) throw std::system_error(errno, std::system_category(), "--root " + root);
  return fd;
}

}  // namespace

Site::Site(const std::string& root, FileCache::Limits cache)
    : root_(open_root(root)), cache_(root_.get(), cache) {}

Task<HttpResponse> Site::handle(HttpExchange& exchange) const {
  const std::string_view method = exchange.request().method;
  if (method == "GET" || method == "HEAD") co_return get(exchange);
  if (method == "PUT") co_return co_await put(exchange);
  if (method == "POST" && exchange.path() == "/upload") co_return co_await upload(exchange);
  HttpResponse response = status_response(405);
  response.headers.emplace_back("Allow", exchange.path() == "/upload" ? "POST" : "GET, HEAD, PUT");
  co_return response;
}

HttpResponse Site::get(HttpExchange& exchange) const {
  if (const StaticResourcePtr cached = cache_.find(exchange.path()))
    return respond_with_resource(*cached, exchange.request());
  const RequestPath path = parse_request_path(exchange.path());
  if (path.error_status != 0) return status_response(path.error_status);
  StaticResourcePtr loaded;
  HttpResponse response = serve_path(root_.get(), path, exchange, &loaded);
  if (loaded) cache_.admit(exchange.path(), path);
  return response;
}

Task<HttpResponse> Site::put(HttpExchange& exchange) const {
  const RequestPath path = parse_request_path(exchange.path());
  if (path.error_status != 0) co_return status_response(path.error_status);
  if (path.segments.empty() || path.trailing_slash) co_return status_response(400);
  // Held until the upload is stored or given up: no failing PUT removes our directories.
  DirectoriesInUse::Lease lease(directories_in_use_, path.segments);
  std::vector<std::string> created;
  const UniqueFd parent(open_parent(root_.get(), path, created));
  if (!parent.valid()) {
    const int status = status_for_errno(errno, /*reading=*/false);
    lease.remove_created(root_.get(), created);
    co_return status_response(status);
  }
  struct stat existing {};
  const std::string& name = path.segments.back();
  if (::fstatat(parent.get(), name.c_str(), &existing, AT_SYMLINK_NOFOLLOW) == 0 &&
      S_ISDIR(existing.st_mode)) {
    co_return status_response(409);
  }
  // Checked once before the body is read (a client waiting on 100 Continue hears 412 at
  // once), and again at the rename, under the name's lock, against what it replaces then.
  const HttpRequest& request = exchange.request();
  if (put_precondition(parent.get(), name, request) != Precondition::kProceed) {
    lease.remove_created(root_.get(), created);
    co_return status_response(412);
  }
  std::unique_lock<std::mutex> commit_lock;
  bool refused_at_commit = false;
  std::function<bool()> may_commit;
  if (has_preconditions(request)) {
    std::mutex& stripe =
        commit_locks_[std::hash<std::string>{}(path.relative()) % commit_locks_.size()];
    may_commit = [&, parent_fd = parent.get()] {
      commit_lock = std::unique_lock(stripe);
      refused_at_commit = put_precondition(parent_fd, name, request) != Precondition::kProceed;
      return !refused_at_commit;
    };
  }
  const HttpExchange::SavedBody saved =
      co_await exchange.save_body_in(parent.get(), name, std::move(may_commit));
  commit_lock = {};
  if (saved.error) {
    lease.remove_created(root_.get(), created);
    if (refused_at_commit) co_return status_response(412);
    co_return status_response(status_for_save_error(saved.error));
  }
  cache_.catch_up();  // the next request, on any connection, sees this file
  co_return saved.replaced ? HttpResponse::text(204, "") : status_response(201);
}

Task<HttpResponse> Site::upload(HttpExchange& exchange) const {
  // The manual's example 3 stores every upload under one name; so does this.
  const HttpExchange::SavedBody saved =
      co_await exchange.save_body_in(root_.get(), "uploaded_file.bin");
  if (saved.error) co_return status_response(status_for_save_error(saved.error));
  cache_.catch_up();
  co_return HttpResponse::text(200, "Upload Success!", "text/plain");
}

}  // namespace tiny_httpd
