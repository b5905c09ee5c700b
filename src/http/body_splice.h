// An upload's body from the socket into its file with splice(2): through a pipe, never
// through user space, on the blocking pool, with the task waiting for the socket on its
// worker between batches. Writing a body that the worker had read would make a pool thread
// copy into the page cache bytes that another core had just received; a 1 GiB PUT ran at
// 0.65x a plain recv/write loop that way, while splicing ran 2.2x faster than that loop
// (docs/BENCHMARKS.md, "Blocking pool and files").
#pragma once

#include <sys/types.h>

#include <cstdint>

#include <tiny_coro/deadline.h>
#include <tiny_coro/socket.h>
#include <tiny_coro/task.h>

namespace tiny_coro::detail {

// Moves `count` bytes from `socket` into `file_fd` at `offset`; `moved` counts the bytes that
// reached the file, whatever the outcome. Returns `count`, or < 0: -ECONNABORTED (the peer
// closed first), -ETIMEDOUT (nothing came for `idle`), the socket's or the file's error, or
// -EOPNOTSUPP when the rest cannot be spliced from this socket (it is not TCP, or an urgent
// byte stops the splice): the `moved` bytes are in the file and the rest can be read as
// usual. Cancelled: `moved` bytes are in the file, and the stream has lost its place.
Task<ssize_t> splice_socket_to_file(AsyncSocket& socket, int file_fd, off_t offset,
                                    std::uint64_t count, Deadline idle, std::uint64_t& moved);

}  // namespace tiny_coro::detail
