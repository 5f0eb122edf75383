// Baselines from the real OVMF Secure Boot log (shared/vectors/ovmf-secureboot):
// what variant_from_eventlog measures and names, what it refuses, and the
// comparison of the recorded boot (its real quote, verified) with baselines.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <optional>
#include <type_traits>

#include "../eventlog/vector_logs.h"
#include "eventlog/parsed_log.h"
#include "eventlog/verified_log.h"
#include "log_edit.h"
#include "policy/baseline.h"
#include "support/test_support.h"

namespace tl::policy {
namespace {

using ::testing::EndsWith;
using ::testing::HasSubstr;
using ::testing::StartsWith;

// Only measure(VerifiedLog) makes measurements: compare() cannot be fed a log nobody verified.
static_assert(!std::is_default_constructible_v<VerifiedMeasurements>);

constexpr const char* kLog = "ovmf-secureboot/eventlog_sb_debian_chain.bin";
constexpr const char* kShimPath = "PciRoot(0x0)/Pci(0x1,0x0)/\\EFI\\BOOT\\BOOTX64.EFI";
constexpr const char* kShimSha256 = "80a66d53a945d2286fcadd780fae1c225aa732079cd67b5225dc78aaab4e2ff8";
constexpr int64_t kNow = 1795000000;  // 2026-11-18T11:06:40Z

class BaselineTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const auto path = test::vector_path(kLog);
    if (path.empty()) GTEST_SKIP() << "vector " << kLog << " not found (set TL_SHARED_DIR)";
    dir_ = path.parent_path();
    log_ = test::read_file(path);
  }
  static BaselineVariant variant(const Bytes& log, const std::string& name = "debian-12") {
    auto v = variant_from_eventlog(log, name, default_baseline_pcrs(), kNow);
    EXPECT_TRUE(v.ok()) << v.error().message;
    return v.ok() ? *v : BaselineVariant{};
  }
  static Baseline baseline(std::vector<BaselineVariant> variants) {
    return Baseline{"debian-12-pool", 1, kNow, default_baseline_pcrs(), std::move(variants)};
  }
  static const Measurement* at_event(const BaselineVariant& v, uint32_t index) {
    for (const Measurement& m : v.measurements)
      if (m.event == index) return &m;
    return nullptr;
  }
  // The recorded boot: its real quote verified, its log replayed against it.
  std::optional<VerifiedMeasurements> recorded_boot() {
    auto quote = test::verify_recorded_ovmf_quote(dir_);
    EXPECT_TRUE(quote.ok()) << quote.error().message;
    if (!quote) return std::nullopt;
    auto parsed = eventlog::ParsedLog::parse(log_);
    EXPECT_TRUE(parsed.ok());
    if (!parsed) return std::nullopt;
    auto vlog = eventlog::verify_log(std::move(*parsed), *quote);
    EXPECT_TRUE(vlog.ok()) << vlog.error().message;
    if (!vlog) return std::nullopt;
    return measure(*vlog);
  }
  std::filesystem::path dir_;
  Bytes log_;
};

TEST(DefaultPcrs, AreFirmwareOptionRomsBootAppsSecureBootAndGrub) {
  EXPECT_EQ(default_baseline_pcrs(), (std::vector<uint32_t>{0, 2, 4, 7, 8, 9}));
}

TEST_F(BaselineTest, VariantHoldsThePcrValuesTheGuestRead) {
  BaselineVariant v = variant(log_);
  EXPECT_EQ(v.name, "debian-12");
  EXPECT_EQ(v.source, "eventlog");
  EXPECT_EQ(v.created_at, kNow);
  auto guest = test::parse_sysfs_pcr_lines(test::read_text(dir_ / "pcrs_guest_sysfs.txt"));
  ASSERT_TRUE(guest.ok());
  std::vector<uint32_t> keys;
  for (const auto& [pcr, hex] : v.pcr_values) {
    keys.push_back(pcr);
    EXPECT_EQ(hex, to_hex(guest->at(crypto::HashAlg::sha256).at(pcr))) << "PCR " << pcr;
  }
  EXPECT_EQ(keys, default_baseline_pcrs());
}

TEST_F(BaselineTest, MeasurementsAreTheEventsOnBaselinePcrsInLogOrder) {
  BaselineVariant v = variant(log_);
  auto parsed = eventlog::ParsedLog::parse(log_);
  ASSERT_TRUE(parsed.ok());
  size_t expected = 0;
  for (const auto& e : parsed->events())
    if (e.type != eventlog::EV_NO_ACTION && (e.pcr == 0 || e.pcr == 2 || e.pcr == 4 || e.pcr == 7 || e.pcr == 8 ||
                                             e.pcr == 9))
      ++expected;
  ASSERT_EQ(v.measurements.size(), expected);
  for (size_t i = 1; i < v.measurements.size(); ++i) EXPECT_LT(v.measurements[i - 1].event, v.measurements[i].event);
  for (const Measurement& m : v.measurements) {
    EXPECT_EQ(m.sha256.size(), 64u);
    EXPECT_FALSE(m.component.empty()) << "event " << m.event;
  }
}

TEST_F(BaselineTest, ComponentsNameWhatWasMeasured) {
  BaselineVariant v = variant(log_);
  auto expect = [&](uint32_t event, uint32_t pcr, const char* type, const std::string& component) {
    const Measurement* m = at_event(v, event);
    ASSERT_NE(m, nullptr) << "event " << event;
    EXPECT_EQ(m->pcr, pcr) << "event " << event;
    EXPECT_EQ(m->event_type, type) << "event " << event;
    EXPECT_EQ(m->component, component) << "event " << event;
  };
  expect(1, 0, "EV_S_CRTM_VERSION", "S-CRTM version");
  expect(2, 0, "EV_EFI_PLATFORM_FIRMWARE_BLOB", "firmware blob base 0x820000 length 0xe0000");
  expect(4, 7, "EV_EFI_VARIABLE_DRIVER_CONFIG", "SecureBoot");
  expect(5, 7, "EV_EFI_VARIABLE_DRIVER_CONFIG", "PK");
  expect(6, 7, "EV_EFI_VARIABLE_DRIVER_CONFIG", "KEK");
  expect(7, 7, "EV_EFI_VARIABLE_DRIVER_CONFIG", "db");
  expect(8, 7, "EV_EFI_VARIABLE_DRIVER_CONFIG", "dbx");
  expect(9, 7, "EV_SEPARATOR", "separator");
  expect(14, 4, "EV_EFI_ACTION", "Calling EFI Application from Boot Option");
  expect(22, 7, "EV_EFI_VARIABLE_AUTHORITY",
         "db: CN=Microsoft Corporation UEFI CA 2011,O=Microsoft Corporation,L=Redmond,ST=Washington,C=US");
  expect(23, 4, "EV_EFI_BOOT_SERVICES_APPLICATION", kShimPath);
  expect(26, 7, "EV_EFI_VARIABLE_AUTHORITY", "SbatLevel");
  expect(28, 7, "EV_EFI_VARIABLE_AUTHORITY", "MokListRT: CN=Debian Secure Boot CA");
  expect(29, 4, "EV_EFI_BOOT_SERVICES_APPLICATION", "\\EFI\\BOOT\\grubx64.efi");
  expect(33, 8, "EV_IPL", "grub_cmd: source (hd0)/EFI/debian/grub.cfg");
  expect(34, 9, "EV_IPL", "(hd0)/EFI/debian/grub.cfg");
  // shim loads the kernel from a buffer: no device path, and the load address
  // (different at events 45 and 46) is kept out of the name.
  expect(45, 4, "EV_EFI_BOOT_SERVICES_APPLICATION", "image loaded from memory (no device path)");
  expect(46, 4, "EV_EFI_BOOT_SERVICES_APPLICATION", "image loaded from memory (no device path)");
  expect(47, 8, "EV_IPL", "kernel_cmdline: /vmlinuz console=ttyS0,115200 quiet loglevel=4 panic=-1");
  expect(49, 9, "EV_IPL", "/initrd.img");
  EXPECT_EQ(at_event(v, 23)->sha256, kShimSha256);
}

TEST_F(BaselineTest, LongOrControlCharacterTextIsCutAndMadePrintable) {
  const std::string long_cmd = "grub_cmd: echo " + std::string(500, 'x');
  Bytes log = test::with_ipl_event(log_, 48, 8, long_cmd, long_cmd.substr(10));
  log = test::with_ipl_event(log, 48, 8, "grub_cmd: echo \x1b[31mred\x07", "echo \x1b[31mred\x07");
  BaselineVariant v = variant(log);
  // Both go in front of event 48, so the later insert is event 48.
  const Measurement* ctl = at_event(v, 48);
  const Measurement* cut = at_event(v, 49);
  ASSERT_NE(ctl, nullptr);
  ASSERT_NE(cut, nullptr);
  EXPECT_EQ(ctl->component, "grub_cmd: echo .[31mred.");
  EXPECT_EQ(cut->component, "grub_cmd: echo " + std::string(185, 'x') + "\xe2\x80\xa6");
}

TEST_F(BaselineTest, DataTheDigestDoesNotCoverIsFlagged) {
  // A GRUB string whose digest is of another string: the text is not what was measured.
  Bytes log = test::with_ipl_event(log_, 48, 8, "grub_cmd: echo shown", "echo hashed");
  BaselineVariant v = variant(log);
  ASSERT_NE(at_event(v, 48), nullptr);
  EXPECT_EQ(at_event(v, 48)->component, "(data not covered by its digest) grub_cmd: echo shown");
}

TEST_F(BaselineTest, EveryBaselinePcrMustBeExtendedByTheLog) {
  for (uint32_t pcr : {10u, 11u, 23u}) {
    auto v = variant_from_eventlog(log_, "x", {0, 4, pcr}, kNow);
    ASSERT_FALSE(v.ok()) << "PCR " << pcr;
    EXPECT_EQ(v.error().reason, "baseline-invalid");
    EXPECT_THAT(v.error().message, StartsWith("PCR " + std::to_string(pcr) + " is not extended by the event log"));
  }
}

TEST_F(BaselineTest, PcrListsAndNamesAreChecked) {
  for (const auto& pcrs : std::vector<std::vector<uint32_t>>{{}, {0, 24}, {4, 2}, {2, 2}}) {
    auto v = variant_from_eventlog(log_, "x", pcrs, kNow);
    ASSERT_FALSE(v.ok());
    EXPECT_EQ(v.error().reason, "baseline-invalid") << v.error().message;
  }
  EXPECT_THAT(variant_from_eventlog(log_, "x", {0, 24}, kNow).error().message, HasSubstr("PCR 24 is out of range"));
  for (const std::string& name : {std::string(), std::string("a b"), std::string(65, 'a'), std::string("k/../x")}) {
    auto v = variant_from_eventlog(log_, name, default_baseline_pcrs(), kNow);
    ASSERT_FALSE(v.ok()) << name;
    EXPECT_EQ(v.error().reason, "baseline-invalid");
    EXPECT_THAT(v.error().message, StartsWith("variant name"));
  }
}

TEST_F(BaselineTest, MalformedLogsAreRefusedAsMalformed) {
  for (size_t cut : {size_t{0}, size_t{10}, size_t{100}, log_.size() - 7}) {
    Bytes truncated(log_.begin(), log_.begin() + static_cast<std::ptrdiff_t>(cut));
    auto v = variant_from_eventlog(truncated, "x", default_baseline_pcrs(), kNow);
    ASSERT_FALSE(v.ok()) << "cut at " << cut;
    EXPECT_EQ(v.error().reason, "eventlog-malformed") << v.error().message;
    EXPECT_THAT(v.error().message, StartsWith("event log: "));
  }
}

TEST_F(BaselineTest, ALogWithoutSha256IsRefused) {
  const auto path = test::vector_path("eventlogs/event-uefi-sha1-log.bin");
  if (path.empty()) GTEST_SKIP() << "eventlogs vectors not found";
  auto v = variant_from_eventlog(test::read_file(path), "x", {0}, kNow);
  ASSERT_FALSE(v.ok());
  EXPECT_EQ(v.error().reason, "baseline-invalid");
  EXPECT_THAT(v.error().message, HasSubstr("no SHA-256 bank"));
}

TEST_F(BaselineTest, RecordedBootMatchesItsOwnBaseline) {
  auto boot = recorded_boot();
  ASSERT_TRUE(boot.has_value());
  EXPECT_FALSE(boot->events().empty());
  // The recorded quote selects PCRs 0-9 and 14.
  for (uint32_t pcr : default_baseline_pcrs()) EXPECT_TRUE(boot->pcrs().contains(pcr)) << "PCR " << pcr;
  BaselineMatch r = compare(*boot, baseline({variant(log_)}));
  EXPECT_TRUE(r.matched);
  EXPECT_EQ(r.variant, "debian-12");
  EXPECT_TRUE(r.deviations.empty());
  // Learning from the verified boot gives the same variant as the reference log.
  auto learned = variant_from_verified(*boot, "learned", default_baseline_pcrs(), kNow);
  ASSERT_TRUE(learned.ok()) << learned.error().message;
  BaselineVariant from_log = variant(log_);
  EXPECT_EQ(learned->pcr_values, from_log.pcr_values);
  EXPECT_EQ(learned->measurements, from_log.measurements);
  EXPECT_EQ(learned->source, "learned");
  EXPECT_TRUE(compare(*boot, baseline({*learned})).matched);
}

TEST_F(BaselineTest, LearningNeedsEveryPcrCovered) {
  auto boot = recorded_boot();
  ASSERT_TRUE(boot.has_value());
  auto v = variant_from_verified(*boot, "x", {0, 4, 16}, kNow);
  ASSERT_FALSE(v.ok());
  EXPECT_EQ(v.error().reason, "baseline-invalid");
  EXPECT_THAT(v.error().message, StartsWith("PCR 16 is not covered"));
}

// The recorded boot against a baseline whose shim digest differs: one
// deviation, at the shim, with both digests (the swtpm tests do the reverse).
TEST_F(BaselineTest, ADifferentBootApplicationIsOneDigestMismatch) {
  auto boot = recorded_boot();
  ASSERT_TRUE(boot.has_value());
  BaselineVariant other = variant(test::with_sha256_digest_flipped(log_, 23), "other-shim");
  const std::string flipped = at_event(other, 23)->sha256;
  BaselineMatch r = compare(*boot, baseline({other}));
  EXPECT_FALSE(r.matched);
  EXPECT_EQ(r.variant, "other-shim");
  ASSERT_EQ(r.deviations.size(), 1u);
  const Deviation& d = r.deviations[0];
  EXPECT_EQ(d.kind, "digest-mismatch");
  EXPECT_EQ(d.pcr, 4u);
  EXPECT_EQ(d.event, 23u);
  EXPECT_EQ(d.event_type, "EV_EFI_BOOT_SERVICES_APPLICATION");
  EXPECT_EQ(d.component, kShimPath);
  EXPECT_EQ(d.expected, flipped);
  EXPECT_EQ(d.actual, kShimSha256);
  EXPECT_EQ(d.message(), std::string("PCR 4 event 23 EV_EFI_BOOT_SERVICES_APPLICATION ") + kShimPath +
                             ": expected sha256 " + flipped + ", got " + kShimSha256);
}

TEST_F(BaselineTest, ClosestVariantHasFewestMismatchingPcrs) {
  auto boot = recorded_boot();
  ASSERT_TRUE(boot.has_value());
  // Two PCRs off (4 and 7), then one PCR off (4): the second is closer.
  Bytes two_off = test::with_variable_data(test::with_sha256_digest_flipped(log_, 23), 4, Bytes{0});
  BaselineVariant far = variant(two_off, "far");
  BaselineVariant near = variant(test::with_sha256_digest_flipped(log_, 23), "near");
  BaselineMatch r = compare(*boot, baseline({far, near}));
  EXPECT_FALSE(r.matched);
  EXPECT_EQ(r.variant, "near");
  ASSERT_EQ(r.deviations.size(), 1u);
  EXPECT_EQ(r.deviations[0].pcr, 4u);
  // A tie goes to the first variant.
  BaselineVariant near2 = variant(test::with_sha256_digest_flipped(log_, 29), "near2");
  EXPECT_EQ(compare(*boot, baseline({near2, near})).variant, "near2");
  // Any variant that matches wins, wherever it is.
  BaselineMatch m = compare(*boot, baseline({far, near, variant(log_, "good")}));
  EXPECT_TRUE(m.matched);
  EXPECT_EQ(m.variant, "good");
}

TEST_F(BaselineTest, PcrOutsideTheQuoteIsNotCovered) {
  auto boot = recorded_boot();
  ASSERT_TRUE(boot.has_value());
  BaselineVariant v = variant(log_);
  v.pcr_values[16] = std::string(64, '0');
  Baseline b = baseline({v});
  b.pcrs = {0, 2, 4, 7, 8, 9, 16};
  BaselineMatch r = compare(*boot, b);
  EXPECT_FALSE(r.matched);
  ASSERT_EQ(r.deviations.size(), 1u);
  EXPECT_EQ(r.deviations[0].kind, "pcr-not-covered");
  EXPECT_EQ(r.deviations[0].pcr, 16u);
  EXPECT_FALSE(r.deviations[0].event.has_value());
  EXPECT_THAT(r.deviations[0].message(), HasSubstr("PCR 16: not covered"));
}

TEST_F(BaselineTest, EventsAgreeButValueDiffersIsAPcrMismatch) {
  auto boot = recorded_boot();
  ASSERT_TRUE(boot.has_value());
  BaselineVariant v = variant(log_);
  v.pcr_values[2] = std::string(64, 'a');
  BaselineMatch r = compare(*boot, baseline({v}));
  ASSERT_EQ(r.deviations.size(), 1u);
  EXPECT_EQ(r.deviations[0].kind, "pcr-mismatch");
  EXPECT_EQ(r.deviations[0].pcr, 2u);
  EXPECT_EQ(r.deviations[0].expected, std::string(64, 'a'));
  EXPECT_EQ(r.deviations[0].actual, boot->pcrs().at(2));
}

TEST_F(BaselineTest, AtMost32Deviations) {
  auto boot = recorded_boot();
  ASSERT_TRUE(boot.has_value());
  BaselineVariant v = variant(log_);
  v.pcr_values[8] = std::string(64, 'b');
  for (uint32_t i = 0; i < 40; ++i)
    v.measurements.push_back(Measurement{8, 100 + i, "EV_IPL", "grub_cmd: extra " + std::to_string(i),
                                         std::string(64, 'c')});
  BaselineMatch r = compare(*boot, baseline({v}));
  EXPECT_FALSE(r.matched);
  ASSERT_EQ(r.deviations.size(), 32u);
  for (const Deviation& d : r.deviations) {
    EXPECT_EQ(d.kind, "missing");
    EXPECT_EQ(d.pcr, 8u);
    EXPECT_FALSE(d.event.has_value());
  }
  EXPECT_EQ(r.deviations[0].component, "grub_cmd: extra 0");
}

TEST_F(BaselineTest, DeviationJson) {
  Deviation d{"digest-mismatch", 4, 23, "EV_EFI_BOOT_SERVICES_APPLICATION", kShimPath, "aa", "bb"};
  nlohmann::json j = to_json(d);
  EXPECT_EQ(j["kind"], "digest-mismatch");
  EXPECT_EQ(j["pcr"], 4);
  EXPECT_EQ(j["event"], 23);
  EXPECT_EQ(j["eventType"], "EV_EFI_BOOT_SERVICES_APPLICATION");
  EXPECT_EQ(j["component"], kShimPath);
  EXPECT_EQ(j["expected"], "aa");
  EXPECT_EQ(j["actual"], "bb");
  EXPECT_EQ(j["message"], d.message());
  d.event.reset();
  EXPECT_TRUE(to_json(d)["event"].is_null());
}

}  // namespace
}  // namespace tl::policy
