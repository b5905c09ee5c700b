// GlobalQueue<T>: the injection queue for work submitted from outside the workers (main,
// the reactor thread) and for overflow. A mutex-protected deque: contention is rare because
// workers visit it only every few dozen tasks or when their own queue ran dry, and they take
// a batch per visit. A separate atomic length lets them skip the lock when it is empty.
#pragma once

#include <atomic>
#include <cstddef>
#include <deque>
#include <mutex>
#include <optional>
#include <span>

#include <tiny_coro/detail/cache_padded.h>
#include <tiny_coro/spinlock.h>

namespace tiny_coro {

template <class T>
class GlobalQueue {
 public:
  void push(T item) {
    auto lock = acquire();
    items_.push_back(std::move(item));
    // release not needed: the length is a hint; consumers re-check under the mutex.
    length_->store(items_.size(), std::memory_order_relaxed);
  }

  void push_batch(std::span<T> batch) {
    push_batch(batch, [](const T& item) { return item; });
  }

  // Pushes project(x) for each x of `batch`, under one lock acquisition.
  template <class U, class Project>
  void push_batch(std::span<U> batch, Project project) {
    if (batch.empty()) return;
    auto lock = acquire();
    for (auto& item : batch) items_.push_back(project(item));
    length_->store(items_.size(), std::memory_order_relaxed);  // relaxed: a hint (approx_size)
  }

  std::optional<T> try_pop() {
    if (approx_empty()) return std::nullopt;
    auto lock = acquire();
    if (items_.empty()) return std::nullopt;
    T item = std::move(items_.front());
    items_.pop_front();
    length_->store(items_.size(), std::memory_order_relaxed);  // relaxed: a hint (approx_size)
    return item;
  }

  // Moves up to `max` items, oldest first, into `out` via out(item). Returns how many.
  template <class Sink>
  std::size_t pop_batch(std::size_t max, Sink&& out) {
    if (approx_empty()) return 0;
    auto lock = acquire();
    std::size_t n = 0;
    while (n < max && !items_.empty()) {
      out(std::move(items_.front()));
      items_.pop_front();
      ++n;
    }
    length_->store(items_.size(), std::memory_order_relaxed);  // relaxed: a hint (approx_size)
    return n;
  }

  // Racy snapshot; a worker that is about to park re-checks after its StoreLoad barrier.
  std::size_t approx_size() const noexcept { return length_->load(std::memory_order_relaxed); }
  bool approx_empty() const noexcept { return approx_size() == 0; }

  // Calls visit(item) for each queued item, under the queue's lock (the task dump).
  template <class Visit>
  void for_each_locked(Visit&& visit) {
    auto lock = acquire();
    for (const T& item : items_) visit(item);
  }

  void clear() {
    auto lock = acquire();
    items_.clear();
    length_->store(0, std::memory_order_relaxed);  // relaxed: a hint (approx_size)
  }

 private:
  // The mutex, taken adaptively: critical sections here are a few hundred nanoseconds, so a
  // contended lock (a producer spilling a batch while a thief takes one) is usually free
  // again before a futex sleep and wake-up would even start. Sleeping on it made a quarter
  // of spawn_many's time kernel context switches.
  std::unique_lock<std::mutex> acquire() {
    std::unique_lock lock(mutex_, std::try_to_lock);
    for (int spin = 0; !lock.owns_lock() && spin < kSpinsBeforeBlocking; ++spin) {
      detail::cpu_relax();
      (void)lock.try_lock();
    }
    if (!lock.owns_lock()) lock.lock();
    return lock;
  }
  static constexpr int kSpinsBeforeBlocking = 200;

  std::mutex mutex_;
  std::deque<T> items_;
  // Its own line: idle workers poll it while searching; pushes and pops write it.
  detail::CachePadded<std::atomic<std::size_t>> length_{0};
};

}  // namespace tiny_coro
