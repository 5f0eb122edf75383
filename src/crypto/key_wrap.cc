#include "crypto/key_wrap.h"

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/rsa.h>

#include <algorithm>
#include <climits>
#include <memory>
#include <string>

#include "crypto/openssl_util.h"

namespace tl::crypto {

namespace {

using CipherCtxPtr = std::unique_ptr<EVP_CIPHER_CTX, FnDeleter<EVP_CIPHER_CTX_free>>;

constexpr int kMinOaepBits = 2048;
constexpr size_t kKwpBlock = 8;         // RFC 5649 works in 64-bit semiblocks
constexpr size_t kGcmKeySize = 32;
constexpr size_t kGcmNonceSize = 12;
constexpr size_t kGcmTagSize = 16;
// EVP takes int lengths; the wrapped form adds up to 15 bytes (AIV + padding).
constexpr size_t kMaxKwpPlaintext = size_t{INT_MAX} - 16;

const EVP_MD* oaep_md(HashAlg hash) {
  switch (hash) {
    case HashAlg::sha1: return EVP_sha1();
    case HashAlg::sha256: return EVP_sha256();
    case HashAlg::sha384: return EVP_sha384();
    default: return nullptr;
  }
}

const EVP_CIPHER* kwp_cipher(size_t kek_size) {
  switch (kek_size) {
    case 16: return EVP_aes_128_wrap_pad();
    case 24: return EVP_aes_192_wrap_pad();
    case 32: return EVP_aes_256_wrap_pad();
    default: return nullptr;
  }
}

Error integrity_error(const std::string& what) {
  ERR_clear_error();
  return Error{what, "integrity"};
}

// A cipher context for AES-KWP under `kek`, ready to wrap (enc = 1) or unwrap.
Result<CipherCtxPtr> kwp_context(const SecretBytes& kek, int enc) {
  const EVP_CIPHER* cipher = kwp_cipher(kek.size());
  if (cipher == nullptr) {
    return Error{"AES key wrap: key-encryption key is " + std::to_string(kek.size()) +
                 " bytes, expected 16, 24 or 32"};
  }
  CipherCtxPtr ctx(EVP_CIPHER_CTX_new());
  if (!ctx) return Error{"out of memory"};
  // OpenSSL refuses wrap-mode ciphers through EVP unless the caller opts in.
  EVP_CIPHER_CTX_set_flags(ctx.get(), EVP_CIPHER_CTX_FLAG_WRAP_ALLOW);
  ERR_clear_error();
  if (EVP_CipherInit_ex(ctx.get(), cipher, nullptr, kek.data(), nullptr, enc) != 1) {
    return Error{openssl_error("AES key wrap: cipher init")};
  }
  return ctx;
}

}  // namespace

Result<Bytes> rsa_oaep_encrypt(const PublicKey& key, HashAlg hash, ByteView plaintext) {
  const EVP_MD* md = oaep_md(hash);
  if (md == nullptr) {
    return Error{"RSA-OAEP: hash " + std::string(hash_name(hash)) + " is not one of sha1, sha256, sha384"};
  }
  EVP_PKEY* pkey = evp_pkey(key);
  // RSA-PSS keys (a distinct OpenSSL type) are restricted to signing.
  if (EVP_PKEY_get_base_id(pkey) != EVP_PKEY_RSA) return Error{"RSA-OAEP: the key is not an RSA key"};
  const int bits = EVP_PKEY_get_bits(pkey);
  if (bits < kMinOaepBits) {
    return Error{"RSA-OAEP: the key is RSA " + std::to_string(bits) + " bits, at least " +
                 std::to_string(kMinOaepBits) + " are required"};
  }
  const size_t modulus_bytes = static_cast<size_t>(EVP_PKEY_get_size(pkey));
  const size_t hlen = digest_size(hash);
  const size_t max = modulus_bytes - 2 * hlen - 2;
  if (plaintext.size() > max) {
    return Error{"RSA-OAEP: plaintext of " + std::to_string(plaintext.size()) + " bytes is too long for RSA " +
                 std::to_string(bits) + " with " + std::string(hash_name(hash)) + " (at most " +
                 std::to_string(max) + ")"};
  }
  PkeyCtxPtr ctx(EVP_PKEY_CTX_new_from_pkey(nullptr, pkey, nullptr));
  ERR_clear_error();
  if (!ctx || EVP_PKEY_encrypt_init(ctx.get()) != 1 ||
      EVP_PKEY_CTX_set_rsa_padding(ctx.get(), RSA_PKCS1_OAEP_PADDING) != 1 ||
      EVP_PKEY_CTX_set_rsa_oaep_md(ctx.get(), md) != 1 || EVP_PKEY_CTX_set_rsa_mgf1_md(ctx.get(), md) != 1) {
    return Error{openssl_error("RSA-OAEP: encrypt init")};
  }
  size_t len = modulus_bytes;
  Bytes out(len);
  if (EVP_PKEY_encrypt(ctx.get(), out.data(), &len, plaintext.data(), plaintext.size()) != 1) {
    return Error{openssl_error("RSA-OAEP: encrypt")};
  }
  out.resize(len);
  return out;
}

Result<Bytes> aes_kwp_wrap(const SecretBytes& kek, ByteView plaintext) {
  if (plaintext.empty() || plaintext.size() > kMaxKwpPlaintext) {
    return Error{"AES key wrap: plaintext of " + std::to_string(plaintext.size()) + " bytes (1 to " +
                 std::to_string(kMaxKwpPlaintext) + " allowed)"};
  }
  auto ctx = kwp_context(kek, 1);
  if (!ctx) return ctx.take_error();
  // AIV semiblock plus the plaintext padded to a multiple of 8.
  Bytes out(kKwpBlock + (plaintext.size() + kKwpBlock - 1) / kKwpBlock * kKwpBlock);
  int len = 0;
  if (EVP_EncryptUpdate(ctx->get(), out.data(), &len, plaintext.data(), static_cast<int>(plaintext.size())) != 1) {
    return Error{openssl_error("AES key wrap: wrap")};
  }
  int tail = 0;
  if (EVP_EncryptFinal_ex(ctx->get(), out.data() + len, &tail) != 1) {
    return Error{openssl_error("AES key wrap: wrap")};
  }
  if (static_cast<size_t>(len + tail) != out.size()) return Error{"AES key wrap: unexpected output length"};
  return out;
}

Result<SecretBytes> aes_kwp_unwrap(const SecretBytes& kek, ByteView ciphertext) {
  if (ciphertext.size() < 2 * kKwpBlock || ciphertext.size() % kKwpBlock != 0 ||
      ciphertext.size() > size_t{INT_MAX} - kKwpBlock) {
    return Error{"AES key unwrap: ciphertext of " + std::to_string(ciphertext.size()) +
                     " bytes (a multiple of 8, at least 16, expected)",
                 "integrity"};
  }
  auto ctx = kwp_context(kek, 0);
  if (!ctx) return ctx.take_error();
  SecretBytes out(ciphertext.size());
  int len = 0;
  if (EVP_DecryptUpdate(ctx->get(), out.data(), &len, ciphertext.data(), static_cast<int>(ciphertext.size())) !=
          1 ||
      len <= 0) {
    return integrity_error("AES key unwrap: integrity check failed (wrong key or altered ciphertext)");
  }
  int tail = 0;
  if (EVP_DecryptFinal_ex(ctx->get(), out.data() + len, &tail) != 1) {
    return integrity_error("AES key unwrap: integrity check failed (wrong key or altered ciphertext)");
  }
  out.truncate(static_cast<size_t>(len + tail));
  return out;
}

Result<Bytes> aes256_gcm_seal(const SecretBytes& key, ByteView plaintext, ByteView aad) {
  if (key.size() != kGcmKeySize) {
    return Error{"AES-256-GCM: key is " + std::to_string(key.size()) + " bytes, expected 32"};
  }
  if (plaintext.size() > size_t{INT_MAX} - kGcmNonceSize - kGcmTagSize || aad.size() > size_t{INT_MAX}) {
    return Error{"AES-256-GCM: input too large"};
  }
  auto nonce = random_secret(kGcmNonceSize);
  if (!nonce) return nonce.take_error();
  Bytes out(kGcmNonceSize + plaintext.size() + kGcmTagSize);
  std::copy(nonce->view().begin(), nonce->view().end(), out.begin());
  CipherCtxPtr ctx(EVP_CIPHER_CTX_new());
  ERR_clear_error();
  if (!ctx || EVP_EncryptInit_ex(ctx.get(), EVP_aes_256_gcm(), nullptr, key.data(), out.data()) != 1) {
    return Error{openssl_error("AES-256-GCM: init")};
  }
  int len = 0;
  if (!aad.empty() && EVP_EncryptUpdate(ctx.get(), nullptr, &len, aad.data(), static_cast<int>(aad.size())) != 1) {
    return Error{openssl_error("AES-256-GCM: aad")};
  }
  uint8_t* ct = out.data() + kGcmNonceSize;
  if (!plaintext.empty() &&
      EVP_EncryptUpdate(ctx.get(), ct, &len, plaintext.data(), static_cast<int>(plaintext.size())) != 1) {
    return Error{openssl_error("AES-256-GCM: encrypt")};
  }
  int tail = 0;
  if (EVP_EncryptFinal_ex(ctx.get(), ct + plaintext.size(), &tail) != 1 ||
      EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_GET_TAG, static_cast<int>(kGcmTagSize),
                          ct + plaintext.size()) != 1) {
    return Error{openssl_error("AES-256-GCM: finish")};
  }
  return out;
}

Result<SecretBytes> aes256_gcm_open(const SecretBytes& key, ByteView sealed, ByteView aad) {
  if (key.size() != kGcmKeySize) {
    return Error{"AES-256-GCM: key is " + std::to_string(key.size()) + " bytes, expected 32"};
  }
  if (sealed.size() < kGcmNonceSize + kGcmTagSize) {
    return Error{"AES-256-GCM: sealed data of " + std::to_string(sealed.size()) +
                     " bytes is shorter than nonce and tag (28)",
                 "integrity"};
  }
  if (sealed.size() > size_t{INT_MAX} || aad.size() > size_t{INT_MAX}) {
    return Error{"AES-256-GCM: input too large", "integrity"};
  }
  const ByteView nonce = sealed.first(kGcmNonceSize);
  const ByteView ct = sealed.subspan(kGcmNonceSize, sealed.size() - kGcmNonceSize - kGcmTagSize);
  Bytes tag(sealed.end() - static_cast<long>(kGcmTagSize), sealed.end());  // ctrl wants a mutable pointer
  CipherCtxPtr ctx(EVP_CIPHER_CTX_new());
  ERR_clear_error();
  if (!ctx || EVP_DecryptInit_ex(ctx.get(), EVP_aes_256_gcm(), nullptr, key.data(), nonce.data()) != 1) {
    return Error{openssl_error("AES-256-GCM: init")};
  }
  int len = 0;
  if (!aad.empty() && EVP_DecryptUpdate(ctx.get(), nullptr, &len, aad.data(), static_cast<int>(aad.size())) != 1) {
    return Error{openssl_error("AES-256-GCM: aad")};
  }
  SecretBytes out(ct.size());
  if (!ct.empty() && EVP_DecryptUpdate(ctx.get(), out.data(), &len, ct.data(), static_cast<int>(ct.size())) != 1) {
    return Error{openssl_error("AES-256-GCM: decrypt")};
  }
  if (EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_SET_TAG, static_cast<int>(kGcmTagSize), tag.data()) != 1) {
    return Error{openssl_error("AES-256-GCM: set tag")};
  }
  int tail = 0;
  if (EVP_DecryptFinal_ex(ctx.get(), out.data() + ct.size(), &tail) != 1) {
    // `out` holds unauthenticated plaintext: SecretBytes cleanses it on return.
    return integrity_error("AES-256-GCM: authentication failed (wrong key, altered data or different aad)");
  }
  return out;
}

}  // namespace tl::crypto
