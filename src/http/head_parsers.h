// The head parser's copies, one per instruction set (head_scan.h), and the one in use.
#pragma once

#include <cstddef>

#include <tiny_coro/http_parser.h>

namespace tiny_coro::detail {

struct HeadParsers {
  const char* name;
  ParseResult (*request)(const char* buf, std::size_t len, HttpRequest& req,
                         std::size_t max_head_bytes);
  ParseResult (*response)(const char* buf, std::size_t len, HttpResponseHead& resp,
                          std::size_t max_head_bytes);
};

HeadParsers scalar_head_parsers() noexcept;
#if defined(__x86_64__)
HeadParsers sse2_head_parsers() noexcept;
HeadParsers avx2_head_parsers() noexcept;  // call only where the CPU has AVX2
#endif

// Every copy this machine can run, the fastest first (the tests check they agree).
std::size_t usable_head_parsers(HeadParsers* out, std::size_t capacity) noexcept;

}  // namespace tiny_coro::detail
