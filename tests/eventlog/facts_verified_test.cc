// facts(VerifiedLog): the trust path. The recorded OVMF quote is verified with
// tpm::verify_quote, the recorded log with verify_log, and only then are facts
// extracted; events on PCRs the quote does not cover cannot influence them.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <type_traits>

#include "eventlog/facts.h"
#include "eventlog/verified_log.h"
#include "log_builder.h"
#include "vector_logs.h"
#include "support/test_support.h"
#include "tpm/quote.h"

namespace tl::eventlog {
namespace {

using crypto::HashAlg;

// Trust code cannot be handed display facts.
static_assert(!std::is_constructible_v<VerifiedBootFacts, BootFacts>);
static_assert(!std::is_convertible_v<BootFacts, VerifiedBootFacts>);

class VerifiedFactsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const auto msg = test::vector_path("ovmf-secureboot/quote.msg");
    if (msg.empty()) GTEST_SKIP() << "ovmf-secureboot vectors not found (set TL_SHARED_DIR)";
    const auto dir = msg.parent_path();
    auto q = test::verify_recorded_ovmf_quote(dir);
    ASSERT_TRUE(q.ok()) << q.error().message;
    quote_.emplace(std::move(*q));
    log_ = test::read_file(dir / "eventlog_sb_debian_chain.bin");
  }

  Result<VerifiedLog> verified(Bytes bytes) {
    auto log = ParsedLog::parse(std::move(bytes));
    if (!log.ok()) return log.take_error();
    return verify_log(std::move(*log), *quote_);
  }

  std::optional<tpm::VerifiedQuote> quote_;
  Bytes log_;
};

TEST_F(VerifiedFactsTest, RecordedBootYieldsTheSameFactsAsInspection) {
  auto v = verified(log_);
  ASSERT_TRUE(v.ok()) << v.error().message;
  const VerifiedBootFacts f = facts(*v);
  EXPECT_EQ(f->secure_boot.state, SecureBootState::enabled);
  ASSERT_EQ(f->secure_boot.db.entries.size(), 2u);
  EXPECT_EQ(f->secure_boot.db.entries[1].sha256_fingerprint,
            "48e99b991f57fc52f76149599bff0a58c47154229b9f8d603ac40d3500248507");
  EXPECT_EQ(f->boot_applications.size(), 4u);
  EXPECT_EQ(f->linux_boot.kernel_cmdline, "/vmlinuz console=ttyS0,115200 quiet loglevel=4 panic=-1");
  EXPECT_EQ(f->secure_boot.shim_variables.size(), 3u);  // PCR 14 is quoted too
  EXPECT_TRUE(f->problems.empty());
}

TEST_F(VerifiedFactsTest, EventsOnUnquotedPcrsCannotChangeVerifiedFacts) {
  // Append a systemd-style UTF-16 command line on PCR 12, which the quote does
  // not select: the display path shows it, the trust path never sees it.
  const std::string evil = "evil=1";
  Bytes data;
  for (char c : evil) {
    data.push_back(static_cast<uint8_t>(c));
    data.push_back(0);
  }
  Bytes log = log_;
  test::put_u32(log, 12);
  test::put_u32(log, EV_IPL);
  test::put_u32(log, 1);
  test::put_u16(log, crypto::tpm_alg_id(HashAlg::sha256));
  test::put_bytes(log, crypto::digest(HashAlg::sha256, data).value());
  test::put_u32(log, static_cast<uint32_t>(data.size()));
  test::put_bytes(log, data);

  auto shown = ParsedLog::parse(Bytes(log));
  ASSERT_TRUE(shown.ok()) << shown.error().message;
  EXPECT_EQ(inspect_facts(*shown).linux_boot.kernel_cmdline, evil);

  auto v = verified(log);
  ASSERT_TRUE(v.ok()) << v.error().message;
  EXPECT_FALSE(v->covers(12));
  EXPECT_EQ(facts(*v)->linux_boot.kernel_cmdline, "/vmlinuz console=ttyS0,115200 quiet loglevel=4 panic=-1");
}

TEST_F(VerifiedFactsTest, ForgedVariableDataYieldsNoVerifiedFact) {
  // Edit the SecureBoot variable's data from 01 to 00 and leave its digest: the
  // log still replays to the quoted PCR 7, so verify_log accepts it. The display
  // path shows the forged value; the trust path takes nothing from the event
  // (state absent, never "disabled" nor "enabled") and reports the mismatch.
  auto parsed = ParsedLog::parse(Bytes(log_));
  ASSERT_TRUE(parsed.ok());
  const auto sb = inspect_facts(*parsed).secure_boot.secure_boot_event;
  ASSERT_TRUE(sb.has_value());
  const Event& ev = parsed->events()[sb->index];
  ASSERT_EQ(ev.data.back(), 1u);  // enabled
  const size_t last_data_byte = static_cast<size_t>(ev.data.data() - parsed->bytes().data()) + ev.data.size() - 1;
  Bytes forged = log_;
  forged[last_data_byte] = 0;

  auto shown = ParsedLog::parse(Bytes(forged));
  ASSERT_TRUE(shown.ok());
  EXPECT_EQ(inspect_facts(*shown).secure_boot.state, SecureBootState::disabled);

  auto v = verified(forged);
  ASSERT_TRUE(v.ok()) << v.error().message;  // the digests still replay
  const VerifiedBootFacts f = facts(*v);
  EXPECT_EQ(f->secure_boot.state, SecureBootState::absent);
  EXPECT_FALSE(f->secure_boot.secure_boot_event.has_value());
  ASSERT_FALSE(f->problems.empty());
  EXPECT_EQ(f->problems.front().event, sb->index);
  EXPECT_THAT(f->problems.front().message,
              ::testing::HasSubstr("EV_EFI_VARIABLE_DRIVER_CONFIG: sha256 digest"));
  EXPECT_THAT(f->problems.front().message, ::testing::HasSubstr("is not the hash of the event data"));
  // Everything else still comes through.
  EXPECT_EQ(f->secure_boot.db.entries.size(), 2u);
  EXPECT_EQ(f->boot_applications.size(), 4u);
}

}  // namespace
}  // namespace tl::eventlog
