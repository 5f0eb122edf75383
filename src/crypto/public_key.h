// A public key held by OpenSSL, and verification of signatures with it.
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "common/hex.h"
#include "common/result.h"
#include "crypto/digest.h"

namespace tl::crypto {

enum class KeyType { rsa, ec };
enum class Curve { p256, p384, p521 };

class PublicKey {
 public:
  static Result<PublicKey> from_pem(std::string_view pem);
  static Result<PublicKey> from_der_spki(ByteView der);
  // RSA from big-endian modulus and public exponent.
  static Result<PublicKey> from_rsa(ByteView modulus, uint32_t exponent);
  // EC from big-endian affine coordinates; the point must be on the curve.
  static Result<PublicKey> from_ec(Curve curve, ByteView x, ByteView y);

  KeyType type() const;
  int bits() const;
  Bytes der_spki() const;
  std::string pem() const;

  // Signature checks. Each fails with a reason (wrong key type, bad signature).
  Status verify_rsassa_pkcs1v15(HashAlg alg, ByteView message, ByteView signature) const;
  // Salt length is recovered from the signature (TPMs use the maximum or the hash size).
  Status verify_rsapss(HashAlg alg, ByteView message, ByteView signature) const;
  // ECDSA with the raw (r, s) integers as the TPM returns them.
  Status verify_ecdsa(HashAlg alg, ByteView message, ByteView r, ByteView s) const;

  bool operator==(const PublicKey& other) const;

 private:
  struct Deleter {
    void operator()(void* p) const;
  };
  explicit PublicKey(void* pkey) : pkey_(pkey, Deleter{}) {}
  std::shared_ptr<void> pkey_;  // EVP_PKEY*, immutable once built
  friend struct PublicKeyAccess;
};

std::string_view curve_name(Curve c);  // "P-256"…

}  // namespace tl::crypto
