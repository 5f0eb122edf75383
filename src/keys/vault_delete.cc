// Soft delete: delete (every version at once), the deleted keys, recover,
// purge, and purge after the retention.
#include "common/rfc3339.h"
#include "keys/vault_internal.h"

namespace tl::keys {

using namespace detail;

namespace {

constexpr int64_t kDay = 86400;

// Deleted keys with their newest version: kVersionColumns, then deleted_at, scheduled_purge_at.
std::string deleted_query(const char* where) {
  return std::string("SELECT ") + kVersionColumns +
         ", k.deleted_at, k.scheduled_purge_at FROM vault_keys k JOIN vault_key_versions v ON v.name = k.name "
         "WHERE k.deleted_at IS NOT NULL AND v.seq = (SELECT MAX(seq) FROM vault_key_versions WHERE name = k.name)" +
         where + " ORDER BY k.name";
}

Result<DeletedKey> read_deleted(store::Statement& st) {
  DeletedKey d;
  TL_KEYS_ASSIGN(v, read_version(st));
  d.newest = std::move(v);
  TL_KEYS_ASSIGN(at, st.column_int64(kVersionColumnCount));
  d.deleted_at = at;
  TL_KEYS_ASSIGN(purge, st.column_int64(kVersionColumnCount + 1));
  d.scheduled_purge_at = purge;
  return d;
}

Result<DeletedKey> get_deleted_on(store::Database& db, const std::string& name) {
  TL_KEYS_TRY(check_key_name(name));
  TL_KEYS_ASSIGN(st, db.prepare(deleted_query(" AND k.name = ?1")));
  TL_KEYS_TRY(st.bind_text(1, name));
  TL_KEYS_ASSIGN(row, st.step());
  if (!row) {
    TL_KEYS_ASSIGN(state, key_state(db, name));
    if (state.exists) return Error{"key '" + name + "' is not deleted", "key-not-found"};
    return Error{"no deleted key named '" + name + "'", "key-not-found"};
  }
  return read_deleted(st);
}

Result<DeletedKey> remove_on(store::Database& db, const std::string& name, int64_t now, int retention_days) {
  TL_KEYS_TRY(check_key_name(name));
  TL_KEYS_ASSIGN(txn, store::Transaction::begin(db));
  TL_KEYS_ASSIGN(state, key_state(db, name));
  TL_KEYS_TRY(require_live(state, name));
  TL_KEYS_ASSIGN(st, db.prepare("UPDATE vault_keys SET deleted_at = ?2, scheduled_purge_at = ?3 WHERE name = ?1"));
  TL_KEYS_TRY(st.bind_text(1, name));
  TL_KEYS_TRY(st.bind_int64(2, now));
  TL_KEYS_TRY(st.bind_int64(3, now + int64_t{retention_days} * kDay));
  TL_KEYS_TRY(run(st));
  TL_KEYS_ASSIGN(d, get_deleted_on(db, name));
  TL_KEYS_TRY(txn.commit());
  return d;
}

Result<std::vector<DeletedKey>> list_deleted_on(store::Database& db) {
  TL_KEYS_ASSIGN(st, db.prepare(deleted_query("")));
  std::vector<DeletedKey> out;
  while (true) {
    TL_KEYS_ASSIGN(row, st.step());
    if (!row) break;
    TL_KEYS_ASSIGN(d, read_deleted(st));
    out.push_back(std::move(d));
  }
  return out;
}

// Only a deleted key; missing → key-not-found, not deleted → key-conflict.
Status require_deleted(const KeyState& state, const std::string& name, const char* action) {
  if (!state.exists) return Error{"no deleted key named '" + name + "'", "key-not-found"};
  if (!state.deleted_at) {
    return Error{"key '" + name + "' is not deleted; only a deleted key can be " + action, "key-conflict"};
  }
  return {};
}

Result<KeyVersion> recover_on(store::Database& db, const std::string& name, int64_t now) {
  TL_KEYS_TRY(check_key_name(name));
  TL_KEYS_ASSIGN(txn, store::Transaction::begin(db));
  TL_KEYS_ASSIGN(state, key_state(db, name));
  TL_KEYS_TRY(require_deleted(state, name, "recovered"));
  // Past its scheduled purge the key is as good as purged (the retention is a
  // promise that it is gone by then); purge_expired removes it.
  if (state.scheduled_purge_at && now >= *state.scheduled_purge_at) {
    return Error{"key '" + name + "' was due to be purged at " + format_rfc3339(*state.scheduled_purge_at) +
                     " and can no longer be recovered",
                 "key-not-found"};
  }
  TL_KEYS_ASSIGN(st, db.prepare("UPDATE vault_keys SET deleted_at = NULL, scheduled_purge_at = NULL WHERE name = ?1"));
  TL_KEYS_TRY(st.bind_text(1, name));
  TL_KEYS_TRY(run(st));
  TL_KEYS_ASSIGN(v, newest_version(db, name, false));
  if (!v) return corrupt("vault_keys row " + name + " has no versions");
  TL_KEYS_TRY(txn.commit());
  return std::move(*v);
}

Status purge_on(store::Database& db, const std::string& name) {
  TL_KEYS_TRY(check_key_name(name));
  TL_KEYS_ASSIGN(txn, store::Transaction::begin(db));
  TL_KEYS_ASSIGN(state, key_state(db, name));
  TL_KEYS_TRY(require_deleted(state, name, "purged (delete it first)"));
  // Grants on the key go with it, so they never apply to a later key of that
  // name; the versions go by ON DELETE CASCADE.
  TL_KEYS_ASSIGN(grants, db.prepare("DELETE FROM access_policies WHERE scope = ?1"));
  TL_KEYS_TRY(grants.bind_text(1, name));
  TL_KEYS_TRY(run(grants));
  TL_KEYS_ASSIGN(st, db.prepare("DELETE FROM vault_keys WHERE name = ?1"));
  TL_KEYS_TRY(st.bind_text(1, name));
  TL_KEYS_TRY(run(st));
  return txn.commit();
}

Result<size_t> purge_expired_on(store::Database& db, int64_t now) {
  TL_KEYS_ASSIGN(txn, store::Transaction::begin(db));
  TL_KEYS_ASSIGN(grants, db.prepare("DELETE FROM access_policies WHERE scope IN (SELECT name FROM vault_keys WHERE "
                                    "deleted_at IS NOT NULL AND scheduled_purge_at <= ?1)"));
  TL_KEYS_TRY(grants.bind_int64(1, now));
  TL_KEYS_TRY(run(grants));
  TL_KEYS_ASSIGN(st, db.prepare("DELETE FROM vault_keys WHERE deleted_at IS NOT NULL AND scheduled_purge_at <= ?1"));
  TL_KEYS_TRY(st.bind_int64(1, now));
  TL_KEYS_TRY(run(st));
  const auto n = static_cast<size_t>(db.changes());
  TL_KEYS_TRY(txn.commit());
  return n;
}

}  // namespace

Result<DeletedKey> Vault::remove(const std::string& name, int64_t now) {
  std::lock_guard write(impl_->pool->write_mutex());
  auto db = impl_->pool->lease();
  return classified(remove_on(*db, name, now, impl_->options.retention_days));
}

Result<std::vector<DeletedKey>> Vault::list_deleted() {
  auto db = impl_->pool->lease();
  return classified(list_deleted_on(*db));
}

Result<DeletedKey> Vault::get_deleted(const std::string& name) {
  auto db = impl_->pool->lease();
  return classified(get_deleted_on(*db, name));
}

Result<KeyVersion> Vault::recover(const std::string& name, int64_t now) {
  std::lock_guard write(impl_->pool->write_mutex());
  auto db = impl_->pool->lease();
  return classified(recover_on(*db, name, now));
}

Status Vault::purge(const std::string& name) {
  std::lock_guard write(impl_->pool->write_mutex());
  auto db = impl_->pool->lease();
  return classified(purge_on(*db, name));
}

Result<size_t> Vault::purge_expired(int64_t now) {
  std::lock_guard write(impl_->pool->write_mutex());
  auto db = impl_->pool->lease();
  return classified(purge_expired_on(*db, now));
}

}  // namespace tl::keys
