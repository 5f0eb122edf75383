// Edited boots on a real TPM: the real OVMF log, changed the way a tampered or
// updated VM's would be, is replayed into a fresh swtpm, quoted by an AK,
// verified (tpm::verify_quote, eventlog::verify_log) and measured; then
// compared with the baseline of the unedited log.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <map>
#include <memory>
#include <optional>

#include "eventlog/parsed_log.h"
#include "log_edit.h"
#include "policy/baseline.h"
#include "support/test_support.h"
#include "swtpm_boot.h"

namespace tl::policy {
namespace {

using ::testing::HasSubstr;

constexpr const char* kLog = "ovmf-secureboot/eventlog_sb_debian_chain.bin";
constexpr const char* kShimPath = "PciRoot(0x0)/Pci(0x1,0x0)/\\EFI\\BOOT\\BOOTX64.EFI";
constexpr const char* kShimSha256 = "80a66d53a945d2286fcadd780fae1c225aa732079cd67b5225dc78aaab4e2ff8";

std::string describe(const BaselineMatch& r) {
  std::string s = "variant " + r.variant + (r.matched ? " matched" : " deviations:");
  for (const Deviation& d : r.deviations) s += "\n  " + d.kind + ": " + d.message();
  return s;
}

class BaselineSwtpm : public ::testing::Test {
 protected:
  void SetUp() override {
    const auto path = test::vector_path(kLog);
    if (path.empty()) GTEST_SKIP() << "vector " << kLog << " not found (set TL_SHARED_DIR)";
    log_ = test::read_file(path);
  }
  static BaselineVariant variant(const Bytes& log, const std::string& name) {
    auto v = variant_from_eventlog(log, name, default_baseline_pcrs(), 1795000000);
    EXPECT_TRUE(v.ok()) << v.error().message;
    return v.ok() ? *v : BaselineVariant{};
  }
  Baseline good_baseline() const {
    return Baseline{"debian-12-pool", 1, 1795000000, default_baseline_pcrs(), {variant(log_, "debian-12")}};
  }
  static std::optional<VerifiedMeasurements> boot(const Bytes& log) {
    auto m = test::measure_on_swtpm(log);
    EXPECT_TRUE(m.ok()) << m.error().message;
    if (!m) return std::nullopt;
    return std::move(*m);
  }
  static std::string sha256_of_event(const Bytes& log, uint32_t index) {
    auto p = eventlog::ParsedLog::parse(log);
    EXPECT_TRUE(p.ok());
    return p.ok() ? to_hex(p->events().at(index).digest(crypto::HashAlg::sha256)) : "";
  }
  Bytes log_;
};

TEST_F(BaselineSwtpm, TheUneditedBootMatches) {
  auto m = boot(log_);
  ASSERT_TRUE(m.has_value());
  BaselineMatch r = compare(*m, good_baseline());
  EXPECT_TRUE(r.matched);
  EXPECT_EQ(r.variant, "debian-12");
  EXPECT_TRUE(r.deviations.empty());
}

TEST_F(BaselineSwtpm, AnotherBootApplicationIsOneDigestMismatchAtItsEvent) {
  const Bytes edited = test::with_sha256_digest_flipped(log_, 23);
  auto m = boot(edited);
  ASSERT_TRUE(m.has_value());
  BaselineMatch r = compare(*m, good_baseline());
  EXPECT_FALSE(r.matched);
  EXPECT_EQ(r.variant, "debian-12");
  ASSERT_EQ(r.deviations.size(), 1u) << describe(r);
  const Deviation& d = r.deviations[0];
  EXPECT_EQ(d.kind, "digest-mismatch");
  EXPECT_EQ(d.pcr, 4u);
  EXPECT_EQ(d.event, 23u);
  EXPECT_EQ(d.event_type, "EV_EFI_BOOT_SERVICES_APPLICATION");
  EXPECT_EQ(d.component, kShimPath);
  EXPECT_EQ(d.expected, kShimSha256);
  EXPECT_EQ(d.actual, sha256_of_event(edited, 23));
  EXPECT_NE(d.actual, d.expected);
}

TEST_F(BaselineSwtpm, AnInsertedEventIsUnexpected) {
  // An extra GRUB command before the kernel's initrd command (event 48).
  const Bytes edited = test::with_ipl_event(log_, 48, 8, "grub_cmd: insmod evil", "insmod evil");
  auto m = boot(edited);
  ASSERT_TRUE(m.has_value());
  BaselineMatch r = compare(*m, good_baseline());
  EXPECT_FALSE(r.matched);
  ASSERT_EQ(r.deviations.size(), 1u) << describe(r);
  const Deviation& d = r.deviations[0];
  EXPECT_EQ(d.kind, "unexpected");
  EXPECT_EQ(d.pcr, 8u);
  EXPECT_EQ(d.event, 48u);
  EXPECT_EQ(d.event_type, "EV_IPL");
  EXPECT_EQ(d.component, "grub_cmd: insmod evil");
  EXPECT_EQ(d.expected, "");
  EXPECT_EQ(d.actual, sha256_of_event(edited, 48));
}

TEST_F(BaselineSwtpm, ARemovedEventIsMissing) {
  // GRUB's "set timeout=0" (event 35) not run.
  const Bytes edited = test::without_event(log_, 35);
  auto m = boot(edited);
  ASSERT_TRUE(m.has_value());
  BaselineMatch r = compare(*m, good_baseline());
  EXPECT_FALSE(r.matched);
  ASSERT_EQ(r.deviations.size(), 1u) << describe(r);
  const Deviation& d = r.deviations[0];
  EXPECT_EQ(d.kind, "missing");
  EXPECT_EQ(d.pcr, 8u);
  EXPECT_FALSE(d.event.has_value());
  EXPECT_EQ(d.event_type, "EV_IPL");
  EXPECT_EQ(d.component, "grub_cmd: set timeout=0");
  EXPECT_EQ(d.expected, sha256_of_event(log_, 35));
  EXPECT_EQ(d.actual, "");
}

TEST_F(BaselineSwtpm, SecureBootTurnedOffIsADeviationOnPcr7) {
  // SecureBoot = 0, and the digest recomputed over the new UEFI_VARIABLE_DATA:
  // a consistent log of a VM booted with Secure Boot off.
  const Bytes edited = test::with_variable_data(log_, 4, Bytes{0});
  auto m = boot(edited);
  ASSERT_TRUE(m.has_value());
  BaselineMatch r = compare(*m, good_baseline());
  EXPECT_FALSE(r.matched);
  ASSERT_EQ(r.deviations.size(), 1u) << describe(r);
  const Deviation& d = r.deviations[0];
  EXPECT_EQ(d.kind, "digest-mismatch");
  EXPECT_EQ(d.pcr, 7u);
  EXPECT_EQ(d.event, 4u);
  EXPECT_EQ(d.event_type, "EV_EFI_VARIABLE_DRIVER_CONFIG");
  EXPECT_EQ(d.component, "SecureBoot");
  EXPECT_EQ(d.expected, sha256_of_event(log_, 4));
  EXPECT_EQ(d.actual, sha256_of_event(edited, 4));
  EXPECT_THAT(d.message(), HasSubstr("PCR 7 event 4 EV_EFI_VARIABLE_DRIVER_CONFIG SecureBoot: expected sha256"));
}

TEST_F(BaselineSwtpm, TheEditedBootMatchesTheVariantMadeFromIt) {
  const Bytes edited = test::with_sha256_digest_flipped(log_, 23);
  Baseline b = good_baseline();
  b.variants.push_back(variant(edited, "new-shim"));
  auto m = boot(edited);
  ASSERT_TRUE(m.has_value());
  BaselineMatch r = compare(*m, b);
  EXPECT_TRUE(r.matched);
  EXPECT_EQ(r.variant, "new-shim");
  EXPECT_TRUE(r.deviations.empty());
  // And the unedited boot still matches variant 1.
  auto good = boot(log_);
  ASSERT_TRUE(good.has_value());
  EXPECT_EQ(compare(*good, b).variant, "debian-12");
  EXPECT_TRUE(compare(*good, b).matched);
}

TEST_F(BaselineSwtpm, SeveralChangesAreEachReportedInPcrOrder) {
  // Kernel replaced (events 45, 46 flipped) and a GRUB command removed: the
  // alignment reports exactly those, not every event after them.
  Bytes edited = test::with_sha256_digest_flipped(log_, 45);
  edited = test::with_sha256_digest_flipped(edited, 46);
  edited = test::without_event(edited, 37);
  auto m = boot(edited);
  ASSERT_TRUE(m.has_value());
  BaselineMatch r = compare(*m, good_baseline());
  ASSERT_EQ(r.deviations.size(), 3u) << describe(r);
  EXPECT_EQ(r.deviations[0].kind, "digest-mismatch");
  EXPECT_EQ(r.deviations[0].pcr, 4u);
  EXPECT_EQ(r.deviations[0].event, 44u);  // event 45 before the removal
  EXPECT_EQ(r.deviations[0].component, "image loaded from memory (no device path)");
  EXPECT_EQ(r.deviations[1].kind, "digest-mismatch");
  EXPECT_EQ(r.deviations[1].event, 45u);
  EXPECT_EQ(r.deviations[2].kind, "missing");
  EXPECT_EQ(r.deviations[2].pcr, 8u);
  EXPECT_EQ(r.deviations[2].component, "grub_cmd: serial --unit=0 --speed=115200");
}

}  // namespace
}  // namespace tl::policy
