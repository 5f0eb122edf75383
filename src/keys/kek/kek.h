// The key vault's key-encryption key (KEK) and the sealing of records at rest
// (docs/keyvault.md "Encryption at rest").
//
// Envelope encryption: key material is sealed with AES-256-GCM under a random
// data key (DEK); the DEK is stored only wrapped by the KEK, which lives in a
// file (mode 0600) or in a PKCS#11 token (an HSM; SoftHSM2 in tests) and never
// leaves it there. The DEK is unwrapped once at start and held in memory.
#pragma once

#include <filesystem>
#include <memory>
#include <string>
#include <string_view>
#include <utility>

#include "common/hex.h"
#include "common/result.h"
#include "crypto/secret_bytes.h"

namespace tl::keys::kek {

class Kek {
 public:
  virtual ~Kek() = default;
  virtual std::string kind() const = 0;         // "file" | "pkcs11"
  // Where the KEK is, for logs and errors (no secret): "file /var/lib/tlaunchd/kek",
  // "pkcs11 token 'tlaunchd' key 'tlaunchd-kek' (libsofthsm2.so)".
  virtual std::string description() const = 0;
  // Wraps / unwraps a data key. Unwrap with another KEK fails (reason "kek-mismatch").
  virtual Result<Bytes> wrap(const crypto::SecretBytes& dek) = 0;
  virtual Result<crypto::SecretBytes> unwrap(ByteView wrapped) = 0;
};

// A 256-bit key in a file holding exactly 32 random bytes. Created (mode 0600,
// O_EXCL, fsynced) when missing and create_if_missing; an existing file that is
// readable or writable by group/others, not a regular file, or not 32 bytes is
// refused with a message saying what to fix.
Result<std::unique_ptr<Kek>> open_file_kek(const std::filesystem::path& path, bool create_if_missing);

struct Pkcs11Options {
  std::string module;       // path of the PKCS#11 library, e.g. /usr/lib/softhsm/libsofthsm2.so
  std::string token_label;  // the token (slot) to use, by CKA_LABEL of the token
  std::string pin;          // user PIN (read by the caller from a file; never logged)
  std::string key_label = "tlaunchd-kek";  // the AES-256 secret key object, by CKA_LABEL
  // Generate the key in the token (CKA_TOKEN, CKA_SENSITIVE, non-extractable)
  // when no object has key_label.
  bool create_if_missing = true;
};
// Wraps with the token's AES key by C_Encrypt with CKM_AES_GCM: IV (12, random)
// || ciphertext || tag (16), aad "tlaunchd-dek". (CKM_AES_KEY_WRAP_PAD works
// only through C_WrapKey of key objects in SoftHSM2 and many HSMs, which would
// make the DEK a token object extractable in plain.) The session stays open,
// logged in, while the Kek lives; calls are serialized (one module per process).
// Wrong PIN, unknown token label (the error lists those present), missing
// module: errors naming the PKCS#11 function and CKR_ code, never the PIN.
Result<std::unique_ptr<Kek>> open_pkcs11_kek(const Pkcs11Options& options);

// Seals records under the data key: AES-256-GCM, the aad binds each record to
// its place (e.g. "key/<name>/<version>") so sealed blobs cannot be swapped.
// Thread-safe (immutable after construction).
class Sealer {
 public:
  // A new random DEK; returns the sealer and the DEK wrapped by `kek`, to store.
  static Result<std::pair<Sealer, Bytes>> create(Kek& kek);
  // The stored wrapped DEK unwrapped by `kek` (reason "kek-mismatch": another KEK).
  static Result<Sealer> open(Kek& kek, ByteView wrapped_dek);

  Result<Bytes> seal(ByteView plaintext, std::string_view aad) const;
  // Fails (reason "integrity") on altered data or another aad.
  Result<crypto::SecretBytes> unseal(ByteView sealed, std::string_view aad) const;

 private:
  explicit Sealer(crypto::SecretBytes dek) : dek_(std::move(dek)) {}
  crypto::SecretBytes dek_;
};

}  // namespace tl::keys::kek
