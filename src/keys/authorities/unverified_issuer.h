// The "iss" of a token read before anything in it is trusted: it only picks
// whose keys the token is then verified with (token::verify_jwt checks it again
// against the same value), so a token can name any issuer but be accepted only
// under that issuer's keys.
#pragma once

#include <string>
#include <string_view>

#include "common/result.h"

namespace tl::keys::detail {

// The payload's "iss" string. Fails with token-malformed when the token is not
// three base64url parts whose middle one is a JSON object (the same strictness
// as verify_jwt), and with token-untrusted-issuer when "iss" is missing, empty
// or not a string.
Result<std::string> unverified_issuer(std::string_view jwt, size_t max_token_bytes);

}  // namespace tl::keys::detail
