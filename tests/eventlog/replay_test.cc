// replay(): against PCRs read inside a real guest (ovmf-secureboot vectors),
// and the replay rules on synthesized logs.

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "eventlog/parsed_log.h"
#include "eventlog/replay.h"
#include "log_builder.h"
#include "support/test_support.h"
#include "vector_logs.h"

namespace tl::eventlog {
namespace {

using crypto::HashAlg;

// The guest's sysfs PCR dump has every PCR; the log explains those it extends.
void expect_replay_matches_guest(const std::string& log_name, const std::string& pcrs_name,
                                 size_t want_banks) {
  const auto log_path = test::vector_path(log_name);
  const auto pcrs_path = test::vector_path(pcrs_name);
  if (log_path.empty() || pcrs_path.empty()) GTEST_SKIP() << "ovmf-secureboot vectors not found";
  auto log = ParsedLog::parse(test::read_file(log_path));
  ASSERT_TRUE(log.ok()) << log.error().message;
  auto guest = test::parse_sysfs_pcr_lines(test::read_text(pcrs_path));
  ASSERT_TRUE(guest.ok()) << guest.error().message;
  auto replayed = replay(*log);
  ASSERT_TRUE(replayed.ok()) << replayed.error().message;

  ASSERT_EQ(replayed->size(), want_banks);
  size_t compared = 0;
  for (const auto& [bank, pcrs] : *replayed) {
    ASSERT_TRUE(guest->count(bank)) << crypto::hash_name(bank);
    for (const auto& [pcr, value] : pcrs) {
      ASSERT_TRUE(guest->at(bank).count(pcr)) << crypto::hash_name(bank) << " PCR " << pcr;
      EXPECT_EQ(to_hex(value), to_hex(guest->at(bank).at(pcr))) << crypto::hash_name(bank) << " PCR " << pcr;
      ++compared;
    }
    // PCRs 0-7 are all extended by OVMF (at least the separator).
    for (uint32_t p = 0; p < 8; ++p) EXPECT_TRUE(pcrs.count(p)) << crypto::hash_name(bank) << " PCR " << p;
  }
  EXPECT_GE(compared, 8 * want_banks);
}

TEST(ReplayVectors, OvmfSecureBootLogEqualsGuestPcrs) {
  expect_replay_matches_guest("ovmf-secureboot/eventlog_sb_debian_chain.bin",
                              "ovmf-secureboot/pcrs_guest_sysfs.txt", 1);
}

TEST(ReplayVectors, UnprovisionedSwtpmFourBanksEqualGuestPcrs) {
  expect_replay_matches_guest("ovmf-secureboot/eventlog_unprovisioned_swtpm_4banks.bin",
                              "ovmf-secureboot/pcrs_guest_sysfs_unprovisioned_swtpm_4banks.txt", 4);
}

// H(old || digest), written out here rather than through replay's code path.
Bytes extend(HashAlg alg, Bytes old, ByteView digest) {
  old.insert(old.end(), digest.begin(), digest.end());
  return *crypto::digest(alg, old);
}

TEST(Replay, ExtendsEachBankFromZeroInLogOrder) {
  auto b = test::LogBuilder::crypto_agile({HashAlg::sha256, HashAlg::sha1});
  b.event(4, EV_EFI_ACTION, "first").event(4, EV_EFI_ACTION, "second").event(7, EV_SEPARATOR, "sep");
  auto log = ParsedLog::parse(b.build());
  ASSERT_TRUE(log.ok()) << log.error().message;
  auto pcrs = replay(*log);
  ASSERT_TRUE(pcrs.ok());
  for (HashAlg alg : {HashAlg::sha256, HashAlg::sha1}) {
    const Bytes zero(crypto::digest_size(alg), 0);
    Bytes p4 = extend(alg, zero, *crypto::digest(alg, as_bytes("first")));
    p4 = extend(alg, p4, *crypto::digest(alg, as_bytes("second")));
    EXPECT_EQ(pcrs->at(alg).at(4), p4);
    EXPECT_EQ(pcrs->at(alg).at(7), extend(alg, zero, *crypto::digest(alg, as_bytes("sep"))));
    EXPECT_EQ(pcrs->at(alg).size(), 2u) << "only PCRs the log extends";
  }
}

TEST(Replay, NoActionEventsNeverExtend) {
  auto b = test::LogBuilder::crypto_agile({HashAlg::sha256});
  b.event_with_fill(5, EV_NO_ACTION, 0xab).event(4, EV_IPL, "x").event_with_fill(4, EV_NO_ACTION, 0xcd);
  auto log = ParsedLog::parse(b.build());
  ASSERT_TRUE(log.ok()) << log.error().message;
  auto pcrs = replay(*log);
  ASSERT_TRUE(pcrs.ok());
  EXPECT_FALSE(pcrs->at(HashAlg::sha256).count(5));
  EXPECT_EQ(pcrs->at(HashAlg::sha256).at(4),
            extend(HashAlg::sha256, Bytes(32, 0), *crypto::digest(HashAlg::sha256, as_bytes("x"))));
}

TEST(Replay, StartupLocalitySetsPcr0InitialValue) {
  auto b = test::LogBuilder::crypto_agile({HashAlg::sha256, HashAlg::sha384});
  b.startup_locality(3).event(0, EV_S_CRTM_VERSION, "crtm");
  auto log = ParsedLog::parse(b.build());
  ASSERT_TRUE(log.ok()) << log.error().message;
  EXPECT_TRUE(log->has_startup_locality());
  EXPECT_EQ(log->startup_locality(), 3);
  auto pcrs = replay(*log);
  ASSERT_TRUE(pcrs.ok());
  for (HashAlg alg : {HashAlg::sha256, HashAlg::sha384}) {
    Bytes init(crypto::digest_size(alg), 0);
    init.back() = 3;
    EXPECT_EQ(pcrs->at(alg).at(0), extend(alg, init, *crypto::digest(alg, as_bytes("crtm"))));
  }
}

TEST(Replay, StartupLocalityAloneReportsPcr0) {
  auto b = test::LogBuilder::crypto_agile({HashAlg::sha256});
  b.startup_locality(3).event(7, EV_SEPARATOR, "s");
  auto log = ParsedLog::parse(b.build());
  ASSERT_TRUE(log.ok()) << log.error().message;
  auto pcrs = replay(*log);
  ASSERT_TRUE(pcrs.ok());
  Bytes init(32, 0);
  init.back() = 3;
  EXPECT_EQ(pcrs->at(HashAlg::sha256).at(0), init);
}

TEST(Replay, HcrtmEventStartsPcr0AtLocality4) {
  auto b = test::LogBuilder::crypto_agile({HashAlg::sha256});
  b.event(0, EV_EFI_HCRTM_EVENT, "HCRTM").event(0, EV_S_CRTM_VERSION, "v");
  auto log = ParsedLog::parse(b.build());
  ASSERT_TRUE(log.ok()) << log.error().message;
  EXPECT_TRUE(log->has_hcrtm());
  auto pcrs = replay(*log);
  ASSERT_TRUE(pcrs.ok());
  Bytes v(32, 0);
  v.back() = 4;
  v = extend(HashAlg::sha256, v, *crypto::digest(HashAlg::sha256, as_bytes("HCRTM")));
  v = extend(HashAlg::sha256, v, *crypto::digest(HashAlg::sha256, as_bytes("v")));
  EXPECT_EQ(pcrs->at(HashAlg::sha256).at(0), v);
}

TEST(Replay, LegacyLogReplaysSha1Only) {
  auto b = test::LogBuilder::legacy();
  b.event(0, EV_S_CRTM_VERSION, "crtm").event(7, EV_SEPARATOR, "sep");
  auto log = ParsedLog::parse(b.build());
  ASSERT_TRUE(log.ok()) << log.error().message;
  EXPECT_EQ(log->format(), LogFormat::sha1_legacy);
  EXPECT_EQ(log->events().size(), 2u);
  auto pcrs = replay(*log);
  ASSERT_TRUE(pcrs.ok());
  ASSERT_EQ(pcrs->size(), 1u);
  EXPECT_EQ(pcrs->at(HashAlg::sha1).at(0),
            extend(HashAlg::sha1, Bytes(20, 0), *crypto::digest(HashAlg::sha1, as_bytes("crtm"))));
}

TEST(Replay, Sm3BankParsedAndReplayed) {
  auto b = test::LogBuilder::crypto_agile({HashAlg::sm3_256, HashAlg::sha256});
  b.event(1, EV_EFI_VARIABLE_BOOT, "var");
  auto log = ParsedLog::parse(b.build());
  ASSERT_TRUE(log.ok()) << log.error().message;
  auto pcrs = replay(*log);
  ASSERT_TRUE(pcrs.ok()) << pcrs.error().message;
  EXPECT_EQ(pcrs->at(HashAlg::sm3_256).at(1),
            extend(HashAlg::sm3_256, Bytes(32, 0), *crypto::digest(HashAlg::sm3_256, as_bytes("var"))));
}

}  // namespace
}  // namespace tl::eventlog
