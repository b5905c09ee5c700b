// A deliberate deadlock, and the task dump that explains it (docs/DEBUGGING.md).
//
// Two tasks take two AsyncMutexes in opposite order. Each gets its first lock, waits until
// the other has its first too, then asks for its second: neither can ever go on. The
// program then does what an on-call engineer would (kill -USR1 on tiny_httpd does the same):
// it prints Scheduler::dump_tasks(), which names both tasks, says both wait for a lock, and
// gives the line of each lock() call. Then it cancels both and exits 0.
//
//   deadlock
#include <tiny_coro/async_event.h>
#include <tiny_coro/async_mutex.h>
#include <tiny_coro/scheduler.h>

#include <cstdio>
#include <string>
#include <thread>

using tiny_coro::AsyncMutex;
using tiny_coro::JoinHandle;
using tiny_coro::Scheduler;

namespace {

struct Accounts {
  AsyncMutex savings;
  AsyncMutex checking;
  tiny_coro::WaitGroup first_locks;  // both first locks taken
};

// Suspends (it does not spin: the workers stay free) until both tasks hold their first lock.
tiny_coro::Task<void> wait_for_the_other(tiny_coro::WaitGroup& first_locks) {
  first_locks.done();
  co_await first_locks.wait();
}

tiny_coro::Task<void> move_to_checking(Accounts& accounts) {
  auto from = co_await accounts.savings.lock();
  co_await wait_for_the_other(accounts.first_locks);
  auto to = co_await accounts.checking.lock();  // waits for move_to_savings, forever
}

tiny_coro::Task<void> move_to_savings(Accounts& accounts) {
  auto from = co_await accounts.checking.lock();
  co_await wait_for_the_other(accounts.first_locks);
  auto to = co_await accounts.savings.lock();  // waits for move_to_checking, forever
}

// How many tasks the dump shows waiting for a lock.
int tasks_waiting_for_a_lock(const std::string& dump) {
  int count = 0;
  for (auto at = dump.find("] lock\n"); at != std::string::npos; at = dump.find("] lock\n", at + 1)) {
    ++count;
  }
  return count;
}

}  // namespace

int main() {
  Scheduler sched(2);
  Accounts accounts{AsyncMutex(sched), AsyncMutex(sched), tiny_coro::WaitGroup(sched)};
  accounts.first_locks.add(2);
  JoinHandle<void> first = sched.spawn(move_to_checking(accounts));
  JoinHandle<void> second = sched.spawn(move_to_savings(accounts));

  // Stuck for good once both wait for their second lock; the dump itself shows when.
  std::string dump = sched.dump_tasks();
  while (tasks_waiting_for_a_lock(dump) < 2) {
    std::this_thread::yield();
    dump = sched.dump_tasks();
  }
  std::fputs(dump.c_str(), stdout);

  first.cancel();
  second.cancel();
  first.wait_blocking();
  second.wait_blocking();
  std::puts("both cancelled");
  return 0;
}
