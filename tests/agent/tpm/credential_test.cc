// make_credential (our verifier side, src/tpm/credential.h) -> the agent's
// activate_credential in a real swtpm, with the RSA and the ECC EK; a credential
// for another Name, or malformed inputs, are refused.
#include <gtest/gtest.h>

#include <string>

#include "agent_tpm_fixture.h"
#include "tpm/credential.h"

namespace tl::agent::tpm::testing {
namespace {

class AgentTpmCredential : public SwtpmSuite {
 protected:
  static tl::tpm::MadeCredential make(Tpm& tpm, ByteView name, ByteView secret) {
    auto ek = tpm.endorsement_key();
    EXPECT_TRUE(ek.ok()) << ek.error().message;
    auto made = tl::tpm::make_credential(parse(ek->public_area), name, secret);
    EXPECT_TRUE(made.ok()) << made.error().message;
    return *made;
  }
};

TEST_F(AgentTpmCredential, ActivatesWithTheRsaAndTheEccEk) {
  for (KeyAlg alg : {KeyAlg::rsa2048, KeyAlg::ecc_p256}) {
    Tpm tpm = open({.ek_alg = alg});
    auto ak = tpm.attestation_key();
    ASSERT_TRUE(ak.ok()) << ak.error().message;
    const Bytes secret = bytes_of("0badc0de0badc0de0badc0de0badc0de0badc0de0badc0de0badc0de0badc0de");
    const auto made = make(tpm, ak->name, secret);
    auto out = tpm.activate_credential(made.credential_blob, made.secret);
    ASSERT_TRUE(out.ok()) << key_alg_name(alg) << ": " << out.error().message;
    EXPECT_EQ(to_hex(out->view()), to_hex(secret));
    EXPECT_NOTHING_LOADED(tpm);
  }
}

TEST_F(AgentTpmCredential, CredentialForAnotherNameIsRefused) {
  Tpm tpm = open();
  auto ak = tpm.attestation_key();
  ASSERT_TRUE(ak.ok()) << ak.error().message;
  Bytes other = ak->name;
  other.back() ^= 0x01;
  const auto made = make(tpm, other, Bytes(32, 0x11));
  auto out = tpm.activate_credential(made.credential_blob, made.secret);
  ASSERT_FALSE(out.ok());
  EXPECT_EQ(out.error().reason, "tpm-error");
  EXPECT_NE(out.error().message.find("TPM2_ActivateCredential"), std::string::npos) << out.error().message;
  EXPECT_NOTHING_LOADED(tpm);
  // A credential for the ECC AK does not open with the RSA AK either.
  Bytes ecc_name;
  {
    Tpm ecc = open({.ak_alg = KeyAlg::ecc_p256, .ak_handle = 0x81000012});
    auto a = ecc.attestation_key();
    ASSERT_TRUE(a.ok());
    ecc_name = a->name;
  }
  Tpm again = open();
  const auto for_ecc = make(again, ecc_name, Bytes(32, 0x22));
  EXPECT_FALSE(again.activate_credential(for_ecc.credential_blob, for_ecc.secret).ok());
}

TEST_F(AgentTpmCredential, MalformedInputsAreRefusedBeforeTheTpm) {
  Tpm tpm = open();
  auto ak = tpm.attestation_key();
  ASSERT_TRUE(ak.ok());
  const auto made = make(tpm, ak->name, Bytes(32, 0x33));
  const ByteView blob = made.credential_blob, secret = made.secret;
  auto expect_invalid = [&](ByteView b, ByteView s, const char* what) {
    auto r = tpm.activate_credential(b, s);
    ASSERT_FALSE(r.ok()) << what;
    EXPECT_EQ(r.error().reason, "tpm-invalid-argument") << what << ": " << r.error().message;
  };
  expect_invalid(blob.first(blob.size() - 1), secret, "truncated blob");
  expect_invalid(blob, secret.first(secret.size() - 1), "truncated secret");
  expect_invalid({}, secret, "empty blob");
  Bytes longer(blob.begin(), blob.end());
  longer.push_back(0);
  expect_invalid(longer, secret, "trailing byte");
  Bytes oversized(blob.begin(), blob.end());
  oversized[0] = 0xff;  // TPM2B size far beyond TPM2B_ID_OBJECT's buffer
  expect_invalid(oversized, secret, "oversized blob");
  Bytes big_secret(secret.begin(), secret.end());
  big_secret[0] = 0x7f;
  expect_invalid(blob, big_secret, "oversized secret");
  EXPECT_NOTHING_LOADED(tpm);
}

TEST_F(AgentTpmCredential, NoAkMeansNoActivation) {
  Tpm tpm = open({.ak_handle = 0x81000099});
  auto r = tpm.activate_credential(bytes_of("0002abcd"), bytes_of("0002abcd"));
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("no AK at 0x81000099"), std::string::npos) << r.error().message;
}

}  // namespace
}  // namespace tl::agent::tpm::testing
