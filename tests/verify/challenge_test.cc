#include "verify/challenge.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <memory>

namespace tl::verify {
namespace {

using ::testing::HasSubstr;

constexpr int64_t kNow = 1'700'000'000;

struct FakeClock {
  std::shared_ptr<int64_t> now = std::make_shared<int64_t>(kNow);
  Clock clock() const {
    auto p = now;
    return [p] { return *p; };
  }
};

ChallengeKey key(uint8_t id) {
  auto k = ChallengeKey::generate(id);
  EXPECT_TRUE(k.ok());
  return std::move(*k);
}

Challenger make(ChallengeKeys keys, const FakeClock& c, ChallengerOptions o = {}) {
  auto ch = Challenger::create(std::move(keys), c.clock(), o);
  EXPECT_TRUE(ch.ok()) << ch.error().message;
  return std::move(*ch);
}

std::string msg(const Status& s) { return s.ok() ? "ok" : s.error().message; }

class ChallengeTest : public ::testing::Test {
 protected:
  FakeClock clock;
  ChallengeKey k1 = key(1);
  Challenger ch = make({k1, std::nullopt}, clock);
};

TEST_F(ChallengeTest, RoundTrip) {
  auto c = ch.issue("attest:vm-42", 300);
  ASSERT_TRUE(c.ok()) << c.error().message;
  EXPECT_EQ(c->bytes.size(), kChallengeSize);
  EXPECT_EQ(c->bytes[0], kChallengeVersion);
  EXPECT_EQ(c->bytes[1], 1);
  EXPECT_EQ(c->expires_at, kNow + 300);
  EXPECT_EQ(c->id.hex.size(), 2 * kChallengeRandomSize);
  auto id = challenge_id(c->bytes);
  ASSERT_TRUE(id.ok());
  EXPECT_EQ(*id, c->id);
  EXPECT_TRUE(ch.check(c->bytes, "attest:vm-42").ok()) << msg(ch.check(c->bytes, "attest:vm-42"));
}

TEST_F(ChallengeTest, FitsSha256QualifyingData) {
  // TPM2B_DATA holds at most sizeof(TPMT_HA) = 2 + 32 bytes on a SHA-256-only TPM.
  EXPECT_LE(kChallengeSize, 34u);
}

TEST_F(ChallengeTest, TwoIssuesDiffer) {
  auto a = ch.issue("x", 60), b = ch.issue("x", 60);
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_NE(a->bytes, b->bytes);
  EXPECT_NE(a->id, b->id);
}

TEST_F(ChallengeTest, EveryBitFlipFailsWithPreciseReason) {
  // A second key so flipping the key id to a known id also lands on a MAC mismatch.
  auto k2 = key(3);
  Challenger both = make({k1, k2}, clock);
  auto c = both.issue("attest:vm-42", 300);
  ASSERT_TRUE(c.ok());
  for (size_t i = 0; i < kChallengeSize; ++i) {
    for (int bit = 0; bit < 8; ++bit) {
      Bytes b = c->bytes;
      b[i] ^= static_cast<uint8_t>(1u << bit);
      const Status s = both.check(b, "attest:vm-42");
      ASSERT_FALSE(s.ok()) << "byte " << i << " bit " << bit;
      if (i == 0) {
        EXPECT_THAT(s.error().message, HasSubstr("unknown version"));
      } else if (i == 1 && (b[1] != 3)) {
        EXPECT_THAT(s.error().message, HasSubstr("unknown key id"));
      } else {
        EXPECT_THAT(s.error().message, HasSubstr("MAC mismatch")) << "byte " << i;
      }
    }
  }
}

TEST_F(ChallengeTest, WrongContextFails) {
  auto c = ch.issue("attest:vm-42", 300);
  ASSERT_TRUE(c.ok());
  EXPECT_THAT(msg(ch.check(c->bytes, "attest:vm-43")), HasSubstr("MAC mismatch"));
  EXPECT_THAT(msg(ch.check(c->bytes, "attest:vm-4")), HasSubstr("MAC mismatch"));
  EXPECT_THAT(msg(ch.check(c->bytes, "attest:vm-420")), HasSubstr("MAC mismatch"));
  EXPECT_THAT(msg(ch.check(c->bytes, "")), HasSubstr("MAC mismatch"));
}

TEST_F(ChallengeTest, ExpiryIsExclusive) {
  auto c = ch.issue("ctx", 300);
  ASSERT_TRUE(c.ok());
  *clock.now = c->expires_at - 1;
  EXPECT_TRUE(ch.check(c->bytes, "ctx").ok());
  *clock.now = c->expires_at;
  EXPECT_EQ(msg(ch.check(c->bytes, "ctx")), "challenge: expired 0 s ago");
  *clock.now = c->expires_at + 42;
  EXPECT_EQ(msg(ch.check(c->bytes, "ctx")), "challenge: expired 42 s ago");
}

TEST_F(ChallengeTest, TooFarInFuture) {
  // Issued by a replica whose clock runs ahead.
  FakeClock ahead;
  *ahead.now = kNow + 600 + 61;
  Challenger fast = make({k1, std::nullopt}, ahead);
  auto c = fast.issue("ctx", 600);
  ASSERT_TRUE(c.ok());
  EXPECT_THAT(msg(ch.check(c->bytes, "ctx")), HasSubstr("beyond the lifetime + clock skew bound of 660 s"));
  // Within the skew bound it is accepted.
  *ahead.now = kNow + 60;
  auto d = fast.issue("ctx", 600);
  ASSERT_TRUE(d.ok());
  EXPECT_TRUE(ch.check(d->bytes, "ctx").ok());
}

TEST_F(ChallengeTest, KeyRotation) {
  auto old_c = ch.issue("ctx", 300);
  ASSERT_TRUE(old_c.ok());
  auto k2 = key(2);
  Challenger rotated = make({k2, k1}, clock);
  EXPECT_TRUE(rotated.check(old_c->bytes, "ctx").ok());
  auto new_c = rotated.issue("ctx", 300);
  ASSERT_TRUE(new_c.ok());
  EXPECT_EQ(new_c->bytes[1], 2);
  EXPECT_TRUE(rotated.check(new_c->bytes, "ctx").ok());
  // The old instance does not know key 2; after k1 retires, its challenges fail.
  EXPECT_EQ(msg(ch.check(new_c->bytes, "ctx")), "challenge: unknown key id 0x02");
  Challenger retired = make({k2, std::nullopt}, clock);
  EXPECT_EQ(msg(retired.check(old_c->bytes, "ctx")), "challenge: unknown key id 0x01");
}

TEST_F(ChallengeTest, SameIdDifferentKeyIsMacMismatch) {
  auto c = ch.issue("ctx", 300);
  ASSERT_TRUE(c.ok());
  Challenger other = make({key(1), std::nullopt}, clock);
  EXPECT_THAT(msg(other.check(c->bytes, "ctx")), HasSubstr("MAC mismatch"));
}

TEST_F(ChallengeTest, TruncatedAndOversized) {
  auto c = ch.issue("ctx", 300);
  ASSERT_TRUE(c.ok());
  for (size_t n = 0; n < kChallengeSize; ++n) {
    EXPECT_EQ(msg(ch.check(ByteView(c->bytes).first(n), "ctx")),
              "challenge: wrong size: " + std::to_string(n) + " bytes, expected 34");
  }
  Bytes longer = c->bytes;
  longer.push_back(0);
  EXPECT_EQ(msg(ch.check(longer, "ctx")), "challenge: wrong size: 35 bytes, expected 34");
  Bytes huge(4096, 0);
  EXPECT_THAT(msg(ch.check(huge, "ctx")), HasSubstr("wrong size"));
  EXPECT_FALSE(challenge_id(longer).ok());
}

TEST_F(ChallengeTest, ReplicasShareKeysViaStorage) {
  auto stored = k1.to_storage();
  ASSERT_EQ(stored.size(), kChallengeKeyStorageSize);
  auto loaded = ChallengeKey::from_storage(stored.view());
  ASSERT_TRUE(loaded.ok()) << loaded.error().message;
  EXPECT_EQ(loaded->id(), 1);
  Challenger replica = make({std::move(*loaded), std::nullopt}, clock);
  auto a = ch.issue("attest:vm-1", 120);
  auto b = replica.issue("attest:vm-2", 120);
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_TRUE(replica.check(a->bytes, "attest:vm-1").ok());
  EXPECT_TRUE(ch.check(b->bytes, "attest:vm-2").ok());
}

TEST(ChallengeKeyTest, FromStorageRejectsBadInput) {
  Bytes b(kChallengeKeyStorageSize, 0);
  b[0] = 1;
  EXPECT_TRUE(ChallengeKey::from_storage(b).ok());
  b[0] = 2;
  EXPECT_THAT(ChallengeKey::from_storage(b).error().message, HasSubstr("unknown storage format 0x02"));
  b[0] = 1;
  b.pop_back();
  EXPECT_THAT(ChallengeKey::from_storage(b).error().message, HasSubstr("33 bytes, expected 34"));
}

TEST(ChallengerTest, CreateAndIssueRejectBadArguments) {
  FakeClock clock;
  auto k = key(7);
  EXPECT_THAT(Challenger::create({k, k}, clock.clock()).error().message, HasSubstr("share id 0x07"));
  EXPECT_FALSE(Challenger::create({k, std::nullopt}, Clock{}).ok());
  EXPECT_FALSE(Challenger::create({k, std::nullopt}, clock.clock(), {0, 60}).ok());
  Challenger ch = make({k, std::nullopt}, clock);
  EXPECT_THAT(ch.issue("", 60).error().message, HasSubstr("empty context"));
  EXPECT_THAT(ch.issue("x", 0).error().message, HasSubstr("outside 1..600"));
  EXPECT_THAT(ch.issue("x", 601).error().message, HasSubstr("outside 1..600"));
  *clock.now = -1;
  EXPECT_THAT(ch.issue("x", 60).error().message, HasSubstr("cannot encode expiry"));
  *clock.now = 0xFFFFFFFFLL - 59;
  EXPECT_FALSE(ch.issue("x", 60).ok());
  *clock.now = 0xFFFFFFFFLL - 60;
  EXPECT_TRUE(ch.issue("x", 60).ok());
}

}  // namespace
}  // namespace tl::verify
