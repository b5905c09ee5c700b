#include "content_coding.h"

#include <optional>

namespace tiny_httpd {
namespace {

std::string_view trim(std::string_view text) {
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) text.remove_prefix(1);
  while (!text.empty() && (text.back() == ' ' || text.back() == '\t')) text.remove_suffix(1);
  return text;
}

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    const char x = a[i] >= 'A' && a[i] <= 'Z' ? static_cast<char>(a[i] + 32) : a[i];
    const char y = b[i] >= 'A' && b[i] <= 'Z' ? static_cast<char>(b[i] + 32) : b[i];
    if (x != y) return false;
  }
  return true;
}

// A weight in thousandths: "q=0.5" -> 500. RFC 9110 §12.4.2 allows at most three decimals.
std::optional<int> parse_weight(std::string_view params) {
  for (;;) {
    params = trim(params);
    if (params.empty()) return 1000;
    if (params.front() == ';') {
      params.remove_prefix(1);
      continue;
    }
    const std::size_t end = params.find(';');
    const std::string_view param = trim(params.substr(0, end));
    params = end == std::string_view::npos ? std::string_view() : params.substr(end);
    if (param.size() < 2 || (param[0] != 'q' && param[0] != 'Q') || param[1] != '=') continue;
    const std::string_view value = trim(param.substr(2));
    if (value.empty() || value.size() > 5 || (value[0] != '0' && value[0] != '1'))
      return std::nullopt;
    int thousandths = (value[0] - '0') * 1000;
    if (value.size() > 1) {
      if (value[1] != '.') return std::nullopt;
      int scale = 100;
      for (std::size_t i = 2; i < value.size(); ++i, scale /= 10) {
        if (value[i] < '0' || value[i] > '9') return std::nullopt;
        thousandths += (value[i] - '0') * scale;
      }
    }
    if (thousandths > 1000) return std::nullopt;
    return thousandths;
  }
}

}  // namespace

Coding choose_coding(std::string_view accept_encoding, bool have_gzip, bool have_brotli) {
  if (!have_gzip && !have_brotli) return Coding::kIdentity;
  // -1: not named. A coding not named takes '*''s weight, else it is not acceptable.
  int gzip = -1, brotli = -1, identity = -1, any = -1;
  std::string_view list = accept_encoding;
  while (!list.empty()) {
    const std::size_t comma = list.find(',');
    const std::string_view element = trim(list.substr(0, comma));
    list = comma == std::string_view::npos ? std::string_view() : list.substr(comma + 1);
    if (element.empty()) continue;
    const std::size_t semicolon = element.find(';');
    const std::string_view name = trim(element.substr(0, semicolon));
    const std::optional<int> weight =
        parse_weight(semicolon == std::string_view::npos ? "" : element.substr(semicolon));
    if (!weight) continue;  // a malformed weight: ignore the element
    if (iequals(name, "gzip") || iequals(name, "x-gzip")) {
      gzip = *weight;
    } else if (iequals(name, "br")) {
      brotli = *weight;
    } else if (iequals(name, "identity")) {
      identity = *weight;
    } else if (name == "*") {
      any = *weight;
    }
  }
  if (gzip < 0) gzip = any < 0 ? 0 : any;
  if (brotli < 0) brotli = any < 0 ? 0 : any;
  // Not named, the file itself is acceptable (unless '*;q=0' excludes it) but comes after
  // any coding the client named: a client that lists gzip wants it.
  if (identity < 0) identity = any == 0 ? 0 : 1;
  if (!have_gzip) gzip = 0;
  if (!have_brotli) brotli = 0;
  if (brotli > 0 && brotli >= gzip && brotli >= identity) return Coding::kBrotli;
  if (gzip > 0 && gzip >= identity) return Coding::kGzip;
  return Coding::kIdentity;
}

}  // namespace tiny_httpd
