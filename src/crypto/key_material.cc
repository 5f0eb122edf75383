#include "crypto/key_material.h"

#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/x509.h>

#include "crypto/b64url.h"
#include "crypto/key_canonical.h"
#include "crypto/pkcs8_spec.h"

namespace tl::crypto {

namespace {

constexpr size_t kOctBytes = 32;

Result<PublicKey> public_of(const EVP_PKEY* pkey) {
  unsigned char* der = nullptr;
  const int len = i2d_PUBKEY(pkey, &der);
  if (len <= 0) return Error{openssl_error("cannot encode the public key")};
  Bytes spki(der, der + len);
  OPENSSL_free(der);
  return PublicKey::from_der_spki(spki);
}

// A public big-endian integer parameter: minimal length (RFC 7518 Base64urlUInt)
// when `size` is 0, else left-padded to `size`. Empty on failure.
Bytes unsigned_param(const EVP_PKEY* pkey, const char* name, size_t size) {
  BIGNUM* bn = nullptr;
  if (EVP_PKEY_get_bn_param(pkey, name, &bn) != 1) {
    ERR_clear_error();
    return {};
  }
  BnPtr owned(bn);
  Bytes out(size != 0 ? size : static_cast<size_t>(BN_num_bytes(bn)));
  if (out.empty() || BN_bn2binpad(bn, out.data(), static_cast<int>(out.size())) < 0) return {};
  return out;
}

}  // namespace

std::string_view kty_name(KeyKind kind) {
  switch (kind) {
    case KeyKind::rsa: return "RSA";
    case KeyKind::ec: return "EC";
    case KeyKind::oct: return "oct";
  }
  return "?";
}

std::vector<std::string> supported_key_ops(KeyKind kind) {
  switch (kind) {
    case KeyKind::rsa: return {"encrypt", "decrypt", "sign", "verify", "wrapKey", "unwrapKey"};
    case KeyKind::ec: return {"sign", "verify"};
    case KeyKind::oct: return {"encrypt", "decrypt", "wrapKey", "unwrapKey"};
  }
  return {};
}

Result<KeyMaterial> KeyMaterial::generate(const KeySpec& spec) {
  if (auto st = check_spec(spec); !st) return with_context("key generation", st.take_error());
  if (spec.kind == KeyKind::oct) {
    auto k = random_secret(kOctBytes);
    if (!k) return k.take_error();
    return KeyMaterial(spec, std::move(*k));
  }
  ERR_clear_error();
  PkeyPtr pkey(spec.kind == KeyKind::rsa
                   ? EVP_PKEY_Q_keygen(nullptr, nullptr, "RSA", static_cast<size_t>(spec.bits))
                   : EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", spec.curve == Curve::p384 ? "P-384" : "P-256"));
  if (!pkey) return Error{openssl_error("key generation failed")};
  auto der = encode_pkcs8(pkey.get());
  if (!der) return der.take_error();
  return KeyMaterial(spec, std::move(*der));
}

Result<KeyMaterial> KeyMaterial::from_release_bytes(const KeySpec& spec, ByteView bytes) {
  if (auto st = check_spec(spec); !st) return with_context("stored key", st.take_error());
  if (spec.kind == KeyKind::oct) {
    if (bytes.size() != kOctBytes) {
      return Error{"stored oct key is " + std::to_string(bytes.size()) + " bytes, expected 32"};
    }
    return KeyMaterial(spec, SecretBytes(bytes));
  }
  // These bytes were made by this class and sealed at rest (authenticated), so
  // reading their structure and spec suffices, and it must be fast: this runs
  // for every release. The slow consistency checks ran on import.
  auto found = pkcs8_spec(bytes);
  if (!found) return with_context("stored key", found.take_error());
  if (found->kind != spec.kind || found->bits != spec.bits ||
      (spec.kind == KeyKind::ec && found->curve != spec.curve)) {
    return Error{"stored key is " + describe_spec(*found) + ", its record says " + describe_spec(spec)};
  }
  return KeyMaterial(*found, SecretBytes(bytes));
}

Result<PublicKey> KeyMaterial::public_key() const {
  if (spec_.kind == KeyKind::oct) return Error{"an oct (symmetric) key has no public key"};
  auto pkey = parse_pkcs8(bytes_.view());
  if (!pkey) return pkey.take_error();
  return public_of(pkey->get());
}

nlohmann::json KeyMaterial::public_jwk() const {
  nlohmann::json jwk = {{"kty", kty_name(spec_.kind)}};
  if (spec_.kind == KeyKind::oct) return jwk;
  // The bytes parsed when this object was made, so this cannot fail short of
  // running out of memory; then the JWK lacks its members and will not verify.
  auto pkey = parse_pkcs8(bytes_.view());
  if (!pkey) return jwk;
  if (spec_.kind == KeyKind::rsa) {
    auto n = unsigned_param(pkey->get(), OSSL_PKEY_PARAM_RSA_N, 0);
    auto e = unsigned_param(pkey->get(), OSSL_PKEY_PARAM_RSA_E, 0);
    if (n.empty() || e.empty()) return jwk;
    jwk["n"] = b64url_encode(n);
    jwk["e"] = b64url_encode(e);
    return jwk;
  }
  const size_t size = ec_field_size(spec_.curve);
  auto x = unsigned_param(pkey->get(), OSSL_PKEY_PARAM_EC_PUB_X, size);
  auto y = unsigned_param(pkey->get(), OSSL_PKEY_PARAM_EC_PUB_Y, size);
  if (x.empty() || y.empty()) return jwk;
  jwk["crv"] = curve_name(spec_.curve);
  jwk["x"] = b64url_encode(x);
  jwk["y"] = b64url_encode(y);
  return jwk;
}

}  // namespace tl::crypto
