// TPMT_SIGNATURE (TPM 2.0 Part 2, 11.3.4) and checking one over a message.
#pragma once

#include <cstdint>

#include "common/hex.h"
#include "common/result.h"
#include "crypto/digest.h"
#include "crypto/public_key.h"

namespace tl::tpm {

struct Signature {
  uint16_t sig_alg = 0;  // TPM_ALG_RSASSA, TPM_ALG_RSAPSS or TPM_ALG_ECDSA
  crypto::HashAlg hash = crypto::HashAlg::sha256;
  Bytes rsa_sig;  // RSASSA / RSAPSS
  Bytes ecc_r;    // ECDSA
  Bytes ecc_s;
};

// Parses a whole TPMT_SIGNATURE. Other sigAlg values (HMAC, ECDAA, SM2, NULL …)
// and unknown hash algorithms are errors naming the field and offset.
Result<Signature> parse_signature(ByteView data);

// Checks `sig` over `message` with `key` using the signature's own scheme and hash.
Status verify_signature(const crypto::PublicKey& key, ByteView message, const Signature& sig);

}  // namespace tl::tpm
