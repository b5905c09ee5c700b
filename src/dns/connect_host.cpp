// Happy Eyeballs (RFC 8305) for connect_host(): see resolve.h. Each attempt is a task of a
// TaskGroup that reports to a channel; the race reads the channel with the stagger as its
// timeout. The group is joined on every path, so no attempt outlives the channel it
// reports to, or the race that waits for it.
#include <tiny_coro/resolve.h>

#include <exception>
#include <optional>
#include <utility>

#include <tiny_coro/channel.h>
#include <tiny_coro/task_group.h>
#include <tiny_coro/timeout.h>

namespace tiny_coro {
namespace {

struct AttemptOutcome {
  std::size_t index = 0;
  AsyncSocket socket;
};

Task<void> attempt(Reactor* reactor, SocketAddress address, std::size_t index,
                   std::chrono::milliseconds limit, Channel<AttemptOutcome>& outcomes) {
  AsyncSocket socket = co_await AsyncSocket::connect(
      reactor, address, limit.count() > 0 ? Deadline(limit) : Deadline());
  // The channel holds one place per attempt: this never waits. (Named: see resolve.cpp on
  // aggregate temporaries in a co_await.)
  AttemptOutcome outcome{index, std::move(socket)};
  co_await outcomes.send(std::move(outcome));
}

Task<std::optional<AttemptOutcome>> next_outcome(Channel<AttemptOutcome>& outcomes) {
  co_return co_await outcomes.recv();
}

// The race itself; returns the winner's index, or nullopt if every attempt failed (the
// errors are then in `errors`).
Task<std::optional<std::size_t>> race(Scheduler& scheduler, const std::vector<SocketAddress>& order,
                                      const ConnectOptions& options, TaskGroup& group,
                                      Channel<AttemptOutcome>& outcomes, AsyncSocket& winner,
                                      std::vector<std::error_code>& errors) {
  std::size_t started = 0;
  std::size_t finished = 0;
  auto start_next = [&] {
    group.spawn(attempt(scheduler.reactor(), order[started], started, options.attempt_timeout,
                        outcomes));
    ++started;
  };
  start_next();
  while (finished < started) {
    std::optional<AttemptOutcome> outcome;
    if (started < order.size()) {
      try {
        outcome = co_await timeout(scheduler, options.attempt_delay, next_outcome(outcomes));
      } catch (const TimedOut&) {
        start_next();  // the stagger passed with nobody through: race the next address too
        continue;
      }
    } else {
      outcome = co_await outcomes.recv();
    }
    ++finished;
    if (outcome->socket) {
      winner = std::move(outcome->socket);
      co_return outcome->index;
    }
    errors[outcome->index] = outcome->socket.error();
    if (started < order.size()) start_next();  // a failure starts the next one at once
  }
  co_return std::nullopt;
}

}  // namespace

Task<Connected> connect_host(Scheduler& scheduler, std::string host, int port,
                             ConnectOptions options) {
  Connected connected;
  // Two statements, not a conditional with a co_await in each arm: g++ 12 destroys such a
  // conditional's result twice.
  ResolveResult found;
  if (options.resolver) {
    found = co_await options.resolver(host, port);
  } else {
    found = co_await resolve(scheduler, host, port);
  }
  if (!found) {
    connected.error = found.error;
    co_return connected;
  }
  const std::vector<SocketAddress> order = interleave_families(found.addresses);
  Channel<AttemptOutcome> outcomes(scheduler, order.size());
  std::vector<std::error_code> errors(order.size());
  std::optional<std::size_t> won;
  std::exception_ptr failure;
  TaskGroup group(scheduler);
  try {
    won = co_await race(scheduler, order, options, group, outcomes, connected.socket, errors);
  } catch (...) {
    failure = std::current_exception();  // cancelled: still join the attempts below
  }
  group.cancel();  // the losers, and any still waiting for the stagger
  std::exception_ptr join_failure;
  try {
    co_await group.join();
  } catch (...) {
    join_failure = std::current_exception();
  }
  if (failure) std::rethrow_exception(failure);
  if (join_failure) std::rethrow_exception(join_failure);
  if (won) {
    connected.peer = order[*won];
    co_return connected;
  }
  for (const std::error_code& error : errors) {
    if (error) {
      connected.error = error;
      break;
    }
  }
  if (!connected.error) connected.error = std::make_error_code(std::errc::host_unreachable);
  co_return connected;
}

}  // namespace tiny_coro
