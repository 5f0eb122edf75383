#include "crypto/secret_bytes.h"

#include <openssl/crypto.h>
#include <openssl/rand.h>

#include "crypto/openssl_util.h"

namespace tl::crypto {

void SecretBytes::wipe() {
  if (!bytes_.empty()) OPENSSL_cleanse(bytes_.data(), bytes_.size());
  bytes_.clear();
}

SecretBytes::~SecretBytes() { wipe(); }

SecretBytes& SecretBytes::operator=(const SecretBytes& other) {
  if (this != &other) {
    wipe();
    bytes_.shrink_to_fit();
    bytes_ = other.bytes_;
  }
  return *this;
}

SecretBytes& SecretBytes::operator=(SecretBytes&& other) noexcept {
  if (this != &other) {
    wipe();
    bytes_ = std::move(other.bytes_);
    other.bytes_.clear();
  }
  return *this;
}

void SecretBytes::truncate(size_t n) {
  if (n >= bytes_.size()) return;
  OPENSSL_cleanse(bytes_.data() + n, bytes_.size() - n);
  bytes_.resize(n);  // shrinking never reallocates
}

bool SecretBytes::operator==(const SecretBytes& other) const {
  return bytes_.size() == other.bytes_.size() &&
         (bytes_.empty() || CRYPTO_memcmp(bytes_.data(), other.bytes_.data(), bytes_.size()) == 0);
}

Result<SecretBytes> random_secret(size_t n) {
  SecretBytes out(n);
  if (n > 0 && RAND_bytes(out.data(), static_cast<int>(n)) != 1) {
    return Error{openssl_error("random bytes")};
  }
  return out;
}

}  // namespace tl::crypto
