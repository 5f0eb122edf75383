// Access control: opening, the in-memory copy of the tables and its reloads,
// and the two questions asked on every request (who is this token, may this
// identity do that).
#include "keys/access.h"

#include <algorithm>

#include "common/rfc3339.h"
#include "crypto/digest.h"
#include "keys/access_internal.h"

namespace tl::keys {

using namespace detail;

AccessControl::AccessControl(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
AccessControl::~AccessControl() = default;

namespace {

// Ends a read transaction however the load leaves.
class ReadTxn {
 public:
  explicit ReadTxn(store::Database& db) : db_(db) {}
  ~ReadTxn() {
    if (open_) (void)db_.exec("ROLLBACK");
  }
  Status begin() {
    TL_KEYS_TRY(db_.exec("BEGIN"));
    open_ = true;
    return {};
  }

 private:
  store::Database& db_;
  bool open_ = false;
};

Result<std::shared_ptr<const AccessSnapshot>> load(store::Database& db) {
  auto snap = std::make_shared<AccessSnapshot>();
  ReadTxn txn(db);  // tokens and policies from one moment
  TL_KEYS_TRY(txn.begin());
  {
    TL_KEYS_ASSIGN(st, db.prepare("SELECT token_sha256, name, expires_at FROM api_tokens WHERE role = 'user'"));
    while (true) {
      TL_KEYS_ASSIGN(row, st.step());
      if (!row) break;
      TL_KEYS_ASSIGN(hash, st.column_blob(0));
      TL_KEYS_ASSIGN(name, st.column_text(1));
      TL_KEYS_ASSIGN(exp, opt_int(st, 2));
      snap->token_names.insert(name);
      snap->by_hash[std::string(hash.begin(), hash.end())] = AccessSnapshot::Token{std::move(name), exp};
    }
  }
  {
    TL_KEYS_ASSIGN(st, db.prepare("SELECT identity, scope, operations FROM access_policies"));
    while (true) {
      TL_KEYS_ASSIGN(row, st.step());
      if (!row) break;
      TL_KEYS_ASSIGN(identity, st.column_text(0));
      TL_KEYS_ASSIGN(scope, st.column_text(1));
      TL_KEYS_ASSIGN(text, st.column_text(2));
      auto ops = operations_from_text(text);
      if (!ops) return with_context("access policy of " + identity + " on " + scope, ops.take_error());
      uint32_t bits = 0;
      for (Operation op : *ops) bits |= op_bit(op);
      snap->grants[{std::move(identity), std::move(scope)}] = bits;
    }
  }
  return std::shared_ptr<const AccessSnapshot>(std::move(snap));
}

}  // namespace

Status AccessControl::Impl::reload_locked() {
  auto loaded = [&] {
    auto db = pool->lease();
    return load(*db);
  }();
  std::lock_guard lock(snap_mu);
  if (!loaded) {
    snap.reset();
    return unavailable(loaded.take_error());
  }
  snap = std::move(*loaded);
  loaded_at = std::chrono::steady_clock::now();
  return {};
}

Status AccessControl::Impl::reload() {
  std::lock_guard one(reload_mu);
  return reload_locked();
}

Result<std::shared_ptr<const AccessSnapshot>> AccessControl::Impl::current() {
  const auto fresh = [&]() -> std::shared_ptr<const AccessSnapshot> {
    std::lock_guard lock(snap_mu);
    if (snap && std::chrono::steady_clock::now() - loaded_at < reload_interval) return snap;
    return nullptr;
  };
  if (auto s = fresh()) return s;
  std::lock_guard one(reload_mu);
  if (auto s = fresh()) return s;  // another thread reloaded while this one waited
  TL_KEYS_TRY(reload_locked());
  std::lock_guard lock(snap_mu);
  return snap;
}

Result<std::unique_ptr<AccessControl>> AccessControl::open(const std::filesystem::path& db,
                                                           std::chrono::milliseconds reload) {
  if (reload.count() < 0) return Error{"access control: the reload interval must not be negative"};
  // synchronous=FULL: a revocation must not come back after a power loss.
  TL_KEYS_ASSIGN(pool, Pool::open(db, 2, "PRAGMA synchronous=FULL;"));
  auto impl = std::make_unique<Impl>();
  impl->pool = std::move(pool);
  impl->reload_interval = reload;
  TL_KEYS_TRY(impl->reload());
  return std::unique_ptr<AccessControl>(new AccessControl(std::move(impl)));
}

Result<std::string> AccessControl::authenticate_token(std::string_view token, int64_t now) {
  const Error unknown{"the bearer token is not a valid API token (unknown or revoked)", "unauthorized"};
  if (!token.starts_with(kTokenPrefix) || token.size() != 4 + 43) return unknown;
  auto hash = crypto::digest(crypto::HashAlg::sha256, as_bytes(token));
  if (!hash) return Error{hash.error().message, "internal-error"};
  auto snap = impl_->current();
  if (!snap) return snap.take_error();
  // Looked up by the SHA-256 of the presented token, so no comparison of
  // secret bytes depends on the stored token: timing can at most tell how a
  // hash of the attacker's own input relates to stored hashes, and that gives
  // nothing towards a 256-bit preimage. A constant-time compare would add
  // nothing here.
  const auto it = (*snap)->by_hash.find(std::string(hash->begin(), hash->end()));
  if (it == (*snap)->by_hash.end()) return unknown;
  const auto& t = it->second;
  if (t.expires_at && now >= *t.expires_at) {
    return Error{"API token '" + t.name + "' expired at " + format_rfc3339(*t.expires_at) +
                     "; an admin can issue a new one",
                 "unauthorized"};
  }
  return "token:" + t.name;
}

bool AccessControl::allowed(const std::string& identity, Operation op, const std::string& key) {
  if (identity == "admin") return true;
  auto snap = impl_->current();
  if (!snap) return false;  // fail closed
  const AccessSnapshot& s = **snap;
  // A revoked token's policies are deleted with it; checking the token too
  // keeps that true even for rows written by hand.
  if (identity.starts_with("token:") && !s.token_names.contains(identity.substr(6))) return false;
  const auto grants = [&](const std::string& scope) {
    const auto it = s.grants.find({identity, scope});
    return it != s.grants.end() && (it->second & op_bit(op)) != 0;
  };
  return grants("*") || (!key.empty() && grants(key));
}

}  // namespace tl::keys
