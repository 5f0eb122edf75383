// base64url (RFC 4648 §5) as JWS uses it (RFC 7515 §2): no padding, no
// whitespace, canonical only.
#pragma once

#include <string>
#include <string_view>

#include "common/hex.h"
#include "common/result.h"

namespace tl::token {

std::string base64url_encode(ByteView bytes);

// Strict: rejects '=' padding, any character outside [A-Za-z0-9_-] (naming its
// position), a length of 4k+1, and non-zero unused bits in the last character
// (so each byte string has exactly one accepted encoding).
Result<Bytes> base64url_decode(std::string_view text);

}  // namespace tl::token
