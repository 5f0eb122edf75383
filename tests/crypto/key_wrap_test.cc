// Key wrapping for Secure Key Release: AES-KWP against the RFC 5649 §6
// examples and hostile ciphertexts, RSA-OAEP decrypted by the openssl command
// line (an independent implementation), AES-256-GCM sealing.
#include "crypto/key_wrap.h"

#include <gtest/gtest.h>
#include <openssl/evp.h>

#include <memory>
#include <optional>
#include <string>
#include <tuple>

#include "openssl_cli.h"

namespace tl::crypto {
namespace {

using test_cli::OpensslDir;

Bytes unhex(std::string_view h) {
  auto b = from_hex(h);
  EXPECT_TRUE(b.ok());
  return b.ok() ? *b : Bytes{};
}

SecretBytes secret(std::string_view h) { return SecretBytes(unhex(h)); }

Bytes sequence(size_t n, uint8_t start) {
  Bytes b(n);
  for (size_t i = 0; i < n; ++i) b[i] = static_cast<uint8_t>(start + 7 * i);
  return b;
}

// RFC 5649 §6, "Padded Key Wrap Examples": both use this 192-bit KEK.
constexpr const char* kRfcKek = "5840df6e29b02af1ab493b705bf16ea1ae8338f4dcc176a8";

TEST(AesKwp, Rfc5649TwentyOctetExample) {
  const SecretBytes kek = secret(kRfcKek);
  const Bytes key = unhex("c37b7e6492584340bed12207808941155068f738");
  const Bytes expected = unhex("138bdeaa9b8fa7fc61f97742e72248ee5ae6ae5360d1ae6a5f54f373fa543b6a");
  auto wrapped = aes_kwp_wrap(kek, key);
  ASSERT_TRUE(wrapped.ok()) << wrapped.error().message;
  EXPECT_EQ(to_hex(*wrapped), to_hex(expected));
  auto unwrapped = aes_kwp_unwrap(kek, expected);
  ASSERT_TRUE(unwrapped.ok()) << unwrapped.error().message;
  EXPECT_EQ(to_hex(unwrapped->view()), to_hex(key));
}

TEST(AesKwp, Rfc5649SevenOctetExample) {
  const SecretBytes kek = secret(kRfcKek);
  const Bytes key = unhex("466f7250617369");
  const Bytes expected = unhex("afbeb0f07dfbf5419200f2ccb50bb24f");
  auto wrapped = aes_kwp_wrap(kek, key);
  ASSERT_TRUE(wrapped.ok()) << wrapped.error().message;
  EXPECT_EQ(to_hex(*wrapped), to_hex(expected));
  auto unwrapped = aes_kwp_unwrap(kek, expected);
  ASSERT_TRUE(unwrapped.ok()) << unwrapped.error().message;
  EXPECT_EQ(to_hex(unwrapped->view()), to_hex(key));
}

TEST(AesKwp, RoundTripsEveryLengthUpTo100UnderEachKekSize) {
  for (size_t kek_size : {16u, 24u, 32u}) {
    auto kek = random_secret(kek_size);
    ASSERT_TRUE(kek.ok());
    for (size_t n = 1; n <= 100; ++n) {
      const Bytes plain = sequence(n, static_cast<uint8_t>(n));
      auto wrapped = aes_kwp_wrap(*kek, plain);
      ASSERT_TRUE(wrapped.ok()) << n << ": " << wrapped.error().message;
      EXPECT_EQ(wrapped->size(), 8 + (n + 7) / 8 * 8) << n;
      auto back = aes_kwp_unwrap(*kek, *wrapped);
      ASSERT_TRUE(back.ok()) << n << ": " << back.error().message;
      EXPECT_EQ(to_hex(back->view()), to_hex(plain)) << "kek " << kek_size << ", length " << n;
    }
  }
}

TEST(AesKwp, EveryAlteredByteIsRefused) {
  const SecretBytes kek = secret(kRfcKek);
  for (const char* ct_hex : {"138bdeaa9b8fa7fc61f97742e72248ee5ae6ae5360d1ae6a5f54f373fa543b6a",
                             "afbeb0f07dfbf5419200f2ccb50bb24f"}) {
    const Bytes ct = unhex(ct_hex);
    for (size_t i = 0; i < ct.size(); ++i) {
      Bytes bad = ct;
      bad[i] ^= 0x01;
      auto r = aes_kwp_unwrap(kek, bad);
      ASSERT_FALSE(r.ok()) << "byte " << i << " of " << ct_hex;
      EXPECT_EQ(r.error().reason, "integrity");
    }
  }
}

TEST(AesKwp, WrongKeyIsRefused) {
  const Bytes ct = unhex("138bdeaa9b8fa7fc61f97742e72248ee5ae6ae5360d1ae6a5f54f373fa543b6a");
  SecretBytes other = secret(kRfcKek);
  other.data()[23] ^= 0x80;
  auto r = aes_kwp_unwrap(other, ct);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().reason, "integrity");
  EXPECT_NE(r.error().message.find("integrity check failed"), std::string::npos) << r.error().message;
  // The right bits under a different key size are a different key.
  auto k16 = random_secret(16);
  ASSERT_TRUE(k16.ok());
  EXPECT_FALSE(aes_kwp_unwrap(*k16, ct).ok());
}

TEST(AesKwp, BadLengthsAndKeySizesAreRefused) {
  const SecretBytes kek = secret(kRfcKek);
  EXPECT_FALSE(aes_kwp_wrap(kek, {}).ok());
  for (size_t n : {0u, 8u, 15u, 17u, 23u, 31u}) {
    auto r = aes_kwp_unwrap(kek, Bytes(n, 0x5a));
    ASSERT_FALSE(r.ok()) << n;
    EXPECT_NE(r.error().message.find("multiple of 8"), std::string::npos) << r.error().message;
  }
  for (size_t k : {0u, 8u, 15u, 20u, 33u, 64u}) {
    auto key = random_secret(k);
    ASSERT_TRUE(key.ok());
    auto w = aes_kwp_wrap(*key, sequence(20, 1));
    ASSERT_FALSE(w.ok()) << k;
    EXPECT_NE(w.error().message.find("16, 24 or 32"), std::string::npos) << w.error().message;
    EXPECT_FALSE(aes_kwp_unwrap(*key, Bytes(24, 0)).ok()) << k;
  }
}

// Ciphertexts whose integrity value decrypts to the RFC 5649 AIV but whose
// length indicator or padding is wrong (§3: "MLI" checks), made with the
// unpadded RFC 3394 wrap and a chosen IV, or with one raw AES block.
Bytes raw_wrap(const SecretBytes& kek, ByteView aiv, ByteView data) {
  using CtxPtr = std::unique_ptr<EVP_CIPHER_CTX, decltype(&EVP_CIPHER_CTX_free)>;
  CtxPtr ctx(EVP_CIPHER_CTX_new(), EVP_CIPHER_CTX_free);
  Bytes out(data.size() + 16);
  int len = 0;
  int tail = 0;
  if (data.size() == 8) {
    // One semiblock: RFC 5649 §4.1 encrypts AIV || P as a single AES block.
    Bytes block(aiv.begin(), aiv.end());
    block.insert(block.end(), data.begin(), data.end());
    EXPECT_EQ(EVP_EncryptInit_ex(ctx.get(), EVP_aes_192_ecb(), nullptr, kek.data(), nullptr), 1);
    EVP_CIPHER_CTX_set_padding(ctx.get(), 0);
    EXPECT_EQ(EVP_EncryptUpdate(ctx.get(), out.data(), &len, block.data(), 16), 1);
  } else {
    EVP_CIPHER_CTX_set_flags(ctx.get(), EVP_CIPHER_CTX_FLAG_WRAP_ALLOW);
    EXPECT_EQ(EVP_EncryptInit_ex(ctx.get(), EVP_aes_192_wrap(), nullptr, kek.data(), aiv.data()), 1);
    EXPECT_EQ(EVP_EncryptUpdate(ctx.get(), out.data(), &len, data.data(), static_cast<int>(data.size())), 1);
  }
  EXPECT_EQ(EVP_EncryptFinal_ex(ctx.get(), out.data() + len, &tail), 1);
  out.resize(static_cast<size_t>(len + tail));
  return out;
}

TEST(AesKwp, WrongLengthIndicatorOrPaddingIsRefused) {
  const SecretBytes kek = secret(kRfcKek);
  // Sanity: the construction with honest values is what aes_kwp_wrap makes.
  Bytes padded = sequence(13, 3);
  padded.resize(16, 0);
  auto honest = raw_wrap(kek, unhex("a65959a60000000d"), padded);
  auto ours = aes_kwp_wrap(kek, sequence(13, 3));
  ASSERT_TRUE(ours.ok());
  ASSERT_EQ(to_hex(honest), to_hex(*ours));

  struct Case {
    const char* aiv;
    Bytes data;
    const char* why;
  };
  Bytes nonzero_pad = padded;
  nonzero_pad[15] = 1;
  const Case cases[] = {
      {"a65959a600000011", padded, "MLI 17 beyond 16 bytes of data"},
      {"a65959a600000008", padded, "MLI 8 leaves a whole padding semiblock"},
      {"a65959a600000000", padded, "MLI 0"},
      {"a65959a60000000d", nonzero_pad, "non-zero padding"},
      {"a65959a50000000d", padded, "wrong AIV constant"},
      {"a65959a600000009", sequence(8, 1), "single block, MLI 9 > 8"},
      {"a65959a600000000", sequence(8, 1), "single block, MLI 0"},
  };
  for (const auto& c : cases) {
    auto ct = raw_wrap(kek, unhex(c.aiv), c.data);
    auto r = aes_kwp_unwrap(kek, ct);
    ASSERT_FALSE(r.ok()) << c.why;
    EXPECT_EQ(r.error().reason, "integrity") << c.why;
  }
}

// ---- RSA-OAEP ------------------------------------------------------------

class RsaOaep : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = std::make_unique<OpensslDir>();
    ASSERT_TRUE(dir_->ok());
    ASSERT_EQ(dir_->sh("openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out rsa.key"
                       " && openssl pkey -in rsa.key -pubout -out rsa.pub"
                       " && openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:1024 -out rsa1024.key"
                       " && openssl pkey -in rsa1024.key -pubout -out rsa1024.pub"
                       " && openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out ec.key"
                       " && openssl pkey -in ec.key -pubout -out ec.pub"),
              0);
  }
  static void TearDownTestSuite() { dir_.reset(); }

  static PublicKey pub(const std::string& name) {
    auto k = PublicKey::from_pem(dir_->text(name));
    EXPECT_TRUE(k.ok()) << k.error().message;
    return std::move(*k);
  }

  // Decrypts with the openssl command line; empty on failure.
  static std::optional<Bytes> cli_decrypt(ByteView ct, const char* md) {
    dir_->write("ct.bin", ct);
    std::filesystem::remove(dir_->path() / "pt.bin");
    const std::string m(md);
    if (dir_->sh("openssl pkeyutl -decrypt -inkey rsa.key -in ct.bin -out pt.bin -pkeyopt "
                 "rsa_padding_mode:oaep -pkeyopt rsa_oaep_md:" + m + " -pkeyopt rsa_mgf1_md:" + m) != 0) {
      return std::nullopt;
    }
    return dir_->bytes("pt.bin");
  }

  static std::unique_ptr<OpensslDir> dir_;
};
std::unique_ptr<OpensslDir> RsaOaep::dir_;

TEST_F(RsaOaep, OpensslCommandLineDecryptsForEachHash) {
  const PublicKey key = pub("rsa.pub");
  struct H {
    HashAlg alg;
    const char* cli;
  };
  for (const H h : {H{HashAlg::sha1, "sha1"}, H{HashAlg::sha256, "sha256"}, H{HashAlg::sha384, "sha384"}}) {
    const Bytes plain = sequence(32, 0x40);
    auto ct = rsa_oaep_encrypt(key, h.alg, plain);
    ASSERT_TRUE(ct.ok()) << h.cli << ": " << ct.error().message;
    EXPECT_EQ(ct->size(), 256u);
    auto back = cli_decrypt(*ct, h.cli);
    ASSERT_TRUE(back.has_value()) << "openssl pkeyutl could not decrypt with " << h.cli;
    EXPECT_EQ(to_hex(*back), to_hex(plain)) << h.cli;
    // The hash is bound into the padding: decrypting with another one fails.
    const char* other = h.alg == HashAlg::sha256 ? "sha384" : "sha256";
    EXPECT_FALSE(cli_decrypt(*ct, other).has_value()) << h.cli << " decrypted as " << other;
  }
}

TEST_F(RsaOaep, EncryptionIsRandomized) {
  const PublicKey key = pub("rsa.pub");
  auto a = rsa_oaep_encrypt(key, HashAlg::sha256, sequence(32, 1));
  auto b = rsa_oaep_encrypt(key, HashAlg::sha256, sequence(32, 1));
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_NE(to_hex(*a), to_hex(*b));
}

TEST_F(RsaOaep, LongestPlaintextFitsAndOneMoreIsRefused) {
  const PublicKey key = pub("rsa.pub");
  // k - 2 hLen - 2 (RFC 8017 §7.1.1): 256 - 64 - 2 = 190 for SHA-256, 256 - 96 - 2 = 158 for SHA-384.
  for (auto [alg, cli, max] : {std::tuple{HashAlg::sha256, "sha256", 190u}, std::tuple{HashAlg::sha384, "sha384", 158u},
                               std::tuple{HashAlg::sha1, "sha1", 214u}}) {
    auto ok = rsa_oaep_encrypt(key, alg, sequence(max, 9));
    ASSERT_TRUE(ok.ok()) << cli << ": " << ok.error().message;
    auto back = cli_decrypt(*ok, cli);
    ASSERT_TRUE(back.has_value()) << cli;
    EXPECT_EQ(to_hex(*back), to_hex(sequence(max, 9)));
    auto too_long = rsa_oaep_encrypt(key, alg, sequence(max + 1, 9));
    ASSERT_FALSE(too_long.ok()) << cli;
    EXPECT_NE(too_long.error().message.find("too long"), std::string::npos) << too_long.error().message;
  }
}

TEST_F(RsaOaep, SmallRsaKeyEcKeyAndOtherHashesAreRefused) {
  auto small = rsa_oaep_encrypt(pub("rsa1024.pub"), HashAlg::sha256, sequence(16, 1));
  ASSERT_FALSE(small.ok());
  EXPECT_NE(small.error().message.find("1024"), std::string::npos) << small.error().message;
  auto ec = rsa_oaep_encrypt(pub("ec.pub"), HashAlg::sha256, sequence(16, 1));
  ASSERT_FALSE(ec.ok());
  EXPECT_NE(ec.error().message.find("not an RSA key"), std::string::npos) << ec.error().message;
  const PublicKey key = pub("rsa.pub");
  EXPECT_FALSE(rsa_oaep_encrypt(key, HashAlg::sha512, sequence(16, 1)).ok());
  EXPECT_FALSE(rsa_oaep_encrypt(key, HashAlg::sm3_256, sequence(16, 1)).ok());
}

// ---- AES-256-GCM ---------------------------------------------------------

class Gcm : public ::testing::Test {
 protected:
  void SetUp() override {
    auto k = random_secret(32);
    ASSERT_TRUE(k.ok());
    key_ = std::move(*k);
  }
  SecretBytes key_;
  const Bytes aad_ = Bytes{'v', 'a', 'u', 'l', 't', '/', 'k', '1'};
};

TEST_F(Gcm, RoundTripsAndLayoutIsNonceCiphertextTag) {
  for (size_t n : {0u, 1u, 16u, 33u, 1000u}) {
    const Bytes plain = sequence(n, 5);
    auto sealed = aes256_gcm_seal(key_, plain, aad_);
    ASSERT_TRUE(sealed.ok()) << sealed.error().message;
    EXPECT_EQ(sealed->size(), 12 + n + 16);
    if (n >= 16) {  // shorter ones could match by chance
      EXPECT_NE(to_hex(ByteView(*sealed).subspan(12, n)), to_hex(plain)) << "ciphertext is the plaintext";
    }
    auto opened = aes256_gcm_open(key_, *sealed, aad_);
    ASSERT_TRUE(opened.ok()) << opened.error().message;
    EXPECT_EQ(to_hex(opened->view()), to_hex(plain));
  }
}

TEST_F(Gcm, FreshNonceEachSeal) {
  auto a = aes256_gcm_seal(key_, sequence(16, 1), aad_);
  auto b = aes256_gcm_seal(key_, sequence(16, 1), aad_);
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_NE(to_hex(ByteView(*a).first(12)), to_hex(ByteView(*b).first(12)));
}

TEST_F(Gcm, EveryAlteredByteIsRefused) {
  auto sealed = aes256_gcm_seal(key_, sequence(20, 7), aad_);
  ASSERT_TRUE(sealed.ok());
  for (size_t i = 0; i < sealed->size(); ++i) {
    Bytes bad = *sealed;
    bad[i] ^= 0x04;
    auto r = aes256_gcm_open(key_, bad, aad_);
    ASSERT_FALSE(r.ok()) << "byte " << i;
    EXPECT_EQ(r.error().reason, "integrity");
  }
  Bytes cut = *sealed;
  cut.pop_back();
  EXPECT_FALSE(aes256_gcm_open(key_, cut, aad_).ok());
  Bytes longer = *sealed;
  longer.push_back(0);
  EXPECT_FALSE(aes256_gcm_open(key_, longer, aad_).ok());
}

TEST_F(Gcm, AadAndKeyMustMatch) {
  auto sealed = aes256_gcm_seal(key_, sequence(20, 7), aad_);
  ASSERT_TRUE(sealed.ok());
  Bytes other_aad = aad_;
  other_aad.back() = '2';
  auto r = aes256_gcm_open(key_, *sealed, other_aad);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().reason, "integrity");
  EXPECT_FALSE(aes256_gcm_open(key_, *sealed, {}).ok());
  auto other_key = random_secret(32);
  ASSERT_TRUE(other_key.ok());
  auto k = aes256_gcm_open(*other_key, *sealed, aad_);
  ASSERT_FALSE(k.ok());
  EXPECT_EQ(k.error().reason, "integrity");
}

TEST_F(Gcm, ShortInputAndWrongKeySizeAreRefused) {
  for (size_t n : {0u, 1u, 27u}) {
    auto r = aes256_gcm_open(key_, Bytes(n, 0), aad_);
    ASSERT_FALSE(r.ok()) << n;
    EXPECT_EQ(r.error().reason, "integrity");
  }
  auto k16 = random_secret(16);
  ASSERT_TRUE(k16.ok());
  EXPECT_FALSE(aes256_gcm_seal(*k16, sequence(8, 1), aad_).ok());
  EXPECT_FALSE(aes256_gcm_open(*k16, Bytes(40, 0), aad_).ok());
}

}  // namespace
}  // namespace tl::crypto
