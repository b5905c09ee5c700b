// Defines <TINY_CORO_SCAN_ISA>_head_parsers() for the copy head_scan.h just declared. Included
// last by each head_scan_<isa>.cpp.
#pragma once

#define TINY_CORO_CONCAT_INNER(a, b) a##b
#define TINY_CORO_CONCAT(a, b) TINY_CORO_CONCAT_INNER(a, b)
#define TINY_CORO_STRINGIFY_INNER(a) #a
#define TINY_CORO_STRINGIFY(a) TINY_CORO_STRINGIFY_INNER(a)

namespace tiny_coro::detail {

HeadParsers TINY_CORO_CONCAT(TINY_CORO_SCAN_ISA, _head_parsers)() noexcept {
  return HeadParsers{
      TINY_CORO_STRINGIFY(TINY_CORO_SCAN_ISA),
      [](const char* buf, std::size_t len, HttpRequest& req, std::size_t max) {
        return TINY_CORO_SCAN_ISA::HeadParser(buf, len, max).request(req);
      },
      [](const char* buf, std::size_t len, HttpResponseHead& resp, std::size_t max) {
        return TINY_CORO_SCAN_ISA::HeadParser(buf, len, max).response(resp);
      },
  };
}

}  // namespace tiny_coro::detail
