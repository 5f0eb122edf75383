// The primitives under TPM credential protection, each against an answer this
// code did not produce: KDFa against the TCG reference implementation's
// self-test vectors and OpenSSL's SP 800-108 KBKDF, KDFe against OpenSSL's
// SP 800-56C single-step KDF, HMAC against RFC 4231, AES-CFB against
// SP 800-38A, RSA-OAEP and ECDH by decrypting / deriving with OpenSSL directly.
#include <gtest/gtest.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/kdf.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>

#include <memory>
#include <optional>
#include <tuple>
#include <string>

#include "crypto/aes_cfb.h"
#include "crypto/kdf.h"
#include "crypto/public_key.h"
#include "crypto/secret_bytes.h"
#include "crypto/seed_encryption.h"

namespace tl::crypto {
namespace {

Bytes hex(std::string_view h) { return *from_hex(h); }

// KDFa self-test of the TCG reference implementation (libtpms src/tpm2/KdfTestData.h,
// used by TestKDFa in AlgorithmTests.c): key, label "KDFSELFTESTLABEL\0",
// contextU || contextV, 160 bits, one expected output per hash.
TEST(Kdfa, TcgReferenceSelfTestVectors) {
  const Bytes key = hex("271fa08bbdc5060ec3dfa928ff9b73123a12da0c");
  const Bytes u = hex("ce244f395dca7391");
  const Bytes v = hex("da504031ddf12e83");
  const std::pair<HashAlg, const char*> cases[] = {
      {HashAlg::sha1, "55b5a7184aa07423c47dae766c26a2377d7cf851"},
      {HashAlg::sha256, "bb0259e1c8ba607e6a2cd704b69a902e9ade84c4"},
      {HashAlg::sha384, "1dce70c9113eb2dba47bd9cfc72bf46f45b09312"},
      {HashAlg::sha512, "8be2c1b85b78569b9fa759f5857c56d684810fd3"},
  };
  for (const auto& [alg, want] : cases) {
    auto out = kdfa(alg, key, "KDFSELFTESTLABEL", u, v, 160);
    ASSERT_TRUE(out.ok()) << out.error().message;
    EXPECT_EQ(to_hex(out->view()), want) << hash_name(alg);
  }
}

// OpenSSL's KBKDF (counter mode, HMAC, 32-bit counter, label || 0x00 || context,
// 32-bit L) is the same construction, implemented independently of ours.
Bytes openssl_kbkdf(const char* md, ByteView key, std::string_view label, ByteView context, size_t bytes) {
  EVP_KDF* kdf = EVP_KDF_fetch(nullptr, "KBKDF", nullptr);
  EVP_KDF_CTX* ctx = EVP_KDF_CTX_new(kdf);
  EVP_KDF_free(kdf);
  OSSL_PARAM params[] = {
      OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_MAC, const_cast<char*>("HMAC"), 0),
      OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST, const_cast<char*>(md), 0),
      OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_KEY, const_cast<uint8_t*>(key.data()), key.size()),
      OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_SALT, const_cast<char*>(label.data()), label.size()),
      OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_INFO, const_cast<uint8_t*>(context.data()),
                                        context.size()),
      OSSL_PARAM_construct_end()};
  Bytes out(bytes);
  const bool ok = EVP_KDF_derive(ctx, out.data(), out.size(), params) == 1;
  EVP_KDF_CTX_free(ctx);
  EXPECT_TRUE(ok);
  return out;
}

TEST(Kdfa, MatchesOpenSslKbkdfForCredentialLabels) {
  const Bytes seed = hex("00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff");
  const Bytes name = hex("000b" + std::string(64, '7'));
  for (size_t bits : {128u, 256u, 512u, 1000u * 8}) {
    auto storage = kdfa(HashAlg::sha256, seed, "STORAGE", name, {}, bits);
    ASSERT_TRUE(storage.ok());
    EXPECT_EQ(to_hex(storage->view()), to_hex(openssl_kbkdf("SHA256", seed, "STORAGE", name, bits / 8)));
  }
  auto integrity = kdfa(HashAlg::sha384, seed, "INTEGRITY", {}, {}, 384);
  ASSERT_TRUE(integrity.ok());
  EXPECT_EQ(to_hex(integrity->view()), to_hex(openssl_kbkdf("SHA384", seed, "INTEGRITY", {}, 48)));
}

TEST(Kdfa, OddBitCountsMaskTheFirstByteAndBadCountsFail) {
  const Bytes key = hex("0102");
  auto full = kdfa(HashAlg::sha256, key, "X", {}, {}, 16);
  auto odd = kdfa(HashAlg::sha256, key, "X", {}, {}, 13);
  ASSERT_TRUE(full.ok() && odd.ok());
  EXPECT_EQ(odd->size(), 2u);
  // Different L in the input, so only the mask itself can be checked.
  EXPECT_EQ(odd->data()[0] & 0xe0, 0);
  EXPECT_FALSE(kdfa(HashAlg::sha256, key, "X", {}, {}, 0).ok());
  EXPECT_FALSE(kdfa(HashAlg::sha256, key, "X", {}, {}, 65537).ok());
}

// OpenSSL's SSKDF with a hash: H([i]_32 || Z || FixedInfo); the TPM's FixedInfo is
// label || 0x00 || partyUInfo || partyVInfo.
TEST(Kdfe, MatchesOpenSslSingleStepKdf) {
  const Bytes z = hex("9f5c2a8a3d1e6b7c8d9e0f1a2b3c4d5e6f708192a3b4c5d6e7f8091a2b3c4d5e");
  const Bytes pu = hex("11" + std::string(62, '2'));
  const Bytes pv = hex("33" + std::string(62, '4'));
  Bytes fixed(as_bytes("IDENTITY").begin(), as_bytes("IDENTITY").end());
  fixed.push_back(0);
  fixed.insert(fixed.end(), pu.begin(), pu.end());
  fixed.insert(fixed.end(), pv.begin(), pv.end());
  for (auto [alg, md, bytes] : {std::tuple{HashAlg::sha256, "SHA256", size_t{32}},
                                std::tuple{HashAlg::sha384, "SHA384", size_t{48}},
                                std::tuple{HashAlg::sha256, "SHA256", size_t{80}}}) {
    EVP_KDF* kdf = EVP_KDF_fetch(nullptr, "SSKDF", nullptr);
    EVP_KDF_CTX* ctx = EVP_KDF_CTX_new(kdf);
    EVP_KDF_free(kdf);
    OSSL_PARAM params[] = {
        OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST, const_cast<char*>(md), 0),
        OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_KEY, const_cast<uint8_t*>(z.data()), z.size()),
        OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_INFO, fixed.data(), fixed.size()),
        OSSL_PARAM_construct_end()};
    Bytes want(bytes);
    ASSERT_EQ(EVP_KDF_derive(ctx, want.data(), want.size(), params), 1);
    EVP_KDF_CTX_free(ctx);
    auto got = kdfe(alg, z, "IDENTITY", pu, pv, bytes * 8);
    ASSERT_TRUE(got.ok()) << got.error().message;
    EXPECT_EQ(to_hex(got->view()), to_hex(want));
  }
}

TEST(Hmac, Rfc4231TestCase1And2) {
  auto t1 = hmac(HashAlg::sha256, Bytes(20, 0x0b), as_bytes("Hi There"));
  ASSERT_TRUE(t1.ok());
  EXPECT_EQ(to_hex(*t1), "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7");
  auto t2 = hmac(HashAlg::sha256, as_bytes("Jefe"), as_bytes("what do ya want for nothing?"));
  ASSERT_TRUE(t2.ok());
  EXPECT_EQ(to_hex(*t2), "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
}

// SP 800-38A F.3.13, CFB128-AES128.Encrypt, first two blocks, plus a partial block.
TEST(AesCfb, Sp800_38aVectorAndRoundTrip) {
  const SecretBytes key(hex("2b7e151628aed2a6abf7158809cf4f3c"));
  const Bytes iv = hex("000102030405060708090a0b0c0d0e0f");
  const Bytes pt = hex("6bc1bee22e409f96e93d7e117393172aae2d8a571e03ac9c9eb76fac45af8e51");
  auto ct = aes_cfb_encrypt(key, iv, pt);
  ASSERT_TRUE(ct.ok()) << ct.error().message;
  EXPECT_EQ(to_hex(*ct), "3b3fd92eb72dad20333449f8e83cfb4ac8a64537a0b3a93fcde3cdad9f1ce58b");
  auto partial = aes_cfb_encrypt(key, iv, ByteView(pt).first(18));
  ASSERT_TRUE(partial.ok());
  EXPECT_EQ(to_hex(*partial), "3b3fd92eb72dad20333449f8e83cfb4ac8a6");
  auto back = aes_cfb_decrypt(key, iv, *ct);
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(to_hex(back->view()), to_hex(pt));
  EXPECT_FALSE(aes_cfb_encrypt(SecretBytes(hex("00")), iv, pt).ok());
  EXPECT_FALSE(aes_cfb_encrypt(key, ByteView(iv).first(8), pt).ok());
}

struct PkeyDeleter {
  void operator()(EVP_PKEY* p) const { EVP_PKEY_free(p); }
};
using Pkey = std::unique_ptr<EVP_PKEY, PkeyDeleter>;

PublicKey public_of(EVP_PKEY* p) {
  unsigned char* der = nullptr;
  const int len = i2d_PUBKEY(p, &der);
  auto k = PublicKey::from_der_spki(ByteView(der, static_cast<size_t>(len)));
  OPENSSL_free(der);
  EXPECT_TRUE(k.ok());
  return *k;
}

TEST(RsaOaep, OpenSslDecryptsWithTheSameLabelOnly) {
  Pkey priv(EVP_PKEY_Q_keygen(nullptr, nullptr, "RSA", size_t{2048}));
  ASSERT_TRUE(priv);
  const Bytes label = {'I', 'D', 'E', 'N', 'T', 'I', 'T', 'Y', 0};
  const Bytes seed = hex("000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f");
  auto ct = rsa_oaep_encrypt(public_of(priv.get()), HashAlg::sha256, label, seed);
  ASSERT_TRUE(ct.ok()) << ct.error().message;
  EXPECT_EQ(ct->size(), 256u);
  auto decrypt = [&](ByteView lbl) -> std::optional<Bytes> {
    EVP_PKEY_CTX* ctx = EVP_PKEY_CTX_new(priv.get(), nullptr);
    EVP_PKEY_decrypt_init(ctx);
    EVP_PKEY_CTX_set_rsa_padding(ctx, RSA_PKCS1_OAEP_PADDING);
    EVP_PKEY_CTX_set_rsa_oaep_md(ctx, EVP_sha256());
    EVP_PKEY_CTX_set_rsa_mgf1_md(ctx, EVP_sha256());
    EVP_PKEY_CTX_set0_rsa_oaep_label(ctx, OPENSSL_memdup(lbl.data(), lbl.size()), static_cast<int>(lbl.size()));
    Bytes out(256);
    size_t len = out.size();
    const bool ok = EVP_PKEY_decrypt(ctx, out.data(), &len, ct->data(), ct->size()) == 1;
    EVP_PKEY_CTX_free(ctx);
    if (!ok) return std::nullopt;
    out.resize(len);
    return out;
  };
  auto good = decrypt(label);
  ASSERT_TRUE(good.has_value());
  EXPECT_EQ(*good, seed);
  EXPECT_FALSE(decrypt(ByteView(label).first(8)).has_value());  // "IDENTITY" without the NUL
}

TEST(Ecdh, SharedSecretMatchesPeerSideDerivation) {
  for (const char* group : {"P-256", "P-384", "P-521"}) {
    Pkey peer(EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", group));
    ASSERT_TRUE(peer);
    auto e = ecdh_ephemeral(public_of(peer.get()));
    ASSERT_TRUE(e.ok()) << e.error().message;
    const Curve c = std::string(group) == "P-256" ? Curve::p256 : std::string(group) == "P-384" ? Curve::p384 : Curve::p521;
    const size_t size = c == Curve::p256 ? 32 : c == Curve::p384 ? 48 : 66;
    EXPECT_EQ(e->x.size(), size);
    EXPECT_EQ(e->y.size(), size);
    EXPECT_EQ(e->z.size(), size);
    auto eph = PublicKey::from_ec(c, e->x, e->y);
    ASSERT_TRUE(eph.ok()) << eph.error().message;
    // The peer derives Z from its private key and the ephemeral public point.
    const Bytes spki = eph->der_spki();
    const unsigned char* p = spki.data();
    Pkey eph_pkey(d2i_PUBKEY(nullptr, &p, static_cast<long>(spki.size())));
    EVP_PKEY_CTX* ctx = EVP_PKEY_CTX_new(peer.get(), nullptr);
    size_t zlen = 0;
    ASSERT_EQ(EVP_PKEY_derive_init(ctx), 1);
    ASSERT_EQ(EVP_PKEY_derive_set_peer(ctx, eph_pkey.get()), 1);
    ASSERT_EQ(EVP_PKEY_derive(ctx, nullptr, &zlen), 1);
    Bytes z(zlen);
    ASSERT_EQ(EVP_PKEY_derive(ctx, z.data(), &zlen), 1);
    EVP_PKEY_CTX_free(ctx);
    EXPECT_EQ(to_hex(e->z.view()), to_hex(z)) << group;
  }
}

TEST(SecretBytes, RandomIsFreshAndEqualityIsByContent) {
  auto a = random_secret(32);
  auto b = random_secret(32);
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_FALSE(*a == *b);
  SecretBytes c = *a;
  EXPECT_TRUE(c == *a);
  c.truncate(16);
  EXPECT_EQ(c.size(), 16u);
  SecretBytes moved = std::move(c);
  EXPECT_EQ(moved.size(), 16u);
}

}  // namespace
}  // namespace tl::crypto
