// The quote recorded in a real Secure Boot VM (shared/vectors/ovmf-secureboot):
// RSA AK, RSASSA-SHA256, sha256 PCRs 0-9,14.
#include <gtest/gtest.h>

#include <string>

#include "common/hex.h"
#include "crypto/public_key.h"
#include "support/test_support.h"
#include "tpm/pcr_file.h"
#include "tpm/quote.h"

namespace tl::tpm {
namespace {

using crypto::HashAlg;

struct Vector {
  Bytes msg, sig;
  PcrValues pcrs;
  Bytes nonce;
  crypto::PublicKey ak;
};

Vector load(const std::filesystem::path& dir) {
  auto pcrs = parse_pcr_file(test::read_file(dir / "quote.pcrs"));
  EXPECT_TRUE(pcrs.ok()) << pcrs.error().message;
  std::string nonce_text = test::read_text(dir / "quote_nonce.txt");
  while (!nonce_text.empty() && (nonce_text.back() == '\n' || nonce_text.back() == '\r')) nonce_text.pop_back();
  auto nonce = from_hex(nonce_text);
  EXPECT_TRUE(nonce.ok());
  auto ak = crypto::PublicKey::from_pem(test::read_text(dir / "ak.pub"));
  EXPECT_TRUE(ak.ok());
  return Vector{test::read_file(dir / "quote.msg"), test::read_file(dir / "quote.sig"), *pcrs,
                *nonce, *ak};
}

TEST(VectorQuote, VerifiesWithItsNonce) {
  TL_REQUIRE_VECTOR(dir, "ovmf-secureboot/quote.msg");
  Vector v = load(dir.parent_path());
  auto q = verify_quote(v.ak, v.msg, v.sig, v.pcrs, v.nonce,
                        {{HashAlg::sha256, {0, 1, 2, 3, 4, 5, 6, 7}}});
  ASSERT_TRUE(q.ok()) << q.error().message;
  ASSERT_EQ(q->pcrs().size(), 1u);
  const PcrMap& m = q->pcrs().at(HashAlg::sha256);
  std::vector<uint32_t> got;
  for (const auto& [k, val] : m) got.push_back(k);
  EXPECT_EQ(got, (std::vector<uint32_t>{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 14}));
  // PCR0 as read in the guest (pcrs_guest_sysfs.txt).
  EXPECT_EQ(to_hex(m.at(0)), "90040fdebcaef6fed8beec816d2a56ff8d77f91516bd053e493374c25562f11c");
  EXPECT_EQ(to_hex(q->nonce()), to_hex(v.nonce));
  EXPECT_EQ(q->reset_count(), 3u);
  EXPECT_EQ(q->restart_count(), 0u);
  EXPECT_TRUE(q->safe());
}

TEST(VectorQuote, EmptyRequiredMeansEverySuppliedPcr) {
  TL_REQUIRE_VECTOR(dir, "ovmf-secureboot/quote.msg");
  Vector v = load(dir.parent_path());
  // All supplied PCRs are in the selection: accepted.
  auto ok = verify_quote(v.ak, v.msg, v.sig, v.pcrs, v.nonce, {});
  ASSERT_TRUE(ok.ok()) << ok.error().message;
  // A supplied PCR outside the selection (PCR 16) must be refused, not silently dropped.
  PcrValues extra = v.pcrs;
  extra[HashAlg::sha256][16] = Bytes(32, 0x11);
  auto bad = verify_quote(v.ak, v.msg, v.sig, extra, v.nonce, {});
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.error().message.find("'pcr_selection'"), std::string::npos) << bad.error().message;
  EXPECT_NE(bad.error().message.find("sha256 PCR 16"), std::string::npos) << bad.error().message;
}

TEST(VectorQuote, FailsWithAnyOtherNonce) {
  TL_REQUIRE_VECTOR(dir, "ovmf-secureboot/quote.msg");
  Vector v = load(dir.parent_path());
  for (size_t i = 0; i < v.nonce.size(); i += 7) {
    Bytes other = v.nonce;
    other[i] ^= 0x01;
    auto q = verify_quote(v.ak, v.msg, v.sig, v.pcrs, other, {});
    ASSERT_FALSE(q.ok());
    EXPECT_NE(q.error().message.find("quote check 'nonce' failed"), std::string::npos)
        << q.error().message;
  }
  Bytes shorter(v.nonce.begin(), v.nonce.end() - 1);
  EXPECT_FALSE(verify_quote(v.ak, v.msg, v.sig, v.pcrs, shorter, {}).ok());
  auto empty = verify_quote(v.ak, v.msg, v.sig, v.pcrs, {}, {});
  ASSERT_FALSE(empty.ok());
  EXPECT_NE(empty.error().message.find("no expected nonce"), std::string::npos);
}

TEST(VectorQuote, RequiredPcrOutsideSelectionIsRefused) {
  TL_REQUIRE_VECTOR(dir, "ovmf-secureboot/quote.msg");
  Vector v = load(dir.parent_path());
  auto q = verify_quote(v.ak, v.msg, v.sig, v.pcrs, v.nonce, {{HashAlg::sha256, {0, 10}}});
  ASSERT_FALSE(q.ok());
  EXPECT_NE(q.error().message.find("required sha256 PCR 10 not in the quote's selection"),
            std::string::npos)
      << q.error().message;
  auto q1 = verify_quote(v.ak, v.msg, v.sig, v.pcrs, v.nonce, {{HashAlg::sha1, {0}}});
  ASSERT_FALSE(q1.ok());
  EXPECT_NE(q1.error().message.find("sha1 PCR 0"), std::string::npos) << q1.error().message;
}

TEST(VectorQuote, ReportListsEveryCheck) {
  TL_REQUIRE_VECTOR(dir, "ovmf-secureboot/quote.msg");
  Vector v = load(dir.parent_path());
  QuoteReport rep = check_quote(v.ak, v.msg, v.sig, v.pcrs, v.nonce, {});
  ASSERT_TRUE(rep.ok()) << rep.failure_message();
  std::vector<std::string> names;
  for (const auto& c : rep.checks) {
    names.push_back(c.name);
    EXPECT_TRUE(c.passed) << c.name;
  }
  EXPECT_EQ(names, (std::vector<std::string>{"attest.parse", "signature.parse", "magic", "type",
                                             "nonce", "signature.scheme", "signature",
                                             "pcr_selection", "pcr_values", "pcr_digest"}));
}

TEST(VectorQuote, SysfsPcrsFromTheGuestAlsoVerify) {
  TL_REQUIRE_VECTOR(dir, "ovmf-secureboot/pcrs_guest_sysfs.txt");
  Vector v = load(dir.parent_path());
  auto sysfs = parse_pcr_file(test::read_file(dir));
  ASSERT_TRUE(sysfs.ok()) << sysfs.error().message;
  // The guest's sysfs dump has more PCRs than the quote; require only the quoted ones.
  auto q = verify_quote(v.ak, v.msg, v.sig, *sysfs, v.nonce, {{HashAlg::sha256, {0, 1, 2, 3, 4, 5, 6, 7}}});
  ASSERT_TRUE(q.ok()) << q.error().message;
  EXPECT_EQ(q->pcrs().at(HashAlg::sha256).size(), 11u);  // only the selected ones
}

}  // namespace
}  // namespace tl::tpm
