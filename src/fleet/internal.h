// What the fleet's implementation files share: the connection pool and write
// lock (Fleet::Impl), row mapping, the alert primitives that also write
// alert_events, and the pure status rules. Not part of the public API.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "fleet/fleet.h"
#include "store/database.h"

namespace tl::fleet::detail {

#define TL_FLEET_TRY(expr)          \
  do {                              \
    if (auto st_ = (expr); !st_) {  \
      return st_.take_error();      \
    }                               \
  } while (0)

#define TL_FLEET_ASSIGN(var, expr)                   \
  auto var##_r = (expr);                             \
  if (!var##_r) return var##_r.take_error();         \
  auto var = std::move(*var##_r)

// Database failures become reason "unavailable" (the caller may retry); a
// reason the callee already set is kept.
inline Error unavailable(Error e) { return with_reason("unavailable", std::move(e)); }

// Alert kinds and their fixed severities and titles (docs/fleet-api.md).
inline constexpr const char* kAttestationFailed = "attestation-failed";
inline constexpr const char* kQuoteNotFromVtpm = "quote-not-from-vtpm";
inline constexpr const char* kAttestationStale = "attestation-stale";
inline constexpr const char* kUntrustedKernelModule = "untrusted-kernel-module";
// Reported by the VM's host (record_host_event), not by attestation.
inline constexpr const char* kBootRefused = "boot-refused";
inline constexpr const char* kVmCrashed = "vm-crashed";
inline constexpr const char* kVtpmCrashed = "vtpm-crashed";
// Every kind, in the order the API lists them.
inline constexpr const char* kAlertKinds[] = {kAttestationFailed, kQuoteNotFromVtpm,      kAttestationStale,
                                              kUntrustedKernelModule, kBootRefused, kVmCrashed, kVtpmCrashed};
// "a, b, c or d" of kAlertKinds, for messages.
std::string alert_kinds_text();
bool is_alert_kind(const std::string& kind);
const char* alert_severity(const std::string& kind);
const char* alert_title(const std::string& kind);

// Recommendation kinds.
inline constexpr const char* kRecEnableSecureBoot = "enable-secure-boot";
inline constexpr const char* kRecEnableVtpm = "enable-vtpm";
inline constexpr const char* kRecInstallAgent = "install-agent";

// API strings → enums (nullopt: not one of them).
std::optional<Health> health_from_name(const std::string& s);
std::optional<SecurityType> security_type_from_name(const std::string& s);
std::optional<PowerState> power_state_from_name(const std::string& s);

// Names: 1–64 of [A-Za-z0-9._-].
bool valid_name(const std::string& s);

// ---- Pure rules (status_rules.cc) -------------------------------------------

// What one verified attestation established, reduced to what the rules need
// (tests build these directly; record_verified fills them from the attestation).
struct VerifiedFacts {
  std::string secure_boot;  // "enabled" | "disabled" | anything else = unknown
  bool ek_certificate_validated = false;
  bool ek_matches_binding = true;  // false: a different EK than the one bound
  // nullopt: no baseline to compare with.
  std::optional<bool> baseline_matched;
  std::string first_deviation;  // message of the first deviation when not matched
  std::string group;
  std::string os_type;  // self-reported "Linux" | "Windows" | …
  std::optional<std::string> verified_kernel_version;  // from the measured boot
  std::string reported_kernel_release;                 // self-reported uname -r
};

inline constexpr const char* kTpmDisabledMessage =
    "the VM's security profile has the vTPM disabled (enableTpm: false)";

AttestationStatus status_from_verified(const VerifiedFacts& f, const SecurityProfile& profile, int64_t now);

// The status after a host event (docs/fleet.md "Host events"): never Healthy,
// never better than before. Tri-states other than bootIntegrityValidated, the
// kernel version and `timestamp` stay: nothing was attested.
AttestationStatus status_after_host_event(const AttestationStatus& before, const HostEvent& e);
const char* host_event_alert_kind(HostEventKind k);

// In the errorMessage of a VM a host-reported crash made Unknown: tells
// stale_never_reported that the sweep did not (no install-agent for it).
inline constexpr const char* kHostReportMarker = " (host report: ";

// What a rejection means for the VM.
enum class RejectionClass {
  not_from_vtpm,      // the quote does not verify under the VM's AK: alert only
  after_quote,        // the VM's TPM signed what failed: Unhealthy + alert
  transient,          // the service could not finish the verification: Unknown, no alert
  ignored,            // says nothing about the VM (challenge, transient, malformed request)
};
RejectionClass classify_rejection(const std::string& reason);

// Recommendations a VM deserves now. `stale_never_attested`: VM swept stale
// that never reported at all (stale_never_reported).
std::vector<Recommendation> recommendations_for(const SecurityProfile& profile, bool agent_installed,
                                                const AttestationStatus& status, bool stale_never_attested);

// ---- Storage --------------------------------------------------------------

// A VM row plus the columns only the implementation needs.
struct VmRow {
  Vm vm;
  std::optional<int64_t> fresh_since;
};

inline constexpr const char* kVmColumns =
    "name, vm_id, resource_id, grp, security_type, secure_boot, tpm_enabled, agent_installed, power_state, "
    "ek_name, registered_at, last_report_at, sb_state, cert_state, boot_state, health, kernel_version, "
    "error_message, validated_at, fresh_since";

Result<VmRow> read_vm_row(store::Statement& st);  // columns as kVmColumns
Result<std::optional<VmRow>> load_vm(store::Database& db, const std::string& column, const std::string& value);
// Writes every column of an existing row (by name).
Status save_vm(store::Database& db, const VmRow& row);
// Fills vm.recommendations and vm.open_alerts from their tables.
Status load_vm_extras(store::Database& db, Vm& vm);
// Replaces the VM's stored recommendations.
Status store_recommendations(store::Database& db, const std::string& vm, const std::vector<Recommendation>& recs);
// Recomputes and stores the recommendations of a saved row.
Status refresh_recommendations(store::Database& db, const VmRow& row);
// Staleness anchor after a status-setting event (registration, a verified
// report, a failure after the quote verified): the status time (else the
// registration) for a running VM, NULL for a stopped one. Health plays no
// part: an Unknown VM must stay sweepable; only the sweep clears the anchor
// of a running VM (update_vm handles power changes).
std::optional<int64_t> fresh_since_for(const Vm& vm);
// Swept stale without ever having reported anything (no verified status, no
// attempt of any outcome): the case where install-agent is the likely fix.
bool stale_never_reported(const Vm& vm);

// Alerts (alerts.cc). All run inside the caller's transaction.
struct AlertInput {
  std::string kind;
  std::string vm;
  std::string group;
  std::string detail;
  std::vector<policy::Deviation> deviations;
};
// Opens the (vm, kind) alert, or bumps the open one (count, last_seen_at,
// detail, deviations; no event). A new alert gets suppressed_by from the
// first matching rule; unsuppressed ones write an alert.opened event.
Status raise_alert(store::Database& db, const AlertInput& in, int64_t now);
// Resolves the open (vm, kind) alert if any (alert.resolved event unless suppressed).
Status resolve_alert(store::Database& db, const std::string& vm, const std::string& kind, int64_t now);
Status resolve_all_alerts(store::Database& db, const std::string& vm, int64_t now);
Result<Alert> read_alert(store::Statement& st);  // columns as kAlertColumns
inline constexpr const char* kAlertColumns =
    "id, kind, severity, title, vm, grp, open, opened_at, last_seen_at, resolved_at, count, detail, deviations, "
    "suppressed_by";
Status write_event(store::Database& db, const char* event, const Alert& a, int64_t now);

// Deviations as stored in fleet_alerts.deviations (our own encoding, so the
// store never depends on another module's JSON shape staying put).
std::string deviations_to_text(const std::vector<policy::Deviation>& d);
Result<std::vector<policy::Deviation>> deviations_from_text(const std::string& text);

// Baselines (baselines.cc), inside the caller's transaction.
// policy/baseline_json.cc's reader limits: a stored body beyond them could
// never be loaded again, so insert_baseline refuses it (baseline-invalid).
inline constexpr size_t kMaxBaselineVariants = 256;
inline constexpr size_t kMaxVariantMeasurements = 65536;
Result<std::optional<policy::Baseline>> load_baseline(store::Database& db, const std::string& group,
                                                      std::optional<int> version);
// Refuses (baseline-invalid, before writing) a body load_baseline could not
// read back: too many variants or measurements, or anything else
// policy::baseline_from_json rejects.
Result<policy::Baseline> insert_baseline(store::Database& db, const std::string& group,
                                         std::vector<policy::BaselineVariant> variants,
                                         const std::vector<uint32_t>& pcrs, int64_t now);
Result<bool> learning_on(store::Database& db, const std::string& group);
Status put_learning(store::Database& db, const std::string& group, bool enabled);

}  // namespace tl::fleet::detail

namespace tl::fleet {

// The connection pool (one Database per concurrent caller) and the one
// in-process writer: SQLite allows one writer, and waiting on our own mutex
// is cheaper and fairer than SQLite's sleeping busy handler.
struct Fleet::Impl {
  class Lease {
   public:
    Lease(Impl* impl, store::Database db) : impl_(impl), db_(std::move(db)) {}
    Lease(Lease&&) = delete;
    ~Lease() {
      std::lock_guard lock(impl_->mu);
      impl_->free.push_back(std::move(db_));
      impl_->cv.notify_one();
    }
    store::Database& operator*() { return db_; }
    store::Database* operator->() { return &db_; }

   private:
    Impl* impl_;
    store::Database db_;
  };

  Lease lease() {
    std::unique_lock lock(mu);
    cv.wait(lock, [&] { return !free.empty(); });
    store::Database db = std::move(free.back());
    free.pop_back();
    return Lease(this, std::move(db));
  }

  Options options;
  std::mutex mu;
  std::condition_variable cv;
  std::vector<store::Database> free;
  std::mutex write_mu;

  // Parsed current baselines by group, checked against the newest stored
  // version on each use (an indexed lookup), so another process's new version
  // is never missed and the JSON is not parsed per attestation.
  std::mutex cache_mu;
  std::map<std::string, std::shared_ptr<const policy::Baseline>> baseline_cache;
};

}  // namespace tl::fleet
