// HTTP dates (RFC 9110 §5.6.7): the public formatter and parser. A recipient must read all
// three forms (IMF-fixdate, RFC 850, asctime); parsed by hand, since strptime depends on the
// locale and wants a NUL-terminated copy.
#include <cstdint>
#include <ctime>
#include <optional>
#include <string>
#include <string_view>

#include <tiny_coro/http_server.h>

#include "http/response_head.h"

namespace tiny_coro {
namespace {

// Days from 1970-01-01 to the proleptic Gregorian date (Howard Hinnant's civil calendar
// arithmetic: years counted from March, so the leap day ends the year).
std::int64_t days_from_civil(std::int64_t year, unsigned month, unsigned day) noexcept {
  year -= month <= 2 ? 1 : 0;
  const std::int64_t era = (year >= 0 ? year : year - 399) / 400;
  const auto year_of_era = static_cast<unsigned>(year - era * 400);
  const unsigned day_of_year = (153 * (month > 2 ? month - 3 : month + 9) + 2) / 5 + day - 1;
  const unsigned day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
  return era * 146097 + static_cast<std::int64_t>(day_of_era) - 719468;
}

bool digits(std::string_view text, std::size_t at, std::size_t count, unsigned& value) noexcept {
  value = 0;
  for (std::size_t i = at; i < at + count; ++i) {
    if (text[i] < '0' || text[i] > '9') return false;
    value = value * 10 + static_cast<unsigned>(text[i] - '0');
  }
  return true;
}

template <std::size_t N>
int index_of(std::string_view name, const std::string_view (&names)[N]) noexcept {
  for (std::size_t i = 0; i < N; ++i) {
    if (names[i] == name) return static_cast<int>(i);
  }
  return -1;
}

}  // namespace

std::string http_date(std::int64_t unix_seconds) {
  char text[32];
  return std::string(detail::format_http_date(unix_seconds, text));
}

namespace {

constexpr std::string_view kDays[7] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
constexpr std::string_view kLongDays[7] = {"Sunday",   "Monday", "Tuesday", "Wednesday",
                                           "Thursday", "Friday", "Saturday"};
constexpr std::string_view kMonths[12] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                          "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};

// Seconds since the epoch for a checked calendar date and time of day.
std::optional<std::int64_t> to_seconds(unsigned year, int month, unsigned day, unsigned hour,
                                       unsigned minute, unsigned second) noexcept {
  static constexpr unsigned kMonthDays[12] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  if (month < 0) return std::nullopt;
  const bool leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
  const unsigned month_days =
      month == 1 && !leap ? 28 : kMonthDays[static_cast<std::size_t>(month)];
  // 60 seconds: a leap second, which POSIX time folds into the next minute.
  if (day < 1 || day > month_days || hour > 23 || minute > 59 || second > 60) return std::nullopt;
  const std::int64_t days = days_from_civil(year, static_cast<unsigned>(month + 1), day);
  return days * 86400 + hour * 3600 + minute * 60 + second;
}

// "08:49:37" at `at`.
bool time_of_day(std::string_view text, std::size_t at, unsigned& hour, unsigned& minute,
                 unsigned& second) noexcept {
  return text[at + 2] == ':' && text[at + 5] == ':' && digits(text, at, 2, hour) &&
         digits(text, at + 3, 2, minute) && digits(text, at + 6, 2, second);
}

// "Sun, 06 Nov 1994 08:49:37 GMT"
std::optional<std::int64_t> parse_imf_fixdate(std::string_view text) noexcept {
  if (text.size() != 29 || text.substr(3, 2) != ", " || text[7] != ' ' || text[11] != ' ' ||
      text[16] != ' ' || text.substr(25) != " GMT" || index_of(text.substr(0, 3), kDays) < 0) {
    return std::nullopt;
  }
  unsigned day = 0, year = 0, hour = 0, minute = 0, second = 0;
  if (!digits(text, 5, 2, day) || !digits(text, 12, 4, year) ||
      !time_of_day(text, 17, hour, minute, second)) {
    return std::nullopt;
  }
  return to_seconds(year, index_of(text.substr(8, 3), kMonths), day, hour, minute, second);
}

// "Sunday, 06-Nov-94 08:49:37 GMT". A two-digit year more than 50 years ahead of now is the
// most recent past year ending in those digits (RFC 9110 §5.6.7).
std::optional<std::int64_t> parse_rfc850_date(std::string_view text) noexcept {
  const std::size_t comma = text.find(", ");
  if (comma == std::string_view::npos || index_of(text.substr(0, comma), kLongDays) < 0)
    return std::nullopt;
  text.remove_prefix(comma + 2);
  // "06-Nov-94 08:49:37 GMT"
  if (text.size() != 22 || text[2] != '-' || text[6] != '-' || text[9] != ' ' ||
      text.substr(18) != " GMT") {
    return std::nullopt;
  }
  unsigned day = 0, two_digit_year = 0, hour = 0, minute = 0, second = 0;
  if (!digits(text, 0, 2, day) || !digits(text, 7, 2, two_digit_year) ||
      !time_of_day(text, 10, hour, minute, second)) {
    return std::nullopt;
  }
  const std::time_t now = std::time(nullptr);
  std::tm utc{};
  ::gmtime_r(&now, &utc);
  const unsigned this_year = static_cast<unsigned>(utc.tm_year) + 1900;
  unsigned year = this_year / 100 * 100 + two_digit_year;
  if (year > this_year + 50) year -= 100;
  return to_seconds(year, index_of(text.substr(3, 3), kMonths), day, hour, minute, second);
}

// "Sun Nov  6 08:49:37 1994" (C's asctime; the day padded with a space).
std::optional<std::int64_t> parse_asctime_date(std::string_view text) noexcept {
  if (text.size() != 24 || text[3] != ' ' || text[7] != ' ' || text[10] != ' ' || text[19] != ' ' ||
      index_of(text.substr(0, 3), kDays) < 0) {
    return std::nullopt;
  }
  unsigned day = 0, year = 0, hour = 0, minute = 0, second = 0;
  const bool one_digit_day = text[8] == ' ';
  if (!(one_digit_day ? digits(text, 9, 1, day) : digits(text, 8, 2, day)) ||
      !digits(text, 20, 4, year) || !time_of_day(text, 11, hour, minute, second)) {
    return std::nullopt;
  }
  return to_seconds(year, index_of(text.substr(4, 3), kMonths), day, hour, minute, second);
}

}  // namespace

std::optional<std::int64_t> parse_http_date(std::string_view text) noexcept {
  if (auto imf = parse_imf_fixdate(text)) return imf;
  if (auto rfc850 = parse_rfc850_date(text)) return rfc850;
  return parse_asctime_date(text);
}

}  // namespace tiny_coro
