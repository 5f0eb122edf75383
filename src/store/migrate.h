// Versioned schema migrations. Rules (docs/store.md): versions strictly
// increase; a released migration is never edited, renamed or removed, only
// followed by new ones; the database is never used by code older than it.
#pragma once

#include <span>
#include <string_view>

#include "common/result.h"
#include "store/database.h"

namespace tl::store {

struct Migration {
  int version;            // >= 1, strictly increasing through the list
  std::string_view name;  // recorded; must never change once released
  std::string_view sql;   // one or more statements; no BEGIN/COMMIT
};

// Applies the pending migrations in order, each in its own transaction that
// also records (version, name, applied_at) in schema_migrations and sets
// PRAGMA user_version. Returns the schema version the database is then at.
// Refuses, changing nothing, when the list is malformed, the database is newer
// than the list, a recorded migration's name differs from the list's, or the
// recorded history has gaps the list cannot explain. A failing migration
// rolls back entirely; the ones before it stay applied.
Result<int> migrate(Database& db, std::span<const Migration> migrations);

// The version recorded in the database (0 when never migrated).
Result<int> schema_version(Database& db);

}  // namespace tl::store
