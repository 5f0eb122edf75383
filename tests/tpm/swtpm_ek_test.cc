// The enrollment path end to end on a provisioned vTPM: swtpm_setup (with a
// private swtpm-localca, as libvirt provisions vTPMs) writes an RSA-2048 and an
// ECC P-384 EK, their certificates in NV and a local CA; we read the certificate
// and the EK public area from the TPM, verify the chain and the key, make a
// credential for a fresh AK and the TPM activates it.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <optional>
#include <string>

#include "common/hex.h"
#include "support/test_support.h"
#include "swtpm.h"
#include "tpm/credential.h"
#include "tpm/ek_certificate.h"
#include "tpm/public_area.h"

namespace tl::tpm {
namespace {

namespace fs = std::filesystem;

class SwtpmProvisionedEk : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    char tmpl[] = "/tmp/tl-ekprov-XXXXXX";
    if (::mkdtemp(tmpl) == nullptr) return fail("mkdtemp failed");
    prov_ = tmpl;
    fs::create_directories(prov_ / "ca");
    fs::create_directories(prov_ / "state");
    fs::create_directories(prov_ / "bin");
    const fs::path& p = prov_;
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
    auto s = test::Swtpm::start(p / "state");  // the provisioned TPM, EK certs in NV
    if (!s) return fail(s.error().message);
    tpm_ = std::move(*s);
    const char* cmds[] = {
        "tpm2_readpublic -c 0x81010001 -o ek_rsa.pub >/dev/null",
        "tpm2_readpublic -c 0x81010016 -o ek_ecc.pub >/dev/null",
        "tpm2_nvread 0x1c00002 -o ekcert_rsa.der",
        "tpm2_nvread 0x1c00016 -o ekcert_ecc.der",
        "tpm2_createak -C 0x81010001 -c ak_rsa.ctx -G rsa -g sha256 -s rsassa -u ak_rsa.pub -n ak_rsa.name",
        "tpm2_createak -C 0x81010016 -c ak_ecc.ctx -G ecc -g sha256 -s ecdsa -u ak_ecc.pub -n ak_ecc.name",
    };
    for (const char* c : cmds) {
      if (auto r = tpm_->run(c); !r) return fail(std::string(c) + ": " + r.error().message);
    }
  }
  static void TearDownTestSuite() {
    tpm_.reset();
    if (!prov_.empty()) fs::remove_all(prov_);
    setup_error_.reset();
  }
  void SetUp() override {
    if (setup_error_) FAIL() << "provisioned swtpm setup: " << *setup_error_;
  }

  static void fail(const std::string& m) {
    if (!setup_error_) setup_error_ = m;
  }
  static PublicArea ek(const std::string& alg) {
    auto a = parse_public_area(tpm_->read("ek_" + alg + ".pub"));
    EXPECT_TRUE(a.ok()) << a.error().message;
    return *a;
  }
  static Bytes ca_file(const std::string& name) { return test::read_file(prov_ / "ca" / name); }

  static Status check_cert(const std::string& cert_alg, const std::string& ek_alg) {
    const Bytes cert = tpm_->read("ekcert_" + cert_alg + ".der");
    const Bytes issuer = ca_file("issuercert.pem");
    const Bytes root = ca_file("swtpm-localca-rootca-cert.pem");
    const ByteView inter[] = {issuer};
    const ByteView anchors[] = {root};
    return verify_ek_certificate(ek(ek_alg), cert, inter, anchors);
  }

  // swtpm_setup's P-384 EK sets userWithAuth (empty authValue, password session);
  // an EK without it needs the PolicySecret(TPM_RH_ENDORSEMENT) policy session.
  static Result<Bytes> activate(const std::string& alg, const std::string& ek_handle, ByteView file) {
    tpm_->write("cred.in", file);
    const std::string base = "tpm2_activatecredential -c ak_" + alg + ".ctx -C " + ek_handle +
                             " -i cred.in -o cred.out";
    auto r = ek(alg).attributes.user_with_auth
                 ? tpm_->run(base)
                 : tpm_->run("tpm2_startauthsession --policy-session -S s.ctx && tpm2_policysecret -S s.ctx -c e && " +
                             base + " -P session:s.ctx; rc=$?; tpm2_flushcontext s.ctx >/dev/null 2>&1; test $rc -eq 0");
    if (!r) return r.take_error();
    return tpm_->read("cred.out");
  }

  static inline fs::path prov_;
  static inline std::unique_ptr<test::Swtpm> tpm_;
  static inline std::optional<std::string> setup_error_;
};

TEST_F(SwtpmProvisionedEk, RsaEkCertificateVerifiesAndItsEkActivatesOurCredential) {
  auto st = check_cert("rsa", "rsa");
  ASSERT_TRUE(st.ok()) << st.error().message;
  const Bytes secret = *from_hex("0badc0de0badc0de0badc0de0badc0de0badc0de0badc0de0badc0de0badc0de");
  auto made = make_credential(ek("rsa"), tpm_->read("ak_rsa.name"), secret);
  ASSERT_TRUE(made.ok()) << made.error().message;
  auto out = activate("rsa", "0x81010001", credential_file(*made));
  ASSERT_TRUE(out.ok()) << out.error().message;
  EXPECT_EQ(*out, secret);
}

TEST_F(SwtpmProvisionedEk, EccP384EkCertificateVerifiesAndItsEkActivatesOurCredential) {
  const PublicArea e = ek("ecc");
  ASSERT_TRUE(e.ecc.has_value());
  EXPECT_EQ(e.ecc->curve_id, 0x0004);  // NIST P-384, AES-256 symmetric: the high-range template
  EXPECT_EQ(e.ecc->symmetric.key_bits, 256);
  auto st = check_cert("ecc", "ecc");
  ASSERT_TRUE(st.ok()) << st.error().message;
  const Bytes secret(crypto::digest_size(e.name_alg), 0x3c);
  auto made = make_credential(e, tpm_->read("ak_ecc.name"), secret);
  ASSERT_TRUE(made.ok()) << made.error().message;
  auto out = activate("ecc", "0x81010016", credential_file(*made));
  ASSERT_TRUE(out.ok()) << out.error().message;
  EXPECT_EQ(*out, secret);
}

TEST_F(SwtpmProvisionedEk, CertificateOfTheOtherEkOrAnotherCaIsRefused) {
  auto swapped = check_cert("rsa", "ecc");
  ASSERT_FALSE(swapped.ok());
  EXPECT_NE(swapped.error().message.find("different key"), std::string::npos) << swapped.error().message;
  // The CA of the recorded VM is another swtpm-localca with the same names.
  const fs::path other_root = test::vector_path("ovmf-secureboot/swtpm-localca-rootca-cert.pem");
  if (other_root.empty()) GTEST_SKIP() << "vectors not found";
  const Bytes cert = tpm_->read("ekcert_rsa.der");
  const Bytes issuer = ca_file("issuercert.pem");
  const Bytes root = test::read_file(other_root);
  const ByteView inter[] = {issuer};
  const ByteView anchors[] = {root};
  auto wrong = verify_ek_certificate(ek("rsa"), cert, inter, anchors);
  ASSERT_FALSE(wrong.ok());
  EXPECT_NE(wrong.error().message.find("does not verify"), std::string::npos) << wrong.error().message;
}

}  // namespace
}  // namespace tl::tpm
