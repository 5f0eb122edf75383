#include "crypto/aes_cfb.h"

#include <openssl/evp.h>

#include <memory>
#include <string>

#include "crypto/openssl_util.h"

namespace tl::crypto {
namespace {

using CipherCtxPtr = std::unique_ptr<EVP_CIPHER_CTX, FnDeleter<EVP_CIPHER_CTX_free>>;

const EVP_CIPHER* cfb_cipher(size_t key_size) {
  switch (key_size) {
    case 16: return EVP_aes_128_cfb128();
    case 24: return EVP_aes_192_cfb128();
    case 32: return EVP_aes_256_cfb128();
    default: return nullptr;
  }
}

// out must have in.size() bytes (CFB is a stream mode: no padding).
Status run(bool encrypt, const SecretBytes& key, ByteView iv, ByteView in, uint8_t* out) {
  const EVP_CIPHER* cipher = cfb_cipher(key.size());
  if (cipher == nullptr) {
    return Error{"AES-CFB: key of " + std::to_string(key.size()) + " bytes, need 16, 24 or 32"};
  }
  if (iv.size() != 16) return Error{"AES-CFB: IV of " + std::to_string(iv.size()) + " bytes, need 16"};
  CipherCtxPtr ctx(EVP_CIPHER_CTX_new());
  if (!ctx) return Error{"out of memory"};
  int len = 0;
  int fin = 0;
  if (EVP_CipherInit_ex(ctx.get(), cipher, nullptr, key.data(), iv.data(), encrypt ? 1 : 0) != 1 ||
      (!in.empty() && EVP_CipherUpdate(ctx.get(), out, &len, in.data(), static_cast<int>(in.size())) != 1) ||
      EVP_CipherFinal_ex(ctx.get(), out + len, &fin) != 1 || static_cast<size_t>(len + fin) != in.size()) {
    return Error{openssl_error("AES-CFB")};
  }
  return {};
}

}  // namespace

Result<Bytes> aes_cfb_encrypt(const SecretBytes& key, ByteView iv, ByteView plaintext) {
  Bytes out(plaintext.size());
  if (auto st = run(true, key, iv, plaintext, out.data()); !st) return st.take_error();
  return out;
}

Result<SecretBytes> aes_cfb_decrypt(const SecretBytes& key, ByteView iv, ByteView ciphertext) {
  SecretBytes out(ciphertext.size());
  if (auto st = run(false, key, iv, ciphertext, out.data()); !st) return st.take_error();
  return out;
}

}  // namespace tl::crypto
