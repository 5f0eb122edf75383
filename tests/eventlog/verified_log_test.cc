// verify_log(): the recorded OVMF Secure Boot quote (shared/vectors/ovmf-secureboot)
// verified by tpm::verify_quote, against its own event log and tampered variants.

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <functional>
#include <type_traits>

#include "eventlog/verified_log.h"
#include "log_builder.h"
#include "support/test_support.h"
#include "tpm/quote.h"
#include "vector_logs.h"

namespace tl::eventlog {
namespace {

using crypto::HashAlg;
using ::testing::AllOf;
using ::testing::HasSubstr;

// The trust boundary is enforced by the compiler: only verify_log makes one.
static_assert(!std::is_default_constructible_v<VerifiedLog>);
static_assert(!std::is_constructible_v<VerifiedLog, ParsedLog>);
static_assert(!std::is_constructible_v<VerifiedLog, ParsedLog&&>);
static_assert(!std::is_constructible_v<VerifiedLog, const ParsedLog&>);
static_assert(!std::is_convertible_v<ParsedLog, VerifiedLog>);
static_assert(!std::is_copy_constructible_v<VerifiedLog>);

constexpr const char* kDir = "ovmf-secureboot";

class VerifiedLogTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const auto msg = test::vector_path(std::string(kDir) + "/quote.msg");
    if (msg.empty()) GTEST_SKIP() << "ovmf-secureboot vectors not found (set TL_SHARED_DIR)";
    dir_ = msg.parent_path();
    auto q = test::verify_recorded_ovmf_quote(dir_);
    ASSERT_TRUE(q.ok()) << q.error().message;
    quote_.emplace(std::move(*q));
    log_bytes_ = test::read_file(dir_ / "eventlog_sb_debian_chain.bin");
    auto guest = test::parse_sysfs_pcr_lines(test::read_text(dir_ / "pcrs_guest_sysfs.txt"));
    ASSERT_TRUE(guest.ok());
    guest_ = std::move(*guest);
  }

  ParsedLog parse(Bytes b) {
    auto log = ParsedLog::parse(std::move(b));
    EXPECT_TRUE(log.ok()) << log.error().message;
    return std::move(*log);
  }

  // Re-serializes the recorded log keeping only the events `keep` accepts.
  Bytes rebuild(const std::function<bool(const Event&)>& keep) {
    ParsedLog log = parse(log_bytes_);
    const Event& header = log.events()[0];
    const size_t header_size = 32 + header.data.size();
    Bytes out(log_bytes_.begin(), log_bytes_.begin() + static_cast<std::ptrdiff_t>(header_size));
    for (size_t i = 1; i < log.events().size(); ++i) {
      const Event& e = log.events()[i];
      if (!keep(e)) continue;
      const size_t size = (i + 1 < log.events().size() ? log.events()[i + 1].offset : log_bytes_.size()) - e.offset;
      out.insert(out.end(), log_bytes_.begin() + static_cast<std::ptrdiff_t>(e.offset),
                 log_bytes_.begin() + static_cast<std::ptrdiff_t>(e.offset + size));
    }
    return out;
  }

  std::filesystem::path dir_;
  std::optional<tpm::VerifiedQuote> quote_;
  Bytes log_bytes_;
  tpm::PcrValues guest_;
};

TEST_F(VerifiedLogTest, RecordedLogVerifiesAgainstRecordedQuote) {
  ParsedLog log = parse(log_bytes_);
  size_t measured = 0;
  for (const Event& e : log.events()) measured += e.type != EV_NO_ACTION ? 1 : 0;

  auto v = verify_log(std::move(log), *quote_);
  ASSERT_TRUE(v.ok()) << v.error().message;
  EXPECT_EQ(v->verified_banks(), std::vector<HashAlg>{HashAlg::sha256});
  EXPECT_EQ(v->covered_pcrs(), (std::vector<uint32_t>{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 14}));
  EXPECT_EQ(v->events().size(), measured);  // every measured event is on a quoted PCR
  for (const Event& e : v->events()) {
    EXPECT_NE(e.type, EV_NO_ACTION);
    EXPECT_TRUE(v->covers(e.pcr));
  }
  // The verified values are the guest's, read independently through sysfs.
  for (const auto& [pcr, value] : v->pcrs().at(HashAlg::sha256))
    EXPECT_EQ(to_hex(value), to_hex(guest_.at(HashAlg::sha256).at(pcr))) << "PCR " << pcr;
}

TEST_F(VerifiedLogTest, AlteredDigestIsRejectedNamingBankPcrAndBothValues) {
  ParsedLog log = parse(log_bytes_);
  const Event* target = nullptr;
  for (const Event& e : log.events())
    if (e.pcr == 4 && e.type == EV_EFI_BOOT_SERVICES_APPLICATION) target = &e;
  ASSERT_NE(target, nullptr);
  Bytes tampered = log_bytes_;
  const size_t digest_at = static_cast<size_t>(target->digest(HashAlg::sha256).data() - log.bytes().data());
  tampered[digest_at] ^= 0x01;

  auto v = verify_log(parse(tampered), *quote_);
  ASSERT_FALSE(v.ok());
  const std::string quoted = to_hex(guest_.at(HashAlg::sha256).at(4));
  EXPECT_THAT(v.error().message, AllOf(HasSubstr("bank sha256 PCR 4: quoted " + quoted),
                                       HasSubstr("but the event log replays to ")));
  EXPECT_THAT(v.error().message, ::testing::Not(HasSubstr("replays to " + quoted)));
}

TEST_F(VerifiedLogTest, DroppedEventIsRejected) {
  bool dropped = false;
  Bytes shorter = rebuild([&](const Event& e) {
    if (!dropped && e.pcr == 7 && e.type == EV_EFI_VARIABLE_DRIVER_CONFIG) return !(dropped = true);
    return true;
  });
  ASSERT_TRUE(dropped);
  auto v = verify_log(parse(shorter), *quote_);
  ASSERT_FALSE(v.ok());
  EXPECT_THAT(v.error().message, HasSubstr("bank sha256 PCR 7: quoted " + to_hex(guest_.at(HashAlg::sha256).at(7))));
}

TEST_F(VerifiedLogTest, EventsOnUnquotedPcrsAreNotExposed) {
  // Extra events on PCR 12 and 23 (not in the quote's selection) cannot be vouched for.
  Bytes extended = log_bytes_;
  test::LogBuilder extra = test::LogBuilder::crypto_agile({HashAlg::sha256});
  const size_t header_len = extra.offset();
  extra.event(12, EV_IPL, "console=ttyS0 init=/bin/evil").event(23, EV_EVENT_TAG, "x");
  extended.insert(extended.end(), extra.bytes().begin() + static_cast<std::ptrdiff_t>(header_len), extra.bytes().end());

  ParsedLog log = parse(extended);
  ASSERT_EQ(log.events().back().pcr, 23u);
  auto v = verify_log(std::move(log), *quote_);
  ASSERT_TRUE(v.ok()) << v.error().message;
  EXPECT_FALSE(v->covers(12));
  EXPECT_FALSE(v->covers(23));
  for (const Event& e : v->events()) {
    EXPECT_NE(e.pcr, 12u);
    EXPECT_NE(e.pcr, 23u);
  }
  EXPECT_FALSE(v->pcrs().at(HashAlg::sha256).count(12));
}

TEST_F(VerifiedLogTest, QuotedPcrWithoutLogEventsIsNotCovered) {
  // Drop every PCR 14 (shim MokList) event: the quote shows PCR 14 extended, the
  // log explains none of it, so PCR 14 is uncovered rather than "verified empty".
  Bytes without14 = rebuild([](const Event& e) { return e.pcr != 14; });
  auto v = verify_log(parse(without14), *quote_);
  ASSERT_TRUE(v.ok()) << v.error().message;
  EXPECT_FALSE(v->covers(14));
  EXPECT_TRUE(v->covers(9));
  for (const Event& e : v->events()) EXPECT_NE(e.pcr, 14u);
}

TEST_F(VerifiedLogTest, QuoteAndLogWithoutCommonBankIsAnError) {
  TL_REQUIRE_VECTOR(sha1_path, "eventlogs/event-uefi-sha1-log.bin");
  auto v = verify_log(parse(test::read_file(sha1_path)), *quote_);
  ASSERT_FALSE(v.ok());
  EXPECT_EQ(v.error().message, "the quote covers no bank the event log has (quote: sha256; log: sha1)");
}

TEST_F(VerifiedLogTest, VerifiedEventsKeepOnlyVerifiedBankDigests) {
  // A log carrying sha1 and sha256 digests for the same events: only sha256 is quoted.
  ParsedLog recorded = parse(log_bytes_);
  test::LogBuilder b = test::LogBuilder::crypto_agile({HashAlg::sha1, HashAlg::sha256});
  for (size_t i = 1; i < recorded.events().size(); ++i) {
    const Event& e = recorded.events()[i];
    test::Event2Options o;
    o.pcr = e.pcr;
    o.type = e.type;
    o.digests = {{0x0004, Bytes(20, 0x5a)}, {0x000B, Bytes(e.digests[0].value.begin(), e.digests[0].value.end())}};
    o.data.assign(e.data.begin(), e.data.end());
    b.event2(o);
  }
  auto v = verify_log(parse(b.build()), *quote_);
  ASSERT_TRUE(v.ok()) << v.error().message;
  ASSERT_FALSE(v->events().empty());
  for (const Event& e : v->events()) {
    ASSERT_EQ(e.digests.size(), 1u);
    EXPECT_EQ(e.digests[0].alg, HashAlg::sha256);
    EXPECT_TRUE(e.digest(HashAlg::sha1).empty());
  }
}

}  // namespace
}  // namespace tl::eventlog
