// HttpParser: the manual's contract, every split of valid requests, reads bounded by a guard
// page, every strictness rule, and agreement between the scanner copies.
#include <tiny_coro/http_parser.h>

#include <gtest/gtest.h>

#include <fstream>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "http/head_parsers.h"
#include "support/guard_page.h"

namespace tiny_coro {
namespace {

constexpr const char* kBrowserRequestPath = TINY_CORO_TEST_DATA_DIR "/browser_request.txt";

std::string browser_request() {
  std::ifstream in(kBrowserRequestPath, std::ios::binary);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

ParseStatus status_of(std::string_view text) {
  HttpRequest req;
  return HttpParser::parse(text.data(), text.size(), req).status;
}

TEST(HttpParser, ParsesAMinimalRequest) {
  const std::string text = "GET / HTTP/1.1\r\n\r\n";
  HttpRequest req;
  ASSERT_EQ(HttpParser::parse_request(text.data(), text.size(), req),
            static_cast<int>(text.size()));
  EXPECT_EQ(req.method, "GET");
  EXPECT_EQ(req.path, "/");
  EXPECT_EQ(req.minor_version, 1);
  EXPECT_TRUE(req.headers.empty());
  EXPECT_EQ(req.framing, BodyFraming::kNone);
  EXPECT_TRUE(req.keep_alive());
}

TEST(HttpParser, ParsesTheBrowserRequestIntoViews) {
  const std::string text = browser_request();
  ASSERT_EQ(text.size(), 703u);
  HttpRequest req;
  ASSERT_EQ(HttpParser::parse_request(text.data(), text.size(), req), 703);
  EXPECT_EQ(req.method, "GET");
  EXPECT_EQ(req.path, "/wp-content/uploads/2010/03/hello-kitty-darth-vader-pink.jpg");
  EXPECT_EQ(req.headers.size(), 9u);
  EXPECT_EQ(req.get_header("host"), "www.kittyhell.com");
  EXPECT_EQ(req.get_header("HOST"), "www.kittyhell.com");
  EXPECT_EQ(req.get_header("Keep-Alive"), "115");
  EXPECT_EQ(req.get_header("missing"), "");
  EXPECT_EQ(req.host_count, 1);
  EXPECT_TRUE(req.connection_keep_alive);
  for (const Header& h : req.headers) {  // zero copy: every view lies inside the input
    EXPECT_GE(h.value.data(), text.data());
    EXPECT_LE(h.value.data() + h.value.size(), text.data() + text.size());
  }
}

TEST(HttpParser, EveryPrefixOfAValidRequestIsIncompleteAndTheWholeParsesTheSame) {
  const std::vector<std::string> requests = {
      "GET / HTTP/1.1\r\n\r\n",
      browser_request(),
      "\r\nPOST /upload?x=1 HTTP/1.0\r\nContent-Length: 12\r\nX-Tab:\tvalue\t \r\n\r\n",
      "PUT /a HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\nExpect: 100-continue\r\n\r\n",
  };
  test::GuardedBuffer guard(64 * 1024);
  for (const std::string& text : requests) {
    HttpRequest whole;
    const int length = HttpParser::parse_request(text.data(), text.size(), whole);
    ASSERT_EQ(length, static_cast<int>(text.size())) << text;
    for (std::size_t cut = 0; cut < text.size(); ++cut) {
      const char* placed = guard.place(std::string_view(text).substr(0, cut));
      HttpRequest req;
      ASSERT_EQ(HttpParser::parse_request(placed, cut, req), HttpParser::kIncomplete)
          << "cut at " << cut << " of " << text;
    }
    const char* placed = guard.place(text);
    HttpRequest req;
    ASSERT_EQ(HttpParser::parse_request(placed, text.size(), req), length);
    EXPECT_EQ(req.method, whole.method);
    EXPECT_EQ(req.path, whole.path);
    ASSERT_EQ(req.headers.size(), whole.headers.size());
    for (std::size_t i = 0; i < req.headers.size(); ++i) {
      EXPECT_EQ(req.headers[i].name, whole.headers[i].name);
      EXPECT_EQ(req.headers[i].value, whole.headers[i].value);
    }
  }
}

TEST(HttpParser, EveryScannerCopyStopsAtTheGuardPage) {
  detail::HeadParsers parsers[3];
  const std::size_t count = detail::usable_head_parsers(parsers, 3);
  test::GuardedBuffer guard(64 * 1024);
  const std::string text = browser_request();
  for (std::size_t i = 0; i < count; ++i) {
    for (std::size_t cut = 0; cut <= text.size(); ++cut) {
      const char* placed = guard.place(std::string_view(text).substr(0, cut));
      HttpRequest req;
      const ParseResult result = parsers[i].request(placed, cut, req, HttpParser::kMaxHeadBytes);
      EXPECT_EQ(result.status,
                cut == text.size() ? ParseStatus::kComplete : ParseStatus::kIncomplete)
          << parsers[i].name << " cut " << cut;
    }
  }
}

TEST(HttpParser, ScannerCopiesAgreeOnRandomInput) {
  detail::HeadParsers parsers[3];
  const std::size_t count = detail::usable_head_parsers(parsers, 3);
  std::mt19937 rng(12345);
  const std::string base = browser_request();
  const std::string alphabet = std::string("\r\n\t :\x7f\x01\x80") + "aZ/";
  for (int round = 0; round < 20000; ++round) {
    std::string text = base.substr(0, rng() % base.size() + 1);
    for (int flips = static_cast<int>(rng() % 3); flips > 0; --flips) {
      text[rng() % text.size()] = alphabet[rng() % alphabet.size()];
    }
    HttpRequest reference;
    const ParseResult expected =
        parsers[count - 1].request(text.data(), text.size(), reference, 600);
    for (std::size_t i = 0; i + 1 < count; ++i) {
      HttpRequest req;
      const ParseResult got = parsers[i].request(text.data(), text.size(), req, 600);
      ASSERT_EQ(got.status, expected.status) << parsers[i].name << ": " << text;
      ASSERT_EQ(got.head_length, expected.head_length);
      ASSERT_EQ(req.headers.size(), reference.headers.size());
    }
  }
}

TEST(HttpParser, RejectsBadRequestLines) {
  EXPECT_EQ(status_of("G(T / HTTP/1.1\r\n\r\n"), ParseStatus::kMalformed);  // not a token
  EXPECT_EQ(status_of(" GET / HTTP/1.1\r\n\r\n"), ParseStatus::kMalformed);
  EXPECT_EQ(status_of("GET  / HTTP/1.1\r\n\r\n"), ParseStatus::kMalformed);  // empty target
  EXPECT_EQ(status_of("GET /a\x7f HTTP/1.1\r\n\r\n"), ParseStatus::kMalformed);
  EXPECT_EQ(status_of("GET /a\x01 HTTP/1.1\r\n\r\n"), ParseStatus::kMalformed);
  EXPECT_EQ(status_of("GET /\xc3\xa9 HTTP/1.1\r\n\r\n"), ParseStatus::kMalformed);
  EXPECT_EQ(status_of("GET / HTTP/2.0\r\n\r\n"), ParseStatus::kMalformed);
  EXPECT_EQ(status_of("GET / HTTX"), ParseStatus::kMalformed);             // refused before the end
  EXPECT_EQ(status_of("GET / HTTP/1.1\n\r\n"), ParseStatus::kMalformed);   // bare LF
  EXPECT_EQ(status_of("GET / HTTP/1.1\rX\r\n"), ParseStatus::kMalformed);  // bare CR
  EXPECT_EQ(status_of("GET / HTTP/1.1 \r\n\r\n"), ParseStatus::kMalformed);
  EXPECT_EQ(status_of("\r\r\nGET / HTTP/1.1\r\n\r\n"), ParseStatus::kMalformed);
}

TEST(HttpParser, RejectsBadFieldLines) {
  EXPECT_EQ(status_of("GET / HTTP/1.1\r\nHost : a\r\n\r\n"), ParseStatus::kMalformed);
  EXPECT_EQ(status_of("GET / HTTP/1.1\r\nHo(st: a\r\n\r\n"), ParseStatus::kMalformed);
  EXPECT_EQ(status_of("GET / HTTP/1.1\r\n: a\r\n\r\n"), ParseStatus::kMalformed);
  EXPECT_EQ(status_of("GET / HTTP/1.1\r\nA: b\r\n c\r\n\r\n"),
            ParseStatus::kMalformed);  // obs-fold
  EXPECT_EQ(status_of("GET / HTTP/1.1\r\nA: b\r\n\tc\r\n\r\n"), ParseStatus::kMalformed);
  EXPECT_EQ(status_of("GET / HTTP/1.1\r\nA: b\rc\r\n\r\n"), ParseStatus::kMalformed);  // bare CR
  EXPECT_EQ(status_of("GET / HTTP/1.1\r\nA: b\nB: c\r\n\r\n"), ParseStatus::kMalformed);
  constexpr char kNul[] = "GET / HTTP/1.1\r\nA: b\0c\r\n\r\n";
  EXPECT_EQ(status_of(std::string(kNul, sizeof(kNul) - 1)), ParseStatus::kMalformed);
  EXPECT_EQ(status_of("GET / HTTP/1.1\r\nA: b\x7f\r\n\r\n"), ParseStatus::kMalformed);
  EXPECT_EQ(status_of("GET / HTTP/1.1\r\nA\r\n\r\n"), ParseStatus::kMalformed);
  EXPECT_EQ(status_of("GET / HTTP/1.1\r\n\r\r\n"), ParseStatus::kMalformed);
}

TEST(HttpParser, KeepsTabsAndObsTextInsideValuesAndTrimsTheEdges) {
  const std::string text = "GET / HTTP/1.1\r\nA: \t x\ty \xff \t\r\nB:\r\n\r\n";
  HttpRequest req;
  ASSERT_GT(HttpParser::parse_request(text.data(), text.size(), req), 0);
  EXPECT_EQ(req.get_header("a"), "x\ty \xff");
  EXPECT_EQ(req.get_header("b"), "");
}

TEST(HttpParser, BoundsHeaderCountAndHeadSize) {
  std::string many = "GET / HTTP/1.1\r\n";
  for (std::size_t i = 0; i < HttpParser::kMaxHeaders; ++i) many += "X: y\r\n";
  EXPECT_EQ(status_of(many + "\r\n"), ParseStatus::kComplete);
  EXPECT_EQ(status_of(many + "X: y\r\n\r\n"), ParseStatus::kTooLarge);

  std::string big = "GET / HTTP/1.1\r\nX: " + std::string(HttpParser::kMaxHeadBytes, 'a');
  EXPECT_EQ(status_of(big), ParseStatus::kTooLarge);
  EXPECT_EQ(status_of(big + "\r\n\r\n"), ParseStatus::kTooLarge);
  HttpRequest req;
  EXPECT_EQ(HttpParser::parse_request(big.data(), big.size(), req), HttpParser::kMalformed);
  // Just under the cap still parses.
  std::string fits = "GET / HTTP/1.1\r\nX: ";
  fits += std::string(HttpParser::kMaxHeadBytes - fits.size() - 4, 'a') + "\r\n\r\n";
  ASSERT_EQ(fits.size(), HttpParser::kMaxHeadBytes);
  EXPECT_EQ(status_of(fits), ParseStatus::kComplete);
}

TEST(HttpParser, ReadsBodyFraming) {
  HttpRequest req;
  std::string text = "POST / HTTP/1.1\r\nContent-Length: 42\r\ncontent-length: 42\r\n\r\n";
  ASSERT_GT(HttpParser::parse_request(text.data(), text.size(), req), 0);
  EXPECT_EQ(req.framing, BodyFraming::kContentLength);
  EXPECT_EQ(req.content_length, 42u);
  text = "POST / HTTP/1.1\r\nTransfer-Encoding:  Chunked \r\n\r\n";
  ASSERT_GT(HttpParser::parse_request(text.data(), text.size(), req), 0);
  EXPECT_EQ(req.framing, BodyFraming::kChunked);
  text = "POST / HTTP/1.1\r\nContent-Length: 18446744073709551615\r\n\r\n";
  ASSERT_GT(HttpParser::parse_request(text.data(), text.size(), req), 0);
  EXPECT_EQ(req.content_length, 18446744073709551615u);
}

TEST(HttpParser, RejectsAmbiguousBodyFraming) {
  EXPECT_EQ(status_of("POST / HTTP/1.1\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n"),
            ParseStatus::kMalformed);
  EXPECT_EQ(status_of("POST / HTTP/1.1\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\n"),
            ParseStatus::kMalformed);
  for (const char* bad : {"+5", "-5", "5a", "0x5", "5 5", "5,5", "", "18446744073709551616",
                          "99999999999999999999999"}) {
    EXPECT_EQ(status_of(std::string("POST / HTTP/1.1\r\nContent-Length: ") + bad + "\r\n\r\n"),
              ParseStatus::kMalformed)
        << bad;
  }
  for (const char* bad : {"gzip", "gzip, chunked", "chunked, gzip", "chunked, chunked", "",
                          "identity", "chunked;q=1"}) {
    EXPECT_EQ(status_of(std::string("POST / HTTP/1.1\r\nTransfer-Encoding: ") + bad + "\r\n\r\n"),
              ParseStatus::kMalformed)
        << bad;
  }
  EXPECT_EQ(status_of("POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: "
                      "chunked\r\n\r\n"),
            ParseStatus::kMalformed);
  EXPECT_EQ(status_of("POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n"),
            ParseStatus::kMalformed);
}

TEST(HttpParser, ReadsConnectionAndExpect) {
  HttpRequest req;
  std::string text = "GET / HTTP/1.1\r\nConnection: foo, Close\r\nExpect: 100-Continue\r\n\r\n";
  ASSERT_GT(HttpParser::parse_request(text.data(), text.size(), req), 0);
  EXPECT_TRUE(req.connection_close);
  EXPECT_TRUE(req.expect_continue);
  EXPECT_FALSE(req.keep_alive());
  text = "GET / HTTP/1.0\r\n\r\n";
  ASSERT_GT(HttpParser::parse_request(text.data(), text.size(), req), 0);
  EXPECT_EQ(req.minor_version, 0);
  EXPECT_FALSE(req.keep_alive());
  text = "GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n";
  ASSERT_GT(HttpParser::parse_request(text.data(), text.size(), req), 0);
  EXPECT_TRUE(req.keep_alive());
  EXPECT_FALSE(req.expect_continue);
}

TEST(HttpParser, ParsesResponseHeads) {
  HttpResponseHead resp;
  std::string text = "HTTP/1.1 404 Not Found\r\nContent-Length: 3\r\n\r\nabc";
  ASSERT_EQ(HttpParser::parse_response(text.data(), text.size(), resp),
            static_cast<int>(text.size()) - 3);
  EXPECT_EQ(resp.status, 404);
  EXPECT_EQ(resp.reason, "Not Found");
  EXPECT_EQ(resp.get_header("content-length"), "3");
  text = "HTTP/1.0 200\r\n\r\n";
  ASSERT_GT(HttpParser::parse_response(text.data(), text.size(), resp), 0);
  EXPECT_EQ(resp.status, 200);
  EXPECT_EQ(resp.minor_version, 0);
  text = "HTTP/1.1 20";
  EXPECT_EQ(HttpParser::parse_response(text.data(), text.size(), resp), HttpParser::kIncomplete);
  text = "HTTP/1.1 2x0 OK\r\n\r\n";
  EXPECT_EQ(HttpParser::parse_response(text.data(), text.size(), resp), HttpParser::kMalformed);
}

TEST(HttpParser, ValidHostIsUriHostAndAnOptionalPort) {
  for (const char* good :
       {"", "example.com", "example.com:8080", "a", "127.0.0.1:80", "[::1]", "[::1]:8443",
        "[2001:db8::7]", "[::ffff:192.0.2.1]:80", "[v7.x:y]", "host:", "xn--bcher-kva.example",
        "a%2Db.example", "sub_delims!$&'()*+,;="}) {
    EXPECT_TRUE(HttpParser::valid_host(good)) << good;
  }
  for (const char* bad :
       {"a b", "user@host", "host/path", "host?q", "host#f", "a:b:c", "a:80x", "[::1", "[]",
        "[::1]x", "[::1]:8x", "[g::1]", "[v.x]", "[v7.]", "%4", "%zz", "a\tb", "\xff"}) {
    EXPECT_FALSE(HttpParser::valid_host(bad)) << bad;
  }
}

}  // namespace
}  // namespace tiny_coro
