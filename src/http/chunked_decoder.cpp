// ChunkedDecoder (http_parser.h): RFC 9112 §7.1, one byte-driven state machine, except that
// chunk data moves in bulk. Strict like the head parser: CRLF only, a size of 1–16 hex digits,
// extensions only as `;name[=token|"quoted"]` with optional whitespace around (BWS), trailer
// fields only as `token:value`. Each size line's extensions and the whole trailer section are
// bounded, so a peer cannot make the decoder spin on a line that never ends.
#include <tiny_coro/http_parser.h>

#include <cstring>

#include "http/head_tables.h"

namespace tiny_coro {
namespace {

int hex_value(char c) noexcept {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

bool is_token(char c) noexcept { return detail::kTokenByte[static_cast<unsigned char>(c)]; }
bool is_space(char c) noexcept { return c == ' ' || c == '\t'; }

// qdtext / the byte of a quoted-pair (RFC 9110 §5.6.4): HTAB, SP, VCHAR, obs-text but DEL.
bool is_quoted_byte(char c) noexcept { return detail::kValueByte[static_cast<unsigned char>(c)]; }

}  // namespace

ChunkedDecoder::Result ChunkedDecoder::decode(char* buf, std::size_t len) noexcept {
  std::size_t in = 0;
  std::size_t out = 0;
  auto fail = [&] {
    state_ = State::kError;
    return Result{Status::kError, out, in};
  };
  if (state_ == State::kError) return fail();
  if (state_ == State::kDone) return {Status::kDone, 0, 0};

  while (in < len) {
    if (state_ == State::kData) {
      const std::size_t take =
          remaining_ < len - in ? static_cast<std::size_t>(remaining_) : len - in;
      if (out != in) std::memmove(buf + out, buf + in, take);
      in += take;
      out += take;
      remaining_ -= take;
      decoded_ += take;
      if (remaining_ == 0) state_ = State::kDataCr;
      continue;
    }
    const char c = buf[in++];
    switch (state_) {
      case State::kSizeStart:
      case State::kSize: {
        const int digit = hex_value(c);
        if (digit >= 0) {
          if (++size_digits_ > 16) return fail();
          remaining_ = remaining_ << 4 | static_cast<std::uint64_t>(digit);
          state_ = State::kSize;
          break;
        }
        if (state_ == State::kSizeStart) return fail();
        line_extras_ = 0;
        state_ = State::kExtSpace;
        if (!extension_byte(c)) return fail();
        break;
      }
      case State::kExtSpace:
      case State::kExtBws:
      case State::kExtNameStart:
      case State::kExtName:
      case State::kExtAfterName:
      case State::kExtValueStart:
      case State::kExtToken:
      case State::kExtQuoted:
      case State::kExtQuotedPair:
        if (++line_extras_ > kMaxLineExtras) return fail();
        if (!extension_byte(c)) return fail();
        break;
      case State::kSizeLf:
        if (c != '\n') return fail();
        size_digits_ = 0;
        state_ = remaining_ == 0 ? State::kTrailerStart : State::kData;
        break;
      case State::kDataCr:
        if (c != '\r') return fail();
        state_ = State::kDataLf;
        break;
      case State::kDataLf:
        if (c != '\n') return fail();
        state_ = State::kSizeStart;
        break;
      case State::kTrailerStart:
      case State::kTrailerName:
      case State::kTrailerValue:
      case State::kTrailerLf:
      case State::kFinalLf:
        if (++trailer_bytes_ > kMaxTrailerBytes) return fail();
        if (!trailer_byte(c)) return fail();
        if (state_ == State::kDone) return {Status::kDone, out, in};
        break;
      case State::kData:
      case State::kDone:
      case State::kError:
        return fail();  // unreachable: handled above
    }
  }
  return {Status::kNeedMore, out, in};
}

// One byte of `;name[=value]` extensions after a chunk size, up to the line's CR. Whitespace
// (BWS) may only precede a ';' or an '=', or follow them: "5 \r\n" is malformed, as a
// lenient peer might read it differently.
bool ChunkedDecoder::extension_byte(char c) noexcept {
  switch (state_) {
    case State::kExtSpace:  // right after the size or a value
      if (is_space(c)) return state_ = State::kExtBws, true;
      if (c == ';') return state_ = State::kExtNameStart, true;
      return c == '\r' && (state_ = State::kSizeLf, true);
    case State::kExtBws:
      if (is_space(c)) return true;
      return c == ';' && (state_ = State::kExtNameStart, true);
    case State::kExtNameStart:
      if (is_space(c)) return true;
      return is_token(c) && (state_ = State::kExtName, true);
    case State::kExtName:
      if (is_token(c)) return true;
      if (c == '\r') return state_ = State::kSizeLf, true;
      [[fallthrough]];
    case State::kExtAfterName:
      if (is_space(c)) return state_ = State::kExtAfterName, true;
      if (c == '=') return state_ = State::kExtValueStart, true;
      return c == ';' && (state_ = State::kExtNameStart, true);
    case State::kExtValueStart:
      if (is_space(c)) return true;
      if (c == '"') return state_ = State::kExtQuoted, true;
      return is_token(c) && (state_ = State::kExtToken, true);
    case State::kExtToken:
      if (is_token(c)) return true;
      state_ = State::kExtSpace;
      return extension_byte(c);
    case State::kExtQuoted:
      if (c == '"') return state_ = State::kExtSpace, true;
      if (c == '\\') return state_ = State::kExtQuotedPair, true;
      return is_quoted_byte(c);
    case State::kExtQuotedPair:
      return is_quoted_byte(c) && (state_ = State::kExtQuoted, true);
    default:
      return false;
  }
}

// One byte of the trailer section: fields `name:value CRLF`, then the final CRLF.
bool ChunkedDecoder::trailer_byte(char c) noexcept {
  switch (state_) {
    case State::kTrailerStart:
      if (c == '\r') return state_ = State::kFinalLf, true;
      return is_token(c) && (state_ = State::kTrailerName, true);
    case State::kTrailerName:
      if (is_token(c)) return true;
      return c == ':' && (state_ = State::kTrailerValue, true);
    case State::kTrailerValue:
      if (c == '\r') return state_ = State::kTrailerLf, true;
      return is_quoted_byte(c);
    case State::kTrailerLf:
      return c == '\n' && (state_ = State::kTrailerStart, true);
    case State::kFinalLf:
      return c == '\n' && (state_ = State::kDone, true);
    default:
      return false;
  }
}

}  // namespace tiny_coro
