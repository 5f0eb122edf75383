// vault_keys / vault_key_versions rows <-> KeyVersion. key_ops, tags and the
// public JWK are JSON text; the release policy is stored as the policy's JSON
// and parsed again on every read, so a row never yields a policy the parser
// would refuse.
#include "keys/vault_internal.h"

namespace tl::keys::detail {
namespace {

std::optional<crypto::KeyKind> kind_from_kty(const std::string& kty) {
  if (kty == "RSA") return crypto::KeyKind::rsa;
  if (kty == "EC") return crypto::KeyKind::ec;
  if (kty == "oct") return crypto::KeyKind::oct;
  return std::nullopt;
}

std::optional<crypto::Curve> curve_from_crv(const std::string& crv) {
  for (crypto::Curve c : {crypto::Curve::p256, crypto::Curve::p384, crypto::Curve::p521}) {
    if (crypto::curve_name(c) == crv) return c;
  }
  return std::nullopt;
}

std::string where(const KeyVersion& v) { return "vault_key_versions row " + v.name + "/" + v.version; }

Result<nlohmann::json> parse_stored(const KeyVersion& v, const char* column, const std::string& text) {
  auto j = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) return corrupt(where(v) + ": " + column + " is not JSON");
  return j;
}

Result<std::vector<std::string>> ops_from_text(const KeyVersion& v, const std::string& text) {
  TL_KEYS_ASSIGN(j, parse_stored(v, "key_ops", text));
  if (!j.is_array()) return corrupt(where(v) + ": key_ops is not an array");
  std::vector<std::string> ops;
  for (const auto& e : j) {
    if (!e.is_string()) return corrupt(where(v) + ": key_ops holds a non-string");
    ops.push_back(e.get<std::string>());
  }
  return ops;
}

Result<std::map<std::string, std::string>> tags_from_text(const KeyVersion& v, const std::string& text) {
  TL_KEYS_ASSIGN(j, parse_stored(v, "tags", text));
  if (!j.is_object()) return corrupt(where(v) + ": tags is not an object");
  std::map<std::string, std::string> tags;
  for (const auto& [k, e] : j.items()) {
    if (!e.is_string()) return corrupt(where(v) + ": tag " + k + " is not a string");
    tags[k] = e.get<std::string>();
  }
  return tags;
}

std::string ops_to_text(const std::vector<std::string>& ops) { return nlohmann::json(ops).dump(); }

std::string tags_to_text(const std::map<std::string, std::string>& tags) {
  nlohmann::json j = nlohmann::json::object();
  for (const auto& [k, v] : tags) j[k] = v;
  return j.dump();
}

Status bind_policy(store::Statement& st, int text_index, int immutable_index, const KeyVersion& v) {
  if (v.release_policy) {
    TL_KEYS_TRY(st.bind_text(text_index, v.release_policy->policy.json().dump()));
    return st.bind_int64(immutable_index, v.release_policy->immutable ? 1 : 0);
  }
  TL_KEYS_TRY(st.bind_null(text_index));
  return st.bind_int64(immutable_index, 0);
}

}  // namespace

Result<KeyVersion> read_version(store::Statement& st) {
  KeyVersion v;
  TL_KEYS_ASSIGN(name, st.column_text(0));
  v.name = std::move(name);
  TL_KEYS_ASSIGN(version, st.column_text(1));
  v.version = std::move(version);
  TL_KEYS_ASSIGN(kty, st.column_text(2));
  const auto kind = kind_from_kty(kty);
  if (!kind) return corrupt(where(v) + ": kty \"" + kty + "\"");
  v.spec.kind = *kind;
  TL_KEYS_ASSIGN(bits, st.column_int64(3));
  if (bits <= 0 || bits > 65536) return corrupt(where(v) + ": bits " + std::to_string(bits));
  v.spec.bits = static_cast<int>(bits);
  TL_KEYS_ASSIGN(crv, opt_text(st, 4));
  if (*kind == crypto::KeyKind::ec) {
    if (!crv) return corrupt(where(v) + ": an EC key without crv");
    const auto c = curve_from_crv(*crv);
    if (!c) return corrupt(where(v) + ": crv \"" + *crv + "\"");
    v.spec.curve = *c;
  }
  TL_KEYS_ASSIGN(ops_text, st.column_text(5));
  TL_KEYS_ASSIGN(ops, ops_from_text(v, ops_text));
  v.key_ops = std::move(ops);
  TL_KEYS_ASSIGN(enabled, st.column_int64(6));
  v.attributes.enabled = enabled != 0;
  TL_KEYS_ASSIGN(exportable, st.column_int64(7));
  v.attributes.exportable = exportable != 0;
  TL_KEYS_ASSIGN(nbf, opt_int(st, 8));
  v.attributes.not_before = nbf;
  TL_KEYS_ASSIGN(exp, opt_int(st, 9));
  v.attributes.expires = exp;
  TL_KEYS_ASSIGN(created, st.column_int64(10));
  v.attributes.created = created;
  TL_KEYS_ASSIGN(updated, st.column_int64(11));
  v.attributes.updated = updated;
  TL_KEYS_ASSIGN(jwk_text, st.column_text(12));
  TL_KEYS_ASSIGN(jwk, parse_stored(v, "public_jwk", jwk_text));
  if (!jwk.is_object()) return corrupt(where(v) + ": public_jwk is not an object");
  v.public_jwk = std::move(jwk);
  TL_KEYS_ASSIGN(policy_text, opt_text(st, 13));
  TL_KEYS_ASSIGN(immutable, st.column_int64(14));
  if (policy_text) {
    auto p = policy::ReleasePolicy::parse(*policy_text);
    if (!p) {
      return corrupt(where(v) + ": the stored release policy no longer parses (" + p.error().message + ")");
    }
    v.release_policy = ReleasePolicyDoc{std::move(*p), immutable != 0};
  }
  TL_KEYS_ASSIGN(tags_text, st.column_text(15));
  TL_KEYS_ASSIGN(tags, tags_from_text(v, tags_text));
  v.tags = std::move(tags);
  return v;
}

Status insert_version(store::Database& db, const KeyVersion& v, ByteView sealed_material) {
  TL_KEYS_ASSIGN(st, db.prepare(
                         "INSERT INTO vault_key_versions (name, version, seq, kty, bits, crv, key_ops, enabled, "
                         "exportable, not_before, expires, created_at, updated_at, public_jwk, sealed_material, "
                         "policy_json, policy_immutable, tags) VALUES (?1, ?2, "
                         "(SELECT COALESCE(MAX(seq), 0) + 1 FROM vault_key_versions WHERE name = ?1), "
                         "?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17)"));
  TL_KEYS_TRY(st.bind_text(1, v.name));
  TL_KEYS_TRY(st.bind_text(2, v.version));
  TL_KEYS_TRY(st.bind_text(3, crypto::kty_name(v.spec.kind)));
  TL_KEYS_TRY(st.bind_int64(4, v.spec.bits));
  if (v.spec.kind == crypto::KeyKind::ec) {
    TL_KEYS_TRY(st.bind_text(5, crypto::curve_name(v.spec.curve)));
  } else {
    TL_KEYS_TRY(st.bind_null(5));
  }
  TL_KEYS_TRY(st.bind_text(6, ops_to_text(v.key_ops)));
  TL_KEYS_TRY(st.bind_int64(7, v.attributes.enabled ? 1 : 0));
  TL_KEYS_TRY(st.bind_int64(8, v.attributes.exportable ? 1 : 0));
  TL_KEYS_TRY(bind_opt(st, 9, v.attributes.not_before));
  TL_KEYS_TRY(bind_opt(st, 10, v.attributes.expires));
  TL_KEYS_TRY(st.bind_int64(11, v.attributes.created));
  TL_KEYS_TRY(st.bind_int64(12, v.attributes.updated));
  TL_KEYS_TRY(st.bind_text(13, v.public_jwk.dump()));
  TL_KEYS_TRY(st.bind_blob(14, sealed_material));
  TL_KEYS_TRY(bind_policy(st, 15, 16, v));
  TL_KEYS_TRY(st.bind_text(17, tags_to_text(v.tags)));
  return run(st);
}

Status save_version(store::Database& db, const KeyVersion& v) {
  TL_KEYS_ASSIGN(st, db.prepare(
                         "UPDATE vault_key_versions SET key_ops = ?3, enabled = ?4, not_before = ?5, expires = ?6, "
                         "updated_at = ?7, policy_json = ?8, policy_immutable = ?9, tags = ?10 "
                         "WHERE name = ?1 AND version = ?2"));
  TL_KEYS_TRY(st.bind_text(1, v.name));
  TL_KEYS_TRY(st.bind_text(2, v.version));
  TL_KEYS_TRY(st.bind_text(3, ops_to_text(v.key_ops)));
  TL_KEYS_TRY(st.bind_int64(4, v.attributes.enabled ? 1 : 0));
  TL_KEYS_TRY(bind_opt(st, 5, v.attributes.not_before));
  TL_KEYS_TRY(bind_opt(st, 6, v.attributes.expires));
  TL_KEYS_TRY(st.bind_int64(7, v.attributes.updated));
  TL_KEYS_TRY(bind_policy(st, 8, 9, v));
  TL_KEYS_TRY(st.bind_text(10, tags_to_text(v.tags)));
  TL_KEYS_TRY(run(st));
  if (db.changes() != 1) return Error{"key " + v.name + " version " + v.version + " vanished while updating it",
                                      "unavailable"};
  return {};
}

Result<KeyState> key_state(store::Database& db, const std::string& name) {
  TL_KEYS_ASSIGN(st, db.prepare("SELECT deleted_at, scheduled_purge_at FROM vault_keys WHERE name = ?1"));
  TL_KEYS_TRY(st.bind_text(1, name));
  TL_KEYS_ASSIGN(row, st.step());
  KeyState s;
  if (!row) return s;
  s.exists = true;
  TL_KEYS_ASSIGN(deleted, opt_int(st, 0));
  s.deleted_at = deleted;
  TL_KEYS_ASSIGN(purge, opt_int(st, 1));
  s.scheduled_purge_at = purge;
  return s;
}

Status require_live(const KeyState& state, const std::string& name) {
  if (!state.exists) return Error{"no key named '" + name + "'", "key-not-found"};
  if (state.deleted_at) {
    return Error{"key '" + name + "' is deleted (recover it with POST /deletedkeys/" + name +
                     "/recover, or purge it)",
                 "key-deleted"};
  }
  return {};
}

Result<std::optional<KeyVersion>> newest_version(store::Database& db, const std::string& name, bool enabled_only) {
  TL_KEYS_ASSIGN(st, db.prepare(std::string("SELECT ") + kVersionColumns +
                                " FROM vault_key_versions v WHERE v.name = ?1" +
                                (enabled_only ? " AND v.enabled = 1" : "") + " ORDER BY v.seq DESC LIMIT 1"));
  TL_KEYS_TRY(st.bind_text(1, name));
  TL_KEYS_ASSIGN(row, st.step());
  if (!row) return std::optional<KeyVersion>{};
  TL_KEYS_ASSIGN(v, read_version(st));
  return std::optional<KeyVersion>{std::move(v)};
}

Result<std::optional<KeyVersion>> find_version(store::Database& db, const std::string& name,
                                               const std::string& version) {
  TL_KEYS_ASSIGN(st, db.prepare(std::string("SELECT ") + kVersionColumns +
                                " FROM vault_key_versions v WHERE v.name = ?1 AND v.version = ?2"));
  TL_KEYS_TRY(st.bind_text(1, name));
  TL_KEYS_TRY(st.bind_text(2, version));
  TL_KEYS_ASSIGN(row, st.step());
  if (!row) return std::optional<KeyVersion>{};
  TL_KEYS_ASSIGN(v, read_version(st));
  return std::optional<KeyVersion>{std::move(v)};
}

Error version_not_found(const std::string& name, const std::string& version) {
  return Error{"key '" + name + "' has no version '" + version + "'", "key-version-not-found"};
}

}  // namespace tl::keys::detail
