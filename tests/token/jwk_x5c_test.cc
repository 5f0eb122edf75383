// JWKs whose key is given by "x5c" (Microsoft Azure Attestation publishes its
// RSA keys as {"kty","kid","x5c"} only), with certificates made by openssl.
#include <gtest/gtest.h>

#include "test_keys.h"
#include "test_x5c.h"
#include "token/jwk.h"
#include "token/jwt.h"

namespace tl::token {
namespace {

using json = nlohmann::json;

std::string why(const json& j) {
  auto k = Jwk::from_json(j);
  return k ? "accepted" : k.error().message;
}

class X5c : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    rsa_ = new SigningKey(test::test_key(JwsAlg::rs256, 0));  // NOLINT: suite-lifetime fixture
    other_rsa_ = new SigningKey(test::test_key(JwsAlg::rs256, 1));
    ec_ = new SigningKey(test::test_key(JwsAlg::es256));
    rsa_x5c_ = new std::string(test::x5c_of(*rsa_));
    other_rsa_x5c_ = new std::string(test::x5c_of(*other_rsa_));
    ec_x5c_ = new std::string(test::x5c_of(*ec_));
  }
  static void TearDownTestSuite() {
    delete rsa_;
    delete other_rsa_;
    delete ec_;
    delete rsa_x5c_;
    delete other_rsa_x5c_;
    delete ec_x5c_;
  }
  static SigningKey* rsa_;
  static SigningKey* other_rsa_;
  static SigningKey* ec_;
  static std::string* rsa_x5c_;
  static std::string* other_rsa_x5c_;
  static std::string* ec_x5c_;
};
SigningKey* X5c::rsa_ = nullptr;
SigningKey* X5c::other_rsa_ = nullptr;
SigningKey* X5c::ec_ = nullptr;
std::string* X5c::rsa_x5c_ = nullptr;
std::string* X5c::other_rsa_x5c_ = nullptr;
std::string* X5c::ec_x5c_ = nullptr;

TEST_F(X5c, KeyFromTheCertificateAlone) {
  // The shape of MAA's /certs entries: kid is any string, no n / e.
  const std::string kid = "ar2Me88UijW9Ha+DlQ1h9ciRs11y4x8k9wBaBPS0g/A=";
  auto set = Jwks::parse(json{{"keys", {{{"x5c", {*rsa_x5c_}}, {"kid", kid}, {"kty", "RSA"}}}}}.dump());
  ASSERT_TRUE(set.ok()) << set.error().message;
  const Jwk* jwk = set->find(kid);
  ASSERT_NE(jwk, nullptr);
  EXPECT_TRUE(jwk->key == rsa_->private_key().public_key());
  // A token signed by that key under MAA's kid verifies; another key's does not.
  const json header = {{"alg", "RS256"}, {"kid", kid}, {"typ", "JWT"}};
  const json claims = {{"iss", "https://maa.example"}, {"exp", 1'800'003'600}};
  auto sign = [&](const SigningKey& k) {
    const std::string input = base64url_encode(as_bytes(header.dump())) + "." + base64url_encode(as_bytes(claims.dump()));
    auto sig = k.private_key().sign(as_bytes(input));
    EXPECT_TRUE(sig.ok());
    return input + "." + base64url_encode(*sig);
  };
  VerifyOptions o;
  o.now = 1'800'000'000;
  EXPECT_TRUE(verify_jwt(sign(*rsa_), *set, o).ok());
  auto forged = verify_jwt(sign(*other_rsa_), *set, o);
  ASSERT_FALSE(forged.ok());
  EXPECT_EQ(forged.error().reason, kReasonTokenSignatureInvalid);
  // The set prints the key's members (n, e), not the certificate.
  EXPECT_TRUE(set->to_json()["keys"][0].contains("n"));

  json ec = {{"kty", "EC"}, {"crv", "P-256"}, {"kid", "e"}, {"x5c", {*ec_x5c_}}};
  auto ec_jwk = Jwk::from_json(ec);
  ASSERT_TRUE(ec_jwk.ok()) << ec_jwk.error().message;
  EXPECT_TRUE(ec_jwk->key == ec_->private_key().public_key());
}

TEST_F(X5c, CertificateMustMatchTheMembers) {
  json j = rsa_->public_jwk().to_json();
  j["x5c"] = {*rsa_x5c_, "MIIB"};  // the rest of a chain is not read
  j["x5t"] = "anything";
  EXPECT_EQ(why(j), "accepted");
  j["x5c"] = {*other_rsa_x5c_};
  EXPECT_NE(why(j).find("\"x5c\"[0] holds another key than the JWK's members"), std::string::npos) << why(j);
  json ec = ec_->public_jwk().to_json();
  ec["x5c"] = {*ec_x5c_};
  EXPECT_EQ(why(ec), "accepted");
  ec["x5c"] = {*rsa_x5c_};
  EXPECT_NE(why(ec).find("holds another key"), std::string::npos) << why(ec);
}

TEST_F(X5c, Hostile) {
  const json base = {{"kty", "RSA"}, {"kid", "k"}};
  auto with = [&](json x5c) {
    json j = base;
    j["x5c"] = std::move(x5c);
    return why(j);
  };
  EXPECT_NE(with("MIIB").find("not a non-empty array"), std::string::npos);
  EXPECT_NE(with(json::array()).find("not a non-empty array"), std::string::npos);
  EXPECT_NE(with({5}).find("not a non-empty array"), std::string::npos);
  EXPECT_NE(with({nullptr}).find("not a non-empty array"), std::string::npos);
  std::string url = *rsa_x5c_;
  for (char& c : url) {
    if (c == '+') c = '-';
    if (c == '/') c = '_';
  }
  if (url != *rsa_x5c_) {  // the certificate's base64 has a '+' or '/'
    EXPECT_NE(with({url}).find("not padded standard base64"), std::string::npos);
  }
  std::string unpadded = *rsa_x5c_;
  while (!unpadded.empty() && unpadded.back() == '=') unpadded.pop_back();
  if (unpadded.size() % 4 != 0) {  // the DER length is not a multiple of 3
    EXPECT_NE(with({unpadded}).find("not padded standard base64"), std::string::npos);
  }
  EXPECT_NE(with({"AAA"}).find("not padded standard base64"), std::string::npos);
  EXPECT_NE(with({"AA-A"}).find("not padded standard base64"), std::string::npos);
  EXPECT_NE(with({"AAAA===="}).find("\"x5c\"[0]"), std::string::npos) << with({"AAAA===="});
  EXPECT_NE(with({"A=AA"}).find("\"x5c\"[0]: padding"), std::string::npos) << with({"A=AA"});
  EXPECT_NE(with({"AAAA\nAAA"}).find("\"x5c\"[0]"), std::string::npos);
  EXPECT_NE(with({test::standard_base64(as_bytes("not a certificate"))}).find("\"x5c\"[0]: DER certificate"),
            std::string::npos);
  // A whole certificate with bytes after it, and one cut short.
  Bytes der = test::self_signed_der(*ec_);
  Bytes longer = der;
  longer.push_back(0);
  EXPECT_NE(with({test::standard_base64(longer)}).find("trailing bytes"), std::string::npos);
  der.resize(der.size() - 10);
  EXPECT_NE(with({test::standard_base64(der)}).find("\"x5c\"[0]: DER certificate"), std::string::npos);
  // The certificate's key must be of the JWK's kty (and curve).
  EXPECT_NE(with({*ec_x5c_}).find("does not hold an RSA key"), std::string::npos) << with({*ec_x5c_});
  json ec = {{"kty", "EC"}, {"crv", "P-256"}, {"kid", "e"}, {"x5c", {*rsa_x5c_}}};
  EXPECT_NE(why(ec).find("does not hold an EC key"), std::string::npos) << why(ec);
  // Half the members and a certificate: the members are required in full.
  json half = base;
  half["n"] = rsa_->public_jwk().to_json()["n"];
  half["x5c"] = {*rsa_x5c_};
  EXPECT_NE(why(half).find("missing \"e\""), std::string::npos) << why(half);
  // Without x5c, n and e are required as before.
  EXPECT_NE(why(base).find("missing \"n\""), std::string::npos) << why(base);
}

}  // namespace
}  // namespace tl::token
