// API tokens (role "user" in api_tokens): issue, list, revoke. Only the
// SHA-256 of a token is stored; the token itself is shown once.
#include "crypto/digest.h"
#include "crypto/secret_bytes.h"
#include "keys/access_internal.h"
#include "token/base64url.h"

namespace tl::keys {

using namespace detail;

namespace {

// tlaunchd's admin token is the api_tokens row named "admin" (server/admin_token.cc,
// which replaces rows by that name): the name is never a user token's.
constexpr std::string_view kAdminName = "admin";

Status check_new_token(const std::string& name, std::optional<int64_t> expires_at, int64_t now) {
  if (!valid_token_name(name)) {
    return Error{"token name must be 1-64 characters of A-Z a-z 0-9 . _ -", "token-invalid"};
  }
  if (name == kAdminName) {
    return Error{"the token name 'admin' is reserved for tlaunchd's admin token", "token-invalid"};
  }
  if (expires_at && *expires_at <= now) return Error{"expiresAt must be in the future", "token-invalid"};
  return {};
}

Result<ApiTokenInfo> insert_token(store::Database& db, const std::string& name, ByteView hash,
                                  std::optional<int64_t> expires_at, int64_t now) {
  TL_KEYS_ASSIGN(txn, store::Transaction::begin(db));
  TL_KEYS_ASSIGN(q, db.prepare("SELECT 1 FROM api_tokens WHERE name = ?1"));
  TL_KEYS_TRY(q.bind_text(1, name));
  TL_KEYS_ASSIGN(exists, q.step());
  if (exists) return Error{"an API token named '" + name + "' exists; revoke it first", "token-exists"};
  TL_KEYS_ASSIGN(ins, db.prepare("INSERT INTO api_tokens (token_sha256, name, role, created_at, expires_at) "
                                 "VALUES (?1, ?2, ?3, ?4, ?5)"));
  TL_KEYS_TRY(ins.bind_blob(1, hash));
  TL_KEYS_TRY(ins.bind_text(2, name));
  TL_KEYS_TRY(ins.bind_text(3, kUserRole));
  TL_KEYS_TRY(ins.bind_int64(4, now));
  TL_KEYS_TRY(bind_opt(ins, 5, expires_at));
  TL_KEYS_TRY(run(ins));
  TL_KEYS_TRY(txn.commit());
  return ApiTokenInfo{name, now, expires_at};
}

Result<std::vector<ApiTokenInfo>> list_tokens(store::Database& db) {
  TL_KEYS_ASSIGN(st, db.prepare("SELECT name, created_at, expires_at FROM api_tokens WHERE role = 'user' ORDER BY name"));
  std::vector<ApiTokenInfo> out;
  while (true) {
    TL_KEYS_ASSIGN(row, st.step());
    if (!row) break;
    ApiTokenInfo t;
    TL_KEYS_ASSIGN(name, st.column_text(0));
    t.name = std::move(name);
    TL_KEYS_ASSIGN(created, st.column_int64(1));
    t.created_at = created;
    TL_KEYS_ASSIGN(exp, opt_int(st, 2));
    t.expires_at = exp;
    out.push_back(std::move(t));
  }
  return out;
}

Status delete_token(store::Database& db, const std::string& name) {
  TL_KEYS_ASSIGN(txn, store::Transaction::begin(db));
  TL_KEYS_ASSIGN(del, db.prepare("DELETE FROM api_tokens WHERE name = ?1 AND role = 'user'"));
  TL_KEYS_TRY(del.bind_text(1, name));
  TL_KEYS_TRY(run(del));
  if (db.changes() == 0) {
    if (name == kAdminName) {
      return Error{"the admin token is not an API token; replace it with 'tlaunchd reset-admin-token'",
                   "token-not-found"};
    }
    return Error{"no API token named '" + name + "'", "token-not-found"};
  }
  TL_KEYS_ASSIGN(pol, db.prepare("DELETE FROM access_policies WHERE identity = ?1"));
  TL_KEYS_TRY(pol.bind_text(1, "token:" + name));
  TL_KEYS_TRY(run(pol));
  return txn.commit();
}

}  // namespace

Result<IssuedToken> AccessControl::issue_token(const std::string& name, std::optional<int64_t> expires_at,
                                              int64_t now) {
  TL_KEYS_TRY(check_new_token(name, expires_at, now));
  TL_KEYS_ASSIGN(secret, crypto::random_secret(32));
  IssuedToken issued;
  issued.token = kTokenPrefix + token::base64url_encode(secret.view());
  TL_KEYS_ASSIGN(hash, crypto::digest(crypto::HashAlg::sha256, as_bytes(issued.token)));
  {
    std::lock_guard write(impl_->pool->write_mutex());
    auto db = impl_->pool->lease();
    auto info = insert_token(*db, name, hash, expires_at, now);
    if (!info) return unavailable(info.take_error());
    issued.info = std::move(*info);
  }
  // Committed: the token must be shown even if the cache reload fails (it is
  // retried periodically; a stale cache refuses rather than allows).
  (void)impl_->reload();
  return issued;
}

Result<std::vector<ApiTokenInfo>> AccessControl::tokens() {
  auto db = impl_->pool->lease();
  return classified(list_tokens(*db));
}

Status AccessControl::revoke_token(const std::string& name) {
  if (!valid_token_name(name)) {
    return Error{"no API token by that name (names are 1-64 of A-Z a-z 0-9 . _ -)", "token-not-found"};
  }
  {
    std::lock_guard write(impl_->pool->write_mutex());
    auto db = impl_->pool->lease();
    TL_KEYS_TRY(classified(delete_token(*db, name)));
  }
  // Seen by this process at once; if the reload fails the copy is dropped,
  // so the revoked token cannot pass on a stale copy.
  return impl_->reload();
}

}  // namespace tl::keys
