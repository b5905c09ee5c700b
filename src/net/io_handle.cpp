#include <tiny_coro/detail/io_handle.h>

#include <unistd.h>

#include <utility>

#include "io/io_source.h"

namespace tiny_coro::detail {

IoHandle::IoHandle(Reactor& reactor, int fd, bool tcp) {
  try {
    IoSource& source = reactor.attach(fd);
    // No lock: the slot's last writer (detach) released it through the pool's mutex, which
    // attach took after; no operation can run before this handle is handed out.
    source.read_shortcut = tcp;
    ref_ = IoRef{&reactor, &source, source.generation, fd};
  } catch (...) {
    ::close(fd);
    throw;
  }
}

IoHandle::IoHandle(IoHandle&& other) noexcept : ref_(other.ref_) {
  other.ref_.source = nullptr;
  other.ref_.fd = -1;
}

IoHandle& IoHandle::operator=(IoHandle&& other) noexcept {
  if (this != &other) {
    close();
    ref_ = other.ref_;
    other.ref_.source = nullptr;
    other.ref_.fd = -1;
  }
  return *this;
}

void IoHandle::close() noexcept {
  if (ref_.fd < 0) return;
  ref_.reactor->detach(*ref_.source, ref_.fd);
  ref_.source = nullptr;
  ref_.fd = -1;
}

}  // namespace tiny_coro::detail
