// A token issuer for the tests: the real tl::http::Server on 127.0.0.1
// publishing an OpenID discovery document and a JWKS, counting the requests it
// gets, and tokens signed with real keys.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "http/http.h"
#include "token/jwk.h"
#include "token/jwt.h"

namespace tl::keys::test {

class TestIssuer {
 public:
  // Plain http unless tls is given; publishes `keys` (may be changed later).
  explicit TestIssuer(std::vector<const token::SigningKey*> keys, std::optional<http::TlsFiles> tls = {});
  ~TestIssuer();

  const std::string& issuer() const { return issuer_; }  // "http://127.0.0.1:<port>"
  uint16_t port() const { return port_; }

  void publish(std::vector<const token::SigningKey*> keys);
  void publish_text(std::string jwks_text);       // any body at /certs
  void set_discovery_issuer(std::string issuer);  // what discovery claims
  void set_discovery_text(std::string body);      // any body at discovery
  void set_status(int status);                    // for every answer
  // /certs waits until release() (a slow issuer); hold() returns at once.
  void hold();
  void release();
  bool wait_until_held_request(int timeout_ms);  // true once a /certs request is waiting

  int discovery_requests() const { return state_->discovery.load(); }
  int jwks_requests() const { return state_->jwks.load(); }
  int requests() const { return state_->total.load(); }

  void stop();  // nothing listens on port() afterwards

 private:
  struct State {
    std::mutex mutex;
    std::condition_variable cv;
    std::string issuer;
    std::string jwks_text;
    std::optional<std::string> discovery_issuer;
    std::optional<std::string> discovery_text;
    int status = 200;
    bool held = false;
    int waiting = 0;
    std::atomic<int> discovery{0};
    std::atomic<int> jwks{0};
    std::atomic<int> total{0};
  };
  std::shared_ptr<State> state_;
  std::unique_ptr<http::Server> server_;
  std::string issuer_;
  uint16_t port_ = 0;
};

// A JWKS text with the public keys.
std::string jwks_text(const std::vector<const token::SigningKey*>& keys);

// Standard claims for `iss` valid around `now` (iat = nbf = now - 10, exp = now + 3600).
nlohmann::json claims_for(const std::string& iss, int64_t now);

// sign_jwt, failing the test on error.
std::string sign(const token::SigningKey& key, const nlohmann::json& claims);

// A token with any header, signed by `key` (for made-up kids and algs).
std::string sign_with_header(const token::SigningKey& key, const nlohmann::json& header, const nlohmann::json& claims);

}  // namespace tl::keys::test
