#include "preconditions.h"

#include <optional>

#include <tiny_coro/http_server.h>

namespace tiny_httpd {
namespace {

void skip_list_space(std::string_view& text) {
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t' || text.front() == ','))
    text.remove_prefix(1);
}

std::string_view trimmed(std::string_view text) {
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) text.remove_prefix(1);
  while (!text.empty() && (text.back() == ' ' || text.back() == '\t')) text.remove_suffix(1);
  return text;
}

}  // namespace

bool etag_list_matches(std::string_view list, std::string_view etag, bool weak) {
  list = trimmed(list);
  if (list == "*") return true;
  for (skip_list_space(list); !list.empty(); skip_list_space(list)) {
    bool is_weak = false;
    if (list.starts_with("W/")) {
      is_weak = true;
      list.remove_prefix(2);
    }
    if (list.empty() || list.front() != '"') return false;  // malformed: matches nothing
    const std::size_t close = list.find('"', 1);
    if (close == std::string_view::npos) return false;
    const std::string_view tag = list.substr(0, close + 1);
    list.remove_prefix(close + 1);
    if (tag == etag && (weak || !is_weak)) return true;
  }
  return false;
}

Precondition evaluate_preconditions(const tiny_coro::HttpRequest& request,
                                    const Validators* current, bool safe) {
  // 1-2: the state the client expects the target to still be in.
  if (const std::string_view if_match = request.get_header("If-Match"); !if_match.empty()) {
    if (current == nullptr || !etag_list_matches(if_match, current->etag, /*weak=*/false))
      return Precondition::kFailed;
  } else if (const std::string_view since = request.get_header("If-Unmodified-Since");
             !since.empty() && current != nullptr) {
    const std::optional<std::int64_t> date = tiny_coro::parse_http_date(trimmed(since));
    if (date && current->mtime > *date) return Precondition::kFailed;
  }
  // 3-4: the state the client already has.
  if (const std::string_view none_match = request.get_header("If-None-Match");
      !none_match.empty()) {
    if (current != nullptr && etag_list_matches(none_match, current->etag, /*weak=*/true))
      return safe ? Precondition::kNotModified : Precondition::kFailed;
  } else if (const std::string_view since = request.get_header("If-Modified-Since");
             safe && !since.empty() && current != nullptr) {
    const std::optional<std::int64_t> date = tiny_coro::parse_http_date(trimmed(since));
    if (date && current->mtime <= *date) return Precondition::kNotModified;
  }
  return Precondition::kProceed;
}

bool if_range_holds(const tiny_coro::HttpRequest& request, const Validators& current) {
  const std::string_view if_range = trimmed(request.get_header("If-Range"));
  if (if_range.empty()) return true;
  if (if_range.front() == '"' || if_range.starts_with("W/")) return if_range == current.etag;
  const std::optional<std::int64_t> date = tiny_coro::parse_http_date(if_range);
  return date && *date == current.mtime;
}

}  // namespace tiny_httpd
