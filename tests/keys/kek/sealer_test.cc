// Sealing records under the data key: round trips, and every kind of damage refused.
#include <algorithm>
#include <string>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "keys/kek/kek.h"
#include "support/cli_runner.h"

namespace tl::keys::kek {
namespace {

using ::testing::HasSubstr;

Bytes text(std::string_view s) { return Bytes(s.begin(), s.end()); }
Bytes plain(const crypto::SecretBytes& s) { return Bytes(s.view().begin(), s.view().end()); }

class SealerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto k = open_file_kek(dir_.path() / "kek", true);
    ASSERT_TRUE(k) << k.error().message;
    kek_ = std::move(*k);
    auto made = Sealer::create(*kek_);
    ASSERT_TRUE(made) << made.error().message;
    sealer_.emplace(std::move(made->first));
    wrapped_ = std::move(made->second);
  }

  test::TempDir dir_;
  std::unique_ptr<Kek> kek_;
  std::optional<Sealer> sealer_;
  Bytes wrapped_;
};

TEST_F(SealerTest, SealsAndUnseals) {
  const Bytes msg = text("-----BEGIN PRIVATE KEY----- not really");
  auto sealed = sealer_->seal(msg, "key/web/0123");
  ASSERT_TRUE(sealed) << sealed.error().message;
  // nonce (12) || ciphertext || tag (16), and the plaintext is not in it.
  EXPECT_EQ(sealed->size(), msg.size() + 28);
  EXPECT_EQ(std::search(sealed->begin(), sealed->end(), msg.begin(), msg.begin() + 16), sealed->end());
  auto back = sealer_->unseal(*sealed, "key/web/0123");
  ASSERT_TRUE(back) << back.error().message;
  EXPECT_EQ(plain(*back), msg);
}

TEST_F(SealerTest, EmptyPlaintextRoundTrips) {
  auto sealed = sealer_->seal({}, "key/e/1");
  ASSERT_TRUE(sealed) << sealed.error().message;
  auto back = sealer_->unseal(*sealed, "key/e/1");
  ASSERT_TRUE(back) << back.error().message;
  EXPECT_TRUE(back->empty());
}

TEST_F(SealerTest, TwoSealsOfTheSamePlaintextDiffer) {
  const Bytes msg = text("same");
  auto a = sealer_->seal(msg, "key/a/1");
  auto b = sealer_->seal(msg, "key/a/1");
  ASSERT_TRUE(a && b);
  EXPECT_NE(*a, *b);
  EXPECT_NE(Bytes(a->begin(), a->begin() + 12), Bytes(b->begin(), b->begin() + 12)) << "nonce reused";
}

TEST_F(SealerTest, AnotherAadIsRefused) {
  auto sealed = sealer_->seal(text("material"), "key/a/1");
  ASSERT_TRUE(sealed);
  for (const char* aad : {"key/a/2", "key/b/1", "", "key/a/1 "}) {
    auto r = sealer_->unseal(*sealed, aad);
    ASSERT_FALSE(r) << aad;
    EXPECT_EQ(r.error().reason, "integrity") << aad;
  }
}

TEST_F(SealerTest, EveryAlteredByteIsRefused) {
  auto sealed = sealer_->seal(text("material of a key"), "key/a/1");
  ASSERT_TRUE(sealed);
  for (size_t i = 0; i < sealed->size(); ++i) {
    Bytes bad = *sealed;
    bad[i] ^= 0x80;
    auto r = sealer_->unseal(bad, "key/a/1");
    ASSERT_FALSE(r) << "byte " << i;
    EXPECT_EQ(r.error().reason, "integrity") << "byte " << i;
  }
}

TEST_F(SealerTest, TruncatedAndEmptyInputsAreRefused) {
  auto sealed = sealer_->seal(text("material"), "key/a/1");
  ASSERT_TRUE(sealed);
  for (size_t n = 0; n < sealed->size(); ++n) {
    auto r = sealer_->unseal(ByteView(sealed->data(), n), "key/a/1");
    ASSERT_FALSE(r) << n << " bytes";
    EXPECT_EQ(r.error().reason, "integrity") << n << " bytes";
  }
  Bytes longer = *sealed;
  longer.push_back(0);
  auto r = sealer_->unseal(longer, "key/a/1");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().reason, "integrity");
}

TEST_F(SealerTest, ErrorNamesTheRecord) {
  auto r = sealer_->unseal(Bytes(40, 0), "key/named/7");
  ASSERT_FALSE(r);
  EXPECT_THAT(r.error().message, HasSubstr("key/named/7"));
}

TEST_F(SealerTest, ReopenedSealerReadsOldRecords) {
  auto sealed = sealer_->seal(text("kept"), "key/k/1");
  ASSERT_TRUE(sealed);
  auto reopened = Sealer::open(*kek_, wrapped_);
  ASSERT_TRUE(reopened) << reopened.error().message;
  auto back = reopened->unseal(*sealed, "key/k/1");
  ASSERT_TRUE(back) << back.error().message;
  EXPECT_EQ(plain(*back), text("kept"));
}

TEST_F(SealerTest, AnotherDataKeyCannotUnseal) {
  auto sealed = sealer_->seal(text("kept"), "key/k/1");
  ASSERT_TRUE(sealed);
  auto other = Sealer::create(*kek_);  // same KEK, new DEK
  ASSERT_TRUE(other);
  EXPECT_NE(other->second, wrapped_);
  auto r = other->first.unseal(*sealed, "key/k/1");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().reason, "integrity");
}

TEST_F(SealerTest, WrappedKeyOfTheWrongSizeIsRefused) {
  // Wrapped by the right KEK but not an AES-256 data key.
  auto odd = kek_->wrap(crypto::SecretBytes(Bytes(16, 0x11)));
  ASSERT_TRUE(odd);
  auto r = Sealer::open(*kek_, *odd);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().reason, "integrity");
  EXPECT_THAT(r.error().message, HasSubstr("16 bytes"));
}

}  // namespace
}  // namespace tl::keys::kek
