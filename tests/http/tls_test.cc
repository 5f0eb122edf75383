// HTTPS with certificates made by the openssl CLI for this run.
#include <gtest/gtest.h>

#include <atomic>
#include <cctype>
#include <cstdio>
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

// mTLS: a handler that answers with the client identity the server saw.
class MutualTls : public Tls {
 protected:
  std::unique_ptr<Server> start_mtls(std::optional<std::filesystem::path> client_ca) {
    Router router;
    router.add("GET", "/whoami", [this](const Request& req) {
      ++served_;
      return Response{200, {}, req.client_cert_sha256.value_or("none") + "|" + req.client_cert_subject};
    });
    ServerOptions options;
    options.threads = 2;
    options.tls = TlsFiles{pki_->server_chain.string(), pki_->server_key.string()};
    if (client_ca) options.client_ca_file = client_ca->string();
    auto server = Server::start(std::move(options), std::move(router));
    if (!server) ADD_FAILURE() << server.error().message;
    return server ? std::move(*server) : nullptr;
  }

  static Result<Response> whoami(const Server& server, std::optional<TlsFiles> client_cert) {
    ClientOptions options;
    options.ca_file = pki_->ca.string();
    options.client_certificate = std::move(client_cert);
    auto client = Client::create("https://127.0.0.1:" + port_of(server), options);
    if (!client) return client.take_error();
    return (*client)->get("/whoami");
  }

  static TlsFiles client_cert() { return TlsFiles{pki_->client_chain.string(), pki_->client_key.string()}; }

  // The SHA-256 fingerprint as the openssl CLI computes it, in lowercase hex.
  static std::string fingerprint(const std::filesystem::path& cert) {
    const std::string command = "openssl x509 -noout -fingerprint -sha256 -in '" + cert.string() + "'";
    std::unique_ptr<FILE, decltype(&pclose)> pipe(popen(command.c_str(), "r"), &pclose);
    if (!pipe) return "popen failed";
    std::string out;
    char buf[256];
    while (fgets(buf, sizeof buf, pipe.get()) != nullptr) out += buf;
    std::string hex;
    for (char c : out.substr(out.find('=') + 1)) {
      if (std::isxdigit(static_cast<unsigned char>(c))) hex += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    }
    return hex;
  }

  std::atomic<int> served_{0};
};

TEST_F(MutualTls, NoCertificateIsServedWithoutIdentity) {
  auto server = start_mtls(pki_->ca);
  ASSERT_TRUE(server);
  auto r = whoami(*server, std::nullopt);
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->body, "none|");
}

TEST_F(MutualTls, CertificateFromTheCaIsOnTheRequest) {
  auto server = start_mtls(pki_->ca);
  ASSERT_TRUE(server);
  const std::string expected = fingerprint(pki_->client_chain);
  ASSERT_EQ(expected.size(), 64u) << expected;
  ClientOptions options;
  options.ca_file = pki_->ca.string();
  options.client_certificate = client_cert();
  auto client = Client::create("https://127.0.0.1:" + port_of(*server), options);
  ASSERT_TRUE(client.ok()) << client.error().message;
  for (int i = 0; i < 3; ++i) {  // every request of the kept-alive connection
    auto r = (*client)->get("/whoami");
    ASSERT_TRUE(r.ok()) << r.error().message;
    EXPECT_EQ(r->body, expected + "|CN=tl-client,O=Trustlaunch Tests");
  }
  // Another connection, another certificate of the same CA: another identity.
  auto server_leaf = whoami(*server, TlsFiles{pki_->server_chain.string(), pki_->server_key.string()});
  ASSERT_TRUE(server_leaf.ok()) << server_leaf.error().message;
  EXPECT_EQ(server_leaf->body, fingerprint(pki_->server_chain) + "|CN=server");
}

TEST_F(MutualTls, CertificateFromAnotherCaFailsTheHandshake) {
  auto server = start_mtls(pki_->ca);
  ASSERT_TRUE(server);
  auto r = whoami(*server, TlsFiles{pki_->other_client_chain.string(), pki_->other_client_key.string()});
  // TLS 1.3: the client may finish its side first and learn of the refusal
  // (an alert) on its first read; either way no request is served.
  ASSERT_FALSE(r.ok()) << r->body;
  EXPECT_NE(r.error().message.find("127.0.0.1:" + port_of(*server)), std::string::npos) << r.error().message;
  EXPECT_NE(r.error().message.find("alert unknown ca"), std::string::npos) << r.error().message;
  EXPECT_EQ(served_.load(), 0);
  // A certificate of the right CA but only for TLS servers (extendedKeyUsage).
  auto wrong_purpose = whoami(*server, TlsFiles{pki_->server_only_chain.string(), pki_->server_only_key.string()});
  ASSERT_FALSE(wrong_purpose.ok()) << wrong_purpose->body;
  EXPECT_NE(wrong_purpose.error().message.find("alert"), std::string::npos) << wrong_purpose.error().message;
  EXPECT_EQ(served_.load(), 0);
  // The server is unharmed.
  auto ok = whoami(*server, client_cert());
  ASSERT_TRUE(ok.ok()) << ok.error().message;
  EXPECT_EQ(served_.load(), 1);
}

TEST_F(MutualTls, ServerWithoutClientCaIgnoresClientCertificates) {
  auto server = start_mtls(std::nullopt);
  ASSERT_TRUE(server);
  for (const auto& cert : {client_cert(), TlsFiles{pki_->other_client_chain.string(), pki_->other_client_key.string()}}) {
    auto r = whoami(*server, cert);
    ASSERT_TRUE(r.ok()) << r.error().message;
    EXPECT_EQ(r->body, "none|");
  }
}

TEST_F(MutualTls, BadConfigurationRefused) {
  ServerOptions plain;
  plain.client_ca_file = pki_->ca.string();
  auto no_tls = Server::start(plain, Router{});
  ASSERT_FALSE(no_tls.ok());
  EXPECT_NE(no_tls.error().message.find("need HTTPS"), std::string::npos) << no_tls.error().message;

  ServerOptions missing;
  missing.tls = TlsFiles{pki_->server_chain.string(), pki_->server_key.string()};
  missing.client_ca_file = (pki_->dir / "no-client-ca.pem").string();
  auto no_file = Server::start(missing, Router{});
  ASSERT_FALSE(no_file.ok());
  EXPECT_NE(no_file.error().message.find("no-client-ca.pem"), std::string::npos) << no_file.error().message;

  missing.client_ca_file = pki_->server_key.string();  // a key, no certificate
  EXPECT_FALSE(Server::start(missing, Router{}).ok());

  ClientOptions options;
  options.client_certificate = TlsFiles{(pki_->dir / "no-cert.pem").string(), pki_->client_key.string()};
  auto no_cert = Client::create("https://127.0.0.1:1", options);
  ASSERT_FALSE(no_cert.ok());
  EXPECT_NE(no_cert.error().message.find("no-cert.pem"), std::string::npos) << no_cert.error().message;
  options.client_certificate = TlsFiles{pki_->client_chain.string(), pki_->other_client_key.string()};
  auto mismatched = Client::create("https://127.0.0.1:1", options);
  ASSERT_FALSE(mismatched.ok());
  EXPECT_NE(mismatched.error().message.find("does not fit"), std::string::npos) << mismatched.error().message;
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
