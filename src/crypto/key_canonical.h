// Private to src/crypto: checks private key material member by member and
// encodes it in one canonical PKCS#8 form, so the same key always gives the
// same bytes however it arrived (PEM, DER, JWK, generated). Errors name the
// member in JWK spelling ('n', 'dp', 'crv' …) and never quote a secret.
#pragma once

#include <openssl/bn.h>
#include <openssl/evp.h>

#include <memory>

#include "common/hex.h"
#include "common/result.h"
#include "crypto/key_material.h"
#include "crypto/openssl_util.h"
#include "crypto/secret_bytes.h"

namespace tl::crypto {

using PkeyPtr = std::unique_ptr<EVP_PKEY, FnDeleter<EVP_PKEY_free>>;
using SecretBnPtr = std::unique_ptr<BIGNUM, FnDeleter<BN_clear_free>>;

// A two-prime RSA private key (RFC 8017 §3.2, JWK names).
struct RsaMembers {
  BnPtr n, e;
  SecretBnPtr d, p, q, dp, dq, qi;
};

// An EC private key: d, x and y each exactly the curve's field size.
struct EcMembers {
  Curve curve = Curve::p256;
  SecretBytes d;
  Bytes x, y;
};

struct CanonicalKey {
  KeySpec spec;
  SecretBytes pkcs8;  // PrivateKeyInfo DER
};

// A spec the vault supports: RSA 2048/3072/4096, EC P-256/P-384, oct 256.
Status check_spec(const KeySpec& spec);
std::string describe_spec(const KeySpec& spec);  // "RSA 2048 bits", "EC P-384", "oct 256 bits"
// Field size in bytes of a supported curve.
size_t ec_field_size(Curve curve);

// The spec of a decoded key, or why the vault cannot hold it ("RSA 1024 bits",
// "curve secp256k1", "key type ED25519"). Only looks, never checks the math.
Result<KeySpec> spec_of(const EVP_PKEY* pkey);

// Consistency checks (n = p*q, d matches e, CRT values, OpenSSL's key pair
// check; EC: point on the curve, d in range, d*G = (x, y)), then the encoding.
Result<CanonicalKey> canonical_rsa(const RsaMembers& m);
Result<CanonicalKey> canonical_ec(const EcMembers& m);
// Both of the above for a key OpenSSL decoded (PEM, DER).
Result<CanonicalKey> canonical_from_pkey(const EVP_PKEY* pkey);

// PKCS#8 of a key this process generated (no checks needed).
Result<SecretBytes> encode_pkcs8(const EVP_PKEY* pkey);
// A traditional private key: PKCS#1 RSAPrivateKey (`keytype` "RSA") or SEC 1
// ECPrivateKey ("EC"), no trailing bytes. Never asks for a passphrase.
Result<PkeyPtr> decode_traditional(ByteView der, const char* keytype);
// Strict PrivateKeyInfo DER: no trailing bytes; says what it found instead
// (encrypted PKCS#8, a public key) when it is not one.
Result<PkeyPtr> parse_pkcs8(ByteView der);

}  // namespace tl::crypto
