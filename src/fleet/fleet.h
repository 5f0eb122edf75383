// The fleet monitor: VM inventory, each VM's attestation status (Azure Local's
// shape), trusted baselines per group, alerts (stored, de-duplicated,
// suppressible, queued for webhooks), recommendations and the fleet summary.
// State lives in tlaunchd's SQLite database (schema v4 "fleet",
// docs/store.md); JSON shapes are docs/fleet-api.md's.
//
// Only verified state decides: a VM's status changes on a
// verify::VerifiedAttestation, on a rejection that happened after its quote
// verified under the enrolled AK (so the VM's TPM signed what failed), on
// staleness, or on a report from the VM's host that it did not boot or crashed
// (which can only make the status worse, never Healthy). A quote that does not verify under the VM's AK raises
// "quote-not-from-vtpm" but leaves the status alone: anyone can submit one.
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/result.h"
#include "policy/baseline.h"

namespace tl::verify {
class VerifiedAttestation;
}

namespace tl::fleet {

enum class SecurityType { trusted_launch, standard };  // "TrustedLaunch" | "Standard"
enum class PowerState { running, stopped };            // "Running" | "Stopped"
enum class Health { healthy, unhealthy, unknown, pending };  // "Healthy" … "Pending"

struct SecurityProfile {
  SecurityType security_type = SecurityType::trusted_launch;
  bool secure_boot_enabled = true;  // uefiSettings.secureBootEnabled
  bool tpm_enabled = true;          // enableTpm
};

struct VmSpec {
  std::string name;
  std::string resource_id;  // "id"
  std::string vm_id;        // what the agent reports
  std::string group;
  SecurityProfile profile;
  bool agent_installed = true;
  PowerState power_state = PowerState::running;
};

// PATCH /vms/{name}: absent fields stay.
struct VmPatch {
  std::optional<std::string> resource_id;
  std::optional<std::string> group;
  std::optional<SecurityProfile> profile;
  std::optional<bool> agent_installed;
  std::optional<PowerState> power_state;
  bool unbind_ek = false;  // the next verified attestation binds the VM to its EK anew
};

// attestationStatus.properties; tri-states as their API strings.
struct AttestationStatus {
  std::string attest_secure_boot_enabled = "Unknown";  // Enabled | Disabled | Unknown
  std::string attestation_cert_validated = "Unknown";  // Valid | Invalid | Unknown
  std::string boot_integrity_validated = "Unknown";    // Valid | Invalid | Unknown
  Health health = Health::pending;
  std::string linux_kernel_version;                    // "0" for non-Linux guests
  std::optional<std::string> error_message;
  std::optional<int64_t> timestamp;  // last validated attestation (unix seconds)
};

struct Recommendation {
  std::string kind;  // "enable-secure-boot" | "enable-vtpm" | "install-agent"
  std::string title;
  std::string detail;
};

struct Vm {
  VmSpec spec;
  std::optional<std::string> ek_name;  // hex; bound at the first verified attestation
  int64_t registered_at = 0;
  std::optional<int64_t> last_report_at;  // last attestation attempt of any outcome
  AttestationStatus status;
  std::vector<Recommendation> recommendations;
  int64_t open_alerts = 0;
};

struct Alert {
  int64_t id = 0;
  std::string kind;      // attestation-failed | quote-not-from-vtpm | attestation-stale | untrusted-kernel-module
                         // | boot-refused | vm-crashed | vtpm-crashed
  std::string severity;  // "High" | "Medium" | "Low"
  std::string title;
  std::string vm;        // VM name
  std::string group;
  bool open = true;
  int64_t opened_at = 0, last_seen_at = 0;
  std::optional<int64_t> resolved_at;
  int64_t count = 1;
  std::string detail;
  std::vector<policy::Deviation> deviations;
  std::optional<int64_t> suppressed_by;
};

struct Suppression {
  int64_t id = 0;
  std::optional<std::string> group, vm, kind;  // at least one; all given must match
  std::string reason;
  int64_t created_at = 0;
};

// What the VM's host saw happen to it (POST /vms/{name}/host-events): the
// operator's own host layer reports, never the VM. A VM that did not boot
// cannot attest, so only its host can say so.
enum class HostEventKind {
  boot_refused,  // "boot-refused": Secure Boot refused the boot chain
  vm_crashed,    // "vm-crashed": QEMU exited without being asked to
  vtpm_crashed,  // "vtpm-crashed": the VM's swtpm exited without being asked to
};
struct HostEvent {
  HostEventKind kind = HostEventKind::boot_refused;
  std::string detail;           // what the host saw, e.g. the firmware's or GRUB's message
  std::optional<int64_t> at;    // when (unix seconds); absent: when tlaunchd receives it
};
inline constexpr size_t kMaxHostEventDetail = 1024;  // bytes
// How far `at` may lie ahead of tlaunchd's clock (host clock skew); later is refused.
inline constexpr int64_t kHostEventMaxSkewSeconds = 300;

struct Summary {
  int64_t vms = 0;
  int64_t healthy = 0, unhealthy = 0, unknown = 0, pending = 0;
  int64_t alerts_high = 0, alerts_medium = 0, alerts_low = 0;  // open, unsuppressed
  int64_t rec_enable_secure_boot = 0, rec_enable_vtpm = 0, rec_install_agent = 0;
};

struct VmQuery {
  std::optional<std::string> group;
  std::optional<Health> health;
  int limit = 100;
  std::optional<std::string> after;  // name
};
struct AlertQuery {
  enum class State { open, resolved, all } state = State::open;
  std::optional<std::string> vm;
  std::optional<std::string> severity;
  int limit = 100;
  std::optional<int64_t> after;  // id
};
template <typename T, typename Cursor>
struct Page {
  std::vector<T> items;
  std::optional<Cursor> next_after;
};

struct Options {
  int64_t refresh_window_seconds = 8 * 3600;
  unsigned connections = 4;
};

class Fleet {
 public:
  // Opens the database (migrated by server::Repository::open first, or here).
  static Result<std::unique_ptr<Fleet>> open(const std::filesystem::path& db, Options options);
  ~Fleet();

  // Inventory. Errors carry reasons vm-invalid (field named), vm-exists, vm-not-found.
  Result<Vm> register_vm(const VmSpec& spec, int64_t now);
  // A profile change re-derives health from the attested tri-states; a group
  // change makes a VM with a status Unknown (docs/fleet.md).
  Result<Vm> update_vm(const std::string& name, const VmPatch& patch, int64_t now);
  Result<std::optional<Vm>> find(const std::string& name, int64_t now);
  Result<std::optional<Vm>> find_by_vm_id(const std::string& vm_id, int64_t now);
  Result<Page<Vm, std::string>> list(const VmQuery& q, int64_t now);
  Status remove(const std::string& name, int64_t now);  // resolves its open alerts

  // The current baseline of the VM's group (nullptr: VM unregistered or no
  // baseline). The service passes it to verify_attestation.
  Result<std::shared_ptr<const policy::Baseline>> baseline_for_vm(const std::string& vm_id);

  // Outcomes of attestations (service::attest). nullopt: vm_id is not
  // registered (nothing recorded). record_verified also learns the group's
  // first baseline when learning is on, the group has none, and this
  // attestation has Secure Boot Enabled and attestationCertValidated Valid.
  Result<std::optional<Vm>> record_verified(const verify::VerifiedAttestation& att, const std::string& ek_name_hex,
                                            bool ek_certificate_validated, int64_t now);
  // `rejection.reason` decides (docs/fleet.md): quote-* signature/AK reasons →
  // quote-not-from-vtpm alert, status kept; failures after the quote verified
  // (eventlog-*, runtime-key-*, …) → Unhealthy + attestation-failed; anything
  // else (challenge-*, unavailable, …) → nothing recorded.
  Result<std::optional<Vm>> record_rejected(const std::string& vm_id, const Error& rejection, int64_t now);

  // A report from the VM's host (docs/fleet.md "Host events"). It can only
  // make the status worse, never Healthy: boot-refused → Unhealthy,
  // bootIntegrityValidated Invalid, boot-refused alert (High), out of the
  // staleness sweep; vm-crashed / vtpm-crashed → powerState Stopped, Unknown
  // (an Unhealthy VM stays Unhealthy), their alert (Medium). Reasons:
  // vm-not-found, vm-invalid (`at` too far in the future), unavailable.
  Result<Vm> record_host_event(const std::string& name, const HostEvent& event, int64_t now);

  // Running VMs with a status older than the refresh window (or Pending and
  // registered longer than it) become Unknown with an attestation-stale alert.
  // Returns how many changed. Cost grows with the number that change, not the fleet.
  Result<int64_t> sweep_stale(int64_t now);

  // Baselines. mode add_variant copies the newest version's variants into a new
  // version and adds this one (same name replaces); new_version starts afresh.
  enum class BaselineMode { new_version, add_variant };
  Result<policy::Baseline> add_baseline(const std::string& group, policy::BaselineVariant variant,
                                        const std::vector<uint32_t>& pcrs, BaselineMode mode, int64_t now);
  Result<std::optional<policy::Baseline>> baseline(const std::string& group, std::optional<int> version);
  struct BaselineInfo {
    std::string group;
    int version = 0;  // 0: none yet (learning on)
    std::vector<std::string> variants;
    bool learning = false;
    int64_t created_at = 0;
  };
  Result<std::vector<BaselineInfo>> baselines();
  Status set_learning(const std::string& group, bool enabled);

  // Alerts, suppressions, recommendations, summary.
  Result<Page<Alert, int64_t>> alerts(const AlertQuery& q);
  Result<Suppression> add_suppression(const Suppression& s, int64_t now);  // re-evaluates open alerts
  Result<std::vector<Suppression>> suppressions();
  Status remove_suppression(int64_t id);  // reason suppression-not-found
  struct RecommendationRow {
    std::string vm;
    Recommendation rec;
  };
  Result<Page<RecommendationRow, std::string>> recommendations(std::optional<std::string> kind, int limit,
                                                               std::optional<std::string> after);
  Result<Summary> summary();

 private:
  struct Impl;
  explicit Fleet(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// API strings and JSON (docs/fleet-api.md).
const char* health_name(Health h);
const char* security_type_name(SecurityType t);
const char* power_state_name(PowerState p);
const char* host_event_kind_name(HostEventKind k);  // "boot-refused" | "vm-crashed" | "vtpm-crashed"
nlohmann::json to_json(const Vm& vm);
nlohmann::json to_json(const Alert& a);
nlohmann::json to_json(const Suppression& s);
nlohmann::json to_json(const Summary& s);
// Strict request decoding (unknown members and wrong types refused, the JSON
// path named; reason vm-invalid / suppression-invalid).
Result<VmSpec> vm_spec_from_json(const nlohmann::json& j);
Result<VmPatch> vm_patch_from_json(const nlohmann::json& j);
Result<Suppression> suppression_from_json(const nlohmann::json& j);
// {"kind", "detail", "at"?}: reason vm-invalid, the member named.
Result<HostEvent> host_event_from_json(const nlohmann::json& j);

}  // namespace tl::fleet
