// parse_pcr_file: the four formats, and hostile input rejected with line / offset.
#include <gtest/gtest.h>

#include <cstring>
#include <string>

#include "common/hex.h"
#include "support/test_support.h"
#include "tpm/pcr_file.h"

namespace tl::tpm {
namespace {

using crypto::HashAlg;

const std::string k256a(64, 'a');
const std::string k1b(40, 'b');

Result<PcrValues> parse_text(const std::string& s) { return parse_pcr_file(as_bytes(s)); }

void expect_error(const Result<PcrValues>& r, const std::string& text) {
  ASSERT_FALSE(r.ok()) << "accepted, expected: " << text;
  EXPECT_NE(r.error().message.find(text), std::string::npos) << r.error().message;
}

TEST(PcrFile, Yaml) {
  auto p = parse_text("  sha1:\n    0 : 0x" + k1b + "\n  sha256:\n    0 : 0x" + k256a +
                      "\n    10: 0x" + std::string(64, 'F') + "\n");
  ASSERT_TRUE(p.ok()) << p.error().message;
  EXPECT_EQ(to_hex(p->at(HashAlg::sha1).at(0)), k1b);
  EXPECT_EQ(to_hex(p->at(HashAlg::sha256).at(10)), std::string(64, 'f'));
  // tpm2_quote's stdout wraps the same under "pcrs:".
  EXPECT_TRUE(parse_text("pcrs:\n  sha256:\n    0 : 0x" + k256a + "\n").ok());
}

TEST(PcrFile, YamlHostile) {
  expect_error(parse_text("sha256:\n  0 : 0x" + k256a + "\n  1 : 0xZZ\n"), "tpm2_pcrread YAML line 3: PCR 1:");
  expect_error(parse_text("sha256:\n  24 : 0x" + k256a + "\n"), "line 2: PCR index 24 is out of range");
  expect_error(parse_text("sha256:\n  0 : 0x" + k256a + "\n  0 : 0x" + k256a + "\n"), "line 3: sha256 PCR 0 given twice");
  expect_error(parse_text("md5:\n  0 : 0x00\n"), "line 1: unknown PCR bank 'md5'");
  expect_error(parse_text("  0 : 0x" + k256a + "\n"), "line 1: PCR value before any 'bank:' line");
  expect_error(parse_text("sha256:\n  0 : 0x" + k1b + "\n"), "line 2: sha256 PCR 0 value is 20 bytes, expected 32");
  expect_error(parse_text("sha256:\n  x : 0x" + k256a + "\n"), "line 2: PCR index 'x' is not a decimal number");
  expect_error(parse_text("sha256:\n  -1 : 0x" + k256a + "\n"), "line 2:");
  expect_error(parse_text("sha256:\nhello\n"), "line 2: expected");
  expect_error(parse_text("sha256:\n"), "no PCR values found");
  expect_error(parse_text("  \n\n"), "only whitespace");
  expect_error(parse_pcr_file({}), "PCR file is empty");
}

TEST(PcrFile, SysfsLines) {
  TL_REQUIRE_VECTOR(path, "ovmf-secureboot/pcrs_guest_sysfs_unprovisioned_swtpm_4banks.txt");
  auto p = parse_pcr_file(test::read_file(path));
  ASSERT_TRUE(p.ok()) << p.error().message;
  EXPECT_EQ(p->size(), 4u);
  EXPECT_EQ(p->at(HashAlg::sha1).size(), 24u);
  EXPECT_EQ(p->at(HashAlg::sha512).at(23).size(), 64u);
  EXPECT_EQ(to_hex(p->at(HashAlg::sha1).at(0)), "732c403b1a0835cf6fd49faeb6ee40f3dfdac6bc");
}

TEST(PcrFile, SysfsHostile) {
  expect_error(parse_text("PCR sha256 0 " + k256a + "\nPCR sha256 1\n"), "PCR lines line 2: expected 'PCR <bank> <index> <hex>'");
  expect_error(parse_text("PCR sha256 0 " + k256a + "\nPCR sha256 0 " + k256a + "\n"), "line 2: sha256 PCR 0 given twice");
  expect_error(parse_text("PCR sha384 0 " + k256a + "\n"), "line 1: sha384 PCR 0 value is 32 bytes, expected 48");
  expect_error(parse_text("PCR sha256 99 " + k256a + "\n"), "line 1: PCR index 99 is out of range");
  expect_error(parse_text("PCR sha256 0 " + k256a + "\nXCR sha256 1 " + k256a + "\n"), "line 2:");
}

TEST(PcrFile, Json) {
  auto p = parse_text(R"({"sha256": {"0": ")" + k256a + R"(", "7": ")" + k256a + R"("}, "sha1": {"1": ")" + k1b + R"("}})");
  ASSERT_TRUE(p.ok()) << p.error().message;
  EXPECT_EQ(p->at(HashAlg::sha256).size(), 2u);
  EXPECT_EQ(p->at(HashAlg::sha1).size(), 1u);
}

TEST(PcrFile, JsonHostile) {
  expect_error(parse_text(R"({"sha256": {"0": ")" + k256a + R"(",})"), "PCR JSON at byte");
  expect_error(parse_text(R"({"sha256": {"0": 5}})"), R"(PCR JSON sha256["0"]: value must be a hex string)");
  expect_error(parse_text(R"({"sha256": {"30": ")" + k256a + R"("}})"), R"(sha256["30"]: PCR index 30 is out of range)");
  expect_error(parse_text(R"({"sha999": {}})"), "unknown PCR bank 'sha999'");
  expect_error(parse_text(R"({"sha256": ["x"]})"), "bank sha256 must map PCR index to hex");
  expect_error(parse_text(R"({"sha256": {"0": "abc"}})"), R"(sha256["0"]:)");
  expect_error(parse_text(R"({})"), "no PCR values found");
  // A number nlohmann cannot hold throws out_of_range, not parse_error (fuzzer finding).
  expect_error(parse_text(R"({"sha256": {"0": 222e222222}})"), "PCR JSON: not usable JSON");
  expect_error(parse_text(R"({"sha256": {"0": ")" + k256a + R"("}} x)"), "PCR JSON at byte");
}

// tpm2_quote -o / tpm2_pcrread -F serialized -o, as recorded in the OVMF VM.
TEST(PcrFile, Tpm2ToolsBinary) {
  TL_REQUIRE_VECTOR(path, "ovmf-secureboot/quote.pcrs");
  auto p = parse_pcr_file(test::read_file(path));
  ASSERT_TRUE(p.ok()) << p.error().message;
  ASSERT_EQ(p->at(HashAlg::sha256).size(), 11u);
  EXPECT_EQ(to_hex(p->at(HashAlg::sha256).at(0)),
            "90040fdebcaef6fed8beec816d2a56ff8d77f91516bd053e493374c25562f11c");
  EXPECT_TRUE(p->at(HashAlg::sha256).count(14));
}

TEST(PcrFile, Tpm2ToolsBinaryHostile) {
  TL_REQUIRE_VECTOR(path, "ovmf-secureboot/quote.pcrs");
  const Bytes good = test::read_file(path);
  ASSERT_EQ(good.size(), 1200u);
  Bytes b = good;
  b[0] = 17;
  expect_error(parse_pcr_file(b), "TPML_PCR_SELECTION.count at offset 0x0: 17 exceeds 16");
  b = good;
  b[4] = 0x99;  // hash of entry 0
  expect_error(parse_pcr_file(b), "pcrSelections[0].hash at offset 0x4: unknown hash algorithm 0x0099");
  b = good;
  b[6] = 5;  // sizeofSelect
  expect_error(parse_pcr_file(b), "pcrSelections[0].sizeofSelect at offset 0x6: 5 exceeds 4");
  b = good;
  b[10] = 0x01;  // 4th select byte: PCR 24
  b[6] = 4;
  expect_error(parse_pcr_file(b), "selects PCR 24");
  b = good;
  b[132] = 3;  // digest list count
  expect_error(parse_pcr_file(b), "digest list count at offset 0x84: 3 lists but the selection has 11 PCRs");
  b = good;
  b[136] = 9;  // first TPML_DIGEST.count
  expect_error(parse_pcr_file(b), "TPML_DIGEST[0].count at offset 0x88: 9 does not fit");
  b = good;
  b[140] = 20;  // first digest size
  expect_error(parse_pcr_file(b), "TPML_DIGEST[0].digests[0].size at offset 0x8c: 20 but sha256 PCR 0 needs 32");
  b = good;
  b[136 + 532] = 2;  // second list holds 3, claims 2
  expect_error(parse_pcr_file(b), "digest lists hold 10 values but the selection has 11 PCRs");
  b = good;
  b.push_back(0);
  expect_error(parse_pcr_file(b), "1065 bytes of digest lists, expected 1064");
  expect_error(parse_pcr_file(ByteView(good).first(100)), "shorter than the 136-byte header");
  for (size_t cut = 100; cut < good.size(); cut += 37) {
    EXPECT_FALSE(parse_pcr_file(ByteView(good).first(cut)).ok()) << cut;
  }
  // A second entry repeating the bank.
  b = good;
  b[0] = 2;
  std::memcpy(&b[12], &good[4], 8);
  expect_error(parse_pcr_file(b), "pcrSelections[1].hash at offset 0xc: bank listed twice");
}

}  // namespace
}  // namespace tl::tpm
