// resolve() (resolve.h): names through getaddrinfo on the blocking pool, literals without
// it, and clear errors for names that do not resolve.
#include <tiny_coro/resolve.h>

#include <tiny_coro/scheduler.h>

#include <gtest/gtest.h>

#include <netdb.h>

#include <algorithm>

namespace tiny_coro {
namespace {

TEST(Resolve, LocalhostThroughTheSystemResolver) {
  Scheduler sched(2);
  const ResolveResult found = sched.block_on(resolve(sched, "localhost", 8080));
  ASSERT_TRUE(found) << found.error.message();
  const SocketAddress loopback = SocketAddress::parse("127.0.0.1", 8080);
  EXPECT_NE(std::find(found.addresses.begin(), found.addresses.end(), loopback),
            found.addresses.end());
  for (const SocketAddress& address : found.addresses) EXPECT_EQ(address.port(), 8080);
  EXPECT_GE(sched.metrics().blocking.calls_run, 1u);  // it went to the pool
}

TEST(Resolve, LiteralsNeedNoLookup) {
  Scheduler sched(1);
  const ResolveResult v4 = sched.block_on(resolve(sched, "10.1.2.3", 53));
  ASSERT_TRUE(v4);
  ASSERT_EQ(v4.addresses.size(), 1u);
  EXPECT_EQ(v4.addresses[0].to_string(), "10.1.2.3:53");
  const ResolveResult v6 = sched.block_on(resolve(sched, "::1", 443));
  ASSERT_TRUE(v6);
  EXPECT_EQ(v6.addresses[0].to_string(), "[::1]:443");
  EXPECT_EQ(sched.metrics().blocking.calls_run, 0u);
}

TEST(Resolve, ANameThatDoesNotResolveIsAClearError) {
  Scheduler sched(1);
  const ResolveResult found = sched.block_on(resolve(sched, "no-such-host.invalid", 80));
  ASSERT_FALSE(found);
  EXPECT_TRUE(found.addresses.empty());
  // Not found, or no resolver reachable at all: getaddrinfo's own words either way.
  EXPECT_TRUE(found.error.category() == resolve_category() ||
              found.error.category() == std::system_category());
  EXPECT_FALSE(found.error.message().empty());
  if (found.error.category() == resolve_category()) {
    EXPECT_TRUE(found.error.value() == EAI_NONAME || found.error.value() == EAI_AGAIN ||
                found.error.value() == EAI_NODATA)
        << found.error.message();
  }
}

TEST(Resolve, BadPortAndFamilyMismatchAreRefused) {
  Scheduler sched(1);
  EXPECT_EQ(sched.block_on(resolve(sched, "localhost", 70000)).error, std::errc::invalid_argument);
  const ResolveResult only_v4 =
      sched.block_on(resolve(sched, "localhost", 80, ResolveOptions{.family = AF_INET}));
  ASSERT_TRUE(only_v4);
  for (const SocketAddress& address : only_v4.addresses) EXPECT_EQ(address.family(), AF_INET);
}

TEST(Resolve, InterleavesFamiliesStartingWithTheFirst) {
  const std::vector<SocketAddress> given = {
      SocketAddress::parse("::1", 1), SocketAddress::parse("::2", 1),
      SocketAddress::parse("::3", 1), SocketAddress::parse("10.0.0.1", 1),
      SocketAddress::parse("10.0.0.2", 1)};
  std::vector<std::string> order;
  for (const SocketAddress& address : interleave_families(given)) order.push_back(address.ip());
  EXPECT_EQ(order, (std::vector<std::string>{"::1", "10.0.0.1", "::2", "10.0.0.2", "::3"}));
  EXPECT_TRUE(interleave_families({}).empty());
}

}  // namespace
}  // namespace tiny_coro
