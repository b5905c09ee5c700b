// RuntimeMetrics: what a scheduler has done so far, for dashboards and for finding out why
// a program is slow (Tokio's RuntimeMetrics, Go's runtime/metrics).
//
//   tiny_coro::RuntimeMetrics m = sched.metrics();
//   std::cout << m.tasks_alive << " alive, " << m.total(&tiny_coro::WorkerMetrics::steals) << "
//   steals\n";
//
// Counters only grow, from the scheduler's start; gauges (depths, alive, armed) are what they
// were as metrics() read them. Each worker keeps its own counters, written by itself alone
// with plain stores, and metrics() sums them on read: the hot path shares no cache line.
// The per-task counts (tasks run, LIFO hits, spawns, ends) reach metrics() every 61 tasks
// and whenever the worker goes idle, so a busy worker's figures lag by up to 60 tasks.
// A snapshot is not atomic across workers: a task stolen while metrics() reads may be seen
// in neither queue, or a spawn counted before its run is.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <vector>

#include <tiny_coro/blocking.h>

namespace tiny_coro {

struct WorkerMetrics {
  std::uint64_t tasks_run = 0;            // resumed by the worker's loop (a task it runs by
                                          // symmetric transfer, such as an awaiter woken by the
                                          // task it awaited, runs within its waker's turn)
  std::uint64_t lifo_slot_hits = 0;       // of those, taken from the LIFO slot
  std::uint64_t tasks_spawned = 0;        // spawned on this worker's thread
  std::uint64_t steals = 0;               // tasks taken from another worker's queue
  std::uint64_t steal_attempts = 0;       // tries at another worker's queue, successful or not
  std::uint64_t global_batches = 0;       // batches taken from the global queue
  std::uint64_t spills = 0;               // halves of a full local queue moved to the global one
  std::uint64_t parks = 0;                // times the worker went to sleep
  std::uint64_t unparks = 0;              // times another thread woke it
  std::size_t local_queue_depth = 0;      // tasks in its stealable queue now (not the LIFO slot)
  std::chrono::nanoseconds busy_time{0};  // time awake (running, or looking for work)
  bool parked = false;                    // asleep now, with every count above up to date
};

struct RuntimeMetrics {
  std::uint64_t tasks_spawned = 0;  // every spawn, from workers and from other threads
  std::uint64_t tasks_alive = 0;    // spawned and not finished (or destroyed by shutdown)
  std::vector<WorkerMetrics> workers;
  std::size_t global_queue_depth = 0;
  std::size_t timers_armed = 0;  // reactor timers waiting to fire (sleeps, timeouts, deadlines)
  std::size_t io_sources = 0;    // file descriptors the reactor watches (sockets, one-shot waits)
  BlockingPoolMetrics blocking;  // the pool that runs spawn_blocking() calls (blocking.h)
  std::chrono::nanoseconds uptime{0};

  // True if every worker is asleep: the scheduler is quiet and its counts are exact.
  bool all_parked() const {
    for (const auto& worker : workers) {
      if (!worker.parked) return false;
    }
    return true;
  }

  // The sum of one per-worker figure, e.g. total(&WorkerMetrics::steals).
  template <class Field>
  Field total(Field WorkerMetrics::*field) const {
    Field sum{};
    for (const auto& worker : workers) sum += worker.*field;
    return sum;
  }
};

}  // namespace tiny_coro
