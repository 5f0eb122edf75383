// sign_jwt / verify_jwt with real keys: round trips and every tamper refused
// with the reason it names.
#include "token/jwt.h"

#include <gtest/gtest.h>

#include "token/base64url.h"
#include "test_keys.h"

namespace tl::token {
namespace {

using json = nlohmann::json;

constexpr int64_t kNow = 1'800'000'000;

json claims() {
  return {{"iss", "https://tl.example"}, {"aud", "skr"}, {"iat", kNow - 10}, {"nbf", kNow - 10},
          {"exp", kNow + 3600}, {"secureboot", true}, {"x-ms-attestation-type", "azurevm"}};
}

VerifyOptions opts() {
  VerifyOptions o;
  o.now = kNow;
  return o;
}

std::vector<std::string> split(const std::string& t) {
  std::vector<std::string> out;
  size_t start = 0;
  for (;;) {
    size_t dot = t.find('.', start);
    out.push_back(t.substr(start, dot == std::string::npos ? std::string::npos : dot - start));
    if (dot == std::string::npos) return out;
    start = dot + 1;
  }
}

std::string b64(const std::string& s) { return base64url_encode(as_bytes(s)); }

// Signs an arbitrary header/payload text with the key (for tampers that must
// still carry a valid signature).
std::string sign_raw(const SigningKey& k, const std::string& header, const std::string& payload) {
  const std::string input = b64(header) + "." + b64(payload);
  auto sig = k.private_key().sign(as_bytes(input));
  EXPECT_TRUE(sig.ok());
  return input + "." + base64url_encode(*sig);
}

class JwtTest : public ::testing::TestWithParam<JwsAlg> {
 protected:
  void SetUp() override {
    key_.emplace(test::test_key(GetParam()));
    ASSERT_TRUE(jwks_.add(key_->public_jwk()).ok());
    auto t = sign_jwt(*key_, claims());
    ASSERT_TRUE(t.ok()) << t.error().message;
    token_ = *t;
  }
  std::string header_json() const {
    return json{{"alg", std::string(crypto::jws_alg_name(GetParam()))}, {"kid", key_->kid()}, {"typ", "JWT"}}.dump();
  }
  // The message of a refusal ("accepted" when none); every refusal must carry
  // one of the documented reasons.
  std::string why(const std::string& token, const VerifyOptions& o = opts()) const {
    auto r = verify_jwt(token, jwks_, o);
    if (r.ok()) return "accepted";
    EXPECT_TRUE(is_documented_reason(r.error().reason)) << "reason \"" << r.error().reason << "\" of: " << r.error().message;
    return r.error().message;
  }
  // The reason of a refusal ("accepted" when none).
  std::string reason(const std::string& token, const VerifyOptions& o = opts()) const {
    auto r = verify_jwt(token, jwks_, o);
    return r.ok() ? "accepted" : r.error().reason;
  }
  static bool is_documented_reason(const std::string& r) {
    for (const char* known : {kReasonTokenMalformed, kReasonTokenAlgRefused, kReasonTokenUnknownKid,
                              kReasonTokenSignatureInvalid, kReasonTokenExpired, kReasonTokenNotYetValid,
                              kReasonTokenIssuerMismatch, kReasonTokenAudienceMismatch}) {
      if (r == known) return true;
    }
    return false;
  }
  std::optional<SigningKey> key_;
  Jwks jwks_;
  std::string token_;
};

#define EXPECT_REASON(expr, needle)                                    \
  do {                                                                 \
    const std::string why_ = (expr);                                   \
    EXPECT_NE(why_.find(needle), std::string::npos) << "got: " << why_; \
  } while (0)

TEST_P(JwtTest, RoundTrip) {
  auto v = verify_jwt(token_, jwks_, opts());
  ASSERT_TRUE(v.ok()) << v.error().message;
  EXPECT_EQ(v->claims(), claims());
  EXPECT_EQ(v->header()["typ"], "JWT");
  EXPECT_EQ(v->header()["kid"], key_->kid());
  EXPECT_EQ(v->alg(), GetParam());
  EXPECT_EQ(v->kid(), key_->kid());
  const auto parts = split(token_);
  ASSERT_EQ(parts.size(), 3u);
  const size_t sig_len = base64url_decode(parts[2])->size();
  EXPECT_EQ(sig_len, GetParam() == JwsAlg::es256 ? 64u : 384u);
}

TEST_P(JwtTest, JkuAndPemReload) {
  SignOptions so;
  so.jku = "https://tl.example/certs";
  auto t = sign_jwt(*key_, claims(), so);
  ASSERT_TRUE(t.ok());
  auto v = verify_jwt(*t, jwks_, opts());
  ASSERT_TRUE(v.ok()) << v.error().message;
  EXPECT_EQ(v->header()["jku"], "https://tl.example/certs");
  auto pem = key_->to_pkcs8_pem();
  ASSERT_TRUE(pem.ok());
  auto again = SigningKey::from_pkcs8_pem(GetParam(), pem->reveal());
  ASSERT_TRUE(again.ok()) << again.error().message;
  EXPECT_EQ(again->kid(), key_->kid());
  auto t2 = sign_jwt(*again, claims());
  ASSERT_TRUE(t2.ok());
  EXPECT_TRUE(verify_jwt(*t2, jwks_, opts()).ok());
}

TEST_P(JwtTest, FlippedSignatureByte) {
  auto parts = split(token_);
  Bytes sig = *base64url_decode(parts[2]);
  sig[sig.size() / 2] ^= 0x01;
  EXPECT_REASON(why(parts[0] + "." + parts[1] + "." + base64url_encode(sig)), "signature: ");
  EXPECT_REASON(why(parts[0] + "." + parts[1] + "." + base64url_encode(sig)), "does not verify");
}

TEST_P(JwtTest, ChangedClaim) {
  auto parts = split(token_);
  json c = claims();
  c["secureboot"] = false;
  EXPECT_REASON(why(parts[0] + "." + b64(c.dump()) + "." + parts[2]), "signature: ");
}

TEST_P(JwtTest, HeaderAlgChanged) {
  auto parts = split(token_);
  for (const char* alg : {"none", "None", "HS256", "ES384", "EdDSA"}) {
    json h = json::parse(header_json());
    h["alg"] = alg;
    const std::string expect = std::string(alg) == "none" || std::string(alg) == "None" ? "\"none\" is refused" : "is not allowed";
    EXPECT_REASON(why(b64(h.dump()) + "." + parts[1] + "." + parts[2]), expect);
    // Without a signature part: an unsecured JWS is named as such; any other alg is malformed.
    const bool unsecured = std::string(alg) == "none" || std::string(alg) == "None";
    EXPECT_REASON(why(b64(h.dump()) + "." + parts[1] + "."), unsecured ? "\"none\" is refused" : "signature: empty part");
  }
  // A different alg we do support, against this key: refused before any signature check.
  for (JwsAlg other : {JwsAlg::es256, JwsAlg::rs256, JwsAlg::ps256}) {
    if (other == GetParam()) continue;
    json h = json::parse(header_json());
    h["alg"] = std::string(crypto::jws_alg_name(other));
    const std::string got = why(b64(h.dump()) + "." + parts[1] + "." + parts[2]);
    EXPECT_REASON(got, "header: alg " + std::string(crypto::jws_alg_name(other)));
  }
}

TEST_P(JwtTest, AlgNotInAllowList) {
  VerifyOptions o = opts();
  o.allowed_algs = {GetParam() == JwsAlg::es256 ? JwsAlg::rs256 : JwsAlg::es256};
  EXPECT_REASON(why(token_, o), "is not allowed");
}

TEST_P(JwtTest, UnknownKidAndEmptyJwks) {
  json h = json::parse(header_json());
  h["kid"] = "someone-else";
  EXPECT_REASON(why(sign_raw(*key_, h.dump(), claims().dump())), "unknown \"kid\" \"someone-else\"");
  h.erase("kid");
  EXPECT_REASON(why(sign_raw(*key_, h.dump(), claims().dump())), "missing \"kid\"");
  auto r = verify_jwt(token_, Jwks{}, opts());
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("unknown \"kid\""), std::string::npos);
}

TEST_P(JwtTest, KeyFromAnotherSignerWithSameKid) {
  auto other = std::optional<SigningKey>(test::test_key(GetParam(), 1));
  // Signed by `other` but claiming our kid.
  EXPECT_REASON(why(sign_raw(*other, header_json(), claims().dump())), "signature: ");
}

TEST_P(JwtTest, TimeWindow) {
  VerifyOptions o = opts();
  o.now = kNow + 3600 + 60;  // exp + leeway
  EXPECT_REASON(why(token_, o), "claims: expired");
  o.now = kNow + 3600 + 59;
  EXPECT_EQ(why(token_, o), "accepted");
  o.now = kNow - 10 - 61;
  EXPECT_REASON(why(token_, o), "claims: not yet valid");
  o.leeway_seconds = 0;
  o.now = kNow + 3600;
  EXPECT_REASON(why(token_, o), "expired");
  json c = claims();
  c["iat"] = kNow + 1000;
  EXPECT_REASON(why(sign_raw(*key_, header_json(), c.dump())), "issued in the future");
  c = claims();
  c.erase("exp");
  EXPECT_REASON(why(sign_raw(*key_, header_json(), c.dump())), "claims: missing \"exp\"");
  o = opts();
  o.require_exp = false;
  EXPECT_EQ(why(sign_raw(*key_, header_json(), c.dump()), o), "accepted");
  c = claims();
  c["exp"] = "tomorrow";
  EXPECT_REASON(why(sign_raw(*key_, header_json(), c.dump())), "\"exp\" is a string, expected a NumericDate");
  c["exp"] = static_cast<double>(kNow) + 100.5;
  EXPECT_EQ(why(sign_raw(*key_, header_json(), c.dump())), "accepted");
}

TEST_P(JwtTest, IssuerAndAudience) {
  VerifyOptions o = opts();
  o.issuer = "https://tl.example";
  o.audience = "skr";
  EXPECT_EQ(why(token_, o), "accepted");
  o.issuer = "https://evil.example";
  EXPECT_REASON(why(token_, o), "claims: \"iss\" is \"https://tl.example\", expected \"https://evil.example\"");
  o.issuer.reset();
  o.audience = "other";
  EXPECT_REASON(why(token_, o), "\"aud\" does not contain \"other\"");
  json c = claims();
  c["aud"] = json::array({"a", "other"});
  EXPECT_EQ(why(sign_raw(*key_, header_json(), c.dump()), o), "accepted");
  c.erase("aud");
  EXPECT_REASON(why(sign_raw(*key_, header_json(), c.dump()), o), "missing \"aud\"");
}

TEST_P(JwtTest, StructureAndEncoding) {
  auto parts = split(token_);
  EXPECT_REASON(why(parts[0] + "." + parts[1]), "token has 2 parts");
  EXPECT_REASON(why(parts[0]), "token has 1 parts");
  EXPECT_REASON(why(token_ + "." + parts[2]), "token has 4 parts");
  EXPECT_REASON(why(parts[0] + ".." + parts[2]), "payload: empty part");
  EXPECT_REASON(why("." + parts[1] + "." + parts[2]), "header: empty part");
  EXPECT_REASON(why(parts[0] + "." + parts[1] + "." + parts[2].substr(0, parts[2].size() - 4)), "signature: ");
  EXPECT_REASON(why(parts[0] + "=." + parts[1] + "." + parts[2]), "header: padding '='");
  EXPECT_REASON(why(parts[0] + "." + parts[1] + "+." + parts[2]), "payload: invalid base64url character '+' at position");
  EXPECT_REASON(why(parts[0] + "." + parts[1] + "." + parts[2] + "\n"), "signature: invalid base64url character byte 0x0a");
  EXPECT_REASON(why("x" + token_), "header: ");
}

TEST_P(JwtTest, JsonShapes) {
  const auto parts = split(token_);
  EXPECT_REASON(why(b64("[1,2]") + "." + parts[1] + "." + parts[2]), "header: JSON array, expected an object");
  EXPECT_REASON(why(b64("\"JWT\"") + "." + parts[1] + "." + parts[2]), "header: JSON string");
  EXPECT_REASON(why(b64("{\"alg\":") + "." + parts[1] + "." + parts[2]), "header: not valid JSON");
  EXPECT_REASON(why(b64("{\"alg\":\"none\",\"alg\":\"" + std::string(crypto::jws_alg_name(GetParam())) + "\"}") + "." +
                    parts[1] + "." + parts[2]),
                "header: duplicate member \"alg\"");
  EXPECT_REASON(why(b64("{\"alg\":5}") + "." + parts[1] + "." + parts[2]), "header: \"alg\" is a number");
  EXPECT_REASON(why(b64("{\"kid\":\"x\"}") + "." + parts[1] + "." + parts[2]), "header: missing \"alg\"");
  EXPECT_REASON(why(b64("{\"alg\":\"ES256\",\"a\":\"\xff\"}") + "." + parts[1] + "." + parts[2]), "header: not valid JSON");
  // Payload shapes must still carry a valid signature to reach the claims step.
  EXPECT_REASON(why(sign_raw(*key_, header_json(), "[\"claims\"]")), "payload: JSON array, expected an object");
  EXPECT_REASON(why(sign_raw(*key_, header_json(), "42")), "payload: JSON number");
  EXPECT_REASON(why(sign_raw(*key_, header_json(), "{\"exp\":1,\"exp\":9999999999}")), "payload: duplicate member \"exp\"");
  EXPECT_REASON(why(sign_raw(*key_, header_json(), "not json")), "payload: not valid JSON");
  // Header extensions we do not understand, and a wrong typ.
  json h = json::parse(header_json());
  h["crit"] = json::array({"exp"});
  EXPECT_REASON(why(sign_raw(*key_, h.dump(), claims().dump())), "\"crit\" is present");
  h = json::parse(header_json());
  h["typ"] = "at+jwt";
  EXPECT_REASON(why(sign_raw(*key_, h.dump(), claims().dump())), "\"typ\" is \"at+jwt\"");
  h["typ"] = "jwt";  // case-insensitive per RFC 7519 §5.1
  EXPECT_EQ(why(sign_raw(*key_, h.dump(), claims().dump())), "accepted");
}

TEST_P(JwtTest, OversizedRefusedBeforeDecoding) {
  const std::string huge(VerifyOptions::kDefaultMaxTokenBytes + 1, '!');
  EXPECT_REASON(why(huge), "over the 65536-byte limit");
  json c = claims();
  c["pad"] = std::string(70 * 1024, 'a');
  auto t = sign_jwt(*key_, c);
  ASSERT_TRUE(t.ok());
  EXPECT_REASON(why(*t), "byte limit");
  VerifyOptions o = opts();
  o.max_token_bytes = 1 << 20;
  EXPECT_EQ(why(*t, o), "accepted");
}

// Each class of failure has its own reason (docs/token.md), whatever the
// message says; callers (the key vault's release) map reasons to problems.
TEST_P(JwtTest, ReasonOfEachFailureClass) {
  const auto parts = split(token_);
  const std::string alg = std::string(crypto::jws_alg_name(GetParam()));
  auto header_with = [&](const char* member, const json& value) {
    json h = json::parse(header_json());
    if (value.is_null()) {
      h.erase(member);
    } else {
      h[member] = value;
    }
    return h.dump();
  };
  auto with_claims = [&](const json& c) { return sign_raw(*key_, header_json(), c.dump()); };

  EXPECT_EQ(reason(token_), "accepted");

  // token-malformed: size, parts, base64url, JSON, header and claims shape.
  EXPECT_EQ(reason(std::string(VerifyOptions::kDefaultMaxTokenBytes + 1, 'a')), kReasonTokenMalformed);
  EXPECT_EQ(reason(parts[0] + "." + parts[1]), kReasonTokenMalformed);
  EXPECT_EQ(reason(token_ + "." + parts[2]), kReasonTokenMalformed);
  EXPECT_EQ(reason(parts[0] + ".." + parts[2]), kReasonTokenMalformed);
  EXPECT_EQ(reason(parts[0] + "." + parts[1] + "."), kReasonTokenMalformed);
  EXPECT_EQ(reason(parts[0] + "=." + parts[1] + "." + parts[2]), kReasonTokenMalformed);
  EXPECT_EQ(reason(parts[0] + "." + parts[1] + "+." + parts[2]), kReasonTokenMalformed);
  EXPECT_EQ(reason(b64("[1]") + "." + parts[1] + "." + parts[2]), kReasonTokenMalformed);
  EXPECT_EQ(reason(b64("{\"alg\":") + "." + parts[1] + "." + parts[2]), kReasonTokenMalformed);
  EXPECT_EQ(reason(b64("{\"kid\":\"x\"}") + "." + parts[1] + "." + parts[2]), kReasonTokenMalformed);
  EXPECT_EQ(reason(b64("{\"alg\":5}") + "." + parts[1] + "." + parts[2]), kReasonTokenMalformed);
  EXPECT_EQ(reason(sign_raw(*key_, header_with("crit", json::array({"exp"})), claims().dump())), kReasonTokenMalformed);
  EXPECT_EQ(reason(sign_raw(*key_, header_with("typ", "at+jwt"), claims().dump())), kReasonTokenMalformed);
  EXPECT_EQ(reason(sign_raw(*key_, header_with("kid", nullptr), claims().dump())), kReasonTokenMalformed);
  EXPECT_EQ(reason(sign_raw(*key_, header_with("kid", 7), claims().dump())), kReasonTokenMalformed);
  EXPECT_EQ(reason(sign_raw(*key_, header_json(), "[1]")), kReasonTokenMalformed);
  EXPECT_EQ(reason(sign_raw(*key_, header_json(), "{\"exp\":1,\"exp\":2}")), kReasonTokenMalformed);
  json c = claims();
  c["exp"] = "tomorrow";
  EXPECT_EQ(reason(with_claims(c)), kReasonTokenMalformed);
  c = claims();
  c["nbf"] = json::array();
  EXPECT_EQ(reason(with_claims(c)), kReasonTokenMalformed);
  c = claims();
  c["iat"] = 1e300;
  EXPECT_EQ(reason(with_claims(c)), kReasonTokenMalformed);
  c = claims();
  c.erase("exp");
  EXPECT_EQ(reason(with_claims(c)), kReasonTokenMalformed);
  VerifyOptions o = opts();
  o.audience = "skr";
  c = claims();
  c["aud"] = 5;
  EXPECT_EQ(reason(with_claims(c), o), kReasonTokenMalformed);

  // token-alg-refused: none (any case), HS*, unknown, not allowed, not suiting the key.
  for (const char* refused_alg : {"none", "NONE", "HS256", "HS512", "ES384", "EdDSA", "RSA-OAEP"}) {
    EXPECT_EQ(reason(b64(header_with("alg", refused_alg)) + "." + parts[1] + "." + parts[2]), kReasonTokenAlgRefused)
        << refused_alg;
  }
  // An unsecured JWS as RFC 7515 §A.5 writes it: empty signature part.
  EXPECT_EQ(reason(b64(header_with("alg", "none")) + "." + parts[1] + "."), kReasonTokenAlgRefused);
  // Any other header with an empty signature part is merely malformed.
  EXPECT_EQ(reason(parts[0] + "." + parts[1] + "."), kReasonTokenMalformed);
  o = opts();
  o.allowed_algs = {GetParam() == JwsAlg::es256 ? JwsAlg::rs256 : JwsAlg::es256};
  EXPECT_EQ(reason(token_, o), kReasonTokenAlgRefused);
  for (JwsAlg other : {JwsAlg::es256, JwsAlg::rs256, JwsAlg::ps256}) {
    const bool same_family = (other == JwsAlg::es256) == (GetParam() == JwsAlg::es256);
    if (same_family) continue;  // RS256 and PS256 both suit an RSA key: the signature decides
    const std::string h = header_with("alg", std::string(crypto::jws_alg_name(other)));
    EXPECT_EQ(reason(b64(h) + "." + parts[1] + "." + parts[2]), kReasonTokenAlgRefused) << crypto::jws_alg_name(other);
  }

  // token-unknown-kid.
  EXPECT_EQ(reason(sign_raw(*key_, header_with("kid", "someone-else"), claims().dump())), kReasonTokenUnknownKid);

  // token-signature-invalid: a flipped bit, a changed claim, another key, a truncated signature.
  Bytes sig = *base64url_decode(parts[2]);
  sig[0] ^= 0x80;
  EXPECT_EQ(reason(parts[0] + "." + parts[1] + "." + base64url_encode(sig)), kReasonTokenSignatureInvalid);
  c = claims();
  c["secureboot"] = false;
  EXPECT_EQ(reason(parts[0] + "." + b64(c.dump()) + "." + parts[2]), kReasonTokenSignatureInvalid);
  auto other = std::optional<SigningKey>(test::test_key(GetParam(), 1));
  EXPECT_EQ(reason(sign_raw(*other, header_json(), claims().dump())), kReasonTokenSignatureInvalid);
  sig = *base64url_decode(parts[2]);
  sig.resize(sig.size() - 1);
  EXPECT_EQ(reason(parts[0] + "." + parts[1] + "." + base64url_encode(sig)), kReasonTokenSignatureInvalid);
  if (GetParam() != JwsAlg::es256) {
    // An RS256 token presented as PS256 (same key family): refused by the
    // JWK's "alg" when it pins one, else by the signature.
    const std::string swapped = GetParam() == JwsAlg::rs256 ? "PS256" : "RS256";
    const std::string token = b64(header_with("alg", swapped)) + "." + parts[1] + "." + parts[2];
    EXPECT_EQ(reason(token), kReasonTokenAlgRefused);
    Jwk unpinned = key_->public_jwk();
    unpinned.alg.reset();
    Jwks open;
    ASSERT_TRUE(open.add(unpinned).ok());
    auto r = verify_jwt(token, open, opts());
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().reason, kReasonTokenSignatureInvalid) << r.error().message;
  }

  // token-expired / token-not-yet-valid (nbf, and iat in the future).
  o = opts();
  o.now = kNow + 3600 + 60;
  EXPECT_EQ(reason(token_, o), kReasonTokenExpired);
  o.now = kNow - 10 - 61;
  EXPECT_EQ(reason(token_, o), kReasonTokenNotYetValid);
  c = claims();
  c.erase("nbf");
  c["iat"] = kNow + 1000;
  EXPECT_EQ(reason(with_claims(c)), kReasonTokenNotYetValid);

  // token-issuer-mismatch: another iss, none, not a string.
  o = opts();
  o.issuer = "https://other.example";
  EXPECT_EQ(reason(token_, o), kReasonTokenIssuerMismatch);
  c = claims();
  c.erase("iss");
  EXPECT_EQ(reason(with_claims(c), o), kReasonTokenIssuerMismatch);
  c["iss"] = json::array({"https://other.example"});
  EXPECT_EQ(reason(with_claims(c), o), kReasonTokenIssuerMismatch);

  // token-audience-mismatch: another aud, none.
  o = opts();
  o.audience = "other";
  EXPECT_EQ(reason(token_, o), kReasonTokenAudienceMismatch);
  c = claims();
  c.erase("aud");
  EXPECT_EQ(reason(with_claims(c), o), kReasonTokenAudienceMismatch);
}

// A refusal's reason is that of the first failed step: an expired token with
// a bad signature is a signature failure (the claims are never trusted), and
// an unknown kid hides everything after it.
TEST_P(JwtTest, ReasonIsTheFirstFailedStep) {
  const auto parts = split(token_);
  Bytes sig = *base64url_decode(parts[2]);
  sig[sig.size() - 1] ^= 0x01;
  VerifyOptions late = opts();
  late.now = kNow + 100'000;
  EXPECT_EQ(reason(parts[0] + "." + parts[1] + "." + base64url_encode(sig), late), kReasonTokenSignatureInvalid);
  EXPECT_EQ(verify_jwt(token_, Jwks{}, late).error().reason, kReasonTokenUnknownKid);
}

TEST_P(JwtTest, SignRefusesNonObjectClaimsAndBadUtf8) {
  EXPECT_FALSE(sign_jwt(*key_, json::array()).ok());
  json c = claims();
  c["bad"] = std::string("\xff\xfe");
  auto r = sign_jwt(*key_, c);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("claims: cannot serialize"), std::string::npos);
}

INSTANTIATE_TEST_SUITE_P(Algs, JwtTest, ::testing::Values(JwsAlg::es256, JwsAlg::rs256, JwsAlg::ps256),
                         [](const ::testing::TestParamInfo<JwsAlg>& p) { return std::string(crypto::jws_alg_name(p.param)); });

TEST(JwtConfusion, JwkAlgPinsTheAlgorithm) {
  // An RSA key published for PS256 refuses an RS256 token, even with a valid signature.
  auto rs = std::optional<SigningKey>(test::test_key(JwsAlg::rs256));
  Jwk pinned = rs->public_jwk();
  pinned.alg = JwsAlg::ps256;
  Jwks set;
  ASSERT_TRUE(set.add(pinned).ok());
  auto t = sign_jwt(*rs, claims());
  ASSERT_TRUE(t.ok());
  auto r = verify_jwt(*t, set, opts());
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("key \"" + rs->kid() + "\" is for PS256"), std::string::npos) << r.error().message;
  // Without "alg" in the JWK, RS256 is accepted for the RSA key.
  pinned.alg.reset();
  Jwks open;
  ASSERT_TRUE(open.add(pinned).ok());
  EXPECT_TRUE(verify_jwt(*t, open, opts()).ok());
}

}  // namespace
}  // namespace tl::token
