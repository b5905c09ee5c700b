// The head parser scanning 32 bytes at a time with AVX2. Only the scanners are compiled for
// AVX2 (gnu::target), and only http_parser.cpp's run-time check decides to call into them.
#include "http/head_parsers.h"

#if defined(__x86_64__)
#include <immintrin.h>

#define TINY_CORO_VECTOR_TARGET "avx2"
#include "http/head_vector_scan.h"

namespace tiny_coro::detail::avx2 {
struct Ops {
  using Vec = __m256i;
  [[gnu::target(TINY_CORO_VECTOR_TARGET)]] static Vec load(const char* p) noexcept {
    return _mm256_loadu_si256(reinterpret_cast<const Vec*>(p));
  }
  [[gnu::target(TINY_CORO_VECTOR_TARGET)]] static Vec splat(char c) noexcept {
    return _mm256_set1_epi8(c);
  }
  [[gnu::target(TINY_CORO_VECTOR_TARGET)]] static Vec add(Vec a, Vec b) noexcept {
    return _mm256_add_epi8(a, b);
  }
  [[gnu::target(TINY_CORO_VECTOR_TARGET)]] static Vec greater(Vec a, Vec b) noexcept {
    return _mm256_cmpgt_epi8(a, b);
  }
  [[gnu::target(TINY_CORO_VECTOR_TARGET)]] static Vec equal(Vec a, Vec b) noexcept {
    return _mm256_cmpeq_epi8(a, b);
  }
  [[gnu::target(TINY_CORO_VECTOR_TARGET)]] static Vec min_unsigned(Vec a, Vec b) noexcept {
    return _mm256_min_epu8(a, b);
  }
  [[gnu::target(TINY_CORO_VECTOR_TARGET)]] static Vec either(Vec a, Vec b) noexcept {
    return _mm256_or_si256(a, b);
  }
  [[gnu::target(TINY_CORO_VECTOR_TARGET)]] static unsigned mask(Vec v) noexcept {
    return static_cast<unsigned>(_mm256_movemask_epi8(v));
  }
};
struct Scan : VectorScan<Ops> {};
}  // namespace tiny_coro::detail::avx2

#define TINY_CORO_SCAN_ISA avx2
#include "http/head_scan.h"
// Last: the entry points use the parser head_scan.h just declared.
#include "http/head_entry_points.h"  // IWYU pragma: keep
#endif
