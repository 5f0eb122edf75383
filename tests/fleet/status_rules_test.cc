// The pure rules of docs/fleet.md, table by table: verified facts → status,
// rejection reason → class, VM state → recommendations.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "fleet/internal.h"

namespace tl::fleet::detail {
namespace {

VerifiedFacts good() {
  VerifiedFacts f;
  f.secure_boot = "enabled";
  f.ek_certificate_validated = true;
  f.ek_matches_binding = true;
  f.baseline_matched = true;
  f.group = "pool-a";
  f.os_type = "Linux";
  f.verified_kernel_version = "6.1.0-27-amd64";
  f.reported_kernel_release = "6.1.0-99-amd64";
  return f;
}

struct StatusCase {
  const char* name;
  void (*edit)(VerifiedFacts&, SecurityProfile&);
  const char* sb;
  const char* cert;
  const char* boot;
  Health health;
  const char* error_contains;  // "" = no error message
};

TEST(StatusRules, Table) {
  const StatusCase cases[] = {
      {"all good", [](VerifiedFacts&, SecurityProfile&) {}, "Enabled", "Valid", "Valid", Health::healthy, ""},
      {"secure boot disabled", [](VerifiedFacts& f, SecurityProfile&) { f.secure_boot = "disabled"; }, "Disabled",
       "Valid", "Valid", Health::unhealthy, "Secure Boot is disabled"},
      {"secure boot absent", [](VerifiedFacts& f, SecurityProfile&) { f.secure_boot = "absent"; }, "Unknown", "Valid",
       "Valid", Health::unhealthy, "does not show the Secure Boot state (absent)"},
      {"secure boot malformed", [](VerifiedFacts& f, SecurityProfile&) { f.secure_boot = "malformed"; }, "Unknown",
       "Valid", "Valid", Health::unhealthy, "malformed"},
      {"uncertified EK", [](VerifiedFacts& f, SecurityProfile&) { f.ek_certificate_validated = false; }, "Enabled",
       "Invalid", "Valid", Health::unhealthy, "EK certificate does not chain"},
      {"other EK", [](VerifiedFacts& f, SecurityProfile&) { f.ek_matches_binding = false; }, "Enabled", "Invalid",
       "Valid", Health::unhealthy, "different TPM (EK)"},
      {"deviation", [](VerifiedFacts& f, SecurityProfile&) {
         f.baseline_matched = false;
         f.first_deviation = "PCR 4 event 23 EV_EFI_BOOT_SERVICES_APPLICATION x: expected sha256 aa, got bb";
       },
       "Enabled", "Valid", "Invalid", Health::unhealthy, "boot integrity: PCR 4 event 23"},
      {"no baseline", [](VerifiedFacts& f, SecurityProfile&) { f.baseline_matched.reset(); }, "Enabled", "Valid",
       "Unknown", Health::unhealthy, "no baseline for group pool-a: create one"},
      {"vTPM off in profile", [](VerifiedFacts&, SecurityProfile& p) { p.tpm_enabled = false; }, "Enabled", "Valid",
       "Valid", Health::unhealthy, "enableTpm: false"},
      // The deviation is reported before the lesser problems.
      {"deviation and SB off", [](VerifiedFacts& f, SecurityProfile&) {
         f.baseline_matched = false;
         f.first_deviation = "PCR 7 …";
         f.secure_boot = "disabled";
       },
       "Disabled", "Valid", "Invalid", Health::unhealthy, "boot integrity: PCR 7"},
  };
  for (const StatusCase& c : cases) {
    SCOPED_TRACE(c.name);
    VerifiedFacts f = good();
    SecurityProfile p;
    c.edit(f, p);
    const AttestationStatus s = status_from_verified(f, p, 1700000000);
    EXPECT_EQ(s.attest_secure_boot_enabled, c.sb);
    EXPECT_EQ(s.attestation_cert_validated, c.cert);
    EXPECT_EQ(s.boot_integrity_validated, c.boot);
    EXPECT_EQ(s.health, c.health);
    ASSERT_TRUE(s.timestamp.has_value());
    EXPECT_EQ(*s.timestamp, 1700000000);
    if (std::string(c.error_contains).empty()) {
      EXPECT_FALSE(s.error_message.has_value()) << *s.error_message;
    } else {
      ASSERT_TRUE(s.error_message.has_value());
      EXPECT_NE(s.error_message->find(c.error_contains), std::string::npos) << *s.error_message;
    }
  }
}

TEST(StatusRules, KernelVersion) {
  VerifiedFacts f = good();
  EXPECT_EQ(status_from_verified(f, {}, 0).linux_kernel_version, "6.1.0-27-amd64");  // measured wins
  f.verified_kernel_version.reset();
  EXPECT_EQ(status_from_verified(f, {}, 0).linux_kernel_version, "6.1.0-99-amd64");  // else self-reported
  f.reported_kernel_release.clear();
  EXPECT_EQ(status_from_verified(f, {}, 0).linux_kernel_version, "");  // Linux that did not say
  f.os_type = "Windows";
  f.verified_kernel_version = "6.1.0";
  EXPECT_EQ(status_from_verified(f, {}, 0).linux_kernel_version, "0");
}

TEST(StatusRules, RejectionClasses) {
  const std::pair<const char*, RejectionClass> cases[] = {
      {"ak-mismatch", RejectionClass::not_from_vtpm},
      {"ak-malformed", RejectionClass::not_from_vtpm},
      {"ak-not-restricted-signing", RejectionClass::not_from_vtpm},
      {"vm-id-mismatch", RejectionClass::not_from_vtpm},
      {"quote-signature", RejectionClass::not_from_vtpm},
      {"quote-signature-parse", RejectionClass::not_from_vtpm},
      {"quote-attest-parse", RejectionClass::not_from_vtpm},
      {"quote-magic", RejectionClass::not_from_vtpm},
      {"quote-nonce", RejectionClass::not_from_vtpm},
      {"quote-malformed", RejectionClass::not_from_vtpm},
      {"quote-pcr-selection", RejectionClass::after_quote},
      {"quote-pcr-values", RejectionClass::after_quote},
      {"quote-pcr-digest", RejectionClass::after_quote},
      {"eventlog-malformed", RejectionClass::after_quote},
      {"eventlog-replay-mismatch", RejectionClass::after_quote},
      {"eventlog-check-failed", RejectionClass::after_quote},
      {"runtime-key-missing", RejectionClass::after_quote},
      {"runtime-key-certify", RejectionClass::after_quote},
      {"sha256-bank-required", RejectionClass::ignored},
      {"bank-not-allowed", RejectionClass::ignored},
      {"evidence-nonce-mismatch", RejectionClass::ignored},
      {"evidence-malformed", RejectionClass::ignored},
      {"challenge-expired", RejectionClass::ignored},
      {"unavailable", RejectionClass::ignored},
      {"verifier-internal", RejectionClass::transient},
      {"", RejectionClass::ignored},
  };
  for (const auto& [reason, cls] : cases) {
    EXPECT_EQ(classify_rejection(reason), cls) << reason;
  }
}

// A Healthy status as status_from_verified makes it.
AttestationStatus healthy_status() { return status_from_verified(good(), SecurityProfile{}, 1700000000); }

AttestationStatus with_health(Health h) {
  AttestationStatus s;
  s.health = h;
  if (h == Health::healthy) s = healthy_status();
  if (h == Health::unhealthy) {
    s = healthy_status();
    s.health = Health::unhealthy;
    s.boot_integrity_validated = "Invalid";
    s.error_message = "boot integrity: PCR 4 event 23";
  }
  if (h == Health::unknown) s.error_message = "no valid attestation since …";
  return s;
}

TEST(HostEventRules, BootRefusedIsUnhealthyInvalidAndKeepsWhatWasNotAttested) {
  HostEvent e;
  e.kind = HostEventKind::boot_refused;
  e.detail = "grub: error: bad shim signature.";
  for (Health before : {Health::pending, Health::healthy, Health::unhealthy, Health::unknown}) {
    SCOPED_TRACE(health_name(before));
    const AttestationStatus b = with_health(before);
    const AttestationStatus s = status_after_host_event(b, e);
    EXPECT_EQ(s.health, Health::unhealthy);
    EXPECT_EQ(s.boot_integrity_validated, "Invalid");
    EXPECT_EQ(s.error_message, "the VM did not boot: Secure Boot refused its boot chain (grub: error: bad shim signature.)");
    // The firmware enforced Secure Boot, but nothing was attested: kept as it was.
    EXPECT_EQ(s.attest_secure_boot_enabled, b.attest_secure_boot_enabled);
    EXPECT_EQ(s.attestation_cert_validated, b.attestation_cert_validated);
    EXPECT_EQ(s.linux_kernel_version, b.linux_kernel_version);
    EXPECT_EQ(s.timestamp, b.timestamp);
  }
  EXPECT_EQ(status_after_host_event(AttestationStatus{}, e).attest_secure_boot_enabled, "Unknown");
}

TEST(HostEventRules, CrashesAreUnknownUnlessAlreadyUnhealthy) {
  for (HostEventKind k : {HostEventKind::vm_crashed, HostEventKind::vtpm_crashed}) {
    HostEvent e;
    e.kind = k;
    e.detail = "exited with signal 9";
    const char* what = k == HostEventKind::vm_crashed ? "the VM crashed (host report: exited with signal 9)"
                                                      : "the VM's vTPM crashed (host report: exited with signal 9)";
    for (Health before : {Health::pending, Health::healthy, Health::unknown}) {
      SCOPED_TRACE(std::string(host_event_kind_name(k)) + " from " + health_name(before));
      const AttestationStatus b = with_health(before);
      const AttestationStatus s = status_after_host_event(b, e);
      EXPECT_EQ(s.health, Health::unknown);
      ASSERT_TRUE(s.error_message.has_value());
      EXPECT_EQ(s.error_message->rfind(what, 0), 0u) << *s.error_message;
      EXPECT_EQ(s.boot_integrity_validated, b.boot_integrity_validated);
      EXPECT_EQ(s.attest_secure_boot_enabled, b.attest_secure_boot_enabled);
      EXPECT_EQ(s.timestamp, b.timestamp);
    }
    // A known-bad boot stays known-bad, with its own reason.
    const AttestationStatus bad = with_health(Health::unhealthy);
    const AttestationStatus s = status_after_host_event(bad, e);
    EXPECT_EQ(s.health, Health::unhealthy);
    EXPECT_EQ(s.error_message, bad.error_message);
  }
}

TEST(HostEventRules, AlertKindsSeveritiesAndTitles) {
  EXPECT_STREQ(host_event_alert_kind(HostEventKind::boot_refused), "boot-refused");
  EXPECT_STREQ(host_event_alert_kind(HostEventKind::vm_crashed), "vm-crashed");
  EXPECT_STREQ(host_event_alert_kind(HostEventKind::vtpm_crashed), "vtpm-crashed");
  EXPECT_STREQ(alert_severity("boot-refused"), "High");
  EXPECT_STREQ(alert_severity("vm-crashed"), "Medium");
  EXPECT_STREQ(alert_severity("vtpm-crashed"), "Medium");
  EXPECT_STREQ(alert_severity("attestation-failed"), "Medium");
  EXPECT_STREQ(alert_severity("untrusted-kernel-module"), "Low");
  for (const char* k : kAlertKinds) EXPECT_TRUE(is_alert_kind(k)) << k;
  EXPECT_FALSE(is_alert_kind("boot-refused "));
  EXPECT_FALSE(is_alert_kind("host-event"));
  EXPECT_EQ(alert_kinds_text(),
            "attestation-failed, quote-not-from-vtpm, attestation-stale, untrusted-kernel-module, boot-refused, "
            "vm-crashed or vtpm-crashed");
}

std::vector<std::string> kinds(const std::vector<Recommendation>& recs) {
  std::vector<std::string> out;
  for (const Recommendation& r : recs) out.push_back(r.kind);
  return out;
}

TEST(StatusRules, Recommendations) {
  using V = std::vector<std::string>;
  AttestationStatus attested;
  attested.attest_secure_boot_enabled = "Enabled";
  SecurityProfile tl;
  EXPECT_EQ(kinds(recommendations_for(tl, true, attested, false)), V{});

  SecurityProfile sb_off = tl;
  sb_off.secure_boot_enabled = false;
  EXPECT_EQ(kinds(recommendations_for(sb_off, true, attested, false)), V{"enable-secure-boot"});

  AttestationStatus booted_without_sb = attested;
  booted_without_sb.attest_secure_boot_enabled = "Disabled";
  EXPECT_EQ(kinds(recommendations_for(tl, true, booted_without_sb, false)), V{"enable-secure-boot"});

  SecurityProfile tpm_off = tl;
  tpm_off.tpm_enabled = false;
  EXPECT_EQ(kinds(recommendations_for(tpm_off, true, attested, false)), V{"enable-vtpm"});

  EXPECT_EQ(kinds(recommendations_for(tl, false, attested, false)), V{"install-agent"});
  EXPECT_EQ(kinds(recommendations_for(tl, true, AttestationStatus{}, true)), V{"install-agent"});
  // install-agent needs Secure Boot and vTPM on.
  EXPECT_EQ(kinds(recommendations_for(sb_off, false, attested, false)), V{"enable-secure-boot"});

  SecurityProfile standard;
  standard.security_type = SecurityType::standard;
  standard.secure_boot_enabled = false;
  standard.tpm_enabled = false;
  EXPECT_EQ(kinds(recommendations_for(standard, false, attested, true)), V{});  // not Trusted Launch capable
}

}  // namespace
}  // namespace tl::fleet::detail
