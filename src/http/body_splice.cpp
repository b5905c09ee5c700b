#include "http/body_splice.h"

#include <fcntl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>

#include <tiny_coro/blocking.h>
#include <tiny_coro/unique_fd.h>

namespace tiny_coro::detail {
namespace {

// A pipe this large takes a socket's whole receive buffer in one splice (when the system's
// pipe-max-size allows it; the default pipe of 64 KiB works, in more calls).
constexpr int kPipeBytes = 1 << 20;
// One pool call moves at most this much, so that a fast sender does not keep a pool thread
// for a whole body: the task comes back to its worker in between.
constexpr std::uint64_t kMostPerCall = 16 << 20;

struct Batch {
  std::uint64_t moved = 0;  // reached the file
  int error = 0;
  bool socket_unsupported = false;  // the first splice from the socket said EINVAL: no byte taken
  bool stopped_at_urgent_mark = false;  // data waits that splice will not take
  bool would_block = false;
  bool end_of_stream = false;
};

// On a pool thread: socket -> pipe -> file until the socket has nothing more, `left` bytes
// are moved, or kMostPerCall. The pipe is empty between rounds.
Batch splice_batch(int socket_fd, int pipe_in, int pipe_out, int pipe_bytes, int file_fd,
                   off_t offset, std::uint64_t left) {
  Batch batch;
  bool rechecked = false;
  while (left > 0 && batch.moved < kMostPerCall) {
    const auto want = static_cast<std::size_t>(std::min<std::uint64_t>(left, pipe_bytes));
    const ssize_t in = ::splice(socket_fd, nullptr, pipe_in, nullptr, want,
                                SPLICE_F_MOVE | SPLICE_F_NONBLOCK);
    if (in == 0) {
      batch.end_of_stream = true;
      break;
    }
    if (in < 0) {
      if (errno == EINTR) continue;
      if (errno == EAGAIN) {
        // TCP's splice stops at an urgent (MSG_OOB) byte and says EAGAIN while data waits
        // behind it, with no new edge to come; recv() reads past the mark. A peek tells the
        // two apart; a second EAGAIN after one rules out data that merely arrived late.
        char probe;
        if (::recv(socket_fd, &probe, 1, MSG_PEEK | MSG_DONTWAIT) > 0) {
          if (!rechecked) {
            rechecked = true;
            continue;
          }
          batch.stopped_at_urgent_mark = true;
        } else {
          batch.would_block = true;
        }
      } else {
        batch.error = errno;
        batch.socket_unsupported = errno == EINVAL && batch.moved == 0;
      }
      break;
    }
    for (ssize_t pending = in; pending > 0;) {
      loff_t at = offset + static_cast<off_t>(batch.moved);
      const ssize_t out = ::splice(pipe_out, nullptr, file_fd, &at,
                                   static_cast<std::size_t>(pending), SPLICE_F_MOVE);
      if (out < 0 && errno == EINTR) continue;
      if (out <= 0) {  // what the pipe still holds is lost: the body cannot be completed
        batch.error = out == 0 ? EIO : errno;
        return batch;
      }
      pending -= out;
      batch.moved += static_cast<std::uint64_t>(out);
    }
    left -= static_cast<std::uint64_t>(in);
    rechecked = false;
  }
  return batch;
}

}  // namespace

Task<ssize_t> splice_socket_to_file(AsyncSocket& socket, int file_fd, off_t offset,
                                    std::uint64_t count, Deadline idle, std::uint64_t& moved) {
  moved = 0;
  if (count == 0) co_return 0;
  if (!socket.is_open()) co_return -EBADF;
  // The pool thread works on a duplicate: a close of the socket meanwhile (a shutdown that
  // gives up on a request) cannot hand its number to another file under the splice.
  const int duplicate = ::fcntl(socket.fd(), F_DUPFD_CLOEXEC, 0);
  if (duplicate < 0) co_return -errno;  // read before any co_await (task.h)
  const UniqueFd source(duplicate);
  int ends[2];
  if (::pipe2(ends, O_CLOEXEC | O_NONBLOCK) != 0) co_return -errno;
  const UniqueFd pipe_out(ends[0]);
  const UniqueFd pipe_in(ends[1]);
  (void)::fcntl(pipe_in.get(), F_SETPIPE_SZ, kPipeBytes);  // a smaller pipe only costs calls
  const int pipe_bytes = std::max(::fcntl(pipe_in.get(), F_GETPIPE_SZ), 4096);
  while (moved < count) {
    // Closed meanwhile (a shutdown giving up on the request): the duplicate would go on.
    if (!socket.is_open()) co_return -ECANCELED;
    // Counted before the splices, so an edge that comes while they run is not missed.
    const std::uint32_t edges = socket.read_edges();
    const std::uint64_t left = count - moved;
    const off_t at = offset + static_cast<off_t>(moved);
    const Batch batch = co_await run_blocking([&] {
      return splice_batch(source.get(), pipe_in.get(), pipe_out.get(), pipe_bytes, file_fd, at,
                          left);
    });
    moved += batch.moved;
    if (batch.socket_unsupported && moved == 0) co_return -EOPNOTSUPP;
    if (batch.stopped_at_urgent_mark) co_return -EOPNOTSUPP;  // the rest is read instead
    if (batch.error != 0) co_return -batch.error;
    if (batch.end_of_stream) co_return -ECONNABORTED;
    if (batch.would_block) {
      const ssize_t waited = co_await socket.wait_read_edge_after(edges, idle);
      if (waited < 0) co_return waited;
    }
  }
  co_return static_cast<ssize_t>(moved);
}

}  // namespace tiny_coro::detail
