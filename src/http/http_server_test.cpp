// HttpServer::serve end to end on loopback: a real Scheduler serving, a blocking client on
// the test thread.
#include <tiny_coro/http_server.h>

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <sstream>
#include <string>
#include <vector>

#include <tiny_coro/async_event.h>
#include <tiny_coro/scheduler.h>
#include <tiny_coro/socket.h>
#include <tiny_coro/unix_socket.h>

#include "support/http_client.h"
#include "support/unix_name.h"
#include "support/wait_for.h"

namespace tiny_coro {
namespace {

using test::BlockingClient;

Task<void> serve_connection(AsyncSocket socket, const HttpRouter& router,
                            const HttpServerOptions& options) {
  co_await HttpServer(socket).serve(router, options);
}

template <class Listener>  // TcpListener or UnixListener
Task<void> accept_loop(Scheduler& sched, Listener& listener, const HttpRouter& router,
                       const HttpServerOptions& options) {
  for (;;) {
    AsyncSocket socket = co_await listener.accept();
    if (!socket) co_return;
    sched.spawn(serve_connection(std::move(socket), router, options));
  }
}

// Handlers: hello, echo of the body, a body-ignoring one, a thrower.
Task<HttpResponse> hello(HttpExchange&) { co_return HttpResponse::text(200, "Hello, World!"); }

Task<HttpResponse> echo_body(HttpExchange& exchange) {
  std::string body;
  char buf[1000];
  for (;;) {
    const ssize_t n = co_await exchange.read_body(buf, sizeof(buf));
    if (n < 0) co_return HttpResponse::text(n == -EMSGSIZE ? 413 : 400, "body error\n");
    if (n == 0) break;
    body.append(buf, static_cast<std::size_t>(n));
  }
  co_return HttpResponse::text(200, body);
}

Task<HttpResponse> path_and_query(HttpExchange& exchange) {
  co_return HttpResponse::text(200,
                               std::string(exchange.path()) + "|" + std::string(exchange.query()));
}

Task<HttpResponse> throws(HttpExchange&) {
  throw std::runtime_error("handler bug");
  co_return HttpResponse{};
}

std::atomic<int> gate_entered{0};
Event* gate = nullptr;  // the drain test's: opened once the drain has begun
Task<HttpResponse> gated(HttpExchange&) {
  gate_entered.fetch_add(1);
  co_await gate->wait();
  co_return HttpResponse::text(200, "gated");
}

// Never answers unless cancelled; `stuck_alive` counts its unfinished runs.
std::atomic<int> stuck_alive{0};
Event* never = nullptr;  // the handler-timeout test's: never set
Task<HttpResponse> stuck(HttpExchange&) {
  struct Alive {
    Alive() { stuck_alive.fetch_add(1); }
    ~Alive() { stuck_alive.fetch_sub(1); }
  } alive;
  co_await never->wait();
  co_return HttpResponse::text(200, "unreachable");
}

// Bytes shared by every response that sends them, as a file cache's are; one body below the
// copy limit, one far above it (written with the head in one writev).
struct SharedPage {
  std::string fields = "Content-Type: text/x-shared\r\nETag: \"v1\"\r\n";
  std::string body;
};
std::shared_ptr<const SharedPage> make_shared_page(std::size_t size) {
  auto page = std::make_shared<SharedPage>();
  for (std::size_t i = 0; i < size; ++i) page->body.push_back(static_cast<char>('a' + i % 26));
  return page;
}
const std::shared_ptr<const SharedPage> small_page = make_shared_page(100);
const std::shared_ptr<const SharedPage> large_page = make_shared_page(3 << 20);

HttpResponse shared_response(const std::shared_ptr<const SharedPage>& page) {
  HttpResponse response;
  response.shared = HttpSharedBytes{page, page->fields, page->body};
  return response;
}
Task<HttpResponse> shared_small(HttpExchange&) { co_return shared_response(small_page); }
Task<HttpResponse> shared_large(HttpExchange&) { co_return shared_response(large_page); }

// Saves the body into a temporary directory, removed again however the handler ends.
Task<HttpResponse> save_to_temp(HttpExchange& exchange) {
  char pattern[] = "/tmp/tiny_coro_save_XXXXXX";
  if (::mkdtemp(pattern) == nullptr) co_return HttpResponse::text(500, "mkdtemp\n");
  struct RemoveAll {
    std::string dir;
    ~RemoveAll() { std::filesystem::remove_all(dir); }
  } remove{pattern};
  const HttpExchange::SavedBody saved = co_await exchange.save_body(remove.dir + "/body.bin");
  co_return HttpResponse::text(saved.error ? 500 : 201, std::to_string(saved.bytes) + "\n");
}

// Serves on 127.0.0.1 (a free port), or on the Unix socket `unix_name` if one is given.
struct ServerFixture {
  explicit ServerFixture(HttpServerOptions server_options = {}, const std::string& unix_name = {})
      : options(server_options), sched(2), listener(sched.reactor()),
        unix_listener(sched.reactor()) {
    router.get("/hello", hello)
        .post("/echo", echo_body)
        .put("/echo", echo_body)
        .get("/throw", throws)
        .get("/gated", gated)
        .get("/stuck", stuck)
        .get("/shared/small", shared_small)
        .get("/shared/large", shared_large)
        .put("/save", save_to_temp)
        .add_prefix("GET", "/p/", path_and_query);
    if (!unix_name.empty()) {
      EXPECT_EQ(unix_listener.bind(unix_name), 0);
      sched.spawn(accept_loop(sched, unix_listener, router, options));
      return;
    }
    EXPECT_EQ(listener.bind("127.0.0.1", 0), 0);
    port = listener.port();
    sched.spawn(accept_loop(sched, listener, router, options));
  }
  ~ServerFixture() {
    listener.close();
    unix_listener.close();
    sched.shutdown();
  }
  HttpRouter router;
  HttpServerOptions options;
  Scheduler sched;
  TcpListener listener;
  UnixListener unix_listener;
  int port = 0;
};

constexpr std::string_view kGetHello = "GET /hello HTTP/1.1\r\nHost: t\r\n\r\n";

TEST(HttpServer, AnswersKeepAliveRequestsOnOneConnection) {
  ServerFixture server;
  BlockingClient client(server.port);
  for (int i = 0; i < 3; ++i) {
    ASSERT_TRUE(client.send(kGetHello));
    auto response = client.read_response();
    ASSERT_TRUE(response);
    EXPECT_EQ(response->status, 200);
    EXPECT_EQ(response->body, "Hello, World!");
    EXPECT_EQ(response->header("content-length"), "13");
    EXPECT_EQ(response->header("server"), "tiny_coro");
    EXPECT_EQ(response->header("date").size(), 29u);
  }
}

// The access log's peer for a Unix socket's client, which has no address of its own.
struct PeerLog {
  std::mutex mutex;
  std::vector<std::string> peers;
  void operator()(const HttpAccessRecord& record) {
    const std::lock_guard lock(mutex);
    peers.emplace_back(record.peer);
  }
  std::size_t count() {
    const std::lock_guard lock(mutex);
    return peers.size();
  }
};

TEST(HttpServer, ServesAGetAndAKeepAlivePairOverAUnixSocket) {
  PeerLog log;
  HttpServerOptions options;
  options.on_response = [&log](const HttpAccessRecord& record) { log(record); };
  for (const std::string& name : {test::unique_unix_path(), test::unique_abstract_name()}) {
    ServerFixture server(options, name);
    {
      BlockingClient once(name);
      ASSERT_TRUE(once.connected()) << name;
      ASSERT_TRUE(once.send("GET /hello HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n"));
      auto response = once.read_response();
      ASSERT_TRUE(response);
      EXPECT_EQ(response->status, 200);
      EXPECT_EQ(response->body, "Hello, World!");
      EXPECT_TRUE(once.closed_by_peer());
    }
    BlockingClient client(name);
    ASSERT_TRUE(client.connected()) << name;
    ASSERT_TRUE(client.send(kGetHello));
    auto first = client.read_response();
    ASSERT_TRUE(first);
    EXPECT_EQ(first->body, "Hello, World!");
    ASSERT_TRUE(client.send("POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 4\r\n\r\nunix"));
    auto second = client.read_response();
    ASSERT_TRUE(second);
    EXPECT_EQ(second->body, "unix");
  }
  ASSERT_TRUE(test::wait_for([&] { return log.count() == 6; })) << log.count();
  for (const std::string& peer : log.peers) EXPECT_EQ(peer, "unix:");
}

TEST(HttpServer, LogsANamedUnixClientByNameWithUnprintableBytesEscaped) {
  PeerLog log;
  HttpServerOptions options;
  options.on_response = [&log](const HttpAccessRecord& record) { log(record); };
  const std::string name = test::unique_abstract_name();
  ServerFixture server(options, name);
  const std::string own_name = name + "-client\x01\"";
  BlockingClient client(name, 20, own_name);
  ASSERT_TRUE(client.connected());
  ASSERT_TRUE(client.send(kGetHello));
  ASSERT_TRUE(client.read_response());
  ASSERT_TRUE(test::wait_for([&] { return log.count() == 1; }));
  EXPECT_EQ(log.peers[0], "unix:" + own_name.substr(0, own_name.size() - 2) + "\\x01\\x22");
}

TEST(HttpServer, AnswersPipelinedRequestsInOrder) {
  ServerFixture server;
  BlockingClient client(server.port);
  std::string batch;
  for (int i = 0; i < 16; ++i) {
    batch +=
        "GET /p/" + std::to_string(i) + "?q=" + std::to_string(i) + " HTTP/1.1\r\nHost: t\r\n\r\n";
  }
  batch += "POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 5\r\n\r\nhello";
  batch += "GET /p/last HTTP/1.1\r\nHost: t\r\n\r\n";
  ASSERT_TRUE(client.send(batch));
  for (int i = 0; i < 16; ++i) {
    auto response = client.read_response();
    ASSERT_TRUE(response);
    EXPECT_EQ(response->body, "/p/" + std::to_string(i) + "|q=" + std::to_string(i));
  }
  auto echoed = client.read_response();
  ASSERT_TRUE(echoed);
  EXPECT_EQ(echoed->body, "hello");
  auto last = client.read_response();
  ASSERT_TRUE(last);
  EXPECT_EQ(last->body, "/p/last|");
}

TEST(HttpServer, SendsSharedBytesWithTheirFieldsSmallLargeAndPipelined) {
  ServerFixture server;
  BlockingClient client(server.port);
  std::string batch;
  for (const char* path : {"/shared/small", "/shared/large", "/shared/small", "/hello"})
    batch += std::string("GET ") + path + " HTTP/1.1\r\nHost: t\r\n\r\n";
  batch += "HEAD /shared/large HTTP/1.1\r\nHost: t\r\n\r\n";
  ASSERT_TRUE(client.send(batch));
  for (const auto* page : {small_page.get(), large_page.get(), small_page.get()}) {
    auto response = client.read_response();
    ASSERT_TRUE(response);
    EXPECT_EQ(response->status, 200);
    EXPECT_EQ(response->header("content-type"), "text/x-shared");
    EXPECT_EQ(response->header("etag"), "\"v1\"");
    EXPECT_EQ(response->header("content-length"), std::to_string(page->body.size()));
    EXPECT_TRUE(response->body == page->body) << response->body.size();
  }
  auto hello_after = client.read_response();
  ASSERT_TRUE(hello_after);
  EXPECT_EQ(hello_after->body, "Hello, World!");
  auto head = client.read_response(/*head_only=*/true);
  ASSERT_TRUE(head);
  EXPECT_EQ(head->header("content-length"), std::to_string(large_page->body.size()));
  EXPECT_TRUE(head->body.empty());
}

TEST(HttpDate, FormatsImfFixdatesAndParsesAllThreeForms) {
  EXPECT_EQ(http_date(784111777), "Sun, 06 Nov 1994 08:49:37 GMT");
  EXPECT_EQ(parse_http_date("Sun, 06 Nov 1994 08:49:37 GMT"), 784111777);
  EXPECT_EQ(parse_http_date("Thu, 29 Feb 2024 23:59:59 GMT"), 1709251199);
  EXPECT_EQ(parse_http_date("Thu, 01 Jan 1970 00:00:00 GMT"), 0);
  for (std::int64_t t : {0LL, 951782400LL, 1700000000LL, 4102444799LL})
    EXPECT_EQ(parse_http_date(http_date(t)), t);
  // The obsolete forms a recipient must still read.
  EXPECT_EQ(parse_http_date("Sunday, 06-Nov-94 08:49:37 GMT"), 784111777);
  EXPECT_EQ(parse_http_date("Sun Nov  6 08:49:37 1994"), 784111777);
  EXPECT_EQ(parse_http_date("Wed Nov 16 08:49:37 1994"), 784111777 + 10 * 86400);
  EXPECT_EQ(parse_http_date("Thursday, 01-Jan-26 00:00:00 GMT"), 1767225600);  // 2026, not 1926
  for (const char* bad : {"Sun, 06-Nov-94 08:49:37 GMT", "Sunday, 06-Nov-1994 08:49:37 GMT",
                          "Sun Nov 6 08:49:37 1994", "Sun Nov  6 08:49:37 94",
                          "Sun, 06 Nov 1994 08:49:37 UTC", "Sun, 31 Feb 1994 08:49:37 GMT",
                          "Sun, 29 Feb 2023 08:49:37 GMT", "Sun, 06 Nov 1994 24:00:00 GMT",
                          "Xyz, 06 Nov 1994 08:49:37 GMT", "Sun, 06 Nov 1994 08:49:37 GMT ", ""})
    EXPECT_FALSE(parse_http_date(bad)) << bad;
}

TEST(HttpServer, ReadsAHeadThatArrivesByteByByte) {
  ServerFixture server;
  BlockingClient client(server.port);
  const std::string request = "POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 3\r\n\r\nabc";
  for (char c : request) ASSERT_TRUE(client.send(std::string_view(&c, 1)));
  auto response = client.read_response();
  ASSERT_TRUE(response);
  EXPECT_EQ(response->body, "abc");
}

TEST(HttpServer, ClosesAfterHttp10AndConnectionClose) {
  ServerFixture server;
  {
    BlockingClient client(server.port);
    ASSERT_TRUE(client.send("GET /hello HTTP/1.0\r\n\r\n"));
    auto response = client.read_response();
    ASSERT_TRUE(response);
    EXPECT_EQ(response->status, 200);
    EXPECT_EQ(response->header("connection"), "close");
    EXPECT_TRUE(client.closed_by_peer());
  }
  {
    BlockingClient client(server.port);
    ASSERT_TRUE(client.send("GET /hello HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n"));
    ASSERT_TRUE(client.read_response());
    EXPECT_TRUE(client.closed_by_peer());
  }
  {  // HTTP/1.0 asking for keep-alive keeps it
    BlockingClient client(server.port);
    ASSERT_TRUE(client.send("GET /hello HTTP/1.0\r\nConnection: keep-alive\r\n\r\n"));
    ASSERT_TRUE(client.read_response());
    ASSERT_TRUE(client.send("GET /hello HTTP/1.0\r\n\r\n"));
    ASSERT_TRUE(client.read_response());
  }
}

TEST(HttpServer, HeadGetsTheHeadersWithoutTheBody) {
  ServerFixture server;
  BlockingClient client(server.port);
  ASSERT_TRUE(client.send("HEAD /hello HTTP/1.1\r\nHost: t\r\n\r\n"));
  auto response = client.read_response(/*head_only=*/true);
  ASSERT_TRUE(response);
  EXPECT_EQ(response->header("content-length"), "13");
  ASSERT_TRUE(client.send(kGetHello));  // no stray body bytes came before this answer
  auto next = client.read_response();
  ASSERT_TRUE(next);
  EXPECT_EQ(next->body, "Hello, World!");
}

TEST(HttpServer, AnswersHeadWithoutABodyEvenWhenTheServerDecides) {
  ServerFixture server;
  BlockingClient client(server.port);
  ASSERT_TRUE(client.send("HEAD /hello HTTP/1.1\r\n\r\n"));  // no Host: the server's 400
  auto response = client.read_response(/*head_only=*/true);
  ASSERT_TRUE(response);
  EXPECT_EQ(response->status, 400);
  EXPECT_TRUE(client.closed_by_peer());
  EXPECT_TRUE(client.unread().empty());  // no body followed the head
}

TEST(HttpServer, DecodesChunkedBodies) {
  ServerFixture server;
  BlockingClient client(server.port);
  ASSERT_TRUE(
      client.send("PUT /echo HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n"
                  "5;x=y\r\nhello\r\n1\r\n \r\n5\r\nworld\r\n0\r\nTrailer: v\r\n\r\n" +
                  std::string(kGetHello)));
  auto response = client.read_response();
  ASSERT_TRUE(response);
  EXPECT_EQ(response->body, "hello world");
  auto next = client.read_response();
  ASSERT_TRUE(next);
  EXPECT_EQ(next->body, "Hello, World!");
}

TEST(HttpServer, SendsContinueBeforeReadingAnExpectedBody) {
  ServerFixture server;
  BlockingClient client(server.port);
  ASSERT_TRUE(
      client.send("POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 4\r\n"
                  "Expect: 100-continue\r\n\r\n"));
  auto interim = client.read_response();
  ASSERT_TRUE(interim);
  EXPECT_EQ(interim->status, 100);
  ASSERT_TRUE(client.send("data"));
  auto response = client.read_response();
  ASSERT_TRUE(response);
  EXPECT_EQ(response->status, 200);
  EXPECT_EQ(response->body, "data");
}

struct BadCase {
  std::string request;
  int status;
};

TEST(HttpServer, AnswersBadRequestsWithTheirStatusAndKeepsServingOthers) {
  HttpServerOptions options;
  options.max_body = 1000;
  ServerFixture server(options);
  const std::vector<BadCase> cases = {
      {"GET /hello HTTP/1.1\r\n\r\n", 400},                        // no Host
      {"GET /hello HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", 400},  // two
      {"GET /hello HTTP/1.1\r\nHost : a\r\n\r\n", 400},            // space before colon
      {"GET /hello HTTP/1.1\r\nHost: a b\r\n\r\n", 400},           // not a uri-host
      {"GET /hello HTTP/1.1\r\nHost: user@a\r\n\r\n", 400},
      {"GET /hello HTTP/1.1\r\nHost: a:80x\r\n\r\n", 400},
      {"GET /hello HTTP/1.0\r\nHost: a/b\r\n\r\n", 400},    // checked for 1.0 too
      {"GET /hello\x01 HTTP/1.1\r\nHost: a\r\n\r\n", 400},  //
      {"POST /echo HTTP/1.1\r\nHost: a\r\nContent-Length: 1\r\nTransfer-Encoding: chunked\r\n\r\n",
       400},
      {"POST /echo HTTP/1.1\r\nHost: a\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n", 400},
      {"POST /echo HTTP/1.1\r\nHost: a\r\nContent-Length: 1x\r\n\r\n", 400},
      {"POST /echo HTTP/1.1\r\nHost: a\r\nContent-Length: 99999999999999999999999\r\n\r\n", 400},
      {"POST /echo HTTP/1.1\r\nHost: a\r\nContent-Length: 1001\r\n\r\n", 413},
      {"BREW /pot HTTP/1.1\r\nHost: a\r\n\r\n", 501},
      {"GET /" + std::string(20000, 'a') + " HTTP/1.1\r\nHost: a\r\n\r\n", 431},
      {"GET /hello HTTP/1.1\r\nHost: a\r\nX: " + std::string(20000, 'a') + "\r\n\r\n", 431},
      {"GET /nowhere HTTP/1.1\r\nHost: a\r\n\r\n", 404},
      {"DELETE /hello HTTP/1.1\r\nHost: a\r\n\r\n", 405},
      {"GET /throw HTTP/1.1\r\nHost: a\r\n\r\n", 500},
  };
  for (const BadCase& bad : cases) {
    BlockingClient client(server.port);
    ASSERT_TRUE(client.send(bad.request));
    auto response = client.read_response();
    ASSERT_TRUE(response) << bad.request.substr(0, 60);
    EXPECT_EQ(response->status, bad.status) << bad.request.substr(0, 60);
    BlockingClient other(server.port);
    ASSERT_TRUE(other.send(kGetHello));
    auto fine = other.read_response();
    ASSERT_TRUE(fine);
    EXPECT_EQ(fine->status, 200);
  }
}

TEST(HttpServer, RejectsAChunkedBodyOverTheLimitAndBrokenFraming) {
  HttpServerOptions options;
  options.max_body = 8;
  ServerFixture server(options);
  {
    BlockingClient client(server.port);
    ASSERT_TRUE(
        client.send("PUT /echo HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n"
                    "9\r\n123456789\r\n0\r\n\r\n"));
    auto response = client.read_response();
    ASSERT_TRUE(response);
    EXPECT_EQ(response->status, 413);
    EXPECT_TRUE(client.closed_by_peer());
  }
  {
    BlockingClient client(server.port);
    ASSERT_TRUE(
        client.send("PUT /echo HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n"
                    "zz\r\n"));
    auto response = client.read_response();
    ASSERT_TRUE(response);
    EXPECT_EQ(response->status, 400);
    EXPECT_TRUE(client.closed_by_peer());
  }
}

TEST(HttpServer, AnswersAHeadThatNeverCompletesWith408) {
  HttpServerOptions options;
  options.header_timeout = std::chrono::milliseconds(200);  // a timer test: generous bounds
  ServerFixture server(options);
  BlockingClient client(server.port);
  ASSERT_TRUE(client.send("GET /hello HTTP/1.1\r\nHost"));
  auto response = client.read_response();
  ASSERT_TRUE(response);
  EXPECT_EQ(response->status, 408);
  EXPECT_TRUE(client.closed_by_peer());
}

TEST(HttpServer, AHandlerPastItsDeadlineIsCancelledAndTheClientGets503) {
  HttpServerOptions options;
  options.handler_timeout = std::chrono::milliseconds(100);  // a timer test: generous bounds
  ServerFixture server(options);
  Event never_set(server.sched);
  never = &never_set;
  BlockingClient client(server.port);
  ASSERT_TRUE(client.send("GET /stuck HTTP/1.1\r\nHost: t\r\n\r\n"));
  auto response = client.read_response();
  ASSERT_TRUE(response);
  EXPECT_EQ(response->status, 503);
  EXPECT_TRUE(client.closed_by_peer());
  EXPECT_EQ(stuck_alive.load(), 0);  // the handler unwound before the 503 was sent
  BlockingClient next(server.port);  // the server serves everyone else as before
  ASSERT_TRUE(next.send(kGetHello));
  auto hello_response = next.read_response();
  ASSERT_TRUE(hello_response);
  EXPECT_EQ(hello_response->status, 200);
}

// A handler deadline that cancels an upload mid-splice: the bytes the splices took are
// counted, the body is known broken, and the 503 goes out at once instead of after the
// server has tried to drain a body whose end it no longer knows (the idle timeout).
TEST(HttpServer, AHandlerDeadlineDuringASplicedUploadAnswers503AtOnce) {
  HttpServerOptions options;
  options.handler_timeout = std::chrono::milliseconds(300);
  options.idle_timeout = std::chrono::seconds(30);
  ServerFixture server(options);
  BlockingClient client(server.port, /*receive_timeout_seconds=*/10);
  ASSERT_TRUE(client.send("PUT /save HTTP/1.1\r\nHost: t\r\nContent-Length: 900000\r\n\r\n"));
  ASSERT_TRUE(client.send(std::string(600000, 'u')));  // then nothing more
  auto response = client.read_response();
  ASSERT_TRUE(response);  // within the client's 10 s, long before the 30 s idle timeout
  EXPECT_EQ(response->status, 503);
}

TEST(HttpServer, AnUrgentByteInASplicedUploadDoesNotStallIt) {
  HttpServerOptions options;
  options.idle_timeout = std::chrono::seconds(30);
  ServerFixture server(options);
  BlockingClient client(server.port, /*receive_timeout_seconds=*/10);
  // The urgent byte is out of band: the body is the 600,000 bytes around it. Splice stops at
  // its mark for good; the upload must go on by reading, not wait for the idle timeout.
  ASSERT_TRUE(client.send("PUT /save HTTP/1.1\r\nHost: t\r\nContent-Length: 600000\r\n\r\n"));
  ASSERT_TRUE(client.send(std::string(300000, 'u')));
  ASSERT_EQ(::send(client.fd(), "!", 1, MSG_OOB), 1);
  ASSERT_TRUE(client.send(std::string(300000, 'v')));
  auto response = client.read_response();
  ASSERT_TRUE(response);  // within the client's 10 s, long before the 30 s idle timeout
  EXPECT_EQ(response->status, 201);
  EXPECT_EQ(response->body, "600000\n");
}

TEST(HttpServer, ClosesAnIdleKeepAliveConnectionAfterTheIdleTimeout) {
  HttpServerOptions options;
  options.idle_timeout = std::chrono::milliseconds(200);
  ServerFixture server(options);
  BlockingClient client(server.port);
  ASSERT_TRUE(client.send(kGetHello));
  ASSERT_TRUE(client.read_response());
  EXPECT_TRUE(client.closed_by_peer());
}

TEST(HttpServer, UrgentDataOnAnIdleConnectionDoesNotKeepItAwake) {
  HttpServerOptions options;
  options.idle_timeout = std::chrono::milliseconds(300);
  ServerFixture server(options);
  BlockingClient client(server.port);
  ASSERT_TRUE(client.send(kGetHello));
  ASSERT_TRUE(client.read_response());
  // An urgent byte wakes the reader but leaves nothing to read; a wait that kept returning
  // "ready" would spin and never reach its timeout.
  ASSERT_EQ(::send(client.fd(), "!", 1, MSG_OOB), 1);
  EXPECT_TRUE(client.closed_by_peer());
}

TEST(HttpServer, AnswersARefusedBodyBeforeClosingWithoutAReset) {
  HttpServerOptions options;
  options.max_body = 1000;
  ServerFixture server(options);
  BlockingClient client(server.port);
  // The 413 is decided from the head; the client is still sending its megabyte meanwhile.
  // Closing with that unread would reset the connection and could destroy the answer.
  const std::string body(1 << 20, 'x');
  ASSERT_TRUE(client.send("POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: " +
                          std::to_string(body.size()) + "\r\n\r\n"));
  client.send(body);  // may fail part way once the server stops reading: that is fine
  auto response = client.read_response();
  ASSERT_TRUE(response);
  EXPECT_EQ(response->status, 413);
}

TEST(HttpServer, TreatsOnlyASchemePrefixAsAnAbsoluteTarget) {
  ServerFixture server;
  BlockingClient absolute(server.port);
  ASSERT_TRUE(absolute.send("GET http://t/p/abs?q=1 HTTP/1.1\r\nHost: t\r\n\r\n"));
  auto routed = absolute.read_response();
  ASSERT_TRUE(routed);
  EXPECT_EQ(routed->body, "/p/abs|q=1");
  BlockingClient other(server.port);
  ASSERT_TRUE(other.send("GET x?u=http://h/p/secret HTTP/1.1\r\nHost: t\r\n\r\n"));
  auto not_routed = other.read_response();
  ASSERT_TRUE(not_routed);
  EXPECT_EQ(not_routed->status, 404);
}

TEST(HttpServer, DrainCancelAllEndsRequestsThatWouldNeverFinish) {
  HttpDrain drain;
  HttpServerOptions options;
  options.drain = &drain;
  ServerFixture server(options);
  Event never_set(server.sched);
  never = &never_set;
  BlockingClient stalled(server.port);
  ASSERT_TRUE(stalled.send("GET /stuck HTTP/1.1\r\nHost: t\r\n\r\n"));
  ASSERT_TRUE(test::wait_for([] { return stuck_alive.load() == 1; }));
  drain.begin();
  drain.cancel_all();
  EXPECT_TRUE(drain.wait_until_idle(std::chrono::seconds(30)));  // left by unwinding, not time
  EXPECT_EQ(stuck_alive.load(), 0);
  EXPECT_TRUE(stalled.closed_by_peer());  // no answer: the request was cancelled
}

TEST(HttpServer, DrainClosesIdleConnectionsAndLetsBusyOnesFinish) {
  HttpDrain drain;
  HttpServerOptions options;
  options.drain = &drain;
  ServerFixture server(options);
  Event opened(server.sched);  // released before the test ends, so it may die first
  gate = &opened;
  gate_entered = 0;
  BlockingClient idle(server.port);
  ASSERT_TRUE(idle.send(kGetHello));
  ASSERT_TRUE(idle.read_response());
  BlockingClient busy(server.port);
  ASSERT_TRUE(busy.send("GET /gated HTTP/1.1\r\nHost: t\r\n\r\n"));
  ASSERT_TRUE(test::wait_for([] { return gate_entered.load() == 1; }));
  ASSERT_TRUE(test::wait_for([&] { return drain.active_connections() == 2; }));

  drain.begin();
  EXPECT_TRUE(idle.closed_by_peer());
  opened.set();
  auto response = busy.read_response();
  ASSERT_TRUE(response);
  EXPECT_EQ(response->body, "gated");
  EXPECT_EQ(response->header("connection"), "close");
  EXPECT_TRUE(busy.closed_by_peer());
  EXPECT_TRUE(test::wait_for([&] { return drain.active_connections() == 0; }));
}

// --- the manual's helpers ---

Task<void> manual_upload(AsyncSocket socket, std::string path, std::size_t length,
                         std::atomic<int>* outcome, FileSaveOptions options = {}) {
  HttpServer server(socket);
  char buf[8192];
  const ssize_t n = co_await socket.read(buf, sizeof(buf));
  HttpRequest req;
  const int head = HttpParser::parse_request(buf, static_cast<std::size_t>(n), req);
  try {
    co_await server.receive_to_file(
        path, length, std::string_view(buf + head, static_cast<std::size_t>(n - head)), options);
    co_await server.send_response(200, "text/plain", "Upload Success!");
    outcome->store(1);
  } catch (const std::system_error&) {
    outcome->store(2);
  }
}

Task<void> accept_one_upload(TcpListener& listener, std::string path, std::size_t length,
                             std::atomic<int>* outcome, FileSaveOptions options = {}) {
  AsyncSocket socket = co_await listener.accept();
  co_await manual_upload(std::move(socket), std::move(path), length, outcome, options);
}

std::string temp_dir() {
  std::string dir = (std::filesystem::temp_directory_path() / "tiny_coro_http_XXXXXX").string();
  EXPECT_NE(::mkdtemp(dir.data()), nullptr);
  return dir;
}

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

class HttpServerManualSave : public ::testing::TestWithParam<bool> {};

// The body is written on the blocking pool (spliced from the socket: body_splice.h), with or
// without an fsync before the rename.
TEST_P(HttpServerManualSave, ReceiveToFileStoresTheWholeBody) {
  const std::string dir = temp_dir();
  const std::string path = dir + "/upload.bin";
  std::string body(700000, '\0');
  for (std::size_t i = 0; i < body.size(); ++i) body[i] = static_cast<char>(i * 7 + 3);
  std::atomic<int> outcome{0};
  Scheduler sched(2);
  TcpListener listener(sched.reactor());
  ASSERT_EQ(listener.bind("127.0.0.1", 0), 0);
  sched.spawn(accept_one_upload(listener, path, body.size(), &outcome,
                                FileSaveOptions{.fsync_before_rename = GetParam()}));
  BlockingClient client(listener.port());
  ASSERT_TRUE(client.send("POST /upload HTTP/1.1\r\nHost: t\r\nContent-Length: " +
                          std::to_string(body.size()) + "\r\n\r\n" + body));
  auto response = client.read_response();
  ASSERT_TRUE(response);
  EXPECT_EQ(response->body, "Upload Success!");
  ASSERT_TRUE(test::wait_for([&] { return outcome.load() != 0; }));
  EXPECT_EQ(outcome.load(), 1);
  EXPECT_EQ(read_file(path), body);
  EXPECT_EQ(std::distance(std::filesystem::directory_iterator(dir), {}), 1);  // no temporary
  EXPECT_GE(sched.metrics().blocking.calls_run, 1u);  // the file was written on the pool
  std::filesystem::remove_all(dir);
}
INSTANTIATE_TEST_SUITE_P(Fsync, HttpServerManualSave, ::testing::Bool());

TEST(HttpServerManual, ReceiveToFileLeavesNothingWhenThePeerStopsShort) {
  const std::string dir = temp_dir();
  const std::string path = dir + "/upload.bin";
  { std::ofstream(path) << "old"; }
  std::atomic<int> outcome{0};
  Scheduler sched(2);
  TcpListener listener(sched.reactor());
  ASSERT_EQ(listener.bind("127.0.0.1", 0), 0);
  sched.spawn(accept_one_upload(listener, path, 100000, &outcome));
  {
    BlockingClient client(listener.port());
    ASSERT_TRUE(client.send("POST /upload HTTP/1.1\r\nHost: t\r\nContent-Length: 100000\r\n\r\n" +
                            std::string(5000, 'x')));
  }  // gone mid-body
  ASSERT_TRUE(test::wait_for([&] { return outcome.load() != 0; }));
  EXPECT_EQ(outcome.load(), 2);  // a clear error
  EXPECT_EQ(read_file(path), "old");
  EXPECT_EQ(std::distance(std::filesystem::directory_iterator(dir), {}), 1);
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace tiny_coro
