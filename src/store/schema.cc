#include "store/schema.h"

#include <array>

namespace tl::store {
namespace {

// NEVER edit or rename a migration once it is on main: databases in the field
// have recorded it. Change the schema by appending a migration with the next
// version (see docs/store.md).
constexpr std::string_view kV1Initial = R"sql(
CREATE TABLE vms (
  vm_id          TEXT PRIMARY KEY,
  ek_public      BLOB NOT NULL,
  ek_name        BLOB NOT NULL,
  ak_public      BLOB,
  ak_name        BLOB,
  enrolled_at    INTEGER NOT NULL,
  allow_reenroll INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE used_challenges (
  challenge_id TEXT PRIMARY KEY,
  expires_at   INTEGER NOT NULL
);
CREATE INDEX used_challenges_expires_at ON used_challenges (expires_at);
CREATE TABLE signing_keys (
  kid           TEXT PRIMARY KEY,
  alg           TEXT NOT NULL,
  private_pkcs8 BLOB NOT NULL,
  created_at    INTEGER NOT NULL,
  retired_at    INTEGER
);
)sql";

constexpr std::array kMigrations = {
    Migration{1, "initial", kV1Initial},
};

}  // namespace

std::span<const Migration> tlaunchd_migrations() { return kMigrations; }

}  // namespace tl::store
