// Hardening checks on synthetic logs (LogBuilder): each forged or misplaced
// event raises exactly the problem documented in docs/eventlog-facts.md, and a
// well-formed Secure Boot sequence raises none.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "eventlog/checks.h"
#include "eventlog/facts.h"
#include "eventlog/parsed_log.h"
#include "eventlog/uefi_variable.h"
#include "common/byte_reader.h"
#include "log_builder.h"

namespace tl::eventlog {
namespace {

using ::testing::AllOf;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using test::LogBuilder;

void put_u64(Bytes& out, uint64_t v) {
  for (int i = 0; i < 8; ++i) out.push_back(static_cast<uint8_t>(v >> (8 * i)));
}

Bytes variable(const Guid& g, std::string_view name, Bytes data) {
  Bytes out(g.bytes.begin(), g.bytes.end());
  put_u64(out, name.size());
  put_u64(out, data.size());
  for (char c : name) {
    out.push_back(static_cast<uint8_t>(c));
    out.push_back(0);
  }
  out.insert(out.end(), data.begin(), data.end());
  return out;
}

Bytes secure_boot(uint8_t v) { return variable(efi_global_variable_guid(), "SecureBoot", {v}); }
Bytes empty_db(std::string_view name) {
  const Guid g = name == "PK" || name == "KEK" ? efi_global_variable_guid() : image_security_database_guid();
  return variable(g, name, {});
}
const Bytes kSeparator = {0, 0, 0, 0};

// A minimal PFP-conformant PCR 7 sequence.
LogBuilder good_pcr7() {
  auto b = LogBuilder::crypto_agile({crypto::HashAlg::sha1, crypto::HashAlg::sha256});
  b.event(7, EV_EFI_VARIABLE_DRIVER_CONFIG, secure_boot(1));
  for (auto n : {"PK", "KEK", "db", "dbx"}) b.event(7, EV_EFI_VARIABLE_DRIVER_CONFIG, empty_db(n));
  b.event(7, EV_SEPARATOR, kSeparator);
  return b;
}

struct Checked {
  std::vector<Problem> problems;
  BootFacts facts;
};

Checked check(const LogBuilder& b) {
  auto log = ParsedLog::parse(b.build());
  EXPECT_TRUE(log.ok()) << log.error().message;
  if (!log.ok()) return {};
  return {check_events(log->events()), inspect_facts(*log)};
}

std::vector<std::string> messages(const std::vector<Problem>& ps) {
  std::vector<std::string> out;
  for (const auto& p : ps) out.push_back("event " + std::to_string(p.event) + " PCR " + std::to_string(p.pcr) + ": " + p.message);
  return out;
}

TEST(Checks, ConformantSecureBootSequenceRaisesNothing) {
  auto b = good_pcr7();
  b.event(7, EV_EFI_VARIABLE_AUTHORITY, variable(image_security_database_guid(), "db", {1, 2, 3}));
  b.event(4, EV_EFI_ACTION, "Calling EFI Application from Boot Option");
  const auto c = check(b);
  EXPECT_THAT(messages(c.problems), IsEmpty());
  EXPECT_EQ(c.facts.secure_boot.state, SecureBootState::enabled);
}

TEST(Checks, DigestNotOverTheDataIsFlaggedPerBank) {
  auto b = good_pcr7();
  const size_t offset = b.offset();
  b.event_with_fill(7, EV_EFI_VARIABLE_AUTHORITY, 0xab, variable(image_security_database_guid(), "db", {1}));
  const auto c = check(b);
  ASSERT_EQ(c.problems.size(), 2u) << ::testing::PrintToString(messages(c.problems));
  EXPECT_EQ(c.problems[0].event, 7u);
  EXPECT_EQ(c.problems[0].offset, offset);
  EXPECT_EQ(c.problems[0].pcr, 7u);
  EXPECT_THAT(c.problems[0].message, AllOf(HasSubstr("EV_EFI_VARIABLE_AUTHORITY: sha1 digest abab"),
                                           HasSubstr("is not the hash of the event data")));
  EXPECT_THAT(c.problems[1].message, HasSubstr("sha256 digest"));
}

TEST(Checks, ForgedSecureBootValueIsCaughtByTheDigest) {
  // The log says SecureBoot=1 but the digest is the hash of SecureBoot=0: replay
  // still matches the TPM, only the digest check sees the lie.
  auto b = LogBuilder::crypto_agile({crypto::HashAlg::sha256});
  test::Event2Options e;
  e.pcr = 7;
  e.type = EV_EFI_VARIABLE_DRIVER_CONFIG;
  e.data = secure_boot(1);
  e.digests = {{crypto::tpm_alg_id(crypto::HashAlg::sha256), crypto::digest(crypto::HashAlg::sha256, secure_boot(0)).value()}};
  b.event2(e);
  b.event(7, EV_SEPARATOR, kSeparator);
  const auto c = check(b);
  ASSERT_EQ(c.problems.size(), 1u);
  EXPECT_THAT(c.problems[0].message, HasSubstr("EV_EFI_VARIABLE_DRIVER_CONFIG: sha256 digest"));
}

TEST(Checks, GrubStringsAreHashedWithoutPrefixAndNul) {
  const std::string cmd = "linux /vmlinuz root=/dev/sda1";
  const std::string data = std::string("grub_cmd: ") + cmd + '\0';
  auto good = LogBuilder::crypto_agile({crypto::HashAlg::sha256});
  test::Event2Options e;
  e.pcr = 8;
  e.type = EV_IPL;
  e.data.assign(data.begin(), data.end());
  e.digests = {{crypto::tpm_alg_id(crypto::HashAlg::sha256), crypto::digest(crypto::HashAlg::sha256, as_bytes(cmd)).value()}};
  good.event2(e);
  EXPECT_THAT(messages(check(good).problems), IsEmpty());

  // Hashing the whole event data is what GRUB does NOT do: flagged.
  auto bad = LogBuilder::crypto_agile({crypto::HashAlg::sha256});
  bad.event(8, EV_IPL, as_bytes(data));
  const auto c = check(bad);
  ASSERT_EQ(c.problems.size(), 1u);
  EXPECT_THAT(c.problems[0].message, HasSubstr("not the hash of the GRUB string after its prefix"));
}

TEST(Checks, BootVariableMayBeHashedOverVariableDataOnly) {
  const Bytes var = variable(efi_global_variable_guid(), "BootOrder", {1, 0});
  auto b = LogBuilder::crypto_agile({crypto::HashAlg::sha256});
  test::Event2Options e;
  e.pcr = 1;
  e.type = EV_EFI_VARIABLE_BOOT;
  e.data = var;
  e.digests = {{crypto::tpm_alg_id(crypto::HashAlg::sha256), crypto::digest(crypto::HashAlg::sha256, Bytes{1, 0}).value()}};
  b.event2(e);  // EDK2 style
  b.event(1, EV_EFI_VARIABLE_BOOT, var);  // PFP style
  b.event_with_fill(1, EV_EFI_VARIABLE_BOOT, 0x11, var);  // neither
  const auto c = check(b);
  ASSERT_EQ(c.problems.size(), 1u) << ::testing::PrintToString(messages(c.problems));
  EXPECT_EQ(c.problems[0].event, 3u);
  EXPECT_THAT(c.problems[0].message, HasSubstr("nor of its VariableData"));
}

TEST(Checks, SeparatorContentAndRetypedSeparators) {
  auto b = good_pcr7();
  b.event(4, EV_SEPARATOR, Bytes{0, 0, 0, 1});               // event 7: bad separator data
  b.event(4, EV_EFI_ACTION, kSeparator);                     // event 8: separator retyped
  b.event(4, EV_SEPARATOR, Bytes{0xff, 0xff, 0xff, 0xff});   // event 9: fine (error separator)
  const auto c = check(b);
  EXPECT_THAT(messages(c.problems),
              ElementsAre(HasSubstr("event 7 PCR 4: EV_SEPARATOR data must be 4 bytes 00000000 or ffffffff, got 4 bytes"),
                          HasSubstr("event 8 PCR 4: EV_EFI_ACTION carries a separator value"),
                          HasSubstr("event 9 PCR 4: second EV_SEPARATOR on PCR 4 (first at event 7)")));
}

TEST(Checks, SecureBootVariableUnderAnotherTypeOrPcr) {
  auto b = good_pcr7();
  b.event(5, EV_EFI_ACTION, secure_boot(1));                  // event 7
  b.event(1, EV_EFI_VARIABLE_DRIVER_CONFIG, secure_boot(0));  // event 8
  const auto c = check(b);
  EXPECT_THAT(messages(c.problems),
              ElementsAre(HasSubstr("event 7 PCR 5: EV_EFI_ACTION carries the Secure Boot variable SecureBoot"),
                          HasSubstr("event 8 PCR 1: Secure Boot variable SecureBoot measured on PCR 1, not PCR 7")));
  EXPECT_EQ(c.facts.secure_boot.state, SecureBootState::enabled);  // only PCR 7 counts
}

TEST(Checks, Pcr7OrderingDuplicatesAndForeignTypes) {
  auto b = LogBuilder::crypto_agile({crypto::HashAlg::sha256});
  b.event(7, EV_EFI_VARIABLE_DRIVER_CONFIG, secure_boot(1));  // 1
  b.event(7, EV_EFI_VARIABLE_DRIVER_CONFIG, secure_boot(0));  // 2: duplicate
  b.event(7, EV_IPL, "not for PCR 7");                        // 3: foreign type
  b.event(7, EV_SEPARATOR, kSeparator);                       // 4
  b.event(7, EV_EFI_VARIABLE_DRIVER_CONFIG, empty_db("db"));  // 5: after separator
  b.event(7, EV_EFI_ACTION, "UEFI Debug Mode");               // 6: debug + after separator
  b.event(7, EV_SEPARATOR, kSeparator);                       // 7: second separator
  const auto c = check(b);
  EXPECT_THAT(messages(c.problems),
              ElementsAre(HasSubstr("event 2 PCR 7: Secure Boot variable SecureBoot measured again (first at event 1)"),
                          HasSubstr("event 3 PCR 7: EV_IPL is not an event type firmware measures into PCR 7"),
                          HasSubstr("event 5 PCR 7: Secure Boot variable db measured after the PCR 7 separator"),
                          HasSubstr("event 5 PCR 7: EV_EFI_VARIABLE_DRIVER_CONFIG on PCR 7 after the separator"),
                          HasSubstr("event 6 PCR 7: UEFI Debug Mode"),
                          HasSubstr("event 6 PCR 7: EV_EFI_ACTION on PCR 7 after the separator"),
                          HasSubstr("event 7 PCR 7: second EV_SEPARATOR on PCR 7 (first at event 4)")));
  // Facts keep the first SecureBoot value and ignore the late db.
  EXPECT_EQ(c.facts.secure_boot.state, SecureBootState::enabled);
  EXPECT_FALSE(c.facts.secure_boot.db.event);
  EXPECT_TRUE(c.facts.secure_boot.debug_mode);
}

TEST(Checks, MissingPcr7Separator) {
  auto b = LogBuilder::crypto_agile({crypto::HashAlg::sha256});
  b.event(7, EV_EFI_VARIABLE_DRIVER_CONFIG, secure_boot(1));
  const auto c = check(b);
  EXPECT_THAT(messages(c.problems), ElementsAre(HasSubstr("event 1 PCR 7: PCR 7 has no EV_SEPARATOR")));
}

TEST(Facts, SecureBootStates) {
  auto absent = LogBuilder::crypto_agile({crypto::HashAlg::sha256});
  absent.event(7, EV_SEPARATOR, kSeparator);
  EXPECT_EQ(check(absent).facts.secure_boot.state, SecureBootState::absent);

  auto empty = LogBuilder::crypto_agile({crypto::HashAlg::sha256});
  empty.event(7, EV_EFI_VARIABLE_DRIVER_CONFIG, variable(efi_global_variable_guid(), "SecureBoot", {}));
  empty.event(7, EV_SEPARATOR, kSeparator);
  EXPECT_EQ(check(empty).facts.secure_boot.state, SecureBootState::disabled);

  auto two_bytes = LogBuilder::crypto_agile({crypto::HashAlg::sha256});
  two_bytes.event(7, EV_EFI_VARIABLE_DRIVER_CONFIG, variable(efi_global_variable_guid(), "SecureBoot", {1, 0}));
  two_bytes.event(7, EV_SEPARATOR, kSeparator);
  const auto c = check(two_bytes);
  EXPECT_EQ(c.facts.secure_boot.state, SecureBootState::malformed);
  EXPECT_THAT(messages(c.facts.problems), ElementsAre(HasSubstr("SecureBoot variable holds 2 bytes (0100)")));

  auto truncated = LogBuilder::crypto_agile({crypto::HashAlg::sha256});
  Bytes cut = secure_boot(1);
  cut.resize(30);
  const size_t off = truncated.offset();
  truncated.event(7, EV_EFI_VARIABLE_DRIVER_CONFIG, cut);
  truncated.event(7, EV_SEPARATOR, kSeparator);
  const auto t = check(truncated);
  EXPECT_EQ(t.facts.secure_boot.state, SecureBootState::absent);
  // data starts after PCR, type, count, alg, 32-byte digest, size: 8+4+2+32+4 = 50.
  EXPECT_THAT(messages(t.facts.problems),
              ElementsAre(HasSubstr("data is not UEFI_VARIABLE_DATA: UEFI_VARIABLE_DATA.VariableDataLength at offset " +
                                    hex_offset(off + 50 + 24))));
}

}  // namespace
}  // namespace tl::eventlog
