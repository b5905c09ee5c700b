// HTTP dates (RFC 9110 §5.6.7): the public formatter and parser. Parsing takes IMF-fixdate
// only, by hand: strptime depends on the locale and wants a NUL-terminated copy.
#include <cstdint>
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

std::optional<std::int64_t> parse_http_date(std::string_view text) noexcept {
  static constexpr std::string_view kDays[7] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
  static constexpr std::string_view kMonths[12] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                                   "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  // "Sun, 06 Nov 1994 08:49:37 GMT"
  //  0123456789012345678901234567 8
  if (text.size() != 29 || text.substr(3, 2) != ", " || text[7] != ' ' || text[11] != ' ' ||
      text[16] != ' ' || text[19] != ':' || text[22] != ':' || text.substr(25) != " GMT") {
    return std::nullopt;
  }
  if (index_of(text.substr(0, 3), kDays) < 0) return std::nullopt;
  const int month = index_of(text.substr(8, 3), kMonths);
  unsigned day = 0, year = 0, hour = 0, minute = 0, second = 0;
  if (month < 0 || !digits(text, 5, 2, day) || !digits(text, 12, 4, year) ||
      !digits(text, 17, 2, hour) || !digits(text, 20, 2, minute) || !digits(text, 23, 2, second)) {
    return std::nullopt;
  }
  static constexpr unsigned kMonthDays[12] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  const bool leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
  const unsigned month_days =
      month == 1 && !leap ? 28 : kMonthDays[static_cast<std::size_t>(month)];
  // 60 seconds: a leap second, which POSIX time folds into the next minute.
  if (day < 1 || day > month_days || hour > 23 || minute > 59 || second > 60) return std::nullopt;
  const std::int64_t days = days_from_civil(year, static_cast<unsigned>(month + 1), day);
  return days * 86400 + hour * 3600 + minute * 60 + second;
}

}  // namespace tiny_coro
