// Access policies: (identity, scope) → operations, stored as a JSON array of
// operation names in alphabetical order.
#include <algorithm>

#include "keys/access_internal.h"

namespace tl::keys {

using namespace detail;

namespace detail {

std::string operations_to_text(const std::vector<Operation>& ops) {
  std::vector<std::string> names;
  for (Operation op : ops) names.emplace_back(operation_name(op));
  std::sort(names.begin(), names.end());
  names.erase(std::unique(names.begin(), names.end()), names.end());
  return nlohmann::json(names).dump();
}

Result<std::vector<Operation>> operations_from_text(const std::string& text) {
  auto j = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_array()) return corrupt("access_policies.operations is not a JSON array");
  std::vector<Operation> ops;
  for (const auto& e : j) {
    const auto op = e.is_string() ? operation_from_name(e.get<std::string>()) : std::nullopt;
    if (!op) return corrupt("access_policies.operations holds " + e.dump() + ", not an operation name");
    ops.push_back(*op);
  }
  std::sort(ops.begin(), ops.end());
  ops.erase(std::unique(ops.begin(), ops.end()), ops.end());
  return ops;
}

}  // namespace detail

namespace {

Status check_scope(const std::string& scope) {
  if (scope == "*") return {};
  if (auto st = check_key_name(scope); !st) {
    return Error{"scope must be \"*\" (the whole vault) or a key name: " + st.error().message,
                 "access-policy-invalid"};
  }
  return {};
}

Status check_policy_identity(const std::string& identity) {
  TL_KEYS_TRY(check_identity(identity));
  if (identity == "admin") {
    return Error{"admin may do everything; it takes no access policy", "identity-invalid"};
  }
  return {};
}

Result<AccessPolicy> read_policy(store::Statement& st) {
  AccessPolicy p;
  TL_KEYS_ASSIGN(identity, st.column_text(0));
  p.identity = std::move(identity);
  TL_KEYS_ASSIGN(scope, st.column_text(1));
  p.scope = std::move(scope);
  TL_KEYS_ASSIGN(text, st.column_text(2));
  TL_KEYS_ASSIGN(ops, operations_from_text(text));
  p.operations = std::move(ops);
  TL_KEYS_ASSIGN(created, st.column_int64(3));
  p.created_at = created;
  return p;
}

Status delete_policy(store::Database& db, const std::string& identity, const std::string& scope, bool must_exist) {
  TL_KEYS_ASSIGN(del, db.prepare("DELETE FROM access_policies WHERE identity = ?1 AND scope = ?2"));
  TL_KEYS_TRY(del.bind_text(1, identity));
  TL_KEYS_TRY(del.bind_text(2, scope));
  TL_KEYS_TRY(run(del));
  if (must_exist && db.changes() == 0) {
    return Error{"no access policy for " + identity + " on " + scope, "access-policy-not-found"};
  }
  return {};
}

Result<AccessPolicy> put_policy(store::Database& db, const std::string& identity, const std::string& scope,
                                std::vector<Operation> ops, int64_t now) {
  TL_KEYS_ASSIGN(txn, store::Transaction::begin(db));
  if (identity.starts_with("token:")) {
    // Checked in the transaction that writes, so a concurrent revoke cannot
    // leave a policy behind for a token that no longer exists.
    TL_KEYS_ASSIGN(q, db.prepare("SELECT 1 FROM api_tokens WHERE name = ?1 AND role = 'user'"));
    TL_KEYS_TRY(q.bind_text(1, identity.substr(6)));
    TL_KEYS_ASSIGN(exists, q.step());
    if (!exists) return Error{"no API token named '" + identity.substr(6) + "'", "token-not-found"};
  }
  if (ops.empty()) {
    TL_KEYS_TRY(delete_policy(db, identity, scope, false));
    TL_KEYS_TRY(txn.commit());
    return AccessPolicy{identity, scope, {}, now};
  }
  TL_KEYS_ASSIGN(up, db.prepare("INSERT INTO access_policies (identity, scope, operations, created_at) "
                                "VALUES (?1, ?2, ?3, ?4) ON CONFLICT (identity, scope) "
                                "DO UPDATE SET operations = excluded.operations"));
  TL_KEYS_TRY(up.bind_text(1, identity));
  TL_KEYS_TRY(up.bind_text(2, scope));
  TL_KEYS_TRY(up.bind_text(3, operations_to_text(ops)));
  TL_KEYS_TRY(up.bind_int64(4, now));
  TL_KEYS_TRY(run(up));
  TL_KEYS_ASSIGN(q, db.prepare("SELECT identity, scope, operations, created_at FROM access_policies "
                               "WHERE identity = ?1 AND scope = ?2"));
  TL_KEYS_TRY(q.bind_text(1, identity));
  TL_KEYS_TRY(q.bind_text(2, scope));
  TL_KEYS_ASSIGN(row, q.step());
  if (!row) return Error{"access policy of " + identity + " on " + scope + " vanished while writing it"};
  TL_KEYS_ASSIGN(p, read_policy(q));
  TL_KEYS_TRY(txn.commit());
  return p;
}

Result<std::vector<AccessPolicy>> list_policies(store::Database& db) {
  TL_KEYS_ASSIGN(st, db.prepare("SELECT identity, scope, operations, created_at FROM access_policies "
                                "ORDER BY identity, scope"));
  std::vector<AccessPolicy> out;
  while (true) {
    TL_KEYS_ASSIGN(row, st.step());
    if (!row) break;
    TL_KEYS_ASSIGN(p, read_policy(st));
    out.push_back(std::move(p));
  }
  return out;
}

}  // namespace

Result<AccessPolicy> AccessControl::set_policy(const std::string& identity, const std::string& scope,
                                               std::vector<Operation> operations, int64_t now) {
  TL_KEYS_TRY(check_policy_identity(identity));
  TL_KEYS_TRY(check_scope(scope));
  std::sort(operations.begin(), operations.end());
  operations.erase(std::unique(operations.begin(), operations.end()), operations.end());
  // A VM proves itself with an attestation token, which relying parties see
  // and could replay until it expires: harmless for release (the key is
  // wrapped to that VM's TPM) and get, not for anything that changes keys.
  if (identity.rfind("vm:", 0) == 0) {
    for (Operation op : operations)
      if (op != Operation::get && op != Operation::release)
        return Error{"identity '" + identity + "': a VM identity may only be granted get and release (its attestation "
                     "token is a bearer credential others may have seen), not " + std::string(operation_name(op)),
                     "access-policy-invalid"};
  }
  Result<AccessPolicy> p = Error{""};
  {
    std::lock_guard write(impl_->pool->write_mutex());
    auto db = impl_->pool->lease();
    p = classified(put_policy(*db, identity, scope, std::move(operations), now));
  }
  if (!p) return p;
  // Committed: a failed reload leaves the cache stale until the next periodic
  // reload (which fails closed meanwhile), but must not report the write as failed.
  (void)impl_->reload();
  return p;
}

Status AccessControl::remove_policy(const std::string& identity, const std::string& scope) {
  TL_KEYS_TRY(check_identity(identity));
  TL_KEYS_TRY(check_scope(scope));
  {
    std::lock_guard write(impl_->pool->write_mutex());
    auto db = impl_->pool->lease();
    TL_KEYS_TRY(classified(delete_policy(*db, identity, scope, true)));
  }
  return impl_->reload();
}

Result<std::vector<AccessPolicy>> AccessControl::policies() {
  auto db = impl_->pool->lease();
  return classified(list_policies(*db));
}

}  // namespace tl::keys
