// TDX collateral: the go-tdx-guest TCB Info sample (a PCS answer: "tcbInfo" +
// "signature", no issuer chain) evaluated against the v5 quote, the fail-closed
// rule without an issuer chain, and the TCB / QE identity matching rules.
#include <gtest/gtest.h>

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "common/rfc3339.h"
#include "support/test_support.h"
#include "tdx_test_util.h"
#include "tee/tdx_verify.h"

namespace tl::tee {
namespace {

using namespace testutil;
using nlohmann::json;

class TdxCollateralTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const auto qp = tl::test::vector_path(kV5Quote);
    const auto tp = tl::test::vector_path(kV5TcbInfo);
    if (qp.empty() || tp.empty()) GTEST_SKIP() << "vectors " << kV5Quote << " / " << kV5TcbInfo << " not found";
    raw_ = tl::test::read_file(qp);
    tcb_text_ = tl::test::read_text(tp);
    auto q = parse_tdx_quote(raw_);
    ASSERT_TRUE(q.ok());
    quote_ = *q;
    auto pck = tdx_pck_tcb(quote_);
    ASSERT_TRUE(pck.ok()) << pck.error().message;
    pck_ = *pck;
    doc_ = json::parse(tcb_text_);
    dir_ = std::filesystem::temp_directory_path() / ("tl-tdx-collateral-" + std::to_string(getpid()) + "-" +
                                                     ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override {
    if (!dir_.empty()) std::filesystem::remove_all(dir_);
  }
  void write(const std::string& name, const std::string& text) {
    std::ofstream(dir_ / name, std::ios::binary) << text;
  }
  // The QE Identity file is required: unless a test wrote its own, the
  // constructed one with the QE's own ISVSVN UpToDate (unsigned, so it
  // counts only under allow_unverified_collateral).
  TdxCollateral collateral(const std::string& tcb_text) {
    write("tcb_info.json", tcb_text);
    if (!std::filesystem::exists(dir_ / "qe_identity.json")) write("qe_identity.json", qe_identity_file().dump());
    auto c = load_tdx_collateral(dir_);
    EXPECT_TRUE(c.ok());
    return c.ok() ? *c : TdxCollateral{};
  }
  Result<TdxTcbEvaluation> evaluate(const json& info, std::optional<TdxTcbStatus> qe = std::nullopt) {
    return evaluate_tdx_tcb(info, quote_.body, pck_, qe);
  }
  // A QE Identity CONSTRUCTED IN THIS TEST from the quote's own QE report (no
  // QE Identity file ships with the vectors): it exercises the matching logic only.
  json constructed_qe_identity() const {
    const auto& qe = quote_.qe_report;
    // Intel's TD_QE identity masks out ATTRIBUTES bit 2 and the upper 8 bytes.
    const Bytes mask = *from_hex("FBFFFFFFFFFFFFFF0000000000000000");
    Bytes attributes(16);
    for (size_t i = 0; i < 16; ++i) attributes[i] = qe.attributes[i] & mask[i];
    return json{{"id", "TD_QE"},
                {"version", 2},
                {"issueDate", "2026-02-01T00:00:00Z"},
                {"nextUpdate", "2026-03-01T00:00:00Z"},
                {"miscselect", "00000000"},
                {"miscselectMask", "FFFFFFFF"},
                {"attributes", to_hex(attributes)},
                {"attributesMask", to_hex(mask)},
                {"mrsigner", to_hex(qe.mr_signer)},
                {"isvprodid", qe.isv_prod_id},
                {"tcbLevels",
                 json::array({json{{"tcb", {{"isvsvn", qe.isv_svn + 1}}}, {"tcbStatus", "UpToDate"}},
                              json{{"tcb", {{"isvsvn", 1}}}, {"tcbStatus", "OutOfDate"}}})}};
  }
  json qe_identity_file() const {
    json id = constructed_qe_identity();
    id["tcbLevels"] = json::array({json{{"tcb", {{"isvsvn", quote_.qe_report.isv_svn}}}, {"tcbStatus", "UpToDate"}}});
    return json{{"enclaveIdentity", id}, {"signature", std::string(128, '0')}};
  }
  const Check* find(const TdxQuoteCheck& r, const std::string& name) const {
    for (const auto& c : r.checks)
      if (c.name == name) return &c;
    return nullptr;
  }
  Bytes raw_;
  std::string tcb_text_;
  TdxQuote quote_;
  TdxPckTcb pck_;
  json doc_;
  std::filesystem::path dir_;
};

TEST_F(TdxCollateralTest, SampleIsASignedTcbInfoWithoutIssuerChain) {
  ASSERT_TRUE(doc_.contains("tcbInfo"));
  ASSERT_TRUE(doc_["signature"].is_string());
  EXPECT_EQ(doc_["signature"].get<std::string>().size(), 128u);  // ECDSA r || s
  EXPECT_EQ(doc_.size(), 2u);                                      // nothing else: no issuer chain
  EXPECT_EQ(doc_["tcbInfo"]["id"], "TDX");
  EXPECT_EQ(doc_["tcbInfo"]["version"], 3);
  EXPECT_EQ(doc_["tcbInfo"]["fmspc"], to_hex(pck_.fmspc));
  EXPECT_EQ(doc_["tcbInfo"]["pceId"], to_hex(pck_.pce_id));
}

TEST_F(TdxCollateralTest, PckLeafTcb) {
  EXPECT_EQ(to_hex(pck_.fmspc), "90c06f000000");
  EXPECT_EQ(to_hex(pck_.pce_id), "0000");
  EXPECT_EQ(pck_.pce_svn, 13);
  EXPECT_EQ(to_hex(pck_.sgx_components), to_hex(pck_.cpu_svn));  // for this platform CPUSVN is the components
}

// go-tdx-guest's "tcbInfo v5 check (verifyTdQuoteBody)": the module identity
// and the TCB level match; the status computed is UpToDate.
TEST_F(TdxCollateralTest, SampleTcbInfoMatchesTheQuoteUpToDate) {
  auto ev = evaluate(doc_["tcbInfo"]);
  ASSERT_TRUE(ev.ok()) << ev.error().message;
  EXPECT_EQ(ev->status, TdxTcbStatus::up_to_date);
  EXPECT_EQ(ev->platform_status, TdxTcbStatus::up_to_date);
  EXPECT_EQ(ev->module_identity, "TDX_01");
  ASSERT_TRUE(ev->module_status.has_value());
  EXPECT_EQ(*ev->module_status, TdxTcbStatus::up_to_date);
  EXPECT_EQ(ev->tcb_date, "2024-11-13T00:00:00Z");
  EXPECT_TRUE(ev->advisory_ids.empty());
}

TEST_F(TdxCollateralTest, LowerTdxComponentSelectsAnOlderLevel) {
  TdQuoteBody body = quote_.body;
  body.tee_tcb_svn[2] = 2;  // TDX late microcode below the newest level's 3
  auto ev = evaluate_tdx_tcb(doc_["tcbInfo"], body, pck_, std::nullopt);
  ASSERT_TRUE(ev.ok()) << ev.error().message;
  EXPECT_EQ(ev->status, TdxTcbStatus::out_of_date);
  EXPECT_EQ(ev->tcb_date, "2024-03-13T00:00:00Z");
  EXPECT_FALSE(ev->advisory_ids.empty());
}

TEST_F(TdxCollateralTest, OldTdxModuleConvergesToOutOfDate) {
  TdQuoteBody body = quote_.body;
  body.tee_tcb_svn[0] = 5;  // TDX_01 levels: 6 UpToDate, 4 OutOfDate
  auto ev = evaluate_tdx_tcb(doc_["tcbInfo"], body, pck_, std::nullopt);
  ASSERT_TRUE(ev.ok()) << ev.error().message;
  EXPECT_EQ(ev->platform_status, TdxTcbStatus::up_to_date);
  EXPECT_EQ(*ev->module_status, TdxTcbStatus::out_of_date);
  EXPECT_EQ(ev->status, TdxTcbStatus::out_of_date);
  body.tee_tcb_svn[0] = 1;  // below every TDX_01 level
  auto none = evaluate_tdx_tcb(doc_["tcbInfo"], body, pck_, std::nullopt);
  ASSERT_FALSE(none.ok());
  EXPECT_NE(none.error().message.find("below every TCB level of TDX_01"), std::string::npos);
}

TEST_F(TdxCollateralTest, ModuleIdentityMismatchesRefused) {
  {
    json info = doc_["tcbInfo"];
    info["tdxModuleIdentities"][1]["mrsigner"] = std::string(95, '0') + "1";
    auto ev = evaluate(info);
    ASSERT_FALSE(ev.ok());
    EXPECT_NE(ev.error().message.find("MRSIGNERSEAM"), std::string::npos) << ev.error().message;
    EXPECT_EQ(ev.error().reason, "tdx-collateral-invalid");
  }
  {
    json info = doc_["tcbInfo"];
    info["tdxModuleIdentities"][1]["attributes"] = "0100000000000000";
    auto ev = evaluate(info);
    ASSERT_FALSE(ev.ok());
    EXPECT_NE(ev.error().message.find("SEAMATTRIBUTES"), std::string::npos) << ev.error().message;
  }
  {
    json info = doc_["tcbInfo"];
    info["tdxModuleIdentities"][1]["id"] = "TDX_02";
    auto ev = evaluate(info);
    ASSERT_FALSE(ev.ok());
    EXPECT_NE(ev.error().message.find("TDX_01, which the TCB Info does not list"), std::string::npos);
  }
  {
    json info = doc_["tcbInfo"];
    info["id"] = "SGX";
    EXPECT_FALSE(evaluate(info).ok());
  }
}

TEST_F(TdxCollateralTest, PlatformBelowEveryLevelIsNotSupported) {
  json info = doc_["tcbInfo"];
  for (auto& level : info["tcbLevels"]) level["tcb"]["pcesvn"] = 99;
  auto ev = evaluate(info);
  ASSERT_FALSE(ev.ok());
  EXPECT_NE(ev.error().message.find("is below every TCB level (TCB not supported)"), std::string::npos);
}

TEST_F(TdxCollateralTest, UnknownStatusFailsClosedAndRevokedIsRevoked) {
  json info = doc_["tcbInfo"];
  info["tcbLevels"][0]["tcbStatus"] = "Fine";
  EXPECT_FALSE(evaluate(info).ok());
  info["tcbLevels"][0]["tcbStatus"] = "Revoked";
  auto ev = evaluate(info);
  ASSERT_TRUE(ev.ok());
  EXPECT_EQ(ev->status, TdxTcbStatus::revoked);
}

TEST_F(TdxCollateralTest, ConstructedQeIdentityMatchesAndMutationsFail) {
  const json id = constructed_qe_identity();
  // Level 0 needs ISVSVN + 1: the QE falls to level 1 (OutOfDate).
  auto st = evaluate_qe_identity(id, quote_.qe_report);
  ASSERT_TRUE(st.ok()) << st.error().message;
  EXPECT_EQ(*st, TdxTcbStatus::out_of_date);
  // Upstream's case: tcbLevels[0].isvsvn forced to 1 -> UpToDate.
  json forced = id;
  forced["tcbLevels"][0]["tcb"]["isvsvn"] = 1;
  st = evaluate_qe_identity(forced, quote_.qe_report);
  ASSERT_TRUE(st.ok()) << st.error().message;
  EXPECT_EQ(*st, TdxTcbStatus::up_to_date);
  // The QE's status converges into the TDX TCB status.
  auto ev = evaluate(doc_["tcbInfo"], TdxTcbStatus::out_of_date);
  ASSERT_TRUE(ev.ok());
  EXPECT_EQ(ev->status, TdxTcbStatus::out_of_date);

  struct Case {
    const char* field;
    json value;
    const char* expect;
  };
  const Case cases[] = {
      {"mrsigner", std::string(64, 'a'), "MRSIGNER"},
      {"isvprodid", quote_.qe_report.isv_prod_id + 1, "ISVPRODID"},
      {"miscselect", "00000001", "MISCSELECT"},
      {"attributes", "01000000000000000000000000000000", "ATTRIBUTES"},
      {"id", "QE", "TD_QE"},
  };
  for (const auto& c : cases) {
    json m = forced;
    m[c.field] = c.value;
    auto r = evaluate_qe_identity(m, quote_.qe_report);
    ASSERT_FALSE(r.ok()) << c.field;
    EXPECT_NE(r.error().message.find(c.expect), std::string::npos) << r.error().message;
  }
  json high = forced;
  for (auto& l : high["tcbLevels"]) l["tcb"]["isvsvn"] = 1000;
  auto r = evaluate_qe_identity(high, quote_.qe_report);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("below every QE Identity TCB level"), std::string::npos);
}

TEST_F(TdxCollateralTest, WithoutIssuerChainVerificationFailsClosed) {
  TdxVerifyOptions o;
  o.at = k2026_02_03;
  const TdxCollateral c = collateral(tcb_text_);
  o.collateral = &c;
  auto r = check_tdx_quote(raw_, o);
  EXPECT_FALSE(r.ok());
  EXPECT_FALSE(r.tcb_status.has_value());
  auto v = verify_tdx_quote(raw_, o);
  ASSERT_FALSE(v.ok());
  EXPECT_EQ(v.error().reason, "tdx-collateral-unverified");
}

TEST_F(TdxCollateralTest, AllowUnverifiedReportsStatusMarkedUnverified) {
  TdxVerifyOptions o;
  o.at = k2026_02_03;
  o.allow_unverified_collateral = true;
  const TdxCollateral c = collateral(tcb_text_);
  o.collateral = &c;
  auto r = check_tdx_quote(raw_, o);
  for (const auto& ch : r.checks) EXPECT_TRUE(ch.passed) << ch.name << ": " << ch.detail;
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r.verified->tcb_status(), TdxTcbStatus::up_to_date);
  EXPECT_FALSE(r.verified->collateral_verified());
  // The QE Identity from the file was evaluated too.
  ASSERT_NE(find(r, "collateral.qe_identity"), nullptr);
  EXPECT_TRUE(find(r, "collateral.qe_identity")->passed);
  // After the TCB Info's nextUpdate: its own reason, naming the document and the time.
  o.at = 1775001600;  // 2026-04-01, PCK chain still valid
  auto late = check_tdx_quote(raw_, o);
  EXPECT_FALSE(late.ok());
  const Check* w = find(late, "collateral.tcb_info.validity");
  ASSERT_NE(w, nullptr);
  EXPECT_FALSE(w->passed);
  EXPECT_EQ(w->reason, "tdx-collateral-expired");
  const std::string next = doc_["tcbInfo"]["nextUpdate"].get<std::string>();
  EXPECT_NE(w->detail.find("tcbInfo"), std::string::npos) << w->detail;
  EXPECT_NE(w->detail.find(next), std::string::npos) << w->detail;
  // Before its issueDate it is invalid, not expired.
  const std::string issue = doc_["tcbInfo"]["issueDate"].get<std::string>();
  auto issued = parse_rfc3339(issue);
  ASSERT_TRUE(issued.ok());
  o.at = *issued - 1;
  auto early = check_tdx_quote(raw_, o);
  w = find(early, "collateral.tcb_info.validity");
  ASSERT_NE(w, nullptr);
  EXPECT_FALSE(w->passed);
  EXPECT_EQ(w->reason, "tdx-collateral-invalid") << w->detail;
}

// A QE Identity past its nextUpdate (TCB Info still current) is expired too.
TEST_F(TdxCollateralTest, ExpiredQeIdentityHasItsOwnReason) {
  json qe = qe_identity_file();
  qe["enclaveIdentity"]["issueDate"] = "2026-01-01T00:00:00Z";
  qe["enclaveIdentity"]["nextUpdate"] = "2026-02-01T00:00:00Z";
  write("qe_identity.json", qe.dump());
  TdxVerifyOptions o;
  o.at = k2026_02_03;
  o.allow_unverified_collateral = true;
  const TdxCollateral c = collateral(tcb_text_);
  o.collateral = &c;
  auto r = check_tdx_quote(raw_, o);
  EXPECT_FALSE(r.ok());
  ASSERT_NE(find(r, "collateral.tcb_info.validity"), nullptr);
  EXPECT_TRUE(find(r, "collateral.tcb_info.validity")->passed);
  const Check* w = find(r, "collateral.qe_identity.validity");
  ASSERT_NE(w, nullptr);
  EXPECT_FALSE(w->passed);
  EXPECT_EQ(w->reason, "tdx-collateral-expired");
  EXPECT_NE(w->detail.find("enclaveIdentity"), std::string::npos) << w->detail;
  EXPECT_NE(w->detail.find("2026-02-01T00:00:00Z"), std::string::npos) << w->detail;
  auto v = verify_tdx_quote(raw_, o);
  ASSERT_FALSE(v.ok());
  EXPECT_EQ(v.error().reason, "tdx-collateral-expired");
}

// The QE Identity from the file always takes part: an OutOfDate QE level
// converges the TCB status to OutOfDate.
TEST_F(TdxCollateralTest, QeIdentityFromFileConvergesIntoTheStatus) {
  json qe = qe_identity_file();
  qe["enclaveIdentity"]["tcbLevels"][0]["tcbStatus"] = "OutOfDate";
  write("qe_identity.json", qe.dump());
  TdxVerifyOptions o;
  o.at = k2026_02_03;
  o.allow_unverified_collateral = true;
  const TdxCollateral c = collateral(tcb_text_);
  o.collateral = &c;
  auto r = check_tdx_quote(raw_, o);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r.verified->tcb_status(), TdxTcbStatus::out_of_date);
  // A QE Identity naming another signer fails the collateral check.
  qe["enclaveIdentity"]["mrsigner"] = std::string(64, 'a');
  TdxCollateral c2 = c;
  c2.qe_identity_json = qe.dump();
  o.collateral = &c2;
  auto r2 = check_tdx_quote(raw_, o);
  EXPECT_FALSE(r2.ok());
  ASSERT_NE(find(r2, "collateral.qe_identity"), nullptr);
  EXPECT_FALSE(find(r2, "collateral.qe_identity")->passed);
  EXPECT_FALSE(r2.tcb_status.has_value());
}

// A TdxCollateral built in code without a QE Identity fails closed.
TEST_F(TdxCollateralTest, CollateralWithoutQeIdentityFailsClosed) {
  TdxVerifyOptions o;
  o.at = k2026_02_03;
  o.allow_unverified_collateral = true;
  TdxCollateral c = collateral(tcb_text_);
  c.qe_identity_json.clear();
  o.collateral = &c;
  auto r = check_tdx_quote(raw_, o);
  EXPECT_FALSE(r.ok());
  EXPECT_FALSE(r.tcb_status.has_value());
  const Check* q = find(r, "collateral.qe_identity");
  ASSERT_NE(q, nullptr);
  EXPECT_FALSE(q->passed);
  EXPECT_EQ(q->reason, "tdx-collateral-invalid");
}

TEST_F(TdxCollateralTest, RevokedTcbFailsVerification) {
  json doc = doc_;
  doc["tcbInfo"]["tcbLevels"][0]["tcbStatus"] = "Revoked";
  TdxVerifyOptions o;
  o.at = k2026_02_03;
  o.allow_unverified_collateral = true;
  const TdxCollateral c = collateral(doc.dump());
  o.collateral = &c;
  auto v = verify_tdx_quote(raw_, o);
  ASSERT_FALSE(v.ok());
  EXPECT_EQ(v.error().reason, "tdx-tcb-revoked");
}

TEST_F(TdxCollateralTest, FmspcMismatchRefused) {
  json doc = doc_;
  doc["tcbInfo"]["fmspc"] = "00606a000000";
  TdxVerifyOptions o;
  o.at = k2026_02_03;
  o.allow_unverified_collateral = true;
  const TdxCollateral c = collateral(doc.dump());
  o.collateral = &c;
  auto r = check_tdx_quote(raw_, o);
  EXPECT_FALSE(r.ok());
  bool failed = false;
  for (const auto& ch : r.checks)
    if (ch.name == "collateral.tcb_info.fmspc") failed = !ch.passed && ch.reason == "tdx-collateral-invalid";
  EXPECT_TRUE(failed);
}

// An issuer chain that reaches the Intel root but whose leaf did not sign the
// TCB Info (the quote's own PCK chain): the signature check refuses it.
TEST_F(TdxCollateralTest, TcbInfoSignedByAnotherKeyRefused) {
  write("tcb_info_issuer_chain.pem",
        std::string(quote_.pck_cert_data.begin(), quote_.pck_cert_data.end() - 1));  // drop the NUL
  const TdxCollateral c = collateral(tcb_text_);
  ASSERT_FALSE(c.tcb_info_issuer_chain.empty());
  TdxVerifyOptions o;
  o.at = k2026_02_03;
  o.collateral = &c;
  auto r = check_tdx_quote(raw_, o);
  EXPECT_FALSE(r.ok());
  const Check* sig = nullptr;
  for (const auto& ch : r.checks)
    if (ch.name == "collateral.tcb_info.signature") sig = &ch;
  ASSERT_NE(sig, nullptr);
  EXPECT_FALSE(sig->passed);
  EXPECT_EQ(sig->reason, "tdx-collateral-invalid");
  // Refused by name before the signature: the leaf is a PCK certificate, not
  // Intel's TCB signing certificate.
  EXPECT_NE(sig->detail.find("Intel SGX PCK Certificate"), std::string::npos) << sig->detail;
  EXPECT_NE(sig->detail.find("Intel SGX TCB Signing"), std::string::npos) << sig->detail;
  EXPECT_FALSE(r.tcb_status.has_value());
}

// Two "tcbInfo" members: the signature could cover one while another is
// evaluated; refused before anything is evaluated.
TEST_F(TdxCollateralTest, DuplicateTcbInfoMemberRefused) {
  std::string twice = tcb_text_;
  ASSERT_EQ(twice.front(), '{');
  twice.insert(1, "\"tcbInfo\":{\"id\":\"TDX\",\"version\":3},");
  TdxVerifyOptions o;
  o.at = k2026_02_03;
  o.allow_unverified_collateral = true;
  const TdxCollateral c = collateral(twice);
  o.collateral = &c;
  auto r = check_tdx_quote(raw_, o);
  EXPECT_FALSE(r.ok());
  EXPECT_FALSE(r.tcb_status.has_value());
  const Check& last = r.checks.back();
  EXPECT_EQ(last.name, "collateral.tcb_info");
  EXPECT_NE(last.detail.find("twice"), std::string::npos) << last.detail;
}

TEST_F(TdxCollateralTest, LoadRequiresTcbInfo) {
  auto c = load_tdx_collateral(dir_);
  ASSERT_FALSE(c.ok());
  EXPECT_NE(c.error().message.find("tcb_info.json"), std::string::npos);
  write("tcb_info.json", tcb_text_);
  // Without qe_identity.json: refused, naming the file.
  auto c1 = load_tdx_collateral(dir_);
  ASSERT_FALSE(c1.ok());
  EXPECT_NE(c1.error().message.find("qe_identity.json"), std::string::npos) << c1.error().message;
  EXPECT_EQ(c1.error().reason, "tdx-collateral-invalid");
  write("qe_identity.json", "{}");
  write("pck_crl.der", "x");
  auto c2 = load_tdx_collateral(dir_);
  ASSERT_TRUE(c2.ok());
  EXPECT_EQ(c2->qe_identity_json, "{}");
  EXPECT_EQ(c2->pck_crl, Bytes{'x'});
  EXPECT_TRUE(c2->root_ca_crl.empty());
}

}  // namespace
}  // namespace tl::tee
