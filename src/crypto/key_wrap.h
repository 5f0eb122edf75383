// Wrapping for Secure Key Release (docs/keyvault-release.md): RSA-OAEP, AES
// key wrap with padding (RFC 5649), and AES-256-GCM for sealing data at rest.
#pragma once

#include "common/hex.h"
#include "common/result.h"
#include "crypto/digest.h"
#include "crypto/public_key.h"
#include "crypto/secret_bytes.h"

namespace tl::crypto {

// RSAES-OAEP (RFC 8017 §7.1) with `hash` for OAEP and MGF1 (sha1, sha256 or
// sha384) and an empty label. The key must be RSA of at least 2048 bits; the
// plaintext must fit (modulus bytes - 2 * hash bytes - 2).
Result<Bytes> rsa_oaep_encrypt(const PublicKey& key, HashAlg hash, ByteView plaintext);

// AES key wrap with padding (RFC 5649, the AIV A65959A6 || 32-bit length),
// with a 128-, 192- or 256-bit key. Plaintext 1 .. 2^31 bytes.
Result<Bytes> aes_kwp_wrap(const SecretBytes& kek, ByteView plaintext);
// The inverse; a wrong key or altered ciphertext is an error (integrity check
// failed), never garbage. Ciphertext must be a multiple of 8, at least 16 bytes.
Result<SecretBytes> aes_kwp_unwrap(const SecretBytes& kek, ByteView ciphertext);

// AES-256-GCM with a fresh random 96-bit nonce: nonce (12) || ciphertext || tag (16).
// `aad` is authenticated, not stored.
Result<Bytes> aes256_gcm_seal(const SecretBytes& key, ByteView plaintext, ByteView aad);
// Fails (reason "integrity") when the data, the aad or the key differ from the seal.
Result<SecretBytes> aes256_gcm_open(const SecretBytes& key, ByteView sealed, ByteView aad);

}  // namespace tl::crypto
