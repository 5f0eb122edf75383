// Malformed and hostile logs: every rejection must be an error value whose
// message names the event index, the byte offset and the field at fault.

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "common/byte_reader.h"
#include "eventlog/parsed_log.h"
#include "eventlog/replay.h"
#include "eventlog/spec_limits.h"
#include "log_builder.h"
#include "support/test_support.h"

namespace tl::eventlog {
namespace {

using crypto::HashAlg;
using ::testing::AllOf;
using ::testing::HasSubstr;
using test::LogBuilder;

std::string parse_error(Bytes data) {
  auto log = ParsedLog::parse(std::move(data));
  if (log.ok()) return "<parsed OK with " + std::to_string(log->events().size()) + " events>";
  return log.error().message;
}

std::string at(uint32_t index, size_t offset) {
  return "event " + std::to_string(index) + " at offset " + hex_offset(offset) + ": ";
}

// Cut a real log at every byte: a cut on an event boundary is a shorter valid
// log; any other cut must be an error naming the event that was cut and its
// offset (or, if only zero bytes of the cut event remain, be taken as padding).
void truncate_everywhere(const std::string& relpath) {
  const auto path = test::vector_path(relpath);
  if (path.empty()) GTEST_SKIP() << relpath << " not found";
  const Bytes full = test::read_file(path);
  auto whole = ParsedLog::parse(full);
  ASSERT_TRUE(whole.ok()) << whole.error().message;
  std::vector<size_t> starts;
  for (const Event& e : whole->events()) starts.push_back(e.offset);
  starts.push_back(full.size());

  size_t boundaries = 0, errors = 0;
  for (size_t cut = 1; cut < full.size(); ++cut) {
    const Bytes part(full.begin(), full.begin() + static_cast<std::ptrdiff_t>(cut));
    auto log = ParsedLog::parse(part);
    // Index of the event the cut falls in (or the number of whole events).
    const size_t k = static_cast<size_t>(std::upper_bound(starts.begin(), starts.end(), cut) - starts.begin()) - 1;
    if (starts[k] == cut) {
      ASSERT_TRUE(log.ok()) << "cut at event boundary " << cut << ": " << log.error().message;
      EXPECT_EQ(log->events().size(), k);
      ++boundaries;
      continue;
    }
    const bool zero_tail = std::all_of(part.begin() + static_cast<std::ptrdiff_t>(starts[k]), part.end(),
                                       [](uint8_t b) { return b == 0; });
    if (k > 0 && zero_tail) {
      ASSERT_TRUE(log.ok()) << "cut " << cut << ": " << log.error().message;
      EXPECT_EQ(log->events().size(), k);
      EXPECT_EQ(log->padding_bytes(), cut - starts[k]);
      continue;
    }
    ASSERT_FALSE(log.ok()) << "cut at " << cut << " parsed";
    EXPECT_THAT(log.error().message, HasSubstr(at(static_cast<uint32_t>(k), starts[k]))) << "cut at " << cut;
    ++errors;
  }
  EXPECT_EQ(boundaries, whole->events().size() - 1);
  EXPECT_GT(errors, full.size() / 2);
}

TEST(Hostile, CryptoAgileLogTruncatedAtEveryByte) { truncate_everywhere("eventlogs/event-sd-boot-fedora37.bin"); }
TEST(Hostile, LegacyLogTruncatedAtEveryByte) { truncate_everywhere("eventlogs/event-uefi-sha1-log.bin"); }

TEST(Hostile, EmptyAndAllZeroFiles) {
  EXPECT_THAT(parse_error({}), HasSubstr("empty (0 bytes)"));
  EXPECT_THAT(parse_error(Bytes(64, 0)), HasSubstr("event 0 at offset 0x0: the log is 64 zero bytes and holds no events"));
}

TEST(Hostile, OversizedFileRejectedBeforeParsing) {
  EXPECT_THAT(parse_error(Bytes(kMaxLogBytes + 1, 0xff)), HasSubstr("over the 16777216-byte limit"));
}

TEST(Hostile, HugeEventSizeInCryptoAgileEvent) {
  auto b = LogBuilder::crypto_agile({HashAlg::sha1, HashAlg::sha256});
  b.event(0, EV_S_CRTM_VERSION, "v");
  const size_t off = b.offset();
  test::Event2Options e;
  e.pcr = 4;
  e.type = EV_EFI_ACTION;
  e.digests = {{0x0004, Bytes(20, 1)}, {0x000B, Bytes(32, 2)}};
  e.data = {1, 2, 3};
  e.event_size = 0xFFFFFFFF;
  b.event2(e);
  const size_t size_field = off + 12 + (2 + 20) + (2 + 32);
  EXPECT_THAT(parse_error(b.build()),
              AllOf(HasSubstr(at(2, off)), HasSubstr("eventSize 4294967295 (at offset " + hex_offset(size_field) + ")"),
                    HasSubstr("runs past the end of the log (3 bytes left)")));
}

TEST(Hostile, HugeEventSizeInLegacyEvent) {
  auto b = LogBuilder::legacy();
  b.event(0, EV_S_CRTM_VERSION, "v");
  const size_t off = b.offset();
  b.legacy_event(7, EV_SEPARATOR, Bytes(20, 0), Bytes(4, 0), 0x7fffffff);
  EXPECT_THAT(parse_error(b.build()),
              AllOf(HasSubstr(at(1, off)), HasSubstr("eventSize 2147483647 runs past the end")));
}

TEST(Hostile, DigestCountDiffersFromHeader) {
  auto b = LogBuilder::crypto_agile({HashAlg::sha1, HashAlg::sha256});
  b.event(0, EV_S_CRTM_VERSION, "v");
  const size_t off = b.offset();
  test::Event2Options e;
  e.pcr = 4;
  e.type = EV_IPL;
  e.digests = {{0x0004, Bytes(20, 1)}, {0x000B, Bytes(32, 2)}, {0x000C, Bytes(48, 3)}};
  b.event2(e);
  EXPECT_EQ(parse_error(b.build()), at(2, off) + "digest count 3 (at offset " + hex_offset(off + 8) +
                                        ") but header declares 2 algorithms");
}

TEST(Hostile, UnknownAlgorithmInHeader) {
  auto h = LogBuilder::default_header({HashAlg::sha256});
  h.algorithms.push_back({0x0027, 32});  // TPM_ALG_SHA3_256: not a bank we replay
  EXPECT_THAT(parse_error(LogBuilder::crypto_agile(h).build()),
              AllOf(HasSubstr(at(0, 0)), HasSubstr("digestSizes[1].algorithmId at offset 0x40"),
                    HasSubstr("unknown hash algorithm 0x0027")));
}

TEST(Hostile, HeaderDigestSizeContradictsAlgorithm) {
  auto h = LogBuilder::default_header({HashAlg::sha1});
  h.algorithms.push_back({0x000B, 20});
  EXPECT_THAT(parse_error(LogBuilder::crypto_agile(h).build()),
              AllOf(HasSubstr(at(0, 0)), HasSubstr("digestSizes[1].digestSize at offset 0x40"),
                    HasSubstr("sha256 (0x000b) declared with size 20 but its digests are 32 bytes")));
}

TEST(Hostile, HeaderDeclaresAlgorithmTwice) {
  auto h = LogBuilder::default_header({HashAlg::sha256, HashAlg::sha256});
  EXPECT_THAT(parse_error(LogBuilder::crypto_agile(h).build()),
              AllOf(HasSubstr("digestSizes[1].algorithmId"), HasSubstr("sha256 is declared twice")));
}

TEST(Hostile, AbsurdNumberOfAlgorithms) {
  auto h = LogBuilder::default_header({HashAlg::sha256});
  h.number_of_algorithms = 0xFFFFFFFF;
  EXPECT_THAT(parse_error(LogBuilder::crypto_agile(h).build()),
              AllOf(HasSubstr(at(0, 0)), HasSubstr("numberOfAlgorithms at offset 0x38"),
                    HasSubstr("value 4294967295 is outside 1..5")));
  h.number_of_algorithms = 0;
  EXPECT_THAT(parse_error(LogBuilder::crypto_agile(h).build()), HasSubstr("value 0 is outside 1..5"));
  // Within the limit but more entries than the event holds: a bounded read fails.
  h.number_of_algorithms = 4;
  EXPECT_THAT(parse_error(LogBuilder::crypto_agile(h).build()),
              AllOf(HasSubstr("Spec ID header"), HasSubstr("digestSizes[1].algorithmId at offset 0x40"),
                    HasSubstr("need 2 bytes, only 1 left")));
}

TEST(Hostile, SpecIdEventSizeInconsistentWithStruct) {
  auto h = LogBuilder::default_header({HashAlg::sha256});
  h.event_size = 33 + 4;  // four bytes past vendorInfo, taken from the next event
  auto b = LogBuilder::crypto_agile(h);
  b.raw(Bytes(4, 0xee));
  EXPECT_THAT(parse_error(b.build()), AllOf(HasSubstr(at(0, 0)), HasSubstr("ends 4 bytes before the event data does")));
  h.event_size = 20;  // shorter than the struct
  EXPECT_THAT(parse_error(LogBuilder::crypto_agile(h).build()),
              AllOf(HasSubstr(at(0, 0)), HasSubstr("Spec ID header: specVersionMinor at offset 0x34: need 1 bytes, only 0 left")));
}

TEST(Hostile, SpecIdHeaderFieldsMustBeZero) {
  auto h = LogBuilder::default_header({HashAlg::sha256});
  h.pcr = 1;
  EXPECT_THAT(parse_error(LogBuilder::crypto_agile(h).build()), HasSubstr("header has pcrIndex 1 (must be 0)"));
  h.pcr = 0;
  h.sha1_field[7] = 1;
  EXPECT_THAT(parse_error(LogBuilder::crypto_agile(h).build()), HasSubstr("header has a non-zero digest"));
}

TEST(Hostile, AlgorithmNotDeclaredInHeader) {
  auto b = LogBuilder::crypto_agile({HashAlg::sha1, HashAlg::sha256});
  const size_t off = b.offset();
  test::Event2Options e;
  e.pcr = 0;
  e.type = EV_S_CRTM_VERSION;
  e.digests = {{0x0004, Bytes(20, 1)}, {0x000C, Bytes(48, 2)}};
  b.event2(e);
  EXPECT_EQ(parse_error(b.build()), at(1, off) + "digests[1].hashAlg at offset " + hex_offset(off + 12 + 22) +
                                        ": algorithm 0x000c is not declared in the Spec ID header");
}

TEST(Hostile, SameDigestTwiceInEvent) {
  auto b = LogBuilder::crypto_agile({HashAlg::sha1, HashAlg::sha256});
  const size_t off = b.offset();
  test::Event2Options e;
  e.digests = {{0x000B, Bytes(32, 1)}, {0x000B, Bytes(32, 2)}};
  b.event2(e);
  EXPECT_THAT(parse_error(b.build()), AllOf(HasSubstr(at(1, off)), HasSubstr("sha256 digest appears twice")));
}

TEST(Hostile, SecondSpecIdEvent) {
  auto b = LogBuilder::crypto_agile({HashAlg::sha256});
  b.event(0, EV_S_CRTM_VERSION, "v");
  const size_t off = b.offset();
  b.event_with_fill(0, EV_NO_ACTION, 0, as_bytes(std::string_view("Spec ID Event03\0\0\0\0\0", 20)));
  EXPECT_EQ(parse_error(b.build()), at(2, off) + "second Spec ID event (only the first event may be the header)");
}

TEST(Hostile, PcrIndexOutOfRange) {
  auto b = LogBuilder::crypto_agile({HashAlg::sha256});
  const size_t off = b.offset();
  b.event(24, EV_IPL, "x");
  EXPECT_EQ(parse_error(b.build()), at(1, off) + "pcrIndex 24 is out of range 0..23");
}

TEST(Hostile, StartupLocalityRules) {
  {
    auto b = LogBuilder::crypto_agile({HashAlg::sha256});
    b.startup_locality(3);
    const size_t off = b.offset();
    b.startup_locality(0);
    EXPECT_EQ(parse_error(b.build()), at(2, off) + "second StartupLocality event");
  }
  {
    auto b = LogBuilder::crypto_agile({HashAlg::sha256});
    b.startup_locality(9);
    EXPECT_THAT(parse_error(b.build()), HasSubstr("StartupLocality 9 is not a locality (0..4)"));
  }
  {
    auto b = LogBuilder::crypto_agile({HashAlg::sha256});
    const std::string data("StartupLocality\0\3\3", 18);
    b.event_with_fill(0, EV_NO_ACTION, 0, as_bytes(data));
    EXPECT_THAT(parse_error(b.build()), HasSubstr("StartupLocality event has eventSize 18 (must be 17)"));
  }
  {
    auto b = LogBuilder::crypto_agile({HashAlg::sha256});
    const std::string data("StartupLocality\0\3", 17);
    b.event_with_fill(2, EV_NO_ACTION, 0, as_bytes(data));
    EXPECT_THAT(parse_error(b.build()), HasSubstr("StartupLocality event on PCR 2 (must be PCR 0)"));
  }
}

TEST(Hostile, ZeroPaddingAfterLastEventIsNotEvents) {
  auto b = LogBuilder::crypto_agile({HashAlg::sha256});
  b.event(7, EV_SEPARATOR, "s");
  auto unpadded = ParsedLog::parse(b.build());
  ASSERT_TRUE(unpadded.ok());
  b.raw(Bytes(1000, 0));
  auto padded = ParsedLog::parse(b.build());
  ASSERT_TRUE(padded.ok()) << padded.error().message;
  EXPECT_EQ(padded->events().size(), 2u);
  EXPECT_EQ(padded->padding_bytes(), 1000u);
  EXPECT_EQ(*replay(*padded), *replay(*unpadded));
}

TEST(Hostile, NonZeroBytesAfterPaddingAreParsedAndRejected) {
  auto b = LogBuilder::crypto_agile({HashAlg::sha256});
  b.event(7, EV_SEPARATOR, "s");
  const size_t off = b.offset();
  b.raw(Bytes(40, 0)).raw(Bytes{0x01});
  EXPECT_EQ(parse_error(b.build()), at(2, off) + "digest count 0 (at offset " + hex_offset(off + 8) +
                                        ") but header declares 1 algorithm");
}

TEST(Hostile, GarbageTailAfterLastEvent) {
  auto b = LogBuilder::legacy();
  b.event(0, EV_S_CRTM_VERSION, "v");
  const size_t off = b.offset();
  b.raw(Bytes{1, 2, 3, 4, 5, 6});
  EXPECT_EQ(parse_error(b.build()), at(1, off) + "eventType at offset " + hex_offset(off + 4) +
                                        ": need 4 bytes, only 2 left");
}

TEST(Hostile, LegacyTpm12HeaderIsLegacyLog) {
  // A TPM 1.2 "Spec ID Event02" header means a SHA-1 log; the header is an event.
  auto b = LogBuilder::legacy();
  b.legacy_event(0, EV_NO_ACTION, Bytes(20, 0), as_bytes(std::string_view("Spec ID Event02\0\0\0\0\0", 20)));
  b.event(0, EV_S_CRTM_VERSION, "v");
  auto log = ParsedLog::parse(b.build());
  ASSERT_TRUE(log.ok()) << log.error().message;
  EXPECT_EQ(log->format(), LogFormat::sha1_legacy);
  EXPECT_EQ(log->events().size(), 2u);
  // ...but not a second one later.
  const size_t off = b.offset();
  b.legacy_event(0, EV_NO_ACTION, Bytes(20, 0), as_bytes(std::string_view("Spec ID Event02\0", 16)));
  EXPECT_EQ(parse_error(b.build()), at(2, off) + "Spec ID event after the first event");
}

TEST(Hostile, BitFlipsNeverCrash) {
  // Deterministic mutation sweep of a real log: parse must return (ok or error),
  // and replay must succeed whenever parse did.
  const auto path = test::vector_path("eventlogs/event-sd-boot-fedora37.bin");
  if (path.empty()) GTEST_SKIP() << "vector not found";
  const Bytes full = test::read_file(path);
  size_t rejected = 0;
  for (size_t i = 0; i < full.size(); i += 3) {
    Bytes m = full;
    m[i] ^= static_cast<uint8_t>(0x80 >> (i % 8));
    auto log = ParsedLog::parse(std::move(m));
    if (!log.ok()) {
      EXPECT_THAT(log.error().message, HasSubstr(" at offset 0x"));
      ++rejected;
      continue;
    }
    EXPECT_TRUE(replay(*log).ok());
  }
  EXPECT_GT(rejected, 0u);
}

}  // namespace
}  // namespace tl::eventlog
