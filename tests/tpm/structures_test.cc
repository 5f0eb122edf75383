// Hostile and edge inputs for the TPM structure readers: every rejection names
// the structure, field and byte offset.
#include <gtest/gtest.h>

#include <string>

#include "common/hex.h"
#include "support/test_support.h"
#include "tpm/attest.h"
#include "tpm/pcr_selection.h"
#include "tpm/public_area.h"
#include "tpm/signature.h"

namespace tl::tpm {
namespace {

Bytes hex(const std::string& h) { return *from_hex(h); }

template <class T>
void expect_error(const Result<T>& r, const std::string& text) {
  ASSERT_FALSE(r.ok()) << "accepted, expected: " << text;
  EXPECT_NE(r.error().message.find(text), std::string::npos) << r.error().message;
}

// A restricted RSA-2048 signing key (RSASSA-SHA256) as tpm2_create -u writes it.
Bytes rsa_tpmt(uint32_t attrs = 0x00050072, const std::string& bits = "0800",
               size_t modulus = 256) {
  char a[9];
  std::snprintf(a, sizeof a, "%08x", attrs);
  std::string h = "0001" "000b" + std::string(a) + "0000" + "0010" + "0014000b" + bits + "00000000";
  char sz[5];
  std::snprintf(sz, sizeof sz, "%04zx", modulus);
  h += sz;
  Bytes out = hex(h);
  for (size_t i = 0; i < modulus; ++i) out.push_back(static_cast<uint8_t>(0x80 | i));
  return out;
}

TEST(PublicArea, RsaDecodesEveryField) {
  auto p = parse_tpmt_public(rsa_tpmt());
  ASSERT_TRUE(p.ok()) << p.error().message;
  EXPECT_EQ(p->type, 0x0001);
  EXPECT_EQ(p->name_alg, crypto::HashAlg::sha256);
  EXPECT_EQ(p->attributes.names(),
            (std::vector<std::string>{"fixedTPM", "fixedParent", "sensitiveDataOrigin",
                                      "userWithAuth", "restricted", "sign"}));
  ASSERT_TRUE(p->rsa.has_value());
  EXPECT_EQ(p->rsa->symmetric.algorithm, 0x0010);
  EXPECT_EQ(p->rsa->scheme.scheme, 0x0014);
  EXPECT_EQ(p->rsa->scheme.hash, crypto::HashAlg::sha256);
  EXPECT_EQ(p->rsa->effective_exponent(), 65537u);
  EXPECT_EQ(p->rsa->modulus.size(), 256u);
  auto name = p->name();
  ASSERT_TRUE(name.ok());
  EXPECT_EQ(name->size(), 34u);
  EXPECT_EQ((*name)[0], 0x00);
  EXPECT_EQ((*name)[1], 0x0b);
  auto key = p->public_key();
  ASSERT_TRUE(key.ok()) << key.error().message;
  EXPECT_EQ(key->bits(), 2048);
}

TEST(PublicArea, Tpm2bWrapperAndDetection) {
  Bytes t = rsa_tpmt();
  Bytes b{static_cast<uint8_t>(t.size() >> 8), static_cast<uint8_t>(t.size())};
  b.insert(b.end(), t.begin(), t.end());
  auto p = parse_tpm2b_public(b);
  ASSERT_TRUE(p.ok()) << p.error().message;
  EXPECT_EQ(p->marshaled, t);  // the Name is over TPMT_PUBLIC, without the size
  EXPECT_TRUE(parse_public_area(b).ok());
  EXPECT_TRUE(parse_public_area(t).ok());
  b[1] ^= 1;
  expect_error(parse_tpm2b_public(b), "TPM2B_PUBLIC.size at offset 0x0");
  Bytes tail = t;
  tail.push_back(0);
  expect_error(parse_tpmt_public(tail), "TPMT_PUBLIC at offset 0x118: 1 trailing bytes");
}

TEST(PublicArea, RejectsBadFields) {
  expect_error(parse_tpmt_public(rsa_tpmt(0x00050073)), "TPMT_PUBLIC.objectAttributes at offset 0x4: reserved bits");
  expect_error(parse_tpmt_public(rsa_tpmt(0x00050072, "07e8")), "TPMT_PUBLIC.parameters.rsaDetail.keyBits at offset 0x10: unsupported RSA key size 2024");
  expect_error(parse_tpmt_public(rsa_tpmt(0x00050072, "0800", 255)), "TPMT_PUBLIC.unique.rsa.size at offset 0x16: 255 bytes but keyBits is 2048");
  expect_error(parse_tpmt_public(rsa_tpmt(0x00050072, "0800", 513)), "TPMT_PUBLIC.unique.rsa.size at offset 0x16: 513 exceeds the maximum of 512");
  Bytes t = rsa_tpmt();
  t[1] = 0x08;  // KEYEDHASH
  expect_error(parse_tpmt_public(t), "TPMT_PUBLIC.type at offset 0x0: unsupported key type TPM_ALG_KEYEDHASH");
  t = rsa_tpmt();
  t[3] = 0x99;
  expect_error(parse_tpmt_public(t), "TPMT_PUBLIC.nameAlg at offset 0x2: unknown hash algorithm 0x0099");
  t = rsa_tpmt();
  t[13] = 0x18;  // ECDSA is not an RSA scheme
  expect_error(parse_tpmt_public(t), "rsaDetail.scheme.scheme at offset 0xc: scheme TPM_ALG_ECDSA not allowed here");
  t = rsa_tpmt();
  t[11] = 0x07;  // symmetric = MGF1
  expect_error(parse_tpmt_public(t), "rsaDetail.symmetric.algorithm at offset 0xa: unknown symmetric algorithm TPM_ALG_MGF1");
  for (size_t cut = 0; cut < t.size(); cut += 17) {
    Bytes c(t.begin(), t.begin() + static_cast<long>(cut));
    EXPECT_FALSE(parse_tpmt_public(c).ok()) << cut;
  }
  // A template (empty unique) parses but is not a key.
  auto tmpl = parse_tpmt_public(rsa_tpmt(0x00050072, "0800", 0));
  ASSERT_TRUE(tmpl.ok());
  expect_error(tmpl->public_key(), "template");
}

TEST(PublicArea, EccDecodesAndChecksCoordinateSizes) {
  // ECC P-256 restricted ECDSA-SHA256 signing key with a point from the curve (the generator).
  const std::string gx = "6b17d1f2e12c4247f8bce6e563a440f277037d812deb33a0f4a13945d898c296";
  const std::string gy = "4fe342e2fe1a7f9b8ee7eb4a7c0f9e162bce33576b315ececbb6406837bf51f5";
  const std::string head = "0023000b000500720000" "0010" "0018000b" "0003" "0010";
  auto p = parse_tpmt_public(hex(head + "0020" + gx + "0020" + gy));
  ASSERT_TRUE(p.ok()) << p.error().message;
  ASSERT_TRUE(p->ecc.has_value());
  EXPECT_EQ(p->ecc->curve_id, 0x0003);
  EXPECT_EQ(p->ecc->kdf.scheme, 0x0010);
  auto k = p->public_key();
  ASSERT_TRUE(k.ok()) << k.error().message;
  EXPECT_EQ(k->type(), crypto::KeyType::ec);
  expect_error(parse_tpmt_public(hex(head + "001f" + gx.substr(2) + "0020" + gy)),
               "TPMT_PUBLIC.unique.ecc.x.size at offset 0x14: 31 bytes, curve needs 32");
  expect_error(parse_tpmt_public(hex("0023000b000500720000" "0010" "0018000b" "0099" "0010" "00000000")),
               "eccDetail.curveID at offset 0x10: unknown curve 0x0099");
  // A point not on the curve is refused when converting.
  auto off = parse_tpmt_public(hex(head + "0020" + gx + "0020" + gx));
  ASSERT_TRUE(off.ok());
  EXPECT_FALSE(off->public_key().ok());
}

TEST(PcrSelection, Decodes) {
  auto s = parse_pcr_selection(hex("00000002" "000b03830001" "000403000080"));
  ASSERT_TRUE(s.ok()) << s.error().message;
  ASSERT_EQ(s->banks.size(), 2u);
  EXPECT_EQ(s->banks[0].pcrs, (std::vector<uint32_t>{0, 1, 7, 16}));
  EXPECT_EQ(s->banks[1].pcrs, (std::vector<uint32_t>{23}));
  EXPECT_EQ(s->to_string(), "sha256:0,1,7,16+sha1:23");
  EXPECT_TRUE(s->contains(crypto::HashAlg::sha1, 23));
  EXPECT_FALSE(s->contains(crypto::HashAlg::sha1, 0));
}

TEST(PcrSelection, RejectsHostileInput) {
  expect_error(parse_pcr_selection(hex("00000011")), "TPML_PCR_SELECTION.count at offset 0x0: 17 exceeds 16");
  expect_error(parse_pcr_selection(hex("00000001" "009903ff")), "pcrSelections[0].hash at offset 0x4: unknown hash algorithm 0x0099");
  expect_error(parse_pcr_selection(hex("00000001" "000b05ffffffffff")), "pcrSelections[0].sizeofSelect at offset 0x6: 5 exceeds 4");
  expect_error(parse_pcr_selection(hex("00000002" "000b03010000" "000b03000001")), "pcrSelections[1].hash at offset 0xa: bank sha256 listed twice");
  expect_error(parse_pcr_selection(hex("00000001" "000b0301")), "pcrSelections[0].pcrSelect at offset 0x7: need 3 bytes, only 1 left");
  expect_error(parse_pcr_selection(hex("00000000" "00")), "1 trailing bytes");
}

TEST(Attest, RecordedQuoteDecodes) {
  TL_REQUIRE_VECTOR(path, "ovmf-secureboot/quote.msg");
  auto a = parse_attest(test::read_file(path));
  ASSERT_TRUE(a.ok()) << a.error().message;
  EXPECT_EQ(a->magic, 0xff544347u);
  EXPECT_EQ(a->type, 0x8018);
  EXPECT_EQ(a->qualified_signer.size(), 34u);
  EXPECT_EQ(to_hex(a->extra_data), "e5873df17c93f2d60c33b0a89abd07484a191259");
  EXPECT_EQ(a->clock_info.reset_count, 3u);
  EXPECT_TRUE(a->clock_info.safe);
  ASSERT_TRUE(a->quote.has_value());
  EXPECT_EQ(a->quote->pcr_select.to_string(), "sha256:0,1,2,3,4,5,6,7,8,9,14");
  EXPECT_EQ(a->quote->pcr_digest.size(), 32u);
}

TEST(Attest, RejectsHostileInput) {
  TL_REQUIRE_VECTOR(path, "ovmf-secureboot/quote.msg");
  const Bytes good = test::read_file(path);
  Bytes m = good;
  m[6] = 0x00;
  m[7] = 0x43;  // qualifiedSigner.size 67 > 66
  expect_error(parse_attest(m), "TPMS_ATTEST.qualifiedSigner.size at offset 0x6: 67 exceeds the maximum of 66");
  m = good;
  m[0x50] = 2;  // clockInfo.safe
  expect_error(parse_attest(m), "TPMS_ATTEST.clockInfo.safe at offset 0x50: 2 is not a TPMI_YES_NO");
  m = good;
  m[5] = 0x01;
  expect_error(parse_attest(m), "TPMS_ATTEST.type at offset 0x4: 0x8001 is not a TPMI_ST_ATTEST value");
  for (size_t cut = 0; cut < good.size(); ++cut) {
    EXPECT_FALSE(parse_attest(ByteView(good).first(cut)).ok()) << cut;
  }
  // A certify structure decodes its own union.
  Bytes cert = hex("ff544347" "8017" "0000" "0000" "0000000000000001" "00000002" "00000003" "01"
                   "0000000000000004" "0002aabb" "0003ccddee");
  auto c = parse_attest(cert);
  ASSERT_TRUE(c.ok()) << c.error().message;
  ASSERT_TRUE(c->certify.has_value());
  EXPECT_EQ(to_hex(c->certify->qualified_name), "ccddee");
  EXPECT_EQ(c->clock_info.restart_count, 3u);
  EXPECT_EQ(c->firmware_version, 4u);
}

TEST(Signature, DecodesAndRejects) {
  auto e = parse_signature(hex("0018000b" "000201ff" "000102"));
  ASSERT_TRUE(e.ok()) << e.error().message;
  EXPECT_EQ(to_hex(e->ecc_r), "01ff");
  EXPECT_EQ(to_hex(e->ecc_s), "02");
  expect_error(parse_signature(hex("0005000b")), "TPMT_SIGNATURE.sigAlg at offset 0x0: unsupported signature algorithm TPM_ALG_HMAC");
  expect_error(parse_signature(hex("0010")), "unsupported signature algorithm TPM_ALG_NULL");
  expect_error(parse_signature(hex("0014000b0201")), "TPMT_SIGNATURE.signature.sig.size at offset 0x4: 513 exceeds the maximum of 512");
  expect_error(parse_signature(hex("0018000b" "0043")), "signatureR.size at offset 0x4: 67 exceeds the maximum of 66");
  expect_error(parse_signature(hex("0014000b000100ff")), "TPMT_SIGNATURE at offset 0x7: 1 trailing bytes");
}

}  // namespace
}  // namespace tl::tpm
