// The vault: opening (the data key under the KEK) and adding versions
// (create, import, rotate).
#include "keys/vault.h"

#include <ctime>

#include "keys/vault_internal.h"

namespace tl::keys {

using namespace detail;

Vault::Vault(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Vault::~Vault() = default;

namespace {

// The data key: made and stored wrapped at the first open, unwrapped later.
// The write transaction makes two processes opening a new vault at once agree
// on one data key.
Result<kek::Sealer> open_sealer(Pool& pool, kek::Kek& kek, const std::filesystem::path& path) {
  std::lock_guard write(pool.write_mutex());
  auto db = pool.lease();
  TL_KEYS_ASSIGN(txn, store::Transaction::begin(*db));
  TL_KEYS_ASSIGN(st, db->prepare("SELECT kek_kind, wrapped_dek FROM vault_meta WHERE id = 1"));
  TL_KEYS_ASSIGN(row, st.step());
  if (!row) {
    TL_KEYS_ASSIGN(made, kek::Sealer::create(kek));
    TL_KEYS_ASSIGN(ins, db->prepare("INSERT INTO vault_meta (id, kek_kind, wrapped_dek, created_at) "
                                    "VALUES (1, ?1, ?2, ?3)"));
    TL_KEYS_TRY(ins.bind_text(1, kek.kind()));
    TL_KEYS_TRY(ins.bind_blob(2, made.second));
    TL_KEYS_TRY(ins.bind_int64(3, static_cast<int64_t>(std::time(nullptr))));
    TL_KEYS_TRY(run(ins));
    TL_KEYS_TRY(txn.commit());
    return std::move(made.first);
  }
  TL_KEYS_ASSIGN(kind, st.column_text(0));
  TL_KEYS_ASSIGN(wrapped, st.column_blob(1));
  TL_KEYS_TRY(txn.commit());
  if (kind != kek.kind()) {
    return Error{"the key vault in " + path.string() + " was created with a " + kind +
                     " KEK, but tlaunchd was given a " + kek.kind() + " KEK (" + kek.description() +
                     "); configure the " + kind + " KEK the vault was created with",
                 "kek-mismatch"};
  }
  auto sealer = kek::Sealer::open(kek, wrapped);
  if (!sealer) {
    return with_context("the key vault in " + path.string() + " (created with a " + kind +
                            " KEK): its data key does not unwrap with " + kek.description(),
                        sealer.take_error());
  }
  return std::move(*sealer);
}

// The public view of a new version from what the caller asked for, checked
// against Key Vault's rules before any key is generated.
Result<KeyVersion> draft(const std::string& name, const NewKey& k, const crypto::KeySpec& spec, int64_t now) {
  TL_KEYS_TRY(check_key_name(name));
  if (k.exportable && !k.release_policy) {
    return Error{"key '" + name + "': an exportable key needs a release policy", "exportable-needs-policy"};
  }
  if (!k.exportable && k.release_policy) {
    return Error{"key '" + name + "': a release policy is only allowed on an exportable key", "policy-needs-exportable"};
  }
  TL_KEYS_ASSIGN(ops, resolve_key_ops(spec.kind, k.key_ops));
  TL_KEYS_TRY(check_tags(k.tags));
  TL_KEYS_TRY(check_validity(k.not_before, k.expires));
  KeyVersion v;
  v.name = name;
  v.spec = spec;
  v.key_ops = std::move(ops);
  v.attributes.enabled = k.enabled;
  v.attributes.exportable = k.exportable;
  v.attributes.not_before = k.not_before;
  v.attributes.expires = k.expires;
  v.attributes.created = now;
  v.attributes.updated = now;
  v.release_policy = k.release_policy;
  v.tags = k.tags;
  return v;
}

enum class Add { create, rotate };

// Seals the material under a fresh version id, then writes the version in one
// transaction. Key generation and sealing happen before the write lock.
Result<KeyVersion> add_version(Pool& pool, const kek::Sealer& sealer, KeyVersion v, const crypto::KeyMaterial& material,
                               Add mode) {
  TL_KEYS_ASSIGN(version, new_version_id());
  v.version = std::move(version);
  v.spec = material.spec();
  v.public_jwk = material.public_jwk();
  TL_KEYS_ASSIGN(sealed,
                 sealer.seal(material.release_bytes().view(), material_aad(v.name, v.version, v.attributes.exportable)));

  std::lock_guard write(pool.write_mutex());
  auto db = pool.lease();
  TL_KEYS_ASSIGN(txn, store::Transaction::begin(*db));
  TL_KEYS_ASSIGN(state, key_state(*db, v.name));
  if (mode == Add::create) {
    if (state.deleted_at) {
      return Error{"key '" + v.name + "' is deleted; recover it or purge it before creating a key of that name",
                   "key-conflict"};
    }
    if (state.exists) {
      // A new version must not widen what the key's versions promised: an
      // immutable policy stays as it is, and exportability never changes.
      TL_KEYS_ASSIGN(newest, newest_version(*db, v.name, false));
      if (newest) {
        if (newest->attributes.exportable != v.attributes.exportable) {
          return Error{"key '" + v.name + "' is " + (newest->attributes.exportable ? "" : "not ") +
                           "exportable; a new version cannot change that",
                       "exportable-immutable"};
        }
        if (newest->release_policy && newest->release_policy->immutable &&
            (!v.release_policy || !v.release_policy->immutable ||
             v.release_policy->policy.json() != newest->release_policy->policy.json())) {
          return Error{"key '" + v.name + "' has an immutable release policy; a new version must carry the same "
                       "policy, immutable (rotate the key to keep it)",
                       "release-policy-immutable"};
        }
      }
    } else {
      TL_KEYS_ASSIGN(ins, db->prepare("INSERT INTO vault_keys (name, created_at) VALUES (?1, ?2)"));
      TL_KEYS_TRY(ins.bind_text(1, v.name));
      TL_KEYS_TRY(ins.bind_int64(2, v.attributes.created));
      TL_KEYS_TRY(run(ins));
    }
  } else {
    // What rotation copies is read under the write lock, so a policy or tags
    // update that committed before the rotation is carried over.
    TL_KEYS_TRY(require_live(state, v.name));
    TL_KEYS_ASSIGN(newest, newest_version(*db, v.name, false));
    // (exportable is part of the seal's aad, so it must be what was sealed.)
    if (!newest || newest->spec != v.spec || newest->attributes.exportable != v.attributes.exportable) {
      return Error{"key '" + v.name + "' changed while it was being rotated; retry", "key-conflict"};
    }
    v.key_ops = newest->key_ops;
    v.attributes.exportable = newest->attributes.exportable;
    v.release_policy = newest->release_policy;
    v.tags = newest->tags;
  }
  TL_KEYS_TRY(insert_version(*db, v, sealed));
  TL_KEYS_TRY(txn.commit());
  return v;
}

}  // namespace

Result<std::unique_ptr<Vault>> Vault::open(const std::filesystem::path& db, kek::Kek& kek, VaultOptions options) {
  if (options.retention_days < 7 || options.retention_days > 90) {
    return Error{"the key vault's soft-delete retention must be 7-90 days (got " +
                 std::to_string(options.retention_days) + ")"};
  }
  // synchronous=FULL: a key is used by its creator as soon as create returns
  // (data encrypted to it, its id recorded), so it must survive a power loss.
  // secure_delete: a purged key's sealed material is overwritten, not left in
  // free pages where the KEK would still open it.
  TL_KEYS_ASSIGN(pool, Pool::open(db, options.connections, "PRAGMA synchronous=FULL; PRAGMA secure_delete=ON;"));
  auto sealer = open_sealer(*pool, kek, db);
  if (!sealer) return unavailable(sealer.take_error());
  return std::unique_ptr<Vault>(new Vault(std::unique_ptr<Impl>(new Impl{std::move(pool), std::move(*sealer), options})));
}

Result<KeyVersion> Vault::create(const std::string& name, const NewKey& k, int64_t now) {
  TL_KEYS_ASSIGN(v, draft(name, k, k.spec, now));
  auto material = crypto::KeyMaterial::generate(k.spec);
  if (!material) return with_reason("key-invalid", material.take_error());
  return classified(add_version(*impl_->pool, impl_->sealer, std::move(v), *material, Add::create));
}

Result<KeyVersion> Vault::import(const std::string& name, crypto::KeyMaterial material, const NewKey& k,
                                 int64_t now) {
  TL_KEYS_ASSIGN(v, draft(name, k, material.spec(), now));
  return classified(add_version(*impl_->pool, impl_->sealer, std::move(v), material, Add::create));
}

Result<KeyVersion> Vault::rotate(const std::string& name, int64_t now) {
  TL_KEYS_TRY(check_key_name(name));
  crypto::KeySpec spec;
  bool exportable = false;
  {
    auto db = impl_->pool->lease();
    auto state = key_state(*db, name);
    if (!state) return unavailable(state.take_error());
    TL_KEYS_TRY(require_live(*state, name));
    auto newest = newest_version(*db, name, false);
    if (!newest) return unavailable(newest.take_error());
    if (!*newest) return Error{"no key named '" + name + "'", "key-not-found"};
    spec = (*newest)->spec;
    exportable = (*newest)->attributes.exportable;
  }
  auto material = crypto::KeyMaterial::generate(spec);
  if (!material) return with_reason("internal-error", material.take_error());
  KeyVersion v;
  v.name = name;
  v.attributes.exportable = exportable;
  v.attributes.created = now;
  v.attributes.updated = now;
  return classified(add_version(*impl_->pool, impl_->sealer, std::move(v), *material, Add::rotate));
}

}  // namespace tl::keys
