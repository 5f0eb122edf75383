// The fleet API's admin bearer token (docs/fleet-api.md "Authentication"):
// created at first start into a 0600 file, stored only as SHA-256.
#pragma once

#include <cstdint>
#include <string>

#include "common/result.h"
#include "http/http.h"
#include "server/repository.h"

namespace tl::server {

inline constexpr const char* kAdminRole = "admin";

// When the store has no admin token: makes one (32 random bytes, base64url),
// writes it to `file` (mode 0600, replacing what is there) and stores its hash.
// Returns true when it created one.
Result<bool> ensure_admin_token(Repository& repo, const std::string& file, int64_t now);

// `tlaunchd reset-admin-token`: a new token replaces the old one (which stops
// working at once) and is written to `file`.
Status reset_admin_token(Repository& repo, const std::string& file, int64_t now);

// "Authorization: Bearer <admin token>" or an Error with reason "unauthorized"
// (or "unavailable" when the store cannot answer).
Status check_admin(Repository& repo, const http::Request& req);

}  // namespace tl::server
