#include "token/jwk.h"

#include <gtest/gtest.h>

#include "token/base64url.h"

namespace tl::token {
namespace {

using json = nlohmann::json;

// RFC 7638 §3.1: the example RSA key and the thumbprint the RFC gives for it.
constexpr const char* kRfc7638N =
    "0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjBZCiFV4n3oknjhMs"
    "tn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5h"
    "ajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw";
constexpr const char* kRfc7638Thumbprint = "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs";

TEST(Jwk, ThumbprintMatchesRfc7638Example) {
  const json j = {{"kty", "RSA"}, {"n", kRfc7638N}, {"e", "AQAB"}, {"alg", "RS256"}, {"kid", "2011-04-29"}};
  auto jwk = Jwk::from_json(j);
  ASSERT_TRUE(jwk.ok()) << jwk.error().message;
  auto t = jwk_thumbprint(jwk->key);
  ASSERT_TRUE(t.ok()) << t.error().message;
  EXPECT_EQ(*t, kRfc7638Thumbprint);
  // And the JWK we print carries the same n / e.
  const json out = jwk->to_json();
  EXPECT_EQ(out["n"], kRfc7638N);
  EXPECT_EQ(out["e"], "AQAB");
  EXPECT_EQ(out["alg"], "RS256");
}

TEST(Jwk, SigningKeyKidIsThumbprintAndJwkRoundTrips) {
  for (JwsAlg alg : {JwsAlg::es256, JwsAlg::rs256}) {
    auto key = SigningKey::generate(alg);
    ASSERT_TRUE(key.ok()) << key.error().message;
    EXPECT_EQ(key->kid().size(), 43u);
    const json j = key->public_jwk().to_json();
    auto back = Jwk::from_json(j);
    ASSERT_TRUE(back.ok()) << back.error().message;
    EXPECT_EQ(back->kid, key->kid());
    EXPECT_TRUE(back->key == key->private_key().public_key());
    EXPECT_EQ(*jwk_thumbprint(back->key), key->kid());
    if (alg == JwsAlg::es256) {
      EXPECT_EQ(j["crv"], "P-256");
      EXPECT_EQ(base64url_decode(j["x"].get<std::string>())->size(), 32u);
    }
  }
}

Jwk rfc_jwk() { return *Jwk::from_json({{"kty", "RSA"}, {"n", kRfc7638N}, {"e", "AQAB"}, {"kid", "k"}}); }

std::string reason(const json& j) {
  auto r = Jwk::from_json(j);
  return r.ok() ? "accepted" : r.error().message;
}

TEST(Jwk, RefusesBadKeys) {
  json ok = {{"kty", "RSA"}, {"n", kRfc7638N}, {"e", "AQAB"}, {"kid", "k"}};
  EXPECT_EQ(reason(ok), "accepted");
  json j = ok;
  j["d"] = "AAAA";
  EXPECT_NE(reason(j).find("private member \"d\""), std::string::npos);
  j = ok;
  j.erase("kid");
  EXPECT_NE(reason(j).find("missing \"kid\""), std::string::npos);
  j = ok;
  j["use"] = "enc";
  EXPECT_NE(reason(j).find("\"use\""), std::string::npos);
  j = ok;
  j["alg"] = "ES256";
  EXPECT_NE(reason(j).find("does not suit"), std::string::npos);
  j = ok;
  j["alg"] = "HS256";
  EXPECT_NE(reason(j).find("not supported"), std::string::npos);
  j = ok;
  j["e"] = "AQA=";
  EXPECT_NE(reason(j).find("\"e\": padding"), std::string::npos) << reason(j);
  j = ok;
  j["n"] = "AQAB";
  EXPECT_NE(reason(j).find("RSA key of"), std::string::npos) << reason(j);
  j = ok;
  j["kty"] = "oct";
  EXPECT_NE(reason(j).find("\"kty\" \"oct\""), std::string::npos);
  // EC: wrong curve, wrong size, point not on the curve.
  json ec = {{"kty", "EC"}, {"crv", "P-384"}, {"x", base64url_encode(Bytes(48, 1))}, {"y", base64url_encode(Bytes(48, 1))}, {"kid", "e"}};
  EXPECT_NE(reason(ec).find("only P-256"), std::string::npos);
  ec["crv"] = "P-256";
  EXPECT_NE(reason(ec).find("expected 32 each"), std::string::npos);
  ec["x"] = base64url_encode(Bytes(32, 1));
  ec["y"] = base64url_encode(Bytes(32, 1));
  EXPECT_NE(reason(ec).find("not a point on P-256"), std::string::npos) << reason(ec);
  (void)rfc_jwk();
}

TEST(Jwks, ParseSerializeAndLookup) {
  auto es = SigningKey::generate(JwsAlg::es256);
  ASSERT_TRUE(es.ok());
  Jwks set;
  ASSERT_TRUE(set.add(es->public_jwk()).ok());
  ASSERT_TRUE(set.add(rfc_jwk()).ok());
  auto dup = set.add(rfc_jwk());
  ASSERT_FALSE(dup.ok());
  EXPECT_NE(dup.error().message.find("duplicate kid \"k\""), std::string::npos);
  const std::string text = set.to_json().dump();
  auto back = Jwks::parse(text);
  ASSERT_TRUE(back.ok()) << back.error().message;
  ASSERT_EQ(back->keys().size(), 2u);
  ASSERT_NE(back->find(es->kid()), nullptr);
  EXPECT_EQ(back->find("nope"), nullptr);
  EXPECT_EQ(back->to_json(), set.to_json());
}

TEST(Jwks, SkipsUnknownKtyRefusesTheRest) {
  json keys = json::array({{{"kty", "oct"}, {"k", "AAAA"}, {"kid", "sym"}},
                           {{"kty", "RSA"}, {"n", kRfc7638N}, {"e", "AQAB"}, {"kid", "k"}}});
  auto set = Jwks::from_json({{"keys", keys}});
  ASSERT_TRUE(set.ok()) << set.error().message;
  EXPECT_EQ(set->keys().size(), 1u);
  keys.push_back({{"kty", "RSA"}, {"n", kRfc7638N}, {"e", "AQAB"}, {"kid", "k"}});
  auto dup = Jwks::from_json({{"keys", keys}});
  ASSERT_FALSE(dup.ok());
  EXPECT_NE(dup.error().message.find("JWKS key 2 (kid \"k\"): duplicate kid"), std::string::npos) << dup.error().message;
  auto bad = Jwks::from_json({{"keys", json::array({{{"kty", "RSA"}, {"kid", "x"}}})}});
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.error().message.find("JWKS key 0 (kid \"x\"): missing \"n\""), std::string::npos) << bad.error().message;
}

TEST(Jwks, RefusesMalformedText) {
  EXPECT_NE(Jwks::parse("[]").error().message.find("expected an object"), std::string::npos);
  EXPECT_NE(Jwks::parse("{\"keys\":1}").error().message.find("expected an array"), std::string::npos);
  EXPECT_NE(Jwks::parse("{\"keys\":[],\"keys\":[]}").error().message.find("duplicate member \"keys\""), std::string::npos);
  EXPECT_NE(Jwks::parse("{\"keys\":[").error().message.find("not valid JSON"), std::string::npos);
  EXPECT_NE(Jwks::parse(std::string(Jwks::kMaxJsonBytes + 1, ' ')).error().message.find("limit"), std::string::npos);
  std::string deep = "{\"keys\":" + std::string(100, '[') + std::string(100, ']') + "}";
  EXPECT_NE(Jwks::parse(deep).error().message.find("nested deeper"), std::string::npos);
}

}  // namespace
}  // namespace tl::token
