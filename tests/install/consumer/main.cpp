// Both include spellings must work for an installed tiny_coro.
#include <tiny_coro/scheduler.h>
#include "scheduler.h"

#include <cstdio>

tiny_coro::Task<int> twice(Scheduler& sched, int x) {
  co_await sleep_for(sched, 1);
  co_return 2 * x;
}

int main() {
  Scheduler sched(2);
  const int result = sched.block_on(twice(sched, 21));
  std::printf("consumer result %d\n", result);
  return result == 42 ? 0 : 1;
}
