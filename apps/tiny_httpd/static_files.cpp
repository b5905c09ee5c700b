#include "static_files.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <string>
#include <vector>

#include "file_response.h"
#include "statuses.h"

namespace tiny_httpd {

using tiny_coro::HttpExchange;
using tiny_coro::HttpResponse;
using tiny_coro::UniqueFd;

namespace {

std::string html_escape(std::string_view text) {
  std::string out;
  for (const char c : text) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&#39;";
        break;
      default:
        out.push_back(c);
    }
  }
  return out;
}

std::string percent_encode_segment(std::string_view name) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (const char c : name) {
    const auto b = static_cast<unsigned char>(c);
    const bool plain = (b >= 'a' && b <= 'z') || (b >= 'A' && b <= 'Z') || (b >= '0' && b <= '9') ||
                       c == '-' || c == '.' || c == '_' || c == '~';
    if (plain) {
      out.push_back(c);
    } else {
      out.push_back('%');
      out.push_back(kHex[b >> 4]);
      out.push_back(kHex[b & 15]);
    }
  }
  return out;
}

HttpResponse listing(int dir_fd, std::string_view shown_path) {
  UniqueFd copy(::dup(dir_fd));
  DIR* dir = copy.valid() ? ::fdopendir(copy.get()) : nullptr;
  if (dir == nullptr) return status_response(403);
  copy.release();  // closedir closes it
  std::vector<std::pair<std::string, bool>> entries;  // name, is a directory
  while (const dirent* entry = ::readdir(dir)) {
    const std::string_view name = entry->d_name;
    if (name.starts_with('.')) continue;  // ., .., hidden files and uploads in progress
    struct stat info {};
    const bool is_dir =
        ::fstatat(::dirfd(dir), entry->d_name, &info, 0) == 0 && S_ISDIR(info.st_mode);
    entries.emplace_back(std::string(name), is_dir);
  }
  ::closedir(dir);
  std::sort(entries.begin(), entries.end());
  const std::string title = "Index of " + html_escape(shown_path);
  std::string body = "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>" + title +
                     "</title></head>\n<body><h1>" + title + "</h1>\n<ul>\n";
  if (shown_path != "/") body += "<li><a href=\"../\">../</a></li>\n";
  for (const auto& [name, is_dir] : entries) {
    const std::string suffix = is_dir ? "/" : "";
    body += "<li><a href=\"" + percent_encode_segment(name) + suffix + "\">" + html_escape(name) +
            suffix + "</a></li>\n";
  }
  body += "</ul></body></html>\n";
  return HttpResponse::text(200, std::move(body), "text/html; charset=utf-8");
}

HttpResponse serve_file(UniqueFd fd, const struct stat& info, std::string_view name,
                        HttpExchange& exchange, StaticFilePtr* loaded) {
  StaticFilePtr file = load_static_file(std::move(fd), info, name);
  if (!file) return status_response(500);
  HttpResponse response = respond_with_file(file, exchange.request());
  if (loaded != nullptr) *loaded = std::move(file);
  return response;
}

}  // namespace

HttpResponse serve_path(int root_fd, const RequestPath& path, HttpExchange& exchange,
                        StaticFilePtr* loaded) {
  const std::string relative = path.relative();
  // O_NONBLOCK: opening a FIFO must not block the worker; it is refused below anyway.
  UniqueFd fd(open_beneath(root_fd, relative, O_RDONLY | O_NONBLOCK | O_NOCTTY));
  if (!fd.valid()) return status_response(status_for_errno(errno, /*reading=*/true));
  struct stat info {};
  if (::fstat(fd.get(), &info) != 0) return status_response(500);
  if (S_ISREG(info.st_mode)) {
    if (path.trailing_slash) return status_response(404);
    return serve_file(std::move(fd), info, path.segments.empty() ? "" : path.segments.back(),
                      exchange, loaded);
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
    return serve_file(std::move(index), index_info, "index.html", exchange, loaded);
  }
  return listing(fd.get(), shown);
}

}  // namespace tiny_httpd
