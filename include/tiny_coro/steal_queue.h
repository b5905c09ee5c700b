// StealQueue<T>: the Chase–Lev work-stealing deque.
//
// Algorithm: D. Chase and Y. Lev, "Dynamic Circular Work-Stealing Deque", SPAA 2005, with the
// C11 memory orders proved correct by N. M. Lê, A. Pop, A. Cohen and F. Zappa Nardelli,
// "Correct and Efficient Work-Stealing for Weak Memory Models", PPoPP 2013.
//
// One owner thread pushes and pops at the bottom (LIFO: the task it just made is the one whose
// data is still in cache); any thread steals from the top (FIFO: the oldest, usually largest,
// piece of work). Indices are signed 64-bit and never wrap, which rules out ABA on top_.
// The ring doubles when full; the old ring may still be read by a thief that loaded the buffer
// pointer before the swap, so it is retired through EBR and freed only when no thief can be
// pinned on it. Slots are atomics read and written relaxed: after wrap-around a thief may read
// a slot the owner is overwriting, and the CAS on top_ then discards what it read.
//
// Light mode. The owner's claim of its newest slot (store bottom, then load top_) and a
// thief's (load top_, then bottom) are a Dekker pair, which needs a StoreLoad fence on each
// side; in a fork-join tree the owner's side runs once per node and the thief's a few dozen
// times a second. So pop_if_newest() skips its fence once the queue is in light mode, and a
// thief that finds the queue in light mode issues heavy_fence() (detail/asymmetric_fence.h),
// which stands for both fences. The mode's flag is set by the owner, then the owner fences
// (enter_light_mode), before its first claim without one; a thief reads it after its own
// fence. A thief that reads it unset has its fence ordered before the owner's (C++20
// [atomics.order]/4.4), and so every light claim after that fence loads a top_ no older than
// the one the thief loaded: the two never both take the last item. A thief that reads it set
// issues heavy_fence() between its loads. leave_light_mode() clears it with a release: a
// thief that reads the cleared flag sees every light claim before it. pop() keeps its fence:
// the worker's loop pops once for many take-backs.
//
// T must be trivially copyable and lock-free as std::atomic<T> (tiny_coro stores void*).
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <type_traits>

#include <tiny_coro/detail/asymmetric_fence.h>
#include <tiny_coro/detail/atomic.h>
#include <tiny_coro/detail/cache_padded.h>
#include <tiny_coro/ebr.h>

namespace tiny_coro {

enum class StealStatus {
  kEmpty,    // nothing to take
  kSuccess,  // `value` holds the stolen item
  kRetry,    // lost a race with the owner or another thief; the queue may still hold items
};

template <class T>
struct Stolen {
  StealStatus status;
  T value;
};

template <class T, std::size_t kInitialCapacity = 256>
class StealQueue {
  static_assert(std::is_trivially_copyable_v<T>, "StealQueue holds trivially copyable items");
  static_assert(std::atomic<T>::is_always_lock_free, "StealQueue slots must be lock-free atomics");
  static_assert(kInitialCapacity >= 2 && (kInitialCapacity & (kInitialCapacity - 1)) == 0,
                "capacity must be a power of two");

 public:
  // relaxed: nobody else has the queue yet.
  StealQueue() : buffer_(new Buffer(kInitialCapacity)) {
    owner_->see(*buffer_->load(std::memory_order_relaxed));
  }
  // relaxed: the owner's own last store; nobody else uses the queue any more.
  ~StealQueue() { delete buffer_->load(std::memory_order_relaxed); }
  StealQueue(const StealQueue&) = delete;
  StealQueue& operator=(const StealQueue&) = delete;

  // Owner only. Returns how many items the queue held with this one, as of the top it read
  // (thieves may have taken more since: an upper bound, like approx_size()).
  std::size_t push(T item) {
    const std::int64_t b = owner_->bottom.load(std::memory_order_relaxed);
    // acquire: pairs with the CAS of a thief, so the slot it took is free to overwrite.
    const std::int64_t t = top_->load(std::memory_order_acquire);
    // Is the ring full? Then double it; thieves keep reading the old one until EBR frees it.
    if (b - t >= owner_->capacity) [[unlikely]]
      grow(t, b);
    owner_->put(b, item);
    // release: publishes the slot; pairs with the acquire of bottom in steal().
    detail::publish(owner_->bottom, b + 1);
    return static_cast<std::size_t>(b + 1 - t);
  }

  // Owner only. push() without its two rarer cases: false, with nothing pushed, if the ring
  // is full (it must grow) or the queue is empty (the push that fills it may owe a wake-up).
  // Calls nothing, so an inline caller saves no registers for it (fork_queue.h).
  bool push_if_cheap(T item) noexcept {
    const std::int64_t b = owner_->bottom.load(std::memory_order_relaxed);
    // acquire: as in push().
    const std::int64_t t = top_->load(std::memory_order_acquire);
    const std::int64_t size = b - t;
    if (size <= 0 || size >= owner_->capacity) return false;
    owner_->put(b, item);
    // release: as in push().
    detail::publish(owner_->bottom, b + 1);
    return true;
  }

  // Owner only. LIFO: returns the most recently pushed item.
  std::optional<T> pop() noexcept {
    const std::int64_t b = owner_->bottom.load(std::memory_order_relaxed) - 1;
    // Claim the bottom slot before looking at top_: the seq_cst fence orders this store before
    // the load below, so a thief and the owner cannot both miss each other's claim.
    owner_->bottom.store(b, detail::around_fence(std::memory_order_relaxed));
    detail::fence_seq_cst();
    std::int64_t t = top_->load(detail::around_fence(std::memory_order_relaxed));
    if (t > b) {  // Empty: undo the claim.
      owner_->bottom.store(b + 1, std::memory_order_relaxed);
      return std::nullopt;
    }
    T item = owner_->get(b);
    if (t == b) {
      // The last item: race the thieves for it through top_, as they do.
      const bool won = top_->compare_exchange_strong(t, t + 1, std::memory_order_seq_cst,
                                                     std::memory_order_relaxed);
      owner_->bottom.store(b + 1, std::memory_order_relaxed);
      if (!won) return std::nullopt;
    }
    return item;
  }

  // Owner only. Pops the newest item if it is `item`; else changes nothing. A fork's child
  // takes its parent back this way once per tree node, so it runs in light mode (above):
  // its claim needs no fence of its own.
  bool pop_if_newest(const T& item) noexcept {
    // relaxed: ours alone.
    const std::int64_t b = owner_->bottom.load(std::memory_order_relaxed) - 1;
    // Only thieves act meanwhile, at the other end: slot b still holds what we put there
    // last, whether or not a thief has taken it since; the claim below tells which.
    if (owner_->get(b) != item) return false;
    // As pop(): claim slot b, then look at top_.
    owner_->bottom.store(b, detail::around_fence(std::memory_order_relaxed));
    // relaxed: only we write it.
    if (owner_->light.load(std::memory_order_relaxed)) [[likely]] {
      detail::light_fence();  // thieves issue heavy_fence() for us
    } else {
      enter_light_mode();  // fences, and on from the next claim thieves do
    }
    std::int64_t t = top_->load(detail::around_fence(std::memory_order_relaxed));
    if (t < b) return true;
    bool won = false;
    if (t == b) {
      won = top_->compare_exchange_strong(t, t + 1, std::memory_order_seq_cst,
                                          std::memory_order_relaxed);
    }
    owner_->bottom.store(b + 1, std::memory_order_relaxed);
    return won;
  }

  // Owner only. Back to a fenced claim at the next pop_if_newest() (which enters light mode
  // again), so that thieves stop paying heavy_fence() for a queue that no longer forks.
  void leave_light_mode() noexcept {
    // relaxed: only we write it.
    if (!owner_->light.load(std::memory_order_relaxed)) return;
    // release: pairs with a thief's acquire; a thief that reads false sees our claims so far.
    owner_->light.store(false, std::memory_order_release);
  }
  // Any thread: whether thieves pay heavy_fence() for this queue now (tests, statistics).
  bool in_light_mode() const noexcept {
    return owner_->light.load(std::memory_order_relaxed);  // relaxed: a snapshot
  }

  // Any thread. FIFO: takes the oldest item.
  Stolen<T> steal() noexcept {
    // acquire: pairs with a previous thief's CAS of top_ (its slot read happened before).
    std::int64_t t = top_->load(detail::around_fence(std::memory_order_acquire));
    // Keeps the ring we read from alive even if the owner grows it meanwhile. Pinning issues
    // the full fence that must separate the loads of top_ and bottom (ordering us against
    // pop()'s claim), so a fresh pin saves the second one, as in crossbeam's steal().
    EbrGuard guard;
    if (!guard.fenced()) detail::fence_seq_cst();
    // acquire: pairs with the release in push(), making the slot's content visible.
    std::int64_t b = owner_->bottom.load(detail::around_fence(std::memory_order_acquire));
    if (t >= b) return {StealStatus::kEmpty, T{}};
    // Read after our fence (the mode's proof needs it there). acquire: pairs with the
    // release in leave_light_mode(), so the owner's claims before it are seen below.
    if (owner_->light.load(std::memory_order_acquire)) [[unlikely]] {
      detail::heavy_fence();  // the owner's claims skip their fence: this is both halves
      b = owner_->bottom.load(std::memory_order_acquire);  // acquire: as above
      if (t >= b) return {StealStatus::kEmpty, T{}};
    }
    // acquire: pairs with the release store in grow(), so the new ring's copied slots are seen.
    Buffer* buffer = buffer_->load(std::memory_order_acquire);
    T item = buffer->get(t);
    // Did the owner or another thief take slot t first? Then what we read may be stale.
    if (!top_->compare_exchange_strong(t, t + 1, std::memory_order_seq_cst,
                                       std::memory_order_relaxed)) {
      return {StealStatus::kRetry, T{}};
    }
    return {StealStatus::kSuccess, item};
  }

  // Owner only. Takes the `out.size()` oldest items at once (a single CAS on top_) if the
  // queue holds at least that many plus `keep`; returns how many it took (all or nothing).
  // Safe without the pop() protocol because the owner is the only one that moves bottom:
  // nothing can claim items at that end meanwhile, and thieves racing for the top lose their
  // CAS (or make ours fail, and we retry with the new top). Used to spill half of a full
  // queue to the global queue in one piece, as Tokio's push_overflow does.
  std::size_t take_oldest(std::span<T> out, std::size_t keep) noexcept {
    const auto n = static_cast<std::int64_t>(out.size());
    const std::int64_t b = owner_->bottom.load(std::memory_order_relaxed);
    // acquire: pairs with the CAS of a thief, whose slot read happened before it.
    std::int64_t t = top_->load(std::memory_order_acquire);
    for (;;) {
      if (b - t < n + static_cast<std::int64_t>(keep)) return 0;
      for (std::int64_t i = 0; i < n; ++i) out[static_cast<std::size_t>(i)] = owner_->get(t + i);
      // On failure `t` is reloaded (acquire, as above) and we try again.
      if (top_->compare_exchange_strong(t, t + n, std::memory_order_seq_cst,
                                        std::memory_order_acquire)) {
        return out.size();
      }
    }
  }

  // Racy snapshot for heuristics (parking decisions, stats); exact only when quiescent.
  std::size_t approx_size() const noexcept {
    const std::int64_t b = owner_->bottom.load(std::memory_order_relaxed);
    const std::int64_t t = top_->load(std::memory_order_relaxed);
    return b > t ? static_cast<std::size_t>(b - t) : 0;
  }
  bool approx_empty() const noexcept { return approx_size() == 0; }

  // Calls visit(item) for each queued item, oldest first. Only while no thread pushes, pops or
  // steals (the scheduler's task dump, with every worker paused).
  template <class Visit>
  void for_each_while_quiescent(Visit&& visit) const {
    // relaxed: the caller's pause handshake orders these after the last change.
    const Buffer* buffer = buffer_->load(std::memory_order_relaxed);
    const std::int64_t b = owner_->bottom.load(std::memory_order_relaxed);
    for (std::int64_t i = top_->load(std::memory_order_relaxed); i < b; ++i) visit(buffer->get(i));
  }

  // Owner or any thread once no one else uses the queue (tests, statistics).
  std::size_t capacity() const noexcept {
    return static_cast<std::size_t>(buffer_->load(std::memory_order_acquire)->capacity);
  }

 private:
  struct Buffer {
    explicit Buffer(std::int64_t cap)
        : capacity(cap), mask(cap - 1), slots(new std::atomic<T>[static_cast<std::size_t>(cap)]) {}
    // relaxed: a slot is ordered by bottom/top_ (the owner's release of bottom, a thief's
    // acquire of it and its CAS on top_); atomic only so a thief's racy read is defined.
    T get(std::int64_t i) const noexcept { return slots[i & mask].load(std::memory_order_relaxed); }
    void put(std::int64_t i, T v) noexcept { slots[i & mask].store(v, std::memory_order_relaxed); }

    const std::int64_t capacity;
    const std::int64_t mask;
    std::unique_ptr<std::atomic<T>[]> slots;
  };

  [[gnu::noinline]] void grow(std::int64_t t, std::int64_t b) {
    Buffer* old = buffer_->load(std::memory_order_relaxed);  // relaxed: only we store it
    auto* bigger = new Buffer(old->capacity * 2);
    for (std::int64_t i = t; i < b; ++i) bigger->put(i, old->get(i));
    // release: the copied slots are visible to a thief that acquires the new pointer
    // (seq_cst under TSan, standing in for the fence retire() issues right after).
    buffer_->store(bigger, detail::around_fence(std::memory_order_release));
    owner_->see(*bigger);
    EbrManager::get().retire(EbrManager::local(), old);
  }

  // Enters light mode where the system offers heavy_fence(), and fences this claim either way.
  [[gnu::noinline]] void enter_light_mode() noexcept {
    if (detail::asymmetric_fences_available()) {
      // relaxed: the fence below orders it before every claim that skips its own.
      owner_->light.store(true, std::memory_order_relaxed);
    }
    detail::fence_seq_cst();
  }

  // The owner's line. Thieves read `bottom` and `light` here; the rest is the owner's own
  // copy of the current ring, so that a push or a take-back finds its slot two dependent
  // loads from the queue instead of four (queue, ring, slots, slot): that chain was the
  // hottest spot of a fork in a profile of fib.
  struct OwnerLine {
    std::atomic<std::int64_t> bottom{0};  // written by the owner only
    // Light mode (above): written by the owner only, read by every steal after `bottom`.
    std::atomic<bool> light{false};
    std::atomic<T>* slots = nullptr;
    std::int64_t mask = 0;
    std::int64_t capacity = 0;

    void see(const Buffer& ring) noexcept {
      slots = ring.slots.get();
      mask = ring.mask;
      capacity = ring.capacity;
    }
    // relaxed: as Buffer's.
    T get(std::int64_t i) const noexcept { return slots[i & mask].load(std::memory_order_relaxed); }
    void put(std::int64_t i, T v) noexcept { slots[i & mask].store(v, std::memory_order_relaxed); }
  };

  detail::CachePadded<std::atomic<std::int64_t>> top_{0};  // thieves (and a last-item pop) CAS
  detail::CachePadded<OwnerLine> owner_;
  detail::CachePadded<std::atomic<Buffer*>> buffer_;
};

}  // namespace tiny_coro
