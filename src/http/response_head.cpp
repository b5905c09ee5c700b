#include "http/response_head.h"

#include <charconv>
#include <ctime>

#include <tiny_coro/http_server.h>

namespace tiny_coro {

std::string_view http_reason_phrase(int status) noexcept {
  switch (status) {
    case 100:
      return "Continue";
    case 101:
      return "Switching Protocols";
    case 200:
      return "OK";
    case 201:
      return "Created";
    case 202:
      return "Accepted";
    case 204:
      return "No Content";
    case 206:
      return "Partial Content";
    case 301:
      return "Moved Permanently";
    case 302:
      return "Found";
    case 303:
      return "See Other";
    case 304:
      return "Not Modified";
    case 307:
      return "Temporary Redirect";
    case 308:
      return "Permanent Redirect";
    case 400:
      return "Bad Request";
    case 401:
      return "Unauthorized";
    case 403:
      return "Forbidden";
    case 404:
      return "Not Found";
    case 405:
      return "Method Not Allowed";
    case 408:
      return "Request Timeout";
    case 409:
      return "Conflict";
    case 411:
      return "Length Required";
    case 412:
      return "Precondition Failed";
    case 413:
      return "Content Too Large";
    case 414:
      return "URI Too Long";
    case 415:
      return "Unsupported Media Type";
    case 416:
      return "Range Not Satisfiable";
    case 417:
      return "Expectation Failed";
    case 431:
      return "Request Header Fields Too Large";
    case 500:
      return "Internal Server Error";
    case 501:
      return "Not Implemented";
    case 503:
      return "Service Unavailable";
    case 505:
      return "HTTP Version Not Supported";
    default:
      return "Unknown";
  }
}

namespace detail {
namespace {

void append_number(std::string& out, std::uint64_t value) {
  char digits[24];
  const auto end = std::to_chars(digits, digits + sizeof(digits), value).ptr;
  out.append(digits, end);
}

}  // namespace

std::string_view format_http_date(std::int64_t unix_seconds, char (&out)[32]) noexcept {
  static constexpr const char* kDays[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
  static constexpr const char* kMonths[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                            "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  const auto seconds = static_cast<std::time_t>(unix_seconds);
  std::tm utc{};
  ::gmtime_r(&seconds, &utc);
  auto two = [](char* at, int value) {
    at[0] = static_cast<char>('0' + value / 10);
    at[1] = static_cast<char>('0' + value % 10);
  };
  char* p = out;
  for (const char* day = kDays[utc.tm_wday]; *day != '\0';) *p++ = *day++;
  *p++ = ',';
  *p++ = ' ';
  two(p, utc.tm_mday);
  p += 2;
  *p++ = ' ';
  for (const char* month = kMonths[utc.tm_mon]; *month != '\0';) *p++ = *month++;
  *p++ = ' ';
  const int year = utc.tm_year + 1900;
  two(p, year / 100);
  two(p + 2, year % 100);
  p += 4;
  *p++ = ' ';
  two(p, utc.tm_hour);
  p[2] = ':';
  two(p + 3, utc.tm_min);
  p[5] = ':';
  two(p + 6, utc.tm_sec);
  p += 8;
  for (const char* gmt = " GMT"; *gmt != '\0';) *p++ = *gmt++;
  return std::string_view(out, static_cast<std::size_t>(p - out));
}

std::string_view http_date_now() noexcept {
  // The coarse clock is read from the vDSO without a syscall; a second's resolution is all
  // a Date field has.
  thread_local char text[32];
  thread_local std::int64_t formatted_second = -1;
  thread_local std::string_view view;
  timespec now{};
  ::clock_gettime(CLOCK_REALTIME_COARSE, &now);
  if (now.tv_sec != formatted_second) {
    view = format_http_date(now.tv_sec, text);
    formatted_second = now.tv_sec;
  }
  return view;
}

void append_response_head(std::string& out, const ResponseHeadFields& fields) {
  out.append("HTTP/1.1 ");
  append_number(out, static_cast<std::uint64_t>(fields.status));
  out.push_back(' ');
  out.append(http_reason_phrase(fields.status));
  out.append("\r\nServer: tiny_coro\r\nDate: ");
  out.append(http_date_now());
  out.append("\r\n");
  if (!fields.content_type.empty()) {
    out.append("Content-Type: ");
    out.append(fields.content_type);
    out.append("\r\n");
  }
  if (fields.content_length) {
    out.append("Content-Length: ");
    append_number(out, *fields.content_length);
    out.append("\r\n");
  }
  if (fields.extra != nullptr) {
    for (const auto& [name, value] : *fields.extra) {
      out.append(name);
      out.append(": ");
      out.append(value);
      out.append("\r\n");
    }
  }
  out.append(fields.raw_fields);
  if (fields.close) out.append("Connection: close\r\n");
  if (fields.keep_alive) out.append("Connection: keep-alive\r\n");
  out.append("\r\n");
}

}  // namespace detail
}  // namespace tiny_coro
