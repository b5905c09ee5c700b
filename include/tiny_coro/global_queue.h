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

namespace tiny_coro {

template <class T>
class GlobalQueue {
 public:
  void push(T item) {
    std::lock_guard lock(mutex_);
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
    std::lock_guard lock(mutex_);
    for (auto& item : batch) items_.push_back(project(item));
    length_->store(items_.size(), std::memory_order_relaxed);
  }

  std::optional<T> try_pop() {
    if (approx_empty()) return std::nullopt;
    std::lock_guard lock(mutex_);
    if (items_.empty()) return std::nullopt;
    T item = std::move(items_.front());
    items_.pop_front();
    length_->store(items_.size(), std::memory_order_relaxed);
    return item;
  }

  // Moves up to `max` items, oldest first, into `out` via out(item). Returns how many.
  template <class Sink>
  std::size_t pop_batch(std::size_t max, Sink&& out) {
    if (approx_empty()) return 0;
    std::lock_guard lock(mutex_);
    std::size_t n = 0;
    while (n < max && !items_.empty()) {
      out(std::move(items_.front()));
      items_.pop_front();
      ++n;
    }
    length_->store(items_.size(), std::memory_order_relaxed);
    return n;
  }

  // Racy snapshot; a worker that is about to park re-checks after its StoreLoad barrier.
  std::size_t approx_size() const noexcept { return length_->load(std::memory_order_relaxed); }
  bool approx_empty() const noexcept { return approx_size() == 0; }

  void clear() {
    std::lock_guard lock(mutex_);
    items_.clear();
    length_->store(0, std::memory_order_relaxed);
  }

 private:
  std::mutex mutex_;
  std::deque<T> items_;
  // Its own line: idle workers poll it while searching; pushes and pops write it.
  detail::CachePadded<std::atomic<std::size_t>> length_{0};
};

}  // namespace tiny_coro
