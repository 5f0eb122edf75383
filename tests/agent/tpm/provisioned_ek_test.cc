// A vTPM provisioned as libvirt does (swtpm_setup with a private swtpm-localca):
// the agent finds the persistent EK and its certificate in NV, the certificate
// verifies against the local CA and certifies exactly that EK, and the EK
// derived from the default template is the certified key too. Only the SHA-256
// PCR bank is allocated there.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "agent_tpm_fixture.h"
#include "support/test_support.h"
#include "tpm/credential.h"
#include "tpm/ek_certificate.h"

namespace tl::agent::tpm::testing {
namespace {

namespace fs = std::filesystem;

class AgentTpmProvisioned : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    char tmpl[] = "/tmp/tl-agent-ekprov-XXXXXX";
    if (::mkdtemp(tmpl) == nullptr) return fail("mkdtemp failed");
    prov_ = tmpl;
    const fs::path& p = prov_;
    fs::create_directories(p / "ca");
    fs::create_directories(p / "state");
    std::ofstream(p / "localca.conf") << "statedir = " << (p / "ca").string() << "\nsigningkey = "
                                      << (p / "ca/signkey.pem").string() << "\nissuercert = "
                                      << (p / "ca/issuercert.pem").string() << "\ncertserial = "
                                      << (p / "ca/certserial").string() << "\n";
    std::ofstream(p / "setup.conf") << "create_certs_tool = /usr/bin/swtpm_localca\n"
                                    << "create_certs_tool_config = " << (p / "localca.conf").string()
                                    << "\ncreate_certs_tool_options = /etc/swtpm-localca.options\n"
                                    << "active_pcr_banks = sha256\n";
    const std::string setup = "swtpm_setup --tpm2 --tpmstate '" + (p / "state").string() +
                              "' --create-ek-cert --config '" + (p / "setup.conf").string() + "' >'" +
                              (p / "setup.log").string() + "' 2>&1";
    if (std::system(setup.c_str()) != 0) return fail("swtpm_setup failed, see " + (p / "setup.log").string());
    auto s = test::Swtpm::start(p / "state");
    if (!s) return fail(s.error().message);
    swtpm_ = std::move(*s);
  }
  static void TearDownTestSuite() {
    swtpm_.reset();
    if (!prov_.empty()) fs::remove_all(prov_);
    setup_error_.reset();
  }
  void SetUp() override {
    if (setup_error_) FAIL() << "provisioned swtpm setup: " << *setup_error_;
  }
  static void fail(const std::string& m) {
    if (!setup_error_) setup_error_ = m;
  }
  static Tpm open(const Options& o = {}) {
    auto t = Tpm::open(swtpm_->tcti(), o);
    if (!t) throw std::runtime_error(t.error().message);
    return std::move(*t);
  }
  static Status check_cert(ByteView ek_public, ByteView cert) {
    const Bytes issuer = test::read_file(prov_ / "ca/issuercert.pem");
    const Bytes root = test::read_file(prov_ / "ca/swtpm-localca-rootca-cert.pem");
    const ByteView inter[] = {issuer};
    const ByteView anchors[] = {root};
    return tl::tpm::verify_ek_certificate(parse(ek_public), cert, inter, anchors);
  }

  static inline fs::path prov_;
  static inline std::unique_ptr<test::Swtpm> swtpm_;
  static inline std::optional<std::string> setup_error_;
};

TEST_F(AgentTpmProvisioned, PersistentEkAndItsCertificateVerify) {
  Tpm tpm = open();
  auto ek = tpm.endorsement_key();
  ASSERT_TRUE(ek.ok()) << ek.error().message;
  EXPECT_EQ(ek->source, EkSource::persistent);
  EXPECT_EQ(ek->handle, kRsaEkHandle);
  ASSERT_TRUE(ek->certificate.has_value());
  auto st = check_cert(ek->public_area, *ek->certificate);
  EXPECT_TRUE(st.ok()) << st.error().message;
  EXPECT_NOTHING_LOADED(tpm);
}

TEST_F(AgentTpmProvisioned, TemplateEkIsTheCertifiedKey) {
  Tpm tpm = open({.use_persistent_ek = false});
  auto ek = tpm.endorsement_key();
  ASSERT_TRUE(ek.ok()) << ek.error().message;
  EXPECT_EQ(ek->source, EkSource::template_primary);
  ASSERT_TRUE(ek->certificate.has_value());
  auto st = check_cert(ek->public_area, *ek->certificate);
  EXPECT_TRUE(st.ok()) << st.error().message;
  EXPECT_NOTHING_LOADED(tpm);
}

TEST_F(AgentTpmProvisioned, RsaCertificateDoesNotCertifyTheEccEk) {
  Bytes rsa_cert;
  {
    Tpm tpm = open();
    auto ek = tpm.endorsement_key();
    ASSERT_TRUE(ek.ok()) << ek.error().message;
    ASSERT_TRUE(ek->certificate.has_value());
    rsa_cert = *ek->certificate;
  }
  // swtpm_setup provisions a P-384 EK in the high range, nothing at the
  // low-range ECC handles: the P-256 EK comes from template L-2, uncertified.
  Tpm tpm = open({.ek_alg = KeyAlg::ecc_p256});
  auto ecc = tpm.endorsement_key();
  ASSERT_TRUE(ecc.ok()) << ecc.error().message;
  EXPECT_EQ(ecc->source, EkSource::template_primary);
  EXPECT_FALSE(ecc->certificate.has_value());
  auto st = check_cert(ecc->public_area, rsa_cert);
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.error().message.find("different key"), std::string::npos) << st.error().message;
}

TEST_F(AgentTpmProvisioned, AkUnderThePersistentEkActivatesACredential) {
  Tpm tpm = open();
  auto ak = tpm.attestation_key();
  ASSERT_TRUE(ak.ok()) << ak.error().message;
  auto ek = tpm.endorsement_key();
  ASSERT_TRUE(ek.ok()) << ek.error().message;
  const Bytes secret(32, 0x5c);
  auto made = tl::tpm::make_credential(parse(ek->public_area), ak->name, secret);
  ASSERT_TRUE(made.ok()) << made.error().message;
  auto out = tpm.activate_credential(made->credential_blob, made->secret);
  ASSERT_TRUE(out.ok()) << out.error().message;
  EXPECT_EQ(to_hex(out->view()), to_hex(secret));
  EXPECT_NOTHING_LOADED(tpm);
}

TEST_F(AgentTpmProvisioned, UnallocatedBankIsAnError) {
  Tpm tpm = open();
  auto ok = tpm.read_pcrs(std::vector{crypto::HashAlg::sha256}, std::vector<uint32_t>{0, 7});
  ASSERT_TRUE(ok.ok()) << ok.error().message;
  auto r = tpm.read_pcrs(std::vector{crypto::HashAlg::sha1}, std::vector<uint32_t>{0, 7});
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("sha1:0,7"), std::string::npos) << r.error().message;
  auto q = tpm.quote(bytes_of("01"), std::vector{crypto::HashAlg::sha256, crypto::HashAlg::sha1},
                     std::vector<uint32_t>{0});
  EXPECT_FALSE(q.ok());
  EXPECT_NOTHING_LOADED(tpm);
}

}  // namespace
}  // namespace tl::agent::tpm::testing
