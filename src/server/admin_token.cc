#include "server/admin_token.h"

#include <filesystem>

#include "common/atomic_file.h"
#include "crypto/digest.h"
#include "crypto/secret_bytes.h"
#include "token/base64url.h"

namespace tl::server {
namespace {

Status make_token(Repository& repo, const std::string& file, int64_t now) {
  auto secret = crypto::random_secret(32);
  if (!secret) return secret.take_error();
  const std::string token = token::base64url_encode(secret->view());
  auto hash = crypto::digest(crypto::HashAlg::sha256, ByteView(reinterpret_cast<const uint8_t*>(token.data()), token.size()));
  if (!hash) return hash.take_error();
  // The file first: a token stored but never written would lock the operator out.
  // Atomic and 0600 from the first byte: a reader never sees half a token and
  // the file is never readable by others, even for a moment.
  if (auto st = write_file_atomic(file, token + "\n", 0600); !st) return with_context("admin token file", st.take_error());
  return repo.replace_api_token(*hash, "admin", kAdminRole, now);
}

}  // namespace

Result<bool> ensure_admin_token(Repository& repo, const std::string& file, int64_t now) {
  auto has = repo.has_api_token(kAdminRole);
  if (!has) return has.take_error();
  if (*has) return false;
  if (auto st = make_token(repo, file, now); !st) return st.take_error();
  return true;
}

Status reset_admin_token(Repository& repo, const std::string& file, int64_t now) {
  return make_token(repo, file, now);
}

Status check_admin(Repository& repo, const http::Request& req) {
  const std::string* h = req.header("Authorization");
  if (!h) return Error{"this route needs 'Authorization: Bearer <admin token>' (tlaunchd wrote the token to its "
                       "admin token file at first start)", "unauthorized"};
  constexpr std::string_view kScheme = "Bearer ";
  if (h->size() <= kScheme.size() || h->compare(0, kScheme.size(), kScheme) != 0)
    return Error{"Authorization must be 'Bearer <admin token>'", "unauthorized"};
  const std::string_view token = std::string_view(*h).substr(kScheme.size());
  if (token.size() > 512) return Error{"the bearer token is not a valid admin token", "unauthorized"};
  auto hash = crypto::digest(crypto::HashAlg::sha256, ByteView(reinterpret_cast<const uint8_t*>(token.data()), token.size()));
  if (!hash) return Error{hash.error().message, "internal-error"};
  auto known = repo.api_token_known(*hash, kAdminRole);
  if (!known) return Error{known.error().message, "unavailable"};
  if (!*known) return Error{"the bearer token is not a valid admin token", "unauthorized"};
  return {};
}

}  // namespace tl::server
