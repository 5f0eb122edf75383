// A private signing key for JOSE (JWS) algorithms, held by OpenSSL, and the
// matching verification of JOSE-form signatures with a PublicKey.
//
// The key material never leaves this handle except as PKCS#8 PEM in a Pkcs8Pem,
// which is cleansed on destruction. Neither type prints itself.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "common/hex.h"
#include "common/result.h"
#include "crypto/public_key.h"

namespace tl::crypto {

// The JWS algorithms we sign and verify (RFC 7518 §3.1). No HMAC, no "none".
enum class JwsAlg { es256, rs256, ps256 };

std::string_view jws_alg_name(JwsAlg alg);  // "ES256", "RS256", "PS256"
std::optional<JwsAlg> jws_alg_from_name(std::string_view name);

// PKCS#8 PEM text of a private key. Move-only; zeroed when destroyed.
class Pkcs8Pem {
 public:
  explicit Pkcs8Pem(std::string text) : text_(std::move(text)) {}
  Pkcs8Pem(Pkcs8Pem&&) noexcept = default;
  Pkcs8Pem& operator=(Pkcs8Pem&&) noexcept;
  Pkcs8Pem(const Pkcs8Pem&) = delete;
  Pkcs8Pem& operator=(const Pkcs8Pem&) = delete;
  ~Pkcs8Pem();

  // For writing to protected storage only.
  std::string_view reveal() const { return text_; }

 private:
  std::string text_;
};

// A P-256 key (ES256) or an RSA key (RS256 / PS256).
class PrivateKey {
 public:
  // P-256 for ES256, RSA-3072 (e = 65537) for RS256 / PS256.
  static Result<PrivateKey> generate(JwsAlg alg);
  // Unencrypted PKCS#8 PEM ("BEGIN PRIVATE KEY"). The key must suit `alg`:
  // P-256 for ES256, RSA of at least 2048 bits for RS256 / PS256.
  static Result<PrivateKey> from_pkcs8_pem(JwsAlg alg, std::string_view pem);

  Result<Pkcs8Pem> to_pkcs8_pem() const;
  JwsAlg alg() const { return alg_; }
  const PublicKey& public_key() const { return public_; }

  // JWS signature over `message` (RFC 7518 §3): ES256 is the raw 64-byte
  // r || s; RS256 is RSASSA-PKCS1-v1_5 SHA-256; PS256 is RSASSA-PSS SHA-256
  // with MGF1 SHA-256 and a 32-byte salt.
  Result<Bytes> sign(ByteView message) const;

 private:
  struct Deleter {
    void operator()(void* p) const;
  };
  PrivateKey(JwsAlg alg, void* pkey, PublicKey pub)
      : alg_(alg), pkey_(pkey, Deleter{}), public_(std::move(pub)) {}
  JwsAlg alg_;
  std::shared_ptr<void> pkey_;  // EVP_PKEY*, immutable once built
  PublicKey public_;
};

// Verifies a JOSE-form signature (as PrivateKey::sign makes) with `key`.
// Refuses a key that does not suit `alg` (EC other than P-256 for ES256, EC for
// RS256/PS256, RSA under 2048 bits), an ES256 signature that is not 64 bytes and
// an RSA signature whose length is not the modulus length. PS256 requires the
// salt length to be 32 bytes.
Status verify_jws_signature(JwsAlg alg, const PublicKey& key, ByteView message, ByteView signature);

// Public parameters as JWK (RFC 7518 §6) needs them, big-endian, unsigned.
struct RsaPublicParams {
  Bytes n;  // no leading zero bytes
  Bytes e;
};
struct EcPublicParams {
  Curve curve;
  Bytes x;  // exactly the field size (32 bytes for P-256)
  Bytes y;
};
Result<RsaPublicParams> rsa_public_params(const PublicKey& key);
Result<EcPublicParams> ec_public_params(const PublicKey& key);

}  // namespace tl::crypto
