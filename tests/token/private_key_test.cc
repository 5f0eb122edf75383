// crypto::PrivateKey: generation, PKCS#8 round trip, JOSE signature forms.
#include "crypto/private_key.h"

#include <gtest/gtest.h>

namespace tl::crypto {
namespace {

TEST(PrivateKey, Es256SignatureIsRaw64Bytes) {
  auto k = PrivateKey::generate(JwsAlg::es256);
  ASSERT_TRUE(k.ok()) << k.error().message;
  for (int i = 0; i < 20; ++i) {  // DER would vary in length (70..72); raw never does
    auto sig = k->sign(as_bytes("message " + std::to_string(i)));
    ASSERT_TRUE(sig.ok()) << sig.error().message;
    EXPECT_EQ(sig->size(), 64u);
    EXPECT_TRUE(verify_jws_signature(JwsAlg::es256, k->public_key(), as_bytes("message " + std::to_string(i)), *sig).ok());
  }
}

TEST(PrivateKey, RsaSignaturesAreModulusSized) {
  for (JwsAlg alg : {JwsAlg::rs256, JwsAlg::ps256}) {
    auto k = PrivateKey::generate(alg);
    ASSERT_TRUE(k.ok()) << k.error().message;
    EXPECT_EQ(k->public_key().bits(), 3072);
    auto sig = k->sign(as_bytes("hello"));
    ASSERT_TRUE(sig.ok());
    EXPECT_EQ(sig->size(), 384u);
    EXPECT_TRUE(verify_jws_signature(alg, k->public_key(), as_bytes("hello"), *sig).ok());
    EXPECT_FALSE(verify_jws_signature(alg, k->public_key(), as_bytes("hellO"), *sig).ok());
    // RS256 and PS256 signatures are not interchangeable.
    const JwsAlg other = alg == JwsAlg::rs256 ? JwsAlg::ps256 : JwsAlg::rs256;
    EXPECT_FALSE(verify_jws_signature(other, k->public_key(), as_bytes("hello"), *sig).ok());
  }
}

TEST(PrivateKey, Pkcs8RoundTripKeepsTheKey) {
  for (JwsAlg alg : {JwsAlg::es256, JwsAlg::ps256}) {
    auto k = PrivateKey::generate(alg);
    ASSERT_TRUE(k.ok());
    auto pem = k->to_pkcs8_pem();
    ASSERT_TRUE(pem.ok()) << pem.error().message;
    EXPECT_NE(pem->reveal().find("-----BEGIN PRIVATE KEY-----"), std::string_view::npos);
    auto back = PrivateKey::from_pkcs8_pem(alg, pem->reveal());
    ASSERT_TRUE(back.ok()) << back.error().message;
    EXPECT_TRUE(back->public_key() == k->public_key());
    auto sig = back->sign(as_bytes("x"));
    ASSERT_TRUE(sig.ok());
    EXPECT_TRUE(verify_jws_signature(alg, k->public_key(), as_bytes("x"), *sig).ok());
  }
}

TEST(PrivateKey, RefusesKeyThatDoesNotSuitAlg) {
  auto ec = PrivateKey::generate(JwsAlg::es256);
  ASSERT_TRUE(ec.ok());
  auto pem = ec->to_pkcs8_pem();
  ASSERT_TRUE(pem.ok());
  auto wrong = PrivateKey::from_pkcs8_pem(JwsAlg::rs256, pem->reveal());
  ASSERT_FALSE(wrong.ok());
  EXPECT_NE(wrong.error().message.find("not an RSA key"), std::string::npos) << wrong.error().message;
  auto sig = ec->sign(as_bytes("x"));
  ASSERT_TRUE(sig.ok());
  EXPECT_FALSE(verify_jws_signature(JwsAlg::rs256, ec->public_key(), as_bytes("x"), *sig).ok());
  auto bad_len = verify_jws_signature(JwsAlg::es256, ec->public_key(), as_bytes("x"), ByteView(sig->data(), 63));
  ASSERT_FALSE(bad_len.ok());
  EXPECT_NE(bad_len.error().message.find("expected 64"), std::string::npos);
}

TEST(PrivateKey, RefusesNonPkcs8Pem) {
  auto r = PrivateKey::from_pkcs8_pem(JwsAlg::es256, "-----BEGIN EC PRIVATE KEY-----\nAAAA\n-----END EC PRIVATE KEY-----\n");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("PKCS#8"), std::string::npos);
  EXPECT_FALSE(PrivateKey::from_pkcs8_pem(JwsAlg::es256, "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n").ok());
}

TEST(PrivateKey, PublicParamsHaveFixedWidth) {
  auto ec = PrivateKey::generate(JwsAlg::es256);
  ASSERT_TRUE(ec.ok());
  auto p = ec_public_params(ec->public_key());
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(p->x.size(), 32u);
  EXPECT_EQ(p->y.size(), 32u);
  auto again = PublicKey::from_ec(Curve::p256, p->x, p->y);
  ASSERT_TRUE(again.ok());
  EXPECT_TRUE(*again == ec->public_key());
}

}  // namespace
}  // namespace tl::crypto
