// HttpDrain (http_server.h): the registry a graceful shutdown walks.
//
// Each registered connection's drain_state moves kIdle -> kBusy when a request begins and
// back when it ends, by CAS. begin() sets the registry's flag, then fetch_or's kDraining
// into every connection under the registry's lock:
//   - one that was kIdle is waiting for its next request: its read side is shut, so the
//     wait ends at once (end of stream) and the connection leaves;
//   - one that was kBusy finishes the request in hand; its CAS back to kIdle fails, so it
//     closes instead of waiting for another.
// A connection entering after begin() (accepted just before the listener closed) is
// registered already draining: it answers the request it was sent, then closes. Both CASes
// and the fetch_or are one atomic variable's read-modify-writes, so exactly one side sees
// the other.
#include <sys/socket.h>

#include <atomic>
#include <condition_variable>
#include <mutex>

#include <tiny_coro/http_server.h>

#include "http/connection.h"

namespace tiny_coro {

struct HttpDrain::State {
  mutable std::mutex lock;
  mutable std::condition_variable idle;    // signalled when the last connection leaves
  detail::HttpConnection* head = nullptr;  // the registered connections, linked
  std::atomic<bool> draining{false};
  std::atomic<std::size_t> active{0};
};

HttpDrain::HttpDrain() : state_(std::make_unique<State>()) {}
HttpDrain::~HttpDrain() = default;

bool HttpDrain::enter(detail::HttpConnection& connection) noexcept {
  const std::lock_guard guard(state_->lock);
  connection.drain_next = state_->head;
  if (state_->head != nullptr) state_->head->drain_prev = &connection;
  state_->head = &connection;
  state_->active.fetch_add(1, std::memory_order_relaxed);  // a count for reports only
  // relaxed: begin() stores it under this lock, which orders it for us.
  return !state_->draining.load(std::memory_order_relaxed);
}

void HttpDrain::leave(detail::HttpConnection& connection) noexcept {
  const std::lock_guard guard(state_->lock);
  if (connection.drain_prev != nullptr) {
    connection.drain_prev->drain_next = connection.drain_next;
  } else {
    state_->head = connection.drain_next;
  }
  if (connection.drain_next != nullptr) connection.drain_next->drain_prev = connection.drain_prev;
  state_->active.fetch_sub(1, std::memory_order_relaxed);  // relaxed: a gauge, under the lock
  if (state_->head == nullptr) state_->idle.notify_all();
}

bool HttpDrain::wait_until_idle(std::chrono::nanoseconds timeout) const {
  std::unique_lock guard(state_->lock);
  return state_->idle.wait_for(guard, timeout, [&] { return state_->head == nullptr; });
}

void HttpDrain::begin() noexcept {
  const std::lock_guard guard(state_->lock);
  // release: pairs with draining()'s acquire, for connections that check it between requests.
  state_->draining.store(true, std::memory_order_release);
  for (detail::HttpConnection* c = state_->head; c != nullptr; c = c->drain_next) {
    // acq_rel: pairs with the connection's CASes (connection.cpp, begin/end_request).
    const int before =
        c->drain_state.fetch_or(detail::HttpConnection::kDraining, std::memory_order_acq_rel);
    // Still registered (we hold the lock), so its socket is open.
    if (before == detail::HttpConnection::kIdle) ::shutdown(c->socket().fd(), SHUT_RD);
  }
}

void HttpDrain::cancel_all() noexcept {
  // Under the lock: a registered connection's frame, and so its task's state, is alive
  // (leave() takes the lock before the frame goes). The request reaches at most one
  // canceller, which takes only its operation's own lock.
  const std::lock_guard guard(state_->lock);
  for (detail::HttpConnection* c = state_->head; c != nullptr; c = c->drain_next) {
    // acquire: pairs with serve_burst()'s release store; the state outlives the registration.
    if (detail::CancelState* state = c->cancel_state.load(std::memory_order_acquire))
      state->request();
  }
}

bool HttpDrain::draining() const noexcept {
  return state_->draining.load(std::memory_order_acquire);  // acquire: pairs with begin()
}

std::size_t HttpDrain::active_connections() const noexcept {
  return state_->active.load(std::memory_order_relaxed);  // relaxed: a gauge
}

}  // namespace tiny_coro
