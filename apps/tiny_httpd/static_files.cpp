#include "static_files.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <ctime>
#include <string>
#include <vector>

#include "mime_types.h"
#include "statuses.h"

namespace tiny_httpd {

using tiny_coro::HttpExchange;
using tiny_coro::HttpFileBody;
using tiny_coro::HttpResponse;

namespace {

std::string http_date(std::time_t t) {
  std::tm utc{};
  ::gmtime_r(&t, &utc);
  char text[40];
  const std::size_t n = std::strftime(text, sizeof(text), "%a, %d %b %Y %H:%M:%S GMT", &utc);
  return std::string(text, n);
}

// IMF-fixdate only (RFC 9110 §5.6.7 lets a recipient ignore the obsolete forms).
bool parse_http_date(std::string_view text, std::time_t& out) {
  std::tm tm{};
  const std::string copy(text);
  const char* end = ::strptime(copy.c_str(), "%a, %d %b %Y %H:%M:%S GMT", &tm);
  if (end == nullptr || *end != '\0') return false;
  out = ::timegm(&tm);
  return true;
}

struct ByteRange {
  std::uint64_t first = 0;
  std::uint64_t length = 0;
};
enum class RangeVerdict { kWhole, kPartial, kUnsatisfiable };

// One "bytes=a-b" / "bytes=a-" / "bytes=-n" range; anything else (several ranges, other
// units, junk) is ignored and the whole file sent, as RFC 9110 §14.2 allows.
RangeVerdict parse_range(std::string_view header, std::uint64_t size, ByteRange& range) {
  if (!header.starts_with("bytes=")) return RangeVerdict::kWhole;
  header.remove_prefix(6);
  if (header.find(',') != std::string_view::npos) return RangeVerdict::kWhole;
  const std::size_t dash = header.find('-');
  if (dash == std::string_view::npos) return RangeVerdict::kWhole;
  auto number = [](std::string_view digits, std::uint64_t& value) {
    const auto [end, error] = std::from_chars(digits.data(), digits.data() + digits.size(), value);
    return !digits.empty() && error == std::errc() && end == digits.data() + digits.size();
  };
  const std::string_view first_text = header.substr(0, dash);
  const std::string_view last_text = header.substr(dash + 1);
  std::uint64_t first = 0;
  std::uint64_t last = 0;
  if (first_text.empty()) {  // suffix: the last n bytes
    if (!number(last_text, last)) return RangeVerdict::kWhole;
    if (last == 0 || size == 0) return RangeVerdict::kUnsatisfiable;
    range.length = std::min(last, size);
    range.first = size - range.length;
    return RangeVerdict::kPartial;
  }
  if (!number(first_text, first)) return RangeVerdict::kWhole;
  if (last_text.empty()) {
    last = size == 0 ? 0 : size - 1;
  } else if (!number(last_text, last) || last < first) {
    return RangeVerdict::kWhole;
  }
  if (first >= size) return RangeVerdict::kUnsatisfiable;
  last = std::min(last, size - 1);
  range.first = first;
  range.length = last - first + 1;
  return RangeVerdict::kPartial;
}

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
  const int fd = ::dup(dir_fd);
  DIR* dir = fd < 0 ? nullptr : ::fdopendir(fd);
  if (dir == nullptr) {
    if (fd >= 0) ::close(fd);
    return status_response(403);
  }
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

HttpResponse file_response(int fd, const struct stat& info, std::string_view name,
                           HttpExchange& exchange) {
  const auto size = static_cast<std::uint64_t>(info.st_size);
  const std::string last_modified = http_date(info.st_mtim.tv_sec);
  const tiny_coro::HttpRequest& req = exchange.request();
  std::time_t since = 0;
  if (const std::string_view header = req.get_header("If-Modified-Since");
      !header.empty() && req.get_header("If-None-Match").empty() &&
      parse_http_date(header, since) && info.st_mtim.tv_sec <= since) {
    ::close(fd);
    HttpResponse not_modified;
    not_modified.status = 304;
    not_modified.headers.emplace_back("Last-Modified", last_modified);
    return not_modified;
  }
  HttpResponse response;
  response.content_type = std::string(content_type_for(name));
  response.headers.emplace_back("Last-Modified", last_modified);
  response.headers.emplace_back("Accept-Ranges", "bytes");
  ByteRange range{0, size};
  switch (parse_range(req.get_header("Range"), size, range)) {
    case RangeVerdict::kWhole:
      range = {0, size};
      break;
    case RangeVerdict::kPartial:
      response.status = 206;
      response.headers.emplace_back("Content-Range",
                                    "bytes " + std::to_string(range.first) + "-" +
                                        std::to_string(range.first + range.length - 1) + "/" +
                                        std::to_string(size));
      break;
    case RangeVerdict::kUnsatisfiable: {
      ::close(fd);
      HttpResponse unsatisfiable = status_response(416);
      unsatisfiable.headers.emplace_back("Content-Range", "bytes */" + std::to_string(size));
      return unsatisfiable;
    }
  }
  response.file = HttpFileBody(fd, static_cast<off_t>(range.first), range.length);
  return response;
}

}  // namespace

HttpResponse serve_path(int root_fd, const RequestPath& path, HttpExchange& exchange) {
  const std::string relative = path.relative();
  // O_NONBLOCK: opening a FIFO must not block the worker; it is refused below anyway.
  const int fd = open_beneath(root_fd, relative, O_RDONLY | O_NONBLOCK | O_NOCTTY);
  if (fd < 0) return status_response(status_for_errno(errno, /*reading=*/true));
  struct stat info {};
  if (::fstat(fd, &info) != 0) {
    ::close(fd);
    return status_response(500);
  }
  if (S_ISREG(info.st_mode)) {
    if (path.trailing_slash) {
      ::close(fd);
      return status_response(404);
    }
    return file_response(fd, info, path.segments.empty() ? "" : path.segments.back(), exchange);
  }
  if (!S_ISDIR(info.st_mode)) {
    ::close(fd);
    return status_response(403);
  }
  const std::string_view shown = exchange.path();
  if (!path.trailing_slash) {
    ::close(fd);
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
  const int index =
      open_beneath(root_fd, relative + "/index.html", O_RDONLY | O_NONBLOCK | O_NOCTTY);
  struct stat index_info {};
  if (index >= 0 && ::fstat(index, &index_info) == 0 && S_ISREG(index_info.st_mode)) {
    ::close(fd);
    return file_response(index, index_info, "index.html", exchange);
  }
  if (index >= 0) ::close(index);
  HttpResponse response = listing(fd, shown);
  ::close(fd);
  return response;
}

}  // namespace tiny_httpd
