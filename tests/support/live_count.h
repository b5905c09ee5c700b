#pragma once

#include <atomic>

namespace tiny_coro::test {

// How many of something exist now (made and not yet gone), and the most at once: the live
// frames of a fork-join tree, to show it unfolds depth first.
struct LiveCount {
  std::atomic<long> now{0};
  std::atomic<long> peak{0};

  void made() {
    const long count = now.fetch_add(1) + 1;
    long seen = peak.load();
    while (count > seen && !peak.compare_exchange_weak(seen, count)) {
    }
  }
  void gone() { now.fetch_sub(1); }
};

}  // namespace tiny_coro::test
