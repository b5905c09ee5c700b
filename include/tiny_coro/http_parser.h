// HTTP/1.1 message heads (manual §3): a zero-copy request parser, a response-head parser for
// clients, and an incremental chunked-body decoder.
//
//   HttpRequest req;
//   int n = HttpParser::parse_request(buf, len, req);  // > 0 head length, -1 bad, -2 partial
//   if (n > 0) { req.method, req.path, req.get_header("host") ... }  // views into buf
//
// Every view points into the caller's buffer: it stays valid while the buffer does.
//
// Strict where laxness lets two parsers disagree about where a message ends (RFC 9112 §11.2,
// request smuggling): lines end in CRLF only (a bare CR or LF is an error), no whitespace
// before a header's colon, no obs-fold, no control bytes in the target or a field value,
// Content-Length only as one decimal number (repeats must agree), Transfer-Encoding only as
// exactly `chunked`, and never both. Bounded: kMaxHeaders fields, kMaxHeadBytes per head.
//
// Speed: the long runs — the request target and field values — are scanned 32 (AVX2) or 16
// (SSE2) bytes at a time for the first byte that ends them, picked once at run time; names
// and methods, a few bytes each, go through a 256-entry table (src/http/head_scan.h).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>
#include <vector>

namespace tiny_coro {

struct Header {
  std::string_view name;
  std::string_view value;  // without the surrounding whitespace
};

// How the body after a head is framed (RFC 9112 §6.3).
enum class BodyFraming : std::uint8_t { kNone, kContentLength, kChunked };

struct HttpRequest {
  std::string_view method;  // "GET", "POST", ... (any token)
  std::string_view path;    // the request target exactly as sent, query included
  int minor_version = 1;    // HTTP/1.<minor_version>
  std::vector<Header> headers;

  // What the parser learned from the fields that frame and steer the exchange.
  BodyFraming framing = BodyFraming::kNone;
  std::uint64_t content_length = 0;  // with kContentLength
  int host_count = 0;                // Host fields seen (HTTP/1.1 requires exactly one)
  std::string_view host;             // the first Host field's value
  bool connection_close = false;     // Connection: close
  bool connection_keep_alive = false;
  bool expect_continue = false;  // Expect: 100-continue

  // The first field named `name`, compared case-insensitively (RFC 9110 §5.1); empty if none.
  std::string_view get_header(std::string_view name) const noexcept;
  // HTTP/1.1 keeps the connection unless told to close; HTTP/1.0 closes unless told to keep.
  bool keep_alive() const noexcept {
    return minor_version >= 1 ? !connection_close : connection_keep_alive && !connection_close;
  }
  void clear() noexcept;  // keeps the headers' capacity, so a reused request does not allocate
};

struct HttpResponseHead {
  int minor_version = 1;
  int status = 0;
  std::string_view reason;
  std::vector<Header> headers;
  std::string_view get_header(std::string_view name) const noexcept;
};

enum class ParseStatus : std::int8_t {
  kComplete,    // the head ended; its length is returned alongside
  kIncomplete,  // valid so far; more bytes are needed
  kMalformed,   // not HTTP/1.x, or a rule above is broken: answer 400
  kTooLarge,    // the head outgrew kMaxHeadBytes or kMaxHeaders: answer 431
};

struct ParseResult {
  ParseStatus status;
  std::size_t head_length;  // with kComplete: bytes of the head, its final CRLF included
};

class HttpParser {
 public:
  static constexpr int kMalformed = -1;
  static constexpr int kIncomplete = -2;
  static constexpr std::size_t kMaxHeaders = 100;
  static constexpr std::size_t kMaxHeadBytes = 16 * 1024;

  // The manual's contract: the head's length (> 0), kMalformed (also for a head too large), or
  // kIncomplete.
  static int parse_request(const char* buf, std::size_t len, HttpRequest& req);
  // The same parse, telling a head too large from a malformed one.
  static ParseResult parse(const char* buf, std::size_t len, HttpRequest& req,
                           std::size_t max_head_bytes = kMaxHeadBytes);
  // A response head ("HTTP/1.1 200 OK" and fields), for clients: same return convention.
  static int parse_response(const char* buf, std::size_t len, HttpResponseHead& resp);
  // Which scanner runs: "avx2", "sse2" or "scalar".
  static const char* scanner_name() noexcept;
  // Whether a Host field's value is `uri-host [ ":" port ]` (RFC 9112 §3.2, RFC 3986 §3.2.2):
  // a registered name, an IPv4 address or a bracketed IPv6 / IPvFuture literal, then an
  // optional all-digit port. Empty is valid (a target without an authority).
  static bool valid_host(std::string_view value) noexcept;
};

// Decodes a chunked body (RFC 9112 §7.1) as it arrives, in place: each call takes the next
// bytes of the stream and moves the body bytes among them to the front of the buffer. Chunk
// extensions are checked and dropped; trailer fields are checked and dropped.
class ChunkedDecoder {
 public:
  enum class Status : std::uint8_t {
    kNeedMore,  // every byte given was used; the body goes on
    kDone,      // the body (and its trailers) ended after `consumed` bytes
    kError,     // malformed framing: answer 400 and close
  };
  struct Result {
    Status status;
    std::size_t body_bytes;  // decoded bytes now at buf[0, body_bytes)
    std::size_t consumed;    // input bytes used; with kDone the rest is the next message
  };
  static constexpr std::size_t kMaxLineExtras = 4096;  // chunk extensions per size line
  static constexpr std::size_t kMaxTrailerBytes = 16 * 1024;

  Result decode(char* buf, std::size_t len) noexcept;
  bool done() const noexcept { return state_ == State::kDone; }
  std::uint64_t decoded_bytes() const noexcept { return decoded_; }

 private:
  enum class State : std::uint8_t {
    kSizeStart,      // the first hex digit of a chunk size
    kSize,           // more hex digits
    kExtSpace,       // right after the size or an extension: ';', CR or whitespace
    kExtBws,         // whitespace that must lead to a ';'
    kExtNameStart,   // optional whitespace, then the extension name's first byte
    kExtName,        // more name bytes, whitespace, '=' or the line's end
    kExtAfterName,   // whitespace after the name: '=' or ';' must follow
    kExtValueStart,  // whitespace, then a token or a quoted string
    kExtToken,
    kExtQuoted,
    kExtQuotedPair,  // the byte after a backslash in a quoted string
    kSizeLf,         // the LF ending the size line
    kData,
    kDataCr,  // the CRLF after a chunk's data
    kDataLf,
    kTrailerStart,  // a trailer field, or the CRLF ending the body
    kTrailerName,
    kTrailerValue,
    kTrailerLf,
    kFinalLf,
    kDone,
    kError,
  };
  bool extension_byte(char c) noexcept;
  bool trailer_byte(char c) noexcept;

  State state_ = State::kSizeStart;
  std::uint64_t remaining_ = 0;  // chunk size being read, then data bytes left in the chunk
  int size_digits_ = 0;
  std::size_t line_extras_ = 0;    // extension bytes on this size line
  std::size_t trailer_bytes_ = 0;  // bytes of trailer section so far
  std::uint64_t decoded_ = 0;
};

}  // namespace tiny_coro

#ifndef TINY_CORO_NO_GLOBAL_NAMES
using tiny_coro::HttpParser;
using tiny_coro::HttpRequest;
#endif
