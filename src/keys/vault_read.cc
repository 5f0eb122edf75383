// Reading the vault: get (bare-name resolution), list, versions, and the
// unsealed material for release.
#include "common/rfc3339.h"
#include "keys/vault_internal.h"

namespace tl::keys {

using namespace detail;

namespace {

Result<KeyVersion> get_on(store::Database& db, const std::string& name, const std::string& version) {
  TL_KEYS_TRY(check_key_name(name));
  TL_KEYS_ASSIGN(state, key_state(db, name));
  TL_KEYS_TRY(require_live(state, name));
  if (!version.empty()) {
    TL_KEYS_ASSIGN(v, find_version(db, name, version));
    if (!v) return version_not_found(name, version);
    return std::move(*v);
  }
  TL_KEYS_ASSIGN(v, newest_version(db, name, true));
  if (!v) return Error{"every version of key '" + name + "' is disabled", "key-disabled"};
  return std::move(*v);
}

Result<std::vector<KeyVersion>> list_on(store::Database& db, const std::string& after_name, size_t limit) {
  std::vector<KeyVersion> out;
  if (limit == 0) return out;
  TL_KEYS_ASSIGN(st, db.prepare(std::string("SELECT ") + kVersionColumns +
                                " FROM vault_keys k JOIN vault_key_versions v ON v.name = k.name "
                                "WHERE k.deleted_at IS NULL AND k.name > ?1 "
                                "AND v.seq = (SELECT MAX(seq) FROM vault_key_versions WHERE name = k.name) "
                                "ORDER BY k.name LIMIT ?2"));
  TL_KEYS_TRY(st.bind_text(1, after_name));
  TL_KEYS_TRY(st.bind_int64(2, limit > static_cast<size_t>(INT64_MAX) ? INT64_MAX : static_cast<int64_t>(limit)));
  while (true) {
    TL_KEYS_ASSIGN(row, st.step());
    if (!row) break;
    TL_KEYS_ASSIGN(v, read_version(st));
    out.push_back(std::move(v));
  }
  return out;
}

Result<std::vector<KeyVersion>> versions_on(store::Database& db, const std::string& name) {
  TL_KEYS_TRY(check_key_name(name));
  TL_KEYS_ASSIGN(state, key_state(db, name));
  TL_KEYS_TRY(require_live(state, name));
  TL_KEYS_ASSIGN(st, db.prepare(std::string("SELECT ") + kVersionColumns +
                                " FROM vault_key_versions v WHERE v.name = ?1 ORDER BY v.seq"));
  TL_KEYS_TRY(st.bind_text(1, name));
  std::vector<KeyVersion> out;
  while (true) {
    TL_KEYS_ASSIGN(row, st.step());
    if (!row) break;
    TL_KEYS_ASSIGN(v, read_version(st));
    out.push_back(std::move(v));
  }
  return out;
}

Result<crypto::KeyMaterial> material_on(store::Database& db, const kek::Sealer& sealer, const std::string& name,
                                        const std::string& version, int64_t now, KeyVersion* row_out) {
  TL_KEYS_TRY(check_key_name(name));
  if (version.empty()) return Error{"key '" + name + "': releasing material needs an exact version", "key-invalid"};
  TL_KEYS_ASSIGN(state, key_state(db, name));
  TL_KEYS_TRY(require_live(state, name));
  TL_KEYS_ASSIGN(st, db.prepare(std::string("SELECT ") + kVersionColumns +
                                ", v.sealed_material FROM vault_key_versions v WHERE v.name = ?1 AND v.version = ?2"));
  TL_KEYS_TRY(st.bind_text(1, name));
  TL_KEYS_TRY(st.bind_text(2, version));
  TL_KEYS_ASSIGN(row, st.step());
  if (!row) return version_not_found(name, version);
  TL_KEYS_ASSIGN(v, read_version(st));
  const std::string which = "key '" + name + "' version " + version;
  if (!v.attributes.enabled) return Error{which + " is disabled", "key-disabled"};
  if (v.attributes.not_before && now < *v.attributes.not_before) {
    return Error{which + " is not valid before " + format_rfc3339(*v.attributes.not_before), "key-disabled"};
  }
  if (v.attributes.expires && now >= *v.attributes.expires) {
    return Error{which + " is not valid after " + format_rfc3339(*v.attributes.expires) + " (expired)",
                 "key-disabled"};
  }
  TL_KEYS_ASSIGN(sealed, st.column_blob(kVersionColumnCount));
  auto plain = sealer.unseal(sealed, material_aad(name, version, v.attributes.exportable));
  if (!plain) {
    // Never the client's fault: the row was altered or moved, or sealed under another data key.
    return corrupt(which + ": the sealed material does not unseal (" + plain.error().message + ")");
  }
  auto material = crypto::KeyMaterial::from_release_bytes(v.spec, plain->view());
  if (!material) return corrupt(which + ": the unsealed material is not a " + std::string(crypto::kty_name(v.spec.kind)) +
                                " key of the recorded size (" + material.error().message + ")");
  if (row_out) *row_out = std::move(v);
  return std::move(*material);
}

}  // namespace

Result<KeyVersion> Vault::get(const std::string& name, const std::string& version) {
  auto db = impl_->pool->lease();
  return classified(get_on(*db, name, version));
}

Result<std::vector<KeyVersion>> Vault::list(const std::string& after_name, size_t limit) {
  auto db = impl_->pool->lease();
  return classified(list_on(*db, after_name, limit));
}

Result<std::vector<KeyVersion>> Vault::versions(const std::string& name) {
  auto db = impl_->pool->lease();
  return classified(versions_on(*db, name));
}

Result<crypto::KeyMaterial> Vault::material(const std::string& name, const std::string& version, int64_t now,
                                            KeyVersion* row) {
  auto db = impl_->pool->lease();
  return classified(material_on(*db, impl_->sealer, name, version, now, row));
}

}  // namespace tl::keys
