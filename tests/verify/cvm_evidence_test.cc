// decode_cvm_evidence over Trustee's recorded az-snp-vtpm / az-tdx-vtpm
// encodings, and its refusals.
#include <gtest/gtest.h>

#include <string>

#include "support/test_support.h"
#include "token/base64url.h"
#include "verify/cvm.h"

namespace tl::verify {
namespace {

using json = nlohmann::json;

const std::string kSnpDir = "cvm/trustee-az-snp-vtpm-evidence/";
const std::string kTdxDir = "cvm/trustee-az-tdx-vtpm/";

json load(const std::filesystem::path& p) { return json::parse(test::read_text(p)); }

// expected.json entry by id (the upstream-asserted results).
json expected(const std::string& id) {
  const auto p = test::vector_path("cvm/expected.json");
  if (p.empty()) return json();
  for (const auto& e : load(p))
    if (e.at("id") == id) return e.at("expected");
  return json();
}

void expect_malformed(const json& j, CvmEvidenceType t, const std::string& needle) {
  auto r = decode_cvm_evidence(j, t);
  ASSERT_FALSE(r.ok()) << "expected an error containing '" << needle << "'";
  EXPECT_EQ(r.error().reason, "evidence-malformed") << r.error().message;
  EXPECT_NE(r.error().message.find(needle), std::string::npos) << r.error().message;
}

TEST(CvmEvidenceType, NamesRoundTrip) {
  for (auto t : {CvmEvidenceType::az_snp_vtpm, CvmEvidenceType::az_tdx_vtpm})
    EXPECT_EQ(cvm_evidence_type_from_name(cvm_evidence_type_name(t)), t);
  EXPECT_EQ(cvm_evidence_type_name(CvmEvidenceType::az_snp_vtpm), "az-snp-vtpm");
  EXPECT_EQ(cvm_evidence_type_name(CvmEvidenceType::az_tdx_vtpm), "az-tdx-vtpm");
  EXPECT_FALSE(cvm_evidence_type_from_name("az-snp").has_value());
  EXPECT_FALSE(cvm_evidence_type_from_name("AZ-SNP-VTPM").has_value());
}

TEST(CvmEvidenceDecode, SnpV0ByteArraysAndPemVcek) {
  TL_REQUIRE_VECTOR(path, kSnpDir + "evidence-v0.json");
  const json j = load(path);
  auto ev = decode_cvm_evidence(j, CvmEvidenceType::az_snp_vtpm);
  ASSERT_TRUE(ev.ok()) << ev.error().message;
  EXPECT_EQ(ev->version, 0u);
  EXPECT_EQ(ev->hcl_report, j.at("report").get<Bytes>());
  EXPECT_EQ(ev->quote_attest, j.at("quote").at("message").get<Bytes>());
  EXPECT_EQ(ev->quote_signature.size(), 256u);
  // The PEM became the DER certificate.
  ASSERT_GT(ev->vcek.size(), 4u);
  EXPECT_EQ(ev->vcek[0], 0x30);
  EXPECT_TRUE(ev->td_quote.empty());
  const auto& bank = ev->pcrs.at(crypto::HashAlg::sha256);
  ASSERT_EQ(bank.size(), 24u);
  for (uint32_t i = 0; i < 24; ++i) EXPECT_EQ(bank.at(i), j.at("quote").at("pcrs")[i].get<Bytes>()) << i;
  const json want = expected("trustee-az-snp-vtpm-evidence");
  if (!want.is_null()) {
    EXPECT_EQ(to_hex(bank.at(0)), want.at("evidence-v0.json / evidence-v1.json").at("claims.tpm.pcr00"));
  }
}

TEST(CvmEvidenceDecode, SnpV1HexAndBase64Url) {
  TL_REQUIRE_VECTOR(path, kSnpDir + "evidence-v1.json");
  const json j = load(path);
  auto ev = decode_cvm_evidence(j, CvmEvidenceType::az_snp_vtpm);
  ASSERT_TRUE(ev.ok()) << ev.error().message;
  EXPECT_EQ(ev->version, 1u);
  EXPECT_EQ(to_hex(ev->quote_attest), j.at("tpm_quote").at("message").get<std::string>());
  EXPECT_EQ(to_hex(ev->quote_signature), j.at("tpm_quote").at("signature").get<std::string>());
  EXPECT_EQ(ev->hcl_report.size(), 2600u);
  EXPECT_EQ(ev->hcl_report[0], 'H');
  // The padded base64url VCEK is a DER certificate.
  ASSERT_FALSE(ev->vcek.empty());
  EXPECT_EQ(ev->vcek[0], 0x30);
  const auto& bank = ev->pcrs.at(crypto::HashAlg::sha256);
  for (uint32_t i = 0; i < 24; ++i) EXPECT_EQ(to_hex(bank.at(i)), j.at("tpm_quote").at("pcrs")[i]) << i;
}

TEST(CvmEvidenceDecode, SnpV2AndGenoa) {
  TL_REQUIRE_VECTOR(v2, kSnpDir + "evidence-v2.json");
  TL_REQUIRE_VECTOR(genoa, kSnpDir + "evidence-genoa.json");
  auto ev2 = decode_cvm_evidence(load(v2), CvmEvidenceType::az_snp_vtpm);
  ASSERT_TRUE(ev2.ok()) << ev2.error().message;
  EXPECT_EQ(ev2->version, 2u);
  auto evg = decode_cvm_evidence(load(genoa), CvmEvidenceType::az_snp_vtpm);
  ASSERT_TRUE(evg.ok()) << evg.error().message;
  EXPECT_EQ(evg->version, 0u);
  const json want = expected("trustee-az-snp-vtpm-evidence");
  if (!want.is_null()) {
    EXPECT_EQ(to_hex(ev2->pcrs.at(crypto::HashAlg::sha256).at(0)), want.at("evidence-v2.json").at("claims.tpm.pcr00"));
    EXPECT_EQ(to_hex(evg->pcrs.at(crypto::HashAlg::sha256).at(0)),
              want.at("evidence-genoa.json").at("claims.tpm.pcr00"));
  }
  // Genoa's PEM VCEK is the one Trustee ships beside it.
  TL_REQUIRE_VECTOR(pem, kSnpDir + "vcek-genoa.pem");
  const std::string text = test::read_text(pem);
  auto again = decode_cvm_evidence(json{{"quote", load(genoa).at("quote")}, {"report", load(genoa).at("report")},
                                        {"vcek", text}},
                                   CvmEvidenceType::az_snp_vtpm);
  ASSERT_TRUE(again.ok()) << again.error().message;
  EXPECT_EQ(again->vcek, evg->vcek);
}

TEST(CvmEvidenceDecode, TdxV0AndV1AreTheSameEvidence) {
  TL_REQUIRE_VECTOR(v0, kTdxDir + "evidence-v0.json");
  TL_REQUIRE_VECTOR(v1, kTdxDir + "evidence-v1.json");
  TL_REQUIRE_VECTOR(hcl, kTdxDir + "hcl-report.bin");
  TL_REQUIRE_VECTOR(tdq, kTdxDir + "td-quote.bin");
  auto e0 = decode_cvm_evidence(load(v0), CvmEvidenceType::az_tdx_vtpm);
  ASSERT_TRUE(e0.ok()) << e0.error().message;
  auto e1 = decode_cvm_evidence(load(v1), CvmEvidenceType::az_tdx_vtpm);
  ASSERT_TRUE(e1.ok()) << e1.error().message;
  EXPECT_EQ(e1->version, 1u);
  EXPECT_EQ(e0->hcl_report, test::read_file(hcl));
  EXPECT_EQ(e1->hcl_report, test::read_file(hcl));
  EXPECT_EQ(e0->td_quote, test::read_file(tdq));
  EXPECT_EQ(e1->td_quote, test::read_file(tdq));
  EXPECT_TRUE(e1->vcek.empty());
  const json want = expected("trustee-az-tdx-vtpm");
  if (!want.is_null()) {
    const auto pcr0 = want.at("evaluate(evidence-v0/v1, 'challenge') [#[ignore]d upstream: needs collateral service]")
                          .at("tpm.pcr00");
    EXPECT_EQ(to_hex(e0->pcrs.at(crypto::HashAlg::sha256).at(0)), pcr0);
    EXPECT_EQ(to_hex(e1->pcrs.at(crypto::HashAlg::sha256).at(0)), pcr0);
  }
}

TEST(CvmEvidenceDecode, TdxTpmQuoteFileMatchesTheEvidence) {
  TL_REQUIRE_VECTOR(v1, kTdxDir + "evidence-v1.json");
  TL_REQUIRE_VECTOR(q, kTdxDir + "tpm-quote-v1.json");
  EXPECT_EQ(load(q), load(v1).at("tpm_quote"));
}

class CvmEvidenceRefusals : public ::testing::Test {
 protected:
  void SetUp() override {
    const auto p1 = test::vector_path(kSnpDir + "evidence-v1.json");
    const auto p0 = test::vector_path(kSnpDir + "evidence-v0.json");
    const auto t1 = test::vector_path(kTdxDir + "evidence-v1.json");
    if (p1.empty() || p0.empty() || t1.empty()) GTEST_SKIP() << "cvm vectors not found (set TL_SHARED_DIR)";
    snp_v1 = load(p1);
    snp_v0 = load(p0);
    tdx_v1 = load(t1);
  }
  json snp_v1, snp_v0, tdx_v1;
  static constexpr auto kSnp = CvmEvidenceType::az_snp_vtpm;
  static constexpr auto kTdx = CvmEvidenceType::az_tdx_vtpm;
};

TEST_F(CvmEvidenceRefusals, StructureAndMembers) {
  expect_malformed(json::array(), kSnp, "evidence: expected object, got array");
  json j = snp_v1;
  j["extra"] = 1;
  expect_malformed(j, kSnp, "extra: unknown member");
  j = snp_v1;
  j.erase("vcek");
  expect_malformed(j, kSnp, "vcek: missing");
  j = snp_v1;
  j["tpm_quote"]["nonce"] = "00";
  expect_malformed(j, kSnp, "tpm_quote.nonce: unknown member");
  j = snp_v1;
  j["tpm_quote"] = "x";
  expect_malformed(j, kSnp, "tpm_quote: expected object, got string");
  // SNP evidence is not TDX evidence (vcek instead of td_quote) and vice versa.
  expect_malformed(snp_v1, kTdx, "vcek: unknown member");
  expect_malformed(tdx_v1, kSnp, "td_quote: unknown member");
  expect_malformed(snp_v0, kTdx, "quote: unknown member");
}

TEST_F(CvmEvidenceRefusals, Versions) {
  json j = snp_v1;
  j["version"] = 3;
  expect_malformed(j, kSnp, "version: 3 is not a known az-snp-vtpm evidence version");
  j["version"] = "1";
  expect_malformed(j, kSnp, "version: expected integer, got string");
  j["version"] = -1;
  expect_malformed(j, kSnp, "version: negative");
  j = tdx_v1;
  j["version"] = 2;  // TDX has no v2
  expect_malformed(j, kTdx, "version: 2 is not a known az-tdx-vtpm evidence version");
}

TEST_F(CvmEvidenceRefusals, HexAndBase64) {
  json j = snp_v1;
  j["tpm_quote"]["signature"] = "0xab";
  expect_malformed(j, kSnp, "tpm_quote.signature: character 1 is not hex");
  j = snp_v1;
  j["tpm_quote"]["message"] = "abc";
  expect_malformed(j, kSnp, "tpm_quote.message: odd number of hex digits");
  j = snp_v1;
  j["tpm_quote"]["message"] = "";
  expect_malformed(j, kSnp, "tpm_quote.message: empty");
  j = snp_v1;
  j["tpm_quote"]["message"] = std::string(2 * 2049, 'a');
  expect_malformed(j, kSnp, "tpm_quote.message: 2049 bytes exceed 2048");
  j = snp_v1;
  j["hcl_report"] = "SENMQQ+/";
  expect_malformed(j, kSnp, "hcl_report");
  j = snp_v1;
  j["hcl_report"] = "SENMQQ===";  // three '=' are never right
  expect_malformed(j, kSnp, "hcl_report: bad base64url padding");
  j = snp_v1;
  j["hcl_report"] = "SENMQQ=";  // 7 characters: not whole groups
  expect_malformed(j, kSnp, "hcl_report: bad base64url padding");
  j = snp_v1;
  j["hcl_report"] = "SENMQQ";  // unpadded is accepted
  auto ok = decode_cvm_evidence(j, kSnp);
  ASSERT_TRUE(ok.ok()) << ok.error().message;
  EXPECT_EQ(ok->hcl_report, (Bytes{'H', 'C', 'L', 'A'}));
  j = snp_v1;
  j["vcek"] = "";
  expect_malformed(j, kSnp, "vcek: empty");
  j = tdx_v1;
  j["td_quote"] = 17;
  expect_malformed(j, kTdx, "td_quote: expected base64url string, got integer");
}

TEST_F(CvmEvidenceRefusals, Pcrs) {
  json j = snp_v1;
  j["tpm_quote"]["pcrs"].erase(23);
  expect_malformed(j, kSnp, "tpm_quote.pcrs: 23 values, expected 24");
  j = snp_v1;
  j["tpm_quote"]["pcrs"][5] = std::string(62, '0');
  expect_malformed(j, kSnp, "tpm_quote.pcrs[5]: 31 bytes, expected 32");
  j = snp_v1;
  j["tpm_quote"]["pcrs"][7] = std::string(66, '0');
  expect_malformed(j, kSnp, "tpm_quote.pcrs[7]: 33 bytes exceed 32");
  j = snp_v1;
  j["tpm_quote"]["pcrs"] = json::object();
  expect_malformed(j, kSnp, "tpm_quote.pcrs: expected array, got object");
  j = snp_v0;
  j["quote"]["pcrs"][3][0] = 256;
  expect_malformed(j, kSnp, "quote.pcrs[3][0]: not a byte");
  j = snp_v0;
  j["quote"]["pcrs"][3][0] = -1;
  expect_malformed(j, kSnp, "quote.pcrs[3][0]: not a byte");
  j = snp_v0;
  j["quote"]["pcrs"][3][0] = 1.5;
  expect_malformed(j, kSnp, "quote.pcrs[3][0]: not a byte");
}

TEST_F(CvmEvidenceRefusals, ByteArraysAndPem) {
  json j = snp_v0;
  j["report"] = "SENMQQ";
  expect_malformed(j, kSnp, "report: expected array of bytes, got string");
  j = snp_v0;
  j["report"] = json::array();
  expect_malformed(j, kSnp, "report: empty");
  j = snp_v0;
  j["vcek"] = "MIIFQzCC";
  expect_malformed(j, kSnp, "vcek: not a PEM certificate");
  j = snp_v0;
  j["vcek"] = "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n";
  expect_malformed(j, kSnp, "vcek");
  j = snp_v0;
  j["vcek"] = snp_v0.at("vcek").get<std::string>() + snp_v0.at("vcek").get<std::string>();
  expect_malformed(j, kSnp, "vcek: 2 certificates, expected the VCEK alone");
  j = snp_v0;
  j["quote"]["signature"] = json::array();
  expect_malformed(j, kSnp, "quote.signature: empty");
  // Built in code, integers are stored signed: still bytes.
  j = snp_v0;
  j["report"] = json::array({72, 67, 76, 65});
  auto ok = decode_cvm_evidence(j, kSnp);
  ASSERT_TRUE(ok.ok()) << ok.error().message;
  EXPECT_EQ(ok->hcl_report, (Bytes{'H', 'C', 'L', 'A'}));
}

}  // namespace
}  // namespace tl::verify
