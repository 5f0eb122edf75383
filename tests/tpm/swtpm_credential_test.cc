// Credential activation against a real TPM: our make_credential, for RSA and ECC
// EKs made by tpm2_createek, and the TPM's TPM2_ActivateCredential (through
// tpm2_activatecredential and the tpm2-tools credential file). The TPM must
// return our secret, and must refuse a credential made for another AK, a blob
// or secret with one flipped byte.
#include <gtest/gtest.h>

#include <cstdio>
#include <memory>
#include <optional>
#include <string>

#include "common/hex.h"
#include "swtpm.h"
#include "tpm/credential.h"
#include "tpm/public_area.h"

namespace tl::tpm {
namespace {

class SwtpmCredential : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    auto s = test::Swtpm::start();
    if (!s) {
      setup_error_ = s.error().message;
      return;
    }
    tpm_ = std::move(*s);
    // EKs with the default (low-range) templates; AKs under each, plus a second
    // AK under the RSA EK for the wrong-name case.
    const char* cmds[] = {
        "tpm2_createek -c ek_rsa.ctx -G rsa -u ek_rsa.pub",
        "tpm2_createak -C ek_rsa.ctx -c ak_rsa.ctx -G rsa -g sha256 -s rsassa -u ak_rsa.pub -n ak_rsa.name",
        "tpm2_createak -C ek_rsa.ctx -c ak2_rsa.ctx -G rsa -g sha256 -s rsassa -u ak2_rsa.pub -n ak2_rsa.name",
        "tpm2_createek -c ek_ecc.ctx -G ecc -u ek_ecc.pub",
        "tpm2_createak -C ek_ecc.ctx -c ak_ecc.ctx -G ecc -g sha256 -s ecdsa -u ak_ecc.pub -n ak_ecc.name",
    };
    for (const char* c : cmds) {
      if (auto r = tpm_->run(c); !r) {
        setup_error_ = std::string(c) + ": " + r.error().message;
        return;
      }
    }
  }
  static void TearDownTestSuite() {
    tpm_.reset();
    setup_error_.reset();
  }
  void SetUp() override {
    if (setup_error_) FAIL() << "swtpm setup: " << *setup_error_;
  }

  static PublicArea ek(const std::string& alg) {
    auto a = parse_public_area(tpm_->read("ek_" + alg + ".pub"));
    EXPECT_TRUE(a.ok()) << a.error().message;
    return *a;
  }
  static Bytes name(const std::string& ak) { return tpm_->read(ak + ".name"); }

  // tpm2_activatecredential with the EK's policy (PolicySecret on the endorsement
  // hierarchy, as the EK template's authPolicy demands). Returns the recovered
  // credential or the TPM's refusal.
  static Result<Bytes> activate(const std::string& ak, const std::string& ek_alg, ByteView file) {
    tpm_->write("cred.in", file);
    std::remove((tpm_->dir() / "cred.out").c_str());
    auto r = tpm_->run(
        "tpm2_startauthsession --policy-session -S s.ctx && tpm2_policysecret -S s.ctx -c e && "
        "tpm2_activatecredential -c " + ak + ".ctx -C ek_" + ek_alg +
        ".ctx -i cred.in -o cred.out -P session:s.ctx; rc=$?; "
        "tpm2_flushcontext s.ctx >/dev/null 2>&1; test $rc -eq 0");
    if (!r) return r.take_error();
    return tpm_->read("cred.out");
  }

  // The refusal must come from TPM2_ActivateCredential itself (a TPM response
  // code), not from the session setup or the file reader.
  static void expect_tpm_refusal(const std::string& message) {
    EXPECT_NE(message.find("Esys_ActivateCredential"), std::string::npos) << message;
    std::printf("refused as expected: %s\n", first_line_with(message, "ErrorCode").c_str());
  }
  static std::string first_line_with(const std::string& text, const std::string& needle) {
    const size_t at = text.find(needle);
    if (at == std::string::npos) return text;
    const size_t begin = text.rfind('\n', at) == std::string::npos ? 0 : text.rfind('\n', at) + 1;
    return text.substr(begin, text.find('\n', at) - begin);
  }

  static inline std::unique_ptr<test::Swtpm> tpm_;
  static inline std::optional<std::string> setup_error_;
};

TEST_F(SwtpmCredential, RsaEkActivatesOurCredential) {
  const Bytes secret = *from_hex("00112233445566778899aabbccddeeff0123456789abcdef0011223344556677");
  auto made = make_credential(ek("rsa"), name("ak_rsa"), secret);
  ASSERT_TRUE(made.ok()) << made.error().message;
  auto out = activate("ak_rsa", "rsa", credential_file(*made));
  ASSERT_TRUE(out.ok()) << out.error().message;
  EXPECT_EQ(to_hex(*out), to_hex(secret));
  // A short secret too (any size up to the nameAlg digest).
  const Bytes short_secret = *from_hex("c0ffee");
  auto made2 = make_credential(ek("rsa"), name("ak_rsa"), short_secret);
  ASSERT_TRUE(made2.ok());
  auto out2 = activate("ak_rsa", "rsa", credential_file(*made2));
  ASSERT_TRUE(out2.ok()) << out2.error().message;
  EXPECT_EQ(*out2, short_secret);
}

TEST_F(SwtpmCredential, EccEkActivatesOurCredential) {
  const PublicArea e = ek("ecc");
  ASSERT_TRUE(e.ecc.has_value());
  const Bytes secret = *from_hex("a5a5a5a5000102030405060708090a0b0c0d0e0f101112131415161718195a5a");
  auto made = make_credential(e, name("ak_ecc"), secret);
  ASSERT_TRUE(made.ok()) << made.error().message;
  EXPECT_EQ(made->secret.size(), 2u + 2 + 32 + 2 + 32);  // TPMS_ECC_POINT on P-256
  auto out = activate("ak_ecc", "ecc", credential_file(*made));
  ASSERT_TRUE(out.ok()) << out.error().message;
  EXPECT_EQ(to_hex(*out), to_hex(secret));
}

TEST_F(SwtpmCredential, CredentialForAnotherAkIsRefused) {
  // Made for ak2's Name, activated with ak: the TPM's integrity check fails.
  auto made = make_credential(ek("rsa"), name("ak2_rsa"), Bytes(32, 7));
  ASSERT_TRUE(made.ok());
  auto out = activate("ak_rsa", "rsa", credential_file(*made));
  ASSERT_FALSE(out.ok()) << "activated a credential made for another AK";
  expect_tpm_refusal(out.error().message);
  // ...and ak2 itself activates it (the refusal above is about the Name).
  auto good = activate("ak2_rsa", "rsa", credential_file(*made));
  ASSERT_TRUE(good.ok()) << good.error().message;
  EXPECT_EQ(*good, Bytes(32, 7));
}

TEST_F(SwtpmCredential, FlippedBytesAreRefused) {
  for (const std::string alg : {"rsa", "ecc"}) {
    auto made = make_credential(ek(alg), name("ak_" + alg), Bytes(32, 9));
    ASSERT_TRUE(made.ok());
    // One byte of the HMAC, of encIdentity, of the encrypted seed / ephemeral point.
    const std::pair<bool, size_t> flips[] = {
        {true, 4}, {true, made->credential_blob.size() - 1}, {false, 5}, {false, made->secret.size() - 1}};
    for (const auto& [in_blob, at] : flips) {
      MadeCredential bad = *made;
      (in_blob ? bad.credential_blob : bad.secret)[at] ^= 0x01;
      auto out = activate("ak_" + alg, alg, credential_file(bad));
      ASSERT_FALSE(out.ok()) << alg << (in_blob ? " blob" : " secret") << " byte " << at
                             << " flipped and still activated";
      expect_tpm_refusal(out.error().message);
    }
    // The unmodified credential still works after all those refusals.
    auto out = activate("ak_" + alg, alg, credential_file(*made));
    ASSERT_TRUE(out.ok()) << out.error().message;
    EXPECT_EQ(*out, Bytes(32, 9));
  }
}

TEST_F(SwtpmCredential, Tpm2ToolsCredentialFileParses) {
  // tpm2_makecredential's own offline output has the layout credential_file writes.
  auto r = tpm_->run("head -c 32 ak_rsa.name > s32 && tpm2_makecredential -T none -u ek_rsa.pub -s s32 -n $(xxd -p -c 256 ak_rsa.name) "
                     "-o theirs.cred");
  ASSERT_TRUE(r.ok()) << r.error().message;
  auto parsed = parse_credential_file(tpm_->read("theirs.cred"));
  ASSERT_TRUE(parsed.ok()) << parsed.error().message;
  EXPECT_EQ(parsed->secret.size(), 2u + 256);
  EXPECT_EQ(credential_file(*parsed), tpm_->read("theirs.cred"));
}

}  // namespace
}  // namespace tl::tpm
