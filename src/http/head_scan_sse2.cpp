// The head parser scanning 16 bytes at a time with SSE2, which every x86-64 has.
#include "http/head_parsers.h"

#if defined(__x86_64__)
#include <emmintrin.h>

#define TINY_CORO_VECTOR_TARGET "sse2"
#include "http/head_vector_scan.h"

namespace tiny_coro::detail::sse2 {
struct Ops {
  using Vec = __m128i;
  [[gnu::target(TINY_CORO_VECTOR_TARGET)]] static Vec load(const char* p) noexcept {
    return _mm_loadu_si128(reinterpret_cast<const Vec*>(p));
  }
  [[gnu::target(TINY_CORO_VECTOR_TARGET)]] static Vec splat(char c) noexcept {
    return _mm_set1_epi8(c);
  }
  [[gnu::target(TINY_CORO_VECTOR_TARGET)]] static Vec add(Vec a, Vec b) noexcept {
    return _mm_add_epi8(a, b);
  }
  [[gnu::target(TINY_CORO_VECTOR_TARGET)]] static Vec greater(Vec a, Vec b) noexcept {
    return _mm_cmpgt_epi8(a, b);
  }
  [[gnu::target(TINY_CORO_VECTOR_TARGET)]] static Vec equal(Vec a, Vec b) noexcept {
    return _mm_cmpeq_epi8(a, b);
  }
  [[gnu::target(TINY_CORO_VECTOR_TARGET)]] static Vec min_unsigned(Vec a, Vec b) noexcept {
    return _mm_min_epu8(a, b);
  }
  [[gnu::target(TINY_CORO_VECTOR_TARGET)]] static Vec either(Vec a, Vec b) noexcept {
    return _mm_or_si128(a, b);
  }
  [[gnu::target(TINY_CORO_VECTOR_TARGET)]] static unsigned mask(Vec v) noexcept {
    return static_cast<unsigned>(_mm_movemask_epi8(v));
  }
};
struct Scan : VectorScan<Ops> {};
}  // namespace tiny_coro::detail::sse2

#define TINY_CORO_SCAN_ISA sse2
#include "http/head_scan.h"
// Last: the entry points use the parser head_scan.h just declared.
#include "http/head_entry_points.h"  // IWYU pragma: keep
#endif
