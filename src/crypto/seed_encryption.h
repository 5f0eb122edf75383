// Public-key primitives that protect a seed for a TPM key (TPM 2.0 Part 1, 11.4.10
// and Annex B/C "Secret sharing"): RSA-OAEP encryption to the key, and ECDH with
// a fresh ephemeral key on the key's curve. Used by credential activation
// (TPM2_MakeCredential) and, later, by import/duplication.
#pragma once

#include <string_view>

#include "common/hex.h"
#include "common/result.h"
#include "crypto/digest.h"
#include "crypto/public_key.h"
#include "crypto/secret_bytes.h"

namespace tl::crypto {

// RSAES-OAEP (PKCS #1 v2.2) of `plaintext` to an RSA `key`, with `alg` as both the
// OAEP hash and the MGF1 hash, and `label` as the OAEP label bytes exactly as
// given (the TPM's labels include their terminating NUL: "IDENTITY\0").
Result<Bytes> rsa_oaep_encrypt(const PublicKey& key, HashAlg alg, ByteView label, ByteView plaintext);

// One-pass ECDH (C(1e,1s) of SP 800-56A) against `peer` (an EC key on P-256,
// P-384 or P-521): a fresh ephemeral key pair on the peer's curve, whose private
// half is destroyed before this returns.
struct EphemeralEcdh {
  Bytes x;  // the ephemeral public point, each coordinate exactly the field size
  Bytes y;
  SecretBytes z;  // the shared point's x-coordinate, exactly the field size
};
Result<EphemeralEcdh> ecdh_ephemeral(const PublicKey& peer);

// Field size in bytes of an EC key's curve (32 for P-256), or an error for RSA.
Result<size_t> ec_field_size(const PublicKey& key);

}  // namespace tl::crypto
