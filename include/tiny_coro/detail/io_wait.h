// What a task waiting on a socket's readiness is told (src/io/io_source.h has the protocol).
#pragma once

#include <cstdint>

#include <tiny_coro/detail/wait_list.h>

namespace tiny_coro::detail {

enum class IoDirection : std::uint8_t { kRead, kWrite };

enum class WaitOutcome : std::uint8_t {
  kReady,      // a readiness edge: retry the syscall
  kTimedOut,   // the wait's deadline passed first
  kClosed,     // the source was detached (the socket closed) while waiting
  kCancelled,  // the task was cancelled while waiting (cancel.h)
  kNotOpen,    // there was no socket to wait on (a wait made for a closed one)
};

struct IoWaiter : WaitNode {
  WaitOutcome outcome = WaitOutcome::kReady;
};

}  // namespace tiny_coro::detail
