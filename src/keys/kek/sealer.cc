// Envelope encryption of records at rest under the vault's data key.
#include <string>
#include <utility>

#include "crypto/key_wrap.h"
#include "keys/kek/kek.h"

namespace tl::keys::kek {
namespace {

constexpr size_t kDekSize = 32;  // AES-256

}  // namespace

Result<std::pair<Sealer, Bytes>> Sealer::create(Kek& kek) {
  auto dek = crypto::random_secret(kDekSize);
  if (!dek) return with_context("making the data key", dek.take_error());
  auto wrapped = kek.wrap(*dek);
  if (!wrapped) return wrapped.take_error();
  return std::pair<Sealer, Bytes>(Sealer(std::move(*dek)), std::move(*wrapped));
}

Result<Sealer> Sealer::open(Kek& kek, ByteView wrapped_dek) {
  auto dek = kek.unwrap(wrapped_dek);
  if (!dek) return dek.take_error();
  if (dek->size() != kDekSize) {
    // Unwrapped under the right KEK yet not an AES-256 key: not something
    // Sealer::create stored; refuse rather than seal under an odd key.
    return Error{"the data key unwrapped by " + kek.description() + " is " + std::to_string(dek->size()) +
                     " bytes, not 32: the stored wrapped data key is not one this vault made",
                 "integrity"};
  }
  return Sealer(std::move(*dek));
}

Result<Bytes> Sealer::seal(ByteView plaintext, std::string_view aad) const {
  auto sealed = crypto::aes256_gcm_seal(dek_, plaintext, as_bytes(aad));
  if (!sealed) return with_context("sealing " + std::string(aad), sealed.take_error());
  return sealed;
}

Result<crypto::SecretBytes> Sealer::unseal(ByteView sealed, std::string_view aad) const {
  auto plain = crypto::aes256_gcm_open(dek_, sealed, as_bytes(aad));
  if (!plain) {
    // Whatever the cause (altered, truncated, another record's aad), the record
    // cannot be trusted: always "integrity", the header's promise.
    Error e = plain.take_error();
    return Error{"sealed record " + std::string(aad) + ": " + e.message, "integrity"};
  }
  return plain;
}

}  // namespace tl::keys::kek
