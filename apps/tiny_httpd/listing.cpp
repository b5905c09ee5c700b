#include "listing.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <string>
#include <vector>

#include <tiny_coro/unique_fd.h>

#include "escape.h"
#include "statuses.h"

namespace tiny_httpd {
namespace {

struct Entry {
  std::string name;
  bool is_directory = false;
  std::uint64_t size = 0;
  std::int64_t mtime = 0;
};

// Symlinks are described by lstat: following one would tell the size and age of what it
// points at, which may lie outside the root.
bool read_entries(int dir_fd, std::vector<Entry>& entries) {
  tiny_coro::UniqueFd copy(::openat(dir_fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  DIR* dir = copy.valid() ? ::fdopendir(copy.get()) : nullptr;
  if (dir == nullptr) return false;
  copy.release();  // closedir closes it
  while (const dirent* found = ::readdir(dir)) {
    const std::string_view name = found->d_name;
    if (name.starts_with('.')) continue;  // ., .., hidden files and uploads in progress
    struct stat info {};
    if (::fstatat(::dirfd(dir), found->d_name, &info, AT_SYMLINK_NOFOLLOW) != 0) continue;
    entries.push_back({std::string(name), S_ISDIR(info.st_mode),
                       static_cast<std::uint64_t>(info.st_size), info.st_mtim.tv_sec});
  }
  ::closedir(dir);
  std::sort(entries.begin(), entries.end(), [](const Entry& a, const Entry& b) {
    return a.is_directory != b.is_directory ? a.is_directory : a.name < b.name;
  });
  return true;
}

bool wants_json(const tiny_coro::HttpRequest& request) {
  const std::string_view accept = request.get_header("Accept");
  const std::size_t json = accept.find("application/json");
  const std::size_t html = accept.find("text/html");
  return json != std::string_view::npos && (html == std::string_view::npos || json < html);
}

std::string as_json(const std::vector<Entry>& entries) {
  std::string body = "[";
  for (const Entry& entry : entries) {
    if (body.size() > 1) body += ",";
    body += "\n{\"name\":\"" + json_escape(entry.name) + "\",\"type\":\"" +
            (entry.is_directory ? "directory" : "file") + "\",\"mtime\":\"" +
            tiny_coro::http_date(entry.mtime) + "\"";
    if (!entry.is_directory) body += ",\"size\":" + std::to_string(entry.size);
    body += "}";
  }
  body += "\n]\n";
  return body;
}

std::string as_html(const std::vector<Entry>& entries, std::string_view shown_path) {
  const std::string title = "Index of " + html_escape(shown_path);
  std::string body = "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>" + title +
                     "</title>\n<style>body{font-family:sans-serif}td{padding:0 1.5em 0 0}"
                     "td.size{text-align:right}</style></head>\n<body><h1>" +
                     title +
                     "</h1>\n<table>\n<tr><th>Name</th><th>Last modified</th><th>Size</th></tr>\n";
  if (shown_path != "/") body += "<tr><td><a href=\"../\">../</a></td><td></td><td></td></tr>\n";
  for (const Entry& entry : entries) {
    const std::string suffix = entry.is_directory ? "/" : "";
    body += "<tr><td><a href=\"" + percent_encode_segment(entry.name) + suffix + "\">" +
            html_escape(entry.name) + suffix + "</a></td><td>" + tiny_coro::http_date(entry.mtime) +
            "</td><td class=\"size\">" + (entry.is_directory ? "-" : std::to_string(entry.size)) +
            "</td></tr>\n";
  }
  body += "</table>\n</body></html>\n";
  return body;
}

}  // namespace

tiny_coro::HttpResponse listing(int dir_fd, std::string_view shown_path,
                                const tiny_coro::HttpRequest& request) {
  std::vector<Entry> entries;
  if (!read_entries(dir_fd, entries)) return status_response(403);
  const std::string decoded =
      tiny_coro::percent_decode_path(shown_path).value_or(std::string(shown_path));
  tiny_coro::HttpResponse response =
      wants_json(request) ? tiny_coro::HttpResponse::text(200, as_json(entries), "application/json")
                          : tiny_coro::HttpResponse::text(200, as_html(entries, decoded),
                                                          "text/html; charset=utf-8");
  response.headers.emplace_back("Vary", "Accept");
  return response;
}

}  // namespace tiny_httpd
