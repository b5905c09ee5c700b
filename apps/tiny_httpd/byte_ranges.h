// The Range header (RFC 9110 §14.2): which bytes of a representation a GET asks for.
#pragma once

#include <cstdint>
#include <string_view>
#include <vector>

namespace tiny_httpd {

struct ByteRange {
  std::uint64_t first = 0;
  std::uint64_t length = 0;
  friend bool operator==(const ByteRange&, const ByteRange&) = default;
};

struct RangeRequest {
  enum class Verdict {
    kWhole,          // no Range, or one the server ignores (other units, bad syntax, too many)
    kPartial,        // `ranges`: one or more, sorted, overlapping and adjacent ones merged
    kUnsatisfiable,  // 416: not one range lies within the representation
  };
  Verdict verdict = Verdict::kWhole;
  std::vector<ByteRange> ranges;
};

// More ranges than this in one header are ignored (the whole representation is sent), as
// RFC 9110 §14.2 allows a server to against a request for many small pieces.
inline constexpr std::size_t kMaxRanges = 64;

// `header`: the Range field's value (empty when absent); `size`: the representation's length.
RangeRequest parse_range(std::string_view header, std::uint64_t size);

}  // namespace tiny_httpd
