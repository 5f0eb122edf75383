// JWT (RFC 7519) in JWS compact serialization (RFC 7515 §7.1): signing, and
// verification that returns a VerifiedToken only when every check passed.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/result.h"
#include "token/jwk.h"

namespace tl::token {

struct SignOptions {
  std::optional<std::string> jku;  // "jku" header: where the JWKS is published
};

// Compact JWS with header {"alg", "kid", "typ":"JWT"[, "jku"]} over `claims`
// (which must be a JSON object with valid UTF-8 strings).
Result<std::string> sign_jwt(const SigningKey& key, const nlohmann::json& claims, const SignOptions& options = {});

// Stable reasons (Error::reason) of verify_jwt failures, one per class of
// failure (docs/token.md "Rejection reasons"); the message says the detail.
inline constexpr const char* kReasonTokenMalformed = "token-malformed";
inline constexpr const char* kReasonTokenAlgRefused = "token-alg-refused";
inline constexpr const char* kReasonTokenUnknownKid = "token-unknown-kid";
inline constexpr const char* kReasonTokenSignatureInvalid = "token-signature-invalid";
inline constexpr const char* kReasonTokenExpired = "token-expired";
inline constexpr const char* kReasonTokenNotYetValid = "token-not-yet-valid";
inline constexpr const char* kReasonTokenIssuerMismatch = "token-issuer-mismatch";
inline constexpr const char* kReasonTokenAudienceMismatch = "token-audience-mismatch";

struct VerifyOptions {
  static constexpr size_t kDefaultMaxTokenBytes = 64 * 1024;

  std::vector<JwsAlg> allowed_algs{JwsAlg::es256, JwsAlg::rs256, JwsAlg::ps256};
  std::optional<int64_t> now;       // seconds since the epoch; the system clock when unset
  int64_t leeway_seconds = 60;      // clock skew allowed for exp / nbf / iat
  bool require_exp = true;
  std::optional<std::string> issuer;    // when set, "iss" must equal it
  std::optional<std::string> audience;  // when set, "aud" (string or array) must contain it
  size_t max_token_bytes = kDefaultMaxTokenBytes;
};

// Header and claims of a token whose signature, alg, key and time window were
// checked. Only verify_jwt makes one.
class VerifiedToken {
 public:
  const nlohmann::json& header() const { return header_; }
  const nlohmann::json& claims() const { return claims_; }
  JwsAlg alg() const { return alg_; }
  const std::string& kid() const { return kid_; }

 private:
  VerifiedToken(nlohmann::json header, nlohmann::json claims, JwsAlg alg, std::string kid)
      : header_(std::move(header)), claims_(std::move(claims)), alg_(alg), kid_(std::move(kid)) {}
  friend Result<VerifiedToken> verify_jwt(std::string_view, const Jwks&, const VerifyOptions&);
  nlohmann::json header_;
  nlohmann::json claims_;
  JwsAlg alg_;
  std::string kid_;
};

// Steps (each failure names the part/field and the reason; docs/token.md):
// size limit; three non-empty parts; strict base64url for each; header a JSON
// object (no duplicate members) with "alg" in allowed_algs ("none", HS*, and
// anything else refused), no "crit", "typ" JWT if present, a "kid" found in
// `keys` whose key suits the alg; the signature; claims a JSON object; exp
// (required unless !require_exp), nbf, iat within leeway; iss, aud if configured.
// Every failure carries one of the kReasonToken* reasons.
Result<VerifiedToken> verify_jwt(std::string_view token, const Jwks& keys, const VerifyOptions& options = {});

}  // namespace tl::token
