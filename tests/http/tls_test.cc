// HTTPS with certificates made by the openssl CLI for this run.
#include <gtest/gtest.h>

#include <set>

#include "http/http.h"
#include "raw_socket.h"
#include "test_pki.h"

namespace tl::http {
namespace {

class Tls : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { pki_ = new test::TestPki(); }  // NOLINT: suite-lifetime fixture
  static void TearDownTestSuite() {
    delete pki_;
    pki_ = nullptr;
  }

  static std::unique_ptr<Server> start_https(const std::filesystem::path& chain, const std::filesystem::path& key) {
    Router router;
    router.add("GET", "/hello", [](const Request& req) { return Response{200, {}, "hello " + req.remote_address}; });
    ServerOptions options;
    options.threads = 2;
    options.tls = TlsFiles{chain.string(), key.string()};
    auto server = Server::start(std::move(options), std::move(router));
    if (!server) ADD_FAILURE() << server.error().message;
    return server ? std::move(*server) : nullptr;
  }

  static Result<Response> get(const std::string& url, std::optional<std::filesystem::path> ca) {
    ClientOptions options;
    if (ca) options.ca_file = ca->string();
    auto client = Client::create(url, options);
    if (!client) return client.take_error();
    return (*client)->get("/hello");
  }

  static std::string port_of(const Server& s) { return std::to_string(s.port()); }

  static test::TestPki* pki_;
};
test::TestPki* Tls::pki_ = nullptr;

TEST_F(Tls, HttpsByIpAndByName) {
  auto server = start_https(pki_->server_chain, pki_->server_key);
  ASSERT_TRUE(server);
  for (const std::string host : {"127.0.0.1", "localhost"}) {
    auto r = get("https://" + host + ":" + port_of(*server), pki_->ca);
    ASSERT_TRUE(r.ok()) << host << ": " << r.error().message;
    EXPECT_EQ(r->status, 200);
    EXPECT_EQ(r->body.substr(0, 6), "hello ");
  }
}

TEST_F(Tls, KeepAliveOverTls) {
  auto server = start_https(pki_->server_chain, pki_->server_key);
  ASSERT_TRUE(server);
  ClientOptions options;
  options.ca_file = pki_->ca.string();
  auto client = Client::create("https://127.0.0.1:" + port_of(*server), options);
  ASSERT_TRUE(client.ok());
  std::set<std::string> peers;
  for (int i = 0; i < 50; ++i) {
    auto r = (*client)->get("/hello");
    ASSERT_TRUE(r.ok()) << r.error().message;
    peers.insert(r->body);
  }
  EXPECT_EQ(peers.size(), 1u);
}

TEST_F(Tls, UnknownCaRefused) {
  auto server = start_https(pki_->server_chain, pki_->server_key);
  ASSERT_TRUE(server);
  auto r = get("https://127.0.0.1:" + port_of(*server), pki_->other_ca);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("TLS handshake with 127.0.0.1:"), std::string::npos) << r.error().message;
  EXPECT_NE(r.error().message.find("certificate verify failed"), std::string::npos) << r.error().message;
}

TEST_F(Tls, SystemStoreDoesNotTrustATestCa) {
  auto server = start_https(pki_->server_chain, pki_->server_key);
  ASSERT_TRUE(server);
  auto r = get("https://127.0.0.1:" + port_of(*server), std::nullopt);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("certificate verify failed"), std::string::npos) << r.error().message;
}

TEST_F(Tls, HostNameMismatchRefused) {
  auto server = start_https(pki_->wrong_name_chain, pki_->wrong_name_key);
  ASSERT_TRUE(server);
  for (const std::string host : {"127.0.0.1", "localhost"}) {
    auto r = get("https://" + host + ":" + port_of(*server), pki_->ca);
    ASSERT_FALSE(r.ok()) << host;
    EXPECT_NE(r.error().message.find("certificate verify failed"), std::string::npos) << r.error().message;
    EXPECT_NE(r.error().message.find("mismatch"), std::string::npos) << r.error().message;
  }
}

TEST_F(Tls, PlainClientAgainstTlsServerFailsClearly) {
  auto server = start_https(pki_->server_chain, pki_->server_key);
  ASSERT_TRUE(server);
  auto r = get("http://127.0.0.1:" + port_of(*server), std::nullopt);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("read response from 127.0.0.1:"), std::string::npos) << r.error().message;
  EXPECT_NE(r.error().message.find("use https://"), std::string::npos) << r.error().message;
  // The server is unharmed.
  auto ok = get("https://127.0.0.1:" + port_of(*server), pki_->ca);
  EXPECT_TRUE(ok.ok());
}

TEST_F(Tls, TlsClientAgainstPlainServerFails) {
  Router router;
  router.add("GET", "/hello", [](const Request&) { return Response{200, {}, "plain"}; });
  ServerOptions options;
  options.threads = 1;
  auto server = Server::start(options, std::move(router));
  ASSERT_TRUE(server.ok());
  auto r = get("https://127.0.0.1:" + port_of(**server), pki_->ca);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("TLS handshake with 127.0.0.1:"), std::string::npos) << r.error().message;
}

TEST_F(Tls, ServerRefusesBadKeyMaterial) {
  ServerOptions options;
  options.tls = TlsFiles{(pki_->dir / "missing.pem").string(), pki_->server_key.string()};
  auto missing = Server::start(options, Router{});
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.error().message.find("missing.pem"), std::string::npos) << missing.error().message;

  options.tls = TlsFiles{pki_->server_chain.string(), pki_->wrong_name_key.string()};
  auto mismatched = Server::start(options, Router{});
  ASSERT_FALSE(mismatched.ok());
  EXPECT_NE(mismatched.error().message.find("mismatch"), std::string::npos) << mismatched.error().message;

  options.tls = TlsFiles{pki_->ca.string(), pki_->ca.string()};  // a certificate is no key
  auto not_a_key = Server::start(options, Router{});
  EXPECT_FALSE(not_a_key.ok());
}

TEST_F(Tls, ClientHandshakeWithSilentServerTimesOut) {
  test::SilentListener silent;
  ClientOptions options;
  options.ca_file = pki_->ca.string();
  options.timeout_ms = 300;
  auto client = Client::create("https://127.0.0.1:" + std::to_string(silent.port()), options);
  ASSERT_TRUE(client.ok());
  const auto before = std::chrono::steady_clock::now();
  auto r = (*client)->get("/hello");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("TLS handshake with 127.0.0.1:"), std::string::npos) << r.error().message;
  EXPECT_NE(r.error().message.find("timed out"), std::string::npos) << r.error().message;
  EXPECT_LT(std::chrono::steady_clock::now() - before, std::chrono::seconds(3));
}

TEST_F(Tls, ServerDropsAClientThatNeverHandshakes) {
  Router router;
  ServerOptions options;
  options.threads = 1;
  options.read_timeout_ms = 200;
  options.tls = TlsFiles{pki_->server_chain.string(), pki_->server_key.string()};
  auto server = Server::start(options, std::move(router));
  ASSERT_TRUE(server.ok()) << server.error().message;
  test::RawSocket raw((*server)->port());
  bool closed = false;
  const auto before = std::chrono::steady_clock::now();
  raw.read_until_close(3000, &closed);
  EXPECT_TRUE(closed);
  EXPECT_LT(std::chrono::steady_clock::now() - before, std::chrono::seconds(2));
}

TEST_F(Tls, GarbageInsteadOfClientHelloDoesNotHurt) {
  auto server = start_https(pki_->server_chain, pki_->server_key);
  ASSERT_TRUE(server);
  {
    test::RawSocket raw(server->port());
    raw.send_all(std::string("\x16\x03\x01\xff\xff", 5) + std::string(2000, '\x01'));
    bool closed = false;
    raw.read_until_close(3000, &closed);
    EXPECT_TRUE(closed);
  }
  auto ok = get("https://127.0.0.1:" + port_of(*server), pki_->ca);
  EXPECT_TRUE(ok.ok());
}

TEST_F(Tls, ClientRefusesMissingCaFile) {
  ClientOptions options;
  options.ca_file = (pki_->dir / "nope.pem").string();
  auto client = Client::create("https://127.0.0.1:1", options);
  ASSERT_FALSE(client.ok());
  EXPECT_NE(client.error().message.find("nope.pem"), std::string::npos);
}

}  // namespace
}  // namespace tl::http
