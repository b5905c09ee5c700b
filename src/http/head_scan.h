// The head parser's core, compiled once per instruction set (head_parsers.h).
//
// A scanner finds, in [p, end), the first byte that ends a run:
//   find_target_stop: a byte outside 0x21..0x7E (the SP ending a request target, or junk);
//   find_value_stop:  a control byte (below 0x20, HTAB included) or DEL.
// It returns `end` if there is none, and never reads at or past `end`: wide loads run only
// while a whole vector fits, and a scalar loop finishes the tail (the guard-page tests in
// http_parser_test.cpp hold it to that).
//
// Each including file first defines TINY_CORO_SCAN_ISA, the namespace its copy lives in, and a
// struct Scan with the two functions. Everything here is then private to that instruction set.
// No file gets -mavx2: every copy is compiled for the baseline, and only the vector scanners
// carry [[gnu::target]] (head_vector_scan.h), so nothing else can hold AVX2 code the linker
// might pick for a machine without it. The namespace still matters: each copy's inline parser
// calls its own Scan, and under one shared name the linker would keep a single copy for all.
//
// Where the rules come from: RFC 9112 §2.2 (CRLF; empty lines before a request), §3 (request
// line), §5 (field lines: no whitespace before the colon, no obs-fold), RFC 9110 §5.5 (value
// bytes) and §5.6.2 (tokens).
#pragma once

#ifndef TINY_CORO_SCAN_ISA
#error "define TINY_CORO_SCAN_ISA (this copy's namespace) and a struct Scan first"
#endif

#include <cstddef>
#include <cstring>
#include <string_view>
#include <vector>

#include <tiny_coro/http_parser.h>

#include "http/head_tables.h"

namespace tiny_coro::detail::TINY_CORO_SCAN_ISA {

inline bool is_token_byte(char c) noexcept { return kTokenByte[static_cast<unsigned char>(c)]; }

class HeadParser {
 public:
  HeadParser(const char* buf, std::size_t len, std::size_t max_head_bytes) noexcept
      : buf_(buf),
        end_(buf + (len > max_head_bytes ? max_head_bytes : len)),
        capped_(len > max_head_bytes) {}

  ParseResult request(HttpRequest& req) {
    const char* p = buf_;
    // Empty lines before a request line are ignored (a client's stray CRLF after a body).
    while (p < end_ && *p == '\r') {
      if (end_ - p < 2) return more();
      if (p[1] != '\n') return malformed();
      p += 2;
    }
    const char* start = p;
    while (p < end_ && is_token_byte(*p)) ++p;
    if (p == end_) return more();
    if (*p != ' ' || p == start) return malformed();
    req.method = std::string_view(start, static_cast<std::size_t>(p - start));
    start = ++p;
    p = Scan::find_target_stop(p, end_);
    if (p == end_) return more();
    if (*p != ' ' || p == start) return malformed();
    req.path = std::string_view(start, static_cast<std::size_t>(p - start));
    ++p;
    if (!version(p, req.minor_version) || !line_end(p)) return verdict_;
    return fields(p, req.headers);
  }

  ParseResult response(HttpResponseHead& resp) {
    const char* p = buf_;
    if (!version(p, resp.minor_version)) return verdict_;
    if (end_ - p < 4) return more();
    if (p[0] != ' ' || !digit(p[1]) || !digit(p[2]) || !digit(p[3])) return malformed();
    resp.status = (p[1] - '0') * 100 + (p[2] - '0') * 10 + (p[3] - '0');
    p += 4;
    if (p < end_ && *p == ' ') ++p;  // the reason may be empty, its SP even missing
    const char* start = p;
    if (!value_run(p)) return verdict_;
    resp.reason = std::string_view(start, static_cast<std::size_t>(p - start));
    if (!line_end(p)) return verdict_;
    return fields(p, resp.headers);
  }

 private:
  static bool digit(char c) noexcept { return c >= '0' && c <= '9'; }

  ParseResult more() noexcept {
    // Out of bytes: if the cap cut the input, the head is too large, else wait for more.
    verdict_ = {capped_ ? ParseStatus::kTooLarge : ParseStatus::kIncomplete, 0};
    return verdict_;
  }
  ParseResult malformed() noexcept {
    verdict_ = {ParseStatus::kMalformed, 0};
    return verdict_;
  }

  // "HTTP/1.x"; false with verdict_ set otherwise. Other major versions are malformed here.
  bool version(const char*& p, int& minor) noexcept {
    static constexpr std::string_view kPrefix = "HTTP/1.";
    const auto available = static_cast<std::size_t>(end_ - p);
    if (available < kPrefix.size() + 1) {
      // Refuse a wrong prefix at once rather than waiting for bytes that cannot mend it.
      if (std::memcmp(p, kPrefix.data(), available) != 0)
        malformed();
      else
        more();
      return false;
    }
    if (std::memcmp(p, kPrefix.data(), kPrefix.size()) != 0 || !digit(p[kPrefix.size()])) {
      malformed();
      return false;
    }
    minor = p[kPrefix.size()] - '0';
    p += kPrefix.size() + 1;
    return true;
  }

  // Advances p over a CRLF; false with verdict_ set otherwise (a bare CR or LF is malformed).
  bool line_end(const char*& p) noexcept {
    if (p == end_) return more(), false;
    if (*p != '\r') return malformed(), false;
    if (end_ - p < 2) return more(), false;
    if (p[1] != '\n') return malformed(), false;
    p += 2;
    return true;
  }

  // Advances p to the first byte that is not a field-value byte (HTAB and SP included).
  bool value_run(const char*& p) noexcept {
    for (;;) {
      p = Scan::find_value_stop(p, end_);
      if (p == end_) return more(), false;
      if (*p != '\t') return true;
      ++p;
    }
  }

  ParseResult fields(const char* p, std::vector<Header>& headers) {
    for (;;) {
      if (p == end_) return more();
      if (*p == '\r') {
        if (!line_end(p)) return verdict_;
        return {ParseStatus::kComplete, static_cast<std::size_t>(p - buf_)};
      }
      if (headers.size() == HttpParser::kMaxHeaders) return {ParseStatus::kTooLarge, 0};
      const char* name = p;
      while (p < end_ && is_token_byte(*p)) ++p;
      if (p == end_) return more();
      // Also refuses obs-fold (a line starting with SP/HTAB) and whitespace before the colon.
      if (*p != ':' || p == name) return malformed();
      const std::string_view field_name(name, static_cast<std::size_t>(p - name));
      ++p;
      while (p < end_ && (*p == ' ' || *p == '\t')) ++p;
      const char* value = p;
      if (!value_run(p)) return verdict_;
      const char* value_end = p;
      if (!line_end(p)) return verdict_;
      while (value_end > value && (value_end[-1] == ' ' || value_end[-1] == '\t')) --value_end;
      headers.push_back(
          {field_name, std::string_view(value, static_cast<std::size_t>(value_end - value))});
    }
  }

  const char* buf_;
  const char* end_;
  bool capped_;
  ParseResult verdict_{ParseStatus::kIncomplete, 0};
};

}  // namespace tiny_coro::detail::TINY_CORO_SCAN_ISA
