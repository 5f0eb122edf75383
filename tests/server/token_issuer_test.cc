// Token signing keys: generated at first start, rotated on command, the old key
// published until its tokens expire; tokens verify against the JWKS.
#include <gtest/gtest.h>

#include <atomic>
#include <thread>
#include <vector>

#include "server/token_issuer.h"
#include "support/cli_runner.h"
#include "token/jwt.h"

namespace tl::server {
namespace {

constexpr int64_t kLifetime = 3600;

class TokenIssuerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto r = Repository::open(dir_.path() / "t.db", 2);
    ASSERT_TRUE(r.ok()) << r.error().message;
    repo_ = std::move(*r);
  }
  std::unique_ptr<TokenIssuer> open(crypto::JwsAlg alg = crypto::JwsAlg::es256) {
    auto t = TokenIssuer::open(*repo_, alg, "https://tl.test", kLifetime, [this] { return now_.load(); });
    EXPECT_TRUE(t.ok()) << t.error().message;
    return t.ok() ? std::move(*t) : nullptr;
  }
  Result<token::VerifiedToken> check(TokenIssuer& t, const std::string& jwt) {
    token::VerifyOptions o;
    o.now = now_.load();
    return token::verify_jwt(jwt, t.verification_keys(), o);
  }
  test::TempDir dir_;
  std::unique_ptr<Repository> repo_;
  std::atomic<int64_t> now_{1'700'000'000};
};

TEST_F(TokenIssuerTest, FirstStartGeneratesOneKeyAndTokensVerify) {
  auto t = open();
  ASSERT_TRUE(t);
  auto jwks = t->jwks();
  ASSERT_EQ(jwks["keys"].size(), 1u);
  EXPECT_EQ(jwks["keys"][0]["alg"], "ES256");
  auto jwt = t->issue({{"secureboot", true}});
  ASSERT_TRUE(jwt.ok()) << jwt.error().message;
  auto v = check(*t, *jwt);
  ASSERT_TRUE(v.ok()) << v.error().message;
  EXPECT_EQ(v->kid(), jwks["keys"][0]["kid"]);
  EXPECT_EQ(v->claims()["iss"], "https://tl.test");
  EXPECT_EQ(v->claims()["iat"], now_.load());
  EXPECT_EQ(v->claims()["nbf"], now_.load());
  EXPECT_EQ(v->claims()["exp"], now_.load() + kLifetime);
  EXPECT_EQ(v->claims()["jti"].get<std::string>().size(), 32u);
  EXPECT_EQ(v->claims()["secureboot"], true);
  EXPECT_EQ(v->header()["jku"], "https://tl.test/certs");
  // A second start reuses the key.
  auto t2 = open();
  EXPECT_EQ(t2->jwks(), jwks);
  // Two tokens never share a jti.
  auto other = t->issue({});
  EXPECT_NE(check(*t, *other)->claims()["jti"], v->claims()["jti"]);
}

TEST_F(TokenIssuerTest, RotationKeepsTheOldKeyUntilItsTokensExpire) {
  auto t = open();
  const std::string old_kid = t->jwks()["keys"][0]["kid"];
  auto old_token = t->issue({});
  ASSERT_TRUE(old_token.ok());

  // Rotation by another process (tlaunchd rotate-signing-key), on the same database.
  auto other = Repository::open(dir_.path() / "t.db", 1);
  ASSERT_TRUE(other.ok());
  auto new_kid = TokenIssuer::rotate(**other, crypto::JwsAlg::rs256, kLifetime, now_.load());
  ASSERT_TRUE(new_kid.ok()) << new_kid.error().message;
  ASSERT_NE(*new_kid, old_kid);

  // Picked up by the running issuer after the reload interval.
  now_ += TokenIssuer::kReloadSeconds;
  auto keys = t->jwks()["keys"];
  ASSERT_EQ(keys.size(), 2u);
  auto fresh = t->issue({});
  ASSERT_TRUE(fresh.ok());
  auto v = check(*t, *fresh);
  ASSERT_TRUE(v.ok()) << v.error().message;
  EXPECT_EQ(v->kid(), *new_kid);
  EXPECT_EQ(v->alg(), crypto::JwsAlg::rs256);
  EXPECT_TRUE(check(*t, *old_token).ok());  // still verifiable

  // Once the old key's last token has expired (plus leeway), it leaves the JWKS.
  now_ += kLifetime + TokenIssuer::kLeewaySeconds + 1;
  keys = t->jwks()["keys"];
  ASSERT_EQ(keys.size(), 1u);
  EXPECT_EQ(keys[0]["kid"], *new_kid);
}

// Two rotations racing (two replicas starting, two operators) leave exactly one active key.
TEST_F(TokenIssuerTest, ConcurrentRotationsLeaveOneActiveKey) {
  for (int round = 0; round < 5; ++round) {
    std::vector<std::thread> ts;
    for (int t = 0; t < 2; ++t)
      ts.emplace_back([&] {
        auto r = Repository::open(dir_.path() / "t.db", 1);
        ASSERT_TRUE(r.ok());
        auto kid = TokenIssuer::rotate(**r, crypto::JwsAlg::es256, kLifetime, now_.load());
        EXPECT_TRUE(kid.ok()) << kid.error().message;
      });
    for (auto& t : ts) t.join();
    auto keys = repo_->signing_keys();
    ASSERT_TRUE(keys.ok());
    int active = 0;
    for (const auto& k : *keys) active += k.retired_at ? 0 : 1;
    EXPECT_EQ(active, 1) << "round " << round;
  }
}

TEST_F(TokenIssuerTest, ConfiguredAlgorithmIsUsedForTheFirstKey) {
  for (auto alg : {crypto::JwsAlg::rs256, crypto::JwsAlg::ps256}) {
    test::TempDir d;
    auto r = Repository::open(d.path() / "t.db", 1);
    ASSERT_TRUE(r.ok());
    auto t = TokenIssuer::open(**r, alg, "https://x", kLifetime, [] { return int64_t{1'700'000'000}; });
    ASSERT_TRUE(t.ok()) << t.error().message;
    EXPECT_EQ((*t)->jwks()["keys"][0]["alg"], std::string(crypto::jws_alg_name(alg)));
  }
}

}  // namespace
}  // namespace tl::server
