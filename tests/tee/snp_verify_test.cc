// SEV-SNP verification against real AMD-signed vectors: virtee/sev's Milan
// report + VCEK, trustee's Azure Genoa and Milan evidence; and one negative
// test per check, each asserting its own check name and reason.
#include <gtest/gtest.h>

#include <openssl/err.h>
#include <openssl/objects.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <algorithm>
#include <memory>

#include <nlohmann/json.hpp>

#include "snp_test_util.h"
#include "tee/snp_anchors.h"
#include "tee/snp_report.h"
#include "tee/snp_verify.h"

namespace tl::tee {
namespace {
using namespace snptest;

struct Milan {
  Bytes report, vcek, ark, ask;
};

#define TL_LOAD_MILAN(m)                                                                   \
  TL_REQUIRE_VECTOR(milan_dir_, "cvm/virtee-milan-report");                                \
  Milan m{hex_file(milan_dir_ / "report_milan.hex"), test::read_file(milan_dir_ / "vcek_milan.der"), \
          first_der(test::read_file(milan_dir_ / "ark.pem")), first_der(test::read_file(milan_dir_ / "ask.pem"))}; \
  ASSERT_EQ(m.report.size(), kSnpReportSize)

SnpVerifyOptions at_options() {
  SnpVerifyOptions o;
  o.at = kAt;
  return o;
}

void expect_failed(const SnpReportCheck& c, std::string_view name, std::string_view reason) {
  const Check* k = find_check(c.checks, name);
  ASSERT_NE(k, nullptr) << "check " << name << " did not run:\n" << describe(c.checks);
  EXPECT_FALSE(k->passed) << describe(c.checks);
  EXPECT_EQ(k->reason, reason) << describe(c.checks);
  EXPECT_FALSE(c.ok());
}

void expect_passed(const SnpReportCheck& c, std::string_view name) {
  const Check* k = find_check(c.checks, name);
  ASSERT_NE(k, nullptr) << "check " << name << " did not run:\n" << describe(c.checks);
  EXPECT_TRUE(k->passed) << describe(c.checks);
}

TEST(SnpAnchors, ShippedMilanRootsAreTheVectorsOnes) {
  TL_LOAD_MILAN(m);
  EXPECT_EQ(Bytes(amd_ark(SnpProduct::milan).begin(), amd_ark(SnpProduct::milan).end()), m.ark);
  EXPECT_EQ(Bytes(amd_ask(SnpProduct::milan).begin(), amd_ask(SnpProduct::milan).end()), m.ask);
  // cert_chain_milan is KDS's ASK+ARK PEM: the same two certificates.
  auto chain = crypto::parse_certificates(test::read_file(milan_dir_ / "cert_chain_milan"));
  ASSERT_TRUE(chain.ok());
  ASSERT_EQ(chain->size(), 2u);
  EXPECT_EQ((*chain)[0], m.ask);
  EXPECT_EQ((*chain)[1], m.ark);
}

// OpenSSL, independently of the code under test: each ARK is self-signed, each
// ASK/ASVK is issued and signed by its product's ARK.
TEST(SnpAnchors, EveryShippedAskAndAsvkChainsToItsArk) {
  auto parse = [](ByteView der) {
    const unsigned char* p = der.data();
    return std::unique_ptr<X509, decltype(&X509_free)>(d2i_X509(nullptr, &p, static_cast<long>(der.size())), X509_free);
  };
  for (SnpProduct p : {SnpProduct::milan, SnpProduct::genoa, SnpProduct::turin}) {
    auto ark = parse(amd_ark(p));
    auto ask = parse(amd_ask(p));
    ASSERT_TRUE(ark && ask) << product_name(p);
    EXPECT_EQ(X509_verify(ark.get(), X509_get0_pubkey(ark.get())), 1) << product_name(p);
    EXPECT_EQ(X509_verify(ask.get(), X509_get0_pubkey(ark.get())), 1) << product_name(p);
    EXPECT_EQ(X509_check_issued(ark.get(), ask.get()), X509_V_OK) << product_name(p);
    char cn[64];
    X509_NAME_get_text_by_NID(X509_get_subject_name(ark.get()), NID_commonName, cn, sizeof cn);
    EXPECT_EQ(std::string(cn), "ARK-" + std::string(product_name(p)));
    X509_NAME_get_text_by_NID(X509_get_subject_name(ask.get()), NID_commonName, cn, sizeof cn);
    EXPECT_EQ(std::string(cn), "SEV-" + std::string(product_name(p)));
    if (!amd_asvk(p).empty()) {
      auto asvk = parse(amd_asvk(p));
      ASSERT_TRUE(asvk);
      EXPECT_EQ(X509_verify(asvk.get(), X509_get0_pubkey(ark.get())), 1) << product_name(p);
      X509_NAME_get_text_by_NID(X509_get_subject_name(asvk.get()), NID_commonName, cn, sizeof cn);
      EXPECT_EQ(std::string(cn), "SEV-VLEK-" + std::string(product_name(p)));
    }
  }
  // A Genoa ASK is not signed by the Milan ARK (the check above can fail).
  auto milan_ark = parse(amd_ark(SnpProduct::milan));
  auto genoa_ask = parse(amd_ask(SnpProduct::genoa));
  EXPECT_NE(X509_verify(genoa_ask.get(), X509_get0_pubkey(milan_ark.get())), 1);
  ERR_clear_error();
  EXPECT_TRUE(amd_asvk(SnpProduct::milan).empty());
  EXPECT_FALSE(amd_asvk(SnpProduct::genoa).empty());
  EXPECT_FALSE(amd_asvk(SnpProduct::turin).empty());
}

TEST(SnpChain, MilanVcekChainsToArkAndYieldsTheVcekKey) {
  TL_LOAD_MILAN(m);
  auto key = verify_snp_chain(SnpCertChain{m.ark, m.ask, m.vcek}, std::nullopt, kAt);
  ASSERT_TRUE(key.ok()) << key.error().message;
  auto expected = crypto::certificate_public_key(m.vcek);
  ASSERT_TRUE(expected.ok());
  EXPECT_TRUE(*key == *expected);
  EXPECT_EQ(key->type(), crypto::KeyType::ec);
  EXPECT_EQ(key->bits(), 384);
  // The shipped ARK/ASK are used when none is given.
  EXPECT_TRUE(verify_snp_chain(SnpCertChain{{}, {}, m.vcek}, SnpProduct::milan, kAt).ok());
}

TEST(SnpChain, MutatedVcekFailsTheChain) {
  TL_LOAD_MILAN(m);
  Bytes bad = m.vcek;
  bad[40] ^= 0xff;
  auto key = verify_snp_chain(SnpCertChain{m.ark, m.ask, bad}, SnpProduct::milan, kAt);
  ASSERT_FALSE(key.ok());
  EXPECT_EQ(key.error().reason, "snp-chain-invalid") << key.error().message;
  // Through the report check the failure is chain.vcek's.
  SnpVerifyOptions o = at_options();
  o.product = SnpProduct::milan;
  auto c = check_snp_report(m.report, SnpCertChain{m.ark, m.ask, bad}, o);
  expect_failed(c, "chain.vcek", "snp-chain-invalid");
}

TEST(SnpChain, VcekOfAnotherProductIsAMismatch) {
  TL_LOAD_MILAN(m);
  auto key = verify_snp_chain(SnpCertChain{{}, {}, m.vcek}, SnpProduct::genoa, kAt);
  ASSERT_FALSE(key.ok());
  EXPECT_EQ(key.error().reason, "snp-product-mismatch");
}

TEST(SnpChain, ForeignArkIsRefused) {
  TL_LOAD_MILAN(m);
  const ByteView genoa_ark = amd_ark(SnpProduct::genoa);
  auto c = check_snp_report(m.report, SnpCertChain{Bytes(genoa_ark.begin(), genoa_ark.end()), m.ask, m.vcek}, at_options());
  expect_failed(c, "chain.ark", "snp-chain-invalid");
}

TEST(SnpChain, ExpiredOrNotYetValidVcekFails) {
  TL_LOAD_MILAN(m);
  SnpVerifyOptions o = at_options();
  o.at = 1577836800;  // 2020-01-01: before the VCEK (2023) was issued
  auto c = check_snp_report(m.report, SnpCertChain{m.ark, m.ask, m.vcek}, o);
  expect_failed(c, "chain.vcek", "snp-chain-invalid");
  o.at = 2240524800;  // 2041-01-01: after the VCEK's notAfter (2030)
  c = check_snp_report(m.report, SnpCertChain{m.ark, m.ask, m.vcek}, o);
  expect_failed(c, "chain.vcek", "snp-chain-invalid");
  expect_passed(c, "chain.ark");
}

TEST(SnpVerify, MilanReportVerifies) {
  TL_LOAD_MILAN(m);
  auto c = check_snp_report(m.report, SnpCertChain{m.ark, m.ask, m.vcek}, at_options());
  ASSERT_TRUE(c.ok()) << describe(c.checks);
  for (const char* name : {"parse", "product", "signature.algo", "signing_key", "chain.ark", "chain.ask", "chain.vcek",
                           "tcb", "hwid", "signature"}) {
    expect_passed(c, name);
  }
  EXPECT_EQ(c.verified->product(), SnpProduct::milan);
  EXPECT_EQ(c.verified->signing_key(), SnpSigningKey::vcek);
  EXPECT_EQ(c.verified->report().version, 2u);
  // Also with the current time (the VCEK is valid until 2030) and shipped roots.
  auto v = verify_snp_report(m.report, SnpCertChain{{}, {}, m.vcek}, {});
  EXPECT_TRUE(v.ok()) << v.error().message;
}

TEST(SnpVerify, MutatedReportFailsTheSignature) {
  TL_LOAD_MILAN(m);
  m.report[21] ^= 0x80;  // inside FAMILY_ID
  auto c = check_snp_report(m.report, SnpCertChain{m.ark, m.ask, m.vcek}, at_options());
  expect_failed(c, "signature", "snp-signature-invalid");
  expect_passed(c, "chain.vcek");
  expect_passed(c, "tcb");
  auto v = verify_snp_report(m.report, SnpCertChain{m.ark, m.ask, m.vcek}, at_options());
  ASSERT_FALSE(v.ok());
  EXPECT_EQ(v.error().reason, "snp-signature-invalid");
}

TEST(SnpVerify, ReportedTcbNotTheVceksFailsTheTcbCheck) {
  TL_LOAD_MILAN(m);
  m.report[0x180] ^= 0x01;  // REPORTED_TCB.bootloader
  auto c = check_snp_report(m.report, SnpCertChain{m.ark, m.ask, m.vcek}, at_options());
  expect_failed(c, "tcb", "snp-tcb-mismatch");
  EXPECT_NE(find_check(c.checks, "tcb")->detail.find("blSPL"), std::string::npos);
  // The edit also breaks the signature (it covers REPORTED_TCB).
  expect_failed(c, "signature", "snp-signature-invalid");
  expect_passed(c, "chain.vcek");
  // Only the bootloader SPL differs; the other SPLs still agree.
  const std::string& d = find_check(c.checks, "tcb")->detail;
  EXPECT_NE(d.find("snpSPL"), std::string::npos);
}

TEST(SnpVerify, ChipIdNotTheVceksFailsTheHwidCheck) {
  TL_LOAD_MILAN(m);
  m.report[0x1A0] ^= 0x01;
  auto c = check_snp_report(m.report, SnpCertChain{m.ark, m.ask, m.vcek}, at_options());
  expect_failed(c, "hwid", "snp-chip-id-mismatch");
  expect_passed(c, "tcb");
}

TEST(SnpVerify, ReportDataMismatchFails) {
  TL_LOAD_MILAN(m);
  SnpVerifyOptions o = at_options();
  o.expected_report_data = Bytes(m.report.begin() + 0x50, m.report.begin() + 0x50 + 16);
  auto c = check_snp_report(m.report, SnpCertChain{m.ark, m.ask, m.vcek}, o);
  ASSERT_TRUE(c.ok()) << describe(c.checks);
  expect_passed(c, "report_data");
  (*o.expected_report_data)[3] ^= 1;
  c = check_snp_report(m.report, SnpCertChain{m.ark, m.ask, m.vcek}, o);
  expect_failed(c, "report_data", "snp-report-data-mismatch");
  expect_passed(c, "signature");
  o.expected_report_data = Bytes(65, 0);  // longer than REPORT_DATA
  c = check_snp_report(m.report, SnpCertChain{m.ark, m.ask, m.vcek}, o);
  expect_failed(c, "report_data", "snp-report-data-mismatch");
}

TEST(SnpVerify, UnknownSignatureAlgorithmFails) {
  TL_LOAD_MILAN(m);
  m.report[0x34] = 2;
  auto c = check_snp_report(m.report, SnpCertChain{m.ark, m.ask, m.vcek}, at_options());
  expect_failed(c, "signature.algo", "snp-signature-invalid");
}

TEST(SnpVerify, VlekSelectedButAVcekGivenFails) {
  TL_LOAD_MILAN(m);
  m.report[0x48] = 1 << 2;  // SIGNING_KEY = 1 (VLEK)
  auto c = check_snp_report(m.report, SnpCertChain{m.ark, m.ask, m.vcek}, at_options());
  expect_failed(c, "signing_key", "snp-signing-key-mismatch");
}

TEST(SnpVerify, NoneOrReservedSigningKeyFails) {
  TL_LOAD_MILAN(m);
  for (uint8_t key : {2, 5, 7}) {
    Bytes r = m.report;
    r[0x48] = static_cast<uint8_t>(key << 2);
    auto c = check_snp_report(r, SnpCertChain{m.ark, m.ask, m.vcek}, at_options());
    expect_failed(c, "signing_key", "snp-signing-key-mismatch");
  }
}

TEST(SnpVerify, MissingVcekFails) {
  TL_LOAD_MILAN(m);
  SnpVerifyOptions o = at_options();
  o.product = SnpProduct::milan;
  auto c = check_snp_report(m.report, SnpCertChain{m.ark, m.ask, {}}, o);
  expect_failed(c, "chain.vcek", "snp-chain-invalid");
  expect_failed(c, "signature", "snp-signature-invalid");
  // Without a product hint a v2 report names no product at all.
  c = check_snp_report(m.report, SnpCertChain{m.ark, m.ask, {}}, at_options());
  expect_failed(c, "product", "snp-product-unknown");
}

TEST(SnpVerify, ProductMismatchFails) {
  TL_LOAD_MILAN(m);
  SnpVerifyOptions o = at_options();
  o.product = SnpProduct::genoa;  // the VCEK's issuer is SEV-Milan
  auto c = check_snp_report(m.report, SnpCertChain{{}, {}, m.vcek}, o);
  expect_failed(c, "product", "snp-product-mismatch");
}

TEST(SnpVerify, MalformedReportFailsParse) {
  TL_LOAD_MILAN(m);
  m.report.pop_back();
  auto c = check_snp_report(m.report, SnpCertChain{m.ark, m.ask, m.vcek}, at_options());
  expect_failed(c, "parse", "snp-report-malformed");
  EXPECT_EQ(c.checks.size(), 1u);
}

TEST(SnpVerify, VerifierCachesTheChainAndStillChecksEverything) {
  TL_LOAD_MILAN(m);
  SnpVerifier verifier;
  const SnpCertChain certs{m.ark, m.ask, m.vcek};
  auto first = verifier.check(m.report, certs, at_options());
  ASSERT_TRUE(first.ok()) << describe(first.checks);
  EXPECT_EQ(find_check(first.checks, "chain.ark")->detail.find("cached"), std::string::npos);
  auto second = verifier.check(m.report, certs, at_options());
  ASSERT_TRUE(second.ok()) << describe(second.checks);
  EXPECT_NE(find_check(second.checks, "chain.ark")->detail.find("cached"), std::string::npos);
  // A cached chain does not excuse a bad report, a foreign ARK or an expired VCEK.
  Bytes bad = m.report;
  bad[21] ^= 0x80;
  expect_failed(verifier.check(bad, certs, at_options()), "signature", "snp-signature-invalid");
  const ByteView genoa_ark = amd_ark(SnpProduct::genoa);
  expect_failed(verifier.check(m.report, SnpCertChain{Bytes(genoa_ark.begin(), genoa_ark.end()), m.ask, m.vcek}, at_options()),
                "chain.ark", "snp-chain-invalid");
  SnpVerifyOptions late = at_options();
  late.at = 2240524800;
  expect_failed(verifier.check(m.report, certs, late), "chain.vcek", "snp-chain-invalid");
  Bytes chip = m.report;
  chip[0x1A0] ^= 1;
  expect_failed(verifier.check(chip, certs, at_options()), "hwid", "snp-chip-id-mismatch");
  // A different ASK than the one cached gets the full check (and fails).
  const ByteView genoa_ask = amd_ask(SnpProduct::genoa);
  expect_failed(verifier.check(m.report, SnpCertChain{m.ark, Bytes(genoa_ask.begin(), genoa_ask.end()), m.vcek}, at_options()),
                "chain.ask", "snp-chain-invalid");
  EXPECT_TRUE(verifier.verify(m.report, certs, at_options()).ok());
}

TEST(SnpVerify, VerifierRemembersOnlyChainsOfReportsThatVerified) {
  TL_LOAD_MILAN(m);
  SnpVerifier verifier;
  const SnpCertChain certs{m.ark, m.ask, m.vcek};
  EXPECT_EQ(verifier.cached_chains(), 0u);
  // A genuine VCEK whose chain checks out, sent with a report whose signature
  // fails: nothing is remembered.
  Bytes bad = m.report;
  bad[21] ^= 0x80;
  auto c = verifier.check(bad, certs, at_options());
  expect_failed(c, "signature", "snp-signature-invalid");
  expect_passed(c, "chain.vcek");
  EXPECT_EQ(verifier.cached_chains(), 0u);
  // Nor with a report that fails only the TCB binding, or REPORT_DATA.
  Bytes tcb = m.report;
  tcb[0x180] ^= 0x01;
  expect_failed(verifier.check(tcb, certs, at_options()), "tcb", "snp-tcb-mismatch");
  SnpVerifyOptions want = at_options();
  want.expected_report_data = Bytes(8, 0xEE);
  expect_failed(verifier.check(m.report, certs, want), "report_data", "snp-report-data-mismatch");
  EXPECT_EQ(verifier.cached_chains(), 0u);
  // The genuine report is remembered, once.
  ASSERT_TRUE(verifier.check(m.report, certs, at_options()).ok());
  EXPECT_EQ(verifier.cached_chains(), 1u);
  auto again = verifier.check(m.report, certs, at_options());
  ASSERT_TRUE(again.ok()) << describe(again.checks);
  EXPECT_NE(find_check(again.checks, "chain.ark")->detail.find("cached"), std::string::npos);
  EXPECT_EQ(verifier.cached_chains(), 1u);
}

TEST(SnpVerify, VerifierCacheIsBoundedAndEvictsTheLeastRecentlyUsed) {
  TL_LOAD_MILAN(m);
  TL_REQUIRE_VECTOR(az, "cvm/trustee-az-snp-vtpm-evidence");
  // Three genuine reports with three different VCEKs.
  auto v1 = nlohmann::json::parse(test::read_text(az / "evidence-v1.json"));
  const Bytes v1_report = snp_from_hcl(base64_any(v1.at("hcl_report").get<std::string>()));
  const SnpCertChain v1_certs{{}, {}, base64_any(v1.at("vcek").get<std::string>())};
  auto genoa = nlohmann::json::parse(test::read_text(az / "evidence-genoa.json"));
  const Bytes genoa_report = snp_from_hcl(genoa.at("report").get<Bytes>());
  const SnpCertChain genoa_certs{{}, {}, test::read_file(az / "vcek-genoa.pem")};
  const SnpCertChain milan_certs{m.ark, m.ask, m.vcek};
  ASSERT_NE(first_der(v1_certs.vcek), m.vcek);

  auto was_cached = [](const SnpReportCheck& c) {
    const Check* ark = find_check(c.checks, "chain.ark");
    return ark != nullptr && ark->detail.find("cached") != std::string::npos;
  };
  SnpVerifier verifier(2);
  ASSERT_TRUE(verifier.check(m.report, milan_certs, at_options()).ok());
  ASSERT_TRUE(verifier.check(v1_report, v1_certs, at_options()).ok());
  EXPECT_EQ(verifier.cached_chains(), 2u);
  // Touch the Milan chain, then a third chain evicts the v1 one (least recent).
  EXPECT_TRUE(was_cached(verifier.check(m.report, milan_certs, at_options())));
  auto g = verifier.check(genoa_report, genoa_certs, at_options());
  ASSERT_TRUE(g.ok()) << describe(g.checks);
  EXPECT_FALSE(was_cached(g));
  EXPECT_EQ(verifier.cached_chains(), 2u);
  EXPECT_TRUE(was_cached(verifier.check(m.report, milan_certs, at_options())));
  EXPECT_TRUE(was_cached(verifier.check(genoa_report, genoa_certs, at_options())));
  auto v1_again = verifier.check(v1_report, v1_certs, at_options());
  ASSERT_TRUE(v1_again.ok()) << describe(v1_again.checks);
  EXPECT_FALSE(was_cached(v1_again));  // evicted, checked in full, remembered again
  EXPECT_EQ(verifier.cached_chains(), 2u);

  // Capacity 0: nothing is remembered, verdicts are unchanged.
  SnpVerifier none(0);
  ASSERT_TRUE(none.check(m.report, milan_certs, at_options()).ok());
  EXPECT_FALSE(was_cached(none.check(m.report, milan_certs, at_options())));
  EXPECT_EQ(none.cached_chains(), 0u);
}

TEST(SnpVerify, ZeroChipIdIsNotComparedButStillNeedsTheSignature) {
  TL_LOAD_MILAN(m);
  // MASK_CHIP_ID makes the firmware write CHIP_ID as zeros.
  std::fill(m.report.begin() + 0x1A0, m.report.begin() + 0x1E0, uint8_t{0});
  auto c = check_snp_report(m.report, SnpCertChain{m.ark, m.ask, m.vcek}, at_options());
  expect_passed(c, "hwid");
  const std::string& d = find_check(c.checks, "hwid")->detail;
  EXPECT_NE(d.find("CHIP_ID is all zero"), std::string::npos) << d;
  EXPECT_NE(d.find("not compared"), std::string::npos) << d;
  // The edit is not signed: the report as a whole is refused.
  expect_failed(c, "signature", "snp-signature-invalid");
  // A CHIP_ID zero except for one byte is compared (and differs).
  m.report[0x1DF] = 1;
  expect_failed(check_snp_report(m.report, SnpCertChain{m.ark, m.ask, m.vcek}, at_options()), "hwid",
                "snp-chip-id-mismatch");
}

TEST(SnpVerify, MaskChipKeyFailsTheSignatureAndDoesNotSkipTheHwidCheck) {
  TL_LOAD_MILAN(m);
  m.report[0x48] |= 0x02;  // KEY_INFO.MASK_CHIP_KEY
  auto c = check_snp_report(m.report, SnpCertChain{m.ark, m.ask, m.vcek}, at_options());
  expect_failed(c, "signature", "snp-signature-invalid");
  const std::string& d = find_check(c.checks, "signature")->detail;
  EXPECT_NE(d.find("MASK_CHIP_KEY"), std::string::npos) << d;
  EXPECT_NE(d.find("masked"), std::string::npos) << d;
  // hwid still ran, and compared: the CHIP_ID is the VCEK's.
  expect_passed(c, "hwid");
  EXPECT_NE(find_check(c.checks, "hwid")->detail.find("equals CHIP_ID"), std::string::npos);
  auto v = verify_snp_report(m.report, SnpCertChain{m.ark, m.ask, m.vcek}, at_options());
  ASSERT_FALSE(v.ok());
  EXPECT_EQ(v.error().reason, "snp-signature-invalid");
  // With MASK_CHIP_KEY a CHIP_ID that is not the VCEK's still fails hwid.
  m.report[0x1A0] ^= 0x01;
  c = check_snp_report(m.report, SnpCertChain{m.ark, m.ask, m.vcek}, at_options());
  expect_failed(c, "hwid", "snp-chip-id-mismatch");
  expect_failed(c, "signature", "snp-signature-invalid");
}

TEST(SnpVerify, AzureGenoaEvidenceVerifiesEndToEnd) {
  TL_REQUIRE_VECTOR(dir, "cvm/trustee-az-snp-vtpm-evidence");
  const Bytes vcek_pem = test::read_file(dir / "vcek-genoa.pem");
  const Bytes vcek = first_der(vcek_pem);
  // vcek-genoa.pem validates against the shipped Genoa ARK/ASK.
  auto key = verify_snp_chain(SnpCertChain{{}, {}, vcek}, SnpProduct::genoa, kAt);
  ASSERT_TRUE(key.ok()) << key.error().message;
  auto ev = nlohmann::json::parse(test::read_text(dir / "evidence-genoa.json"));
  Bytes hcl = ev.at("report").get<Bytes>();
  Bytes report = snp_from_hcl(hcl);
  auto parsed = parse_snp_report(report);
  ASSERT_TRUE(parsed.ok()) << parsed.error().message;
  EXPECT_EQ(parsed->product, SnpProduct::genoa);
  EXPECT_TRUE(parsed->product_from_cpuid);
  // The evidence's own VCEK (PEM text) is the same certificate.
  EXPECT_EQ(first_der(as_bytes(ev.at("vcek").get<std::string>())), vcek);
  auto c = check_snp_report(report, SnpCertChain{{}, {}, vcek_pem}, at_options());
  ASSERT_TRUE(c.ok()) << describe(c.checks);
  EXPECT_EQ(c.verified->product(), SnpProduct::genoa);
}

TEST(SnpVerify, AzureEvidenceV1IsMilanAndVerifies) {
  TL_REQUIRE_VECTOR(dir, "cvm/trustee-az-snp-vtpm-evidence");
  auto ev = nlohmann::json::parse(test::read_text(dir / "evidence-v1.json"));
  const Bytes hcl = base64_any(ev.at("hcl_report").get<std::string>());
  const Bytes vcek = base64_any(ev.at("vcek").get<std::string>());
  Bytes report = snp_from_hcl(hcl);
  auto parsed = parse_snp_report(report);
  ASSERT_TRUE(parsed.ok()) << parsed.error().message;
  EXPECT_EQ(parsed->version, 3u);
  EXPECT_EQ(parsed->product, SnpProduct::milan);  // CPUID family 0x19 model 0x01
  auto c = check_snp_report(report, SnpCertChain{{}, {}, vcek}, at_options());
  ASSERT_TRUE(c.ok()) << describe(c.checks);
  EXPECT_EQ(c.verified->product(), SnpProduct::milan);
  // A v3 report names its product: a caller that says otherwise is refused.
  SnpVerifyOptions o = at_options();
  o.product = SnpProduct::turin;
  expect_failed(check_snp_report(report, SnpCertChain{{}, {}, vcek}, o), "product", "snp-product-mismatch");
}

}  // namespace
}  // namespace tl::tee
