// SocketAddress: parsing, printing, equality, and copies of what the kernel hands back.
#include <tiny_coro/address.h>

#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <array>
#include <cerrno>
#include <cstring>

namespace tiny_coro {
namespace {

TEST(UdpAddress, ParsesBothFamiliesAndPrintsThemBack) {
  const SocketAddress v4 = SocketAddress::parse("127.0.0.1", 80);
  ASSERT_TRUE(v4);
  EXPECT_EQ(v4.family(), AF_INET);
  EXPECT_EQ(v4.port(), 80);
  EXPECT_EQ(v4.ip(), "127.0.0.1");
  EXPECT_EQ(v4.to_string(), "127.0.0.1:80");
  EXPECT_EQ(v4.size(), sizeof(sockaddr_in));

  const SocketAddress v6 = SocketAddress::parse("[::1]", 443);
  ASSERT_TRUE(v6);
  EXPECT_EQ(v6.family(), AF_INET6);
  EXPECT_EQ(v6.to_string(), "[::1]:443");
  EXPECT_EQ(v6, SocketAddress::parse("::1", 443));
  EXPECT_NE(v6, SocketAddress::parse("::1", 444));
  EXPECT_NE(v4, SocketAddress::parse("127.0.0.2", 80));
}

TEST(UdpAddress, MalformedInputGivesAnEmptyAddressAndEinval) {
  for (const char* bad : {"", "1.2.3", "::g", "[::1", "localhost", "1.2.3.4:80"}) {
    errno = 0;
    const SocketAddress address = SocketAddress::parse(bad, 80);
    EXPECT_FALSE(address) << bad;
    EXPECT_EQ(errno, EINVAL) << bad;
  }
  errno = 0;
  EXPECT_FALSE(SocketAddress::parse("127.0.0.1", 65536));
  EXPECT_EQ(errno, EINVAL);
  EXPECT_FALSE(SocketAddress::parse(nullptr, 1));
}

TEST(UdpAddress, AnEmptyAddressIsUnspecifiedAndEqualOnlyToAnother) {
  const SocketAddress empty;
  EXPECT_FALSE(empty);
  EXPECT_EQ(empty.family(), AF_UNSPEC);
  EXPECT_EQ(empty.port(), 0);
  EXPECT_EQ(empty.to_string(), "");
  EXPECT_EQ(empty, SocketAddress());
  EXPECT_NE(empty, SocketAddress::parse("0.0.0.0", 0));
}

TEST(UdpAddress, CopiesARawSockaddrClampedToItsCapacity) {
  const SocketAddress parsed = SocketAddress::parse("10.1.2.3", 9);
  const SocketAddress copy(parsed.data(), parsed.size());
  EXPECT_EQ(copy, parsed);
  std::array<char, 512> oversized{};
  std::memcpy(oversized.data(), parsed.data(), parsed.size());
  const SocketAddress clamped(reinterpret_cast<const sockaddr*>(oversized.data()),
                              static_cast<socklen_t>(oversized.size()));
  EXPECT_EQ(clamped.size(), SocketAddress::capacity());
  EXPECT_EQ(clamped.to_string(), "10.1.2.3:9");
}

}  // namespace
}  // namespace tiny_coro
