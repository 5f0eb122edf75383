// AES in CFB mode (full-block feedback, CFB-128), the symmetric mode the TPM uses
// to protect credentials (TPM2_MakeCredential's encIdentity), duplication blobs
// and parameter encryption. Here only because the TPM's formats require it: it is
// unauthenticated, so every caller must MAC the ciphertext (as the TPM's outer
// HMAC does). Not for general-purpose encryption.
#pragma once

#include "common/hex.h"
#include "common/result.h"
#include "crypto/secret_bytes.h"

namespace tl::crypto {

// key: 16, 24 or 32 bytes (AES-128/192/256); iv: 16 bytes. Any plaintext length.
Result<Bytes> aes_cfb_encrypt(const SecretBytes& key, ByteView iv, ByteView plaintext);
Result<SecretBytes> aes_cfb_decrypt(const SecretBytes& key, ByteView iv, ByteView ciphertext);

}  // namespace tl::crypto
