// BoundedRing<T>: the lock-free buffer behind a Channel with capacity > 0 — a fixed array of
// slots shared by any number of pushers and poppers (Vyukov's bounded MPMC queue, with the
// closed bit that crossbeam-channel's array flavour keeps in its tail).
//
// Protocol. `head_` and `tail_` count positions for ever (64 bits never wrap in practice);
// position p lives in slot p % capacity. Each slot carries a sequence number saying whose
// turn it is:
//   sequence == 2p             the slot is free for the push of position p;
//   sequence == 2p + 1         the push of p has written its value; the pop of p may take it;
//   sequence == 2(p + cap)     the pop of p is done; the slot is free for position p + cap.
// (Doubling keeps "written" and "free again" apart even for a capacity of 1.)
// A pusher claims position p by moving `tail_` from p to p + 1 with a CAS, then writes the
// value, then publishes it through the sequence; a popper does the mirror on `head_`. A
// claimer that finds a slot still owned by the previous lap decides full/empty from the
// other index, and if the ring is not full/empty after all, the other side is half-way
// through that slot: it spins briefly (the owner finishes in a few instructions).
//
// The closed bit lives in `tail_` (bit 0; positions are stored shifted left by one), so a
// push after close fails in the same CAS that would have claimed a slot, and a pop reports
// "closed" only when the ring is empty: close never loses what was buffered.
//
// Full/empty decisions read the other index with seq_cst, and both indices move by seq_cst
// CAS: Channel's wait protocol (channel.h) relies on that to pair a waiter's "I am waiting"
// flag with a peer's push or pop (a store-load pairing that needs no separate fence on x86,
// where the CAS is already a full barrier).
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <new>
#include <optional>
#include <thread>
#include <type_traits>
#include <utility>

#include <tiny_coro/detail/cache_padded.h>
#include <tiny_coro/spinlock.h>

namespace tiny_coro::detail {

enum class RingStatus {
  kDone,     // pushed / popped
  kBlocked,  // full (push) or empty (pop)
  kClosed,   // push: the ring is closed; pop: closed and empty
};

template <class T>
class BoundedRing {
  static_assert(std::is_nothrow_move_constructible_v<T>,
                "a value must move into and out of a slot without throwing");

 public:
  explicit BoundedRing(std::size_t capacity)
      : slots_(std::make_unique<Slot[]>(capacity)),
        capacity_(capacity),
        index_mask_((capacity & (capacity - 1)) == 0 ? capacity - 1 : 0) {
    for (std::size_t i = 0; i < capacity; ++i) {
      slots_[i].sequence.store(free_turn(i), std::memory_order_relaxed);  // before any sharing
    }
  }
  BoundedRing(const BoundedRing&) = delete;
  BoundedRing& operator=(const BoundedRing&) = delete;
  // Precondition: no operation is in flight.
  ~BoundedRing() {
    // acquire: pairs with the release store that ended the last operation on each slot, so
    // that operation's slot accesses happen before the slots are freed even when the
    // destroying thread never synchronised with the workers otherwise (the manual's Example
    // 2 only sleeps). What a channel operation does after its ring step (reading the waiting
    // flags) is still covered only by the precondition.
    for (std::size_t i = 0; i < capacity_; ++i) {
      (void)slots_[i].sequence.load(std::memory_order_acquire);
    }
    // acquire: pairs with closed_seen(), for operations that ended by reading "closed".
    (void)tail_->load(std::memory_order_acquire);
    const std::uint64_t end = tail_->load(std::memory_order_relaxed) >> 1;
    for (std::uint64_t pos = head_->load(std::memory_order_relaxed); pos < end; ++pos) {
      slot(pos).value()->~T();
    }
  }

  std::size_t capacity() const noexcept { return capacity_; }

  // Claims a slot and constructs the value there with make(), which must not throw; make()
  // is called only once a slot is ours, so a push that fails leaves the caller's value alone.
  template <class Make>
  RingStatus try_push(Make&& make) noexcept {
    static_assert(std::is_nothrow_invocable_v<Make&&>, "make() runs after the slot is claimed");
    unsigned spins = 0;
    unsigned failures = 0;
    // relaxed: a starting guess; the slot's sequence and the CAS below validate it.
    std::uint64_t tail = tail_->load(std::memory_order_relaxed);
    for (;;) {
      if ((tail & kClosedBit) != 0) return closed_seen();
      const std::uint64_t pos = tail >> 1;
      Slot& target = slot(pos);
      // acquire: pairs with the release in try_pop that freed this slot, so our write to it
      // comes after the previous value was moved out.
      const std::uint64_t sequence = target.sequence.load(std::memory_order_acquire);
      if (sequence == free_turn(pos)) {
        // seq_cst: the success order is what the wait protocol pairs with (see the top).
        if (tail_->compare_exchange_weak(tail, tail + 2, std::memory_order_seq_cst,
                                         std::memory_order_relaxed)) {
          ::new (static_cast<void*>(target.storage)) T(std::forward<Make>(make)());
          // release: publishes the value to the pop that acquires this sequence.
          target.sequence.store(written_turn(pos), std::memory_order_release);
          return RingStatus::kDone;
        }
        contention_pause(failures);
        continue;  // the failed CAS reloaded `tail`
      }
      if (sequence < free_turn(pos)) {  // still holds the value from one lap ago
        if (head_->load(std::memory_order_seq_cst) + capacity_ <= pos) return RingStatus::kBlocked;
        back_off(spins);  // a popper has claimed it and is moving the value out
      }
      tail = tail_->load(std::memory_order_relaxed);  // relaxed: revalidated as above
    }
  }

  RingStatus try_pop(std::optional<T>& out) noexcept {
    unsigned spins = 0;
    unsigned failures = 0;
    // relaxed: a starting guess; the slot's sequence and the CAS below validate it.
    std::uint64_t head = head_->load(std::memory_order_relaxed);
    for (;;) {
      Slot& target = slot(head);
      // acquire: pairs with the release in try_push, so the value written there is visible.
      const std::uint64_t sequence = target.sequence.load(std::memory_order_acquire);
      if (sequence == written_turn(head)) {
        // seq_cst: the success order is what the wait protocol pairs with (see the top).
        if (head_->compare_exchange_weak(head, head + 1, std::memory_order_seq_cst,
                                         std::memory_order_relaxed)) {
          T* value = target.value();
          out.emplace(std::move(*value));
          value->~T();
          // release: the move above happens before the next lap's push reuses the slot.
          target.sequence.store(free_turn(head + capacity_), std::memory_order_release);
          return RingStatus::kDone;
        }
        contention_pause(failures);
        continue;  // the failed CAS reloaded `head`
      }
      if (sequence < written_turn(head)) {  // nothing written here for this lap yet
        const std::uint64_t tail = tail_->load(std::memory_order_seq_cst);
        if ((tail >> 1) <= head) {
          return (tail & kClosedBit) != 0 ? closed_seen() : RingStatus::kBlocked;
        }
        back_off(spins);  // a pusher has claimed it and is writing the value
      }
      head = head_->load(std::memory_order_relaxed);  // relaxed: revalidated as above
    }
  }

  // True for the call that closed the ring. Pushes fail from then on; pops drain.
  bool close() noexcept { return (tail_->fetch_or(kClosedBit) & kClosedBit) == 0; }
  bool closed() const noexcept { return (tail_->load() & kClosedBit) != 0; }
  // Snapshots, exact only while nobody pushes or pops: hints for whether a waiter can be served.
  bool empty() const noexcept { return (tail_->load() >> 1) <= head_->load(); }
  bool full() const noexcept { return head_->load() + capacity_ <= (tail_->load() >> 1); }

 private:
  static constexpr std::uint64_t kClosedBit = 1;

  struct Slot {
    std::atomic<std::uint64_t> sequence;
    alignas(T) unsigned char storage[sizeof(T)];
    T* value() noexcept { return std::launder(reinterpret_cast<T*>(storage)); }
  };

  // An operation that only read the ring, finding it closed, is typically a task's last
  // touch of it (a receiver's final nullopt). A release RMW on `tail_` lets the destructor's
  // acquire order that read before the free; it runs once per closing task, so its cost
  // does not matter.
  RingStatus closed_seen() noexcept {
    tail_->fetch_add(0, std::memory_order_release);
    return RingStatus::kClosed;
  }

  static constexpr std::uint64_t free_turn(std::uint64_t pos) noexcept { return 2 * pos; }
  static constexpr std::uint64_t written_turn(std::uint64_t pos) noexcept { return 2 * pos + 1; }

  Slot& slot(std::uint64_t pos) const noexcept {
    return slots_[index_mask_ != 0 ? pos & index_mask_ : pos % capacity_];
  }

  // A CAS lost to another core: the index line is bouncing between cores. Backing off
  // (exponentially, bounded) lets the winner run a burst of operations while the line stays
  // in its cache, instead of paying a cross-core transfer per operation on both sides. On the
  // 2-core machine in docs/BENCHMARKS.md this took mpmc from ~75 to ~20 ns per item.
  static void contention_pause(unsigned& failures) noexcept {
    constexpr unsigned kBasePauses = 16;
    constexpr unsigned kMaxDoublings = 4;
    const unsigned pauses = kBasePauses << (failures < kMaxDoublings ? failures : kMaxDoublings);
    ++failures;
    for (unsigned i = 0; i < pauses; ++i) cpu_relax();
  }
  // The other side is between its CAS and its sequence store. Spin a little; if it was
  // preempted there, give the CPU away rather than burn the rest of our time slice.
  static void back_off(unsigned& spins) noexcept {
    if (++spins < 64) {
      cpu_relax();
    } else {
      std::this_thread::yield();
    }
  }

  // Read by everyone, written never: kept off the lines the indices bounce on.
  const std::unique_ptr<Slot[]> slots_;
  const std::size_t capacity_;
  const std::size_t index_mask_;  // capacity - 1 for a power of two, else 0 (use %)
  CachePadded<std::atomic<std::uint64_t>> head_{0};
  CachePadded<std::atomic<std::uint64_t>> tail_{0};  // position << 1 | closed bit
};

}  // namespace tiny_coro::detail
