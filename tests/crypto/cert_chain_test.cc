// EK certificate chains: the real swtpm-localca chain from the OVMF boot, and
// certificates made here with the openssl command line for the cases a real
// chain does not show (unknown critical extensions, wrong EKU / keyUsage).
#include "crypto/cert_chain.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

#include "support/test_support.h"

namespace tl::crypto {
namespace {

namespace fs = std::filesystem;

struct Vectors {
  Bytes leaf, issuer, root;
};

Vectors load() {
  return {test::read_file(test::vector_path("ovmf-secureboot/ekcert.der")),
          test::read_file(test::vector_path("ovmf-secureboot/issuercert.pem")),
          test::read_file(test::vector_path("ovmf-secureboot/swtpm-localca-rootca-cert.pem"))};
}

#define REQUIRE_EK_VECTORS() TL_REQUIRE_VECTOR(ek_vector_path_, "ovmf-secureboot/ekcert.der")

TEST(CertChain, RealSwtpmEkChainVerifies) {
  REQUIRE_EK_VECTORS();
  const Vectors v = load();
  const ByteView inter[] = {v.issuer};
  const ByteView anchors[] = {v.root};
  auto key = verify_certificate_chain(v.leaf, inter, anchors, CertProfile::tpm_ek);
  ASSERT_TRUE(key.ok()) << key.error().message;
  EXPECT_EQ(key->type(), KeyType::rsa);
  EXPECT_EQ(key->bits(), 2048);
  // A PEM bundle of intermediate + root as anchors is fine too (the issuer is then trusted).
  Bytes bundle = v.issuer;
  bundle.insert(bundle.end(), v.root.begin(), v.root.end());
  const ByteView both[] = {bundle};
  EXPECT_TRUE(verify_certificate_chain(v.leaf, {}, both, CertProfile::tpm_ek).ok());
}

TEST(CertChain, MissingIntermediateWrongRootAndExpiryFail) {
  REQUIRE_EK_VECTORS();
  const Vectors v = load();
  const ByteView inter[] = {v.issuer};
  const ByteView anchors[] = {v.root};
  auto missing = verify_certificate_chain(v.leaf, {}, anchors, CertProfile::tpm_ek);
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.error().message.find("unable to get local issuer certificate"), std::string::npos)
      << missing.error().message;
  // The intermediate is not a trust anchor (no partial chains).
  const ByteView issuer_only[] = {v.issuer};
  EXPECT_FALSE(verify_certificate_chain(v.leaf, {}, issuer_only, CertProfile::tpm_ek).ok());
  // Before the certificates were issued (2026-11-22): not yet valid.
  auto early = verify_certificate_chain(v.leaf, inter, anchors, CertProfile::tpm_ek, int64_t{1700000000});
  ASSERT_FALSE(early.ok());
  EXPECT_NE(early.error().message.find("not yet valid"), std::string::npos) << early.error().message;
  EXPECT_FALSE(verify_certificate_chain(v.leaf, inter, {}, CertProfile::tpm_ek).ok());
  Bytes trailing = v.leaf;
  trailing.push_back(0);
  EXPECT_FALSE(verify_certificate_chain(trailing, inter, anchors, CertProfile::tpm_ek).ok());
}

// A CA and leaf certificates made with the openssl CLI in a temp dir.
class GeneratedChain : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/tl-certchain-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    ASSERT_EQ(sh("openssl req -x509 -newkey rsa:2048 -nodes -keyout ca.key -out ca.pem -subj /CN=test-ek-ca "
                 "-days 30 -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign "
                 "&& openssl req -x509 -newkey rsa:2048 -nodes -keyout other.key -out other.pem "
                 "-subj /CN=test-ek-ca -days 30 -addext basicConstraints=critical,CA:TRUE "
                 "-addext keyUsage=critical,keyCertSign "
                 "&& openssl req -new -newkey rsa:2048 -nodes -keyout ek.key -out ek.csr -subj /CN=ek"),
              0);
  }
  void TearDown() override { fs::remove_all(dir_); }

  int sh(const std::string& cmd) const {
    return std::system(("cd '" + dir_.string() + "' && { " + cmd + " ; } >/dev/null 2>&1").c_str());
  }
  // A leaf signed by the CA with the given extension lines.
  Bytes leaf(const std::string& name, const std::string& extensions) const {
    std::ofstream(dir_ / (name + ".ext")) << extensions;
    EXPECT_EQ(sh("openssl x509 -req -in ek.csr -CA ca.pem -CAkey ca.key -set_serial 7 -days 30 -outform der "
                 "-out " + name + ".der -extfile " + name + ".ext"),
              0);
    return test::read_file(dir_ / (name + ".der"));
  }
  Bytes file(const std::string& name) const { return test::read_file(dir_ / name); }

  Result<PublicKey> verify(ByteView leaf_der, const std::string& anchor = "ca.pem") const {
    const Bytes a = file(anchor);
    const ByteView anchors[] = {a};
    return verify_certificate_chain(leaf_der, {}, anchors, CertProfile::tpm_ek);
  }

  fs::path dir_;
};

constexpr const char* kEkExt =
    "basicConstraints=critical,CA:FALSE\nkeyUsage=critical,keyEncipherment\n"
    "extendedKeyUsage=2.23.133.8.1\n";

TEST_F(GeneratedChain, EkProfileAcceptsTcgShapedLeaf) {
  auto k = verify(leaf("good", kEkExt));
  EXPECT_TRUE(k.ok()) << k.error().message;
  // No EKU and no keyUsage at all is also acceptable under the profile.
  auto bare = verify(leaf("bare", "basicConstraints=critical,CA:FALSE\n"));
  EXPECT_TRUE(bare.ok()) << bare.error().message;
}

TEST_F(GeneratedChain, WrongRootWithTheSameNameFails) {
  auto r = verify(leaf("good", kEkExt), "other.pem");
  ASSERT_FALSE(r.ok());
  // OpenSSL matches the authority key identifier first, so the impostor is never a candidate.
  EXPECT_NE(r.error().message.find("unable to get local issuer certificate"), std::string::npos)
      << r.error().message;
  // The real swtpm chain under this unrelated root fails the same way.
  if (const auto p = test::vector_path("ovmf-secureboot/ekcert.der"); !p.empty()) {
    const Vectors v = load();
    const Bytes ca = file("ca.pem");
    const ByteView inter[] = {v.issuer};
    const ByteView anchors[] = {ca};
    EXPECT_FALSE(verify_certificate_chain(v.leaf, inter, anchors, CertProfile::tpm_ek).ok());
  }
}

TEST_F(GeneratedChain, CriticalSubjectDirectoryAttributesAllowedOnLeafOnly) {
  auto sda = verify(leaf("sda", std::string(kEkExt) + "2.5.29.9=critical,DER:3000\n"));
  EXPECT_TRUE(sda.ok()) << sda.error().message;
  auto unknown = verify(leaf("unknown", std::string(kEkExt) + "1.3.6.1.4.1.99999.1=critical,DER:0500\n"));
  ASSERT_FALSE(unknown.ok());
  EXPECT_NE(unknown.error().message.find("unhandled critical extension"), std::string::npos)
      << unknown.error().message;
  // A non-critical unknown extension is fine (RFC 5280 4.2).
  EXPECT_TRUE(verify(leaf("noncrit", std::string(kEkExt) + "1.3.6.1.4.1.99999.1=DER:0500\n")).ok());
}

TEST_F(GeneratedChain, EkuAndKeyUsageAreChecked) {
  auto eku = verify(leaf("eku", "keyUsage=critical,keyEncipherment\nextendedKeyUsage=serverAuth\n"));
  ASSERT_FALSE(eku.ok());
  EXPECT_NE(eku.error().message.find("2.23.133.8.1"), std::string::npos) << eku.error().message;
  auto ku = verify(leaf("ku", "keyUsage=critical,digitalSignature\nextendedKeyUsage=2.23.133.8.1\n"));
  ASSERT_FALSE(ku.ok());
  EXPECT_NE(ku.error().message.find("keyEncipherment"), std::string::npos) << ku.error().message;
  auto ca = verify(leaf("ca", "basicConstraints=critical,CA:TRUE\nkeyUsage=keyCertSign,keyEncipherment\n"));
  ASSERT_FALSE(ca.ok());
  EXPECT_NE(ca.error().message.find("CA"), std::string::npos) << ca.error().message;
}

TEST(CertChain, ParseCertificatesSplitsPemBundlesAndRejectsGarbage) {
  REQUIRE_EK_VECTORS();
  const Vectors v = load();
  Bytes bundle = v.issuer;
  bundle.insert(bundle.end(), v.root.begin(), v.root.end());
  auto certs = parse_certificates(bundle);
  ASSERT_TRUE(certs.ok()) << certs.error().message;
  EXPECT_EQ(certs->size(), 2u);
  auto der = parse_certificates(v.leaf);
  ASSERT_TRUE(der.ok());
  EXPECT_EQ((*der)[0], v.leaf);
  EXPECT_FALSE(parse_certificates(as_bytes("-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n")).ok());
  EXPECT_FALSE(parse_certificates(as_bytes("not a certificate")).ok());
}

}  // namespace
}  // namespace tl::crypto
