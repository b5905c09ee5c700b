// Name resolution and connecting by host name (tokio::net::lookup_host, TcpStream::connect
// with a name; Go's net.Dial).
//
//   tiny_coro::ResolveResult found = co_await tiny_coro::resolve(sched, "example.com", 443);
//   if (!found) std::cerr << found.error.message();         // "Name or service not known"
//
//   tiny_coro::Connected c = co_await tiny_coro::connect_host(sched, "example.com", 443);
//   if (!c) std::cerr << c.error.message();
//   co_await c.socket.write(request);
//
// resolve() runs getaddrinfo(3) on the blocking pool (blocking.h) as a detachable call: a
// cancelled (or timed out) resolve returns at once even if the resolver hangs; the lookup
// ends on the pool and its answer is dropped. An IP literal is parsed here without any
// lookup. To bound a lookup in time, wrap it in timeout() (timeout.h).
//
// connect_host() is Happy Eyeballs (RFC 8305): the addresses are ordered with the two
// families interleaved, the first family as the resolver returned it (IPv6 first where the
// system prefers it, RFC 6724); the first attempt starts at once and each next one when
// the one before it fails, or `attempt_delay` (250 ms) after it started, whichever comes
// first. The first connection made wins; every other attempt is cancelled and has finished
// — its socket closed — before connect_host returns. If all fail, the error is the first
// attempt's (usually the preferred family's, the most telling). A cancelled connect_host
// cancels its attempts and waits for them the same way.
#pragma once

#include <chrono>
#include <functional>
#include <string>
#include <system_error>
#include <vector>

#include <tiny_coro/address.h>
#include <tiny_coro/scheduler.h>
#include <tiny_coro/socket.h>
#include <tiny_coro/task.h>

namespace tiny_coro {

// getaddrinfo's EAI_* codes as std::error_code values (messages from gai_strerror). An
// EAI_SYSTEM failure is reported as the errno behind it instead, in std::system_category().
const std::error_category& resolve_category() noexcept;

struct ResolveResult {
  std::vector<SocketAddress> addresses;  // in the resolver's order of preference
  std::error_code error;                 // set when there is none
  explicit operator bool() const noexcept { return !error; }
};

struct ResolveOptions {
  int family = AF_UNSPEC;  // AF_INET or AF_INET6 to ask for one family only
};

// The addresses of `host` for a stream connection to `port`.
Task<ResolveResult> resolve(Scheduler& scheduler, std::string host, int port,
                            ResolveOptions options = {});

// What connect_host() resolves names with: the system's by default; a test, or a program
// with its own DNS client, gives another.
using Resolver = std::function<Task<ResolveResult>(std::string host, int port)>;

struct ConnectOptions {
  Resolver resolver;  // empty: resolve() with the system resolver
  std::chrono::milliseconds attempt_delay{250};  // RFC 8305's recommended stagger
  // Each attempt's own bound (0: none, the kernel's SYN retries, about two minutes); the
  // whole connect is bounded by wrapping it in timeout().
  std::chrono::milliseconds attempt_timeout{0};
};

struct Connected {
  AsyncSocket socket;  // open on success
  SocketAddress peer;  // the address that answered
  std::error_code error;
  explicit operator bool() const noexcept { return !error; }
};

Task<Connected> connect_host(Scheduler& scheduler, std::string host, int port,
                             ConnectOptions options = {});

// The order connect_host tries `addresses` in (RFC 8305 §4): families interleaved, starting
// with the family of the first address.
std::vector<SocketAddress> interleave_families(const std::vector<SocketAddress>& addresses);

}  // namespace tiny_coro
