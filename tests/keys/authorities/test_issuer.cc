#include "test_issuer.h"

#include <gtest/gtest.h>

#include <chrono>

#include "token/base64url.h"

namespace tl::keys::test {

TestIssuer::TestIssuer(std::vector<const token::SigningKey*> keys, std::optional<http::TlsFiles> tls)
    : state_(std::make_shared<State>()) {
  state_->jwks_text = jwks_text(keys);
  const bool https = tls.has_value();
  http::Router router;
  std::shared_ptr<State> s = state_;
  router.add("GET", "/.well-known/openid-configuration", [s](const http::Request&) {
    ++s->total;
    ++s->discovery;
    std::lock_guard lock(s->mutex);
    if (s->status != 200) return http::Response{s->status, {}, "{}"};
    if (s->discovery_text) return http::Response{200, {}, *s->discovery_text};
    const nlohmann::json doc = {{"issuer", s->discovery_issuer.value_or(s->issuer)},
                                {"jwks_uri", s->issuer + "/certs"},
                                {"id_token_signing_alg_values_supported", {"RS256", "ES256"}}};
    return http::Response{200, {}, doc.dump()};
  });
  router.add("GET", "/certs", [s](const http::Request&) {
    ++s->total;
    ++s->jwks;
    std::unique_lock lock(s->mutex);
    ++s->waiting;
    s->cv.notify_all();
    s->cv.wait_for(lock, std::chrono::seconds(10), [&] { return !s->held; });
    --s->waiting;
    if (s->status != 200) return http::Response{s->status, {}, "{}"};
    return http::Response{200, {}, s->jwks_text};
  });
  router.set_fallback([s](int status, const http::Request&) {
    ++s->total;
    return http::Response{status, {}, "{}"};
  });
  http::ServerOptions options;
  options.threads = 4;
  options.tls = std::move(tls);
  auto server = http::Server::start(std::move(options), std::move(router));
  if (!server) {
    ADD_FAILURE() << server.error().message;
    return;
  }
  server_ = std::move(*server);
  port_ = server_->port();
  issuer_ = std::string(https ? "https" : "http") + "://127.0.0.1:" + std::to_string(port_);
  std::lock_guard lock(state_->mutex);
  state_->issuer = issuer_;
}

TestIssuer::~TestIssuer() {
  release();
  stop();
}

void TestIssuer::publish(std::vector<const token::SigningKey*> keys) { publish_text(jwks_text(keys)); }

void TestIssuer::publish_text(std::string text) {
  std::lock_guard lock(state_->mutex);
  state_->jwks_text = std::move(text);
}

void TestIssuer::set_discovery_issuer(std::string issuer) {
  std::lock_guard lock(state_->mutex);
  state_->discovery_issuer = std::move(issuer);
}

void TestIssuer::set_discovery_text(std::string body) {
  std::lock_guard lock(state_->mutex);
  state_->discovery_text = std::move(body);
}

void TestIssuer::set_status(int status) {
  std::lock_guard lock(state_->mutex);
  state_->status = status;
}

void TestIssuer::hold() {
  std::lock_guard lock(state_->mutex);
  state_->held = true;
}

void TestIssuer::release() {
  {
    std::lock_guard lock(state_->mutex);
    state_->held = false;
  }
  state_->cv.notify_all();
}

bool TestIssuer::wait_until_held_request(int timeout_ms) {
  std::unique_lock lock(state_->mutex);
  return state_->cv.wait_for(lock, std::chrono::milliseconds(timeout_ms),
                             [&] { return state_->held && state_->waiting > 0; });
}

void TestIssuer::stop() {
  if (server_) server_->stop();
  server_.reset();
}

std::string jwks_text(const std::vector<const token::SigningKey*>& keys) {
  token::Jwks set;
  for (const auto* k : keys) EXPECT_TRUE(set.add(k->public_jwk()).ok());
  return set.to_json().dump();
}

nlohmann::json claims_for(const std::string& iss, int64_t now) {
  return {
      {"iss", iss},  {"iat", now - 10}, {"nbf", now - 10}, {"exp", now + 3600}, {"x-ms-attestation-type", "azurevm"},
      {"jti", "t-1"}};
}

std::string sign(const token::SigningKey& key, const nlohmann::json& claims) {
  auto t = token::sign_jwt(key, claims);
  EXPECT_TRUE(t.ok()) << (t.ok() ? "" : t.error().message);
  return t.ok() ? *t : std::string();
}

std::string sign_with_header(const token::SigningKey& key, const nlohmann::json& header, const nlohmann::json& claims) {
  const std::string input =
      token::base64url_encode(as_bytes(header.dump())) + "." + token::base64url_encode(as_bytes(claims.dump()));
  auto sig = key.private_key().sign(as_bytes(input));
  EXPECT_TRUE(sig.ok());
  return input + "." + (sig.ok() ? token::base64url_encode(*sig) : std::string());
}

}  // namespace tl::keys::test
