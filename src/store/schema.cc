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

// Issue 3: enrollment by credential activation, shared challenge keys.
constexpr std::string_view kV2Enrollment = R"sql(
ALTER TABLE vms ADD COLUMN ek_certificate BLOB;
ALTER TABLE vms ADD COLUMN ek_cert_validated INTEGER NOT NULL DEFAULT 0;
ALTER TABLE vms ADD COLUMN updated_at INTEGER NOT NULL DEFAULT 0;
CREATE TABLE pending_enrollments (
  enrollment_id     TEXT PRIMARY KEY,
  vm_id             TEXT NOT NULL,
  ek_public         BLOB NOT NULL,
  ek_certificate    BLOB,
  ek_cert_validated INTEGER NOT NULL,
  ak_public         BLOB NOT NULL,
  secret_sha256     BLOB NOT NULL,
  expires_at        INTEGER NOT NULL
);
CREATE INDEX pending_enrollments_expires_at ON pending_enrollments (expires_at);
CREATE TABLE challenge_keys (
  key_id     INTEGER PRIMARY KEY CHECK (key_id BETWEEN 0 AND 255),
  material   BLOB NOT NULL,
  created_at INTEGER NOT NULL,
  retired_at INTEGER
);
)sql";

// One TPM, one VM: an EK enrolled under one VM id cannot also speak for another.
constexpr std::string_view kV3OneVmPerEk = R"sql(
CREATE UNIQUE INDEX vms_ek_name ON vms (ek_name);
)sql";

// Issue 4: the fleet monitor (src/fleet, docs/fleet-api.md). Owned by src/fleet.
constexpr std::string_view kV4Fleet = R"sql(
CREATE TABLE fleet_vms (
  name TEXT PRIMARY KEY
);
)sql";

// Issue 4: alert events (written by src/fleet in the transaction that opens or
// resolves an alert) and their webhook deliveries (src/fleet/webhooks.h).
constexpr std::string_view kV5Webhooks = R"sql(
CREATE TABLE alert_events (
  id         INTEGER PRIMARY KEY AUTOINCREMENT,
  created_at INTEGER NOT NULL,
  event      TEXT NOT NULL CHECK (event IN ('alert.opened', 'alert.resolved')),
  alert_id   INTEGER NOT NULL,
  body       TEXT NOT NULL
);
-- One row per configured webhook URL (src/fleet/webhooks.h). cursor: id of the
-- last alert_events row finished with (delivered with a 2xx, or given up);
-- attempts / next_attempt_at (Unix ms) / last_error: the next event's failures.
-- The cursor moves only after a 2xx or a give-up, so delivery is at least once.
CREATE TABLE webhook_targets (
  url             TEXT PRIMARY KEY,
  cursor          INTEGER NOT NULL CHECK (cursor >= 0),
  attempts        INTEGER NOT NULL DEFAULT 0 CHECK (attempts >= 0),
  next_attempt_at INTEGER NOT NULL DEFAULT 0,
  last_error      TEXT
);
-- Events a webhook gave up on after its maximum attempts, kept for operators.
CREATE TABLE webhook_given_up (
  url         TEXT NOT NULL,
  event_id    INTEGER NOT NULL,
  attempts    INTEGER NOT NULL,
  last_error  TEXT NOT NULL,
  given_up_at INTEGER NOT NULL,
  PRIMARY KEY (url, event_id)
);
)sql";

// Issue 4: API tokens, stored as SHA-256 only (docs/fleet-api.md "Authentication").
constexpr std::string_view kV6ApiTokens = R"sql(
CREATE TABLE api_tokens (
  token_sha256 BLOB PRIMARY KEY,
  name         TEXT NOT NULL UNIQUE,
  role         TEXT NOT NULL CHECK (role IN ('admin')),
  created_at   INTEGER NOT NULL
);
)sql";

constexpr std::array kMigrations = {
    Migration{1, "initial", kV1Initial},
    Migration{2, "enrollment", kV2Enrollment},
    Migration{3, "one-vm-per-ek", kV3OneVmPerEk},
    Migration{4, "fleet", kV4Fleet},
    Migration{5, "webhooks", kV5Webhooks},
    Migration{6, "api-tokens", kV6ApiTokens},
};

}  // namespace

std::span<const Migration> tlaunchd_migrations() { return kMigrations; }

}  // namespace tl::store
