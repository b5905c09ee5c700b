// HttpParser's entry points: picks the head parser copy for this CPU, then checks the fields
// that decide how the body is framed (RFC 9112 §6). The framing rules are where a lax server
// and a strict proxy would disagree about where a message ends, so anything ambiguous is
// malformed: Content-Length and Transfer-Encoding together, lengths that disagree or are not
// plain decimal numbers, a transfer coding other than a single `chunked`, and
// Transfer-Encoding in an HTTP/1.0 request (RFC 9112 §6.1: its framing is faulty).
#include <tiny_coro/http_parser.h>

#include <array>
#include <cstdint>
#include <limits>

#include "http/ascii.h"
#include "http/head_parsers.h"

namespace tiny_coro {
namespace {

detail::HeadParsers pick_head_parsers() noexcept {
#if defined(__x86_64__)
  if (__builtin_cpu_supports("avx2")) return detail::avx2_head_parsers();
  return detail::sse2_head_parsers();
#else
  return detail::scalar_head_parsers();
#endif
}

const detail::HeadParsers& head_parsers() noexcept {
  static const detail::HeadParsers parsers = pick_head_parsers();
  return parsers;
}

// 1*DIGIT without overflow; false otherwise.
bool parse_decimal(std::string_view text, std::uint64_t& out) noexcept {
  if (text.empty()) return false;
  std::uint64_t value = 0;
  for (const char c : text) {
    if (c < '0' || c > '9') return false;
    const auto digit = static_cast<std::uint64_t>(c - '0');
    if (value > (std::numeric_limits<std::uint64_t>::max() - digit) / 10) return false;
    value = value * 10 + digit;
  }
  out = value;
  return true;
}

class FramingCheck {
 public:
  explicit FramingCheck(HttpRequest& req) noexcept : req_(req) {}

  bool field(const Header& h) noexcept {
    switch (h.name.size()) {
      case 4:
        if (detail::iequals(h.name, "host") && req_.host_count++ == 0) req_.host = h.value;
        return true;
      case 6:
        if (detail::iequals(h.name, "expect") && detail::iequals(h.value, "100-continue")) {
          req_.expect_continue = true;
        }
        return true;
      case 10:
        if (detail::iequals(h.name, "connection")) connection(h.value);
        return true;
      case 14:
        return !detail::iequals(h.name, "content-length") || content_length(h.value);
      case 17:
        return !detail::iequals(h.name, "transfer-encoding") || transfer_encoding(h.value);
      default:
        return true;
    }
  }

  bool finish() noexcept {
    if (chunked_tokens_ > 0) {
      if (has_length_ || req_.minor_version == 0 || chunked_tokens_ != 1 || other_codings_) {
        return false;
      }
      req_.framing = BodyFraming::kChunked;
    } else if (other_codings_) {
      return false;
    } else if (has_length_) {
      req_.framing = BodyFraming::kContentLength;
    }
    return true;
  }

 private:
  void connection(std::string_view value) noexcept {
    detail::for_each_list_element(value, [&](std::string_view option) {
      if (detail::iequals(option, "close")) req_.connection_close = true;
      if (detail::iequals(option, "keep-alive")) req_.connection_keep_alive = true;
    });
  }

  bool content_length(std::string_view value) noexcept {
    std::uint64_t length = 0;
    if (!parse_decimal(value, length)) return false;
    if (has_length_ && length != req_.content_length) return false;
    has_length_ = true;
    req_.content_length = length;
    return true;
  }

  bool transfer_encoding(std::string_view value) noexcept {
    bool any = false;
    detail::for_each_list_element(value, [&](std::string_view coding) {
      any = true;
      if (detail::iequals(coding, "chunked")) {
        ++chunked_tokens_;
      } else {
        other_codings_ = true;
      }
    });
    if (!any) other_codings_ = true;  // an empty Transfer-Encoding frames nothing sensible
    return true;
  }

  HttpRequest& req_;
  bool has_length_ = false;
  int chunked_tokens_ = 0;
  bool other_codings_ = false;
};

std::string_view find_header(const std::vector<Header>& headers, std::string_view name) noexcept {
  for (const Header& h : headers) {
    if (detail::iequals(h.name, name)) return h.value;
  }
  return {};
}

}  // namespace

std::string_view HttpRequest::get_header(std::string_view name) const noexcept {
  return find_header(headers, name);
}

std::string_view HttpResponseHead::get_header(std::string_view name) const noexcept {
  return find_header(headers, name);
}

void HttpRequest::clear() noexcept {
  method = {};
  path = {};
  minor_version = 1;
  headers.clear();
  framing = BodyFraming::kNone;
  content_length = 0;
  host_count = 0;
  host = {};
  connection_close = false;
  connection_keep_alive = false;
  expect_continue = false;
}

ParseResult HttpParser::parse(const char* buf, std::size_t len, HttpRequest& req,
                              std::size_t max_head_bytes) {
  req.clear();
  const ParseResult result = head_parsers().request(buf, len, req, max_head_bytes);
  if (result.status != ParseStatus::kComplete) return result;
  FramingCheck check(req);
  for (const Header& h : req.headers) {
    if (!check.field(h)) return {ParseStatus::kMalformed, 0};
  }
  if (!check.finish()) return {ParseStatus::kMalformed, 0};
  return result;
}

int HttpParser::parse_request(const char* buf, std::size_t len, HttpRequest& req) {
  const ParseResult result = parse(buf, len, req);
  switch (result.status) {
    case ParseStatus::kComplete:
      return static_cast<int>(result.head_length);
    case ParseStatus::kIncomplete:
      return kIncomplete;
    case ParseStatus::kMalformed:
    case ParseStatus::kTooLarge:
      break;
  }
  return kMalformed;
}

int HttpParser::parse_response(const char* buf, std::size_t len, HttpResponseHead& resp) {
  resp.headers.clear();
  const ParseResult result = head_parsers().response(buf, len, resp, kMaxHeadBytes);
  if (result.status == ParseStatus::kComplete) return static_cast<int>(result.head_length);
  return result.status == ParseStatus::kIncomplete ? kIncomplete : kMalformed;
}

const char* HttpParser::scanner_name() noexcept { return head_parsers().name; }

namespace detail {

std::size_t usable_head_parsers(HeadParsers* out, std::size_t capacity) noexcept {
  std::size_t count = 0;
  auto add = [&](HeadParsers parsers) {
    if (count < capacity) out[count++] = parsers;
  };
#if defined(__x86_64__)
  if (__builtin_cpu_supports("avx2")) add(avx2_head_parsers());
  add(sse2_head_parsers());
#endif
  add(scalar_head_parsers());
  return count;
}

}  // namespace detail
}  // namespace tiny_coro
