// Private key material held by the key vault: RSA, EC and symmetric (oct) keys,
// generated here or imported (BYOK). docs/keyvault.md has the accepted forms.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/hex.h"
#include "common/result.h"
#include "crypto/public_key.h"
#include "crypto/secret_bytes.h"

namespace tl::crypto {

enum class KeyKind { rsa, ec, oct };

// What a key is: RSA 2048/3072/4096, EC P-256/P-384, oct 256 bits.
struct KeySpec {
  KeyKind kind = KeyKind::rsa;
  int bits = 2048;            // RSA modulus bits; oct key bits (256); EC: the curve's size
  Curve curve = Curve::p256;  // EC only
  bool operator==(const KeySpec&) const = default;
};

std::string_view kty_name(KeyKind kind);  // "RSA", "EC", "oct"
// The Key Vault key operations a key of this kind supports, in Key Vault's order:
// RSA: encrypt decrypt sign verify wrapKey unwrapKey; EC: sign verify;
// oct: encrypt decrypt wrapKey unwrapKey.
std::vector<std::string> supported_key_ops(KeyKind kind);

// A private key. Move-only; the bytes are cleansed when destroyed; it never prints.
class KeyMaterial {
 public:
  static Result<KeyMaterial> generate(const KeySpec& spec);
  // "PRIVATE KEY" (PKCS#8), "RSA PRIVATE KEY" (PKCS#1) or "EC PRIVATE KEY"
  // (SEC 1) PEM; encrypted PEM is refused (decrypt it first). RSA keys must
  // be 2048, 3072 or 4096 bits with e = 65537 … any odd e >= 3; EC keys P-256
  // or P-384. Errors say what was found ("RSA 1024 bits", "curve secp256k1").
  static Result<KeyMaterial> import_pem(std::string_view pem);
  // Unencrypted PKCS#8 PrivateKeyInfo DER, same rules.
  static Result<KeyMaterial> import_pkcs8_der(ByteView der);
  // A private JWK (RFC 7518 §6): RSA with n e d p q dp dq qi; EC with crv x y d;
  // oct with k (32 bytes). Public-only JWKs and inconsistent members (d does
  // not match x/y, n != p*q) are refused, naming the member.
  static Result<KeyMaterial> import_jwk(const nlohmann::json& jwk);
  // The form release_bytes() returns, for a key of `spec`, as stored (after
  // unsealing). Checks that it parses back to a key of exactly that spec.
  static Result<KeyMaterial> from_release_bytes(const KeySpec& spec, ByteView bytes);

  KeyMaterial(KeyMaterial&&) noexcept = default;
  KeyMaterial& operator=(KeyMaterial&&) noexcept = default;

  const KeySpec& spec() const { return spec_; }
  // What a release wraps: PKCS#8 PrivateKeyInfo DER for RSA and EC, the raw
  // key bytes for oct.
  const SecretBytes& release_bytes() const { return bytes_; }
  // Public JWK members: {"kty","n","e"} | {"kty","crv","x","y"} | {"kty"} for
  // oct (no key material). No kid / key_ops: the vault adds those.
  nlohmann::json public_jwk() const;
  // RSA / EC public key (error for oct).
  Result<PublicKey> public_key() const;

 private:
  KeyMaterial(KeySpec spec, SecretBytes bytes) : spec_(spec), bytes_(std::move(bytes)) {}
  KeySpec spec_;
  SecretBytes bytes_;
};

}  // namespace tl::crypto
