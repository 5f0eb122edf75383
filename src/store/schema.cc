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

// Issue 4: the fleet monitor (src/fleet, docs/fleet.md "Schema"). Owned by src/fleet.
// Every index serves a query named beside it; the 1,000,000-VM benchmark
// (bench/fleet_scale.cc) holds the sweep and the summary to them.
constexpr std::string_view kV4Fleet = R"sql(
CREATE TABLE fleet_vms (
  name            TEXT PRIMARY KEY,
  vm_id           TEXT NOT NULL UNIQUE,
  resource_id     TEXT NOT NULL DEFAULT '',
  grp             TEXT NOT NULL,
  security_type   TEXT NOT NULL CHECK (security_type IN ('TrustedLaunch', 'Standard')),
  secure_boot     INTEGER NOT NULL CHECK (secure_boot IN (0, 1)),
  tpm_enabled     INTEGER NOT NULL CHECK (tpm_enabled IN (0, 1)),
  agent_installed INTEGER NOT NULL CHECK (agent_installed IN (0, 1)),
  power_state     TEXT NOT NULL CHECK (power_state IN ('Running', 'Stopped')),
  ek_name         TEXT,
  registered_at   INTEGER NOT NULL,
  last_report_at  INTEGER,
  sb_state        TEXT NOT NULL DEFAULT 'Unknown' CHECK (sb_state IN ('Enabled', 'Disabled', 'Unknown')),
  cert_state      TEXT NOT NULL DEFAULT 'Unknown' CHECK (cert_state IN ('Valid', 'Invalid', 'Unknown')),
  boot_state      TEXT NOT NULL DEFAULT 'Unknown' CHECK (boot_state IN ('Valid', 'Invalid', 'Unknown')),
  health          TEXT NOT NULL DEFAULT 'Pending'
                  CHECK (health IN ('Healthy', 'Unhealthy', 'Unknown', 'Pending')),
  kernel_version  TEXT NOT NULL DEFAULT '',
  error_message   TEXT,
  validated_at    INTEGER,
  -- The time staleness counts from (validated_at, else registered_at) while
  -- the VM can go stale (running, not already stale); NULL otherwise. The
  -- partial index makes the sweep a range scan over the VMs that change.
  fresh_since     INTEGER
);
CREATE INDEX fleet_vms_fresh_since ON fleet_vms (fresh_since) WHERE fresh_since IS NOT NULL;
CREATE INDEX fleet_vms_health ON fleet_vms (health, name);   -- summary counts, GET /vms?healthStatus=
CREATE INDEX fleet_vms_grp ON fleet_vms (grp, name);         -- GET /vms?group=, suppression by group
CREATE TABLE fleet_recommendations (
  vm     TEXT NOT NULL REFERENCES fleet_vms (name) ON DELETE CASCADE,
  kind   TEXT NOT NULL CHECK (kind IN ('enable-secure-boot', 'enable-vtpm', 'install-agent')),
  title  TEXT NOT NULL,
  detail TEXT NOT NULL,
  PRIMARY KEY (vm, kind)
) WITHOUT ROWID;
CREATE INDEX fleet_recommendations_kind ON fleet_recommendations (kind, vm);  -- counts, ?kind=
CREATE TABLE fleet_suppressions (
  id         INTEGER PRIMARY KEY AUTOINCREMENT,
  grp        TEXT,
  vm         TEXT,
  kind       TEXT,
  reason     TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  CHECK (grp IS NOT NULL OR vm IS NOT NULL OR kind IS NOT NULL)
);
CREATE TABLE fleet_alerts (
  id            INTEGER PRIMARY KEY AUTOINCREMENT,
  kind          TEXT NOT NULL,
  severity      TEXT NOT NULL CHECK (severity IN ('High', 'Medium', 'Low')),
  title         TEXT NOT NULL,
  vm            TEXT NOT NULL,
  grp           TEXT NOT NULL,
  open          INTEGER NOT NULL CHECK (open IN (0, 1)),
  opened_at     INTEGER NOT NULL,
  last_seen_at  INTEGER NOT NULL,
  resolved_at   INTEGER,
  count         INTEGER NOT NULL,
  detail        TEXT NOT NULL,
  deviations    TEXT NOT NULL DEFAULT '[]',
  -- No foreign key: removing a rule keeps the history of what it silenced.
  suppressed_by INTEGER
);
-- One open alert per (VM, kind): a repeat updates it.
CREATE UNIQUE INDEX fleet_alerts_open_vm_kind ON fleet_alerts (vm, kind) WHERE open = 1;
-- Summary counts of open, unsuppressed alerts by severity.
CREATE INDEX fleet_alerts_open_severity ON fleet_alerts (severity) WHERE open = 1 AND suppressed_by IS NULL;
CREATE INDEX fleet_alerts_open_id ON fleet_alerts (id) WHERE open = 1;  -- GET /alerts?state=open
CREATE INDEX fleet_alerts_vm_id ON fleet_alerts (vm, id);                -- GET /alerts?vm=
CREATE TABLE fleet_baselines (
  grp        TEXT NOT NULL,
  version    INTEGER NOT NULL CHECK (version >= 1),
  created_at INTEGER NOT NULL,
  body       TEXT NOT NULL,  -- policy::to_json(Baseline)
  PRIMARY KEY (grp, version)
) WITHOUT ROWID;
CREATE TABLE fleet_baseline_groups (
  grp      TEXT PRIMARY KEY,
  learning INTEGER NOT NULL CHECK (learning IN (0, 1))
) WITHOUT ROWID;
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
-- One row per webhook URL ever configured (src/fleet/webhooks.h). cursor: id of the
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

// Issue 5: the key vault (docs/keyvault.md). Key material is sealed under the
// data key, which is stored only wrapped by the KEK; API tokens get a "user"
// role (rebuilt table: a CHECK cannot be altered in SQLite).
constexpr std::string_view kV7KeyVault = R"sql(
CREATE TABLE vault_meta (
  id          INTEGER PRIMARY KEY CHECK (id = 1),
  kek_kind    TEXT NOT NULL CHECK (kek_kind IN ('file', 'pkcs11')),
  wrapped_dek BLOB NOT NULL,
  created_at  INTEGER NOT NULL
);
CREATE TABLE vault_keys (
  name               TEXT PRIMARY KEY,
  created_at         INTEGER NOT NULL,
  deleted_at         INTEGER,
  scheduled_purge_at INTEGER,
  CHECK ((deleted_at IS NULL) = (scheduled_purge_at IS NULL))
);
CREATE INDEX vault_keys_purge ON vault_keys(scheduled_purge_at) WHERE deleted_at IS NOT NULL;
CREATE TABLE vault_key_versions (
  name             TEXT NOT NULL REFERENCES vault_keys(name) ON DELETE CASCADE,
  version          TEXT NOT NULL,
  seq              INTEGER NOT NULL,
  kty              TEXT NOT NULL CHECK (kty IN ('RSA', 'EC', 'oct')),
  bits             INTEGER NOT NULL,
  crv              TEXT,
  key_ops          TEXT NOT NULL,
  enabled          INTEGER NOT NULL CHECK (enabled IN (0, 1)),
  exportable       INTEGER NOT NULL CHECK (exportable IN (0, 1)),
  not_before       INTEGER,
  expires          INTEGER,
  created_at       INTEGER NOT NULL,
  updated_at       INTEGER NOT NULL,
  public_jwk       TEXT NOT NULL,
  sealed_material  BLOB NOT NULL,
  policy_json      TEXT,
  policy_immutable INTEGER NOT NULL DEFAULT 0 CHECK (policy_immutable IN (0, 1)),
  tags             TEXT NOT NULL DEFAULT '{}',
  PRIMARY KEY (name, version),
  UNIQUE (name, seq),
  CHECK (exportable = 0 OR policy_json IS NOT NULL),
  CHECK (policy_json IS NULL OR exportable = 1)
);
CREATE TABLE api_tokens_v7 (
  token_sha256 BLOB PRIMARY KEY,
  name         TEXT NOT NULL UNIQUE,
  role         TEXT NOT NULL CHECK (role IN ('admin', 'user')),
  created_at   INTEGER NOT NULL,
  expires_at   INTEGER
);
INSERT INTO api_tokens_v7 (token_sha256, name, role, created_at)
  SELECT token_sha256, name, role, created_at FROM api_tokens;
DROP TABLE api_tokens;
ALTER TABLE api_tokens_v7 RENAME TO api_tokens;
CREATE TABLE access_policies (
  identity   TEXT NOT NULL,
  scope      TEXT NOT NULL,
  operations TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  PRIMARY KEY (identity, scope)
);
CREATE TABLE audit_log (
  id           INTEGER PRIMARY KEY AUTOINCREMENT,
  at           INTEGER NOT NULL,
  caller       TEXT NOT NULL,
  operation    TEXT NOT NULL,
  key_name     TEXT NOT NULL DEFAULT '',
  key_version  TEXT NOT NULL DEFAULT '',
  token_jti    TEXT NOT NULL DEFAULT '',
  token_issuer TEXT NOT NULL DEFAULT '',
  clause       TEXT NOT NULL DEFAULT '',
  outcome      TEXT NOT NULL CHECK (outcome IN ('allowed', 'denied')),
  reason       TEXT NOT NULL DEFAULT '',
  detail       TEXT NOT NULL DEFAULT ''
);
CREATE INDEX audit_log_key ON audit_log(key_name, id);
)sql";

constexpr std::array kMigrations = {
    Migration{1, "initial", kV1Initial},
    Migration{2, "enrollment", kV2Enrollment},
    Migration{3, "one-vm-per-ek", kV3OneVmPerEk},
    Migration{4, "fleet", kV4Fleet},
    Migration{5, "webhooks", kV5Webhooks},
    Migration{6, "api-tokens", kV6ApiTokens},
    Migration{7, "key-vault", kV7KeyVault},
};

}  // namespace

std::span<const Migration> tlaunchd_migrations() { return kMigrations; }

}  // namespace tl::store
