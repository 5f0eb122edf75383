// Tpm::open, the EK from the default templates, and the persisted AK, on a
// blank swtpm (no EK provisioned, no certificate).
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <string>

#include "agent_tpm_fixture.h"
#include "tpm/constants.h"

namespace tl::agent::tpm::testing {
namespace {

using tl::tpm::PublicArea;

constexpr const char* kEkPolicyHex = "837197674484b3f81a90cc8d46a5d724fd52d76e06520b64f2a1da1b331469aa";

class AgentTpmKeys : public SwtpmSuite {};

// A loopback port nothing listens on (bound, then released).
int closed_port() {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof a;
  ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a);
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  ::close(fd);
  return ntohs(a.sin_port);
}

TEST_F(AgentTpmKeys, OpenFailureNamesTheTcti) {
  const std::string tcti = "swtpm:host=127.0.0.1,port=" + std::to_string(closed_port());
  auto t = Tpm::open(tcti);
  ASSERT_FALSE(t.ok());
  EXPECT_NE(t.error().message.find(tcti), std::string::npos) << t.error().message;
  EXPECT_EQ(t.error().reason, "tpm-unavailable");
  auto bogus = Tpm::open("nosuchtcti:whatever");
  ASSERT_FALSE(bogus.ok());
  EXPECT_NE(bogus.error().message.find("nosuchtcti:whatever"), std::string::npos) << bogus.error().message;
}

// A reboot of the vTPM (swtpm's CMD_INIT) leaves it unstarted: open() must send
// TPM2_Startup(CLEAR) itself. The persisted AK survives the TPM reset.
TEST_F(AgentTpmKeys, OpenStartsATpmThatWasResetAndTheAkSurvives) {
  Bytes ak_public;
  {
    Tpm tpm = open({.ak_handle = 0x81000030});
    auto ak = tpm.attestation_key();
    ASSERT_TRUE(ak.ok()) << ak.error().message;
    ak_public = ak->public_area;
  }
  auto r = swtpm_->run("swtpm_ioctl --tcp 127.0.0.1:" + std::to_string(swtpm_->port() + 1) + " -i");
  ASSERT_TRUE(r.ok()) << r.error().message;
  Tpm tpm = open({.ak_handle = 0x81000030});
  auto ak = tpm.attestation_key();
  ASSERT_TRUE(ak.ok()) << ak.error().message;
  EXPECT_FALSE(ak->created);
  EXPECT_EQ(ak->public_area, ak_public);
  const Bytes nonce = bytes_of("0123");
  auto q = tpm.quote(nonce, std::vector{crypto::HashAlg::sha256}, std::vector<uint32_t>{0});
  ASSERT_TRUE(q.ok()) << q.error().message;
  EXPECT_NOTHING_LOADED(tpm);
}

TEST_F(AgentTpmKeys, RsaEkFromTemplateL1) {
  Tpm tpm = open();
  auto ek = tpm.endorsement_key();
  ASSERT_TRUE(ek.ok()) << ek.error().message;
  EXPECT_EQ(ek->source, EkSource::template_primary);
  EXPECT_EQ(ek->handle, 0u);
  EXPECT_FALSE(ek->certificate.has_value());  // a blank swtpm has none
  const PublicArea a = parse(ek->public_area);
  ASSERT_TRUE(a.rsa.has_value());
  EXPECT_EQ(a.attributes.raw, 0x000300B2u);
  EXPECT_EQ(a.name_alg, crypto::HashAlg::sha256);
  EXPECT_EQ(to_hex(a.auth_policy), kEkPolicyHex);
  EXPECT_EQ(a.rsa->symmetric.algorithm, tl::tpm::alg::kAes);
  EXPECT_EQ(a.rsa->symmetric.key_bits, 128);
  EXPECT_EQ(a.rsa->symmetric.mode, tl::tpm::alg::kCfb);
  EXPECT_EQ(a.rsa->scheme.scheme, tl::tpm::alg::kNull);
  EXPECT_EQ(a.rsa->key_bits, 2048);
  EXPECT_EQ(a.rsa->exponent, 0u);
  EXPECT_EQ(a.rsa->modulus.size(), 256u);
  // A primary from the same template and seed is the same key every time.
  auto again = tpm.endorsement_key();
  ASSERT_TRUE(again.ok()) << again.error().message;
  EXPECT_EQ(again->public_area, ek->public_area);
  EXPECT_NOTHING_LOADED(tpm);
}

TEST_F(AgentTpmKeys, EccEkFromTemplateL2) {
  Tpm tpm = open({.ek_alg = KeyAlg::ecc_p256});
  auto ek = tpm.endorsement_key();
  ASSERT_TRUE(ek.ok()) << ek.error().message;
  EXPECT_EQ(ek->alg, KeyAlg::ecc_p256);
  EXPECT_FALSE(ek->certificate.has_value());
  const PublicArea a = parse(ek->public_area);
  ASSERT_TRUE(a.ecc.has_value());
  EXPECT_EQ(a.attributes.raw, 0x000300B2u);
  EXPECT_EQ(to_hex(a.auth_policy), kEkPolicyHex);
  EXPECT_EQ(a.ecc->curve_id, tl::tpm::curve::kNistP256);
  EXPECT_EQ(a.ecc->symmetric.algorithm, tl::tpm::alg::kAes);
  EXPECT_EQ(a.ecc->symmetric.key_bits, 128);
  EXPECT_EQ(a.ecc->symmetric.mode, tl::tpm::alg::kCfb);
  EXPECT_EQ(a.ecc->scheme.scheme, tl::tpm::alg::kNull);
  EXPECT_EQ(a.ecc->kdf.scheme, tl::tpm::alg::kNull);
  EXPECT_EQ(a.ecc->x.size(), 32u);
  EXPECT_EQ(a.ecc->y.size(), 32u);
  EXPECT_NOTHING_LOADED(tpm);
}

// tpm2-tools' tpm2_createek implements the same profile templates: both EKs
// must be byte-identical (same template, same endorsement seed).
TEST_F(AgentTpmKeys, TemplateEksEqualTpm2CreateekOnes) {
  for (KeyAlg alg : {KeyAlg::rsa2048, KeyAlg::ecc_p256}) {
    Bytes ours;
    {
      Tpm tpm = open({.ek_alg = alg});
      auto ek = tpm.endorsement_key();
      ASSERT_TRUE(ek.ok()) << ek.error().message;
      ours = ek->public_area;
    }  // closed: swtpm serves one connection at a time
    const std::string g = alg == KeyAlg::rsa2048 ? "rsa" : "ecc";
    auto r = swtpm_->run("tpm2_createek -c ek.ctx -G " + g + " -u ek_" + g + ".pub");
    ASSERT_TRUE(r.ok()) << r.error().message;
    auto theirs = tl::tpm::parse_public_area(swtpm_->read("ek_" + g + ".pub"));
    ASSERT_TRUE(theirs.ok()) << theirs.error().message;
    EXPECT_EQ(to_hex(ours), to_hex(theirs->marshaled)) << g;
  }
}

TEST_F(AgentTpmKeys, AkIsCreatedOnceAndFoundAfterReopen) {
  AkInfo first;
  {
    Tpm tpm = open();
    auto ak = tpm.attestation_key();
    ASSERT_TRUE(ak.ok()) << ak.error().message;
    EXPECT_TRUE(ak->created);
    EXPECT_EQ(ak->handle, kDefaultAkHandle);
    first = *ak;
    const PublicArea a = parse(ak->public_area);
    EXPECT_EQ(a.attributes.raw, 0x00050072u);  // fixedTPM|fixedParent|sensitiveDataOrigin|userWithAuth|restricted|sign
    EXPECT_EQ(a.name_alg, crypto::HashAlg::sha256);
    ASSERT_TRUE(a.rsa.has_value());
    EXPECT_EQ(a.rsa->key_bits, 2048);
    EXPECT_EQ(a.rsa->scheme.scheme, tl::tpm::alg::kRsassa);
    EXPECT_EQ(a.rsa->scheme.hash, crypto::HashAlg::sha256);
    EXPECT_EQ(a.rsa->symmetric.algorithm, tl::tpm::alg::kNull);
    auto name = a.name();
    ASSERT_TRUE(name.ok());
    EXPECT_EQ(to_hex(*name), to_hex(ak->name));
    EXPECT_NOTHING_LOADED(tpm);
  }
  Tpm tpm = open();
  auto ak = tpm.attestation_key();
  ASSERT_TRUE(ak.ok()) << ak.error().message;
  EXPECT_FALSE(ak->created);
  EXPECT_EQ(to_hex(ak->public_area), to_hex(first.public_area));
  EXPECT_EQ(to_hex(ak->name), to_hex(first.name));
  EXPECT_NOTHING_LOADED(tpm);
}

TEST_F(AgentTpmKeys, EccAkAtAConfiguredHandle) {
  const Options o{.ak_alg = KeyAlg::ecc_p256, .ak_handle = 0x81000010};
  Bytes public_area;
  {
    Tpm tpm = open(o);
    auto ak = tpm.attestation_key();
    ASSERT_TRUE(ak.ok()) << ak.error().message;
    EXPECT_TRUE(ak->created);
    EXPECT_EQ(ak->handle, 0x81000010u);
    const PublicArea a = parse(ak->public_area);
    ASSERT_TRUE(a.ecc.has_value());
    EXPECT_EQ(a.attributes.raw, 0x00050072u);
    EXPECT_EQ(a.ecc->curve_id, tl::tpm::curve::kNistP256);
    EXPECT_EQ(a.ecc->scheme.scheme, tl::tpm::alg::kEcdsa);
    EXPECT_EQ(a.ecc->scheme.hash, crypto::HashAlg::sha256);
    public_area = ak->public_area;
  }
  Tpm tpm = open(o);
  auto ak = tpm.attestation_key();
  ASSERT_TRUE(ak.ok()) << ak.error().message;
  EXPECT_FALSE(ak->created);
  EXPECT_EQ(ak->public_area, public_area);
}

TEST_F(AgentTpmKeys, HandleHoldingAnotherKindOfKeyIsRefused) {
  {
    Tpm tpm = open({.ak_handle = 0x81000020});  // an RSA AK there
    ASSERT_TRUE(tpm.attestation_key().ok());
  }
  Tpm tpm = open({.ak_alg = KeyAlg::ecc_p256, .ak_handle = 0x81000020});
  auto ak = tpm.attestation_key();
  ASSERT_FALSE(ak.ok());
  EXPECT_EQ(ak.error().reason, "tpm-key-mismatch");
  EXPECT_NE(ak.error().message.find("0x81000020"), std::string::npos) << ak.error().message;
  auto quote = tpm.quote(bytes_of("00112233"), std::vector{crypto::HashAlg::sha256}, std::vector<uint32_t>{0});
  EXPECT_FALSE(quote.ok());
  EXPECT_NOTHING_LOADED(tpm);
}

TEST_F(AgentTpmKeys, AkHandleOutsideTheOwnerPersistentRangeIsRefused) {
  for (uint32_t h : {0x81800000u, 0x81010001u, 0x80000001u, 0x01C00002u}) {
    Tpm tpm = open({.ak_handle = h});
    auto ak = tpm.attestation_key();
    ASSERT_FALSE(ak.ok());
    EXPECT_EQ(ak.error().reason, "tpm-invalid-argument") << ak.error().message;
  }
}

}  // namespace
}  // namespace tl::agent::tpm::testing
