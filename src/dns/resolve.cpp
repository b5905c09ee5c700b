#include <tiny_coro/resolve.h>

#include <netdb.h>
#include <sys/socket.h>

#include <cerrno>
#include <memory>
#include <string>

#include <tiny_coro/blocking.h>

namespace tiny_coro {
namespace {

class ResolveCategory final : public std::error_category {
 public:
  const char* name() const noexcept override { return "getaddrinfo"; }
  std::string message(int code) const override { return ::gai_strerror(code); }
};

// The lookup itself, on a pool thread; owns its inputs (a detachable call: blocking.h).
struct Lookup {
  std::string host;
  std::string service;
  int family;

  ResolveResult operator()() const {
    ResolveResult result;
    addrinfo hints{};
    hints.ai_family = family;
    hints.ai_socktype = SOCK_STREAM;  // one entry per address, not one per socket type
    hints.ai_flags = AI_NUMERICSERV;
    addrinfo* found = nullptr;
    const int code = ::getaddrinfo(host.c_str(), service.c_str(), &hints, &found);
    if (code != 0) {
      result.error = code == EAI_SYSTEM ? std::error_code(errno, std::system_category())
                                        : std::error_code(code, resolve_category());
      return result;
    }
    const std::unique_ptr<addrinfo, void (*)(addrinfo*)> owner(found, &::freeaddrinfo);
    for (const addrinfo* entry = found; entry != nullptr; entry = entry->ai_next) {
      SocketAddress address(entry->ai_addr, entry->ai_addrlen);
      bool seen = false;
      for (const SocketAddress& earlier : result.addresses) seen = seen || earlier == address;
      if (!seen) result.addresses.push_back(address);
    }
    if (result.addresses.empty()) result.error = std::error_code(EAI_NONAME, resolve_category());
    return result;
  }
};

}  // namespace

const std::error_category& resolve_category() noexcept {
  static const ResolveCategory category;
  return category;
}

Task<ResolveResult> resolve(Scheduler& scheduler, std::string host, int port,
                            ResolveOptions options) {
  ResolveResult result;
  if (port < 0 || port > 65535) {
    result.error = std::make_error_code(std::errc::invalid_argument);
    co_return result;
  }
  // An IP literal needs no lookup (and no pool hop).
  if (SocketAddress literal = SocketAddress::parse(host.c_str(), port);
      literal && (options.family == AF_UNSPEC || literal.family() == options.family)) {
    result.addresses.push_back(literal);
    co_return result;
  }
  // Named, not a temporary in the co_await: g++ 12 can copy an aggregate temporary of a
  // co_await's operand bit for bit, leaving its strings pointing into the frame.
  Lookup lookup{std::move(host), std::to_string(port), options.family};
  co_return co_await run_blocking_detachable(scheduler, std::move(lookup));
}

std::vector<SocketAddress> interleave_families(const std::vector<SocketAddress>& addresses) {
  if (addresses.empty()) return {};
  const int first_family = addresses.front().family();
  std::vector<SocketAddress> preferred;
  std::vector<SocketAddress> other;
  for (const SocketAddress& address : addresses) {
    (address.family() == first_family ? preferred : other).push_back(address);
  }
  std::vector<SocketAddress> order;
  order.reserve(addresses.size());
  for (std::size_t i = 0; i < preferred.size() || i < other.size(); ++i) {
    if (i < preferred.size()) order.push_back(preferred[i]);
    if (i < other.size()) order.push_back(other[i]);
  }
  return order;
}

}  // namespace tiny_coro
