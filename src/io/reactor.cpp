// The reactor's round — poll() when a worker drives it, run_once() on its own thread
// (docs/ARCHITECTURE.md, "Reactor"):
//   1. Timeout: the earliest armed deadline (or none) becomes epoll's timeout, and is recorded
//      as sleeping_until_ so that arming an earlier timer knows to ring the doorbell.
//   2. Wait: epoll_pwait2 with nanosecond precision.
//   3. Dispatch: the doorbell is drained; each I/O source (io_source.h) bumps its ticks and
//      hands over its waiters under its own lock; each fd registered through the manual's
//      one-shot register_read/register_write hands over its waiter under the reactor lock.
//   4. Due timers: every node whose deadline is <= now is unlinked.
//   5. Hand-off: nothing is resumed inside the round, so no task runs while a reactor lock
//      or the driver lock is held. run_once() gives the batch to the scheduler (one queue
//      lock, at most one worker woken): its thread never runs a task. poll() appends it to
//      the caller's vector; that worker unlocks the driver, queues the batch on itself and
//      runs it (others may steal from it): a task whose socket became ready runs on the
//      thread that saw the event, without a hop to another worker.
//
// Locking: one mutex guards the timer heap, the one-shot fd table and sleeping_until_. Workers
// take it to arm and cancel; the reactor takes it in phases 1, 3 and 4, never while in epoll.
// A timer's on_expire callback runs under it and may take an IoSource's lock; nothing takes
// them in the other order.
#include <tiny_coro/reactor.h>

#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <cassert>
#include <chrono>
#include <mutex>
#include <system_error>
#include <thread>
#include <unordered_map>
#include <vector>

#include <tiny_coro/detail/atomic.h>

#include "io/io_source.h"
#include "io/io_source_pool.h"
#include "io/timer_heap.h"
#include "platform/epoll.h"
#include "platform/event_fd.h"
#include "platform/signal_mask.h"

namespace tiny_coro {

namespace {
// epoll_event.data: the doorbell; or an fd of the one-shot table, (fd << 8) | kFdTag; or an
// I/O source, (index << 32) | (generation mod 2^24) << 8 | kSourceTag.
constexpr std::uint64_t kDoorbellKey = ~std::uint64_t{0};
constexpr std::uint64_t kFdTag = 1;
constexpr std::uint64_t kSourceTag = 2;
constexpr std::uint32_t kGenerationMask = 0xffffff;

std::uint64_t fd_key(int fd) noexcept { return (static_cast<std::uint64_t>(fd) << 8) | kFdTag; }
std::uint64_t source_key(const detail::IoSource& source) noexcept {
  return (static_cast<std::uint64_t>(source.index) << 32) |
         (static_cast<std::uint64_t>(source.generation & kGenerationMask) << 8) | kSourceTag;
}
// Events per epoll_wait; more just wait for the next round. Small on purpose: the worker
// that polls queues the whole batch on itself, so every event it takes waits behind the
// ones before it, while an event left in epoll goes to whichever worker polls next.
// Measured: with 256 the echo benchmark's p99 was 2-3x Asio's; with 32 it matched Asio's;
// with 8, tiny_httpd's site mix (2 workers, wrk on the same cores) has a p99 about 1 ms
// lower than with 32 (median 5.8 against 7.0 ms in alternating rounds), and the 13-byte case
// on one worker, where more epoll_waits per request would show, costs no more CPU per request.
constexpr std::size_t kEventsPerWait = 8;

struct FdWaiters {
  std::coroutine_handle<> reader;
  std::coroutine_handle<> writer;
  bool in_epoll = false;
};
}  // namespace

class Reactor::Impl {
 public:
  Impl(Reactor& owner, detail::Executor& executor, NowFunction clock)
      : executor_(executor), now_(clock), sources_(owner) {
    if (int err = epoll_.add(doorbell_.fd(), EPOLLIN, kDoorbellKey); err != 0) {
      errno = err;
      detail::throw_errno("epoll_ctl(eventfd)");
    }
  }

  ~Impl() {
    stop();
    // Whatever is still armed was orphaned by a frame that outlived the scheduler's shutdown;
    // free the nodes we own, forget the rest.
    while (!timers_.empty()) {
      TimerNode& node = timers_.pop();
      if (node.owned_by_reactor) delete static_cast<HandleTimer*>(&node);
    }
  }

  void start() {
    if (thread_.joinable()) return;
    // relaxed: the thread is created after this store, which orders it.
    stopping_.store(false, std::memory_order_relaxed);
    const detail::AsyncSignalsBlocked blocked;  // tasks may run here (platform/signal_mask.h)
    thread_ = std::thread([this] { run(); });
  }

  void stop() {
    if (!thread_.joinable()) return;
    // release: pairs with the acquire load in run(); the doorbell makes the thread look.
    stopping_.store(true, std::memory_order_release);
    doorbell_.notify();
    thread_.join();
  }

  void arm(TimerNode& node) {
    assert(node.on_expire != nullptr && "a TimerNode says what its expiry does");
    bool ring = false;
    {
      std::lock_guard lock(mutex_);
      timers_.push(node);
      interest_.fetch_add(1, std::memory_order_relaxed);  // relaxed: a hint (has_interest)
      if (timers_.top() == &node && node.deadline < sleeping_until_) {
        sleeping_until_ = node.deadline;  // one doorbell per earlier deadline, not per timer
        ring = true;
      }
    }
    if (ring) doorbell_.notify();
  }

  bool cancel(TimerNode& node) noexcept {
    std::lock_guard lock(mutex_);
    const bool removed = timers_.remove(node);
    if (removed) interest_.fetch_sub(1, std::memory_order_relaxed);  // relaxed: a hint
    return removed;
  }

  bool try_lock_driver() noexcept {
    // acquire: pairs with unlock_driver(), so this poller sees everything the last one did
    // outside the locks (events_, the doorbell's state).
    return !driver_.exchange(true, std::memory_order_acquire);
  }
  // The note and the unlock form a store-load pair (Dekker): each side writes, fences, then
  // reads the other's variable, so a caller whose second try fails is seen by the holder's
  // unlock, which hands the wake-up to the executor.
  bool lock_driver_or_note() noexcept {
    if (try_lock_driver()) return true;
    driver_wanted_.store(true, detail::around_fence(std::memory_order_relaxed));
    detail::fence_seq_cst();  // StoreLoad: pairs with the fence in unlock_driver()
    return !driver_.exchange(true, detail::around_fence(std::memory_order_acquire));
  }
  void unlock_driver() noexcept {
    driver_.store(false, detail::around_fence(std::memory_order_release));
    detail::fence_seq_cst();  // StoreLoad: pairs with the fence in lock_driver_or_note()
    // Read before the exchange: the note is rarely set, and a plain read leaves its cache
    // line shared instead of pulling it over from the core that last wrote it.
    if (driver_wanted_.load(detail::around_fence(std::memory_order_relaxed)) &&
        driver_wanted_.exchange(false)) {
      executor_.driver_wanted();
    }
  }

  void poll(std::chrono::nanoseconds max_wait, std::vector<std::coroutine_handle<>>& ready) {
    std::chrono::nanoseconds timeout = next_timeout();
    if (max_wait.count() >= 0 && (timeout.count() < 0 || max_wait < timeout)) timeout = max_wait;
    const int count = epoll_.wait(events_, timeout);
    dispatch_io(std::span(events_.data(), static_cast<std::size_t>(count)), ready);
    collect_due_timers(ready);
  }

  bool has_interest() const noexcept {
    return interest_.load(std::memory_order_relaxed) > 0;  // relaxed: a hint
  }

  std::size_t pending_timers() {
    std::lock_guard lock(mutex_);
    return timers_.size();
  }

  std::size_t io_sources() {
    // relaxed: a statistic.
    const long attached = sources_attached_.load(std::memory_order_relaxed);
    std::lock_guard lock(mutex_);
    return fds_.size() + static_cast<std::size_t>(attached > 0 ? attached : 0);
  }

  void release_spare_memory() {
    std::lock_guard lock(mutex_);
    timers_.shrink();
  }

  TimePoint next_deadline() {
    std::lock_guard lock(mutex_);
    const TimerNode* earliest = timers_.top();
    return earliest != nullptr ? earliest->deadline : TimePoint::max();
  }

  void wake() noexcept { doorbell_.notify(); }

  void watch(int fd, std::coroutine_handle<> handle, bool for_write) {
    int err = 0;
    {
      std::lock_guard lock(mutex_);
      FdWaiters& waiters = fds_[fd];
      (for_write ? waiters.writer : waiters.reader) = handle;
      const std::uint32_t events = interest(waiters);
      const std::uint64_t key = fd_key(fd);
      err = waiters.in_epoll ? epoll_.modify(fd, events, key) : epoll_.add(fd, events, key);
      if (err == 0) {
        waiters.in_epoll = true;
        interest_.fetch_add(1, std::memory_order_relaxed);  // relaxed: a hint
      } else {
        (for_write ? waiters.writer : waiters.reader) = nullptr;
      }
    }
    // epoll refuses this fd (a regular file, a closed fd): let the waiter retry its syscall
    // at once and see the real error there, instead of sleeping forever.
    if (err != 0) executor_.schedule(handle);
  }

  detail::IoSource& attach(int fd) {
    detail::IoSource& source = sources_.acquire();
    std::uint64_t key = 0;
    {
      std::lock_guard lock(source.lock);
      source.fd = fd;
      source.closed = false;
      source.read_drained = false;
      source.read_shortcut = false;
      source.read_closed.store(false, std::memory_order_relaxed);  // published by the lock
      key = source_key(source);
    }
    // Both directions, edge-triggered, once for the socket's whole life (io_source.h).
    if (int err = epoll_.add(fd, EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLPRI | EPOLLET, key);
        err != 0) {
      {
        std::lock_guard lock(source.lock);
        source.closed = true;
        source.fd = -1;
      }
      sources_.release(source);
      throw std::system_error(err, std::system_category(), "epoll_ctl(ADD)");
    }
    interest_.fetch_add(1, std::memory_order_relaxed);          // relaxed: a hint
    sources_attached_.fetch_add(1, std::memory_order_relaxed);  // relaxed: a statistic
    return source;
  }

  void detach(detail::IoSource& source, int fd) noexcept {
    detail::WakeChain woken;
    bool close_now = true;
    {
      std::lock_guard lock(source.lock);
      ++source.generation;  // events still in flight for this registration are now stale
      source.closed = true;
      source.fd = -1;
      for (auto* list : {&source.readers, &source.writers}) {
        while (auto* node = static_cast<detail::IoWaiter*>(list->pop_front())) {
          node->outcome = detail::WaitOutcome::kClosed;
          woken.add(*node);
        }
      }
      if (source.in_flight > 0) {  // the last operation out closes (io_source.h)
        source.deferred_close_fd = fd;
        close_now = false;
      }
    }
    woken.wake_all([this](std::coroutine_handle<> handle) { executor_.schedule(handle); });
    // No EPOLL_CTL_DEL: closing the fd removes it from epoll, and anything already queued
    // carries the old generation.
    if (close_now) release(source, fd);
  }

  bool begin_operation(detail::IoSource& source, std::uint32_t generation) noexcept {
    std::lock_guard lock(source.lock);
    if (source.closed || source.generation != generation) return false;
    ++source.in_flight;
    return true;
  }

  void end_operation(detail::IoSource& source) noexcept {
    int fd = -1;
    {
      std::lock_guard lock(source.lock);
      if (--source.in_flight > 0 || source.deferred_close_fd < 0) return;
      fd = std::exchange(source.deferred_close_fd, -1);
    }
    release(source, fd);
  }

  detail::Executor& executor() noexcept { return executor_; }

 private:
  void release(detail::IoSource& source, int fd) noexcept {
    if (fd >= 0) ::close(fd);
    sources_.release(source);
    interest_.fetch_sub(1, std::memory_order_relaxed);          // relaxed: a hint
    sources_attached_.fetch_sub(1, std::memory_order_relaxed);  // relaxed: a statistic
  }

 public:
  void forget(int fd) noexcept {
    std::lock_guard lock(mutex_);
    auto it = fds_.find(fd);
    if (it == fds_.end()) return;
    if (it->second.in_epoll) epoll_.remove(fd);
    const long waiting = (it->second.reader ? 1 : 0) + (it->second.writer ? 1 : 0);
    interest_.fetch_sub(waiting, std::memory_order_relaxed);  // relaxed: a hint
    fds_.erase(it);
  }

 private:
  static std::uint32_t interest(const FdWaiters& waiters) noexcept {
    std::uint32_t events = EPOLLONESHOT | EPOLLRDHUP;
    if (waiters.reader) events |= EPOLLIN;
    if (waiters.writer) events |= EPOLLOUT;
    return events;
  }

  void run() {
    std::vector<std::coroutine_handle<>> ready;
    // acquire: pairs with the release store in stop().
    while (!stopping_.load(std::memory_order_acquire)) {
      run_once(ready);
    }
  }

  void run_once(std::vector<std::coroutine_handle<>>& ready) {
    const std::chrono::nanoseconds timeout = next_timeout();
    const int count = epoll_.wait(events_, timeout);
    dispatch_io(std::span(events_.data(), static_cast<std::size_t>(count)), ready);
    collect_due_timers(ready);
    if (!ready.empty()) {
      executor_.schedule_batch(ready);
      ready.clear();
    }
  }

  std::chrono::nanoseconds next_timeout() {
    std::lock_guard lock(mutex_);
    const TimerNode* earliest = timers_.top();
    if (earliest == nullptr) {
      sleeping_until_ = TimePoint::max();
      return std::chrono::nanoseconds(-1);
    }
    sleeping_until_ = earliest->deadline;
    return std::max(std::chrono::nanoseconds(0), earliest->deadline - now_());
  }

  void dispatch_io(std::span<const epoll_event> events,
                   std::vector<std::coroutine_handle<>>& ready) {
    bool one_shot_events = false;
    for (const epoll_event& event : events) {
      if (event.data.u64 == kDoorbellKey) {
        doorbell_.drain();
      } else if ((event.data.u64 & 0xff) == kSourceTag) {
        dispatch_source(event, ready);
      } else {
        one_shot_events = true;
      }
    }
    if (one_shot_events) dispatch_one_shot(events, ready);
  }

  void dispatch_source(const epoll_event& event, std::vector<std::coroutine_handle<>>& ready) {
    detail::IoSource* source = sources_.find(static_cast<std::uint32_t>(event.data.u64 >> 32));
    if (source == nullptr) return;
    const auto generation = static_cast<std::uint32_t>(event.data.u64 >> 8) & kGenerationMask;
    const bool failed = (event.events & (EPOLLERR | EPOLLHUP)) != 0;
    const bool readable = failed || (event.events & (EPOLLIN | EPOLLRDHUP | EPOLLPRI)) != 0;
    const bool writable = failed || (event.events & EPOLLOUT) != 0;
    std::lock_guard lock(source->lock);
    if (source->closed || (source->generation & kGenerationMask) != generation) return;
    auto wake = [&](detail::IoDirection direction) {
      // release: with the lock, orders this edge after the kernel's readiness for a waiter
      // that snapshots the tick (acquire) before its syscall.
      source->tick(direction).fetch_add(1, std::memory_order_release);
      while (auto* node = static_cast<detail::IoWaiter*>(source->waiters(direction).pop_front())) {
        node->outcome = detail::WaitOutcome::kReady;
        ready.push_back(node->waiter);
      }
    };
    if ((event.events & (EPOLLRDHUP | EPOLLHUP | EPOLLERR | EPOLLPRI)) != 0) {
      // relaxed: published by the release bump of the read tick just below.
      source->read_closed.store(true, std::memory_order_relaxed);
    }
    if (readable) wake(detail::IoDirection::kRead);
    if (writable) wake(detail::IoDirection::kWrite);
  }

  void dispatch_one_shot(std::span<const epoll_event> events,
                         std::vector<std::coroutine_handle<>>& ready) {
    std::lock_guard lock(mutex_);
    for (const epoll_event& event : events) {
      if ((event.data.u64 & 0xff) != kFdTag || event.data.u64 == kDoorbellKey) continue;
      const int fd = static_cast<int>(event.data.u64 >> 8);
      auto it = fds_.find(fd);
      if (it == fds_.end()) continue;  // deregistered after the event was queued
      FdWaiters& waiters = it->second;
      const bool failed = (event.events & (EPOLLERR | EPOLLHUP)) != 0;
      if (waiters.reader && (failed || (event.events & (EPOLLIN | EPOLLRDHUP)) != 0)) {
        ready.push_back(std::exchange(waiters.reader, nullptr));
        interest_.fetch_sub(1, std::memory_order_relaxed);  // relaxed: a hint
      }
      if (waiters.writer && (failed || (event.events & EPOLLOUT) != 0)) {
        ready.push_back(std::exchange(waiters.writer, nullptr));
        interest_.fetch_sub(1, std::memory_order_relaxed);  // relaxed: a hint
      }
      // One-shot disarmed the fd; re-arm for a waiter that is still waiting.
      if (waiters.reader || waiters.writer) epoll_.modify(fd, interest(waiters), fd_key(fd));
    }
  }

  void collect_due_timers(std::vector<std::coroutine_handle<>>& ready) {
    const TimePoint now = now_();
    std::lock_guard lock(mutex_);
    // Awake until the next round's next_timeout(): arming a timer meanwhile need not ring.
    sleeping_until_ = TimePoint::min();
    while (const TimerNode* earliest = timers_.top()) {
      if (earliest->deadline > now) break;
      TimerNode& node = timers_.pop();
      interest_.fetch_sub(1, std::memory_order_relaxed);  // relaxed: a hint
      if (auto handle = node.on_expire(node)) ready.push_back(handle);
      if (node.owned_by_reactor) delete static_cast<HandleTimer*>(&node);
    }
  }

  detail::Executor& executor_;
  const NowFunction now_;
  detail::Epoll epoll_;
  detail::EventFd doorbell_;
  std::array<epoll_event, kEventsPerWait> events_{};

  std::mutex mutex_;
  detail::TimerHeap timers_;
  TimePoint sleeping_until_ = TimePoint::min();  // min: awake, so arming need not ring
  std::unordered_map<int, FdWaiters> fds_;
  detail::IoSourcePool sources_;  // own locks

  std::atomic<bool> stopping_{false};
  std::thread thread_;
  std::atomic<bool> driver_{false};         // driven mode: somebody is in poll()
  std::atomic<bool> driver_wanted_{false};  // somebody found driver_ taken and slept
  std::atomic<long> interest_{0};           // armed timers + registrations (has_interest)
  std::atomic<long> sources_attached_{0};   // attached and not yet released (io_sources)
};

Reactor::Reactor(detail::Executor& executor, NowFunction clock)
    : now_(clock), impl_(std::make_unique<Impl>(*this, executor, clock)) {}
Reactor::~Reactor() = default;

void Reactor::start() { impl_->start(); }
bool Reactor::try_lock_driver() noexcept { return impl_->try_lock_driver(); }
void Reactor::unlock_driver() noexcept { impl_->unlock_driver(); }
bool Reactor::lock_driver_or_note() noexcept { return impl_->lock_driver_or_note(); }
void Reactor::poll(std::chrono::nanoseconds max_wait, std::vector<std::coroutine_handle<>>& ready) {
  impl_->poll(max_wait, ready);
}
bool Reactor::has_interest() const noexcept { return impl_->has_interest(); }
void Reactor::stop() { impl_->stop(); }

void Reactor::add_timer(TimePoint expiry, std::coroutine_handle<> handle) {
  auto* node = new HandleTimer;
  node->deadline = expiry;
  node->handle = handle;
  node->owned_by_reactor = true;
  impl_->arm(*node);
}
void Reactor::add_timer(TimePoint expiry, void* handle) {
  add_timer(expiry, std::coroutine_handle<>::from_address(handle));
}
void Reactor::add_timer(TimerNode& node) { impl_->arm(node); }
bool Reactor::cancel_timer(TimerNode& node) noexcept { return impl_->cancel(node); }

void Reactor::register_read(int fd, std::coroutine_handle<> handle) {
  impl_->watch(fd, handle, false);
}
void Reactor::register_read(int fd, void* handle) {
  register_read(fd, std::coroutine_handle<>::from_address(handle));
}
void Reactor::register_write(int fd, std::coroutine_handle<> handle) {
  impl_->watch(fd, handle, true);
}
void Reactor::register_write(int fd, void* handle) {
  register_write(fd, std::coroutine_handle<>::from_address(handle));
}
void Reactor::deregister(int fd) noexcept { impl_->forget(fd); }
detail::IoSource& Reactor::attach(int fd) { return impl_->attach(fd); }
void Reactor::detach(detail::IoSource& source, int fd) noexcept { impl_->detach(source, fd); }
bool Reactor::begin_operation(detail::IoSource& source, std::uint32_t generation) noexcept {
  return impl_->begin_operation(source, generation);
}
void Reactor::end_operation(detail::IoSource& source) noexcept { impl_->end_operation(source); }
detail::Executor& Reactor::executor() noexcept { return impl_->executor(); }

TimePoint Reactor::coarse_upper_bound() const noexcept {
  if (now_ != &steady_now) return now_();
  // CLOCK_MONOTONIC_COARSE shares CLOCK_MONOTONIC's (the steady clock's) origin and trails it
  // by less than a tick. Two ticks of lag, not one: a tick that comes late (a busy interrupt
  // path, a paused virtual CPU) must not make a deadline early.
  static const Clock::duration lag = [] {
    timespec tick{};
    ::clock_getres(CLOCK_MONOTONIC_COARSE, &tick);
    return 2 * std::chrono::duration_cast<Clock::duration>(std::chrono::seconds(tick.tv_sec) +
                                                           std::chrono::nanoseconds(tick.tv_nsec));
  }();
  timespec coarse{};
  ::clock_gettime(CLOCK_MONOTONIC_COARSE, &coarse);
  return TimePoint(std::chrono::duration_cast<Clock::duration>(
             std::chrono::seconds(coarse.tv_sec) + std::chrono::nanoseconds(coarse.tv_nsec))) +
         lag;
}

std::size_t Reactor::pending_timers() const { return impl_->pending_timers(); }
std::size_t Reactor::io_sources() const { return impl_->io_sources(); }
void Reactor::release_spare_memory() noexcept {
  try {
    impl_->release_spare_memory();
  } catch (...) {
    // Out of memory while shrinking: keep the bigger array; nothing is lost.
  }
}
TimePoint Reactor::next_deadline() const { return impl_->next_deadline(); }
void Reactor::wake() noexcept { impl_->wake(); }

}  // namespace tiny_coro
