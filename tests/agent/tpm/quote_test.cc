// Quotes from the agent's AK verify with our verifier (tpm::verify_quote), bind
// the nonce, and carry the PCR values as extended.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "agent_tpm_fixture.h"
#include "tpm/quote.h"

namespace tl::agent::tpm::testing {
namespace {

using crypto::HashAlg;

class AgentTpmQuote : public SwtpmSuite {};

const std::vector<uint32_t> kPcrs0to7 = {0, 1, 2, 3, 4, 5, 6, 7};

TEST_F(AgentTpmQuote, QuoteVerifiesAndNotForAnotherNonce) {
  Tpm tpm = open();
  auto ak = tpm.attestation_key();
  ASSERT_TRUE(ak.ok()) << ak.error().message;
  const Bytes nonce = bytes_of("5eed000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f");
  auto q = tpm.quote(nonce, std::vector{HashAlg::sha256, HashAlg::sha1}, kPcrs0to7);
  ASSERT_TRUE(q.ok()) << q.error().message;
  EXPECT_EQ(q->attempts, 1u);
  ASSERT_EQ(q->pcrs.size(), 2u);
  EXPECT_EQ(q->pcrs.at(HashAlg::sha256).size(), 8u);
  EXPECT_EQ(q->pcrs.at(HashAlg::sha1).size(), 8u);
  const auto area = parse(ak->public_area);
  auto v = tl::tpm::verify_quote(area, q->attest, q->signature, q->pcrs, nonce,
                                 {{HashAlg::sha256, kPcrs0to7}, {HashAlg::sha1, kPcrs0to7}});
  ASSERT_TRUE(v.ok()) << v.error().message;
  EXPECT_EQ(v->pcrs(), q->pcrs);

  Bytes other = nonce;
  other[0] ^= 1;
  auto bad = tl::tpm::verify_quote(area, q->attest, q->signature, q->pcrs, other, {{HashAlg::sha256, kPcrs0to7}});
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.error().message.find("quote check 'nonce' failed"), std::string::npos) << bad.error().message;
  EXPECT_NOTHING_LOADED(tpm);
}

TEST_F(AgentTpmQuote, QuoteReflectsPcrExtends) {
  Tpm tpm = open();
  const std::vector<uint32_t> pcrs = {3, 16};
  auto before = tpm.read_pcrs(std::vector{HashAlg::sha256}, pcrs);
  ASSERT_TRUE(before.ok()) << before.error().message;
  const Bytes d1(32, 0xa1), d2(32, 0xb2);
  ASSERT_TRUE(extend(tpm, 3, HashAlg::sha256, d1).ok());
  ASSERT_TRUE(extend(tpm, 3, HashAlg::sha256, d2).ok());
  ASSERT_TRUE(extend(tpm, 16, HashAlg::sha256, d1).ok());
  auto e3 = crypto::pcr_extend(HashAlg::sha256, before->at(HashAlg::sha256).at(3), d1);
  e3 = crypto::pcr_extend(HashAlg::sha256, *e3, d2);
  auto e16 = crypto::pcr_extend(HashAlg::sha256, before->at(HashAlg::sha256).at(16), d1);

  const Bytes nonce = bytes_of("c0ffee");
  auto q = tpm.quote(nonce, std::vector{HashAlg::sha256}, pcrs);
  ASSERT_TRUE(q.ok()) << q.error().message;
  EXPECT_EQ(to_hex(q->pcrs.at(HashAlg::sha256).at(3)), to_hex(*e3));
  EXPECT_EQ(to_hex(q->pcrs.at(HashAlg::sha256).at(16)), to_hex(*e16));
  auto ak = tpm.attestation_key();
  ASSERT_TRUE(ak.ok());
  const auto area = parse(ak->public_area);
  auto v = tl::tpm::verify_quote(area, q->attest, q->signature, q->pcrs, nonce, {{HashAlg::sha256, pcrs}});
  ASSERT_TRUE(v.ok()) << v.error().message;
  // The values from before the extends do not match the signed digest.
  auto stale = tl::tpm::verify_quote(area, q->attest, q->signature, *before, nonce, {{HashAlg::sha256, pcrs}});
  ASSERT_FALSE(stale.ok());
  EXPECT_NE(stale.error().message.find("'pcr_digest'"), std::string::npos) << stale.error().message;
  EXPECT_NOTHING_LOADED(tpm);
}

// 48 PCR values: more than one TPM2_PCR_Read (8 digests each).
TEST_F(AgentTpmQuote, AllPcrsOfTwoBanksWithAnEccAk) {
  Tpm tpm = open({.ak_alg = KeyAlg::ecc_p256, .ak_handle = 0x81000011});
  std::vector<uint32_t> all;
  for (uint32_t i = 0; i < 24; ++i) all.push_back(i);
  const Bytes nonce(64, 0x42);  // the largest nonce a TPM2B_DATA holds here
  auto q = tpm.quote(nonce, std::vector{HashAlg::sha1, HashAlg::sha256}, all);
  ASSERT_TRUE(q.ok()) << q.error().message;
  EXPECT_EQ(q->pcrs.at(HashAlg::sha1).size(), 24u);
  EXPECT_EQ(q->pcrs.at(HashAlg::sha256).size(), 24u);
  auto ak = tpm.attestation_key();
  ASSERT_TRUE(ak.ok());
  auto v = tl::tpm::verify_quote(parse(ak->public_area), q->attest, q->signature, q->pcrs, nonce,
                                 {{HashAlg::sha256, all}, {HashAlg::sha1, all}});
  ASSERT_TRUE(v.ok()) << v.error().message;
  auto read = tpm.read_pcrs(std::vector{HashAlg::sha256, HashAlg::sha1}, all);
  ASSERT_TRUE(read.ok()) << read.error().message;
  EXPECT_EQ(*read, q->pcrs);
  EXPECT_NOTHING_LOADED(tpm);
}

TEST_F(AgentTpmQuote, BadArgumentsAreRefusedBeforeTheTpm) {
  Tpm tpm = open();
  const std::vector sha256{HashAlg::sha256};
  EXPECT_FALSE(tpm.quote({}, sha256, kPcrs0to7).ok());              // empty nonce
  EXPECT_FALSE(tpm.quote(Bytes(65, 1), sha256, kPcrs0to7).ok());    // nonce too long
  EXPECT_FALSE(tpm.quote(Bytes(8, 1), sha256, std::vector<uint32_t>{}).ok());
  EXPECT_FALSE(tpm.read_pcrs(sha256, std::vector<uint32_t>{24}).ok());
  EXPECT_FALSE(tpm.read_pcrs(sha256, std::vector<uint32_t>{7, 3}).ok());
  EXPECT_FALSE(tpm.read_pcrs(sha256, std::vector<uint32_t>{3, 3}).ok());
  EXPECT_FALSE(tpm.read_pcrs(std::vector<HashAlg>{}, kPcrs0to7).ok());
  auto twice = tpm.read_pcrs(std::vector{HashAlg::sha256, HashAlg::sha256}, kPcrs0to7);
  ASSERT_FALSE(twice.ok());
  EXPECT_EQ(twice.error().reason, "tpm-invalid-argument");
  EXPECT_NOTHING_LOADED(tpm);
}

}  // namespace
}  // namespace tl::agent::tpm::testing
