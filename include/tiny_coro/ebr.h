// Epoch-based reclamation (Fraser, "Practical lock-freedom", 2004; crossbeam-epoch).
//
// What it protects: memory that a lock-free reader may still be looking at after a writer has
// unlinked it — in tiny_coro, a StealQueue ring buffer replaced by a larger one while thieves
// may still read slots of the old one. (ABA on the queue indices is ruled out separately, by
// 64-bit indices that never wrap.)
//
// Protocol:
//   * A global epoch counter only ever increases.
//   * A reader pins itself (EbrGuard) before touching shared memory: it records the global
//     epoch it saw in its LocalState, then issues a full fence so the record is visible before
//     any of its reads. It must not suspend, park or block while pinned.
//   * retire(p) files p under the current global epoch e in the caller's bag.
//   * The epoch advances from e to e+1 only when every pinned thread has recorded e. Hence once
//     the global epoch reaches e+2, no thread can still be pinned in an epoch <= e, and
//     everything retired in e is unreachable: it is freed.
//   * A thread that unregisters hands its unfreed garbage to the manager's orphan bag, which
//     is freed as soon as the epoch has moved on far enough. The manager itself lives until
//     the process ends (threads of a static Scheduler may unregister during exit).
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <mutex>
#include <vector>

#include <tiny_coro/detail/atomic.h>

namespace tiny_coro {

class EbrManager {
 public:
  // One participating thread. Owned by the manager; stays valid until unregister_thread().
  struct LocalState {
    // 0 when not pinned, else (epoch << 1) | 1. Written by the owner, read by advancers.
    std::atomic<std::uint64_t> pinned{0};
    // Owner only: how many EbrGuards are open on this thread (guards nest).
    std::uint32_t pin_depth = 0;
    // Owner only: retires since the last collection attempt.
    std::uint32_t retires_since_collect = 0;
    struct Retired {
      void* ptr;
      void (*deleter)(void*);
      std::uint64_t epoch;
    };
    std::vector<Retired> garbage;  // owner only
  };

  static EbrManager& get();

  // Registers the calling thread (once; later calls return the same state) so it may pin and
  // retire. Worker threads call it when they start.
  LocalState* register_thread();
  // The calling thread's state, registering it first if needed.
  static LocalState* local();
  // Leaves the protocol: pending garbage moves to the orphan bag. `state` must be unpinned.
  void unregister_thread(LocalState* state);

  // Marks `ptr` for deletion once no pinned thread can still observe it.
  template <class T>
  void retire(LocalState* state, T* ptr) {
    retire_raw(state, ptr, [](void* p) { delete static_cast<T*>(p); });
  }
  void retire_raw(LocalState* state, void* ptr, void (*deleter)(void*));

  // Tries to advance the epoch and frees every bag that has become unreachable.
  // Returns how many objects it freed.
  std::size_t collect(LocalState* state);

  std::uint64_t epoch() const noexcept { return global_epoch_.load(std::memory_order_acquire); }

  // Returns true if this call pinned the thread, which includes a full fence (callers that
  // need one right here may skip their own).
  bool pin(LocalState* state) noexcept {
    if (state->pin_depth++ != 0) return false;
    // relaxed load: any recent epoch is safe to record; advancing past it needs our consent.
    const std::uint64_t e = global_epoch_.load(std::memory_order_relaxed);
    state->pinned.store((e << 1) | 1, detail::around_fence(std::memory_order_relaxed));
    // StoreLoad: our pin must be visible to advancers before we read any shared pointer.
    detail::fence_seq_cst();
    return true;
  }
  void unpin(LocalState* state) noexcept {
    if (--state->pin_depth != 0) return;
    // release: our reads of shared memory happen-before an advancer that sees us unpinned
    // (pairs with the acquire load of `pinned` in try_advance).
    state->pinned.store(0, std::memory_order_release);
  }

  EbrManager(const EbrManager&) = delete;
  EbrManager& operator=(const EbrManager&) = delete;

 private:
  EbrManager() = default;
  ~EbrManager() = default;
  bool try_advance();
  std::size_t collect_orphans();
  std::size_t free_reachable_garbage(std::vector<LocalState::Retired>& bag, std::uint64_t now);

  std::atomic<std::uint64_t> global_epoch_{1};
  std::mutex registry_mutex_;  // guards participants_ and orphans_
  std::vector<LocalState*> participants_;
  std::vector<LocalState::Retired> orphans_;
};

// Pins the current thread for its scope. Never hold one across a suspension point or a park.
class EbrGuard {
 public:
  explicit EbrGuard(EbrManager::LocalState* state) noexcept
      : state_(state), fenced_(EbrManager::get().pin(state_)) {}
  EbrGuard() noexcept : EbrGuard(EbrManager::local()) {}
  ~EbrGuard() { EbrManager::get().unpin(state_); }
  EbrGuard(const EbrGuard&) = delete;
  EbrGuard& operator=(const EbrGuard&) = delete;

  // True if entering this guard issued a full fence (it was the outermost guard).
  bool fenced() const noexcept { return fenced_; }

 private:
  EbrManager::LocalState* state_;
  bool fenced_;
};

}  // namespace tiny_coro

#ifndef TINY_CORO_NO_GLOBAL_NAMES
using tiny_coro::EbrGuard;
using tiny_coro::EbrManager;
#endif
