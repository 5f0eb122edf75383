#include "crypto/seed_encryption.h"

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>

#include <memory>
#include <string>

#include "crypto/openssl_util.h"

namespace tl::crypto {
namespace {

using PkeyPtr = std::unique_ptr<EVP_PKEY, FnDeleter<EVP_PKEY_free>>;

const EVP_MD* evp_md(HashAlg alg) {
  switch (alg) {
    case HashAlg::sha1: return EVP_sha1();
    case HashAlg::sha256: return EVP_sha256();
    case HashAlg::sha384: return EVP_sha384();
    case HashAlg::sha512: return EVP_sha512();
    case HashAlg::sm3_256: return EVP_get_digestbyname("SM3");
  }
  return nullptr;
}

Result<Bytes> coordinate(const EVP_PKEY* pkey, const char* param, size_t size) {
  BIGNUM* raw = nullptr;
  if (EVP_PKEY_get_bn_param(pkey, param, &raw) != 1) return Error{openssl_error("EC point")};
  BnPtr bn(raw);
  Bytes out(size);
  if (BN_bn2binpad(bn.get(), out.data(), static_cast<int>(size)) != static_cast<int>(size)) {
    return Error{"EC point: coordinate longer than the field"};
  }
  return out;
}

}  // namespace

Result<size_t> ec_field_size(const PublicKey& key) {
  if (key.type() != KeyType::ec) return Error{"not an EC key"};
  return static_cast<size_t>((key.bits() + 7) / 8);
}

Result<Bytes> rsa_oaep_encrypt(const PublicKey& key, HashAlg alg, ByteView label, ByteView plaintext) {
  if (key.type() != KeyType::rsa) return Error{"RSA-OAEP: not an RSA key"};
  EVP_PKEY* pkey = evp_pkey(key);
  const EVP_MD* md = evp_md(alg);
  if (md == nullptr) return Error{"RSA-OAEP: digest " + std::string(hash_name(alg)) + " unavailable"};
  PkeyCtxPtr ctx(EVP_PKEY_CTX_new(pkey, nullptr));
  if (!ctx) return Error{"out of memory"};
  ERR_clear_error();
  if (EVP_PKEY_encrypt_init(ctx.get()) != 1 ||
      EVP_PKEY_CTX_set_rsa_padding(ctx.get(), RSA_PKCS1_OAEP_PADDING) != 1 ||
      EVP_PKEY_CTX_set_rsa_oaep_md(ctx.get(), md) != 1 || EVP_PKEY_CTX_set_rsa_mgf1_md(ctx.get(), md) != 1) {
    return Error{openssl_error("RSA-OAEP setup")};
  }
  if (!label.empty()) {
    void* copy = OPENSSL_memdup(label.data(), label.size());
    if (copy == nullptr) return Error{"out of memory"};
    if (EVP_PKEY_CTX_set0_rsa_oaep_label(ctx.get(), copy, static_cast<int>(label.size())) != 1) {
      OPENSSL_free(copy);
      return Error{openssl_error("RSA-OAEP label")};
    }
  }
  size_t len = 0;
  if (EVP_PKEY_encrypt(ctx.get(), nullptr, &len, plaintext.data(), plaintext.size()) != 1) {
    return Error{openssl_error("RSA-OAEP")};
  }
  Bytes out(len);
  if (EVP_PKEY_encrypt(ctx.get(), out.data(), &len, plaintext.data(), plaintext.size()) != 1) {
    return Error{openssl_error("RSA-OAEP (plaintext too long for the key?)")};
  }
  out.resize(len);
  return out;
}

Result<EphemeralEcdh> ecdh_ephemeral(const PublicKey& peer) {
  auto size = ec_field_size(peer);
  if (!size) return Error{"ECDH: " + size.error().message};
  EVP_PKEY* peer_key = evp_pkey(peer);
  char group[64] = {};
  size_t group_len = 0;
  if (EVP_PKEY_get_utf8_string_param(peer_key, OSSL_PKEY_PARAM_GROUP_NAME, group, sizeof group,
                                     &group_len) != 1) {
    return Error{openssl_error("ECDH: peer curve")};
  }
  ERR_clear_error();
  PkeyPtr eph(EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", group));
  if (!eph) return Error{openssl_error("ECDH: ephemeral key")};
  PkeyCtxPtr ctx(EVP_PKEY_CTX_new(eph.get(), nullptr));
  if (!ctx) return Error{"out of memory"};
  size_t zlen = 0;
  if (EVP_PKEY_derive_init(ctx.get()) != 1 || EVP_PKEY_derive_set_peer(ctx.get(), peer_key) != 1 ||
      EVP_PKEY_derive(ctx.get(), nullptr, &zlen) != 1 || zlen != *size) {
    return Error{openssl_error("ECDH")};
  }
  EphemeralEcdh out{{}, {}, SecretBytes(zlen)};
  if (EVP_PKEY_derive(ctx.get(), out.z.data(), &zlen) != 1 || zlen != *size) {
    return Error{openssl_error("ECDH")};
  }
  auto x = coordinate(eph.get(), OSSL_PKEY_PARAM_EC_PUB_X, *size);
  if (!x) return x.take_error();
  auto y = coordinate(eph.get(), OSSL_PKEY_PARAM_EC_PUB_Y, *size);
  if (!y) return y.take_error();
  out.x = std::move(*x);
  out.y = std::move(*y);
  return out;
}

}  // namespace tl::crypto
