// The issuer read from an unverified token: hostile inputs.
#include "keys/authorities/unverified_issuer.h"

#include <gtest/gtest.h>

#include "token/base64url.h"

namespace tl::keys::detail {
namespace {

std::string b64(const std::string& s) { return token::base64url_encode(as_bytes(s)); }
std::string with_payload(const std::string& payload) {
  return b64("{\"alg\":\"ES256\"}") + "." + b64(payload) + ".c2ln";
}

std::string reason(const std::string& jwt) {
  auto r = unverified_issuer(jwt, 64 * 1024);
  return r ? "iss " + *r : r.error().reason + ": " + r.error().message;
}

TEST(UnverifiedIssuer, ReadsIssOnly) {
  EXPECT_EQ(reason(with_payload("{\"iss\":\"https://a.example\",\"exp\":\"nonsense\"}")), "iss https://a.example");
  // Header and signature are not looked at here (verify_jwt does that).
  EXPECT_EQ(reason("e30." + b64("{\"iss\":\"x\"}") + ".AA"), "iss x");
}

TEST(UnverifiedIssuer, Hostile) {
  const std::string good = with_payload("{\"iss\":\"https://a.example\"}");
  const struct {
    std::string jwt;
    std::string expect;
  } cases[] = {
      {"", "token-malformed: token has 1 parts"},
      {good.substr(0, good.rfind('.')), "token-malformed: token has 2 parts"},
      {good + ".", "token-malformed: token has 4 parts"},
      {"a..c", "token-malformed: payload: empty part"},
      {"a.e30=.c", "token-malformed: payload: padding"},
      {"a.e+0.c", "token-malformed: payload: invalid base64url"},
      {"a.e.c", "token-malformed: payload: "},  // 4k+1 length
      {with_payload("[\"iss\"]"), "token-malformed: payload: JSON array"},
      {with_payload("{\"iss\":\"a\",\"iss\":\"b\"}"), "token-malformed: payload: duplicate member \"iss\""},
      {with_payload("{\"iss\":\"\xff\"}"), "token-malformed: payload: not valid JSON"},
      {with_payload(std::string(20, '[') + std::string(20, ']')), "token-malformed: payload: "},
      {with_payload("{}"), "token-untrusted-issuer: claims: missing \"iss\""},
      {with_payload("{\"iss\":5}"), "token-untrusted-issuer: claims: \"iss\" is a number"},
      {with_payload("{\"iss\":null}"), "token-untrusted-issuer: claims: \"iss\" is a null"},
      {with_payload("{\"iss\":\"\"}"), "token-untrusted-issuer: claims: \"iss\" is empty"},
      {std::string(64 * 1024 + 1, 'a'), "token-malformed: token is 65537 bytes"},
  };
  for (const auto& c : cases) {
    const std::string got = reason(c.jwt);
    EXPECT_EQ(got.substr(0, c.expect.size()), c.expect) << c.jwt.substr(0, 60);
  }
}

}  // namespace
}  // namespace tl::keys::detail
