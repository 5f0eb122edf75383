// Signs attestation tokens and publishes their keys. Signing keys live in the
// store: one is generated at first start, `tlaunchd rotate-signing-key` adds a
// new one and retires the old, which stays in the JWKS until every token it
// signed has expired (retired_at + lifetime + leeway). A running server picks
// up a rotation made by another process within kReloadSeconds.
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <shared_mutex>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/result.h"
#include "server/repository.h"
#include "token/jwk.h"
#include "verify/challenge.h"

namespace tl::server {

class TokenIssuer {
 public:
  static constexpr int64_t kReloadSeconds = 10;
  static constexpr int64_t kLeewaySeconds = 300;
  static constexpr int64_t kMaxLifetimeSeconds = 7 * 24 * 3600;  // the config's upper bound

  // Loads the keys; when none is active, generates one with `alg`.
  static Result<std::unique_ptr<TokenIssuer>> open(Repository& repo, crypto::JwsAlg alg, std::string issuer,
                                                   int64_t lifetime_seconds, verify::Clock clock);
  // Adds a new active key and retires the others. Returns the new kid.
  static Result<std::string> rotate(Repository& repo, crypto::JwsAlg alg, int64_t lifetime_seconds, int64_t now);

  // Adds iss, iat, nbf, exp, jti to `claims` and signs with the active key.
  Result<std::string> issue(nlohmann::json claims);
  // Signs a payload that is not an attestation token (the key vault's release
  // answer): adds iss, iat and jti, no exp / nbf.
  Result<std::string> sign_document(nlohmann::json payload);
  nlohmann::json jwks();                 // {"keys":[…]} active + not yet expired retired keys
  token::Jwks verification_keys();       // the same keys, for checking our own tokens
  std::string issuer();
  // The issuer once it is known (e.g. after binding port 0).
  void set_issuer(std::string issuer);
  int64_t lifetime_seconds() const { return lifetime_; }
  std::vector<std::string> algorithms();  // algs of the published keys

 private:
  TokenIssuer(Repository& repo, std::string issuer, int64_t lifetime, verify::Clock clock)
      : repo_(repo), issuer_(std::move(issuer)), lifetime_(lifetime), clock_(std::move(clock)) {}
  Status reload_locked(int64_t now);
  Status maybe_reload();

  Repository& repo_;
  std::string issuer_;
  int64_t lifetime_;
  verify::Clock clock_;
  std::shared_mutex mu_;
  std::shared_ptr<const token::SigningKey> active_;
  token::Jwks published_;
  int64_t loaded_at_ = 0;
};

}  // namespace tl::server
