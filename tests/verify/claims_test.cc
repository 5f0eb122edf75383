// The kernel debugger detection behind x-ms-azurevm-kerneldebug-enabled, the
// default Secure Boot reference, and the self-reported kernel claims made over
// the recorded OVMF quote and log (docs/claims.md). The claims as a whole are
// checked on real evidence in attestation_swtpm_test.cc.
#include <gtest/gtest.h>

#include <cctype>
#include <optional>
#include <set>

#include "crypto/public_key.h"
#include "eventlog/facts.h"
#include "eventlog/verified_log.h"
#include "support/test_support.h"
#include "tpm/pcr_file.h"
#include "tpm/quote.h"
#include "verify/attestation.h"
#include "verify/pipeline_internal.h"

namespace tl::verify {
namespace {

using detail::kernel_debug_enabled;

TEST(KernelDebug, DebuggerOptionsAreWholeWords) {
  EXPECT_FALSE(kernel_debug_enabled(std::nullopt));
  EXPECT_FALSE(kernel_debug_enabled(std::string("/vmlinuz console=ttyS0,115200 quiet loglevel=4 panic=-1")));
  EXPECT_TRUE(kernel_debug_enabled(std::string("/vmlinuz kgdboc=ttyS0,115200 quiet")));
  EXPECT_TRUE(kernel_debug_enabled(std::string("ro kgdbwait")));
  EXPECT_TRUE(kernel_debug_enabled(std::string("ro\tkgdbdbgp=0")));
  EXPECT_TRUE(kernel_debug_enabled(std::string("  ekgdboc=kbd ")));
  // Not the option itself: a value or a longer word that merely contains it.
  EXPECT_FALSE(kernel_debug_enabled(std::string("foo=kgdboc=ttyS0")));
  EXPECT_FALSE(kernel_debug_enabled(std::string("kgdbwaitx nokgdbwait")));
  EXPECT_FALSE(kernel_debug_enabled(std::string("kgdboc")));  // without '=' the option does nothing
}

TEST(SecureBootReference, DefaultHoldsMicrosoftCasOnce) {
  const SecureBootReference r = default_secure_boot_reference();
  EXPECT_EQ(r.default_kek_fingerprints.size(), 2u);
  EXPECT_EQ(r.default_db_fingerprints.size(), 4u);
  std::set<std::string> all(r.default_kek_fingerprints.begin(), r.default_kek_fingerprints.end());
  all.insert(r.default_db_fingerprints.begin(), r.default_db_fingerprints.end());
  EXPECT_EQ(all.size(), 6u);
  for (const auto& f : all) {
    EXPECT_EQ(f.size(), 64u);
    EXPECT_EQ(f.find_first_not_of("0123456789abcdef"), std::string::npos) << f;
  }
  EXPECT_TRUE(r.required_dbx_hashes.empty());
  // The policy starts from it.
  EXPECT_EQ(AppraisalPolicy{}.secure_boot.default_db_fingerprints, r.default_db_fingerprints);
}

// make_claims needs verified inputs, and only verification makes them: the
// quote and log recorded in a real Secure Boot VM (shared/vectors/ovmf-secureboot).
class SelfReportedKernelClaims : public ::testing::Test {
 protected:
  void SetUp() override {
    const auto msg = test::vector_path("ovmf-secureboot/quote.msg");
    if (msg.empty()) GTEST_SKIP() << "ovmf-secureboot vectors not found (set TL_SHARED_DIR)";
    const auto dir = msg.parent_path();
    auto pcrs = tpm::parse_pcr_file(test::read_file(dir / "quote.pcrs"));
    ASSERT_TRUE(pcrs.ok()) << pcrs.error().message;
    std::string nonce_text = test::read_text(dir / "quote_nonce.txt");
    while (!nonce_text.empty() && std::isspace(static_cast<unsigned char>(nonce_text.back()))) nonce_text.pop_back();
    auto nonce = from_hex(nonce_text);
    ASSERT_TRUE(nonce.ok());
    auto ak = crypto::PublicKey::from_pem(test::read_text(dir / "ak.pub"));
    ASSERT_TRUE(ak.ok()) << ak.error().message;
    auto q = tpm::verify_quote(*ak, test::read_file(dir / "quote.msg"), test::read_file(dir / "quote.sig"), *pcrs,
                               *nonce, {{crypto::HashAlg::sha256, {0, 1, 2, 3, 4, 5, 6, 7}}});
    ASSERT_TRUE(q.ok()) << q.error().message;
    quote_.emplace(std::move(*q));
    auto log = eventlog::ParsedLog::parse(test::read_file(dir / "eventlog_sb_debian_chain.bin"));
    ASSERT_TRUE(log.ok()) << log.error().message;
    auto verified = eventlog::verify_log(std::move(*log), *quote_);
    ASSERT_TRUE(verified.ok()) << verified.error().message;
    facts_.emplace(eventlog::facts(*verified));
    identity_.vm_id = "3f1c2a9e-5b7d-4c1e-9a0b-1d2e3f405162";
  }

  nlohmann::json claims(const OsInfo& os, const KernelModuleReport* modules) {
    return detail::make_claims(detail::ClaimInputs{identity_, *quote_, *facts_, no_key_, reference_, os, payload_,
                                                   modules});
  }

  std::optional<tpm::VerifiedQuote> quote_;
  std::optional<eventlog::VerifiedBootFacts> facts_;
  EnrolledIdentity identity_;
  std::optional<VerifiedRuntimeKey> no_key_;
  SecureBootReference reference_ = default_secure_boot_reference();
  nlohmann::json payload_ = nlohmann::json::object();
};

TEST_F(SelfReportedKernelClaims, PresentWithTheReportedValues) {
  OsInfo os{"Linux", "Debian GNU/Linux", 12, 0, "6.1.0-28-amd64"};
  KernelModuleReport km;
  km.reported = true;
  km.taint = 8192 | 4096;
  km.unsigned_modules = {"hello_unsigned"};
  km.rejected_modules = {"evil", "evil2"};
  km.ima_failures = {"nvidia"};
  const nlohmann::json c = claims(os, &km);
  EXPECT_EQ(c.at("x-tl-kernel-release"), "6.1.0-28-amd64");
  EXPECT_EQ(c.at("x-tl-kernel-modules"), nlohmann::json({{"taint", 12288},
                                                         {"unsigned", {"hello_unsigned"}},
                                                         {"rejected", {"evil", "evil2"}},
                                                         {"imaFailures", {"nvidia"}}}));
  // The verified claims beside them are unchanged by the report.
  EXPECT_EQ(c.at("secureboot"), true);
  EXPECT_EQ(c.at("x-ms-azurevm-vmid"), identity_.vm_id);
}

TEST_F(SelfReportedKernelClaims, ReportedButCleanIsAnEmptyReport) {
  KernelModuleReport km;
  km.reported = true;
  const nlohmann::json c = claims(OsInfo{"Linux", "Debian GNU/Linux", 12, 0, "6.1.0-28-amd64"}, &km);
  EXPECT_EQ(c.at("x-tl-kernel-modules"),
            nlohmann::json({{"taint", 0},
                            {"unsigned", nlohmann::json::array()},
                            {"rejected", nlohmann::json::array()},
                            {"imaFailures", nlohmann::json::array()}}));
}

TEST_F(SelfReportedKernelClaims, AbsentWhenNotReported) {
  // An older agent: no release, no report (and a report not passed at all).
  const OsInfo os{"Linux", "Debian GNU/Linux", 12, 0, ""};
  const KernelModuleReport not_reported = [] {
    KernelModuleReport r;
    r.taint = 8192;  // ignored: the member was absent
    return r;
  }();
  for (const KernelModuleReport* km : {static_cast<const KernelModuleReport*>(nullptr), &not_reported}) {
    const nlohmann::json c = claims(os, km);
    EXPECT_FALSE(c.contains("x-tl-kernel-release"));
    EXPECT_FALSE(c.contains("x-tl-kernel-modules"));
    EXPECT_TRUE(c.contains("x-tl-kernel-version"));  // the measured one is still there
  }
}

}  // namespace
}  // namespace tl::verify
