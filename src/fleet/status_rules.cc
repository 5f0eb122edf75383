// The pure rules of docs/fleet.md: verified facts → attestation status,
// rejection reason → what it means for the VM, VM state → recommendations.
// No storage, no clock: the tests drive them with tables.
#include <string_view>

#include "fleet/internal.h"

namespace tl::fleet::detail {

namespace {

bool starts_with(std::string_view s, std::string_view prefix) { return s.substr(0, prefix.size()) == prefix; }
bool ends_with(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

}  // namespace

AttestationStatus status_from_verified(const VerifiedFacts& f, const SecurityProfile& profile, int64_t now) {
  AttestationStatus s;
  s.timestamp = now;
  s.attest_secure_boot_enabled = f.secure_boot == "enabled"    ? "Enabled"
                                 : f.secure_boot == "disabled" ? "Disabled"
                                                               : "Unknown";
  s.attestation_cert_validated = f.ek_certificate_validated && f.ek_matches_binding ? "Valid" : "Invalid";
  if (!f.baseline_matched) {
    s.boot_integrity_validated = "Unknown";
  } else {
    s.boot_integrity_validated = *f.baseline_matched ? "Valid" : "Invalid";
  }
  if (f.os_type != "Linux") {
    s.linux_kernel_version = "0";
  } else {
    s.linux_kernel_version = f.verified_kernel_version ? *f.verified_kernel_version : f.reported_kernel_release;
  }

  const bool healthy = s.attest_secure_boot_enabled == "Enabled" && profile.tpm_enabled &&
                       s.attestation_cert_validated == "Valid" && s.boot_integrity_validated == "Valid";
  s.health = healthy ? Health::healthy : Health::unhealthy;
  if (healthy) return s;

  // errorMessage: the first reason in the order an operator should fix them;
  // the boot deviation comes first because it is the one that may mean compromise.
  if (f.baseline_matched && !*f.baseline_matched) {
    s.error_message = "boot integrity: " + f.first_deviation;
  } else if (!f.ek_matches_binding) {
    s.error_message =
        "the attestation came from a different TPM (EK) than the one this VM is bound to; if the vTPM was "
        "replaced on purpose, PATCH the VM with unbindEk: true";
  } else if (!f.ek_certificate_validated) {
    s.error_message = "the VM's EK certificate does not chain to a configured CA, so its vTPM cannot be trusted";
  } else if (s.attest_secure_boot_enabled != "Enabled") {
    s.error_message = s.attest_secure_boot_enabled == "Disabled"
                          ? "Secure Boot is disabled in the attested boot"
                          : "the attested boot does not show the Secure Boot state (" + f.secure_boot + ")";
  } else if (!profile.tpm_enabled) {
    s.error_message = kTpmDisabledMessage;
  } else {
    s.error_message = "no baseline for group " + f.group +
                      ": create one (tlaunch baseline create " + f.group +
                      " --from-eventlog FILE) or turn learning on (PUT /baselines/" + f.group + "/learning)";
  }
  return s;
}

const char* host_event_alert_kind(HostEventKind k) {
  switch (k) {
    case HostEventKind::boot_refused: return kBootRefused;
    case HostEventKind::vm_crashed: return kVmCrashed;
    case HostEventKind::vtpm_crashed: return kVtpmCrashed;
  }
  return kBootRefused;
}

// A host event is the operator's own host speaking, never the VM, and nothing
// in it was attested: it may only make the status worse (fail closed).
// - boot-refused: the boot chain did not run, so what was attested before
//   (if anything) is no longer what runs. attestSecureBootEnabled stays as it
//   was: the firmware did enforce Secure Boot, but that was not attested.
// - a crash says nothing about the boot that was attested: Unknown until the
//   VM boots and attests again; but a VM already Unhealthy stays Unhealthy
//   with its reason, so a crash never hides a known-bad boot behind Unknown.
AttestationStatus status_after_host_event(const AttestationStatus& before, const HostEvent& e) {
  AttestationStatus s = before;
  switch (e.kind) {
    case HostEventKind::boot_refused:
      s.health = Health::unhealthy;
      s.boot_integrity_validated = "Invalid";
      s.error_message = "the VM did not boot: Secure Boot refused its boot chain (" + e.detail + ")";
      break;
    case HostEventKind::vm_crashed:
    case HostEventKind::vtpm_crashed:
      if (s.health == Health::unhealthy) break;
      s.health = Health::unknown;
      s.error_message = std::string(e.kind == HostEventKind::vm_crashed ? "the VM crashed" : "the VM's vTPM crashed") +
                        kHostReportMarker + e.detail + "): its status is unknown until it boots and attests again";
      break;
  }
  return s;
}

// Which rejections the VM's TPM stands behind. verify_attestation checks, in
// order: identity (vm-id-mismatch, ak-*), banks (*-bank-required,
// bank-not-allowed), the quote (tpm::verify_quote: attest-parse,
// signature-parse, magic, type, nonce, ak-attributes, signature-scheme,
// signature, then pcr-selection, pcr-values, pcr-digest; its reason is the
// first failing check), the evidence nonce member, then the event log and the
// runtime key. Only failures after "quote-signature" passed were signed by the
// VM's AK. Adjusted from the brief:
// - *-bank-required / bank-not-allowed are checked before the quote, so anyone
//   could send them: ignored, not Unhealthy.
// - evidence-nonce-mismatch is checked after the quote verified for the
//   expected challenge: the TPM did sign it, the agent's "nonce" member is
//   wrong. That is neither a foreign quote nor a boot failure: ignored.
// - quote-nonce and every quote check before "signature" mean the quote was
//   not shown to be the VM's TPM's answer to this challenge: not-from-vtpm.
// - quote-pcr-values joins quote-pcr-selection / quote-pcr-digest (after the
//   signature in tpm::verify_quote's order).
// - verifier-internal (a step the verifier could not run, e.g. a hash OpenSSL
//   lacks) says nothing about the VM either way: the issue's "transient
//   failure", so Unknown until the next report.
RejectionClass classify_rejection(const std::string& r) {
  if (r == "verifier-internal") return RejectionClass::transient;
  if (r == "quote-pcr-selection" || r == "quote-pcr-values" || r == "quote-pcr-digest") {
    return RejectionClass::after_quote;
  }
  if (starts_with(r, "eventlog-") || starts_with(r, "runtime-key-")) return RejectionClass::after_quote;
  if (starts_with(r, "quote-") || starts_with(r, "ak-") || r == "vm-id-mismatch") {
    return RejectionClass::not_from_vtpm;
  }
  if (ends_with(r, "-bank-required") || r == "bank-not-allowed" || r == "evidence-nonce-mismatch") {
    return RejectionClass::ignored;
  }
  return RejectionClass::ignored;
}

std::vector<Recommendation> recommendations_for(const SecurityProfile& profile, bool agent_installed,
                                                const AttestationStatus& status, bool stale_never_attested) {
  std::vector<Recommendation> out;
  if (profile.security_type != SecurityType::trusted_launch) return out;
  if (!profile.secure_boot_enabled || status.attest_secure_boot_enabled == "Disabled") {
    out.push_back({kRecEnableSecureBoot, "Enable Secure Boot",
                   !profile.secure_boot_enabled
                       ? "the VM's security profile supports Secure Boot but has it off "
                         "(uefiSettings.secureBootEnabled: false)"
                       : "the VM's attested boot ran with Secure Boot disabled"});
  }
  if (!profile.tpm_enabled) {
    out.push_back({kRecEnableVtpm, "Enable vTPM",
                   "the VM's security profile supports a vTPM but has it off (enableTpm: false)"});
  }
  if (profile.secure_boot_enabled && profile.tpm_enabled && (!agent_installed || stale_never_attested)) {
    out.push_back({kRecInstallAgent, "Install the guest attestation agent",
                   !agent_installed ? "Secure Boot and vTPM are on but the attestation agent is not installed"
                                    : "Secure Boot and vTPM are on but no attestation arrived within the "
                                      "refresh window of registration: install or repair tlaunch-agent"});
  }
  return out;
}

}  // namespace tl::fleet::detail
