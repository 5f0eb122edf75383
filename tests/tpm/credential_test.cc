// make_credential's input checks and output shapes, the tpm2-tools credential
// file, and EK certificate checks with the recorded swtpm EK. Whether a TPM
// accepts the output is swtpm_credential_test's job.
#include "tpm/credential.h"

#include <gtest/gtest.h>

#include "support/test_support.h"
#include "tpm/constants.h"
#include "tpm/ek_certificate.h"
#include "tpm/public_area.h"

namespace tl::tpm {
namespace {

PublicArea recorded_ek() {
  auto ek = parse_public_area(test::read_file(test::vector_path("ovmf-secureboot/ek.pub")));
  EXPECT_TRUE(ek.ok()) << ek.error().message;
  return *ek;
}

Bytes ak_name() { return *from_hex("000b" + std::string(64, 'a')); }

TEST(MakeCredential, RsaEkShapesAndFreshness) {
  TL_REQUIRE_VECTOR(p, "ovmf-secureboot/ek.pub");
  const PublicArea ek = recorded_ek();
  const Bytes secret(32, 0x5a);
  auto a = make_credential(ek, ak_name(), secret);
  ASSERT_TRUE(a.ok()) << a.error().message;
  // TPM2B_ID_OBJECT: size 52 = TPM2B_DIGEST hmac (2 + 32) + encIdentity (2 + 32 bytes).
  ASSERT_EQ(a->credential_blob.size(), 2u + 2 + 32 + 2 + 32);
  EXPECT_EQ(a->credential_blob[0], 0);
  EXPECT_EQ(a->credential_blob[1], 2 + 32 + 2 + 32);
  EXPECT_EQ(a->credential_blob[3], 32);  // integrityHMAC.size
  ASSERT_EQ(a->secret.size(), 2u + 256);  // RSA-2048 OAEP ciphertext
  EXPECT_EQ(a->secret[0], 1);
  EXPECT_EQ(a->secret[1], 0);
  auto b = make_credential(ek, ak_name(), secret);
  ASSERT_TRUE(b.ok());
  EXPECT_NE(a->secret, b->secret);  // a fresh seed every time
  EXPECT_NE(a->credential_blob, b->credential_blob);
}

TEST(MakeCredential, RefusesBadInputs) {
  TL_REQUIRE_VECTOR(p, "ovmf-secureboot/ek.pub");
  const PublicArea ek = recorded_ek();
  EXPECT_FALSE(make_credential(ek, ak_name(), {}).ok());
  EXPECT_FALSE(make_credential(ek, ak_name(), Bytes(33, 1)).ok());
  EXPECT_TRUE(make_credential(ek, ak_name(), Bytes(1, 1)).ok());
  EXPECT_FALSE(make_credential(ek, *from_hex("000b00"), Bytes(8, 1)).ok());
  EXPECT_FALSE(make_credential(ek, *from_hex("1234" + std::string(64, 'a')), Bytes(8, 1)).ok());
  PublicArea signer = ek;
  signer.attributes.decrypt = false;
  signer.attributes.sign = true;
  auto s = make_credential(signer, ak_name(), Bytes(8, 1));
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.error().message.find("restricted decryption"), std::string::npos);
  PublicArea no_sym = ek;
  no_sym.rsa->symmetric = SymmetricDef{};
  EXPECT_FALSE(make_credential(no_sym, ak_name(), Bytes(8, 1)).ok());
}

TEST(CredentialFile, RoundTripsAndRejectsMalformedFiles) {
  MadeCredential m{*from_hex("0004aabbccdd"), *from_hex("0002eeff")};
  const Bytes f = credential_file(m);
  EXPECT_EQ(to_hex(f), "badcc0de000000010004aabbccdd0002eeff");
  auto back = parse_credential_file(f);
  ASSERT_TRUE(back.ok()) << back.error().message;
  EXPECT_EQ(back->credential_blob, m.credential_blob);
  EXPECT_EQ(back->secret, m.secret);

  auto reason = [](const std::string& hex) {
    auto r = parse_credential_file(*from_hex(hex));
    EXPECT_FALSE(r.ok()) << hex;
    return r.ok() ? std::string() : r.error().message;
  };
  EXPECT_NE(reason("badcc0df000000010004aabbccdd0002eeff").find("magic at offset 0x0"), std::string::npos);
  EXPECT_NE(reason("badcc0de000000020004aabbccdd0002eeff").find("version at offset 0x4"), std::string::npos);
  EXPECT_NE(reason("badcc0de000000010004aabbccdd0002ee").find("TPM2B_ENCRYPTED_SECRET"), std::string::npos);
  EXPECT_NE(reason("badcc0de000000010004aabbccdd0002eeff00").find("trailing"), std::string::npos);
  EXPECT_NE(reason("badcc0de000000010085" + std::string(0x85 * 2, '0') + "0000").find("exceeds"),
            std::string::npos);
  EXPECT_FALSE(parse_credential_file({}).ok());
}

TEST(EkCertificate, RecordedEkMatchesItsCertificateAndAnotherKeyDoesNot) {
  TL_REQUIRE_VECTOR(p, "ovmf-secureboot/ek.pub");
  const Bytes cert = test::read_file(test::vector_path("ovmf-secureboot/ekcert.der"));
  const Bytes issuer = test::read_file(test::vector_path("ovmf-secureboot/issuercert.pem"));
  const Bytes root = test::read_file(test::vector_path("ovmf-secureboot/swtpm-localca-rootca-cert.pem"));
  const ByteView inter[] = {issuer};
  const ByteView anchors[] = {root};
  const PublicArea ek = recorded_ek();
  auto ok = verify_ek_certificate(ek, cert, inter, anchors);
  EXPECT_TRUE(ok.ok()) << ok.error().message;

  PublicArea other = ek;
  other.rsa->modulus[10] ^= 0x01;
  auto mismatch = verify_ek_certificate(other, cert, inter, anchors);
  ASSERT_FALSE(mismatch.ok());
  EXPECT_NE(mismatch.error().message.find("different key"), std::string::npos) << mismatch.error().message;

  auto no_inter = verify_ek_certificate(ek, cert, {}, anchors);
  ASSERT_FALSE(no_inter.ok());
  EXPECT_NE(no_inter.error().message.find("EK certificate: certificate chain does not verify"),
            std::string::npos)
      << no_inter.error().message;
}

}  // namespace
}  // namespace tl::tpm
