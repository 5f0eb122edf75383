#include "crypto/key_material.h"

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/x509.h>

#include "crypto/b64url.h"
#include "crypto/key_canonical.h"
#include "crypto/private_key.h"

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
  // These bytes were made by this class and sealed at rest, so parsing and the
  // spec comparison suffice; the slow consistency checks ran on import.
  auto pkey = parse_pkcs8(bytes);
  if (!pkey) return with_context("stored key", pkey.take_error());
  auto found = spec_of(pkey->get());
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
  auto pub = public_key();
  if (!pub) return jwk;
  if (spec_.kind == KeyKind::rsa) {
    auto p = rsa_public_params(*pub);
    if (!p) return jwk;
    jwk["n"] = b64url_encode(p->n);
    jwk["e"] = b64url_encode(p->e);
    return jwk;
  }
  auto p = ec_public_params(*pub);
  if (!p) return jwk;
  jwk["crv"] = curve_name(p->curve);
  jwk["x"] = b64url_encode(p->x);
  jwk["y"] = b64url_encode(p->y);
  return jwk;
}

}  // namespace tl::crypto
