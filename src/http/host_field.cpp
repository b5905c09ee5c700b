// The Host field's grammar (RFC 9112 §3.2 by way of RFC 3986 §3.2.2-3.2.3). A server that
// takes a malformed Host risks it in logs, redirects and virtual-host routing, so it is 400.
#include <string_view>

#include <tiny_coro/http_parser.h>

namespace tiny_coro {
namespace {

bool is_digit(char c) noexcept { return c >= '0' && c <= '9'; }
bool is_hex(char c) noexcept {
  return is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}
bool is_alpha(char c) noexcept { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
bool is_unreserved(char c) noexcept {
  return is_alpha(c) || is_digit(c) || c == '-' || c == '.' || c == '_' || c == '~';
}
bool is_sub_delim(char c) noexcept {
  return std::string_view("!$&'()*+,;=").find(c) != std::string_view::npos;
}

bool valid_port(std::string_view port) noexcept {
  for (const char c : port) {
    if (!is_digit(c)) return false;
  }
  return true;
}

// reg-name = *( unreserved / pct-encoded / sub-delims ); an IPv4 address is one too.
bool valid_reg_name(std::string_view name) noexcept {
  for (std::size_t i = 0; i < name.size(); ++i) {
    const char c = name[i];
    if (c == '%') {
      if (i + 2 >= name.size() || !is_hex(name[i + 1]) || !is_hex(name[i + 2])) return false;
      i += 2;
    } else if (!is_unreserved(c) && !is_sub_delim(c)) {
      return false;
    }
  }
  return true;
}

// Inside the brackets: an IPv6 address (hex digits, colons, and a dotted IPv4 tail), or
// IPvFuture = "v" 1*HEXDIG "." 1*( unreserved / sub-delims / ":" ).
bool valid_ip_literal(std::string_view literal) noexcept {
  if (literal.empty()) return false;
  if (literal[0] == 'v' || literal[0] == 'V') {
    const std::size_t dot = literal.find('.');
    if (dot == std::string_view::npos || dot < 2 || dot + 1 == literal.size()) return false;
    for (std::size_t i = 1; i < dot; ++i) {
      if (!is_hex(literal[i])) return false;
    }
    for (std::size_t i = dot + 1; i < literal.size(); ++i) {
      const char c = literal[i];
      if (!is_unreserved(c) && !is_sub_delim(c) && c != ':') return false;
    }
    return true;
  }
  if (literal.find(':') == std::string_view::npos) return false;
  for (const char c : literal) {
    if (!is_hex(c) && c != ':' && c != '.') return false;
  }
  return true;
}

}  // namespace

bool HttpParser::valid_host(std::string_view value) noexcept {
  if (!value.empty() && value.front() == '[') {
    const std::size_t close = value.find(']');
    if (close == std::string_view::npos || !valid_ip_literal(value.substr(1, close - 1)))
      return false;
    const std::string_view rest = value.substr(close + 1);
    return rest.empty() || (rest.front() == ':' && valid_port(rest.substr(1)));
  }
  const std::size_t colon = value.find(':');
  if (colon == std::string_view::npos) return valid_reg_name(value);
  return valid_reg_name(value.substr(0, colon)) && valid_port(value.substr(colon + 1));
}

}  // namespace tiny_coro
