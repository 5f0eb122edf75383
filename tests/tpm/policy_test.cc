// TPM2_PolicyPCR digests computed by tpm::policy_pcr_digest equal the ones a real
// TPM (swtpm, trial session via tpm2_createpolicy) computes, for the TPM's own PCR
// values and for values given in a file; malformed PCR lists are refused.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <memory>
#include <optional>
#include <string>

#include "common/hex.h"
#include "swtpm.h"
#include "tpm/pcr_file.h"
#include "tpm/policy.h"

namespace tl::tpm {
namespace {

using crypto::HashAlg;
using ::testing::HasSubstr;

class PolicyPcr : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    auto s = test::Swtpm::start();
    if (!s) {
      setup_error_ = s.error().message;
      return;
    }
    tpm_ = std::move(*s);
    auto r = tpm_->run("tpm2_pcrextend 0:sha256=" + std::string(64, 'a') + " 7:sha256=" +
                       std::string(64, 'c') + " 9:sha256=" + std::string(64, 'e'));
    if (!r) setup_error_ = r.error().message;
  }
  static void TearDownTestSuite() {
    tpm_.reset();
    setup_error_.reset();
  }
  void SetUp() override {
    if (setup_error_) FAIL() << "swtpm setup: " << *setup_error_;
  }

  // The TPM's policy digest (trial sessions are flushed: swtpm has only a few slots) 
  // for `sel` (tpm2-tools spelling), from its PCRs or `file`.
  static Bytes tpm_policy(const std::string& sel, const std::string& file = "") {
    auto r = tpm_->run("tpm2_createpolicy -Q --policy-pcr -l " + sel + (file.empty() ? "" : " -f " + file) +
                       " -L policy.bin; rc=$?; tpm2_flushcontext -l >/dev/null 2>&1; (exit $rc)");
    EXPECT_TRUE(r.ok()) << r.error().message;
    return tpm_->read("policy.bin");
  }
  static PcrValues read_pcrs(const std::string& sel) {
    auto yaml = tpm_->run("tpm2_pcrread " + sel);
    EXPECT_TRUE(yaml.ok()) << yaml.error().message;
    auto p = parse_pcr_file(as_bytes(*yaml));
    EXPECT_TRUE(p.ok()) << p.error().message;
    return p.ok() ? *p : PcrValues{};
  }

  static inline std::unique_ptr<test::Swtpm> tpm_;
  static inline std::optional<std::string> setup_error_;
};

TEST_F(PolicyPcr, MatchesTheTpmForItsOwnPcrValues) {
  for (const std::vector<uint32_t>& pcrs :
       {std::vector<uint32_t>{7}, {0, 1, 2, 3, 4, 5, 6, 7}, {0, 7, 9, 23}}) {
    std::string sel = "sha256:";
    for (size_t i = 0; i < pcrs.size(); ++i) sel += (i ? "," : "") + std::to_string(pcrs[i]);
    const PcrValues values = read_pcrs(sel);
    auto mine = policy_pcr_digest(HashAlg::sha256, HashAlg::sha256, pcrs, values.at(HashAlg::sha256));
    ASSERT_TRUE(mine.ok()) << mine.error().message;
    EXPECT_EQ(to_hex(*mine), to_hex(tpm_policy(sel))) << sel;
  }
}

TEST_F(PolicyPcr, MatchesTheTpmForGivenValuesAndDiffersWhenOneChanges) {
  Bytes file;
  PcrMap values;
  for (uint32_t i = 0; i < 3; ++i) {
    Bytes v(32, static_cast<uint8_t>(0x11 * (i + 1)));
    file.insert(file.end(), v.begin(), v.end());
    values[i] = v;
  }
  tpm_->write("given.pcrs", file);
  auto mine = policy_pcr_digest(HashAlg::sha256, HashAlg::sha256, {0, 1, 2}, values);
  ASSERT_TRUE(mine.ok()) << mine.error().message;
  EXPECT_EQ(to_hex(*mine), to_hex(tpm_policy("sha256:0,1,2", "given.pcrs")));

  values[1][0] ^= 1;
  auto other = policy_pcr_digest(HashAlg::sha256, HashAlg::sha256, {0, 1, 2}, values);
  ASSERT_TRUE(other.ok());
  EXPECT_NE(*other, *mine);
}

TEST_F(PolicyPcr, SelectionMarshalling) {
  auto s = marshal_pcr_selection(HashAlg::sha256, {0, 7, 8, 23});
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(to_hex(*s), "00000001000b03810180");
}

TEST_F(PolicyPcr, MalformedListsAreRefused) {
  PcrMap v{{0, Bytes(32, 0)}, {1, Bytes(32, 0)}, {24, Bytes(32, 0)}};
  auto empty = policy_pcr_digest(HashAlg::sha256, HashAlg::sha256, {}, v);
  ASSERT_FALSE(empty.ok());
  EXPECT_THAT(empty.error().message, HasSubstr("empty"));
  auto range = policy_pcr_digest(HashAlg::sha256, HashAlg::sha256, {0, 24}, v);
  ASSERT_FALSE(range.ok());
  EXPECT_THAT(range.error().message, HasSubstr("PCR 24 is out of range"));
  auto order = policy_pcr_digest(HashAlg::sha256, HashAlg::sha256, {1, 0}, v);
  ASSERT_FALSE(order.ok());
  EXPECT_THAT(order.error().message, HasSubstr("ascending"));
  auto dup = policy_pcr_digest(HashAlg::sha256, HashAlg::sha256, {1, 1}, v);
  ASSERT_FALSE(dup.ok());
  auto missing = policy_pcr_digest(HashAlg::sha256, HashAlg::sha256, {0, 2}, v);
  ASSERT_FALSE(missing.ok());
  EXPECT_THAT(missing.error().message, HasSubstr("sha256 PCR 2: no value"));
  PcrMap short_value{{0, Bytes(20, 0)}};
  auto size = policy_pcr_digest(HashAlg::sha256, HashAlg::sha256, {0}, short_value);
  ASSERT_FALSE(size.ok());
  EXPECT_THAT(size.error().message, HasSubstr("20 bytes, expected 32"));
  auto prev = policy_pcr_digest(HashAlg::sha256, HashAlg::sha256, {0}, v, Bytes(5, 0));
  ASSERT_FALSE(prev.ok());
}

}  // namespace
}  // namespace tl::tpm
