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
  // Never destroyed: a static Scheduler's workers may still be running (and unregistering)
  // while function-local statics are torn down at exit. Whatever is still retired then stays
  // reachable from here, so leak checkers do not count it.
  static EbrManager* manager = new EbrManager();
  return *manager;
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
  // Threads come and go with schedulers; free what they left behind once it is safe, rather
  // than letting orphans pile up until exit.
  collect_orphans();
}

std::size_t EbrManager::collect_orphans() {
  // Two advances make everything retired before this call unreachable, unless a thread is
  // still pinned in an old epoch (then what remains waits for a later collection).
  try_advance();
  try_advance();
  // acquire: pairs with try_advance()'s CAS, so the unpins it saw happen-before our frees.
  const std::uint64_t now = global_epoch_.load(std::memory_order_acquire);
  std::vector<LocalState::Retired> orphans;
  {
    std::lock_guard lock(registry_mutex_);
    orphans.swap(orphans_);
  }
  const std::size_t freed = free_reachable_garbage(orphans, now);
  if (!orphans.empty()) {
    std::lock_guard lock(registry_mutex_);
    orphans_.insert(orphans_.end(), orphans.begin(), orphans.end());
  }
  return freed;
}

void EbrManager::retire_raw(LocalState* state, void* ptr, void (*deleter)(void*)) {
  // StoreLoad: the caller's unlinking store (e.g. StealQueue's new buffer pointer) must be
  // visible before we read the epoch to file under. Otherwise a reader could pin a later
  // epoch, still load the old pointer, and see it freed two advances after an epoch that
  // was already stale when we read it (crossbeam fences in push_bag for the same reason).
  detail::fence_seq_cst();
  // acquire: pairs with try_advance()'s CAS; the fence above is what keeps the epoch fresh.
  const std::uint64_t epoch = global_epoch_.load(detail::around_fence(std::memory_order_acquire));
  state->garbage.push_back({ptr, deleter, epoch});
  if (++state->retires_since_collect >= kRetiresPerCollect) collect(state);
}

bool EbrManager::try_advance() {
  // acquire: pairs with the last advance's CAS; the CAS below re-checks the value anyway.
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
  // acq_rel: release pairs with the collectors' acquire loads of the epoch, so the unpins we
  // saw come before their frees; acquire on failure pairs with the advance that beat us.
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
  // acquire: as in collect_orphans(), pairs with try_advance()'s CAS.
  const std::uint64_t now = global_epoch_.load(std::memory_order_acquire);
  return free_reachable_garbage(state->garbage, now) + collect_orphans();
}

}  // namespace tiny_coro
