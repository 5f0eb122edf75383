// The real server on 127.0.0.1 with the real client (plain HTTP).
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <set>
#include <thread>

#include "http/http.h"
#include "raw_socket.h"

namespace tl::http {
namespace {
using namespace std::chrono_literals;

std::unique_ptr<Server> start(Router router, ServerOptions options = {},
                              std::function<void(std::string_view)> on_error = {}) {
  if (options.threads == 0) options.threads = 2;
  auto server = Server::start(std::move(options), std::move(router), std::move(on_error));
  if (!server) ADD_FAILURE() << server.error().message;
  return server ? std::move(*server) : nullptr;
}

std::unique_ptr<Client> client_for(const Server& server, ClientOptions options = {}) {
  auto client = Client::create("http://127.0.0.1:" + std::to_string(server.port()), options);
  if (!client) ADD_FAILURE() << client.error().message;
  return client ? std::move(*client) : nullptr;
}

Router echo_router() {
  Router router;
  router.add("GET", "/keys/{name}", [](const Request& req) {
    std::string query;
    for (const auto& [k, v] : req.query) query += k + "=" + v + ";";
    return Response{200, {{"X-Key", req.path_params.at("name")}}, "key " + req.path_params.at("name") + " " + query};
  });
  router.add("POST", "/echo", [](const Request& req) { return Response{200, {}, req.body}; });
  router.add("GET", "/whoami", [](const Request& req) { return Response{200, {}, req.remote_address}; });
  return router;
}

TEST(Server, PortZeroPicksAFreePort) {
  auto server = start(echo_router());
  ASSERT_TRUE(server);
  EXPECT_NE(server->port(), 0);
}

TEST(Server, RoutesParamsQueryAndHeaders) {
  auto server = start(echo_router());
  ASSERT_TRUE(server);
  auto client = client_for(*server);
  auto r = client->get("/keys/db%20key?version=2&x=a+b");
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->body, "key db key version=2;x=a b;");
  EXPECT_EQ(r->headers.at("x-key"), "db key");
  auto echo = client->post_json("/echo", R"({"a":1})");
  ASSERT_TRUE(echo.ok());
  EXPECT_EQ(echo->body, R"({"a":1})");
  EXPECT_EQ(echo->headers.at("Content-Type"), "application/json");
}

TEST(Server, NotFoundAndMethodNotAllowed) {
  auto server = start(echo_router());
  ASSERT_TRUE(server);
  auto client = client_for(*server);
  auto missing = client->get("/nope");
  ASSERT_TRUE(missing.ok());
  EXPECT_EQ(missing->status, 404);
  EXPECT_EQ(missing->headers.at("content-type"), "application/problem+json");
  auto wrong = client->request("DELETE", "/echo");
  ASSERT_TRUE(wrong.ok());
  EXPECT_EQ(wrong->status, 405);
  EXPECT_EQ(wrong->headers.at("allow"), "POST");
}

TEST(Server, BadTargetEncodingIs400) {
  auto server = start(echo_router());
  ASSERT_TRUE(server);
  auto client = client_for(*server);
  for (const char* target : {"/keys/a%2Fb", "/keys/a%zz", "/keys/x?a=1&a=2"}) {
    auto r = client->get(target);
    ASSERT_TRUE(r.ok()) << r.error().message;
    EXPECT_EQ(r->status, 400) << target;
  }
}

TEST(Server, BodyOverLimitIs413AndAtLimitPasses) {
  ServerOptions options;
  options.max_body_bytes = 1024;
  auto server = start(echo_router(), options);
  ASSERT_TRUE(server);
  auto client = client_for(*server);
  auto at_limit = client->post_json("/echo", std::string(1024, 'a'));
  ASSERT_TRUE(at_limit.ok()) << at_limit.error().message;
  EXPECT_EQ(at_limit->status, 200);
  EXPECT_EQ(at_limit->body.size(), 1024u);
  auto over = client->post_json("/echo", std::string(1025, 'a'));
  ASSERT_TRUE(over.ok()) << over.error().message;
  EXPECT_EQ(over->status, 413);
  // The client reconnects after the server closed the connection.
  auto after = client->post_json("/echo", "{}");
  ASSERT_TRUE(after.ok()) << after.error().message;
  EXPECT_EQ(after->status, 200);
}

TEST(Server, ChunkedBodyOverLimitIs413) {
  ServerOptions options;
  options.max_body_bytes = 100;
  auto server = start(echo_router(), options);
  ASSERT_TRUE(server);
  test::RawSocket raw(server->port());
  std::string chunk(80, 'x');
  ASSERT_TRUE(raw.send_all("POST /echo HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n50\r\n" + chunk +
                           "\r\n50\r\n" + chunk + "\r\n0\r\n\r\n"));
  EXPECT_EQ(raw.read_until_close(3000).substr(0, 12), "HTTP/1.1 413");
}

TEST(Server, KeepAliveReusesOneConnection) {
  auto server = start(echo_router());
  ASSERT_TRUE(server);
  auto client = client_for(*server);
  std::set<std::string> peers;
  for (int i = 0; i < 300; ++i) {
    auto r = client->get("/whoami");
    ASSERT_TRUE(r.ok()) << r.error().message;
    peers.insert(r->body);
  }
  EXPECT_EQ(peers.size(), 1u);  // same client port: one connection
}

TEST(Server, KeepAliveMaxRequestsRotatesConnections) {
  ServerOptions options;
  options.keep_alive_max_requests = 10;
  auto server = start(echo_router(), options);
  ASSERT_TRUE(server);
  auto client = client_for(*server);
  std::set<std::string> peers;
  for (int i = 0; i < 100; ++i) {
    auto r = client->get("/whoami");
    ASSERT_TRUE(r.ok()) << "request " << i << ": " << r.error().message;
    peers.insert(r->body);
  }
  EXPECT_EQ(peers.size(), 10u);
}

TEST(Server, ClientWithoutKeepAliveUsesNewConnections) {
  auto server = start(echo_router());
  ASSERT_TRUE(server);
  ClientOptions options;
  options.keep_alive = false;
  auto client = client_for(*server, options);
  std::set<std::string> peers;
  for (int i = 0; i < 5; ++i) {
    auto r = client->get("/whoami");
    ASSERT_TRUE(r.ok()) << r.error().message;
    peers.insert(r->body);
  }
  EXPECT_EQ(peers.size(), 5u);
}

TEST(Server, ConcurrentClients) {
  auto server = start(echo_router());
  ASSERT_TRUE(server);
  constexpr int kClients = 16;
  constexpr int kRequests = 50;
  std::atomic<int> ok{0};
  std::vector<std::thread> threads;
  for (int c = 0; c < kClients; ++c) {
    threads.emplace_back([&, c] {
      auto client = Client::create("http://127.0.0.1:" + std::to_string(server->port()));
      if (!client) return;
      for (int i = 0; i < kRequests; ++i) {
        const std::string body = "{\"client\":" + std::to_string(c) + ",\"i\":" + std::to_string(i) + "}";
        auto r = (*client)->post_json("/echo", body);
        if (r.ok() && r->status == 200 && r->body == body) ++ok;
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(ok.load(), kClients * kRequests);
}

TEST(Server, HandlerExceptionIs500AndReported) {
  Router router;
  router.add("GET", "/boom", [](const Request&) -> Response { throw std::runtime_error("kaboom"); });
  router.add("GET", "/ok", [](const Request&) { return Response{200, {}, "fine"}; });
  std::mutex mutex;
  std::vector<std::string> errors;
  auto server = start(std::move(router), {}, [&](std::string_view e) {
    std::lock_guard lock(mutex);
    errors.emplace_back(e);
  });
  ASSERT_TRUE(server);
  auto client = client_for(*server);
  auto r = client->get("/boom");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->status, 500);
  EXPECT_EQ(r->body.find("kaboom"), std::string::npos);  // internals stay in the log
  auto ok = client->get("/ok");
  ASSERT_TRUE(ok.ok());
  EXPECT_EQ(ok->body, "fine");
  std::lock_guard lock(mutex);
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_NE(errors[0].find("GET /boom"), std::string::npos);
  EXPECT_NE(errors[0].find("kaboom"), std::string::npos);
}

TEST(Server, HeadGetsHeadersOnly) {
  Router router;
  router.add("HEAD", "/h", [](const Request&) { return Response{200, {}, "0123456789"}; });
  auto server = start(std::move(router));
  ASSERT_TRUE(server);
  auto client = client_for(*server);
  auto r = client->request("HEAD", "/h");
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->headers.at("content-length"), "10");
  EXPECT_TRUE(r->body.empty());
  auto again = client->request("HEAD", "/h");  // the connection is still in sync
  ASSERT_TRUE(again.ok()) << again.error().message;
}

TEST(Server, StopClosesIdleConnectionsAndLetsInFlightFinish) {
  Router router;
  std::atomic<bool> entered{false};
  router.add("GET", "/slow", [&](const Request&) {
    entered = true;
    std::this_thread::sleep_for(300ms);
    return Response{200, {}, "done"};
  });
  router.add("GET", "/fast", [](const Request&) { return Response{200, {}, "fast"}; });
  auto server = start(std::move(router));
  ASSERT_TRUE(server);
  std::vector<std::unique_ptr<Client>> idle;
  for (int i = 0; i < 8; ++i) {
    idle.push_back(client_for(*server));
    ASSERT_TRUE(idle.back()->get("/fast").ok());
  }
  Result<Response> slow = Error{"not run"};
  std::thread in_flight([&] { slow = client_for(*server)->get("/slow"); });
  for (int i = 0; i < 200 && !entered; ++i) std::this_thread::sleep_for(5ms);
  ASSERT_TRUE(entered);
  const auto before = std::chrono::steady_clock::now();
  server->stop();
  const auto took = std::chrono::steady_clock::now() - before;
  in_flight.join();
  ASSERT_TRUE(slow.ok()) << slow.error().message;
  EXPECT_EQ(slow->body, "done");
  EXPECT_LT(took, 3s);  // idle keep-alive connections did not hold stop() up
  server->stop();       // idempotent
  for (auto& c : idle) {
    auto r = c->get("/fast");
    EXPECT_FALSE(r.ok());
  }
}

TEST(Server, DestructorStopsWithOpenConnections) {
  auto server = start(echo_router());
  ASSERT_TRUE(server);
  const uint16_t port = server->port();
  auto client = client_for(*server);
  ASSERT_TRUE(client->get("/whoami").ok());
  test::RawSocket half_sent(port);
  ASSERT_TRUE(half_sent.send_all("POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\nabc"));
  const auto before = std::chrono::steady_clock::now();
  server.reset();
  EXPECT_LT(std::chrono::steady_clock::now() - before, 6s);
  auto r = client->get("/whoami");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("127.0.0.1:" + std::to_string(port)), std::string::npos) << r.error().message;
}

TEST(Server, IdleConnectionClosedAfterReadTimeout) {
  ServerOptions options;
  options.read_timeout_ms = 200;
  auto server = start(echo_router(), options);
  ASSERT_TRUE(server);
  test::RawSocket raw(server->port());
  bool closed = false;
  const auto before = std::chrono::steady_clock::now();
  raw.read_until_close(3000, &closed);
  EXPECT_TRUE(closed);
  EXPECT_LT(std::chrono::steady_clock::now() - before, 2s);
}

TEST(Server, ExpectContinueIsAnswered) {
  auto server = start(echo_router());
  ASSERT_TRUE(server);
  test::RawSocket raw(server->port());
  ASSERT_TRUE(raw.send_all("POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 2\r\nExpect: 100-continue\r\n\r\n"));
  EXPECT_EQ(raw.read_until_close(300).substr(0, 12), "HTTP/1.1 100");
  ASSERT_TRUE(raw.send_all("{}"));
  const std::string rest = raw.read_until_close(500);
  EXPECT_EQ(rest.substr(0, 12), "HTTP/1.1 200");
}

TEST(Client, ErrorsSayWhatFailed) {
  auto client = Client::create("http://127.0.0.1:1");
  ASSERT_TRUE(client.ok());
  auto r = (*client)->get("/");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().message, "connect to 127.0.0.1:1: connection refused");
  for (const char* bad : {"ftp://x", "http://", "http://h:0", "http://h:99999", "http://h/path", "https://[::1"}) {
    auto c = Client::create(bad);
    EXPECT_FALSE(c.ok()) << bad;
  }
}

TEST(Client, TimeoutIsAnError) {
  Router router;
  router.add("GET", "/slow", [](const Request&) {
    std::this_thread::sleep_for(600ms);
    return Response{200, {}, "late"};
  });
  auto server = start(std::move(router));
  ASSERT_TRUE(server);
  ClientOptions options;
  options.timeout_ms = 100;
  auto client = client_for(*server, options);
  auto r = client->get("/slow");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("timed out"), std::string::npos) << r.error().message;
}

// Hostile bytes on a raw socket: each gets a 4xx or a close, never a crash,
// and the server keeps serving.
TEST(Server, MalformedRequestsGet4xxOrClose) {
  ServerOptions options;
  options.read_timeout_ms = 500;
  options.max_header_bytes = 8 * 1024;
  auto server = start(echo_router(), options);
  ASSERT_TRUE(server);
  // A TLS ClientHello's first bytes (with NULs) where a request line belongs.
  static constexpr char kGarbage[] = "\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03 junk\r\n\r\n";
  struct Case {
    std::string name;
    std::string bytes;
    std::string expect_prefix;  // empty: the server just closes
  };
  const std::vector<Case> cases = {
      {"garbage", std::string(kGarbage, sizeof kGarbage - 1), "HTTP/1.1 400"},
      {"bad request line", "GET\r\n\r\n", "HTTP/1.1 400"},
      {"bad version", "GET / HTTP/9.9\r\nHost: x\r\n\r\n", "HTTP/1.1 400"},
      {"space in header name", "GET / HTTP/1.1\r\nBad Header: x\r\n\r\n", "HTTP/1.1 400"},
      {"bad content-length", "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: -5\r\n\r\n", "HTTP/1.1 400"},
      {"two content-lengths", "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab",
       "HTTP/1.1 400"},
      {"huge header", "GET / HTTP/1.1\r\nHost: x\r\nX-Big: " + std::string(64 * 1024, 'a') + "\r\n\r\n",
       "HTTP/1.1 431"},
      {"huge request line", "GET /" + std::string(64 * 1024, 'a') + " HTTP/1.1\r\n\r\n", "HTTP/1.1 431"},
      {"truncated headers", "GET / HTTP/1.1\r\nHost: x\r\n", ""},
      {"truncated body", "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 50\r\n\r\nabc", ""},
      {"content-length and chunked",
       "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
       "HTTP/1.1 400"},
      {"chunked not last", "POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked, gzip\r\n\r\n0\r\n\r\n",
       "HTTP/1.1 501"},
      {"gzip coding", "POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip\r\n\r\nabc", "HTTP/1.1 501"},
      {"two transfer-encodings",
       "POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
       "HTTP/1.1 400"},  // Beast's parser refuses it before our check
      {"bad chunk size", "POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", "HTTP/1.1 400"},
  };
  for (const Case& c : cases) {
    test::RawSocket raw(server->port());
    raw.send_all(c.bytes);  // the server may close before all of it is sent
    bool closed = false;
    const std::string reply = raw.read_until_close(3000, &closed);
    EXPECT_TRUE(closed) << c.name;
    if (c.expect_prefix.empty()) {
      EXPECT_TRUE(reply.empty()) << c.name << ": " << reply;
    } else {
      EXPECT_EQ(reply.substr(0, 12), c.expect_prefix) << c.name << ": " << reply.substr(0, 80);
    }
  }
  auto client = client_for(*server);
  auto r = client->get("/whoami");
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->status, 200);
}

}  // namespace
}  // namespace tl::http
