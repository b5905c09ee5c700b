// The head parser with byte-at-a-time scanning: the fallback off x86-64, and the reference
// the vector copies are tested against.
#include "http/head_parsers.h"

namespace tiny_coro::detail::scalar {
struct Scan {
  static const char* find_target_stop(const char* p, const char* end) noexcept {
    while (p < end && static_cast<unsigned char>(*p) - 0x21u < 0x5eu) ++p;
    return p;
  }
  static const char* find_value_stop(const char* p, const char* end) noexcept {
    while (p < end) {
      const auto b = static_cast<unsigned char>(*p);
      if (b < 0x20 || b == 0x7f) break;
      ++p;
    }
    return p;
  }
};
}  // namespace tiny_coro::detail::scalar

#define TINY_CORO_SCAN_ISA scalar
#include "http/head_scan.h"
// Last: the entry points use the parser head_scan.h just declared.
#include "http/head_entry_points.h"  // IWYU pragma: keep
