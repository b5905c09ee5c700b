// Both include spellings must work for an installed tiny_coro.
#include <tiny_coro/scheduler.h>
#include "scheduler.h"
#include "http_parser.h"

#include <cstdio>

tiny_coro::Task<int> twice(Scheduler& sched, int x) {
  co_await sleep_for(sched, 1);
  co_return 2 * x;
}

int main() {
  Scheduler sched(2);
  const int result = sched.block_on(twice(sched, 21));
  const char request[] = "GET / HTTP/1.1\r\nHost: x\r\n\r\n";
  HttpRequest req;
  if (HttpParser::parse_request(request, sizeof(request) - 1, req) != 27) return 1;
  std::printf("consumer result %d\n", result);
  return result == 42 ? 0 : 1;
}
