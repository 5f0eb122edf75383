// TDX quote verification without collateral: the vector quotes verify; every
// signature, binding and chain check fails on its own mutation with its reason.
#include <gtest/gtest.h>

#include <openssl/evp.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <string>

#include "crypto/cert_chain.h"
#include "crypto/digest.h"
#include "support/test_support.h"
#include "tdx_test_util.h"
#include "tee/tdx_anchors.h"
#include "tee/tdx_pki.h"
#include "tee/tdx_verify.h"

namespace tl::tee {
namespace {

using namespace testutil;

constexpr int64_t k2024_06_01 = 1717200000;

// A self-signed P-256 certificate made here with OpenSSL, subject CN `cn`
// (none when empty) and an optional second CN; no extensions.
Bytes self_signed_cert(const std::string& cn, const std::string& second_cn = "") {
  EVP_PKEY* key = EVP_EC_gen("P-256");
  X509* x = X509_new();
  EXPECT_NE(key, nullptr);
  X509_set_version(x, 2);
  ASN1_INTEGER_set(X509_get_serialNumber(x), 1);
  X509_gmtime_adj(X509_getm_notBefore(x), 0);
  X509_gmtime_adj(X509_getm_notAfter(x), 3600);
  X509_set_pubkey(x, key);
  X509_NAME* name = X509_get_subject_name(x);
  X509_NAME_add_entry_by_txt(name, "O", MBSTRING_ASC, reinterpret_cast<const unsigned char*>("Intel Corporation"),
                             -1, -1, 0);
  if (!cn.empty())
    X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, reinterpret_cast<const unsigned char*>(cn.c_str()), -1, -1,
                               0);
  if (!second_cn.empty())
    X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, reinterpret_cast<const unsigned char*>(second_cn.c_str()),
                               -1, -1, 0);
  X509_set_issuer_name(x, name);
  EXPECT_GT(X509_sign(x, key, EVP_sha256()), 0);
  unsigned char* der = nullptr;
  const int len = i2d_X509(x, &der);
  Bytes out(der, der + (len > 0 ? len : 0));
  OPENSSL_free(der);
  X509_free(x);
  EVP_PKEY_free(key);
  return out;
}

std::string der_to_pem(const Bytes& der) {
  std::string b64(4 * ((der.size() + 2) / 3) + 1, '\0');
  const int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(b64.data()), der.data(), static_cast<int>(der.size()));
  b64.resize(static_cast<size_t>(n));
  std::string pem = "-----BEGIN CERTIFICATE-----\n";
  for (size_t i = 0; i < b64.size(); i += 64) pem += b64.substr(i, 64) + "\n";
  return pem + "-----END CERTIFICATE-----\n";
}

const Check* find_check(const TdxQuoteCheck& r, const std::string& name) {
  for (const auto& c : r.checks)
    if (c.name == name) return &c;
  return nullptr;
}

// The named check failed with `reason`, and the quote did not verify.
void expect_failed(const TdxQuoteCheck& r, const std::string& name, const std::string& reason) {
  EXPECT_FALSE(r.ok());
  const Check* c = find_check(r, name);
  ASSERT_NE(c, nullptr) << "no check " << name;
  EXPECT_FALSE(c->passed) << name << ": " << c->detail;
  EXPECT_EQ(c->reason, reason) << c->detail;
}

TEST(TdxVerify, V5SampleVerifiesWithoutCollateralOn20260203) {
  TL_REQUIRE_VECTOR(path, kV5Quote);
  const Bytes raw = tl::test::read_file(path);
  TdxVerifyOptions o;
  o.at = k2026_02_03;
  auto r = check_tdx_quote(raw, o);
  for (const auto& c : r.checks) EXPECT_TRUE(c.passed) << c.name << ": " << c.detail;
  ASSERT_TRUE(r.ok());
  for (const char* name : {"parse", "header.qe_vendor_id", "pck_chain", "pck_leaf.sgx_extensions",
                           "qe_report.signature", "qe_report.identity", "qe_report.binding", "signature"})
    EXPECT_NE(find_check(r, name), nullptr) << name;
  EXPECT_FALSE(r.verified->tcb_status().has_value());
  EXPECT_EQ(r.verified->fmspc(), "90c06f000000");
  EXPECT_FALSE(r.verified->debuggable());
  auto v = verify_tdx_quote(raw, o);
  ASSERT_TRUE(v.ok()) << v.error().message;
  EXPECT_EQ(v->body().mr_td, r.parsed->body.mr_td);
}

TEST(TdxVerify, V4TrusteeQuoteVerifiesAndExposesReportData) {
  TL_REQUIRE_VECTOR(path, kV4Quote);
  TL_REQUIRE_VECTOR(hcl_path, kHclReport);
  const Bytes raw = tl::test::read_file(path);
  TdxVerifyOptions o;
  o.at = k2024_06_01;  // inside the PCK leaf's 2023-09-13 .. 2030-09-13
  auto v = verify_tdx_quote(raw, o);
  ASSERT_TRUE(v.ok()) << v.error().message;
  // The first 32 bytes of REPORTDATA are what the HCL check compares with
  // SHA-256 of the HCL runtime data; here: they equal the TDREPORT's inside
  // the HCL report (an independent copy), and are not all zero.
  const Bytes hcl = tl::test::read_file(hcl_path);
  const ByteView rd = ByteView(v->body().report_data).first(32);
  EXPECT_EQ(to_hex(rd), to_hex(ByteView(hcl).subspan(32 + 128, 32)));
  EXPECT_NE(to_hex(rd), std::string(64, '0'));
  // expected_report_data: the same 32 bytes pass, one changed byte fails.
  o.expected_report_data = Bytes(rd.begin(), rd.end());
  EXPECT_TRUE(verify_tdx_quote(raw, o).ok());
  (*o.expected_report_data)[5] ^= 1;
  expect_failed(check_tdx_quote(raw, o), "report_data", "tdx-report-data-mismatch");
  o.expected_report_data = Bytes(65, 0);
  expect_failed(check_tdx_quote(raw, o), "report_data", "tdx-report-data-mismatch");
}

// Both vector quotes come from Intel's TD QE: their QE report, read at the
// SGX REPORT offsets here (not by the parser), carries the shipped identity.
TEST(TdxVerify, VectorQuotesComeFromIntelsTdQe) {
  for (const char* v : {kV5Quote, kV4Quote}) {
    TL_REQUIRE_VECTOR(path, v);
    const Bytes raw = tl::test::read_file(path);
    const Layout l = layout(raw);
    const ByteView qe = ByteView(raw).subspan(l.qe_report_at, 384);
    EXPECT_EQ(to_hex(ByteView(raw).subspan(12, 16)), kIntelQeVendorId) << v;
    EXPECT_EQ(to_hex(qe.subspan(128, 32)), kIntelTdQeMrSigner) << v;
    EXPECT_EQ(qe[256] | (qe[257] << 8), kIntelTdQeIsvProdId) << v;
    EXPECT_EQ(to_hex(qe.subspan(48, 16)), "1500000000000000e700000000000000") << v;  // not DEBUG (bit 1)
    TdxVerifyOptions o;
    o.at = std::string(v) == kV5Quote ? k2026_02_03 : k2024_06_01;
    auto r = check_tdx_quote(raw, o);
    const Check* c = find_check(r, "qe_report.identity");
    ASSERT_NE(c, nullptr);
    EXPECT_TRUE(c->passed) << c->detail;
    EXPECT_TRUE(r.ok()) << v;
  }
}

TEST(TdxVerify, ShippedRootIsSelfSignedIntelRootAndEndsTheVectorChain) {
  const ByteView root = intel_sgx_root_ca();
  auto fp = crypto::digest(crypto::HashAlg::sha256, root);
  ASSERT_TRUE(fp.ok());
  EXPECT_EQ(to_hex(*fp), "44a0196b2b99f889b8e149e95b807a350e7424964399e885a7cbb8ccfab674d3");
  // Self-signed: its signature verifies under its own key.
  const unsigned char* p = root.data();
  X509* x = d2i_X509(nullptr, &p, static_cast<long>(root.size()));
  ASSERT_NE(x, nullptr);
  EVP_PKEY* k = X509_get0_pubkey(x);
  EXPECT_EQ(X509_verify(x, k), 1);
  EXPECT_EQ(X509_check_issued(x, x), X509_V_OK);
  X509_free(x);
  for (const char* v : {kV5Quote, kV4Quote}) {
    TL_REQUIRE_VECTOR(path, v);
    auto q = parse_tdx_quote(tl::test::read_file(path));
    ASSERT_TRUE(q.ok());
    Bytes pem = q->pck_cert_data;
    while (!pem.empty() && pem.back() == 0) pem.pop_back();
    auto certs = crypto::parse_certificates(pem);
    ASSERT_TRUE(certs.ok()) << certs.error().message;
    ASSERT_EQ(certs->size(), 3u);
    EXPECT_EQ(certs->back(), Bytes(root.begin(), root.end())) << v;
  }
}

class TdxVerifyMutation : public ::testing::Test {
 protected:
  void SetUp() override {
    const auto path = tl::test::vector_path(kV5Quote);
    if (path.empty()) GTEST_SKIP() << "vector " << kV5Quote << " not found (set TL_SHARED_DIR)";
    raw_ = tl::test::read_file(path);
    l_ = layout(raw_);
    o_.at = k2026_02_03;
    ASSERT_TRUE(check_tdx_quote(raw_, o_).ok());
  }
  Bytes raw_;
  Layout l_{};
  TdxVerifyOptions o_;
};

TEST_F(TdxVerifyMutation, QuoteSignatureByte) {
  Bytes m = raw_;
  m[l_.sig_at + 10] ^= 0x01;
  expect_failed(check_tdx_quote(m, o_), "signature", "tdx-signature-invalid");
}

TEST_F(TdxVerifyMutation, SignedBodyByte) {
  Bytes m = raw_;
  m[54 + 200] ^= 0x80;  // inside MRTD
  auto r = check_tdx_quote(m, o_);
  expect_failed(r, "signature", "tdx-signature-invalid");
  EXPECT_TRUE(find_check(r, "qe_report.binding")->passed);
}

TEST_F(TdxVerifyMutation, AttestationKeyByte) {
  Bytes m = raw_;
  m[l_.key_at + 3] ^= 0x01;
  auto r = check_tdx_quote(m, o_);
  // The key is bound by the QE report: the binding check names it.
  expect_failed(r, "qe_report.binding", "tdx-qe-binding-mismatch");
  EXPECT_FALSE(find_check(r, "signature")->passed);
}

TEST_F(TdxVerifyMutation, QeReportByte) {
  Bytes m = raw_;
  m[l_.qe_report_at + 256] ^= 0x01;  // ISVPRODID
  auto r = check_tdx_quote(m, o_);
  expect_failed(r, "qe_report.signature", "tdx-qe-report-invalid");
  EXPECT_TRUE(find_check(r, "qe_report.binding")->passed);
}

// An edited QE report also breaks its PCK signature; each case asserts the
// identity check's own outcome, which holds for a report the PCK did sign.
TEST_F(TdxVerifyMutation, QeReportIdentityFields) {
  struct Case {
    const char* what;
    size_t offset;
    uint8_t flip;
    const char* detail;
  };
  const Case cases[] = {
      {"MRSIGNER first byte", 128, 0x01, "MRSIGNER"},
      {"MRSIGNER last byte", 159, 0x80, "MRSIGNER"},
      {"ISVPRODID 2 -> 3", 256, 0x01, "ISVPRODID"},
      {"ISVPRODID high byte", 257, 0x01, "ISVPRODID"},
      {"MISCSELECT", 16, 0x01, "MISCSELECT"},
      {"ATTRIBUTES DEBUG", 48, 0x02, "ATTRIBUTES"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.what);
    Bytes m = raw_;
    m[l_.qe_report_at + c.offset] ^= c.flip;
    auto r = check_tdx_quote(m, o_);
    expect_failed(r, "qe_report.identity", "tdx-qe-identity-mismatch");
    EXPECT_NE(find_check(r, "qe_report.identity")->detail.find(c.detail), std::string::npos)
        << find_check(r, "qe_report.identity")->detail;
    EXPECT_FALSE(find_check(r, "qe_report.signature")->passed);
  }
  // ATTRIBUTES bit 2 is outside Intel's mask: identity still passes.
  Bytes m = raw_;
  m[l_.qe_report_at + 48] ^= 0x04;
  auto r = check_tdx_quote(m, o_);
  EXPECT_TRUE(find_check(r, "qe_report.identity")->passed) << find_check(r, "qe_report.identity")->detail;
}

TEST_F(TdxVerifyMutation, QeVendorId) {
  for (size_t i : {size_t{12}, size_t{27}}) {
    Bytes m = raw_;
    m[i] ^= 0x01;
    auto r = check_tdx_quote(m, o_);
    expect_failed(r, "header.qe_vendor_id", "tdx-qe-vendor-mismatch");
    EXPECT_NE(find_check(r, "header.qe_vendor_id")->detail.find(std::string(kIntelQeVendorId)), std::string::npos);
    // The header is signed: the quote signature fails too.
    EXPECT_FALSE(find_check(r, "signature")->passed);
    EXPECT_TRUE(find_check(r, "qe_report.identity")->passed);
  }
}

TEST_F(TdxVerifyMutation, QeReportDataByte) {
  Bytes m = raw_;
  m[l_.qe_report_at + 320 + 40] ^= 0x01;  // the must-be-zero half of REPORTDATA
  auto r = check_tdx_quote(m, o_);
  expect_failed(r, "qe_report.binding", "tdx-qe-binding-mismatch");
  expect_failed(r, "qe_report.signature", "tdx-qe-report-invalid");
}

TEST_F(TdxVerifyMutation, QeReportSignatureByte) {
  Bytes m = raw_;
  m[l_.qe_sig_at + 40] ^= 0x01;
  expect_failed(check_tdx_quote(m, o_), "qe_report.signature", "tdx-qe-report-invalid");
}

TEST_F(TdxVerifyMutation, QeAuthDataByte) {
  Bytes m = raw_;
  m[l_.auth_at] ^= 0x01;
  auto r = check_tdx_quote(m, o_);
  expect_failed(r, "qe_report.binding", "tdx-qe-binding-mismatch");
  EXPECT_TRUE(find_check(r, "qe_report.signature")->passed);
}

TEST_F(TdxVerifyMutation, PckLeafByte) {
  // A base64 character inside the leaf's signed part (a few lines in).
  Bytes m = raw_;
  const size_t at = l_.pck_at + 28 + 65 * 6 + 10;
  m[at] = m[at] == 'A' ? 'B' : 'A';
  auto r = check_tdx_quote(m, o_);
  expect_failed(r, "pck_chain", "tdx-pck-chain-invalid");
  EXPECT_FALSE(find_check(r, "qe_report.signature")->passed);
}

TEST_F(TdxVerifyMutation, PckChainWithoutIntermediate) {
  // Drop the Platform CA: the leaf no longer reaches the root.
  auto q = parse_tdx_quote(raw_);
  ASSERT_TRUE(q.ok());
  std::string pem(q->pck_cert_data.begin(), q->pck_cert_data.end());
  const size_t second = pem.find("-----BEGIN CERTIFICATE-----", 10);
  const size_t third = pem.find("-----BEGIN CERTIFICATE-----", second + 10);
  pem.erase(second, third - second);
  q->pck_cert_data.assign(pem.begin(), pem.end());
  auto r = check_tdx_quote(serialize_tdx_quote(*q), o_);
  expect_failed(r, "pck_chain", "tdx-pck-chain-invalid");
}

// A leaf without the SGX extensions is not a PCK certificate: its own check
// fails (the chain fails too, as only Intel issues leaves under the root).
TEST_F(TdxVerifyMutation, PckLeafWithoutSgxExtensions) {
  auto q = parse_tdx_quote(raw_);
  ASSERT_TRUE(q.ok());
  std::string pem(q->pck_cert_data.begin(), q->pck_cert_data.end());
  const size_t second = pem.find("-----BEGIN CERTIFICATE-----", 10);
  ASSERT_NE(second, std::string::npos);
  pem.replace(0, second, der_to_pem(self_signed_cert("Intel SGX PCK Certificate")));
  q->pck_cert_data.assign(pem.begin(), pem.end());
  auto r = check_tdx_quote(serialize_tdx_quote(*q), o_);
  expect_failed(r, "pck_leaf.sgx_extensions", "tdx-pck-leaf-invalid");
  EXPECT_NE(find_check(r, "pck_leaf.sgx_extensions")->detail.find("1.2.840.113741.1.13.1"), std::string::npos)
      << find_check(r, "pck_leaf.sgx_extensions")->detail;
  expect_failed(r, "pck_chain", "tdx-pck-chain-invalid");
}

// Collateral signers are named: only Intel's TCB signing certificate.
TEST(TdxVerify, TcbSigningLeafName) {
  EXPECT_TRUE(detail::check_tcb_signing_leaf(self_signed_cert("Intel SGX TCB Signing")).ok());
  for (const char* cn : {"Intel SGX PCK Certificate", "Intel SGX TCB Signing ", "intel sgx tcb signing",
                         "Intel SGX Root CA"}) {
    auto s = detail::check_tcb_signing_leaf(self_signed_cert(cn));
    ASSERT_FALSE(s.ok()) << cn;
    EXPECT_NE(s.error().message.find("Intel SGX TCB Signing"), std::string::npos) << s.error().message;
  }
  EXPECT_FALSE(detail::check_tcb_signing_leaf(self_signed_cert("")).ok());  // no CN at all
  EXPECT_FALSE(detail::check_tcb_signing_leaf(self_signed_cert("Intel SGX TCB Signing", "Evil")).ok());
  EXPECT_FALSE(detail::check_tcb_signing_leaf(Bytes{0x30, 0x03, 0x02, 0x01, 0x00}).ok());
  // The vector quotes' own PCK leaf chains to the root but is not the signer.
  TL_REQUIRE_VECTOR(path, kV5Quote);
  auto q = parse_tdx_quote(tl::test::read_file(path));
  ASSERT_TRUE(q.ok());
  auto certs = detail::split_pem_chain(q->pck_cert_data, 2, "PCK chain");
  ASSERT_TRUE(certs.ok());
  auto s = detail::check_tcb_signing_leaf(certs->front());
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.error().message.find("\"Intel SGX PCK Certificate\""), std::string::npos) << s.error().message;
}

TEST_F(TdxVerifyMutation, PckCertDataTypeNotChain) {
  Bytes m = raw_;
  put_le16(m, l_.inner_type_at, 3);
  expect_failed(check_tdx_quote(m, o_), "pck_chain", "tdx-pck-chain-invalid");
}

TEST_F(TdxVerifyMutation, VerificationTimeOutsideChainValidity) {
  for (int64_t at : {int64_t{1577836800} /* 2020-01-01, before the leaf */,
                     int64_t{2051222400} /* 2035-01-01, after the leaf and the Platform CA */}) {
    TdxVerifyOptions o;
    o.at = at;
    auto r = check_tdx_quote(raw_, o);
    expect_failed(r, "pck_chain", "tdx-pck-chain-invalid");
    EXPECT_NE(find_check(r, "pck_chain")->detail.find(at < k2026_02_03 ? "not yet valid" : "expired"),
              std::string::npos)
        << find_check(r, "pck_chain")->detail;
  }
}

TEST_F(TdxVerifyMutation, VerifyReturnsTheFirstFailure) {
  Bytes m = raw_;
  m[l_.sig_at] ^= 0x01;
  auto v = verify_tdx_quote(m, o_);
  ASSERT_FALSE(v.ok());
  EXPECT_EQ(v.error().reason, "tdx-signature-invalid");
  EXPECT_NE(v.error().message.find("check 'signature' failed"), std::string::npos);
}

TEST_F(TdxVerifyMutation, UnparseableQuoteIsOneFailedCheck) {
  auto r = check_tdx_quote(ByteView(raw_).first(100), o_);
  ASSERT_EQ(r.checks.size(), 1u);
  expect_failed(r, "parse", "tdx-quote-malformed");
  EXPECT_FALSE(r.parsed.has_value());
}

}  // namespace
}  // namespace tl::tee
