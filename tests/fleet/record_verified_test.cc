// record_verified with real VerifiedAttestations: the quote and event log
// recorded in a Debian Secure Boot VM under OVMF (shared/vectors/ovmf-secureboot)
// go through verify::verify_attestation, the only maker of the type. The
// vector's AK comes as a PEM key, so the test writes the TPMT_PUBLIC an
// enrollment would have stored for it (restricted signing, fixedTPM …); the
// recorded quote has no runtime key, so the policy does not require one.
#include <gtest/gtest.h>

#include <cctype>
#include <string>

#include "crypto/private_key.h"
#include "crypto/public_key.h"
#include "fleet/fleet.h"
#include "store/database.h"
#include "support/cli_runner.h"
#include "support/test_support.h"
#include "tpm/pcr_file.h"
#include "verify/attestation.h"

namespace tl::fleet {
namespace {

constexpr int64_t kT0 = 1795377600;
constexpr const char* kVmId = "9d1c7f3e-5a2b-4c6d-8e0f-1a2b3c4d5e6f";
constexpr const char* kEk = "000BAA11";
constexpr const char* kOtherEk = "000bbb22";

void put16(Bytes& b, uint16_t v) {
  b.push_back(static_cast<uint8_t>(v >> 8));
  b.push_back(static_cast<uint8_t>(v));
}
void put32(Bytes& b, uint32_t v) {
  put16(b, static_cast<uint16_t>(v >> 16));
  put16(b, static_cast<uint16_t>(v));
}

// TPMT_PUBLIC of an RSA-2048 restricted signing key with this modulus
// (TPM 2.0 Part 2 §12.2.4), scheme left to the signature.
Bytes rsa_ak_public(const Bytes& modulus) {
  Bytes b;
  put16(b, 0x0001);  // TPM_ALG_RSA
  put16(b, 0x000B);  // nameAlg SHA-256
  put32(b, (1u << 1) | (1u << 4) | (1u << 5) | (1u << 6) | (1u << 16) | (1u << 18));  // fixedTPM … sign
  put16(b, 0);       // authPolicy
  put16(b, 0x0010);  // symmetric: TPM_ALG_NULL
  put16(b, 0x0010);  // scheme: TPM_ALG_NULL
  put16(b, 2048);
  put32(b, 0);  // exponent 65537
  put16(b, static_cast<uint16_t>(modulus.size()));
  b.insert(b.end(), modulus.begin(), modulus.end());
  return b;
}

class RecordVerified : public ::testing::Test {
 protected:
  void SetUp() override {
    const auto msg = test::vector_path("ovmf-secureboot/quote.msg");
    if (msg.empty()) GTEST_SKIP() << "ovmf-secureboot vectors not found (set TL_SHARED_DIR)";
    const auto dir = msg.parent_path();
    auto pcrs = tpm::parse_pcr_file(test::read_file(dir / "quote.pcrs"));
    ASSERT_TRUE(pcrs.ok()) << pcrs.error().message;
    std::string nonce_text = test::read_text(dir / "quote_nonce.txt");
    while (!nonce_text.empty() && std::isspace(static_cast<unsigned char>(nonce_text.back()))) nonce_text.pop_back();
    auto nonce = from_hex(nonce_text);
    ASSERT_TRUE(nonce.ok());
    nonce_ = *nonce;
    auto ak = crypto::PublicKey::from_pem(test::read_text(dir / "ak.pub"));
    ASSERT_TRUE(ak.ok()) << ak.error().message;
    auto params = crypto::rsa_public_params(*ak);
    ASSERT_TRUE(params.ok());
    identity_.vm_id = kVmId;
    identity_.ak_public = rsa_ak_public(params->n);
    identity_.ek_certificate_validated = true;

    evidence_.vm_id = kVmId;
    evidence_.nonce = nonce_;
    evidence_.quote_attest = test::read_file(dir / "quote.msg");
    evidence_.quote_signature = test::read_file(dir / "quote.sig");
    evidence_.pcrs = *pcrs;
    evidence_.event_log = test::read_file(dir / "eventlog_sb_debian_chain.bin");
    evidence_.os.type = "Linux";
    evidence_.os.distro = "Debian GNU/Linux";
    evidence_.os.version_major = 12;
    evidence_.os.kernel_release = "6.1.0-27-amd64";
    policy_.require_runtime_key = false;

    auto f = Fleet::open(dir_.path() / "tlaunchd.db", Options{3600, 2});
    ASSERT_TRUE(f.ok()) << f.error().message;
    fleet_ = std::move(*f);
    VmSpec s;
    s.name = "deb-01";
    s.vm_id = kVmId;
    s.group = "debian-12";
    ASSERT_TRUE(fleet_->register_vm(s, kT0).ok());
  }

  verify::VerifiedAttestation attest(std::shared_ptr<const policy::Baseline> baseline = nullptr) {
    verify::AppraisalPolicy p = policy_;
    p.baseline = std::move(baseline);
    auto a = verify::verify_attestation(evidence_, identity_, nonce_, p);
    if (!a.ok()) ADD_FAILURE() << a.error().reason << ": " << a.error().message;
    return std::move(*a);
  }

  Vm record(const verify::VerifiedAttestation& a, int64_t now, const std::string& ek = kEk, bool cert = true) {
    auto vm = fleet_->record_verified(a, ek, cert, now);
    EXPECT_TRUE(vm.ok()) << vm.error().message;
    EXPECT_TRUE(vm.ok() && vm->has_value());
    return vm.ok() && vm->has_value() ? **vm : Vm{};
  }

  std::vector<Alert> open_alerts() {
    auto page = fleet_->alerts(AlertQuery{});
    EXPECT_TRUE(page.ok());
    return page.ok() ? page->items : std::vector<Alert>{};
  }

  test::TempDir dir_;
  Bytes nonce_;
  verify::EnrolledIdentity identity_;
  verify::Evidence evidence_;
  verify::AppraisalPolicy policy_;
  std::unique_ptr<Fleet> fleet_;
};

TEST_F(RecordVerified, NoBaselineIsUnknownBootIntegrity) {
  const Vm vm = record(attest(), kT0 + 60);
  EXPECT_EQ(vm.status.attest_secure_boot_enabled, "Enabled");
  EXPECT_EQ(vm.status.attestation_cert_validated, "Valid");
  EXPECT_EQ(vm.status.boot_integrity_validated, "Unknown");
  EXPECT_EQ(vm.status.health, Health::unhealthy);
  ASSERT_TRUE(vm.status.error_message.has_value());
  EXPECT_NE(vm.status.error_message->find("no baseline for group debian-12"), std::string::npos);
  EXPECT_EQ(vm.status.timestamp, kT0 + 60);
  EXPECT_EQ(vm.ek_name, "000baa11");  // bound at the first verified attestation, lower-case
  EXPECT_TRUE(open_alerts().empty());  // no baseline is not an attack
}

TEST_F(RecordVerified, LearningMakesTheFirstBaselineAndJudgesAgainstIt) {
  ASSERT_TRUE(fleet_->set_learning("debian-12", true).ok());
  const Vm vm = record(attest(), kT0 + 60);
  EXPECT_EQ(vm.status.boot_integrity_validated, "Valid");
  EXPECT_EQ(vm.status.health, Health::healthy);
  EXPECT_FALSE(vm.status.error_message.has_value());
  // The recorded boot loads "/vmlinuz" (no version in the name), so the
  // agent's uname -r is what the status shows.
  EXPECT_EQ(vm.status.linux_kernel_version, "6.1.0-27-amd64");
  const nlohmann::json j = to_json(vm)["attestationStatus"]["properties"];
  EXPECT_EQ(j["healthStatus"], "Healthy");
  EXPECT_EQ(j["provisioningState"], "Succeeded");
  EXPECT_EQ(j["timestamp"], "2026-11-22T20:01:00Z");

  auto infos = fleet_->baselines();
  ASSERT_TRUE(infos.ok());
  ASSERT_EQ(infos->size(), 1u);
  EXPECT_EQ((*infos)[0].version, 1);
  EXPECT_FALSE((*infos)[0].learning);  // learning turns itself off
  auto b = fleet_->baseline("debian-12", std::nullopt);
  ASSERT_TRUE(b.ok() && b->has_value());
  EXPECT_EQ((*b)->pcrs, policy::default_baseline_pcrs());
  ASSERT_EQ((*b)->variants.size(), 1u);
  EXPECT_EQ((*b)->variants[0].source, std::string("learned:") + kVmId);

  // The service then passes the baseline to the verifier: still Healthy.
  auto current = fleet_->baseline_for_vm(kVmId);
  ASSERT_TRUE(current.ok() && *current);
  EXPECT_EQ(record(attest(*current), kT0 + 120).status.health, Health::healthy);
}

TEST_F(RecordVerified, DeviationIsInvalidWithAnAlertNamingTheComponent) {
  ASSERT_TRUE(fleet_->set_learning("debian-12", true).ok());
  record(attest(), kT0 + 60);
  auto learned = fleet_->baseline("debian-12", std::nullopt);
  ASSERT_TRUE(learned.ok() && learned->has_value());
  // A baseline that expects another boot application on PCR 4.
  policy::BaselineVariant edited = (*learned)->variants[0];
  edited.name = "edited";
  bool changed = false;
  for (policy::Measurement& m : edited.measurements) {
    if (m.pcr == 4 && m.event_type == "EV_EFI_BOOT_SERVICES_APPLICATION" && !changed) {
      m.sha256 = std::string(64, 'e');
      changed = true;
    }
  }
  ASSERT_TRUE(changed);
  edited.pcr_values[4] = std::string(64, 'f');
  auto b2 = fleet_->add_baseline("debian-12", edited, (*learned)->pcrs, Fleet::BaselineMode::new_version, kT0 + 70);
  ASSERT_TRUE(b2.ok()) << b2.error().message;
  auto current = fleet_->baseline_for_vm(kVmId);
  ASSERT_TRUE(current.ok() && *current);
  EXPECT_EQ((*current)->version, 2);

  const Vm vm = record(attest(*current), kT0 + 80);
  EXPECT_EQ(vm.status.boot_integrity_validated, "Invalid");
  EXPECT_EQ(vm.status.health, Health::unhealthy);
  ASSERT_TRUE(vm.status.error_message.has_value());
  EXPECT_NE(vm.status.error_message->find("PCR 4"), std::string::npos) << *vm.status.error_message;
  const auto alerts = open_alerts();
  ASSERT_EQ(alerts.size(), 1u);
  EXPECT_EQ(alerts[0].kind, "attestation-failed");
  EXPECT_EQ(alerts[0].severity, "Medium");
  ASSERT_FALSE(alerts[0].deviations.empty());
  EXPECT_EQ(alerts[0].deviations[0].pcr, 4u);
  EXPECT_EQ(to_json(alerts[0])["deviations"].size(), alerts[0].deviations.size());

  // Even without the service passing the baseline, the fleet compares with the current one.
  EXPECT_EQ(record(attest(), kT0 + 90).status.boot_integrity_validated, "Invalid");
  EXPECT_EQ(open_alerts()[0].count, 2);

  // The operator accepts this boot again as version 3: healthy, alert resolved.
  ASSERT_TRUE(fleet_
                  ->add_baseline("debian-12", (*learned)->variants[0], (*learned)->pcrs,
                                 Fleet::BaselineMode::add_variant, kT0 + 95)
                  .ok());
  current = fleet_->baseline_for_vm(kVmId);
  EXPECT_EQ(record(attest(*current), kT0 + 100).status.health, Health::healthy);
  EXPECT_TRUE(open_alerts().empty());
}

TEST_F(RecordVerified, AnotherEkIsInvalidWithAQuoteAlert) {
  ASSERT_TRUE(fleet_->set_learning("debian-12", true).ok());
  EXPECT_EQ(record(attest(), kT0 + 60).status.health, Health::healthy);
  const Vm vm = record(attest(), kT0 + 120, kOtherEk);
  EXPECT_EQ(vm.status.attestation_cert_validated, "Invalid");
  EXPECT_EQ(vm.status.health, Health::unhealthy);
  EXPECT_EQ(vm.ek_name, "000baa11");  // the binding stays
  auto alerts = open_alerts();
  ASSERT_EQ(alerts.size(), 1u);
  EXPECT_EQ(alerts[0].kind, "quote-not-from-vtpm");
  // Back on the bound TPM: healthy, alert resolved.
  EXPECT_EQ(record(attest(), kT0 + 180).status.health, Health::healthy);
  EXPECT_TRUE(open_alerts().empty());
  // The operator may rebind on purpose.
  VmPatch unbind;
  unbind.unbind_ek = true;
  ASSERT_TRUE(fleet_->update_vm("deb-01", unbind, kT0 + 200).ok());
  const Vm rebound = record(attest(), kT0 + 240, kOtherEk);
  EXPECT_EQ(rebound.ek_name, kOtherEk);
  EXPECT_EQ(rebound.status.health, Health::healthy);
}

TEST_F(RecordVerified, UncertifiedEkIsUnhealthyAndIsNotLearnedFrom) {
  ASSERT_TRUE(fleet_->set_learning("debian-12", true).ok());
  const Vm vm = record(attest(), kT0 + 60, kEk, false);
  EXPECT_EQ(vm.status.attestation_cert_validated, "Invalid");
  EXPECT_EQ(vm.status.boot_integrity_validated, "Unknown");
  EXPECT_EQ(vm.status.health, Health::unhealthy);
  ASSERT_TRUE(vm.status.error_message.has_value());
  EXPECT_NE(vm.status.error_message->find("was not learned from"), std::string::npos) << *vm.status.error_message;
  EXPECT_NE(vm.status.error_message->find("EK certificate"), std::string::npos) << *vm.status.error_message;
  // No baseline, learning still on.
  EXPECT_FALSE(fleet_->baseline("debian-12", std::nullopt)->has_value());
  auto infos = fleet_->baselines();
  ASSERT_TRUE(infos.ok());
  ASSERT_EQ(infos->size(), 1u);
  EXPECT_EQ((*infos)[0].version, 0);
  EXPECT_TRUE((*infos)[0].learning);
  // A later attestation with a validated EK certificate is learned from.
  EXPECT_EQ(record(attest(), kT0 + 120).status.health, Health::healthy);
  EXPECT_FALSE((*fleet_->baselines())[0].learning);
}

TEST_F(RecordVerified, ProfileChangeRederivesHealth) {
  ASSERT_TRUE(fleet_->set_learning("debian-12", true).ok());
  ASSERT_EQ(record(attest(), kT0 + 60).status.health, Health::healthy);
  VmPatch off;
  off.profile = SecurityProfile{};
  off.profile->tpm_enabled = false;
  auto vm = fleet_->update_vm("deb-01", off, kT0 + 70);
  ASSERT_TRUE(vm.ok()) << vm.error().message;
  EXPECT_EQ(vm->status.health, Health::unhealthy);
  EXPECT_EQ(vm->status.boot_integrity_validated, "Valid");  // attested facts stay until the next attestation
  ASSERT_TRUE(vm->status.error_message.has_value());
  EXPECT_NE(vm->status.error_message->find("enableTpm: false"), std::string::npos);
  // Back on: Healthy again from the same attested facts.
  VmPatch on;
  on.profile = SecurityProfile{};
  vm = fleet_->update_vm("deb-01", on, kT0 + 80);
  ASSERT_TRUE(vm.ok());
  EXPECT_EQ(vm->status.health, Health::healthy);
  EXPECT_FALSE(vm->status.error_message.has_value());
}

TEST_F(RecordVerified, GroupChangeMakesBootIntegrityUnknown) {
  ASSERT_TRUE(fleet_->set_learning("debian-12", true).ok());
  ASSERT_EQ(record(attest(), kT0 + 60).status.health, Health::healthy);
  VmPatch move;
  move.group = "debian-13";
  auto vm = fleet_->update_vm("deb-01", move, kT0 + 70);
  ASSERT_TRUE(vm.ok()) << vm.error().message;
  EXPECT_EQ(vm->status.health, Health::unknown);
  EXPECT_EQ(vm->status.boot_integrity_validated, "Unknown");
  EXPECT_EQ(vm->status.error_message,
            "group changed from debian-12 to debian-13: boot integrity is judged at the next attestation");
}

TEST_F(RecordVerified, HealthyResolvesFailedAndStale) {
  ASSERT_TRUE(fleet_->record_rejected(kVmId, Error{"x", "eventlog-check-failed"}, kT0 + 10).ok());
  ASSERT_TRUE(fleet_->record_rejected(kVmId, Error{"x", "quote-signature"}, kT0 + 10).ok());
  ASSERT_EQ(*fleet_->sweep_stale(kT0 + 10 + 3601), 1);
  ASSERT_EQ(open_alerts().size(), 3u);
  ASSERT_TRUE(fleet_->set_learning("debian-12", true).ok());
  EXPECT_EQ(record(attest(), kT0 + 8000).status.health, Health::healthy);
  EXPECT_TRUE(open_alerts().empty());
  auto s = fleet_->summary();
  EXPECT_EQ(s->healthy, 1);
  EXPECT_EQ(s->alerts_medium, 0);
}

HostEvent host_event(HostEventKind kind, const char* detail) {
  HostEvent e;
  e.kind = kind;
  e.detail = detail;
  return e;
}

std::vector<std::string> kinds_of(const std::vector<Alert>& alerts) {
  std::vector<std::string> out;
  for (const Alert& a : alerts) out.push_back(a.kind);
  return out;
}

// The VM booted and attested again after its host reported a refused boot
// and a crash: a Healthy attestation resolves both, with fresh facts.
TEST_F(RecordVerified, HealthyAttestationAfterAHostReportResolvesItsAlerts) {
  ASSERT_TRUE(fleet_->set_learning("debian-12", true).ok());
  ASSERT_EQ(record(attest(), kT0 + 60).status.health, Health::healthy);
  auto refused = fleet_->record_host_event(
      "deb-01", host_event(HostEventKind::boot_refused, "grub: error: bad shim signature."), kT0 + 100);
  ASSERT_TRUE(refused.ok()) << refused.error().message;
  EXPECT_EQ(refused->status.health, Health::unhealthy);
  EXPECT_EQ(refused->status.boot_integrity_validated, "Invalid");
  EXPECT_EQ(refused->status.attest_secure_boot_enabled, "Enabled");  // as last attested
  EXPECT_EQ(refused->status.attestation_cert_validated, "Valid");
  EXPECT_EQ(refused->status.timestamp, kT0 + 60);
  ASSERT_TRUE(fleet_->record_host_event("deb-01", host_event(HostEventKind::vm_crashed, "qemu exited"), kT0 + 110).ok());
  ASSERT_TRUE(fleet_->record_host_event("deb-01", host_event(HostEventKind::vtpm_crashed, "swtpm exited"), kT0 + 120).ok());
  ASSERT_EQ(kinds_of(open_alerts()), (std::vector<std::string>{"boot-refused", "vm-crashed", "vtpm-crashed"}));

  const Vm vm = record(attest(), kT0 + 200);
  EXPECT_EQ(vm.status.health, Health::healthy);
  EXPECT_EQ(vm.status.boot_integrity_validated, "Valid");
  EXPECT_FALSE(vm.status.error_message.has_value());
  EXPECT_EQ(vm.status.timestamp, kT0 + 200);
  EXPECT_TRUE(open_alerts().empty());
  AlertQuery resolved;
  resolved.state = AlertQuery::State::resolved;
  auto page = fleet_->alerts(resolved);
  ASSERT_TRUE(page.ok());
  ASSERT_EQ(page->items.size(), 3u);
  for (const Alert& a : page->items) EXPECT_EQ(a.resolved_at, kT0 + 200) << a.kind;
  EXPECT_EQ(fleet_->summary()->alerts_high, 0);
}

// An attestation that is verified but not Healthy shows the VM and its vTPM
// run again (crash alerts resolve) but not that a trusted boot chain ran: the
// boot-refused alert stays open.
TEST_F(RecordVerified, UnhealthyAttestationResolvesCrashesButNotARefusedBoot) {
  ASSERT_TRUE(fleet_->record_host_event("deb-01", host_event(HostEventKind::boot_refused, "bad shim"), kT0 + 10).ok());
  ASSERT_TRUE(fleet_->record_host_event("deb-01", host_event(HostEventKind::vm_crashed, "qemu exited"), kT0 + 20).ok());
  ASSERT_TRUE(fleet_->record_host_event("deb-01", host_event(HostEventKind::vtpm_crashed, "swtpm exited"), kT0 + 30).ok());
  const Vm vm = record(attest(), kT0 + 60);  // no baseline: Unhealthy
  EXPECT_EQ(vm.status.health, Health::unhealthy);
  EXPECT_EQ(vm.status.boot_integrity_validated, "Unknown");  // the attested facts replace the host's report
  EXPECT_NE(vm.status.error_message->find("no baseline"), std::string::npos);
  EXPECT_EQ(kinds_of(open_alerts()), std::vector<std::string>{"boot-refused"});
  // A failure after the quote verified also shows the VM's vTPM answering.
  ASSERT_TRUE(fleet_->record_host_event("deb-01", host_event(HostEventKind::vtpm_crashed, "again"), kT0 + 70).ok());
  ASSERT_TRUE(fleet_->record_rejected(kVmId, Error{"x", "eventlog-check-failed"}, kT0 + 80).ok());
  EXPECT_EQ(kinds_of(open_alerts()), (std::vector<std::string>{"boot-refused", "attestation-failed"}));
}

// A crash report stops the VM and takes it out of the staleness sweep; the
// next verified attestation shows it runs, so it is Running again and a VM
// that then goes quiet is swept (review: it stayed Healthy forever).
TEST_F(RecordVerified, AttestationAfterACrashPutsTheVmBackUnderTheSweep) {
  ASSERT_TRUE(fleet_->set_learning("debian-12", true).ok());
  ASSERT_TRUE(fleet_->record_host_event("deb-01", host_event(HostEventKind::vm_crashed, "qemu exited"), kT0 + 10).ok());
  const Vm vm = record(attest(), kT0 + 60);
  EXPECT_EQ(vm.status.health, Health::healthy);
  EXPECT_EQ(vm.spec.power_state, PowerState::running);
  EXPECT_EQ(*fleet_->sweep_stale(kT0 + 60 + 3600 - 1), 0);
  EXPECT_EQ(*fleet_->sweep_stale(kT0 + 60 + 3600 + 1), 1);
  auto after = fleet_->find("deb-01", kT0 + 60 + 3600 + 1);
  ASSERT_TRUE(after.ok() && after->has_value());
  EXPECT_EQ((*after)->status.health, Health::unknown);
  // Likewise after a failure the VM's TPM signed.
  ASSERT_TRUE(fleet_->record_host_event("deb-01", host_event(HostEventKind::vtpm_crashed, "swtpm exited"), kT0 + 9000).ok());
  auto rejected = fleet_->record_rejected(kVmId, Error{"x", "eventlog-check-failed"}, kT0 + 9010);
  ASSERT_TRUE(rejected.ok()) << rejected.error().message;
  auto again = fleet_->find("deb-01", kT0 + 9010);
  ASSERT_TRUE(again.ok() && again->has_value());
  EXPECT_EQ((*again)->spec.power_state, PowerState::running);
}

TEST_F(RecordVerified, UntrustedKernelModules) {
  ASSERT_TRUE(fleet_->set_learning("debian-12", true).ok());
  evidence_.kernel_modules.reported = true;
  evidence_.kernel_modules.unsigned_modules = {"evil_rootkit"};
  evidence_.kernel_modules.rejected_modules = {"nvidia"};
  const Vm vm = record(attest(), kT0 + 60);
  EXPECT_EQ(vm.status.health, Health::healthy);  // self-reported: an alert, not a status
  auto alerts = open_alerts();
  ASSERT_EQ(alerts.size(), 1u);
  EXPECT_EQ(alerts[0].kind, "untrusted-kernel-module");
  EXPECT_EQ(alerts[0].severity, "Low");
  EXPECT_NE(alerts[0].detail.find("evil_rootkit"), std::string::npos);
  EXPECT_NE(alerts[0].detail.find("nvidia"), std::string::npos);
  EXPECT_EQ(fleet_->summary()->alerts_low, 1);

  // An agent that did not look says nothing; a clean report resolves.
  evidence_.kernel_modules = {};
  record(attest(), kT0 + 120);
  EXPECT_EQ(open_alerts().size(), 1u);
  evidence_.kernel_modules.reported = true;
  record(attest(), kT0 + 180);
  EXPECT_TRUE(open_alerts().empty());
}

TEST_F(RecordVerified, WindowsGuestKernelIsZero) {
  evidence_.os.type = "Windows";
  EXPECT_EQ(record(attest(), kT0 + 60).status.linux_kernel_version, "0");
}

TEST_F(RecordVerified, UnregisteredVmIsNotRecorded) {
  ASSERT_TRUE(fleet_->remove("deb-01", kT0).ok());
  auto vm = fleet_->record_verified(attest(), kEk, true, kT0 + 60);
  ASSERT_TRUE(vm.ok());
  EXPECT_FALSE(vm->has_value());
}

}  // namespace
}  // namespace tl::fleet
