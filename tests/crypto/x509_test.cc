#include "crypto/x509.h"

#include <gtest/gtest.h>

#include "crypto/digest.h"
#include "support/test_support.h"

namespace tl::crypto {
namespace {

TEST(X509, SummarizesRealEkCertificate) {
  TL_REQUIRE_VECTOR(path, "ovmf-secureboot/ekcert.der");
  const Bytes der = test::read_file(path);
  auto s = summarize_der_certificate(der);
  ASSERT_TRUE(s.ok()) << s.error().message;
  EXPECT_NE(s->issuer.find("swtpm"), std::string::npos) << s->issuer;
  EXPECT_EQ(s->sha256_fingerprint, to_hex(*digest(HashAlg::sha256, der)));
  EXPECT_EQ(s->not_before.size(), 20u);
}

TEST(X509, RejectsTruncatedAndTrailing) {
  TL_REQUIRE_VECTOR(path, "ovmf-secureboot/ekcert.der");
  Bytes der = test::read_file(path);
  Bytes truncated(der.begin(), der.end() - 10);
  EXPECT_FALSE(summarize_der_certificate(truncated).ok());
  der.push_back(0);
  auto t = summarize_der_certificate(der);
  ASSERT_FALSE(t.ok());
  EXPECT_NE(t.error().message.find("trailing"), std::string::npos);
  EXPECT_FALSE(summarize_der_certificate(Bytes{}).ok());
}

}  // namespace
}  // namespace tl::crypto
