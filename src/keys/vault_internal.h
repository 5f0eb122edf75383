// What the vault's implementation files share: Vault::Impl and the row
// mapping of vault_keys / vault_key_versions (schema v7). Not part of the API.
#pragma once

#include <memory>
#include <optional>
#include <string>

#include "keys/internal.h"
#include "keys/kek/kek.h"
#include "keys/vault.h"

namespace tl::keys {

struct Vault::Impl {
  std::unique_ptr<detail::Pool> pool;
  kek::Sealer sealer;
  VaultOptions options;
};

namespace detail {

// The columns read_version reads, in its order, from vault_key_versions AS v.
inline constexpr const char* kVersionColumns =
    "v.name, v.version, v.kty, v.bits, v.crv, v.key_ops, v.enabled, v.exportable, v.not_before, v.expires, "
    "v.created_at, v.updated_at, v.public_jwk, v.policy_json, v.policy_immutable, v.tags";
inline constexpr int kVersionColumnCount = 16;

// A row as kVersionColumns; the stored policy is parsed again (a stored policy
// that no longer parses is an error, never dropped).
Result<KeyVersion> read_version(store::Statement& st);
// Inserts a version with the next seq of its key.
Status insert_version(store::Database& db, const KeyVersion& v, ByteView sealed_material);
// Writes the columns an update may change.
Status save_version(store::Database& db, const KeyVersion& v);

// The vault_keys row of a name.
struct KeyState {
  bool exists = false;
  std::optional<int64_t> deleted_at, scheduled_purge_at;
};
Result<KeyState> key_state(store::Database& db, const std::string& name);
// key-not-found / key-deleted unless the key exists and is not deleted.
Status require_live(const KeyState& state, const std::string& name);

// The newest version (highest seq), of every version or of the enabled ones.
Result<std::optional<KeyVersion>> newest_version(store::Database& db, const std::string& name, bool enabled_only);
Result<std::optional<KeyVersion>> find_version(store::Database& db, const std::string& name,
                                               const std::string& version);
// key-version-not-found naming both.
Error version_not_found(const std::string& name, const std::string& version);

}  // namespace detail
}  // namespace tl::keys
