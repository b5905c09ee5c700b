#include "byte_ranges.h"

#include <algorithm>
#include <cstdint>

namespace tiny_httpd {
namespace {

// Digits only; a number too large for 64 bits saturates (it lies past any representation).
bool whole_number(std::string_view digits, std::uint64_t& value) {
  if (digits.empty()) return false;
  value = 0;
  for (const char c : digits) {
    if (c < '0' || c > '9') return false;
    const auto digit = static_cast<std::uint64_t>(c - '0');
    value = value > (UINT64_MAX - digit) / 10 ? UINT64_MAX : value * 10 + digit;
  }
  return true;
}

bool starts_with_bytes_unit(std::string_view header) {
  static constexpr std::string_view kUnit = "bytes=";
  if (header.size() < kUnit.size()) return false;
  for (std::size_t i = 0; i < kUnit.size(); ++i) {
    const char c =
        header[i] >= 'A' && header[i] <= 'Z' ? static_cast<char>(header[i] + 32) : header[i];
    if (c != kUnit[i]) return false;  // the unit is case-insensitive (RFC 9110 §14.1)
  }
  return true;
}

std::string_view trim(std::string_view text) {
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) text.remove_prefix(1);
  while (!text.empty() && (text.back() == ' ' || text.back() == '\t')) text.remove_suffix(1);
  return text;
}

enum class SpecResult { kSatisfiable, kUnsatisfiable, kInvalid };

// One range-spec: "first-last", "first-" or "-suffix".
SpecResult parse_spec(std::string_view spec, std::uint64_t size, ByteRange& range) {
  const std::size_t dash = spec.find('-');
  if (dash == std::string_view::npos) return SpecResult::kInvalid;
  const std::string_view first_text = spec.substr(0, dash);
  const std::string_view last_text = spec.substr(dash + 1);
  std::uint64_t first = 0;
  std::uint64_t last = 0;
  if (first_text.empty()) {
    if (!whole_number(last_text, last)) return SpecResult::kInvalid;
    if (last == 0 || size == 0) return SpecResult::kUnsatisfiable;
    range.length = std::min(last, size);
    range.first = size - range.length;
    return SpecResult::kSatisfiable;
  }
  if (!whole_number(first_text, first)) return SpecResult::kInvalid;
  if (last_text.empty()) {
    last = UINT64_MAX;
  } else if (!whole_number(last_text, last) || last < first) {
    return SpecResult::kInvalid;
  }
  if (first >= size) return SpecResult::kUnsatisfiable;
  range.first = first;
  range.length = std::min(last, size - 1) - first + 1;
  return SpecResult::kSatisfiable;
}

// Sorted, with ranges that overlap or touch merged: a client that asks for the same bytes
// twice gets them once (RFC 9110 §14.2 lets a server coalesce).
void coalesce(std::vector<ByteRange>& ranges) {
  std::sort(ranges.begin(), ranges.end(),
            [](const ByteRange& a, const ByteRange& b) { return a.first < b.first; });
  std::size_t kept = 0;
  for (std::size_t i = 1; i < ranges.size(); ++i) {
    ByteRange& last = ranges[kept];
    const std::uint64_t last_end = last.first + last.length;
    if (ranges[i].first <= last_end) {
      last.length = std::max(last_end, ranges[i].first + ranges[i].length) - last.first;
    } else {
      ranges[++kept] = ranges[i];
    }
  }
  ranges.resize(kept + 1);
}

}  // namespace

RangeRequest parse_range(std::string_view header, std::uint64_t size) {
  RangeRequest request;
  header = trim(header);
  if (!starts_with_bytes_unit(header)) return request;
  header.remove_prefix(6);
  std::vector<ByteRange> satisfiable;
  std::size_t specs = 0;
  while (!header.empty()) {
    const std::size_t comma = header.find(',');
    const std::string_view spec = trim(header.substr(0, comma));
    header = comma == std::string_view::npos ? std::string_view() : header.substr(comma + 1);
    if (spec.empty()) continue;  // "1-2, , 4-5": empty list elements are allowed (RFC 9110 §5.6.1)
    if (++specs > kMaxRanges) return request;
    ByteRange range;
    switch (parse_spec(spec, size, range)) {
      case SpecResult::kInvalid:
        return request;  // a Range that does not parse is ignored, not refused
      case SpecResult::kUnsatisfiable:
        break;
      case SpecResult::kSatisfiable:
        satisfiable.push_back(range);
        break;
    }
  }
  if (specs == 0) return request;
  if (satisfiable.empty()) {
    request.verdict = RangeRequest::Verdict::kUnsatisfiable;
    return request;
  }
  coalesce(satisfiable);
  request.verdict = RangeRequest::Verdict::kPartial;
  request.ranges = std::move(satisfiable);
  return request;
}

}  // namespace tiny_httpd
