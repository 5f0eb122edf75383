// The key vault: keys with versions, attributes, release policies and soft
// delete, their material sealed at rest (keys/kek/kek.h), in tlaunchd's SQLite
// database (schema v7, store/schema.cc). docs/keyvault.md has the rules; they
// follow Azure Key Vault's:
//
// - every create / import / rotate adds a version (32 hex chars); a bare name
//   resolves to the newest enabled version;
// - exportable keys need a release policy; exportable never changes after a
//   version is created; an immutable policy never changes; a policy is only
//   allowed on exportable keys;
// - delete is soft: the key (all versions) goes to the deleted state for
//   `retention_days`, can be recovered, or purged; a deleted name cannot be
//   created again until recovered or purged; purge happens by itself after
//   the retention (purge_expired).
//
// Thread-safe: one connection per concurrent caller from a small pool.
// Errors carry reasons (docs/errors.md): key-not-found, key-version-not-found,
// key-disabled, key-deleted, key-conflict, key-invalid, release-policy-invalid,
// release-policy-immutable, exportable-immutable, exportable-needs-policy,
// policy-needs-exportable, unavailable.
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/result.h"
#include "crypto/key_material.h"
#include "keys/kek/kek.h"
#include "policy/release_policy.h"

namespace tl::keys {

struct ReleasePolicyDoc {
  policy::ReleasePolicy policy;
  bool immutable = false;
};

struct KeyAttributes {
  bool enabled = true;
  bool exportable = false;
  std::optional<int64_t> not_before;  // "nbf": not usable before (seconds)
  std::optional<int64_t> expires;     // "exp": not usable after
  int64_t created = 0;
  int64_t updated = 0;
};

// One version's public view (no private material).
struct KeyVersion {
  std::string name;
  std::string version;
  crypto::KeySpec spec;
  std::vector<std::string> key_ops;
  KeyAttributes attributes;
  std::optional<ReleasePolicyDoc> release_policy;
  nlohmann::json public_jwk;  // KeyMaterial::public_jwk()
  std::map<std::string, std::string> tags;
};

struct DeletedKey {
  KeyVersion newest;  // the newest version when deleted
  int64_t deleted_at = 0;
  int64_t scheduled_purge_at = 0;
};

// What create / import take (the material comes separately for import).
struct NewKey {
  crypto::KeySpec spec;  // ignored by import (the material decides)
  std::vector<std::string> key_ops;  // empty: every op the kind supports; others refused
  bool enabled = true;
  bool exportable = false;
  std::optional<int64_t> not_before, expires;
  std::optional<ReleasePolicyDoc> release_policy;
  std::map<std::string, std::string> tags;
};

// PATCH: only what is set changes.
struct KeyUpdate {
  std::optional<bool> enabled;
  std::optional<bool> exportable;  // refused (exportable-immutable) when different
  std::optional<std::optional<int64_t>> not_before, expires;  // nullopt inside clears
  std::optional<ReleasePolicyDoc> release_policy;
  std::optional<std::vector<std::string>> key_ops;
  std::optional<std::map<std::string, std::string>> tags;
};

struct VaultOptions {
  int retention_days = 90;  // soft-delete retention (Key Vault: 7..90)
  unsigned connections = 4;
};

class Vault {
 public:
  // Opens the (migrated) database. On the first open it makes the data key and
  // stores it wrapped by `kek`; later opens unwrap it (reason kek-mismatch when
  // `kek` is not the one the vault was created with, naming both KEK kinds).
  static Result<std::unique_ptr<Vault>> open(const std::filesystem::path& db, kek::Kek& kek,
                                             VaultOptions options = {});

  // Key names: 1-127 of [0-9a-zA-Z-] (Key Vault's rule); else key-invalid.
  Result<KeyVersion> create(const std::string& name, const NewKey& k, int64_t now);
  Result<KeyVersion> import(const std::string& name, crypto::KeyMaterial material, const NewKey& k, int64_t now);
  // A new version with new material of the newest version's spec, key_ops,
  // exportable flag, policy and tags.
  Result<KeyVersion> rotate(const std::string& name, int64_t now);

  // version empty: the newest enabled version (key-disabled if every version is disabled).
  Result<KeyVersion> get(const std::string& name, const std::string& version = {});
  // Every non-deleted key's newest version, by name, `limit` from after `after_name`.
  Result<std::vector<KeyVersion>> list(const std::string& after_name, size_t limit);
  // Every version of a key, oldest first.
  Result<std::vector<KeyVersion>> versions(const std::string& name);
  Result<KeyVersion> update(const std::string& name, const std::string& version, const KeyUpdate& u, int64_t now);

  Result<DeletedKey> remove(const std::string& name, int64_t now);
  Result<std::vector<DeletedKey>> list_deleted();
  Result<DeletedKey> get_deleted(const std::string& name);
  Result<KeyVersion> recover(const std::string& name, int64_t now);
  // Purging also removes the access policies scoped to the key (access.h),
  // so they never apply to a later key of the same name.
  Status purge(const std::string& name);
  // Purges every deleted key whose retention has passed; returns how many.
  Result<size_t> purge_expired(int64_t now);

  // The private material of an exact version (unsealed), for release only.
  // A disabled, deleted, not-yet-valid or expired version is refused. `row`
  // receives the version's attributes and policy read in the same statement
  // as the material, so a release decides on exactly what it releases.
  Result<crypto::KeyMaterial> material(const std::string& name, const std::string& version, int64_t now,
                                       KeyVersion* row = nullptr);

  ~Vault();

 private:
  struct Impl;
  explicit Vault(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace tl::keys
