#include <tiny_coro/ebr.h>

#include <algorithm>

namespace tiny_coro {
namespace {

// A collection attempt every so many retires keeps bags short without scanning participants on
// every retire (crossbeam collects every 128 pins; retires here are rare: buffer growth only).
constexpr std::uint32_t kRetiresPerCollect = 16;

// Unregisters the thread's state when the thread exits, so a dead thread never holds the epoch.
struct ThreadRegistration {
  EbrManager::LocalState* state = nullptr;
  ~ThreadRegistration() {
    if (state != nullptr) EbrManager::get().unregister_thread(state);
  }
};
thread_local ThreadRegistration tl_registration;

}  // namespace

EbrManager& EbrManager::get() {
  // Never destroyed before the threads that use it: a function-local static is destroyed after
  // every thread_local of the main thread and after all other threads have been joined.
  static EbrManager manager;
  return manager;
}

EbrManager::LocalState* EbrManager::register_thread() {
  if (tl_registration.state != nullptr) return tl_registration.state;
  auto* state = new LocalState();
  {
    std::lock_guard lock(registry_mutex_);
    participants_.push_back(state);
  }
  tl_registration.state = state;
  return state;
}

EbrManager::LocalState* EbrManager::local() {
  LocalState* state = tl_registration.state;
  return state != nullptr ? state : get().register_thread();
}

void EbrManager::unregister_thread(LocalState* state) {
  {
    std::lock_guard lock(registry_mutex_);
    participants_.erase(std::remove(participants_.begin(), participants_.end(), state),
                        participants_.end());
    orphans_.insert(orphans_.end(), state->garbage.begin(), state->garbage.end());
  }
  if (tl_registration.state == state) tl_registration.state = nullptr;
  delete state;
}

void EbrManager::retire_raw(LocalState* state, void* ptr, void (*deleter)(void*)) {
  // acquire: pairs with the acq_rel CAS in try_advance, so the epoch we file under is current.
  state->garbage.push_back({ptr, deleter, global_epoch_.load(std::memory_order_acquire)});
  if (++state->retires_since_collect >= kRetiresPerCollect) collect(state);
}

bool EbrManager::try_advance() {
  std::uint64_t current = global_epoch_.load(std::memory_order_acquire);
  {
    std::lock_guard lock(registry_mutex_);
    // Pairs with the fence after a pin: either we see the pin or the pinner sees our epoch.
    detail::fence_seq_cst();
    for (const LocalState* participant : participants_) {
      // acquire: pairs with the release in unpin(), so a reader's accesses under an old pin
      // happen-before anything freed after this advance.
      const std::uint64_t pinned =
          participant->pinned.load(detail::around_fence(std::memory_order_acquire));
      if ((pinned & 1) != 0 && (pinned >> 1) != current) return false;
    }
  }
  // acq_rel: release publishes the participants we checked; acquire orders later frees.
  return global_epoch_.compare_exchange_strong(current, current + 1, std::memory_order_acq_rel,
                                               std::memory_order_acquire);
}

std::size_t EbrManager::free_reachable_garbage(std::vector<LocalState::Retired>& bag,
                                               std::uint64_t now) {
  std::size_t freed = 0;
  auto keep = std::partition(bag.begin(), bag.end(),
                             [now](const LocalState::Retired& r) { return r.epoch + 2 > now; });
  for (auto it = keep; it != bag.end(); ++it) {
    it->deleter(it->ptr);
    ++freed;
  }
  bag.erase(keep, bag.end());
  return freed;
}

std::size_t EbrManager::collect(LocalState* state) {
  state->retires_since_collect = 0;
  try_advance();
  const std::uint64_t now = global_epoch_.load(std::memory_order_acquire);
  std::size_t freed = free_reachable_garbage(state->garbage, now);
  std::vector<LocalState::Retired> orphans;
  {
    std::lock_guard lock(registry_mutex_);
    orphans.swap(orphans_);
  }
  if (!orphans.empty()) {
    freed += free_reachable_garbage(orphans, now);
    std::lock_guard lock(registry_mutex_);
    orphans_.insert(orphans_.end(), orphans.begin(), orphans.end());
  }
  return freed;
}

EbrManager::~EbrManager() {
  // Process exit: no thread is pinned any more, so everything left is unreachable.
  for (auto& retired : orphans_) retired.deleter(retired.ptr);
  for (LocalState* state : participants_) {
    for (auto& retired : state->garbage) retired.deleter(retired.ptr);
    delete state;
  }
}

}  // namespace tiny_coro
