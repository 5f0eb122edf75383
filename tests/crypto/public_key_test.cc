// Signatures made by OpenSSL with freshly generated keys, checked through our API.
#include "crypto/public_key.h"

#include <gtest/gtest.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/rsa.h>

#include <memory>

namespace tl::crypto {
namespace {

using PkeyPtr = std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)>;

Bytes sign(EVP_PKEY* key, const char* md, int padding, ByteView msg) {
  std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> ctx(EVP_MD_CTX_new(), EVP_MD_CTX_free);
  EVP_PKEY_CTX* pctx = nullptr;
  EXPECT_EQ(EVP_DigestSignInit_ex(ctx.get(), &pctx, md, nullptr, nullptr, key, nullptr), 1);
  if (padding != 0) {
    EVP_PKEY_CTX_set_rsa_padding(pctx, padding);
    if (padding == RSA_PKCS1_PSS_PADDING) EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, RSA_PSS_SALTLEN_DIGEST);
  }
  size_t len = 0;
  EXPECT_EQ(EVP_DigestSign(ctx.get(), nullptr, &len, msg.data(), msg.size()), 1);
  Bytes sig(len);
  EXPECT_EQ(EVP_DigestSign(ctx.get(), sig.data(), &len, msg.data(), msg.size()), 1);
  sig.resize(len);
  return sig;
}

Bytes bn_param(EVP_PKEY* key, const char* name) {
  BIGNUM* bn = nullptr;
  EXPECT_EQ(EVP_PKEY_get_bn_param(key, name, &bn), 1);
  Bytes out(static_cast<size_t>(BN_num_bytes(bn)));
  BN_bn2bin(bn, out.data());
  BN_free(bn);
  return out;
}

TEST(PublicKey, RsaFromModulusVerifiesPkcs1AndPss) {
  PkeyPtr key(EVP_PKEY_Q_keygen(nullptr, nullptr, "RSA", size_t{2048}), EVP_PKEY_free);
  ASSERT_TRUE(key);
  auto pub = PublicKey::from_rsa(bn_param(key.get(), OSSL_PKEY_PARAM_RSA_N), 65537);
  ASSERT_TRUE(pub.ok()) << pub.error().message;
  EXPECT_EQ(pub->type(), KeyType::rsa);
  EXPECT_EQ(pub->bits(), 2048);

  const auto msg = as_bytes("attest");
  auto pkcs1 = sign(key.get(), "SHA256", RSA_PKCS1_PADDING, msg);
  EXPECT_TRUE(pub->verify_rsassa_pkcs1v15(HashAlg::sha256, msg, pkcs1).ok());
  EXPECT_FALSE(pub->verify_rsassa_pkcs1v15(HashAlg::sha256, as_bytes("attesT"), pkcs1).ok());
  EXPECT_FALSE(pub->verify_rsapss(HashAlg::sha256, msg, pkcs1).ok());

  auto pss = sign(key.get(), "SHA256", RSA_PKCS1_PSS_PADDING, msg);
  EXPECT_TRUE(pub->verify_rsapss(HashAlg::sha256, msg, pss).ok());
  pss[10] ^= 1;
  auto bad = pub->verify_rsapss(HashAlg::sha256, msg, pss);
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.error().message.find("does not verify"), std::string::npos);
}

TEST(PublicKey, EcFromPointVerifiesEcdsa) {
  PkeyPtr key(EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256"), EVP_PKEY_free);
  ASSERT_TRUE(key);
  auto x = bn_param(key.get(), OSSL_PKEY_PARAM_EC_PUB_X);
  auto y = bn_param(key.get(), OSSL_PKEY_PARAM_EC_PUB_Y);
  auto pub = PublicKey::from_ec(Curve::p256, x, y);
  ASSERT_TRUE(pub.ok()) << pub.error().message;
  EXPECT_EQ(pub->type(), KeyType::ec);

  const auto msg = as_bytes("quote");
  Bytes der = sign(key.get(), "SHA256", 0, msg);
  const unsigned char* p = der.data();
  ECDSA_SIG* sig = d2i_ECDSA_SIG(nullptr, &p, static_cast<long>(der.size()));
  ASSERT_NE(sig, nullptr);
  const BIGNUM *r = nullptr, *s = nullptr;
  ECDSA_SIG_get0(sig, &r, &s);
  Bytes rb(static_cast<size_t>(BN_num_bytes(r))), sb(static_cast<size_t>(BN_num_bytes(s)));
  BN_bn2bin(r, rb.data());
  BN_bn2bin(s, sb.data());
  ECDSA_SIG_free(sig);

  EXPECT_TRUE(pub->verify_ecdsa(HashAlg::sha256, msg, rb, sb).ok());
  EXPECT_FALSE(pub->verify_ecdsa(HashAlg::sha256, as_bytes("quotE"), rb, sb).ok());
  EXPECT_FALSE(pub->verify_ecdsa(HashAlg::sha256, msg, sb, rb).ok());
  EXPECT_FALSE(pub->verify_rsassa_pkcs1v15(HashAlg::sha256, msg, der).ok());
}

TEST(PublicKey, RejectsPointOffCurve) {
  Bytes x(32, 0x01), y(32, 0x02);
  auto pub = PublicKey::from_ec(Curve::p256, x, y);
  ASSERT_FALSE(pub.ok());
  EXPECT_NE(pub.error().message.find("P-256"), std::string::npos);
}

TEST(PublicKey, PemAndDerRoundTrip) {
  PkeyPtr key(EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-384"), EVP_PKEY_free);
  auto x = bn_param(key.get(), OSSL_PKEY_PARAM_EC_PUB_X);
  auto y = bn_param(key.get(), OSSL_PKEY_PARAM_EC_PUB_Y);
  auto pub = PublicKey::from_ec(Curve::p384, x, y);
  ASSERT_TRUE(pub.ok());
  auto from_pem = PublicKey::from_pem(pub->pem());
  ASSERT_TRUE(from_pem.ok()) << from_pem.error().message;
  EXPECT_TRUE(*from_pem == *pub);
  auto from_der = PublicKey::from_der_spki(pub->der_spki());
  ASSERT_TRUE(from_der.ok());
  EXPECT_TRUE(*from_der == *pub);
}

TEST(PublicKey, HostileInputs) {
  EXPECT_FALSE(PublicKey::from_pem("-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n").ok());
  EXPECT_FALSE(PublicKey::from_der_spki(Bytes{0x30, 0x82, 0xff, 0xff}).ok());
  EXPECT_FALSE(PublicKey::from_der_spki(Bytes{}).ok());
  EXPECT_FALSE(PublicKey::from_rsa(Bytes{}, 65537).ok());
  EXPECT_FALSE(PublicKey::from_ec(Curve::p256, Bytes(33, 1), Bytes(32, 1)).ok());
}

}  // namespace
}  // namespace tl::crypto
