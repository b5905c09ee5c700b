// Byte classes of HTTP/1.1 syntax, shared by the head parser and the chunked decoder.
#pragma once

#include <array>
#include <cstddef>
#include <string_view>

namespace tiny_coro::detail {

// RFC 9110 §5.6.2: tchar = "!" / "#" / "$" / "%" / "&" / "'" / "*" / "+" / "-" / "." /
// "^" / "_" / "`" / "|" / "~" / DIGIT / ALPHA
inline constexpr std::array<bool, 256> kTokenByte = [] {
  std::array<bool, 256> table{};
  for (int c = '0'; c <= '9'; ++c) table[static_cast<std::size_t>(c)] = true;
  for (int c = 'a'; c <= 'z'; ++c) table[static_cast<std::size_t>(c)] = true;
  for (int c = 'A'; c <= 'Z'; ++c) table[static_cast<std::size_t>(c)] = true;
  for (char c : std::string_view("!#$%&'*+-.^_`|~")) table[static_cast<unsigned char>(c)] = true;
  return table;
}();

// RFC 9110 §5.5: field-vchar (VCHAR / obs-text), SP and HTAB may appear in a field value.
inline constexpr std::array<bool, 256> kValueByte = [] {
  std::array<bool, 256> table{};
  table['\t'] = true;
  for (int c = 0x20; c < 0x100; ++c) table[static_cast<std::size_t>(c)] = c != 0x7f;
  return table;
}();

}  // namespace tiny_coro::detail
