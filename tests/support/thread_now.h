#pragma once

#include <thread>

namespace tiny_coro::test {

// The thread this is called on. glibc declares pthread_self() const, so the compiler may reuse
// one call's answer for another in the same coroutine body, even across a co_await that moved
// it to another thread (it did so in the TSan build); the opaque asm rules that out.
[[gnu::noinline]] inline std::thread::id thread_now() {
  std::thread::id id = std::this_thread::get_id();
  asm volatile("" : : "r"(&id) : "memory");
  return id;
}

}  // namespace tiny_coro::test
