// Turns the program counter a suspension noted (detail/await_record.h) into the function,
// file and line of the co_await, from the program's debug information (libbacktrace).
#pragma once

#include <tiny_coro/detail/await_record.h>

namespace tiny_coro::detail {

// The coroutine and the line of the co_await whose suspension ran the instruction at
// `code_address`. The strings live as long as the program. Without debug information for it:
// the function's symbol if there is one, and the file "?" at line 0. Any thread; the first
// call reads the debug information (tens of milliseconds for a large program), later ones
// find the address in a cache.
AwaitSite describe_code_address(const void* code_address);

}  // namespace tiny_coro::detail
