// ParsedLog::parse and replay() against real firmware logs and the results
// their upstream projects assert (shared/vectors/eventlogs/expected.json).

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <map>
#include <string>

#include "eventlog/parsed_log.h"
#include "eventlog/replay.h"
#include "support/test_support.h"
#include "vector_logs.h"

namespace tl::eventlog {
namespace {

using ::testing::HasSubstr;

nlohmann::json expected_entry(const std::filesystem::path& expected, const std::string& file) {
  const auto all = nlohmann::json::parse(test::read_text(expected));
  for (const auto& e : all)
    if (e.at("file") == file) return e;
  throw std::runtime_error(file + " is not in expected.json");
}

std::string bank_and_pcr(crypto::HashAlg bank, uint32_t pcr) {
  return std::string(crypto::hash_name(bank)) + " PCR " + std::to_string(pcr);
}

class ExpectedLog : public ::testing::TestWithParam<std::string> {};

TEST_P(ExpectedLog, CountsTypesAndFinalPcrsMatchUpstream) {
  TL_REQUIRE_VECTOR(expected_path, "eventlogs/expected.json");
  TL_REQUIRE_VECTOR(log_path, "eventlogs/" + GetParam());
  const nlohmann::json expected = expected_entry(expected_path, GetParam());

  auto log = ParsedLog::parse(test::read_file(log_path));
  ASSERT_TRUE(log.ok()) << log.error().message;

  EXPECT_EQ(log->events().size(), expected.at("event_count_including_first").get<size_t>());
  std::map<std::string, size_t> counts;
  for (const Event& e : log->events()) ++counts[event_type_name(e.type)];
  std::map<std::string, size_t> want_counts;
  for (const auto& [name, n] : expected.at("event_type_counts").items()) want_counts[name] = n.get<size_t>();
  EXPECT_EQ(counts, want_counts);

  auto pcrs = replay(*log);
  ASSERT_TRUE(pcrs.ok()) << pcrs.error().message;
  const tpm::PcrValues want = test::pcrs_from_json(expected.at("final_pcrs"));
  // Every bank upstream lists, with exactly the PCRs upstream lists.
  for (const auto& [bank, want_map] : want) {
    ASSERT_TRUE(pcrs->count(bank)) << "bank " << crypto::hash_name(bank) << " not replayed";
    const tpm::PcrMap& got = pcrs->at(bank);
    for (const auto& [pcr, value] : want_map) {
      ASSERT_TRUE(got.count(pcr)) << bank_and_pcr(bank, pcr) << " not replayed";
      EXPECT_EQ(to_hex(got.at(pcr)), to_hex(value)) << bank_and_pcr(bank, pcr);
    }
    for (const auto& [pcr, value] : got)
      EXPECT_TRUE(want_map.count(pcr)) << bank_and_pcr(bank, pcr) << " replayed but upstream lists no value";
  }
}

INSTANTIATE_TEST_SUITE_P(Vectors, ExpectedLog,
                         ::testing::Values("event-uefi-sha1-log.bin", "event-bootorder.bin",
                                           "event-postcode.bin", "event-sd-boot-fedora37.bin",
                                           "event-moklisttrusted.bin", "event-arch-linux.bin",
                                           "event-gce-ubuntu-2104-log.bin"),
                         [](const ::testing::TestParamInfo<std::string>& p) {
                           std::string n = p.param;
                           for (char& c : n)
                             if (!std::isalnum(static_cast<unsigned char>(c))) c = '_';
                           return n;
                         });

TEST(ParseVectors, ExpectedJsonListsOnlyFilesWeTest) {
  // Guards against a new vector with final_pcrs silently going untested.
  TL_REQUIRE_VECTOR(expected_path, "eventlogs/expected.json");
  const auto all = nlohmann::json::parse(test::read_text(expected_path));
  size_t with_pcrs = 0;
  for (const auto& e : all) with_pcrs += e.contains("final_pcrs") ? 1 : 0;
  EXPECT_EQ(with_pcrs, 7u);
}

TEST(ParseVectors, FormatAndBanksDetectedFromFirstEvent) {
  TL_REQUIRE_VECTOR(sha1_path, "eventlogs/event-uefi-sha1-log.bin");
  TL_REQUIRE_VECTOR(gce_path, "eventlogs/event-gce-ubuntu-2104-log.bin");
  auto sha1 = ParsedLog::parse(test::read_file(sha1_path));
  ASSERT_TRUE(sha1.ok()) << sha1.error().message;
  EXPECT_EQ(sha1->format(), LogFormat::sha1_legacy);
  EXPECT_EQ(sha1->banks(), std::vector<crypto::HashAlg>{crypto::HashAlg::sha1});
  EXPECT_EQ(sha1->events()[0].type, EV_S_CRTM_VERSION);  // a legacy log's first event is a measurement

  auto gce = ParsedLog::parse(test::read_file(gce_path));
  ASSERT_TRUE(gce.ok()) << gce.error().message;
  EXPECT_EQ(gce->format(), LogFormat::crypto_agile);
  EXPECT_EQ(gce->banks(), (std::vector<crypto::HashAlg>{crypto::HashAlg::sha1, crypto::HashAlg::sha256,
                                                         crypto::HashAlg::sha384}));
  ASSERT_EQ(gce->spec_id_algorithms().size(), 3u);
  EXPECT_EQ(gce->spec_id_algorithms()[2].alg_id, 0x000C);
  EXPECT_EQ(gce->spec_id_algorithms()[2].digest_size, 48);
  EXPECT_EQ(gce->events()[0].type, EV_NO_ACTION);
  EXPECT_EQ(gce->events()[0].offset, 0u);
  // Events after the header carry one digest per declared bank, views into the file.
  const Event& second = gce->events()[1];
  ASSERT_EQ(second.digests.size(), 3u);
  EXPECT_EQ(second.digest(crypto::HashAlg::sha384).size(), 48u);
  EXPECT_EQ(second.offset, gce->events()[0].offset + 32 + gce->events()[0].data.size());
  EXPECT_GE(second.data.data(), gce->bytes().data());
  EXPECT_LE(second.data.data() + second.data.size(), gce->bytes().data() + gce->bytes().size());
}

TEST(ParseVectors, KeylimeSecureBootLogsParse) {
  for (const char* name : {"eventlogs/keylime-sb-enabled.bin", "eventlogs/keylime-sb-disabled.bin"}) {
    TL_REQUIRE_VECTOR(path, name);
    auto log = ParsedLog::parse(test::read_file(path));
    ASSERT_TRUE(log.ok()) << name << ": " << log.error().message;
    EXPECT_EQ(log->format(), LogFormat::crypto_agile) << name;
    EXPECT_GT(log->events().size(), 20u) << name;
    auto pcrs = replay(*log);
    ASSERT_TRUE(pcrs.ok()) << pcrs.error().message;
    EXPECT_TRUE(pcrs->at(crypto::HashAlg::sha256).count(7)) << name << ": PCR 7 (Secure Boot policy) replayed";
  }
}

TEST(ParseVectors, KeylimeBogusRejectedNamingTheOverrun) {
  TL_REQUIRE_VECTOR(path, "eventlogs/keylime-bogus.bin");
  auto log = ParsedLog::parse(test::read_file(path));
  ASSERT_FALSE(log.ok());
  // 34 bytes of ASCII text: the first event's header claims eventSize 0x7265670a.
  EXPECT_THAT(log.error().message, HasSubstr("event 0 at offset 0x0"));
  EXPECT_THAT(log.error().message, HasSubstr("eventSize 1919248394"));
  EXPECT_THAT(log.error().message, HasSubstr("past the end"));
}

TEST(ParseVectors, KeylimeEmptyRejected) {
  TL_REQUIRE_VECTOR(path, "eventlogs/keylime-empty.bin");
  auto log = ParsedLog::parse(test::read_file(path));
  ASSERT_FALSE(log.ok());
  EXPECT_THAT(log.error().message, HasSubstr("empty"));
}

TEST(ParseVectors, KeylimeIssue1153Base64LogParsesAndReplays) {
  TL_REQUIRE_VECTOR(path, "eventlogs/keylime-issue1153.b64");
  auto bytes = test::decode_base64(test::read_text(path));
  ASSERT_TRUE(bytes.ok()) << bytes.error().message;
  auto log = ParsedLog::parse(std::move(*bytes));
  ASSERT_TRUE(log.ok()) << log.error().message;
  EXPECT_EQ(log->format(), LogFormat::crypto_agile);
  auto pcrs = replay(*log);
  ASSERT_TRUE(pcrs.ok()) << pcrs.error().message;
  EXPECT_FALSE(pcrs->at(crypto::HashAlg::sha256).empty());
}

TEST(Base64, DecodesRfc4648Vectors) {
  // RFC 4648 section 10.
  EXPECT_EQ(*test::decode_base64("Zm9vYmFy"), Bytes(as_bytes("foobar").begin(), as_bytes("foobar").end()));
  EXPECT_EQ(*test::decode_base64("Zm9vYg=="), Bytes(as_bytes("foob").begin(), as_bytes("foob").end()));
  EXPECT_EQ(*test::decode_base64("Zm8="), Bytes(as_bytes("fo").begin(), as_bytes("fo").end()));
  EXPECT_FALSE(test::decode_base64("Zm9v!").ok());
  EXPECT_FALSE(test::decode_base64("Zm9vY").ok());
}

}  // namespace
}  // namespace tl::eventlog
