#include "crypto/digest.h"

#include <gtest/gtest.h>

namespace tl::crypto {
namespace {

TEST(Digest, KnownAnswers) {
  // FIPS 180 "abc" vectors.
  EXPECT_EQ(to_hex(*digest(HashAlg::sha1, as_bytes("abc"))), "a9993e364706816aba3e25717850c26c9cd0d89d");
  EXPECT_EQ(to_hex(*digest(HashAlg::sha256, as_bytes("abc"))),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_EQ(digest(HashAlg::sha384, as_bytes("abc"))->size(), 48u);
  EXPECT_EQ(digest(HashAlg::sha512, as_bytes("abc"))->size(), 64u);
  // GB/T 32905 "abc" vector.
  auto sm3 = digest(HashAlg::sm3_256, as_bytes("abc"));
  ASSERT_TRUE(sm3.ok()) << sm3.error().message;
  EXPECT_EQ(to_hex(*sm3), "66c7f0f462eeedd9d1f2d46bdc10e4e24167c4875cf2f7a2297da02b8f4ba8e0");
}

TEST(Digest, TpmAlgIdsMapBothWays) {
  for (HashAlg a : kAllHashAlgs) EXPECT_EQ(hash_from_tpm_alg_id(tpm_alg_id(a)), a);
  EXPECT_EQ(hash_from_tpm_alg_id(0x000B), HashAlg::sha256);
  EXPECT_FALSE(hash_from_tpm_alg_id(0x0001).has_value());  // TPM_ALG_RSA is no hash
}

TEST(Digest, HasherMatchesOneShotAndIsReusable) {
  auto h = Hasher::create(HashAlg::sha256);
  ASSERT_TRUE(h.ok());
  h->update(as_bytes("a"));
  h->update(as_bytes("bc"));
  EXPECT_EQ(h->finish(), *digest(HashAlg::sha256, as_bytes("abc")));
  h->update(as_bytes("abc"));
  EXPECT_EQ(h->finish(), *digest(HashAlg::sha256, as_bytes("abc")));
}

TEST(Digest, PcrExtendIsHashOfConcatenation) {
  Bytes zero(32, 0), d(32, 0x11);
  Bytes concat = zero;
  concat.insert(concat.end(), d.begin(), d.end());
  EXPECT_EQ(*pcr_extend(HashAlg::sha256, zero, d), *digest(HashAlg::sha256, concat));
  auto bad = pcr_extend(HashAlg::sha256, zero, Bytes(20, 0));
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.error().message.find("32-byte"), std::string::npos);
}

}  // namespace
}  // namespace tl::crypto
