// Release policies (src/policy/release_policy.h): the samples Key Vault and
// Azure confidential computing publish (tests/policy/release_policies/), each
// operator at its boundary, authority matching, and hostile documents. Every
// token is signed with a real key and verified by verify_jwt: a VerifiedToken
// cannot be made any other way.
#include "policy/release_policy.h"

#include <gtest/gtest.h>

#include <cctype>
#include <cstdint>
#include <filesystem>
#include <stdexcept>
#include <string>

#include "support/test_support.h"
#include "token/jwk.h"
#include "token/jwt.h"

namespace tl::policy {
namespace {

using json = nlohmann::json;

constexpr int64_t kNow = 1'800'000'000;
constexpr const char* kWeu = "https://sharedweu.weu.attest.azure.net";  // MAA's "iss" has no trailing slash
constexpr const char* kTl = "https://tl.example";

// One ES256 key: signs the test tokens, and its JWKS verifies them.
struct Issuer {
  token::SigningKey key;
  token::Jwks jwks;
};

const Issuer& issuer() {
  static const Issuer i = [] {
    auto k = token::SigningKey::generate(token::JwsAlg::es256);
    if (!k.ok()) throw std::runtime_error("key generation failed: " + k.error().message);
    token::Jwks set;
    if (!set.add(k->public_jwk()).ok()) throw std::runtime_error("cannot add the test key");
    return Issuer{std::move(*k), std::move(set)};
  }();
  return i;
}

// Signs `claims` (plus iat/nbf/exp) and verifies the token like the vault does.
Result<token::VerifiedToken> verified(json claims) {
  claims["iat"] = kNow - 10;
  claims["nbf"] = kNow - 10;
  claims["exp"] = kNow + 3600;
  auto jwt = token::sign_jwt(issuer().key, claims);
  if (!jwt) return jwt.take_error();
  token::VerifyOptions o;
  o.now = kNow;
  return token::verify_jwt(*jwt, issuer().jwks, o);
}

// The decision for a token carrying `claims`; a setup failure fails the test
// and yields a denial naming it (so it can never pass as an allow).
ReleaseDecision decide(const ReleasePolicy& p, const json& claims) {
  auto t = verified(claims);
  if (!t) {
    ADD_FAILURE() << "token setup: " << t.error().message;
    return ReleaseDecision{false, "<setup failed>", ""};
  }
  return evaluate(p, *t);
}

Result<ReleasePolicy> fixture(const std::string& name) {
  const std::filesystem::path path = std::filesystem::path(TL_RELEASE_POLICY_DIR) / name;
  if (!std::filesystem::exists(path)) return Error{"fixture " + path.string() + " not found"};
  return ReleasePolicy::parse(test::read_text(path));
}

// {"version":"1.0.0","anyOf":[{"authority":<authority>,"allOf":[<conditions>]}]}
std::string one_entry(const json& conditions, const std::string& authority = kTl) {
  return json{{"version", "1.0.0"}, {"anyOf", json::array({{{"authority", authority}, {"allOf", conditions}}})}}.dump();
}

ReleasePolicy must_parse(const std::string& text) {
  auto p = ReleasePolicy::parse(text);
  if (!p) throw std::runtime_error("policy refused: " + p.error().message + "\n" + text);
  return std::move(*p);
}

// ---------------------------------------------------------------------------
// Published samples

TEST(ReleasePolicySamples, EveryPublishedSampleParsesAndNamesItsAuthorities) {
  const std::pair<const char*, size_t> samples[] = {
      {"cvm-default-all-regions.json", 50}, {"cvm-sevsnp-four-regions.json", 4}, {"cvm-sevsnp-isolation-tee.json", 1},
      {"cvm-sevsnp-two-regions.json", 2},   {"sgx-mrsigner.json", 1},            {"sgx-mrsigner-mrenclave.json", 1},
      {"sgx-min-svn.json", 1},              {"aci-hostdata.json", 1},            {"sdk-test-nested-anyof.json", 1},
      {"trusted-launch-tlaunchd.json", 1}};
  for (const auto& [name, authorities] : samples) {
    auto p = fixture(name);
    ASSERT_TRUE(p.ok()) << name << ": " << p.error().message;
    EXPECT_EQ(p->authorities().size(), authorities) << name;
    // What json() holds parses back to the same policy.
    auto again = ReleasePolicy::parse(p->json().dump());
    ASSERT_TRUE(again.ok()) << name << ": " << again.error().message;
    EXPECT_EQ(again->json(), p->json()) << name;
  }
}

TEST(ReleasePolicySamples, DefaultCvmPolicyListsEachRegionOnceInOrder) {
  auto p = fixture("cvm-default-all-regions.json");
  ASSERT_TRUE(p.ok()) << p.error().message;
  const auto a = p->authorities();
  ASSERT_EQ(a.size(), 50u);  // 51 entries, sharedfrs twice
  EXPECT_EQ(a.front(), "https://sharedeus.eus.attest.azure.net/");
  EXPECT_EQ(a[3], "https://sharedweu.weu.attest.azure.net/");
  EXPECT_EQ(a.back(), "https://sharedwcus.wcus.attest.azure.net/");
}

json cvm_claims(const std::string& iss, const std::string& type, const std::string& compliance = "azure-compliant-cvm") {
  return {{"iss", iss}, {"x-ms-attestation-type", type}, {"x-ms-compliance-status", compliance}};
}

TEST(ReleasePolicySamples, DefaultCvmPolicyReleasesToSevSnpAndTdxFromTheirRegions) {
  auto p = fixture("cvm-default-all-regions.json");
  ASSERT_TRUE(p.ok()) << p.error().message;
  // The token's "iss" has no trailing slash; the policy's authorities do.
  auto d = decide(*p, cvm_claims(kWeu, "sevsnpvm"));
  EXPECT_TRUE(d.allowed) << d.explanation;
  EXPECT_EQ(d.clause, "anyOf[3]");
  EXPECT_EQ(d.explanation.rfind("anyOf[3]: ", 0), 0u) << d.explanation;

  d = decide(*p, cvm_claims("https://sharedeus.eus.attest.azure.net", "tdxvm"));
  EXPECT_TRUE(d.allowed) << d.explanation;
  EXPECT_EQ(d.clause, "anyOf[0]");

  // sharedfrs is listed twice: the first entry accepts TDX, the second not.
  d = decide(*p, cvm_claims("https://sharedfrs.frs.attest.azure.net/", "tdxvm"));
  EXPECT_TRUE(d.allowed) << d.explanation;
  EXPECT_EQ(d.clause, "anyOf[35]");
}

TEST(ReleasePolicySamples, DefaultCvmPolicyDeniesTdxWhereOnlySevSnpIsListed) {
  auto p = fixture("cvm-default-all-regions.json");
  ASSERT_TRUE(p.ok()) << p.error().message;
  const auto d = decide(*p, cvm_claims("https://sharedscus.scus.attest.azure.net", "tdxvm"));
  EXPECT_FALSE(d.allowed);
  EXPECT_EQ(d.clause, "anyOf[13].allOf[1]");
  EXPECT_EQ(d.explanation,
            "anyOf[13].allOf[1]: none of its 1 alternatives holds: anyOf[13].allOf[1].anyOf[0]: claim "
            "\"x-ms-attestation-type\" is \"tdxvm\", policy requires equals \"sevsnpvm\"");
}

TEST(ReleasePolicySamples, DefaultCvmPolicyDeniesAFlippedClaimAtItsCondition) {
  auto p = fixture("cvm-default-all-regions.json");
  ASSERT_TRUE(p.ok()) << p.error().message;
  const auto d = decide(*p, cvm_claims(kWeu, "sevsnpvm", "azure-compliant-uvm"));
  EXPECT_FALSE(d.allowed);
  EXPECT_EQ(d.clause, "anyOf[3].allOf[0]");
  EXPECT_EQ(d.explanation,
            "anyOf[3].allOf[0]: claim \"x-ms-compliance-status\" is \"azure-compliant-uvm\", policy requires equals "
            "\"azure-compliant-cvm\"");
}

TEST(ReleasePolicySamples, DefaultCvmPolicyDeniesAnUnlistedIssuer) {
  auto p = fixture("cvm-default-all-regions.json");
  ASSERT_TRUE(p.ok()) << p.error().message;
  const auto d = decide(*p, cvm_claims("https://attacker.example", "sevsnpvm"));
  EXPECT_FALSE(d.allowed);
  EXPECT_EQ(d.clause, "anyOf");
  EXPECT_EQ(d.explanation.rfind("anyOf: no entry names the token's issuer \"https://attacker.example\"", 0), 0u)
      << d.explanation;
  // A look-alike: the region's host as a subdomain of another one.
  EXPECT_FALSE(decide(*p, cvm_claims("https://sharedweu.weu.attest.azure.net.attacker.example", "sevsnpvm")).allowed);
}

TEST(ReleasePolicySamples, AuthorityHostAndSchemeCompareCaseInsensitively) {
  auto p = fixture("cvm-default-all-regions.json");
  ASSERT_TRUE(p.ok()) << p.error().message;
  auto d = decide(*p, cvm_claims("HTTPS://SharedWEU.weu.Attest.Azure.NET/", "sevsnpvm"));
  EXPECT_TRUE(d.allowed) << d.explanation;
  EXPECT_EQ(d.clause, "anyOf[3]");
}

TEST(ReleasePolicySamples, SevSnpPolicyReadsNestedIsolationTeeClaims) {
  auto p = fixture("cvm-sevsnp-isolation-tee.json");
  ASSERT_TRUE(p.ok()) << p.error().message;
  const json tee = {{"x-ms-attestation-type", "sevsnpvm"}, {"x-ms-compliance-status", "azure-compliant-cvm"}};
  // Policy without trailing slash, token with one.
  auto d = decide(*p, {{"iss", std::string(kWeu) + "/"}, {"x-ms-isolation-tee", tee}});
  EXPECT_TRUE(d.allowed) << d.explanation;
  EXPECT_EQ(d.clause, "anyOf[0]");

  // The same claims at the top level are not the nested ones.
  d = decide(*p, {{"iss", kWeu}, {"x-ms-attestation-type", "sevsnpvm"}, {"x-ms-compliance-status", "azure-compliant-cvm"}});
  EXPECT_FALSE(d.allowed);
  EXPECT_EQ(d.clause, "anyOf[0].allOf[0]");
  EXPECT_EQ(d.explanation,
            "anyOf[0].allOf[0]: claim \"x-ms-isolation-tee.x-ms-attestation-type\" is missing, policy requires equals "
            "\"sevsnpvm\"");

  // A path through something that is not an object.
  d = decide(*p, {{"iss", kWeu}, {"x-ms-isolation-tee", "sevsnpvm"}});
  EXPECT_FALSE(d.allowed);
  EXPECT_EQ(d.clause, "anyOf[0].allOf[0]");
  EXPECT_NE(d.explanation.find("is missing (\"x-ms-isolation-tee\" is a string, not an object)"), std::string::npos)
      << d.explanation;

  // One nested claim flipped.
  json flipped = tee;
  flipped["x-ms-compliance-status"] = "azure-compliant-uvm";
  d = decide(*p, {{"iss", kWeu}, {"x-ms-isolation-tee", flipped}});
  EXPECT_FALSE(d.allowed);
  EXPECT_EQ(d.clause, "anyOf[0].allOf[1]");
}

TEST(ReleasePolicySamples, TwoRegionSampleAcceptsEitherAuthority) {
  auto p = fixture("cvm-sevsnp-two-regions.json");
  ASSERT_TRUE(p.ok()) << p.error().message;
  EXPECT_EQ(decide(*p, cvm_claims("https://sharedeus2.weu2.attest.azure.net", "sevsnpvm")).clause, "anyOf[1]");
  EXPECT_EQ(decide(*p, cvm_claims(kWeu, "sevsnpvm")).clause, "anyOf[0]");
  EXPECT_FALSE(decide(*p, cvm_claims("https://sharedeus2.eus2.attest.azure.net", "sevsnpvm")).allowed);
}

TEST(ReleasePolicySamples, SgxSamplesCheckSignerEnclaveAndMinimumSvn) {
  const std::string eus2 = "https://sharedeus2.eus2.attest.azure.net";
  const std::string signer = "9fa48b1629bd246a1de3d38fb7df97f6554cd65d6b3b72e85b86848ae6b578ba";
  const std::string enclave = "9fa48b1629bg677jfsaawed7772e85b86848ae6b578ba";
  auto one = fixture("sgx-mrsigner.json");
  ASSERT_TRUE(one.ok()) << one.error().message;
  EXPECT_TRUE(decide(*one, {{"iss", eus2}, {"x-ms-sgx-mrsigner", signer}}).allowed);
  // Hex compares byte for byte: upper case is a different string.
  std::string upper = signer;
  for (char& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  EXPECT_FALSE(decide(*one, {{"iss", eus2}, {"x-ms-sgx-mrsigner", upper}}).allowed);

  auto three = fixture("sgx-min-svn.json");
  ASSERT_TRUE(three.ok()) << three.error().message;
  const json base = {{"iss", eus2}, {"x-ms-sgx-mrsigner", signer}, {"x-ms-sgx-mrenclave", enclave}};
  json svn2 = base;
  svn2["x-ms-sgx-svn"] = 2;
  EXPECT_TRUE(decide(*three, svn2).allowed);
  json svn1 = base;
  svn1["x-ms-sgx-svn"] = 1;
  const auto d = decide(*three, svn1);
  EXPECT_FALSE(d.allowed);
  EXPECT_EQ(d.clause, "anyOf[0].allOf[2]");
  EXPECT_EQ(d.explanation, "anyOf[0].allOf[2]: claim \"x-ms-sgx-svn\" is 1, policy requires greater 1");
  const auto missing = decide(*three, base);
  EXPECT_FALSE(missing.allowed);
  EXPECT_EQ(missing.explanation, "anyOf[0].allOf[2]: claim \"x-ms-sgx-svn\" is missing, policy requires greater 1");
}

TEST(ReleasePolicySamples, AciSampleChecksHostData) {
  auto p = fixture("aci-hostdata.json");
  ASSERT_TRUE(p.ok()) << p.error().message;
  json c = {{"iss", "https://fabrikam1.wus.attest.azure.net"},
            {"x-ms-attestation-type", "sevsnpvm"},
            {"x-ms-compliance-status", "azure-compliant-uvm"},
            {"x-ms-sevsnpvm-hostdata", "532eaabd9574880dbf76b9b8cc00832c20a6ec113d682299550d7a6e0f345e25"}};
  EXPECT_TRUE(decide(*p, c).allowed);
  c["x-ms-sevsnpvm-hostdata"] = "0000000000000000000000000000000000000000000000000000000000000000";
  const auto d = decide(*p, c);
  EXPECT_FALSE(d.allowed);
  EXPECT_EQ(d.clause, "anyOf[0].allOf[2]");
}

TEST(ReleasePolicySamples, SdkShapeWithAnyOfUnderTheAuthority) {
  auto p = fixture("sdk-test-nested-anyof.json");
  ASSERT_TRUE(p.ok()) << p.error().message;
  auto d = decide(*p, {{"iss", "https://attestation.example"}, {"sdk-test", true}});
  EXPECT_TRUE(d.allowed) << d.explanation;
  EXPECT_EQ(d.clause, "anyOf[0]");
  d = decide(*p, {{"iss", "https://attestation.example"}, {"sdk-test", false}});
  EXPECT_FALSE(d.allowed);
  EXPECT_EQ(d.clause, "anyOf[0].anyOf");
  EXPECT_EQ(d.explanation,
            "anyOf[0].anyOf: none of its 1 alternatives holds: anyOf[0].anyOf[0]: claim \"sdk-test\" is false, policy "
            "requires equals true");
}

json trusted_launch_claims() {
  return {{"iss", "https://tlaunchd.example:8443"},
          {"x-ms-attestation-type", "azurevm"},
          {"secureboot", true},
          {"x-ms-azurevm-vmid", "7c1e9a52-0d3b-4f6e-8a21-5b9c3d2e1f00"},
          {"x-ms-azurevm-bootdebug-enabled", false},
          {"x-ms-azurevm-kerneldebug-enabled", false},
          {"x-ms-azurevm-default-securebootkeysvalidated", false},
          {"x-ms-azurevm-dbvalidated", true},
          {"x-ms-azurevm-dbxvalidated", true},
          {"x-ms-runtime", {{"client-payload", json::object()}, {"keys", json::array({{{"kid", "TpmEphemeralEncryptionKey"}}})}}}};
}

TEST(ReleasePolicySamples, TrustedLaunchExampleOfThisProject) {
  auto p = fixture("trusted-launch-tlaunchd.json");
  ASSERT_TRUE(p.ok()) << p.error().message;
  auto d = decide(*p, trusted_launch_claims());
  EXPECT_TRUE(d.allowed) << d.explanation;
  EXPECT_EQ(d.clause, "anyOf[0]");

  json off = trusted_launch_claims();
  off["secureboot"] = false;
  d = decide(*p, off);
  EXPECT_FALSE(d.allowed);
  EXPECT_EQ(d.clause, "anyOf[0].allOf[1]");
  EXPECT_EQ(d.explanation, "anyOf[0].allOf[1]: claim \"secureboot\" is false, policy requires equals true");

  json other_vm = trusted_launch_claims();
  other_vm["x-ms-azurevm-vmid"] = "7C1E9A52-0D3B-4F6E-8A21-5B9C3D2E1F00";  // case matters
  EXPECT_EQ(decide(*p, other_vm).clause, "anyOf[0].allOf[2]");

  json no_db = trusted_launch_claims();
  no_db["x-ms-azurevm-dbvalidated"] = false;
  d = decide(*p, no_db);
  EXPECT_FALSE(d.allowed);
  EXPECT_EQ(d.clause, "anyOf[0].allOf[5]");
  EXPECT_NE(d.explanation.find("none of its 2 alternatives holds: anyOf[0].allOf[5].anyOf[0]: claim "
                               "\"x-ms-azurevm-default-securebootkeysvalidated\" is false, policy requires equals true; "
                               "anyOf[0].allOf[5].anyOf[1]: claim \"x-ms-azurevm-dbvalidated\" is false"),
            std::string::npos)
      << d.explanation;

  json revoked = trusted_launch_claims();
  revoked["x-ms-azurevm-dbxvalidated"] = false;
  EXPECT_EQ(decide(*p, revoked).clause, "anyOf[0].allOf[6]");

  json other_issuer = trusted_launch_claims();
  other_issuer["iss"] = "https://tlaunchd.example:9443";  // the port is part of the authority
  EXPECT_EQ(decide(*p, other_issuer).clause, "anyOf");

  json no_runtime = trusted_launch_claims();
  no_runtime.erase("x-ms-runtime");
  d = decide(*p, no_runtime);
  EXPECT_EQ(d.clause, "anyOf[0].allOf[7]");
  EXPECT_EQ(d.explanation, "anyOf[0].allOf[7]: claim \"x-ms-runtime.keys\" is missing, policy requires exists true");
}

TEST(ReleasePolicySamples, NonConformingPublishedSamplesAreRefusedWithTheReason) {
  auto top_allof = fixture("nonconforming/cvm-vmid-top-level-allof.json");
  ASSERT_FALSE(top_allof.ok());
  EXPECT_EQ(top_allof.error().reason, "release-policy-invalid");
  EXPECT_EQ(top_allof.error().message.rfind("(root): \"allOf\" is not allowed at the top level", 0), 0u)
      << top_allof.error().message;

  auto no_version = fixture("nonconforming/grammar-article-no-version.json");
  ASSERT_FALSE(no_version.ok());
  EXPECT_EQ(no_version.error().message.rfind("(root): \"version\" is missing", 0), 0u) << no_version.error().message;
}

// ---------------------------------------------------------------------------
// Operators and evaluation rules

// Decision of a one-condition policy for a token from kTl with `claims`.
ReleaseDecision decide_one(const json& condition, json claims) {
  claims["iss"] = kTl;
  return decide(must_parse(one_entry(json::array({condition}))), claims);
}

bool holds(const json& condition, const json& claims) { return decide_one(condition, claims).allowed; }

TEST(ReleasePolicyOperators, OrderingOperatorsAtTheirBoundaries) {
  const json five = {{"n", 5}};
  EXPECT_FALSE(holds({{"claim", "n"}, {"less", 5}}, five));
  EXPECT_TRUE(holds({{"claim", "n"}, {"less", 6}}, five));
  EXPECT_TRUE(holds({{"claim", "n"}, {"lessOrEquals", 5}}, five));
  EXPECT_FALSE(holds({{"claim", "n"}, {"lessOrEquals", 4}}, five));
  EXPECT_FALSE(holds({{"claim", "n"}, {"greater", 5}}, five));
  EXPECT_TRUE(holds({{"claim", "n"}, {"greater", 4}}, five));
  EXPECT_TRUE(holds({{"claim", "n"}, {"greaterOrEquals", 5}}, five));
  EXPECT_FALSE(holds({{"claim", "n"}, {"greaterOrEquals", 6}}, five));
  EXPECT_EQ(decide_one({{"claim", "n"}, {"less", 5}}, five).explanation,
            "anyOf[0].allOf[0]: claim \"n\" is 5, policy requires less 5");
}

TEST(ReleasePolicyOperators, NumbersCompareByValueAcrossIntegerAndFraction) {
  EXPECT_TRUE(holds({{"claim", "n"}, {"equals", 5.0}}, {{"n", 5}}));
  EXPECT_TRUE(holds({{"claim", "n"}, {"greater", 5}}, {{"n", 5.5}}));
  EXPECT_FALSE(holds({{"claim", "n"}, {"greaterOrEquals", 5.000001}}, {{"n", 5}}));
  EXPECT_TRUE(holds({{"claim", "n"}, {"less", 0}}, {{"n", -1}}));
  EXPECT_TRUE(holds({{"claim", "n"}, {"greater", -3}}, {{"n", 0}}));
  // Beyond double's 53 bits: still exact.
  EXPECT_TRUE(holds({{"claim", "n"}, {"greater", 9007199254740992}}, {{"n", 9007199254740993}}));
  EXPECT_TRUE(holds({{"claim", "n"}, {"greater", INT64_MAX}}, {{"n", UINT64_MAX}}));
  EXPECT_FALSE(holds({{"claim", "n"}, {"equals", 9007199254740992}}, {{"n", 9007199254740993}}));
}

TEST(ReleasePolicyOperators, OrderingNeedsANumericClaim) {
  const auto d = decide_one({{"claim", "svn"}, {"greater", 1}}, {{"svn", "5"}});
  EXPECT_FALSE(d.allowed);
  EXPECT_EQ(d.explanation,
            "anyOf[0].allOf[0]: claim \"svn\" is \"5\" (a string), policy requires greater 1; greater compares numbers only");
  EXPECT_FALSE(holds({{"claim", "svn"}, {"less", 1}}, {{"svn", true}}));
}

TEST(ReleasePolicyOperators, EqualsOnStringsIsExactAndCaseSensitive) {
  EXPECT_TRUE(holds({{"claim", "t"}, {"equals", "sevsnpvm"}}, {{"t", "sevsnpvm"}}));
  EXPECT_FALSE(holds({{"claim", "t"}, {"equals", "sevsnpvm"}}, {{"t", "SevSnpVm"}}));
  EXPECT_FALSE(holds({{"claim", "t"}, {"equals", "sevsnpvm"}}, {{"t", "sevsnpvm "}}));
  EXPECT_FALSE(holds({{"claim", "t"}, {"equals", ""}}, {{"t", "x"}}));
  EXPECT_TRUE(holds({{"claim", "t"}, {"equals", ""}}, {{"t", ""}}));
}

TEST(ReleasePolicyOperators, NotEqualsNeedsAPresentComparableClaim) {
  EXPECT_TRUE(holds({{"claim", "t"}, {"notEquals", "sevsnpvm"}}, {{"t", "tdxvm"}}));
  EXPECT_FALSE(holds({{"claim", "t"}, {"notEquals", "sevsnpvm"}}, {{"t", "sevsnpvm"}}));
  EXPECT_TRUE(holds({{"claim", "debug"}, {"notEquals", true}}, {{"debug", false}}));
  // Fail closed: a missing claim or one that does not compare never "differs".
  const auto missing = decide_one({{"claim", "debug"}, {"notEquals", true}}, json::object());
  EXPECT_FALSE(missing.allowed);
  EXPECT_EQ(missing.explanation, "anyOf[0].allOf[0]: claim \"debug\" is missing, policy requires notEquals true");
  const auto other_type = decide_one({{"claim", "debug"}, {"notEquals", true}}, {{"debug", 0}});
  EXPECT_FALSE(other_type.allowed);
  EXPECT_EQ(other_type.explanation,
            "anyOf[0].allOf[0]: claim \"debug\" is 0 (a number), which does not compare with true (a boolean); policy "
            "requires notEquals true");
}

TEST(ReleasePolicyOperators, BooleansAndStringsCompareThroughJsonText) {
  EXPECT_TRUE(holds({{"claim", "b"}, {"equals", true}}, {{"b", true}}));
  EXPECT_FALSE(holds({{"claim", "b"}, {"equals", true}}, {{"b", false}}));
  // Key Vault returns boolean and number values as strings ("true", "7").
  EXPECT_TRUE(holds({{"claim", "b"}, {"equals", "true"}}, {{"b", true}}));
  EXPECT_FALSE(holds({{"claim", "b"}, {"equals", "True"}}, {{"b", true}}));
  EXPECT_TRUE(holds({{"claim", "b"}, {"equals", true}}, {{"b", "true"}}));
  EXPECT_TRUE(holds({{"claim", "n"}, {"equals", "7"}}, {{"n", 7}}));
  EXPECT_FALSE(holds({{"claim", "n"}, {"equals", "07"}}, {{"n", 7}}));
  EXPECT_FALSE(holds({{"claim", "b"}, {"equals", 1}}, {{"b", true}}));
}

TEST(ReleasePolicyOperators, ArraysAndObjectsDoNotCompare) {
  const auto d = decide_one({{"claim", "pcrs"}, {"equals", 7}}, {{"pcrs", {0, 7}}});
  EXPECT_FALSE(d.allowed);
  EXPECT_EQ(d.explanation,
            "anyOf[0].allOf[0]: claim \"pcrs\" is an array ([0,7]), policy requires equals 7; only strings, numbers and "
            "booleans compare");
  EXPECT_FALSE(holds({{"claim", "tee"}, {"notEquals", "x"}}, {{"tee", {{"a", 1}}}}));
  EXPECT_TRUE(holds({{"claim", "tee"}, {"exists", true}}, {{"tee", {{"a", 1}}}}));
}

TEST(ReleasePolicyOperators, ExistsTrueAndFalse) {
  EXPECT_TRUE(holds({{"claim", "x"}, {"exists", true}}, {{"x", false}}));
  EXPECT_FALSE(holds({{"claim", "x"}, {"exists", true}}, json::object()));
  EXPECT_TRUE(holds({{"claim", "x"}, {"exists", false}}, json::object()));
  const auto d = decide_one({{"claim", "x"}, {"exists", false}}, {{"x", "here"}});
  EXPECT_FALSE(d.allowed);
  EXPECT_EQ(d.explanation, "anyOf[0].allOf[0]: claim \"x\" exists (\"here\"), policy requires exists false");
  // null counts as absent.
  EXPECT_FALSE(holds({{"claim", "x"}, {"exists", true}}, {{"x", nullptr}}));
  EXPECT_TRUE(holds({{"claim", "x"}, {"exists", false}}, {{"x", nullptr}}));
  const auto null_equals = decide_one({{"claim", "x"}, {"equals", "v"}}, {{"x", nullptr}});
  EXPECT_EQ(null_equals.explanation,
            "anyOf[0].allOf[0]: claim \"x\" is null (treated as missing), policy requires equals \"v\"");
}

TEST(ReleasePolicyOperators, DotsAlwaysNavigate) {
  // A top-level claim whose name contains a dot is not what "a.b" names.
  EXPECT_FALSE(holds({{"claim", "a.b"}, {"equals", 1}}, {{"a.b", 1}}));
  EXPECT_TRUE(holds({{"claim", "a.b"}, {"equals", 1}}, {{"a", {{"b", 1}}}}));
  EXPECT_TRUE(holds({{"claim", "a.b.c"}, {"equals", "deep"}}, {{"a", {{"b", {{"c", "deep"}}}}}}));
  EXPECT_FALSE(holds({{"claim", "a.b.c"}, {"equals", "deep"}}, {{"a", {{"b", json::array({"c"})}}}}));
}

TEST(ReleasePolicyOperators, NestedAnyOfWhereNeitherBranchHolds) {
  const json cond = {{"anyOf", json::array({{{"claim", "t"}, {"equals", "tdxvm"}}, {{"claim", "t"}, {"equals", "sevsnpvm"}}})}};
  const json first = {{"claim", "ok"}, {"equals", true}};
  const ReleasePolicy p = must_parse(one_entry(json::array({first, cond})));
  EXPECT_TRUE(decide(p, {{"iss", kTl}, {"ok", true}, {"t", "sevsnpvm"}}).allowed);
  const auto d = decide(p, {{"iss", kTl}, {"ok", true}, {"t", "sgx"}});
  EXPECT_FALSE(d.allowed);
  EXPECT_EQ(d.clause, "anyOf[0].allOf[1]");
  EXPECT_EQ(d.explanation,
            "anyOf[0].allOf[1]: none of its 2 alternatives holds: anyOf[0].allOf[1].anyOf[0]: claim \"t\" is \"sgx\", "
            "policy requires equals \"tdxvm\"; anyOf[0].allOf[1].anyOf[1]: claim \"t\" is \"sgx\", policy requires equals "
            "\"sevsnpvm\"");
  // The first failing condition decides even when a later one fails too.
  EXPECT_EQ(decide(p, {{"iss", kTl}, {"ok", false}, {"t", "sgx"}}).clause, "anyOf[0].allOf[0]");
}

TEST(ReleasePolicyOperators, AllOfInsideAnyOfInsideAllOfNamesTheDeepestCondition) {
  const json inner = {{"allOf", json::array({{{"claim", "a"}, {"equals", 1}}, {{"claim", "b"}, {"equals", 2}}})}};
  const json nested = {{"allOf", json::array({inner})}};
  const ReleasePolicy p = must_parse(one_entry(json::array({nested})));
  const auto d = decide(p, {{"iss", kTl}, {"a", 1}, {"b", 3}});
  EXPECT_FALSE(d.allowed);
  EXPECT_EQ(d.clause, "anyOf[0].allOf[0].allOf[0].allOf[1]");
  EXPECT_TRUE(decide(p, {{"iss", kTl}, {"a", 1}, {"b", 2}}).allowed);
}

TEST(ReleasePolicyOperators, SeveralEntriesForOneIssuer) {
  const json policy = {{"version", "1.0.0"},
                       {"anyOf", json::array({{{"authority", kTl}, {"allOf", json::array({{{"claim", "a"}, {"equals", 1}}})}},
                                              {{"authority", "https://other.example"}, {"allOf", json::array({{{"claim", "a"}, {"equals", 2}}})}},
                                              {{"authority", std::string(kTl) + "/"}, {"allOf", json::array({{{"claim", "b"}, {"equals", 1}}})}}})}};
  const ReleasePolicy p = must_parse(policy.dump());
  EXPECT_EQ(decide(p, {{"iss", kTl}, {"a", 1}}).clause, "anyOf[0]");
  auto d = decide(p, {{"iss", kTl}, {"a", 2}, {"b", 1}});
  EXPECT_TRUE(d.allowed);
  EXPECT_EQ(d.clause, "anyOf[2]");
  // Both fail: the first matching entry's failing condition decides.
  d = decide(p, {{"iss", kTl}, {"a", 2}, {"b", 2}});
  EXPECT_FALSE(d.allowed);
  EXPECT_EQ(d.clause, "anyOf[0].allOf[0]");
  // "other" allows a:2 for its own tokens only.
  EXPECT_EQ(decide(p, {{"iss", "https://other.example"}, {"a", 2}}).clause, "anyOf[1]");
}

TEST(ReleasePolicyOperators, AuthorityPathKeepsItsCaseAndOnlyOneSlashIsDropped) {
  const json cond = json::array({{{"claim", "a"}, {"equals", 1}}});
  const ReleasePolicy tenant = must_parse(one_entry(cond, "https://TL.example/Tenant/"));
  EXPECT_TRUE(decide(tenant, {{"iss", "https://tl.EXAMPLE/Tenant"}, {"a", 1}}).allowed);
  EXPECT_FALSE(decide(tenant, {{"iss", "https://tl.example/tenant"}, {"a", 1}}).allowed);
  EXPECT_FALSE(decide(tenant, {{"iss", "https://tl.example/Tenant//"}, {"a", 1}}).allowed);
  EXPECT_FALSE(decide(tenant, {{"iss", "http://tl.example/Tenant"}, {"a", 1}}).allowed);
}

TEST(ReleasePolicyOperators, TokenWithoutStringIssuerMatchesNothing) {
  const ReleasePolicy p = must_parse(one_entry(json::array({{{"claim", "a"}, {"equals", 1}}})));
  // sign_jwt accepts any claims; the policy sees an "iss" that is no string.
  const auto d = decide(p, {{"iss", 5}, {"a", 1}});
  EXPECT_FALSE(d.allowed);
  EXPECT_EQ(d.clause, "anyOf");
  EXPECT_EQ(d.explanation, "anyOf: the token has no \"iss\" string, so no authority can match");
}

TEST(ReleasePolicyOperators, LongClaimValuesAreShownCutAtACharacter) {
  std::string value;
  for (int i = 0; i < 100; ++i) value += "\xC3\xA9";  // é, two bytes each
  const auto d = decide_one({{"claim", "s"}, {"equals", "x"}}, {{"s", value}});
  EXPECT_FALSE(d.allowed);
  EXPECT_LT(d.explanation.size(), 160u) << d.explanation;
  EXPECT_NE(d.explanation.find("\xE2\x80\xA6"), std::string::npos) << d.explanation;  // the "…" of the cut
  EXPECT_NO_THROW((void)json(d.explanation).dump());                                    // still valid UTF-8
}

// ---------------------------------------------------------------------------
// Hostile documents

void expect_refused(const std::string& text, const std::string& message_prefix) {
  auto p = ReleasePolicy::parse(text);
  ASSERT_FALSE(p.ok()) << "accepted: " << text;
  EXPECT_EQ(p.error().reason, "release-policy-invalid") << text;
  EXPECT_EQ(p.error().message.rfind(message_prefix, 0), 0u)
      << "message: " << p.error().message << "\nexpected prefix: " << message_prefix << "\ninput: " << text;
  EXPECT_NO_THROW((void)json(p.error().message).dump()) << "message is not valid UTF-8";
}

std::string with_condition(const std::string& condition_text) {
  return R"({"version":"1.0.0","anyOf":[{"authority":"https://tl.example","allOf":[)" + condition_text + "]}]}";
}

std::string with_entry(const std::string& entry_text) {
  return R"({"version":"1.0.0","anyOf":[)" + entry_text + "]}";
}

TEST(ReleasePolicyHostile, EveryTruncationIsRefused) {
  const std::string full = with_condition(R"({"claim":"x-ms-isolation-tee.x-ms-attestation-type","equals":"sevsnpvm"})");
  ASSERT_TRUE(ReleasePolicy::parse(full).ok());
  for (size_t n = 0; n < full.size(); ++n) {
    auto p = ReleasePolicy::parse(full.substr(0, n));
    ASSERT_FALSE(p.ok()) << "prefix of " << n << " bytes accepted";
    EXPECT_EQ(p.error().reason, "release-policy-invalid");
  }
  expect_refused("", "(root): not valid JSON at offset 0 (");
  // Cut after a member name: located at that member, at the end of the input.
  expect_refused(full.substr(0, 40), "anyOf[0].authority: not valid JSON at offset 40 (");
}

TEST(ReleasePolicyHostile, WrongTypesForEveryMember) {
  expect_refused("[]", "(root): expected a JSON object, got an array");
  expect_refused(R"("policy")", "(root): expected a JSON object, got a string");
  expect_refused(R"({"version":1,"anyOf":[]})", "version: expected the string \"1.0.0\", got a number");
  expect_refused(R"({"version":"1.0.0","anyOf":{}})", "anyOf: expected an array of authority entries, got an object");
  expect_refused(with_entry(R"("https://tl.example")"), "anyOf[0]: expected an object");
  expect_refused(with_entry(R"({"authority":5,"allOf":[{"claim":"a","equals":1}]})"),
                 "anyOf[0].authority: expected the issuer URL as a string, got a number");
  expect_refused(with_entry(R"({"authority":"","allOf":[{"claim":"a","equals":1}]})"), "anyOf[0].authority: empty");
  expect_refused(with_entry(R"({"authority":"https://tl.example /x","allOf":[{"claim":"a","equals":1}]})"),
                 "anyOf[0].authority: contains a space or control character");
  expect_refused(with_entry(R"({"authority":"https://tl.example","allOf":{"claim":"a","equals":1}})"),
                 "anyOf[0].allOf: expected an array of conditions, got an object");
  expect_refused(with_entry(R"({"authority":"https://tl.example","anyOf":"a"})"),
                 "anyOf[0].anyOf: expected an array of conditions, got a string");
  expect_refused(with_condition("3"), "anyOf[0].allOf[0]: expected a condition object, got a number");
  expect_refused(with_condition(R"({"claim":5,"equals":1})"),
                 "anyOf[0].allOf[0].claim: expected the claim name as a string, got a number");
  expect_refused(with_condition(R"({"claim":"","equals":1})"), "anyOf[0].allOf[0].claim: empty claim name");
  expect_refused(with_condition(R"({"claim":"a..b","equals":1})"), "anyOf[0].allOf[0].claim: \"a..b\" has an empty segment");
  expect_refused(with_condition(R"({"claim":".a","equals":1})"), "anyOf[0].allOf[0].claim: \".a\" has an empty segment");
  expect_refused(with_condition(R"({"claim":"a\u0007","equals":1})"), "anyOf[0].allOf[0].claim: contains a control character");
  expect_refused(with_condition(R"({"claim":"a","equals":null})"),
                 "anyOf[0].allOf[0].equals: expected a string, number or boolean, got null");
  expect_refused(with_condition(R"({"claim":"a","notEquals":[1]})"),
                 "anyOf[0].allOf[0].notEquals: expected a string, number or boolean, got an array");
  expect_refused(with_condition(R"({"claim":"a","equals":{"v":1}})"),
                 "anyOf[0].allOf[0].equals: expected a string, number or boolean, got an object");
  for (const char* op : {"less", "lessOrEquals", "greater", "greaterOrEquals"}) {
    expect_refused(with_condition(std::string(R"({"claim":"a",")") + op + R"(":"5"})"),
                   std::string("anyOf[0].allOf[0].") + op + ": expected a number, got a string; " + op +
                       " compares numbers only");
  }
  expect_refused(with_condition(R"({"claim":"a","exists":"yes"})"),
                 "anyOf[0].allOf[0].exists: expected true or false, got a string");
  expect_refused(with_condition(R"({"claim":"a","exists":1})"), "anyOf[0].allOf[0].exists: expected true or false, got a number");
}

TEST(ReleasePolicyHostile, EmptyAnyOfAndAllOf) {
  expect_refused(R"({"version":"1.0.0","anyOf":[]})", "anyOf: empty; a policy needs at least one authority entry");
  expect_refused(with_entry(R"({"authority":"https://tl.example","allOf":[]})"), "anyOf[0].allOf: empty");
  expect_refused(with_entry(R"({"authority":"https://tl.example","anyOf":[]})"), "anyOf[0].anyOf: empty");
  expect_refused(with_condition(R"({"claim":"a","equals":1},{"anyOf":[]})"), "anyOf[0].allOf[1].anyOf: empty");
  expect_refused(with_condition(R"({"allOf":[]})"), "anyOf[0].allOf[0].allOf: empty");
  expect_refused(with_condition("{}"), "anyOf[0].allOf[0]: empty condition");
}

TEST(ReleasePolicyHostile, OperatorCount) {
  // The message of the header's example.
  expect_refused(with_condition(R"({"claim":"a","equals":1},{"claim":"b","equals":2},{"claim":"c","less":1,"equals":2})"),
                 "anyOf[0].allOf[2]: \"equals\" and \"less\" both given; a condition has one operator");
  expect_refused(with_condition(R"({"claim":"a","exists":true,"greaterOrEquals":1})"),
                 "anyOf[0].allOf[0]: \"greaterOrEquals\" and \"exists\" both given");
  expect_refused(with_condition(R"({"claim":"a"})"),
                 "anyOf[0].allOf[0]: no operator; give one of equals, notEquals, less, lessOrEquals, greater, "
                 "greaterOrEquals or exists");
  expect_refused(with_condition(R"({"equals":"a"})"), "anyOf[0].allOf[0]: \"claim\" is missing");
}

TEST(ReleasePolicyHostile, UnknownAndMisplacedMembers) {
  expect_refused(R"({"version":"1.0.0","anyOf":[{"authority":"a","allOf":[{"claim":"a","equals":1}]}],"x":1})",
                 "(root): unknown member \"x\"");
  expect_refused(with_entry(R"({"authority":"a","allOf":[{"claim":"a","equals":1}],"note":"hi"})"),
                 "anyOf[0]: unknown member \"note\"");
  expect_refused(with_condition(R"({"claim":"a","equals":1,"comment":"x"})"), "anyOf[0].allOf[0]: unknown member \"comment\"");
  // Other policy languages' shapes are refused, not reinterpreted.
  expect_refused(with_condition(R"({"claim":"a","condition":"equals","value":"x"})"),
                 "anyOf[0].allOf[0]: unknown member \"condition\"; the operator is a member of its own");
  expect_refused(with_condition(R"({"claim":"a","Equals":"x"})"), "anyOf[0].allOf[0]: unknown member \"Equals\"");
  expect_refused(with_condition(R"({"field":"a","equals":"x"})"), "anyOf[0].allOf[0]: \"claim\" is missing");
  expect_refused(with_condition(R"({"not":{"claim":"a","equals":1}})"), "anyOf[0].allOf[0]: unknown member \"not\"");
  expect_refused(with_condition(R"({"authority":"https://tl.example","allOf":[{"claim":"a","equals":1}]})"),
                 "anyOf[0].allOf[0]: \"authority\" is only allowed in the top-level anyOf entries");
  expect_refused(with_condition(R"({"claim":"a","equals":1,"anyOf":[{"claim":"b","equals":1}]})"),
                 "anyOf[0].allOf[0]: \"claim\" and \"anyOf\" both given");
  expect_refused(with_condition(R"({"allOf":[{"claim":"b","equals":1}],"anyOf":[{"claim":"b","equals":1}]})"),
                 "anyOf[0].allOf[0]: \"allOf\" and \"anyOf\" both given");
  expect_refused(with_condition(R"({"anyOf":[{"claim":"b","equals":1}],"x":1})"), "anyOf[0].allOf[0]: unknown member \"x\"");
  expect_refused(with_entry(R"({"authority":"a","allOf":[{"claim":"a","equals":1}],"anyOf":[{"claim":"a","equals":1}]})"),
                 "anyOf[0]: \"allOf\" and \"anyOf\" both given; an authority entry has one of them");
  expect_refused(with_entry(R"({"authority":"a"})"), "anyOf[0]: needs \"allOf\" or \"anyOf\"");
  expect_refused(with_entry(R"({"allOf":[{"claim":"a","equals":1}]})"), "anyOf[0]: \"authority\" is missing");
  expect_refused(with_entry(R"({"authority":"a","claim":"a","equals":1})"),
                 "anyOf[0]: a claim test cannot stand beside \"authority\"");
  expect_refused(R"({"version":"1.0.0","authority":"a","anyOf":[]})", "(root): \"authority\" is not allowed at the top level");
}

TEST(ReleasePolicyHostile, VersionMissingOrOther) {
  expect_refused(R"({"anyOf":[{"authority":"a","allOf":[{"claim":"a","equals":1}]}]})", "(root): \"version\" is missing");
  for (const char* v : {"0.2", "1.0", "1.0.1", "2.0.0", "", " 1.0.0"}) {
    expect_refused(std::string(R"({"version":")") + v + R"(","anyOf":[{"authority":"a","allOf":[{"claim":"a","equals":1}]}]})",
                   std::string("version: ") + json(v).dump() + " is not supported; only Key Vault's grammar version \"1.0.0\" is");
  }
  expect_refused(R"({"version":"1.0.0"})", "(root): \"anyOf\" is missing");
}

TEST(ReleasePolicyHostile, DuplicateMembersAreLocated) {
  expect_refused(R"({"version":"1.0.0","version":"1.0.0","anyOf":[]})", "(root): duplicate member \"version\"");
  expect_refused(with_condition(R"({"claim":"a","equals":1},{"claim":"a","equals":1,"equals":2})"),
                 "anyOf[0].allOf[1]: duplicate member \"equals\"");
  // Two spellings of one name are different members, so this is "two operators".
  expect_refused(with_condition(R"({"claim":"a","equals":1,"equ\u0061ls":2})"), "anyOf[0].allOf[0]: duplicate member");
}

// A policy whose innermost claim condition is nested `groups` anyOf levels
// below the entry's allOf; each level adds two containers.
std::string nested_policy(int groups) {
  std::string cond = R"({"claim":"a","equals":1})";
  for (int i = 0; i < groups; ++i) cond = R"({"anyOf":[)" + cond + "]}";
  return with_condition(cond);
}

TEST(ReleasePolicyHostile, DepthLimit) {
  // root{1} anyOf[2] entry{3} allOf[4] condition{5}: 5 + 2 per group.
  auto fifteen = ReleasePolicy::parse(nested_policy(5));
  ASSERT_TRUE(fifteen.ok()) << fifteen.error().message;
  EXPECT_TRUE(decide(*fifteen, {{"iss", kTl}, {"a", 1}}).allowed);
  // 17 levels: refused by the reader, at the container that goes too deep.
  expect_refused(nested_policy(6),
                 "anyOf[0].allOf[0].anyOf[0].anyOf[0].anyOf[0].anyOf[0].anyOf[0].anyOf[0]: nested deeper than 16 levels");
  // 16 levels are read, and then refused by the grammar (an array as a condition).
  const std::string sixteen = with_condition(R"({"anyOf":[{"anyOf":[{"anyOf":[{"anyOf":[{"anyOf":[[[]]]}]}]}]}]})");
  expect_refused(sixteen, "anyOf[0].allOf[0].anyOf[0].anyOf[0].anyOf[0].anyOf[0].anyOf[0]: expected a condition object, got an array");
  // Deep nesting in an unknown member is refused before anything else.
  expect_refused(std::string(R"({"x":)") + std::string(20, '[') + std::string(20, ']') + "}", "x");
}

TEST(ReleasePolicyHostile, SizeLimit) {
  const std::string base = nested_policy(0);
  std::string at_limit = base;
  at_limit.insert(1, ReleasePolicy::kMaxBytes - base.size(), ' ');
  ASSERT_EQ(at_limit.size(), ReleasePolicy::kMaxBytes);
  EXPECT_TRUE(ReleasePolicy::parse(at_limit).ok());
  std::string over = base;
  over.insert(1, 65 * 1024 - base.size(), ' ');
  expect_refused(over, "(root): the policy is 66560 bytes; at most 65536 are accepted");
}

TEST(ReleasePolicyHostile, InvalidUtf8AndBadNumbers) {
  expect_refused(with_condition("{\"claim\":\"a\",\"equals\":\"\xff\"}"), "anyOf[0].allOf[0].equals: not valid JSON at offset");
  // The offset is the bad byte's.
  expect_refused("{\"version\":\"\xff\"}", "version: not valid JSON at offset 12 (");
  expect_refused(with_condition("{\"claim\":\"\xc0\xaf\",\"equals\":1}"), "anyOf[0].allOf[0].claim: not valid JSON at offset");
  expect_refused(with_condition("{\"cl\xe2\x82\":1}"), "anyOf[0].allOf[0]: not valid JSON at offset");
  expect_refused(with_condition(R"({"claim":"a","equals":"\ud800"})"), "anyOf[0].allOf[0].equals: not valid JSON at offset");
  expect_refused(with_condition(R"({"claim":"a","greater":1e400})"), "anyOf[0].allOf[0].greater: not valid JSON at offset");
  expect_refused(with_condition(R"({"claim":"a","greater":01})"), "anyOf[0].allOf[0].greater: not valid JSON at offset");
  expect_refused(nested_policy(0) + " x", "(root): not valid JSON at offset");
  expect_refused(nested_policy(0) + nested_policy(0), "(root): not valid JSON at offset");
  std::string nul = R"({"version":"1.0.0")";
  nul += '\0';
  nul += "}";
  expect_refused(nul, "version: not valid JSON at offset");
}

}  // namespace
}  // namespace tl::policy
