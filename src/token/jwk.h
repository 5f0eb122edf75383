// Public keys as JWK / JWK Set (RFC 7517, RFC 7518 §6) and the JWK thumbprint
// (RFC 7638). Only signature keys we can verify with: "RSA" and "EC" P-256.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/result.h"
#include "crypto/private_key.h"
#include "crypto/public_key.h"

namespace tl::token {

using crypto::JwsAlg;

// RFC 7638 thumbprint (SHA-256, base64url) of the required public members.
// Only RSA and EC P-256 keys.
Result<std::string> jwk_thumbprint(const crypto::PublicKey& key);

// One public verification key.
struct Jwk {
  std::string kid;
  crypto::PublicKey key;
  std::optional<JwsAlg> alg;  // the JWK's "alg" member, when it names one

  // Whether a token signed with `token_alg` may be checked with this key:
  // the key type must suit it (EC P-256 → ES256; RSA → RS256/PS256) and a
  // JWK "alg" member, if present, must equal it.
  Status allows(JwsAlg token_alg) const;

  // {"kty","kid","use":"sig","alg"?, "n","e" | "crv","x","y"}.
  nlohmann::json to_json() const;

  // Refuses: a missing/empty "kid"; "use" other than "sig"; "key_ops" without
  // "verify"; any private member ("d", "p", "q", "dp", "dq", "qi", "oth", "k");
  // an "alg" that is not ES256/RS256/PS256 or does not suit the key; RSA under
  // 2048 bits, "e" over 4 bytes, even or < 3; EC crv other than P-256, x/y not
  // 32 bytes, or a point off the curve. An unknown "kty" is an error here
  // (Jwks::parse skips such keys instead, RFC 7517 §5).
  // "x5c" (padded standard base64 DER, RFC 7517 §4.7): when "n"/"e" (RSA) or
  // "x"/"y" (EC) are both absent, the key is that of the first certificate
  // (as MAA publishes its keys); when present, the first certificate's key
  // must equal them. The certificate is not validated and grants no trust:
  // the JWKS it came in is what is trusted. Other members (x5t…) are ignored.
  static Result<Jwk> from_json(const nlohmann::json& j);
};

// A JWK Set keyed by "kid" (unique).
class Jwks {
 public:
  static constexpr size_t kMaxKeys = 64;
  static constexpr size_t kMaxJsonBytes = 256 * 1024;

  // {"keys":[...]}. Each entry must be a valid Jwk (error names its index and
  // kid) except that entries whose "kty" we do not know are skipped (RFC 7517
  // §5: "SHOULD ignore"); duplicate kids, more than kMaxKeys keys or more than
  // kMaxJsonBytes of text are refused.
  static Result<Jwks> parse(std::string_view json_text);
  static Result<Jwks> from_json(const nlohmann::json& j);

  Status add(Jwk jwk);  // refuses a duplicate kid
  const Jwk* find(std::string_view kid) const;
  const std::vector<Jwk>& keys() const { return keys_; }
  nlohmann::json to_json() const;

 private:
  std::vector<Jwk> keys_;
};

// A private key for signing tokens, with its kid (the RFC 7638 thumbprint of
// its public key). Does not print itself; the key is cleansed by OpenSSL.
class SigningKey {
 public:
  static Result<SigningKey> generate(JwsAlg alg);
  static Result<SigningKey> from_pkcs8_pem(JwsAlg alg, std::string_view pem);
  Result<crypto::Pkcs8Pem> to_pkcs8_pem() const { return key_.to_pkcs8_pem(); }

  JwsAlg alg() const { return key_.alg(); }
  const std::string& kid() const { return kid_; }
  Jwk public_jwk() const;  // with "alg" set
  const crypto::PrivateKey& private_key() const { return key_; }

 private:
  SigningKey(crypto::PrivateKey key, std::string kid) : key_(std::move(key)), kid_(std::move(kid)) {}
  static Result<SigningKey> wrap(Result<crypto::PrivateKey> key);
  crypto::PrivateKey key_;
  std::string kid_;
};

}  // namespace tl::token
