// Issue 6 end to end, all real: recorded Azure confidential VM evidence
// (Trustee's az-snp-vtpm / az-tdx-vtpm test data, read from shared/vectors)
// submitted to the real tlaunchd binary on 127.0.0.1 — the appraisal
// endpoint, the MAA-like /attest/sevsnpvm and /attest/tdxvm, and a key
// release against the token with Key Vault's sample CVM release policies —
// and an swtpm vTPM holding an HCL report in NV index 0x01400001 read by the
// real agent code and refused by tlaunchd because its AK is not the TPM's.
#include <gtest/gtest.h>

#include <algorithm>
#include <fstream>
#include <string>

#include <nlohmann/json.hpp>

#include "agent/client/attestation_client.h"
#include "fixture.h"
#include "http/http.h"
#include "policy/release_policy.h"
#include "support/cli_runner.h"
#include "support/test_support.h"
#include "tee/hcl_report.h"
#include "tee/snp_report.h"
#include "token/base64url.h"
#include "token/jwk.h"
#include "token/jwt.h"
#include "tpm/attest.h"
#include "verify/cvm.h"

namespace tl::test {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

constexpr const char* kSnpDir = "cvm/trustee-az-snp-vtpm-evidence/";
constexpr const char* kTdxDir = "cvm/trustee-az-tdx-vtpm/";

std::string b64(std::string_view s) {
  return token::base64url_encode(ByteView(reinterpret_cast<const uint8_t*>(s.data()), s.size()));
}

json load_json(const fs::path& p) { return json::parse(read_text(p)); }

// Trustee's v1 evidence writes base64url with '=' padding.
Result<Bytes> b64_padded(std::string s) {
  s.erase(std::remove(s.begin(), s.end(), '='), s.end());
  return token::base64url_decode(s);
}

// Trustee's Azure TDX HCL report is 2,437 bytes (2,600 with padding), but
// swtpm's NV indices hold at most 2,048 (TPM2_PT_NV_INDEX_MAX; Azure's vTPM
// allows more). This is the same report with its runtime data cut to HCLAkPub
// and vm-configuration and the three size fields adjusted: header, TDREPORT and
// request data are the vector's bytes. (Its binding to REPORT_DATA no longer
// holds; reading the index and the AK check do not depend on it.)
Bytes swtpm_sized_hcl_report(const Bytes& full) {
  constexpr size_t kRequestData = 0x4C0, kRuntime = 0x4D4;
  auto le32 = [&](size_t at) {
    return static_cast<uint32_t>(full[at]) | static_cast<uint32_t>(full[at + 1]) << 8 |
           static_cast<uint32_t>(full[at + 2]) << 16 | static_cast<uint32_t>(full[at + 3]) << 24;
  };
  const uint32_t var = le32(kRuntime - 4);
  const nlohmann::json rt = nlohmann::json::parse(full.begin() + kRuntime, full.begin() + kRuntime + var);
  nlohmann::json keys = nlohmann::json::array();
  for (const auto& k : rt.at("keys"))
    if (k.value("kid", "") == "HCLAkPub") keys.push_back(k);
  const std::string text = nlohmann::json{{"keys", keys}, {"vm-configuration", rt.at("vm-configuration")}}.dump();
  Bytes out(full.begin(), full.begin() + kRuntime);
  auto put32 = [&](size_t at, size_t v) {
    for (int i = 0; i < 4; ++i) out[at + static_cast<size_t>(i)] = static_cast<uint8_t>(v >> (8 * i));
  };
  put32(8, kRuntime + text.size());          // header.report_size
  put32(kRequestData, 20 + text.size());     // request data.data_size
  put32(kRuntime - 4, text.size());          // request data.variable_data_size
  out.resize(kRuntime + text.size());
  std::copy(text.begin(), text.end(), out.begin() + static_cast<std::ptrdiff_t>(kRuntime));
  return out;
}

// The launch measurement (hex) of the SEV-SNP report inside recorded evidence.
Result<std::string> snp_measurement(const json& evidence) {
  auto ev = verify::decode_cvm_evidence(evidence, verify::CvmEvidenceType::az_snp_vtpm);
  if (!ev) return ev.take_error();
  auto hcl = tee::parse_hcl_report(ev->hcl_report);
  if (!hcl) return hcl.take_error();
  auto r = tee::parse_snp_report(hcl->hardware_report);
  if (!r) return r.take_error();
  return to_hex(ByteView(r->measurement.data(), r->measurement.size()));
}

class CvmE2E : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    root_ = std::make_unique<TempDir>();
    auto ca = VtpmCa::create(root_->path() / "vtpm-ca");
    if (!ca) return fail("vTPM CA: " + ca.error().message);
    ca_ = std::move(*ca);
    // The paravisors this tlaunchd trusts as compliant: the launch measurements
    // of the recorded Azure reports, read from the vectors (an operator lists
    // Azure's published paravisor measurements or ID keys the same way).
    json measurements = json::array();
    for (const char* f : {"evidence-v1.json", "evidence-genoa.json"}) {
      const std::string path = test::vector_path(std::string(kSnpDir) + f).string();
      if (path.empty()) return fail(std::string("vector missing: ") + f);
      auto m = snp_measurement(load_json(path));
      if (!m) return fail(std::string(f) + ": " + m.error().message);
      measurements.push_back(*m);
    }
    fs::create_directories(root_->path() / "svc");
    const fs::path config = root_->path() / "svc/cvm-config.json";
    std::ofstream(config) << json{{"cvm", {{"snpLaunchMeasurements", measurements}}}}.dump();
    auto svc = Tlaunchd::start(root_->path() / "svc", {"--config", config.string(), "--ek-ca", ca_->root_pem().string(),
                                                       "--ek-ca", ca_->issuer_pem().string()});
    if (!svc) return fail("tlaunchd: " + svc.error().message);
    svc_ = std::move(*svc);
    std::ifstream in(root_->path() / "svc/tlaunchd.db.admin-token");
    std::getline(in, admin_);
  }
  static void TearDownTestSuite() {
    svc_.reset();
    ca_.reset();
    root_.reset();
  }
  void SetUp() override {
    if (setup_error_) GTEST_FAIL() << *setup_error_;
  }
  static void fail(const std::string& m) {
    if (!setup_error_) setup_error_ = m;
  }

  static http::Response call(const std::string& bearer, const std::string& method, const std::string& path,
                             const json& body = nullptr) {
    auto c = http::Client::create(svc_->base_url());
    EXPECT_TRUE(c.ok());
    if (!c) return {};
    http::Headers h;
    if (!bearer.empty()) h["Authorization"] = "Bearer " + bearer;
    std::string text;
    if (!body.is_null()) {
      h["Content-Type"] = "application/json";
      text = body.dump();
    }
    auto resp = (*c)->request(method, path, text, h);
    EXPECT_TRUE(resp.ok()) << resp.error().message;
    return resp.ok() ? *resp : http::Response{};
  }
  static json post(const std::string& path, const json& body, int expect) {
    auto resp = call("", "POST", path, body);
    EXPECT_EQ(resp.status, expect) << path << ": " << resp.body;
    return json::parse(resp.body, nullptr, false);
  }
  static json api(const std::string& method, const std::string& path, const json& body = nullptr, int expect = 200) {
    auto resp = call(admin_, method, path, body);
    EXPECT_EQ(resp.status, expect) << method << " " << path << ": " << resp.body;
    return resp.body.empty() ? json{} : json::parse(resp.body, nullptr, false);
  }

  static token::Jwks jwks() {
    auto resp = call("", "GET", "/certs");
    auto k = token::Jwks::parse(resp.body);
    EXPECT_TRUE(k.ok()) << resp.body;
    return k.ok() ? std::move(*k) : token::Jwks{};
  }
  // A token of this tlaunchd, checked under its published keys.
  static std::optional<token::VerifiedToken> verified(const std::string& t, bool require_exp = true) {
    token::VerifyOptions o;
    o.issuer = svc_->base_url();
    o.require_exp = require_exp;
    auto v = token::verify_jwt(t, jwks(), o);
    EXPECT_TRUE(v.ok()) << v.error().message;
    if (!v) return std::nullopt;
    return std::move(*v);
  }

  // A release policy from tests/policy/release_policies with every authority
  // rewritten to this tlaunchd's issuer: the samples name Azure's shared MAA
  // instances, and the claims conditions are what is being tested.
  static json sample_policy(const std::string& file) {
    json p = load_json(fs::path(__FILE__).parent_path().parent_path() / "policy/release_policies" / file);
    for (auto& e : p["anyOf"]) e["authority"] = svc_->base_url();
    return p;
  }
  static bool satisfies(const json& policy, const token::VerifiedToken& t, std::string* why = nullptr) {
    auto p = policy::ReleasePolicy::parse(policy.dump());
    EXPECT_TRUE(p.ok()) << p.error().message;
    if (!p) return false;
    const policy::ReleaseDecision d = policy::evaluate(*p, t);
    if (why) *why = d.explanation;
    return d.allowed;
  }
  static json exportable_oct(const json& policy) {
    return {{"kty", "oct"},
            {"key_size", 256},
            {"attributes", {{"exportable", true}}},
            {"release_policy", {{"data", b64(policy.dump())}, {"immutable", false}}}};
  }

  static inline std::unique_ptr<TempDir> root_;
  static inline std::unique_ptr<VtpmCa> ca_;
  static inline std::unique_ptr<Tlaunchd> svc_;
  static inline std::string admin_;
  static inline std::optional<std::string> setup_error_;
};

// The HCLEkPub of a token's x-ms-runtime.keys (the key release wraps to).
json ek_of(const json& claims) {
  for (const auto& k : claims["x-ms-runtime"]["keys"])
    if (k.value("kid", "") == "HCLEkPub") return k;
  return nullptr;
}

TEST_F(CvmE2E, RecordedSnpEvidenceAppraisesToCompliantSevSnpVmClaims) {
  TL_REQUIRE_VECTOR(ev, std::string(kSnpDir) + "evidence-v1.json");
  const json req = {{"evidenceType", "az-snp-vtpm"}, {"evidence", load_json(ev)}, {"nonce", b64("challenge")}};
  const json a = post("/appraise", req, 200);
  ASSERT_EQ(a.value("result", ""), "pass") << a.dump();
  EXPECT_EQ(a["akTrust"], "hcl-report");
  const json& c = a["claims"];
  EXPECT_EQ(c["x-ms-attestation-type"], "sevsnpvm");
  EXPECT_EQ(c["x-ms-compliance-status"], "azure-compliant-cvm");
  EXPECT_EQ(c["x-ms-isolation-tee"]["x-ms-attestation-type"], "sevsnpvm");
  EXPECT_EQ(c["nonce"], b64("challenge"));
  // Upstream's asserted PCR 0 of this evidence (expected.json).
  EXPECT_EQ(c["x-tl-pcrs"]["sha256"]["0"], "e15c44796beabf46abcec7c57e590942041e47497e4ec27571c8b7664f48dced");
  const json ek = ek_of(c);
  ASSERT_TRUE(ek.is_object()) << c["x-ms-runtime"].dump();
  EXPECT_EQ(ek["kty"], "RSA");
  EXPECT_NE(std::find(ek["key_ops"].begin(), ek["key_ops"].end(), "encrypt"), ek["key_ops"].end());
}

TEST_F(CvmE2E, RecordedGenoaEvidenceAppraisesWithItsRecordedNonce) {
  TL_REQUIRE_VECTOR(ev, std::string(kSnpDir) + "evidence-genoa.json");
  const json e = load_json(ev);
  // The nonce the quote was made for: its extraData (expected.json abbreviates
  // it as 0218488b...5d950f; checked here so a different message is noticed).
  const json& m = e["quote"]["message"];
  Bytes msg;
  for (const auto& b : m) msg.push_back(b.get<uint8_t>());
  auto attest = tpm::parse_attest(msg);
  ASSERT_TRUE(attest.ok()) << attest.error().message;
  const std::string nonce_hex = to_hex(attest->extra_data);
  ASSERT_EQ(nonce_hex.substr(0, 8), "0218488b");
  ASSERT_EQ(nonce_hex.substr(nonce_hex.size() - 6), "5d950f");
  const json a = post("/appraise",
                      {{"evidenceType", "az-snp-vtpm"}, {"evidence", e}, {"nonce", token::base64url_encode(attest->extra_data)}},
                      200);
  ASSERT_EQ(a.value("result", ""), "pass") << a.dump();
  EXPECT_EQ(a["claims"]["x-ms-attestation-type"], "sevsnpvm");
  EXPECT_EQ(a["claims"]["x-tl-pcrs"]["sha256"]["0"], "afd689d0bb1c5f36f023fbaf574135f555a28a10c1f6b938d2a25e70c7783338");
}

// The done-point of issue 6.
TEST_F(CvmE2E, SevSnpVmTokenSatisfiesKeyVaultSampleCvmPoliciesAndReleasesAKeyWrappedToHclEkPub) {
  TL_REQUIRE_VECTOR(ev, std::string(kSnpDir) + "evidence-v1.json");
  const json req = {{"evidenceType", "az-snp-vtpm"}, {"evidence", load_json(ev)}, {"nonce", b64("challenge")}};
  const json appraisal = post("/appraise", req, 200);
  ASSERT_EQ(appraisal.value("result", ""), "pass") << appraisal.dump();

  json body = req;
  body.erase("evidenceType");
  const json answer = post("/attest/sevsnpvm", body, 200);
  const std::string token = answer.value("token", "");
  auto t = verified(token);
  ASSERT_TRUE(t);
  const json& claims = t->claims();
  for (const char* c : {"iss", "iat", "nbf", "exp", "jti"}) EXPECT_TRUE(claims.contains(c)) << c;
  // The token says what the appraisal said: the same claims plus the issuer's.
  json stripped = claims;
  for (const char* c : {"iss", "iat", "nbf", "exp", "jti"}) stripped.erase(c);
  EXPECT_EQ(stripped, appraisal["claims"]);

  const json ek = ek_of(claims);
  ASSERT_TRUE(ek.is_object());
  auto n = token::base64url_decode(ek["n"].get<std::string>());
  ASSERT_TRUE(n.ok());
  const size_t modulus_bytes = n->size() - (n->front() == 0 ? 1 : 0);
  EXPECT_GE(modulus_bytes, 256u);

  for (const char* file : {"cvm-default-all-regions.json", "cvm-sevsnp-isolation-tee.json"}) {
    SCOPED_TRACE(file);
    const json policy = sample_policy(file);
    std::string why;
    EXPECT_TRUE(satisfies(policy, *t, &why)) << why;
    const std::string key = std::string("cvm-") + (file[4] == 'd' ? "default" : "isolation");
    api("POST", "/keys/" + key + "/create", exportable_oct(policy));
    // The admin (a key vault identity allowed every operation) releases to the token.
    const json rel = api("POST", "/keys/" + key + "/release", {{"target", token}, {"enc", "RSA_AES_KEY_WRAP_256"}});
    const std::string jws = rel.value("value", "");
    auto signed_answer = verified(jws, /*require_exp=*/false);
    ASSERT_TRUE(signed_answer);
    const json& k = signed_answer->claims()["response"]["key"]["key"];
    auto hsm_text = token::base64url_decode(k["key_hsm"].get<std::string>());
    ASSERT_TRUE(hsm_text.ok());
    const json hsm = json::parse(std::string(hsm_text->begin(), hsm_text->end()));
    EXPECT_EQ(hsm["header"]["kid"], "HCLEkPub");
    auto ct = token::base64url_decode(hsm["ciphertext"].get<std::string>());
    ASSERT_TRUE(ct.ok());
    // RSA-OAEP of the transient AES key under HCLEkPub (one modulus long),
    // then AES-KWP of the 32-byte key (40 bytes). Unwrapping needs the private
    // EK inside that Azure VM's vTPM, which no test here has.
    EXPECT_EQ(ct->size(), modulus_bytes + 40);
  }
}

TEST_F(CvmE2E, WrongNonceMutatedHclReportAndATdxOnlyPolicyAreRefusedWithTheirReasons) {
  TL_REQUIRE_VECTOR(ev, std::string(kSnpDir) + "evidence-v1.json");
  const json evidence = load_json(ev);

  // A nonce the quote was not made for.
  json req = {{"evidenceType", "az-snp-vtpm"}, {"evidence", evidence}, {"nonce", b64("challengf")}};
  json a = post("/appraise", req, 200);
  EXPECT_EQ(a.value("result", ""), "fail");
  EXPECT_EQ(a.value("reason", ""), "quote-nonce") << a.dump();
  req.erase("evidenceType");
  EXPECT_EQ(post("/attest/sevsnpvm", req, 403).value("reason", ""), "quote-nonce");

  // One character of the HCL runtime data changed (inside HCLAkPub's modulus:
  // still valid JSON and base64url), so its hash is not the report's REPORT_DATA.
  auto hcl = b64_padded(evidence["hcl_report"].get<std::string>());
  ASSERT_TRUE(hcl.ok());
  const std::string text(hcl->begin(), hcl->end());
  const size_t ak = text.find("\"HCLAkPub\"");
  ASSERT_NE(ak, std::string::npos);
  const size_t n = text.find("\"n\":\"", ak);
  ASSERT_NE(n, std::string::npos);
  Bytes mutated = *hcl;
  const size_t at = n + 10;
  mutated[at] = mutated[at] == 'A' ? 'B' : 'A';
  json bad = evidence;
  bad["hcl_report"] = token::base64url_encode(mutated);
  a = post("/appraise", {{"evidenceType", "az-snp-vtpm"}, {"evidence", bad}, {"nonce", b64("challenge")}}, 200);
  EXPECT_EQ(a.value("result", ""), "fail");
  EXPECT_EQ(a.value("reason", ""), "hcl-report-data-mismatch") << a.dump();

  // A byte of the signed SEV-SNP report inside (its MEASUREMENT, at 0x90 in the
  // report, which starts 0x20 into the HCL report) changed.
  Bytes signed_mutated = *hcl;
  signed_mutated[0x20 + 0x90] ^= 0x01;
  bad["hcl_report"] = token::base64url_encode(signed_mutated);
  a = post("/appraise", {{"evidenceType", "az-snp-vtpm"}, {"evidence", bad}, {"nonce", b64("challenge")}}, 200);
  EXPECT_EQ(a.value("result", ""), "fail");
  EXPECT_EQ(a.value("reason", ""), "snp-signature-invalid") << a.dump();

  // A policy only a TDX CVM satisfies: the SEV-SNP token is denied.
  const json token_answer = post("/attest/sevsnpvm", {{"evidence", evidence}, {"nonce", b64("challenge")}}, 200);
  const json tdx_policy = {{"version", "1.0.0"},
                           {"anyOf",
                            {{{"authority", svc_->base_url()},
                              {"allOf", {{{"claim", "x-ms-attestation-type"}, {"equals", "tdxvm"}},
                                         {{"claim", "x-ms-compliance-status"}, {"equals", "azure-compliant-cvm"}}}}}}}};
  api("POST", "/keys/tdx-only/create", exportable_oct(tdx_policy));
  const json denied = api("POST", "/keys/tdx-only/release", {{"target", token_answer.value("token", "")}}, 403);
  EXPECT_EQ(denied.value("reason", ""), "release-policy-denied") << denied.dump();

  // Evidence of the other type on a type's endpoint is a malformed request.
  EXPECT_EQ(post("/attest/tdxvm", {{"evidenceType", "az-snp-vtpm"}, {"evidence", evidence}, {"nonce", b64("challenge")}}, 400)
                .value("reason", ""),
            "request-malformed");
  // Unknown members of the recorded evidence are refused, not ignored.
  json extra = evidence;
  extra["surprise"] = 1;
  EXPECT_EQ(post("/appraise", {{"evidenceType", "az-snp-vtpm"}, {"evidence", extra}, {"nonce", b64("challenge")}}, 400)
                .value("reason", ""),
            "evidence-malformed");
}

// A genuine report proves only that some code at VMPL 0 asked for it: a
// tlaunchd that names no trusted paravisor finds no CVM compliant.
TEST_F(CvmE2E, WithoutReferenceMeasurementsNoCvmIsCompliant) {
  TL_REQUIRE_VECTOR(ev, std::string(kSnpDir) + "evidence-v1.json");
  auto plain = Tlaunchd::start(root_->path() / "plain", {});
  ASSERT_TRUE(plain.ok()) << plain.error().message;
  auto c = http::Client::create((*plain)->base_url());
  ASSERT_TRUE(c.ok());
  const json req = {{"evidenceType", "az-snp-vtpm"}, {"evidence", load_json(ev)}, {"nonce", b64("challenge")}};
  auto resp = (*c)->request("POST", "/appraise", req.dump(), http::Headers{{"Content-Type", "application/json"}});
  ASSERT_TRUE(resp.ok()) << resp.error().message;
  ASSERT_EQ(resp->status, 200) << resp->body;
  const json a = json::parse(resp->body);
  ASSERT_EQ(a.value("result", ""), "pass") << a.dump();
  EXPECT_EQ(a["claims"]["x-ms-compliance-status"], "not-compliant");
  EXPECT_NE(a["claims"].value("x-tl-compliance-detail", "").find("cvm.snpLaunchMeasurements"), std::string::npos)
      << a.dump();
}

// Tokens from the open CVM endpoints are release targets only: presented as a
// bearer credential they identify nobody.
TEST_F(CvmE2E, SevSnpVmTokenIsNotAKeyVaultCredential) {
  TL_REQUIRE_VECTOR(ev, std::string(kSnpDir) + "evidence-v1.json");
  const json answer = post("/attest/sevsnpvm", {{"evidence", load_json(ev)}, {"nonce", b64("challenge")}}, 200);
  const std::string token = answer.value("token", "");
  ASSERT_FALSE(token.empty());
  auto resp = call(token, "GET", "/keys");
  EXPECT_EQ(resp.status, 401) << resp.body;
  EXPECT_NE(resp.body.find("release targets"), std::string::npos) << resp.body;
}

TEST_F(CvmE2E, RecordedTdxEvidenceVerifiesButIsNotCompliantWithoutCollateral) {
  TL_REQUIRE_VECTOR(ev, std::string(kTdxDir) + "evidence-v1.json");
  const json req = {{"evidenceType", "az-tdx-vtpm"}, {"evidence", load_json(ev)}, {"nonce", b64("challenge")}};
  const json a = post("/appraise", req, 200);
  ASSERT_EQ(a.value("result", ""), "pass") << a.dump();
  EXPECT_EQ(a["claims"]["x-ms-attestation-type"], "tdxvm");
  // No TCB status without Intel's collateral, so not compliant.
  EXPECT_NE(a["claims"].value("x-ms-compliance-status", ""), "azure-compliant-cvm");
  EXPECT_EQ(a["claims"]["x-tl-pcrs"]["sha256"]["0"], "782b20b10f55cc46e2142cc2145d548698073e5beb82752c8d7f9279f0d8a273");

  json body = req;
  body.erase("evidenceType");
  const json answer = post("/attest/tdxvm", body, 200);
  auto t = verified(answer.value("token", ""));
  ASSERT_TRUE(t);
  EXPECT_EQ(t->claims()["x-ms-attestation-type"], "tdxvm");
  std::string why;
  EXPECT_FALSE(satisfies(sample_policy("cvm-default-all-regions.json"), *t, &why));
  EXPECT_NE(why.find("x-ms-compliance-status"), std::string::npos) << why;
}

TEST_F(CvmE2E, MalformedCvmRequestsAreRefusedNamingTheMember) {
  TL_REQUIRE_VECTOR(ev, std::string(kSnpDir) + "evidence-v1.json");
  const json evidence = load_json(ev);
  struct Case {
    const char* path;
    json body;
    const char* reason;
    const char* detail;
  };
  const std::vector<Case> cases = {
      {"/attest/sevsnpvm", {{"evidence", evidence}}, "request-malformed", "nonce"},
      {"/attest/sevsnpvm", {{"nonce", b64("challenge")}}, "request-malformed", "evidence"},
      {"/attest/sevsnpvm", {{"evidence", evidence}, {"nonce", "not base64url!"}}, "request-malformed", "nonce"},
      {"/attest/sevsnpvm", {{"evidence", evidence}, {"nonce", b64(std::string(65, 'x'))}}, "request-malformed", "nonce"},
      {"/attest/sevsnpvm", {{"evidence", evidence}, {"nonce", 7}}, "request-malformed", "nonce"},
      {"/attest/sevsnpvm", {{"evidence", evidence}, {"nonce", b64("challenge")}, {"extra", 1}}, "request-malformed",
       "extra"},
      {"/attest/sevsnpvm", {{"evidence", "x"}, {"nonce", b64("challenge")}}, "evidence-malformed", "evidence"},
      {"/attest/sevsnpvm", {{"evidence", evidence}, {"nonce", b64("challenge")}, {"evidenceType", 1}},
       "request-malformed", "evidenceType"},
      {"/appraise", {{"evidenceType", "az-sgx"}, {"evidence", evidence}, {"nonce", b64("challenge")}},
       "request-malformed", "evidenceType"},
      {"/attest/tdxvm", {{"evidence", evidence}, {"nonce", b64("challenge")}}, "evidence-malformed", "evidence"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.body.dump().substr(0, 200));
    const json p = post(c.path, c.body, 400);
    EXPECT_EQ(p.value("reason", ""), c.reason);
    EXPECT_NE(p.value("detail", "").find(c.detail), std::string::npos) << p.dump();
  }
  // Over the open endpoints' 1 MiB limit: refused before parsing.
  json big = {{"evidence", {{"report", json::array()}}}, {"nonce", b64("challenge")}};
  big["evidence"]["report"] = json(std::vector<int>(600'000, 0));
  for (const char* path : {"/attest/sevsnpvm", "/attest/tdxvm"}) {
    const json p = post(path, big, 413);
    EXPECT_EQ(p.value("reason", ""), "payload-too-large") << p.dump();
  }
}

// The agent on a (simulated) CVM: the HCL report in NV 0x01400001 of an swtpm
// vTPM is read by the agent and sent as evidence "tee"; tlaunchd does not use
// it because the report's HCLAkPub is Azure's vTPM AK, not this TPM's enrolled
// AK: the token has no x-ms-isolation-tee and says why.
// Without the index the same VM attests as before, with no x-ms-isolation-tee.
TEST_F(CvmE2E, AgentSendsTheHclReportFromNvAndAForeignAkAddsNoTeeClaims) {
  TL_REQUIRE_VECTOR(hcl, std::string(kTdxDir) + "hcl-report.bin");
  const Bytes report = swtpm_sized_hcl_report(read_file(hcl));
  auto tpm = start_vm_tpm(*ca_, root_->path() / "agent-vm", boot_log_path());
  ASSERT_TRUE(tpm.ok()) << tpm.error().message;
  const std::string tcti = (*tpm)->tcti();
  const std::string t = " -T " + shell_quote(tcti);

  agent::AgentOptions o;
  o.endpoint = svc_->base_url();
  o.tcti = tcti;
  o.vm_id = "cvm-agent-vm";
  o.eventlog = boot_log_path();
  o.os_release = root_->file("os-release", Bytes{'N', 'A', 'M', 'E', '=', 'D', 'e', 'b', 'i', 'a', 'n', '\n'});
  o.state_dir = root_->path() / "agent-state";
  o.kernel_modules.kernel_log = root_->path() / "no-kmsg";
  o.kernel_modules.taint = root_->path() / "no-taint";
  o.kernel_modules.ima_log = root_->path() / "no-ima";
  auto client = agent::AttestationClient::create(o);
  ASSERT_TRUE(client.ok()) << client.error().message;

  // No index: evidence without "tee", a token without x-ms-isolation-tee.
  auto plain = (*client)->attest();
  ASSERT_TRUE(plain.ok()) << plain.error().message;
  auto pt = verified(plain->token);
  ASSERT_TRUE(pt);
  EXPECT_FALSE(pt->claims().contains("x-ms-isolation-tee"));
  auto ev = (*client)->collect_evidence(Bytes(32, 0x42));
  ASSERT_TRUE(ev.ok());
  EXPECT_FALSE(ev->contains("tee"));

  // Azure's paravisor defines the index (owner/platform write, read by anyone with its auth).
  const fs::path f = root_->file("hcl-report.bin", report);
  auto def = sh("tpm2_nvdefine" + t + " -C o -s " + std::to_string(report.size()) +
                " -a 'ownerread|ownerwrite|authread|authwrite' 0x01400001");
  ASSERT_TRUE(def.ok()) << def.error().message;
  auto wr = sh("tpm2_nvwrite" + t + " -C o -i " + shell_quote(f.string()) + " 0x01400001");
  ASSERT_TRUE(wr.ok()) << wr.error().message;

  ev = (*client)->collect_evidence(Bytes(32, 0x42));
  ASSERT_TRUE(ev.ok()) << ev.error().message;
  ASSERT_TRUE(ev->contains("tee")) << ev->dump();
  EXPECT_EQ((*ev)["tee"]["type"], "az-tdx-vtpm");
  auto sent = token::base64url_decode((*ev)["tee"]["hclReport"].get<std::string>());
  ASSERT_TRUE(sent.ok());
  EXPECT_EQ(*sent, report);

  // The HCL report names another AK than the one enrolled: the vTPM
  // attestation stands, but nothing of the hardware evidence reaches the token.
  auto foreign = (*client)->attest();
  ASSERT_TRUE(foreign.ok()) << foreign.error().message;
  auto ft = verified(foreign->token);
  ASSERT_TRUE(ft);
  EXPECT_FALSE(ft->claims().contains("x-ms-isolation-tee"));
  ASSERT_TRUE(ft->claims().contains("x-tl-isolation-tee-error")) << ft->claims().dump();
  EXPECT_EQ(ft->claims()["x-tl-isolation-tee-error"]["reason"], "hcl-ak-mismatch") << ft->claims().dump();
  EXPECT_EQ(ft->claims()["x-ms-azurevm-vmid"], "cvm-agent-vm");

  // The index gone again: attests as before.
  auto undef = sh("tpm2_nvundefine" + t + " -C o 0x01400001");
  ASSERT_TRUE(undef.ok()) << undef.error().message;
  auto again = (*client)->attest();
  ASSERT_TRUE(again.ok()) << again.error().message;
  auto at = verified(again->token);
  ASSERT_TRUE(at);
  EXPECT_FALSE(at->claims().contains("x-ms-isolation-tee"));
}

}  // namespace
}  // namespace tl::test
