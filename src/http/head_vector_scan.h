// head_scan.h's two scanners written once over a vector width: `Ops` supplies the
// width and the handful of byte-wise operations (SSE2 or AVX2 intrinsics).
//
// The including file defines TINY_CORO_VECTOR_TARGET, the instruction set for these functions
// and its Ops (gnu::target). The file itself is compiled for the baseline, so nothing else in
// it — the parser around the scanners, the std:: templates it instantiates — can carry AVX2
// instructions that the linker might then pick for a machine without them.
#pragma once

#ifndef TINY_CORO_VECTOR_TARGET
#error "define TINY_CORO_VECTOR_TARGET first"
#endif

#include <bit>
#include <cstddef>

namespace tiny_coro::detail {

template <class Ops>
struct VectorScan {
  using Vec = typename Ops::Vec;
  static constexpr std::ptrdiff_t kWidth = sizeof(Vec);

  // Bytes 0x21..0x7E, shifted by 0x5F, land in the signed range -128..-35, so one signed
  // compare flags everything else.
  [[gnu::target(TINY_CORO_VECTOR_TARGET)]] static const char* find_target_stop(
      const char* p, const char* end) noexcept {
    const Vec shift = Ops::splat(0x5f);
    const Vec last_good = Ops::splat(-35);
    for (; end - p >= kWidth; p += kWidth) {
      const Vec bad = Ops::greater(Ops::add(Ops::load(p), shift), last_good);
      if (const unsigned mask = Ops::mask(bad); mask != 0) return p + std::countr_zero(mask);
    }
    while (p < end && static_cast<unsigned char>(*p) - 0x21u < 0x5eu) ++p;
    return p;
  }

  [[gnu::target(TINY_CORO_VECTOR_TARGET)]] static const char* find_value_stop(
      const char* p, const char* end) noexcept {
    const Vec last_control = Ops::splat(0x1f);
    const Vec del = Ops::splat(0x7f);
    for (; end - p >= kWidth; p += kWidth) {
      const Vec bytes = Ops::load(p);
      // min(b, 0x1F) == b exactly when b <= 0x1F, unsigned.
      const Vec control = Ops::equal(Ops::min_unsigned(bytes, last_control), bytes);
      const Vec bad = Ops::either(control, Ops::equal(bytes, del));
      if (const unsigned mask = Ops::mask(bad); mask != 0) return p + std::countr_zero(mask);
    }
    while (p < end) {
      const auto b = static_cast<unsigned char>(*p);
      if (b < 0x20 || b == 0x7f) break;
      ++p;
    }
    return p;
  }
};

}  // namespace tiny_coro::detail
