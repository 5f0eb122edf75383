// API strings, JSON renderings and strict request decoding (docs/fleet-api.md).
#include <cstdint>
#include <set>

#include "common/rfc3339.h"
#include "fleet/fleet.h"
#include "fleet/internal.h"

namespace tl::fleet {

const char* health_name(Health h) {
  switch (h) {
    case Health::healthy: return "Healthy";
    case Health::unhealthy: return "Unhealthy";
    case Health::unknown: return "Unknown";
    case Health::pending: return "Pending";
  }
  return "Unknown";
}

const char* security_type_name(SecurityType t) {
  return t == SecurityType::trusted_launch ? "TrustedLaunch" : "Standard";
}

const char* power_state_name(PowerState p) { return p == PowerState::running ? "Running" : "Stopped"; }

const char* host_event_kind_name(HostEventKind k) {
  switch (k) {
    case HostEventKind::boot_refused: return "boot-refused";
    case HostEventKind::vm_crashed: return "vm-crashed";
    case HostEventKind::vtpm_crashed: return "vtpm-crashed";
  }
  return "boot-refused";
}

namespace detail {

std::optional<Health> health_from_name(const std::string& s) {
  for (Health h : {Health::healthy, Health::unhealthy, Health::unknown, Health::pending}) {
    if (s == health_name(h)) return h;
  }
  return std::nullopt;
}

std::optional<SecurityType> security_type_from_name(const std::string& s) {
  if (s == "TrustedLaunch") return SecurityType::trusted_launch;
  if (s == "Standard") return SecurityType::standard;
  return std::nullopt;
}

std::optional<PowerState> power_state_from_name(const std::string& s) {
  if (s == "Running") return PowerState::running;
  if (s == "Stopped") return PowerState::stopped;
  return std::nullopt;
}

bool valid_name(const std::string& s) {
  if (s.empty() || s.size() > 64) return false;
  for (unsigned char c : s) {
    const bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' ||
                    c == '_' || c == '-';
    if (!ok) return false;
  }
  return true;
}

}  // namespace detail

namespace {

nlohmann::json opt_time(const std::optional<int64_t>& t) {
  return t ? nlohmann::json(format_rfc3339(*t)) : nlohmann::json(nullptr);
}

nlohmann::json profile_json(const SecurityProfile& p) {
  return {{"securityType", security_type_name(p.security_type)},
          {"uefiSettings", {{"secureBootEnabled", p.secure_boot_enabled}}},
          {"enableTpm", p.tpm_enabled}};
}

}  // namespace

nlohmann::json to_json(const Vm& vm) {
  const AttestationStatus& s = vm.status;
  nlohmann::json props = {
      {"attestSecureBootEnabled", s.attest_secure_boot_enabled},
      {"attestationCertValidated", s.attestation_cert_validated},
      {"bootIntegrityValidated", s.boot_integrity_validated},
      {"healthStatus", health_name(s.health)},
      {"linuxKernelVersion", s.linux_kernel_version},
      {"errorMessage", s.error_message ? nlohmann::json(*s.error_message) : nlohmann::json(nullptr)},
      {"provisioningState", s.health == Health::pending ? "InProgress" : "Succeeded"},
      {"timestamp", opt_time(s.timestamp)},
  };
  nlohmann::json recs = nlohmann::json::array();
  for (const Recommendation& r : vm.recommendations) {
    recs.push_back({{"kind", r.kind}, {"severity", "Low"}, {"title", r.title}, {"detail", r.detail}});
  }
  return {
      {"name", vm.spec.name},
      {"id", vm.spec.resource_id},
      {"vmId", vm.spec.vm_id},
      {"group", vm.spec.group},
      {"securityProfile", profile_json(vm.spec.profile)},
      {"agentInstalled", vm.spec.agent_installed},
      {"powerState", power_state_name(vm.spec.power_state)},
      {"ekName", vm.ek_name ? nlohmann::json(*vm.ek_name) : nlohmann::json(nullptr)},
      {"registeredAt", format_rfc3339(vm.registered_at)},
      {"lastReportAt", opt_time(vm.last_report_at)},
      {"attestationStatus", {{"name", "default"}, {"type", "attestationStatus"}, {"properties", props}}},
      {"recommendations", recs},
      {"openAlerts", vm.open_alerts},
  };
}

nlohmann::json to_json(const Alert& a) {
  nlohmann::json devs = nlohmann::json::array();
  for (const policy::Deviation& d : a.deviations) devs.push_back(policy::to_json(d));
  return {
      {"id", a.id},
      {"kind", a.kind},
      {"severity", a.severity},
      {"title", a.title},
      {"vm", a.vm},
      {"group", a.group},
      {"state", a.open ? "open" : "resolved"},
      {"openedAt", format_rfc3339(a.opened_at)},
      {"lastSeenAt", format_rfc3339(a.last_seen_at)},
      {"resolvedAt", opt_time(a.resolved_at)},
      {"count", a.count},
      {"detail", a.detail},
      {"deviations", devs},
      {"suppressedBy", a.suppressed_by ? nlohmann::json(*a.suppressed_by) : nlohmann::json(nullptr)},
  };
}

nlohmann::json to_json(const Suppression& s) {
  auto opt = [](const std::optional<std::string>& v) { return v ? nlohmann::json(*v) : nlohmann::json(nullptr); };
  return {{"id", s.id},         {"group", opt(s.group)},   {"vm", opt(s.vm)},
          {"kind", opt(s.kind)}, {"reason", s.reason}, {"createdAt", format_rfc3339(s.created_at)}};
}

nlohmann::json to_json(const Summary& s) {
  return {
      {"vms", s.vms},
      {"healthStatus",
       {{"Healthy", s.healthy}, {"Unhealthy", s.unhealthy}, {"Unknown", s.unknown}, {"Pending", s.pending}}},
      {"alerts", {{"High", s.alerts_high}, {"Medium", s.alerts_medium}, {"Low", s.alerts_low}}},
      {"recommendations",
       {{"enable-secure-boot", s.rec_enable_secure_boot},
        {"enable-vtpm", s.rec_enable_vtpm},
        {"install-agent", s.rec_install_agent}}},
  };
}

// ---- Strict decoding ---------------------------------------------------------

namespace {

constexpr size_t kMaxResourceId = 512;
constexpr size_t kMaxVmId = 128;
constexpr size_t kMaxReason = 512;

// Decodes one request object: every member must be expected, of its type, and
// errors name the JSON path. `reason` is vm-invalid or suppression-invalid.
class Reader {
 public:
  Reader(const nlohmann::json& j, std::string path, std::string reason)
      : j_(j), path_(std::move(path)), reason_(std::move(reason)) {}

  Status object(std::initializer_list<const char*> allowed) const {
    if (!j_.is_object()) return fail(path_.empty() ? "the request body" : path_, "must be a JSON object");
    const std::set<std::string> ok(allowed.begin(), allowed.end());
    for (const auto& [key, value] : j_.items()) {
      if (!ok.contains(key)) return fail(at(key), "unknown member (allowed: " + join(allowed) + ")");
    }
    return {};
  }
  bool has(const char* key) const { return j_.contains(key); }
  const nlohmann::json& get(const char* key) const { return j_.at(key); }
  std::string at(const std::string& key) const { return path_.empty() ? key : path_ + "." + key; }

  Result<std::string> string(const char* key, size_t max) const {
    const nlohmann::json& v = j_.at(key);
    if (!v.is_string()) return fail(at(key), "must be a string");
    std::string s = v.get<std::string>();
    if (s.size() > max) return fail(at(key), "is " + std::to_string(s.size()) + " bytes, at most " +
                                                  std::to_string(max) + " allowed");
    for (unsigned char c : s) {
      if (c < 0x20 || c == 0x7f) return fail(at(key), "must not contain control characters");
    }
    return s;
  }
  Result<std::string> name(const char* key) const {
    const nlohmann::json& v = j_.at(key);
    if (!v.is_string()) return fail(at(key), "must be a string");
    std::string s = v.get<std::string>();
    if (!detail::valid_name(s)) return fail(at(key), "must be 1-64 characters of A-Z a-z 0-9 . _ -");
    return s;
  }
  Result<bool> boolean(const char* key) const {
    const nlohmann::json& v = j_.at(key);
    if (!v.is_boolean()) return fail(at(key), "must be true or false");
    return v.get<bool>();
  }
  Error fail(const std::string& where, const std::string& what) const { return Error{where + ": " + what, reason_}; }
  const std::string& reason() const { return reason_; }

 private:
  static std::string join(std::initializer_list<const char*> names) {
    std::string out;
    for (const char* n : names) out += (out.empty() ? "" : ", ") + std::string(n);
    return out;
  }
  const nlohmann::json& j_;
  std::string path_;
  std::string reason_;
};

Result<SecurityProfile> profile_from_json(const nlohmann::json& j, const std::string& path) {
  Reader r(j, path, "vm-invalid");
  TL_FLEET_TRY(r.object({"securityType", "uefiSettings", "enableTpm"}));
  SecurityProfile p;
  if (!r.has("securityType")) return r.fail(r.at("securityType"), "is required (TrustedLaunch or Standard)");
  TL_FLEET_ASSIGN(type, r.string("securityType", 64));
  const auto t = detail::security_type_from_name(type);
  if (!t) return r.fail(r.at("securityType"), "must be TrustedLaunch or Standard");
  p.security_type = *t;
  if (r.has("uefiSettings")) {
    Reader u(r.get("uefiSettings"), r.at("uefiSettings"), "vm-invalid");
    TL_FLEET_TRY(u.object({"secureBootEnabled"}));
    if (u.has("secureBootEnabled")) {
      TL_FLEET_ASSIGN(sb, u.boolean("secureBootEnabled"));
      p.secure_boot_enabled = sb;
    }
  }
  if (r.has("enableTpm")) {
    TL_FLEET_ASSIGN(tpm, r.boolean("enableTpm"));
    p.tpm_enabled = tpm;
  }
  // A Standard VM has neither Secure Boot nor a vTPM from the platform.
  if (p.security_type == SecurityType::standard && !r.has("uefiSettings")) p.secure_boot_enabled = false;
  if (p.security_type == SecurityType::standard && !r.has("enableTpm")) p.tpm_enabled = false;
  return p;
}

Result<PowerState> power_from(const Reader& r) {
  TL_FLEET_ASSIGN(s, r.string("powerState", 16));
  const auto p = detail::power_state_from_name(s);
  if (!p) return r.fail(r.at("powerState"), "must be Running or Stopped");
  return *p;
}

}  // namespace

Result<VmSpec> vm_spec_from_json(const nlohmann::json& j) {
  Reader r(j, "", "vm-invalid");
  TL_FLEET_TRY(r.object({"name", "id", "vmId", "group", "securityProfile", "agentInstalled", "powerState"}));
  VmSpec s;
  for (const char* required : {"name", "vmId", "group", "securityProfile"}) {
    if (!r.has(required)) return r.fail(required, "is required");
  }
  TL_FLEET_ASSIGN(name, r.name("name"));
  s.name = std::move(name);
  if (r.has("id")) {
    TL_FLEET_ASSIGN(id, r.string("id", kMaxResourceId));
    s.resource_id = std::move(id);
  }
  TL_FLEET_ASSIGN(vm_id, r.string("vmId", kMaxVmId));
  if (vm_id.empty()) return r.fail("vmId", "must not be empty");
  s.vm_id = std::move(vm_id);
  TL_FLEET_ASSIGN(group, r.name("group"));
  s.group = std::move(group);
  TL_FLEET_ASSIGN(profile, profile_from_json(r.get("securityProfile"), "securityProfile"));
  s.profile = profile;
  if (r.has("agentInstalled")) {
    TL_FLEET_ASSIGN(a, r.boolean("agentInstalled"));
    s.agent_installed = a;
  }
  if (r.has("powerState")) {
    TL_FLEET_ASSIGN(p, power_from(r));
    s.power_state = p;
  }
  return s;
}

Result<VmPatch> vm_patch_from_json(const nlohmann::json& j) {
  Reader r(j, "", "vm-invalid");
  TL_FLEET_TRY(r.object({"id", "group", "securityProfile", "agentInstalled", "powerState", "unbindEk"}));
  VmPatch p;
  if (r.has("id")) {
    TL_FLEET_ASSIGN(id, r.string("id", kMaxResourceId));
    p.resource_id = std::move(id);
  }
  if (r.has("group")) {
    TL_FLEET_ASSIGN(group, r.name("group"));
    p.group = std::move(group);
  }
  if (r.has("securityProfile")) {
    TL_FLEET_ASSIGN(profile, profile_from_json(r.get("securityProfile"), "securityProfile"));
    p.profile = profile;
  }
  if (r.has("agentInstalled")) {
    TL_FLEET_ASSIGN(a, r.boolean("agentInstalled"));
    p.agent_installed = a;
  }
  if (r.has("powerState")) {
    TL_FLEET_ASSIGN(ps, power_from(r));
    p.power_state = ps;
  }
  if (r.has("unbindEk")) {
    TL_FLEET_ASSIGN(u, r.boolean("unbindEk"));
    p.unbind_ek = u;
  }
  return p;
}

Result<Suppression> suppression_from_json(const nlohmann::json& j) {
  Reader r(j, "", "suppression-invalid");
  TL_FLEET_TRY(r.object({"group", "vm", "kind", "reason"}));
  Suppression s;
  if (r.has("group")) {
    TL_FLEET_ASSIGN(g, r.name("group"));
    s.group = std::move(g);
  }
  if (r.has("vm")) {
    TL_FLEET_ASSIGN(v, r.name("vm"));
    s.vm = std::move(v);
  }
  if (r.has("kind")) {
    TL_FLEET_ASSIGN(k, r.string("kind", 64));
    if (!detail::is_alert_kind(k)) {
      return r.fail("kind", "must be " + detail::alert_kinds_text());
    }
    s.kind = std::move(k);
  }
  if (!s.group && !s.vm && !s.kind) return r.fail("the request body", "needs at least one of group, vm, kind");
  if (!r.has("reason")) return r.fail("reason", "is required (why these alerts are silenced)");
  TL_FLEET_ASSIGN(reason, r.string("reason", kMaxReason));
  if (reason.empty()) return r.fail("reason", "must not be empty");
  s.reason = std::move(reason);
  return s;
}

Result<HostEvent> host_event_from_json(const nlohmann::json& j) {
  Reader r(j, "", "vm-invalid");
  TL_FLEET_TRY(r.object({"kind", "detail", "at"}));
  HostEvent e;
  if (!r.has("kind")) return r.fail("kind", "is required (boot-refused, vm-crashed or vtpm-crashed)");
  TL_FLEET_ASSIGN(kind, r.string("kind", 64));
  bool known = false;
  for (HostEventKind k : {HostEventKind::boot_refused, HostEventKind::vm_crashed, HostEventKind::vtpm_crashed}) {
    if (kind == host_event_kind_name(k)) {
      e.kind = k;
      known = true;
    }
  }
  if (!known) return r.fail("kind", "must be boot-refused, vm-crashed or vtpm-crashed");
  if (!r.has("detail")) return r.fail("detail", "is required (what the host saw, e.g. the firmware's message)");
  // Control characters are refused (Reader::string): the detail ends up in
  // errorMessage and in terminal tables; join console lines with "; ".
  TL_FLEET_ASSIGN(detail, r.string("detail", kMaxHostEventDetail));
  if (detail.find_first_not_of(' ') == std::string::npos) return r.fail("detail", "must not be empty");
  e.detail = std::move(detail);
  if (r.has("at")) {
    const nlohmann::json& at = r.get("at");
    // Whole seconds only: 1.5 or "2026-…" would be a client bug worth naming.
    if (!at.is_number_integer()) return r.fail("at", "must be an integer (unix seconds)");
    const bool too_big = at.is_number_unsigned() && at.get<uint64_t>() > static_cast<uint64_t>(INT64_MAX);
    if (too_big || at.get<int64_t>() <= 0) return r.fail("at", "must be a positive number of unix seconds");
    e.at = at.get<int64_t>();
  }
  return e;
}

}  // namespace tl::fleet
