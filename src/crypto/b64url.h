// Private to src/crypto: base64url (RFC 4648 §5, no padding) for the JWK
// members of key material. tl_crypto sits below tl_token, so it keeps its own.
#pragma once

#include <string>
#include <string_view>

#include "common/hex.h"
#include "common/result.h"
#include "crypto/secret_bytes.h"

namespace tl::crypto {

std::string b64url_encode(ByteView bytes);

// Strict: no padding or whitespace, only [A-Za-z0-9_-], no 4k+1 length, unused
// trailing bits zero (one accepted spelling per byte string). The result is a
// SecretBytes because it decodes private key members; errors never quote input.
Result<SecretBytes> b64url_decode(std::string_view text);

}  // namespace tl::crypto
