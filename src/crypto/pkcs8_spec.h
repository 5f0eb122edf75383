// Private to src/crypto: the spec of an RSA or EC PKCS#8 PrivateKeyInfo read
// from its DER structure alone. OpenSSL 3.0 takes 0.2 to 0.8 ms to decode a
// private key, too slow to do on every release of a stored key; walking the
// DER takes microseconds. The math is not checked: that is for imports.
#pragma once

#include "common/hex.h"
#include "common/result.h"
#include "crypto/key_material.h"

namespace tl::crypto {

// RFC 5208 PrivateKeyInfo holding an RFC 8017 RSAPrivateKey (two primes) or an
// RFC 5915 ECPrivateKey on P-256 / P-384; strict DER lengths, no trailing bytes.
Result<KeySpec> pkcs8_spec(ByteView der);

}  // namespace tl::crypto
