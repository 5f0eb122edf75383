// HMAC and the TPM's key derivation functions (TPM 2.0 Part 1, 11.4.10):
//   KDFa: SP 800-108 counter mode with HMAC, as the TPM defines it;
//   KDFe: SP 800-56A concatenation KDF (one-step, hash), as the TPM defines it.
// Labels are passed without their terminating NUL; both KDFs append the 0 octet
// the TPM requires ("STORAGE" is hashed as "STORAGE\0").
#pragma once

#include <cstddef>
#include <string_view>

#include "common/hex.h"
#include "common/result.h"
#include "crypto/digest.h"
#include "crypto/secret_bytes.h"

namespace tl::crypto {

// HMAC(alg, key, data). The tag is not secret; the key is the caller's to protect.
Result<Bytes> hmac(HashAlg alg, ByteView key, ByteView data);

// KDFa(hashAlg, key, label, contextU, contextV, bits):
//   for i = 1..n: K(i) = HMAC(key, [i]_32 || label || 0x00 || contextU || contextV || [bits]_32)
// The result is the first ceil(bits/8) bytes of K(1) || K(2) ...; when bits is
// not a multiple of 8 the unused high-order bits of the first byte are cleared.
// bits must be in 1..65536 (more than any TPM key needs).
Result<SecretBytes> kdfa(HashAlg alg, ByteView key, std::string_view label, ByteView context_u,
                         ByteView context_v, size_t bits);

// KDFe(hashAlg, Z, label, partyUInfo, partyVInfo, bits):
//   for i = 1..n: K(i) = H([i]_32 || Z || label || 0x00 || partyUInfo || partyVInfo)
// truncated as for KDFa. Z is the x-coordinate of the ECDH shared point.
Result<SecretBytes> kdfe(HashAlg alg, ByteView z, std::string_view label, ByteView party_u,
                         ByteView party_v, size_t bits);

}  // namespace tl::crypto
