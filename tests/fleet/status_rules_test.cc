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
