// verify_cvm_evidence over Trustee's recorded Azure CVM evidence: the results
// upstream asserts (cvm/expected.json), each forgery refused with its reason,
// and the compliance rule.
#include <gtest/gtest.h>

#include <algorithm>
#include <string>

#include "support/test_support.h"
#include "tee/snp_report.h"
#include "tee/tdx_quote.h"
#include "verify/cvm.h"

namespace tl::verify {
namespace {

using json = nlohmann::json;

const std::string kSnpDir = "cvm/trustee-az-snp-vtpm-evidence/";
const std::string kTdxDir = "cvm/trustee-az-tdx-vtpm/";
// 2026-01-01T00:00:00Z: inside every certificate's validity (VCEKs 2025-2032,
// the PCK leaf 2023-2030), so the tests do not age.
constexpr int64_t kAt = 1767225600;
const Bytes kChallenge = {'c', 'h', 'a', 'l', 'l', 'e', 'n', 'g', 'e'};

json load(const std::filesystem::path& p) { return json::parse(test::read_text(p)); }

json expected(const std::string& id) {
  for (const auto& e : load(test::vector_path("cvm/expected.json")))
    if (e.at("id") == id) return e.at("expected");
  ADD_FAILURE() << "no expected.json entry " << id;
  return json();
}

Bytes hex_bytes(const std::string& s) {
  auto b = from_hex(s);
  EXPECT_TRUE(b.ok());
  return b.ok() ? *b : Bytes{};
}

CvmPolicy policy_at() {
  CvmPolicy p;
  p.at = kAt;
  return p;
}

class CvmVerify : public ::testing::Test {
 protected:
  void SetUp() override {
    for (const char* f : {"evidence-v0.json", "evidence-v1.json", "evidence-v2.json", "evidence-genoa.json"})
      if (test::vector_path(kSnpDir + f).empty()) GTEST_SKIP() << "cvm vectors not found (set TL_SHARED_DIR)";
    for (const char* f : {"evidence-v0.json", "evidence-v1.json", "tpm-quote-v1.json", "hcl-report.bin", "td-quote.bin"})
      if (test::vector_path(kTdxDir + f).empty()) GTEST_SKIP() << "cvm vectors not found (set TL_SHARED_DIR)";
    if (test::vector_path("cvm/expected.json").empty()) GTEST_SKIP() << "cvm/expected.json not found";
    snp_expected = expected("trustee-az-snp-vtpm-evidence");
    tdx_expected = expected("trustee-az-tdx-vtpm");
  }

  static CvmEvidence snp(const char* file) {
    auto ev = decode_cvm_evidence(load(test::vector_path(kSnpDir + file)), CvmEvidenceType::az_snp_vtpm);
    EXPECT_TRUE(ev.ok()) << ev.error().message;
    return ev.ok() ? *ev : CvmEvidence{};
  }
  static CvmEvidence tdx(const char* file) {
    auto ev = decode_cvm_evidence(load(test::vector_path(kTdxDir + file)), CvmEvidenceType::az_tdx_vtpm);
    EXPECT_TRUE(ev.ok()) << ev.error().message;
    return ev.ok() ? *ev : CvmEvidence{};
  }
  // The bare files: HCL report + TD quote, and the vTPM quote of tpm-quote-v1.json.
  static CvmEvidence tdx_from_files() {
    CvmEvidence ev;
    ev.type = CvmEvidenceType::az_tdx_vtpm;
    ev.version = 1;
    ev.hcl_report = test::read_file(test::vector_path(kTdxDir + "hcl-report.bin"));
    ev.td_quote = test::read_file(test::vector_path(kTdxDir + "td-quote.bin"));
    const json q = load(test::vector_path(kTdxDir + "tpm-quote-v1.json"));
    ev.quote_attest = hex_bytes(q.at("message"));
    ev.quote_signature = hex_bytes(q.at("signature"));
    for (uint32_t i = 0; i < 24; ++i) ev.pcrs[crypto::HashAlg::sha256][i] = hex_bytes(q.at("pcrs")[i]);
    return ev;
  }

  static void expect_reason(const Result<VerifiedCvmAttestation>& r, const std::string& reason,
                            const std::string& needle = "") {
    ASSERT_FALSE(r.ok()) << "expected reason " << reason;
    EXPECT_EQ(r.error().reason, reason) << r.error().message;
    if (!needle.empty()) {
      EXPECT_NE(r.error().message.find(needle), std::string::npos) << r.error().message;
    }
  }

  json snp_expected, tdx_expected;
};

void expect_snp_claims(const VerifiedCvmAttestation& v, const std::string& pcr0, const std::string& nonce_hex) {
  EXPECT_EQ(v.type(), CvmEvidenceType::az_snp_vtpm);
  ASSERT_TRUE(v.snp().has_value());
  EXPECT_FALSE(v.tdx().has_value());
  const json& t = v.tee_claims();
  EXPECT_EQ(t.at("x-ms-attestation-type"), "sevsnpvm");
  for (const char* k : {"x-ms-sevsnpvm-authorkeydigest", "x-ms-sevsnpvm-bootloader-svn", "x-ms-sevsnpvm-familyId",
                        "x-ms-sevsnpvm-guestsvn", "x-ms-sevsnpvm-hostdata", "x-ms-sevsnpvm-idkeydigest",
                        "x-ms-sevsnpvm-imageId", "x-ms-sevsnpvm-is-debuggable", "x-ms-sevsnpvm-launchmeasurement",
                        "x-ms-sevsnpvm-microcode-svn", "x-ms-sevsnpvm-migration-allowed", "x-ms-sevsnpvm-reportdata",
                        "x-ms-sevsnpvm-reportid", "x-ms-sevsnpvm-smt-allowed", "x-ms-sevsnpvm-snpfw-svn",
                        "x-ms-sevsnpvm-tee-svn", "x-ms-sevsnpvm-vmpl", "x-ms-compliance-status", "x-ms-runtime"})
    EXPECT_TRUE(t.contains(k)) << k;
  const auto& r = v.snp()->report();
  EXPECT_EQ(t.at("x-ms-sevsnpvm-vmpl"), 0);
  EXPECT_EQ(t.at("x-ms-sevsnpvm-is-debuggable"), false);
  EXPECT_EQ(t.at("x-ms-sevsnpvm-launchmeasurement"), to_hex(ByteView(r.measurement.data(), r.measurement.size())));
  EXPECT_EQ(t.at("x-ms-sevsnpvm-reportdata"), to_hex(ByteView(r.report_data.data(), r.report_data.size())));
  EXPECT_EQ(t.at("x-ms-sevsnpvm-snpfw-svn"), r.reported_tcb.snp);
  EXPECT_EQ(t.at("x-ms-sevsnpvm-guestsvn"), r.guest_svn);
  // x-ms-runtime is the HCL runtime data as the report has it.
  EXPECT_EQ(t.at("x-ms-runtime"), v.hcl().runtime_json);
  EXPECT_EQ(t.at("x-ms-runtime").at("keys")[0].at("kid"), "HCLAkPub");
  // Genuine Azure reports (not debuggable, VMPL 0), but policy_at() names no
  // reference measurement, so the paravisor is not identified: not compliant.
  EXPECT_FALSE(v.compliant());
  EXPECT_EQ(t.at("x-ms-compliance-status"), "not-compliant");
  EXPECT_NE(v.compliance_detail().find("not identified"), std::string::npos) << v.compliance_detail();
  const json& p = v.vtpm_claims();
  EXPECT_EQ(p.at("x-tl-pcrs").at("sha256").at("0"), pcr0);
  EXPECT_EQ(p.at("x-tl-pcrs").at("sha256").size(), 24u);
  EXPECT_EQ(p.at("x-tl-nonce"), nonce_hex);
  EXPECT_EQ(p.at("x-ms-azurevm-vmid"), v.hcl().runtime_json.at("vm-configuration").at("vmUniqueId"));
  EXPECT_EQ(to_hex(v.quote().nonce()), nonce_hex);
}

TEST_F(CvmVerify, SnpV0AndV1WithChallenge) {
  const json& want = snp_expected.at("evidence-v0.json / evidence-v1.json");
  for (const char* f : {"evidence-v0.json", "evidence-v1.json"}) {
    SCOPED_TRACE(f);
    auto v = verify_cvm_evidence(snp(f), kChallenge, policy_at());
    ASSERT_TRUE(v.ok()) << v.error().message << " [" << v.error().reason << "]";
    expect_snp_claims(*v, want.at("claims.tpm.pcr00"), want.at("claims.report_data"));
  }
}

TEST_F(CvmVerify, SnpV2NonceIsAlsoTheUserData) {
  const json& want = snp_expected.at("evidence-v2.json");
  const Bytes nonce = hex_bytes(want.at("claims.report_data"));
  ASSERT_EQ(nonce.size(), 48u);
  auto v = verify_cvm_evidence(snp("evidence-v2.json"), nonce, policy_at());
  ASSERT_TRUE(v.ok()) << v.error().message << " [" << v.error().reason << "]";
  expect_snp_claims(*v, want.at("claims.tpm.pcr00"), want.at("claims.report_data"));
  // The HCL user-data is the report data, zero-padded to 64 bytes.
  Bytes padded = nonce;
  padded.resize(64, 0);
  EXPECT_EQ(v->hcl().runtime_json.at("user-data").get<std::string>().size(), 128u);
  EXPECT_EQ(hex_bytes(v->hcl().runtime_json.at("user-data")), padded);
  // Asked for explicitly, the same user data passes, '123abc' does not.
  CvmPolicy p = policy_at();
  p.expected_user_data = nonce;
  EXPECT_TRUE(verify_cvm_evidence(snp("evidence-v2.json"), nonce, p).ok());
  p.expected_user_data = Bytes{'1', '2', '3', 'a', 'b', 'c'};
  expect_reason(verify_cvm_evidence(snp("evidence-v2.json"), nonce, p), "hcl-user-data-mismatch", "doesn't match");
}

TEST_F(CvmVerify, SnpV2UserDataIsCheckedAgainstTheNonce) {
  // v1 evidence has zero user-data: asking for any other user data fails.
  CvmPolicy p = policy_at();
  p.expected_user_data = Bytes{'1', '2', '3', 'a', 'b', 'c'};
  expect_reason(verify_cvm_evidence(snp("evidence-v1.json"), kChallenge, p), "hcl-user-data-mismatch");
  // v2 evidence whose user-data is not the nonce: refused even though the
  // vTPM quote is checked too (here it is the user-data check that speaks first).
  CvmEvidence ev = snp("evidence-v2.json");
  ev.version = 2;
  expect_reason(verify_cvm_evidence(ev, kChallenge, policy_at()), "hcl-user-data-mismatch",
                "User-data in HCL variable data doesn't match report_data");
  // The same bytes presented as v1 evidence skip the user-data rule and fail
  // only where the nonce really differs: the vTPM quote.
  ev.version = 1;
  expect_reason(verify_cvm_evidence(ev, kChallenge, policy_at()), "quote-nonce");
}

TEST_F(CvmVerify, SnpGenoa) {
  const json& want = snp_expected.at("evidence-genoa.json");
  // The report data is named in the key: "evaluate(report_data=0218488b...5d950f)";
  // the full nonce is the vTPM quote's extraData, checked against the quote here.
  CvmEvidence ev = snp("evidence-genoa.json");
  std::string key;
  for (const auto& [k, _] : want.items())
    if (k.rfind("evaluate(report_data=", 0) == 0) key = k;
  ASSERT_FALSE(key.empty());
  const std::string head = key.substr(std::string("evaluate(report_data=").size(), 8);
  const std::string tail = key.substr(key.size() - 7, 6);
  // expected.json abbreviates it, so read it from the TPMS_ATTEST (extraData
  // after magic, type and qualifiedSigner) and check it against the abbreviation.
  ASSERT_GT(ev.quote_attest.size(), 10u);
  const size_t signer = (size_t{ev.quote_attest[6]} << 8) | ev.quote_attest[7];
  const size_t at = 8 + signer;
  const size_t n = (size_t{ev.quote_attest[at]} << 8) | ev.quote_attest[at + 1];
  const Bytes nonce(ev.quote_attest.begin() + static_cast<std::ptrdiff_t>(at + 2),
                    ev.quote_attest.begin() + static_cast<std::ptrdiff_t>(at + 2 + n));
  ASSERT_EQ(to_hex(nonce).substr(0, 8), head);
  ASSERT_EQ(to_hex(nonce).substr(to_hex(nonce).size() - 6), tail);
  auto v = verify_cvm_evidence(ev, nonce, policy_at());
  ASSERT_TRUE(v.ok()) << v.error().message << " [" << v.error().reason << "]";
  expect_snp_claims(*v, want.at("claims.tpm.pcr00"), to_hex(nonce));
  EXPECT_EQ(v->tee_claims().at("x-tl-sevsnpvm-product"), "Genoa");
}

TEST_F(CvmVerify, SnpWrongNonceIsRefused) {
  Bytes reversed(kChallenge.rbegin(), kChallenge.rend());
  expect_reason(verify_cvm_evidence(snp("evidence-v1.json"), reversed, policy_at()), "quote-nonce");
  expect_reason(verify_cvm_evidence(snp("evidence-v1.json"), Bytes{}, policy_at()), "quote-nonce");
}

TEST_F(CvmVerify, SnpQuoteSignatureIsChecked) {
  CvmEvidence ev = snp("evidence-v1.json");
  ev.quote_signature[0] ^= 1;
  expect_reason(verify_cvm_evidence(ev, kChallenge, policy_at()), "quote-signature");
  // Another VM's quote (the TDX vector's, made by another vTPM AK) is not this AK's.
  CvmEvidence other = snp("evidence-v1.json");
  const CvmEvidence t = tdx("evidence-v1.json");
  other.quote_attest = t.quote_attest;
  other.quote_signature = t.quote_signature;
  other.pcrs = t.pcrs;
  expect_reason(verify_cvm_evidence(other, kChallenge, policy_at()), "quote-signature");
}

TEST_F(CvmVerify, SnpQuoteSignatureAsTpmtSignatureIsAccepted) {
  CvmEvidence ev = snp("evidence-v1.json");
  Bytes tpmt = {0x00, 0x14, 0x00, 0x0B, 0x01, 0x00};  // RSASSA, SHA-256, 256 bytes
  tpmt.insert(tpmt.end(), ev.quote_signature.begin(), ev.quote_signature.end());
  ev.quote_signature = tpmt;
  EXPECT_TRUE(verify_cvm_evidence(ev, kChallenge, policy_at()).ok());
  ev.quote_signature[1] = 0x16;  // claimed RSAPSS: the PKCS#1 v1.5 signature does not verify
  EXPECT_FALSE(verify_cvm_evidence(ev, kChallenge, policy_at()).ok());
}

TEST_F(CvmVerify, SnpPcrsAreChecked) {
  CvmEvidence ev = snp("evidence-v1.json");
  ev.pcrs[crypto::HashAlg::sha256][0][0] ^= 1;
  expect_reason(verify_cvm_evidence(ev, kChallenge, policy_at()), "quote-pcr-digest");
  // A PCR the quote selects without a value.
  ev = snp("evidence-v1.json");
  ev.pcrs[crypto::HashAlg::sha256].erase(23);
  expect_reason(verify_cvm_evidence(ev, kChallenge, policy_at()), "quote-pcr-values");
  ev.pcrs.clear();
  expect_reason(verify_cvm_evidence(ev, kChallenge, policy_at()), "evidence-malformed");
}

TEST_F(CvmVerify, SnpRuntimeDataMustBeBound) {
  CvmEvidence ev = snp("evidence-v0.json");
  ev.hcl_report[0x06e0] += 1;  // upstream's mutation: inside the runtime data, still JSON
  expect_reason(verify_cvm_evidence(ev, kChallenge, policy_at()), "hcl-report-data-mismatch",
                "SEV-SNP report data mismatch");
}

TEST_F(CvmVerify, SnpReportAndVcekAreChecked) {
  CvmEvidence ev = snp("evidence-v1.json");
  ev.hcl_report[32 + 0x90] ^= 1;  // MEASUREMENT: the VCEK's signature no longer holds
  auto r = verify_cvm_evidence(ev, kChallenge, policy_at());
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().reason, "snp-signature-invalid") << r.error().message;
  // The Genoa VCEK does not certify a Milan report.
  ev = snp("evidence-v1.json");
  ev.vcek = snp("evidence-genoa.json").vcek;
  r = verify_cvm_evidence(ev, kChallenge, policy_at());
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().reason.rfind("snp-", 0), 0u) << r.error().reason << ": " << r.error().message;
  // Another Milan VCEK (the v2 evidence's) does not either.
  ev = snp("evidence-v1.json");
  ev.vcek = snp("evidence-v2.json").vcek;
  r = verify_cvm_evidence(ev, kChallenge, policy_at());
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().reason.rfind("snp-", 0), 0u) << r.error().reason << ": " << r.error().message;
  // Its own VCEK with a damaged signature (the last bytes of the DER): the chain breaks.
  ev = snp("evidence-v1.json");
  ev.vcek[ev.vcek.size() - 10] ^= 1;
  r = verify_cvm_evidence(ev, kChallenge, policy_at());
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().reason, "snp-chain-invalid") << r.error().message;
  ev.vcek.clear();
  expect_reason(verify_cvm_evidence(ev, kChallenge, policy_at()), "snp-vcek-missing");
}

TEST_F(CvmVerify, SnpCertificatesAreCheckedAtTheGivenTime) {
  CvmPolicy p;
  p.at = 1704067200;  // 2024-01-01: before the VCEK's notBefore (2025-01-28)
  auto r = verify_cvm_evidence(snp("evidence-v1.json"), kChallenge, p);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().reason, "snp-chain-invalid") << r.error().message;
}

TEST_F(CvmVerify, SnpVerifierCacheGivesTheSameVerdicts) {
  tee::SnpVerifier cache;
  CvmPolicy p = policy_at();
  p.snp_verifier = &cache;
  for (int i = 0; i < 2; ++i) {
    auto v = verify_cvm_evidence(snp("evidence-v1.json"), kChallenge, p);
    ASSERT_TRUE(v.ok()) << v.error().message;
    CvmEvidence bad = snp("evidence-v1.json");
    bad.hcl_report[32 + 0x90] ^= 1;
    EXPECT_EQ(verify_cvm_evidence(bad, kChallenge, p).error().reason, "snp-signature-invalid");
  }
}

TEST_F(CvmVerify, HardwareMustMatchTheEvidenceType) {
  CvmEvidence ev = snp("evidence-v1.json");
  ev.type = CvmEvidenceType::az_tdx_vtpm;
  expect_reason(verify_cvm_evidence(ev, kChallenge, policy_at()), "hcl-hardware-mismatch");
  CvmEvidence t = tdx("evidence-v1.json");
  t.type = CvmEvidenceType::az_snp_vtpm;
  expect_reason(verify_cvm_evidence(t, kChallenge, policy_at()), "hcl-hardware-mismatch");
  ev = snp("evidence-v1.json");
  ev.hcl_report.resize(100);
  expect_reason(verify_cvm_evidence(ev, kChallenge, policy_at()), "hcl-report-malformed");
}

// A debug-policy (or VMPL > 0) SEV-SNP report with a genuine AMD signature is
// not something we can produce, so the compliance rule is tested on the claims
// builder with the verified report's contents, changed.
TEST_F(CvmVerify, SnpDebugGuestIsNeverCompliant) {
  auto v = verify_cvm_evidence(snp("evidence-v1.json"), kChallenge, policy_at());
  ASSERT_TRUE(v.ok()) << v.error().message;
  tee::SnpReport r = v->snp()->report();
  CvmPolicy p = policy_at();
  p.snp_launch_measurements.push_back(Bytes(r.measurement.begin(), r.measurement.end()));
  EXPECT_TRUE(detail::snp_compliance(r, p).compliant);
  r.policy.debug_allowed = true;
  auto c = detail::snp_compliance(r, p);
  EXPECT_FALSE(c.compliant);
  EXPECT_NE(c.detail.find("debug"), std::string::npos) << c.detail;
  json claims = detail::snp_tee_claims(r, v->hcl(), c);
  EXPECT_EQ(claims.at("x-ms-compliance-status"), "not-compliant");
  EXPECT_EQ(claims.at("x-ms-sevsnpvm-is-debuggable"), true);
  EXPECT_EQ(claims.at("x-tl-compliance-detail"), c.detail);
  r = v->snp()->report();
  r.vmpl = 2;
  c = detail::snp_compliance(r, p);
  EXPECT_FALSE(c.compliant);
  EXPECT_NE(c.detail.find("VMPL 2"), std::string::npos) << c.detail;
}

// Outside Azure a guest kernel may itself run at VMPL 0 and write any "HCL"
// runtime data into a genuine report, so only a listed launch measurement or
// ID key digest makes a report compliant.
TEST_F(CvmVerify, SnpComplianceNeedsAReferenceMeasurementOrIdKey) {
  CvmPolicy p = policy_at();
  auto unlisted = verify_cvm_evidence(snp("evidence-v1.json"), kChallenge, p);
  ASSERT_TRUE(unlisted.ok()) << unlisted.error().message;
  EXPECT_FALSE(unlisted->compliant());
  const auto& r = unlisted->snp()->report();
  Bytes measurement(r.measurement.begin(), r.measurement.end());
  Bytes other = measurement;
  other[0] ^= 1;
  p.snp_launch_measurements = {other};
  EXPECT_FALSE(verify_cvm_evidence(snp("evidence-v1.json"), kChallenge, p)->compliant());
  p.snp_launch_measurements = {other, measurement};
  auto listed = verify_cvm_evidence(snp("evidence-v1.json"), kChallenge, p);
  ASSERT_TRUE(listed.ok()) << listed.error().message;
  EXPECT_TRUE(listed->compliant()) << listed->compliance_detail();
  EXPECT_EQ(listed->tee_claims().at("x-ms-compliance-status"), "azure-compliant-cvm");
  // The ID key digest (Azure signs its paravisor's ID block) also identifies it,
  // unless it is all zero (no ID block: nothing was signed).
  p.snp_launch_measurements.clear();
  p.snp_id_key_digests = {Bytes(r.id_key_digest.begin(), r.id_key_digest.end())};
  const bool id_key_present =
      std::any_of(r.id_key_digest.begin(), r.id_key_digest.end(), [](uint8_t b) { return b != 0; });
  EXPECT_EQ(verify_cvm_evidence(snp("evidence-v1.json"), kChallenge, p)->compliant(), id_key_present);
  tee::SnpReport no_id = r;
  no_id.id_key_digest.fill(0);
  p.snp_id_key_digests = {Bytes(48, 0)};
  EXPECT_FALSE(detail::snp_compliance(no_id, p).compliant);
}

// ---- az-tdx-vtpm ----

TEST_F(CvmVerify, TdxEvidenceWithChallenge) {
  const json& want =
      tdx_expected.at("evaluate(evidence-v0/v1, 'challenge') [#[ignore]d upstream: needs collateral service]");
  for (const char* f : {"evidence-v0.json", "evidence-v1.json"}) {
    SCOPED_TRACE(f);
    auto v = verify_cvm_evidence(tdx(f), kChallenge, policy_at());
    ASSERT_TRUE(v.ok()) << v.error().message << " [" << v.error().reason << "]";
    ASSERT_TRUE(v->tdx().has_value());
    const json& t = v->tee_claims();
    EXPECT_EQ(t.at("x-ms-attestation-type"), "tdxvm");
    const auto& body = v->tdx()->body();
    EXPECT_EQ(t.at("x-ms-tdxvm-mrtd"), to_hex(ByteView(body.mr_td.data(), body.mr_td.size())));
    EXPECT_EQ(t.at("x-ms-tdxvm-rtmr0"), to_hex(ByteView(body.rtmr[0].data(), body.rtmr[0].size())));
    EXPECT_EQ(t.at("x-ms-tdxvm-is-debuggable"), false);
    EXPECT_TRUE(t.at("x-ms-tdxvm-tcb-status").is_null());
    // MRTD not a configured reference: verified, but not compliant.
    EXPECT_FALSE(v->compliant());
    EXPECT_EQ(t.at("x-ms-compliance-status"), "not-compliant");
    EXPECT_NE(v->compliance_detail().find("cvm.tdxMrtds"), std::string::npos) << v->compliance_detail();
    // With the MRTD listed, still not compliant: no collateral, no TCB status.
    CvmPolicy p = policy_at();
    p.tdx_mrtds.push_back(Bytes(body.mr_td.begin(), body.mr_td.end()));
    auto listed = verify_cvm_evidence(tdx(f), kChallenge, p);
    ASSERT_TRUE(listed.ok()) << listed.error().message;
    EXPECT_FALSE(listed->compliant());
    EXPECT_NE(listed->compliance_detail().find("collateral"), std::string::npos) << listed->compliance_detail();
    EXPECT_EQ(v->vtpm_claims().at("x-tl-nonce"), want.at("report_data"));
    EXPECT_EQ(v->vtpm_claims().at("x-tl-pcrs").at("sha256").at("0"), want.at("tpm.pcr00"));
    EXPECT_EQ(v->vtpm_claims().at("x-ms-azurevm-vmid"), "6332533D-5649-4D02-8AA7-8F64B7C3EE21");
    EXPECT_EQ(t.at("x-ms-runtime"), v->hcl().runtime_json);
  }
}

TEST_F(CvmVerify, TdxHclAndTdQuoteBind) {
  // verify_hcl_var_data(hcl, td_quote): SHA-256(runtime data) == REPORTDATA[0:32].
  auto v = verify_cvm_evidence(tdx_from_files(), kChallenge, policy_at());
  ASSERT_TRUE(v.ok()) << v.error().message << " [" << v.error().reason << "]";
  auto quote = tee::parse_tdx_quote(test::read_file(test::vector_path(kTdxDir + "td-quote.bin")));
  ASSERT_TRUE(quote.ok());
  const auto& rd = quote->body.report_data;
  EXPECT_TRUE(tee::check_hcl_binding(v->hcl(), ByteView(rd.data(), rd.size())).passed);
}

TEST_F(CvmVerify, TdxRuntimeDataChangeIsAReportDataMismatch) {
  CvmEvidence ev = tdx_from_files();
  ev.hcl_report[0x0880] += 1;
  expect_reason(verify_cvm_evidence(ev, kChallenge, policy_at()), "hcl-report-data-mismatch",
                "TDX Quote report data mismatch");
}

TEST_F(CvmVerify, TdxTdReportMustBeTheQuotedTd) {
  // TDINFO starts at 512 in the TDREPORT: ATTRIBUTES, XFAM, then MRTD at 528.
  CvmEvidence ev = tdx_from_files();
  ev.hcl_report[32 + 528] ^= 1;
  expect_reason(verify_cvm_evidence(ev, kChallenge, policy_at()), "hcl-tdreport-mismatch", "MRTD");
  // RTMR3 (TDINFO + 16 + 4*48 + 3*48 = 528 + 48*7).
  ev = tdx_from_files();
  ev.hcl_report[32 + 528 + 48 * 7] ^= 1;
  expect_reason(verify_cvm_evidence(ev, kChallenge, policy_at()), "hcl-tdreport-mismatch", "RTMR3");
}

TEST_F(CvmVerify, TdxTpmQuoteSignatureNonceAndPcrs) {
  EXPECT_TRUE(verify_cvm_evidence(tdx_from_files(), kChallenge, policy_at()).ok());
  CvmEvidence ev = tdx_from_files();
  ev.quote_signature[0] ^= 1;
  expect_reason(verify_cvm_evidence(ev, kChallenge, policy_at()), "quote-signature");
  Bytes reversed(kChallenge.rbegin(), kChallenge.rend());
  expect_reason(verify_cvm_evidence(tdx_from_files(), reversed, policy_at()), "quote-nonce");
  ev = tdx_from_files();
  ev.pcrs[crypto::HashAlg::sha256][0][0] ^= 1;
  expect_reason(verify_cvm_evidence(ev, kChallenge, policy_at()), "quote-pcr-digest");
}

TEST_F(CvmVerify, TdxQuoteIsChecked) {
  CvmEvidence ev = tdx_from_files();
  ev.td_quote.clear();
  expect_reason(verify_cvm_evidence(ev, kChallenge, policy_at()), "tdx-quote-missing");
  ev = tdx_from_files();
  ev.td_quote.resize(100);
  auto r = verify_cvm_evidence(ev, kChallenge, policy_at());
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().reason, "tdx-quote-malformed") << r.error().message;
  // A changed byte of the signed TD body (MRTD at 0x30 + 136 + ...): the
  // attestation key's signature fails.
  ev = tdx_from_files();
  ev.td_quote[48 + 200] ^= 1;
  r = verify_cvm_evidence(ev, kChallenge, policy_at());
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().reason, "tdx-signature-invalid") << r.error().message;
}

TEST_F(CvmVerify, TdxComplianceRule) {
  auto v = verify_cvm_evidence(tdx_from_files(), kChallenge, policy_at());
  ASSERT_TRUE(v.ok()) << v.error().message;
  tee::TdQuoteBody body = v->tdx()->body();
  CvmPolicy p;  // UpToDate only
  EXPECT_FALSE(detail::tdx_compliance(body, tee::TdxTcbStatus::up_to_date, p).compliant);  // MRTD not listed
  p.tdx_mrtds.push_back(Bytes(body.mr_td.begin(), body.mr_td.end()));
  EXPECT_TRUE(detail::tdx_compliance(body, tee::TdxTcbStatus::up_to_date, p).compliant);
  auto c = detail::tdx_compliance(body, tee::TdxTcbStatus::out_of_date, p);
  EXPECT_FALSE(c.compliant);
  EXPECT_NE(c.detail.find("OutOfDate"), std::string::npos) << c.detail;
  p.tdx_compliant_tcb.push_back(tee::TdxTcbStatus::out_of_date);
  EXPECT_TRUE(detail::tdx_compliance(body, tee::TdxTcbStatus::out_of_date, p).compliant);
  EXPECT_FALSE(detail::tdx_compliance(body, std::nullopt, p).compliant);
  // A debuggable TD is never compliant, whatever the TCB.
  body.td_attributes |= 1;
  c = detail::tdx_compliance(body, tee::TdxTcbStatus::up_to_date, p);
  EXPECT_FALSE(c.compliant);
  EXPECT_NE(c.detail.find("debuggable"), std::string::npos) << c.detail;
  const json claims = detail::tdx_tee_claims(body, tee::TdxTcbStatus::up_to_date, {}, "", v->hcl(), c);
  EXPECT_EQ(claims.at("x-ms-compliance-status"), "not-compliant");
  EXPECT_EQ(claims.at("x-ms-tdxvm-is-debuggable"), true);
  EXPECT_EQ(claims.at("x-ms-tdxvm-tcb-status"), "UpToDate");
}

}  // namespace
}  // namespace tl::verify
