#include <tiny_coro/ebr.h>

#include <gtest/gtest.h>

#include <atomic>
#include <latch>
#include <thread>
#include <vector>

#include "support/scale.h"

namespace tiny_coro {
namespace {

// Counts deletions; `alive` lets a reader check it never sees a freed object.
struct Tracked {
  static inline std::atomic<long> deleted{0};
  std::atomic<bool> alive{true};
  long payload;
  explicit Tracked(long p) : payload(p) {}
  ~Tracked() {
    alive.store(false, std::memory_order_relaxed);
    deleted.fetch_add(1, std::memory_order_relaxed);
  }
};

// Collects until `target` objects have been freed in total, or gives up after many tries.
std::size_t collect_until(EbrManager::LocalState* state, long target) {
  std::size_t freed = 0;
  for (int i = 0; i < 1000 && Tracked::deleted.load() < target; ++i) {
    freed += EbrManager::get().collect(state);
  }
  return freed;
}

TEST(Ebr, RetiredObjectsAreFreedOnceNoThreadIsPinned) {
  auto* state = EbrManager::get().register_thread();
  const long before = Tracked::deleted.load();
  for (int i = 0; i < 10; ++i) EbrManager::get().retire(state, new Tracked(i));
  collect_until(state, before + 10);
  EXPECT_EQ(Tracked::deleted.load(), before + 10);
}

TEST(Ebr, AnObjectIsNotFreedWhileAGuardThatCouldSeeItIsActive) {
  auto* mine = EbrManager::get().register_thread();
  const long before = Tracked::deleted.load();
  std::latch pinned(1);
  std::latch retired(1);
  std::latch checked(1);
  std::thread reader([&] {
    EbrGuard guard;  // pinned before the retire: it may hold the object
    pinned.count_down();
    retired.wait();
    // While we stay pinned the epoch cannot move two steps past the retire.
    for (int i = 0; i < 100; ++i) EbrManager::get().collect(EbrManager::local());
    // Unpinning before the main thread has checked would let its collections free the
    // object legitimately, and the check would fail for the wrong reason.
    checked.wait();
  });
  pinned.wait();
  EbrManager::get().retire(mine, new Tracked(1));
  retired.count_down();
  for (int i = 0; i < 100; ++i) EbrManager::get().collect(mine);
  EXPECT_EQ(Tracked::deleted.load(), before);
  checked.count_down();
  reader.join();  // unpinned and unregistered
  collect_until(mine, before + 1);
  EXPECT_EQ(Tracked::deleted.load(), before + 1);
}

TEST(Ebr, GuardsNest) {
  auto* state = EbrManager::get().register_thread();
  {
    EbrGuard outer(state);
    { EbrGuard inner(state); }
    EXPECT_NE(state->pinned.load() & 1, 0u);  // still pinned by the outer guard
  }
  EXPECT_EQ(state->pinned.load(), 0u);
}

TEST(Ebr, ReadersNeverSeeAFreedObjectWhileAWriterSwapsAndRetires) {
  // Writer replaces a shared pointer and retires the old object; readers pin, load, check the
  // object is alive. Oracle: nothing freed is ever read (ASan would also fault), and every
  // retired object is freed by the end.
  const long swaps = static_cast<long>(test::scaled(20000));
  constexpr int kReaders = 3;
  const long before = Tracked::deleted.load();
  std::atomic<Tracked*> shared{new Tracked(0)};
  std::atomic<bool> done{false};
  std::atomic<long> bad_reads{0};
  std::vector<std::thread> readers;
  for (int r = 0; r < kReaders; ++r) {
    readers.emplace_back([&] {
      while (!done.load(std::memory_order_acquire)) {
        EbrGuard guard;
        Tracked* current = shared.load(std::memory_order_acquire);
        if (!current->alive.load(std::memory_order_relaxed)) bad_reads.fetch_add(1);
      }
    });
  }
  auto* writer = EbrManager::get().register_thread();
  for (long i = 1; i <= swaps; ++i) {
    Tracked* old = shared.exchange(new Tracked(i), std::memory_order_acq_rel);
    EbrManager::get().retire(writer, old);
  }
  done.store(true, std::memory_order_release);
  for (auto& reader : readers) reader.join();
  collect_until(writer, before + swaps);
  EXPECT_EQ(bad_reads.load(), 0);
  EXPECT_EQ(Tracked::deleted.load(), before + swaps);
  delete shared.load();
}

}  // namespace
}  // namespace tiny_coro
