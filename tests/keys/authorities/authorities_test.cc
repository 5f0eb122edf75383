// Authorities against real issuers on 127.0.0.1 (discovery + JWKS over the
// real HTTP server) and tokens signed with real keys.
#include "keys/authorities/authorities.h"

#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <future>
#include <thread>

#include <unistd.h>

#include "http/test_pki.h"
#include "test_issuer.h"
#include "token/test_keys.h"
#include "token/test_x5c.h"

namespace tl::keys {
namespace {

using json = nlohmann::json;
using test::claims_for;
using test::sign;
using test::TestIssuer;

constexpr int64_t kNow = 1'800'000'000;
const std::string kOwnIssuer = "https://tlaunchd.test:8443";

token::SigningKey ec_key() { return token::test::test_key(token::JwsAlg::es256); }

class AuthoritiesTest : public ::testing::Test {
 protected:
  std::unique_ptr<Authorities> make(std::vector<TrustedAuthority> trusted, AuthoritiesOptions options = {}) {
    auto a = Authorities::create([] { return kOwnIssuer; },
                                 [this] {
                                   token::Jwks set;
                                   EXPECT_TRUE(set.add(own_.public_jwk()).ok());
                                   return set;
                                 },
                                 std::move(trusted), std::move(options));
    if (!a) ADD_FAILURE() << a.error().message;
    return a ? std::move(*a) : nullptr;
  }
  static TrustedAuthority discovered(const TestIssuer& issuer) { return TrustedAuthority{issuer.issuer(), {}, {}, {}}; }

  // The reason of a refusal, "accepted" when verified.
  static std::string reason(Authorities& a, const std::string& jwt, int64_t now = kNow) {
    auto r = a.verify(jwt, now);
    return r ? "accepted" : r.error().reason;
  }

  token::SigningKey own_ = ec_key();
  token::SigningKey a_ = ec_key();  // issuer A's key
  token::SigningKey b_ = ec_key();  // issuer B's key
};

TEST_F(AuthoritiesTest, OwnIssuerAccepted) {
  auto authorities = make({});
  ASSERT_TRUE(authorities);
  auto v = authorities->verify(sign(own_, claims_for(kOwnIssuer, kNow)), kNow);
  ASSERT_TRUE(v.ok()) << v.error().message;
  EXPECT_EQ(v->claims()["iss"], kOwnIssuer);
  EXPECT_EQ(v->kid(), own_.kid());
  EXPECT_TRUE(authorities->is_own_issuer(kOwnIssuer));
  EXPECT_FALSE(authorities->is_own_issuer(kOwnIssuer + "/"));
  EXPECT_FALSE(authorities->is_own_issuer(""));
  // Another key claiming to be tlaunchd: its kid is not one of ours.
  EXPECT_EQ(reason(*authorities, sign(a_, claims_for(kOwnIssuer, kNow))), "token-unknown-kid");
}

TEST_F(AuthoritiesTest, IssuersListOwnFirst) {
  TestIssuer a({&a_});
  auto authorities = make({discovered(a), TrustedAuthority{"https://offline.example", {}, {}, "/nonexistent.json"}});
  ASSERT_TRUE(authorities);
  EXPECT_EQ(authorities->issuers(), (std::vector<std::string>{kOwnIssuer, a.issuer(), "https://offline.example"}));
  EXPECT_EQ(a.requests(), 0);  // nothing is fetched before a token needs it
}

TEST_F(AuthoritiesTest, TrustedIssuerViaDiscovery) {
  TestIssuer a({&a_});
  auto authorities = make({discovered(a)});
  ASSERT_TRUE(authorities);
  auto v = authorities->verify(sign(a_, claims_for(a.issuer(), kNow)), kNow);
  ASSERT_TRUE(v.ok()) << v.error().message;
  EXPECT_EQ(v->claims()["iss"], a.issuer());
  EXPECT_EQ(a.discovery_requests(), 1);
  EXPECT_EQ(a.jwks_requests(), 1);
  // Cached: more tokens, no more requests.
  for (int i = 0; i < 5; ++i)
    EXPECT_EQ(reason(*authorities, sign(a_, claims_for(a.issuer(), kNow + i)), kNow + i), "accepted");
  EXPECT_EQ(a.requests(), 2);
}

TEST_F(AuthoritiesTest, TrustedIssuerViaJwksUriSkipsDiscovery) {
  TestIssuer a({&a_});
  auto authorities = make({TrustedAuthority{a.issuer(), a.issuer() + "/certs", {}, {}}});
  ASSERT_TRUE(authorities);
  EXPECT_EQ(reason(*authorities, sign(a_, claims_for(a.issuer(), kNow))), "accepted");
  EXPECT_EQ(a.discovery_requests(), 0);
  EXPECT_EQ(a.jwks_requests(), 1);
}

TEST_F(AuthoritiesTest, TrustedIssuerViaJwksFile) {
  const auto path = std::filesystem::temp_directory_path() / ("tl-authorities-" + std::to_string(::getpid()) + ".json");
  std::ofstream(path) << test::jwks_text({&a_});
  const std::string issuer = "https://sharedeus.eus.attest.azure.net";
  auto authorities = make({TrustedAuthority{issuer, {}, {}, path.string()}});
  ASSERT_TRUE(authorities);
  EXPECT_EQ(reason(*authorities, sign(a_, claims_for(issuer, kNow))), "accepted");
  EXPECT_EQ(reason(*authorities, sign(b_, claims_for(issuer, kNow))), "token-unknown-kid");
  // The file is read again when the cache expires (an admin can replace it).
  std::ofstream(path) << test::jwks_text({&b_});
  EXPECT_EQ(reason(*authorities, sign(b_, claims_for(issuer, kNow + 7200)), kNow + 7200), "accepted");
  std::filesystem::remove(path);
  auto r = authorities->verify(sign(b_, claims_for(issuer, kNow + 20000)), kNow + 20000);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().reason, "authority-unavailable");
  EXPECT_NE(r.error().message.find(path.string()), std::string::npos) << r.error().message;
}

TEST_F(AuthoritiesTest, UntrustedIssuerRefusedWithoutAnyRequest) {
  TestIssuer a({&a_});  // running, but not trusted
  TestIssuer b({&b_});
  auto authorities = make({discovered(b)});
  ASSERT_TRUE(authorities);
  auto r = authorities->verify(sign(a_, claims_for(a.issuer(), kNow)), kNow);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().reason, "token-untrusted-issuer");
  EXPECT_NE(r.error().message.find(a.issuer()), std::string::npos) << r.error().message;
  // Also when the token is signed by a trusted issuer's key.
  EXPECT_EQ(reason(*authorities, sign(b_, claims_for(a.issuer(), kNow))), "token-untrusted-issuer");
  // Prefixes and near-misses of a trusted issuer are other issuers.
  EXPECT_EQ(reason(*authorities, sign(b_, claims_for(b.issuer() + "/", kNow))), "token-untrusted-issuer");
  EXPECT_EQ(reason(*authorities, sign(b_, claims_for(b.issuer() + "/x", kNow))), "token-untrusted-issuer");
  json c = claims_for(b.issuer(), kNow);
  c.erase("iss");
  EXPECT_EQ(reason(*authorities, sign(b_, c)), "token-untrusted-issuer");
  c["iss"] = json::array({b.issuer()});
  EXPECT_EQ(reason(*authorities, sign(b_, c)), "token-untrusted-issuer");
  c["iss"] = "";
  EXPECT_EQ(reason(*authorities, sign(b_, c)), "token-untrusted-issuer");
  EXPECT_EQ(a.requests(), 0);
  EXPECT_EQ(b.requests(), 0);
}

TEST_F(AuthoritiesTest, MalformedTokensRefusedWithoutAnyRequest) {
  TestIssuer a({&a_});
  auto authorities = make({discovered(a)});
  ASSERT_TRUE(authorities);
  const std::string good = sign(a_, claims_for(a.issuer(), kNow));
  const size_t d1 = good.find('.');
  const size_t d2 = good.find('.', d1 + 1);
  for (const std::string& bad : {std::string(), std::string("abc"), good.substr(0, d2), good + ".x",
                                 good.substr(0, d1 + 1) + "!!" + good.substr(d2),
                                 good.substr(0, d1) + ".." + good.substr(d2 + 1), std::string(70 * 1024, 'a')}) {
    EXPECT_EQ(reason(*authorities, bad), "token-malformed") << bad.substr(0, 80);
  }
  EXPECT_EQ(a.requests(), 0);
}

TEST_F(AuthoritiesTest, TokenOfOneIssuerSignedWithAnothersKeyRefused) {
  TestIssuer a({&a_});
  TestIssuer b({&b_});
  auto authorities = make({discovered(a), discovered(b)});
  ASSERT_TRUE(authorities);
  ASSERT_EQ(reason(*authorities, sign(b_, claims_for(b.issuer(), kNow))), "accepted");
  // B's key, A's iss: A has no such kid.
  EXPECT_EQ(reason(*authorities, sign(b_, claims_for(a.issuer(), kNow))), "token-unknown-kid");
  // B's key under A's kid: the signature does not verify under A's key.
  const json header = {{"alg", "ES256"}, {"kid", a_.kid()}, {"typ", "JWT"}};
  EXPECT_EQ(reason(*authorities, test::sign_with_header(b_, header, claims_for(a.issuer(), kNow))),
            "token-signature-invalid");
  // And the own issuer's name with a trusted issuer's key.
  EXPECT_EQ(reason(*authorities, sign(b_, claims_for(kOwnIssuer, kNow))), "token-unknown-kid");
}

TEST_F(AuthoritiesTest, UnknownKidRefetchesOnceThenRateLimited) {
  TestIssuer a({&a_});
  AuthoritiesOptions options;
  options.min_refetch_seconds = 30;
  auto authorities = make({discovered(a)}, options);
  ASSERT_TRUE(authorities);
  ASSERT_EQ(reason(*authorities, sign(a_, claims_for(a.issuer(), kNow))), "accepted");
  ASSERT_EQ(a.jwks_requests(), 1);
  // An unknown kid just after the fetch: the keys in hand are current, no refetch.
  const auto stranger = ec_key();
  EXPECT_EQ(reason(*authorities, sign(stranger, claims_for(a.issuer(), kNow + 1)), kNow + 1), "token-unknown-kid");
  EXPECT_EQ(a.jwks_requests(), 1);
  // min_refetch_seconds later: exactly one refetch, still unknown.
  EXPECT_EQ(reason(*authorities, sign(stranger, claims_for(a.issuer(), kNow + 30)), kNow + 30), "token-unknown-kid");
  EXPECT_EQ(a.jwks_requests(), 2);
  // A second unknown kid within min_refetch_seconds of that: no request.
  const int before = a.requests();
  for (int i = 0; i < 20; ++i) {
    const auto other = ec_key();
    EXPECT_EQ(reason(*authorities, sign(other, claims_for(a.issuer(), kNow + 31)), kNow + 59), "token-unknown-kid");
  }
  EXPECT_EQ(a.requests(), before);
  // Known kids keep working meanwhile.
  EXPECT_EQ(reason(*authorities, sign(a_, claims_for(a.issuer(), kNow + 40)), kNow + 40), "accepted");
}

TEST_F(AuthoritiesTest, RotatedKeyFoundAfterRefetch) {
  TestIssuer a({&a_});
  auto authorities = make({discovered(a)});
  ASSERT_TRUE(authorities);
  ASSERT_EQ(reason(*authorities, sign(a_, claims_for(a.issuer(), kNow))), "accepted");
  const auto rotated = ec_key();
  a.publish({&rotated});
  // Within the cache lifetime, but the new kid makes us look again.
  EXPECT_EQ(reason(*authorities, sign(rotated, claims_for(a.issuer(), kNow + 60)), kNow + 60), "accepted");
  EXPECT_EQ(a.jwks_requests(), 2);
  // The old key is gone from the refetched set.
  EXPECT_EQ(reason(*authorities, sign(a_, claims_for(a.issuer(), kNow + 61)), kNow + 61), "token-unknown-kid");
  EXPECT_EQ(a.jwks_requests(), 2);
}

TEST_F(AuthoritiesTest, TimeWindowReasons) {
  TestIssuer a({&a_});
  auto authorities = make({discovered(a)});
  ASSERT_TRUE(authorities);
  const std::string token = sign(a_, claims_for(a.issuer(), kNow));
  EXPECT_EQ(reason(*authorities, token, kNow + 3600 + 60), "token-expired");
  EXPECT_EQ(reason(*authorities, token, kNow + 3600 + 59), "accepted");
  EXPECT_EQ(reason(*authorities, token, kNow - 10 - 61), "token-not-yet-valid");
  json c = claims_for(a.issuer(), kNow);
  c.erase("nbf");
  c["iat"] = kNow + 600;
  EXPECT_EQ(reason(*authorities, sign(a_, c)), "token-not-yet-valid");
  AuthoritiesOptions strict;
  strict.leeway_seconds = 0;
  auto no_leeway = make({discovered(a)}, strict);
  ASSERT_TRUE(no_leeway);
  EXPECT_EQ(reason(*no_leeway, token, kNow + 3600), "token-expired");
  // The own issuer too.
  EXPECT_EQ(reason(*authorities, sign(own_, claims_for(kOwnIssuer, kNow)), kNow + 7200), "token-expired");
}

TEST_F(AuthoritiesTest, UnsafeAlgsRefused) {
  TestIssuer a({&a_});
  auto authorities = make({discovered(a)});
  ASSERT_TRUE(authorities);
  for (const std::string& iss : {a.issuer(), kOwnIssuer}) {
    for (const char* alg : {"none", "HS256"}) {
      const json header = {{"alg", alg}, {"kid", iss == kOwnIssuer ? own_.kid() : a_.kid()}, {"typ", "JWT"}};
      std::string token = test::sign_with_header(a_, header, claims_for(iss, kNow));
      EXPECT_EQ(reason(*authorities, token), "token-alg-refused") << iss << " " << alg;
      token.resize(token.rfind('.') + 1);  // the unsecured form: no signature at all
      // An unsecured JWS (alg none) is named as such; HS256 without a signature is malformed.
      EXPECT_EQ(reason(*authorities, token), std::string(alg) == "none" ? "token-alg-refused" : "token-malformed")
          << iss << " " << alg;
    }
  }
  // An alg left out of allowed_algs.
  AuthoritiesOptions rsa_only;
  rsa_only.allowed_algs = {token::JwsAlg::rs256};
  auto rsa = make({discovered(a)}, rsa_only);
  ASSERT_TRUE(rsa);
  EXPECT_EQ(reason(*rsa, sign(a_, claims_for(a.issuer(), kNow))), "token-alg-refused");
}

TEST_F(AuthoritiesTest, IssuerDownIsUnavailable) {
  auto down = std::make_unique<TestIssuer>(std::vector<const token::SigningKey*>{&a_});
  const std::string issuer = down->issuer();
  down.reset();  // nothing listens on that port now
  auto authorities = make({TrustedAuthority{issuer, {}, {}, {}}});
  ASSERT_TRUE(authorities);
  auto r = authorities->verify(sign(a_, claims_for(issuer, kNow)), kNow);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().reason, "authority-unavailable");
  EXPECT_NE(r.error().message.find(issuer + "/.well-known/openid-configuration"), std::string::npos)
      << r.error().message;
  EXPECT_NE(r.error().message.find("connect"), std::string::npos) << r.error().message;
}

TEST_F(AuthoritiesTest, FailedFetchIsNotRetriedByEveryToken) {
  TestIssuer a({&a_});
  a.set_status(500);
  AuthoritiesOptions options;
  options.min_refetch_seconds = 30;
  auto authorities = make({discovered(a)}, options);
  ASSERT_TRUE(authorities);
  auto r = authorities->verify(sign(a_, claims_for(a.issuer(), kNow)), kNow);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().reason, "authority-unavailable");
  EXPECT_NE(r.error().message.find("HTTP 500"), std::string::npos) << r.error().message;
  const int after_first = a.requests();
  a.set_status(200);
  EXPECT_EQ(reason(*authorities, sign(a_, claims_for(a.issuer(), kNow)), kNow + 29), "authority-unavailable");
  EXPECT_EQ(a.requests(), after_first);
  EXPECT_EQ(reason(*authorities, sign(a_, claims_for(a.issuer(), kNow)), kNow + 30), "accepted");
}

TEST_F(AuthoritiesTest, FailedRefetchKeepsCachedKeys) {
  TestIssuer a({&a_});
  auto authorities = make({discovered(a)});
  ASSERT_TRUE(authorities);
  ASSERT_EQ(reason(*authorities, sign(a_, claims_for(a.issuer(), kNow))), "accepted");
  a.set_status(503);
  // An unknown kid while the issuer is failing: unavailable (we could not look).
  const auto stranger = ec_key();
  EXPECT_EQ(reason(*authorities, sign(stranger, claims_for(a.issuer(), kNow + 100)), kNow + 100),
            "authority-unavailable");
  // The keys already fetched still serve until they expire.
  EXPECT_EQ(reason(*authorities, sign(a_, claims_for(a.issuer(), kNow + 101)), kNow + 101), "accepted");
  EXPECT_EQ(reason(*authorities, sign(a_, claims_for(a.issuer(), kNow + 3700)), kNow + 3700), "authority-unavailable");
}

TEST_F(AuthoritiesTest, DiscoveryWithAnotherIssuerRefused) {
  TestIssuer a({&a_});
  a.set_discovery_issuer("https://evil.example");
  auto authorities = make({discovered(a)});
  ASSERT_TRUE(authorities);
  auto r = authorities->verify(sign(a_, claims_for(a.issuer(), kNow)), kNow);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().reason, "authority-unavailable");
  EXPECT_NE(r.error().message.find("\"issuer\" is \"https://evil.example\""), std::string::npos) << r.error().message;
  EXPECT_EQ(a.jwks_requests(), 0);  // its keys were never fetched
}

TEST_F(AuthoritiesTest, HostileDiscoveryAndJwks) {
  TestIssuer a({&a_});
  AuthoritiesOptions options;
  options.min_refetch_seconds = 0;  // every verify fetches again
  auto authorities = make({discovered(a)}, options);
  ASSERT_TRUE(authorities);
  const std::string token = sign(a_, claims_for(a.issuer(), kNow));
  const std::string certs = a.issuer() + "/certs";
  auto refused = [&](const std::string& what, const std::string& needle) {
    auto r = authorities->verify(token, kNow);
    ASSERT_FALSE(r.ok()) << what;
    EXPECT_EQ(r.error().reason, "authority-unavailable") << what;
    EXPECT_NE(r.error().message.find(needle), std::string::npos) << what << ": " << r.error().message;
  };
  const std::vector<std::pair<std::string, std::string>> discovery = {
      {"not json", "not valid JSON"},
      {"[]", "expected an object"},
      {json{{"issuer", a.issuer()}}.dump(), "\"jwks_uri\" is missing"},
      {json{{"issuer", a.issuer()}, {"jwks_uri", 5}}.dump(), "\"jwks_uri\" is missing or not a string"},
      {json{{"issuer", a.issuer()}, {"jwks_uri", "http://example.com/certs"}}.dump(), "not loopback"},
      {json{{"issuer", a.issuer()}, {"jwks_uri", "file:///etc/passwd"}}.dump(), "must start with https://"},
      {json{{"jwks_uri", certs}}.dump(), "\"issuer\" missing"},
      {json{{"issuer", 7}, {"jwks_uri", certs}}.dump(), "\"issuer\" is 7"},
      {"{\"issuer\":\"" + a.issuer() + "\",\"jwks_uri\":\"" + certs + "\",\"issuer\":\"x\"}", "duplicate member"},
  };
  for (const auto& [body, needle] : discovery) {
    a.set_discovery_text(body);
    refused(body, needle);
  }
  a.set_discovery_text(json{{"issuer", a.issuer()}, {"jwks_uri", certs}}.dump());
  const std::vector<std::pair<std::string, std::string>> jwks = {
      {"{", "not valid JSON"},
      {"{\"keys\":{}}", "\"keys\" is a object"},
      {"{\"keys\":[{\"kty\":\"EC\",\"kid\":\"k\",\"crv\":\"P-256\",\"x\":\"AA\",\"y\":\"AA\",\"d\":\"AA\"}]}",
       "private member"},
      {"{\"keys\":[" + a_.public_jwk().to_json().dump() + "," + a_.public_jwk().to_json().dump() + "]}",
       "duplicate kid"},
      {std::string(300 * 1024, ' '), certs},  // over the size limit: refused by the client, not buffered
  };
  for (const auto& [body, needle] : jwks) {
    a.publish_text(body);
    refused(body.substr(0, 60), needle);
  }
  // A set with a key type we do not use, next to ours: ours still works.
  a.publish_text("{\"keys\":[{\"kty\":\"OKP\",\"crv\":\"Ed25519\",\"kid\":\"ed\",\"x\":\"AA\"}," +
                 a_.public_jwk().to_json().dump() + "]}");
  EXPECT_EQ(reason(*authorities, token), "accepted");
}

TEST_F(AuthoritiesTest, MaaStyleKeysWithCertificates) {
  // MAA publishes {"x5c","kid","kty":"RSA"} (no n / e) with a base64 kid;
  // other issuers n / e with x5c / x5t next to them.
  const auto rsa = token::test::test_key(token::JwsAlg::rs256, 0);
  const auto rsa2 = token::test::test_key(token::JwsAlg::rs256, 1);
  const std::string maa_kid = "dRKh+hBcWUfQimSl3Iv6ZhStW3TSOt0ThwiTgUUqZAo=";
  json with_members = rsa2.public_jwk().to_json();
  with_members.erase("alg");
  with_members["x5c"] = json::array({token::test::x5c_of(rsa2)});
  with_members["x5t"] = "abc";
  TestIssuer a({});
  a.publish_text(json{{"keys", json::array({json{{"x5c", json::array({token::test::x5c_of(rsa)})},
                                                   {"kid", maa_kid},
                                                   {"kty", "RSA"}},
                                              with_members})}}
                     .dump());
  auto authorities = make({discovered(a)});
  ASSERT_TRUE(authorities);
  const json header = {{"alg", "RS256"}, {"jku", a.issuer() + "/certs"}, {"kid", maa_kid}, {"typ", "JWT"}};
  EXPECT_EQ(reason(*authorities, test::sign_with_header(rsa, header, claims_for(a.issuer(), kNow))), "accepted");
  EXPECT_EQ(reason(*authorities, sign(rsa2, claims_for(a.issuer(), kNow))), "accepted");
  // MAA's kid with the other key's signature.
  EXPECT_EQ(reason(*authorities, test::sign_with_header(rsa2, header, claims_for(a.issuer(), kNow))),
            "token-signature-invalid");
  EXPECT_EQ(a.jwks_requests(), 1);
}

TEST_F(AuthoritiesTest, CacheExpiryRefetches) {
  TestIssuer a({&a_});
  AuthoritiesOptions options;
  options.cache_seconds = 600;
  auto authorities = make({discovered(a)}, options);
  ASSERT_TRUE(authorities);
  ASSERT_EQ(reason(*authorities, sign(a_, claims_for(a.issuer(), kNow))), "accepted");
  EXPECT_EQ(reason(*authorities, sign(a_, claims_for(a.issuer(), kNow + 599)), kNow + 599), "accepted");
  EXPECT_EQ(a.jwks_requests(), 1);
  EXPECT_EQ(reason(*authorities, sign(a_, claims_for(a.issuer(), kNow + 600)), kNow + 600), "accepted");
  EXPECT_EQ(a.jwks_requests(), 2);
  EXPECT_EQ(a.discovery_requests(), 2);
  // A key removed at the issuer stops working once the cache expires.
  a.publish({&b_});
  EXPECT_EQ(reason(*authorities, sign(a_, claims_for(a.issuer(), kNow + 1199)), kNow + 1199), "accepted");
  EXPECT_EQ(reason(*authorities, sign(a_, claims_for(a.issuer(), kNow + 1200)), kNow + 1200), "token-unknown-kid");
}

TEST_F(AuthoritiesTest, HttpsWithCaFile) {
  http::test::TestPki pki;
  TestIssuer a({&a_}, http::TlsFiles{pki.server_chain.string(), pki.server_key.string()});
  auto authorities = make({TrustedAuthority{a.issuer(), {}, pki.ca.string(), {}}});
  ASSERT_TRUE(authorities);
  EXPECT_EQ(reason(*authorities, sign(a_, claims_for(a.issuer(), kNow))), "accepted");
  // Another CA: the issuer's certificate is not trusted, so neither are its keys.
  auto wrong_ca = make({TrustedAuthority{a.issuer(), {}, pki.other_ca.string(), {}}});
  ASSERT_TRUE(wrong_ca);
  auto r = wrong_ca->verify(sign(a_, claims_for(a.issuer(), kNow)), kNow);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().reason, "authority-unavailable");
  EXPECT_NE(r.error().message.find("certificate verify failed"), std::string::npos) << r.error().message;
}

TEST_F(AuthoritiesTest, SlowFetchDoesNotBlockOtherIssuers) {
  TestIssuer a({&a_});
  TestIssuer b({&b_});
  const auto c_key = ec_key();
  TestIssuer c({&c_key});
  auto authorities = make({discovered(a), discovered(b), discovered(c)});
  ASSERT_TRUE(authorities);
  ASSERT_EQ(reason(*authorities, sign(a_, claims_for(a.issuer(), kNow))), "accepted");
  b.hold();
  // Several callers for B, which must wait for B's one fetch.
  std::vector<std::future<std::string>> waiting;
  for (int i = 0; i < 3; ++i) {
    waiting.push_back(
        std::async(std::launch::async, [&] { return reason(*authorities, sign(b_, claims_for(b.issuer(), kNow))); }));
  }
  ASSERT_TRUE(b.wait_until_held_request(5000));
  // Meanwhile A's tokens verify (from A's cache), C's keys are fetched (a
  // fetch of its own) and untrusted ones are refused.
  auto other = std::async(std::launch::async, [&] {
    std::string out = reason(*authorities, sign(a_, claims_for(a.issuer(), kNow)));
    out += " " + reason(*authorities, sign(c_key, claims_for(c.issuer(), kNow)));
    out += " " + reason(*authorities, sign(a_, claims_for("https://nobody.example", kNow)));
    return out;
  });
  const bool finished = other.wait_for(std::chrono::seconds(3)) == std::future_status::ready;
  b.release();
  ASSERT_TRUE(finished) << "verification for issuer A waited for issuer B's fetch";
  EXPECT_EQ(other.get(), "accepted accepted token-untrusted-issuer");
  for (auto& w : waiting) EXPECT_EQ(w.get(), "accepted");
  EXPECT_EQ(b.jwks_requests(), 1);
}

TEST(AuthoritiesCreate, RefusesBadConfiguration) {
  auto own = [] { return std::string("https://own.example"); };
  auto keys = [] { return token::Jwks{}; };
  auto create = [&](std::vector<TrustedAuthority> t, AuthoritiesOptions o = {}) {
    auto r = Authorities::create(own, keys, std::move(t), std::move(o));
    return r ? std::string("created") : r.error().message;
  };
  EXPECT_EQ(create({}), "created");
  EXPECT_NE(create({TrustedAuthority{"", {}, {}, {}}}).find("empty issuer"), std::string::npos);
  EXPECT_NE(
      create({TrustedAuthority{"https://a.example", {}, {}, {}}, TrustedAuthority{"https://a.example", {}, {}, {}}})
          .find("listed twice"),
      std::string::npos);
  EXPECT_NE(create({TrustedAuthority{"https://a.example", "https://a.example/certs", {}, "/k.json"}}).find("keep one"),
            std::string::npos);
  EXPECT_NE(create({TrustedAuthority{"http://a.example", {}, {}, {}}}).find("not loopback"), std::string::npos);
  EXPECT_NE(create({TrustedAuthority{"sts.example", {}, {}, {}}}).find("set jwks_uri or jwks_file"), std::string::npos);
  EXPECT_EQ(create({TrustedAuthority{"sts.example", "https://sts.example/keys", {}, {}}}), "created");
  EXPECT_NE(create({TrustedAuthority{"https://a.example", "ftp://a.example/k", {}, {}}}).find("jwks_uri"),
            std::string::npos);
  AuthoritiesOptions o;
  o.cache_seconds = 0;
  EXPECT_NE(create({}, o).find("cache_seconds"), std::string::npos);
  o = {};
  o.allowed_algs.clear();
  EXPECT_NE(create({}, o).find("allowed_algs"), std::string::npos);
  EXPECT_FALSE(Authorities::create(nullptr, keys, {}).ok());
}

}  // namespace
}  // namespace tl::keys
