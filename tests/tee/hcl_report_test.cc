#include "tee/hcl_report.h"

#include <gtest/gtest.h>

#include <cstring>
#include <string>

#include "common/byte_reader.h"
#include "crypto/digest.h"
#include "support/test_support.h"

namespace tl::tee {
namespace {

using json = nlohmann::json;

constexpr const char* kTdxHcl = "cvm/trustee-az-tdx-vtpm/hcl-report.bin";
constexpr const char* kSnpEvidenceV0 = "cvm/trustee-az-snp-vtpm-evidence/evidence-v0.json";

void put_u32(Bytes& b, size_t off, uint32_t v) {
  for (int i = 0; i < 4; ++i) b[off + static_cast<size_t>(i)] = static_cast<uint8_t>(v >> (8 * i));
}

uint32_t get_u32(const Bytes& b, size_t off) {
  uint32_t v = 0;
  for (int i = 3; i >= 0; --i) v = (v << 8) | b[off + static_cast<size_t>(i)];
  return v;
}

// The vector's header and hardware report with other runtime data, every size
// field adjusted so only the runtime data differs.
Bytes with_runtime(const Bytes& base, std::string_view runtime) {
  Bytes b(kHclRuntimeDataOffset + runtime.size());
  std::memcpy(b.data(), base.data(), kHclRuntimeDataOffset);
  std::memcpy(b.data() + kHclRuntimeDataOffset, runtime.data(), runtime.size());
  put_u32(b, 8, static_cast<uint32_t>(b.size()));
  put_u32(b, kHclRequestDataOffset, static_cast<uint32_t>(20 + runtime.size()));
  put_u32(b, kHclRequestDataOffset + 16, static_cast<uint32_t>(runtime.size()));
  return b;
}

void expect_malformed(const Bytes& b, const std::string& needle) {
  auto r = parse_hcl_report(b);
  ASSERT_FALSE(r.ok()) << "expected an error containing '" << needle << "'";
  EXPECT_EQ(r.error().reason, "hcl-report-malformed") << r.error().message;
  EXPECT_NE(r.error().message.find(needle), std::string::npos) << r.error().message;
}

class HclTdx : public ::testing::Test {
 protected:
  void SetUp() override {
    const auto p = test::vector_path(kTdxHcl);
    if (p.empty()) GTEST_SKIP() << "vector " << kTdxHcl << " not found (set TL_SHARED_DIR)";
    bytes = test::read_file(p);
  }
  Bytes bytes;
};

TEST_F(HclTdx, ParsesTheTdxReportAndItsRuntimeData) {
  auto r = parse_hcl_report(bytes);
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->hardware, HclHardware::tdx);
  EXPECT_EQ(r->version, 2u);
  EXPECT_EQ(r->report_size, kHclRuntimeDataOffset + r->runtime_data.size());
  EXPECT_EQ(r->hardware_report.size(), 1024u);
  EXPECT_EQ(r->hash_type, 1u);
  EXPECT_EQ(r->runtime_data_version, 1u);
  // The runtime data is exactly the bytes after the request data, ending where the JSON ends.
  ASSERT_FALSE(r->runtime_data.empty());
  EXPECT_EQ(r->runtime_data.front(), '{');
  EXPECT_EQ(r->runtime_data.back(), '}');
  ASSERT_EQ(r->keys.size(), 2u);
  ASSERT_NE(r->ak(), nullptr);
  ASSERT_NE(r->ek(), nullptr);
  EXPECT_EQ(r->ak()->kid, "HCLAkPub");
  EXPECT_EQ(r->ak()->key_ops, std::vector<std::string>{"sign"});
  EXPECT_EQ(r->ak()->n.size(), 256u);  // RSA-2048
  EXPECT_EQ(r->ak()->e, (Bytes{1, 0, 1}));
  EXPECT_EQ(r->ek()->key_ops, std::vector<std::string>{"encrypt"});
  EXPECT_EQ(hcl_vm_unique_id(*r), "6332533D-5649-4D02-8AA7-8F64B7C3EE21");
  // The JWK as in the report, for x-ms-runtime.
  EXPECT_EQ(r->ak()->jwk.at("kty"), "RSA");
}

TEST_F(HclTdx, BindingHoldsForTheTdReportsReportData) {
  auto r = parse_hcl_report(bytes);
  ASSERT_TRUE(r.ok()) << r.error().message;
  auto rd = hcl_hardware_report_data(*r);
  ASSERT_TRUE(rd.ok());
  ASSERT_EQ(rd->size(), 64u);
  // TDREPORT REPORTDATA sits at 0x80 of the TDREPORT (0x20 + 0x80 in the file).
  EXPECT_EQ(*rd, Bytes(bytes.begin() + 0xA0, bytes.begin() + 0xE0));
  auto c = check_hcl_binding(*r, *rd);
  EXPECT_TRUE(c.passed) << c.detail;
  EXPECT_EQ(c.name, "hcl.binding");
  EXPECT_TRUE(c.reason.empty());
}

// Upstream (trustee az-tdx-vtpm): hcl[0x0880] += 1 is a report data mismatch.
TEST_F(HclTdx, ChangedRuntimeDataBreaksTheBinding) {
  Bytes changed = bytes;
  changed[0x0880] += 1;  // inside "root-cert-thumbprint": still valid JSON
  auto r = parse_hcl_report(changed);
  ASSERT_TRUE(r.ok()) << r.error().message;
  auto rd = hcl_hardware_report_data(*r);
  ASSERT_TRUE(rd.ok());
  auto c = check_hcl_binding(*r, *rd);
  EXPECT_FALSE(c.passed);
  EXPECT_EQ(c.reason, "hcl-report-data-mismatch");
  EXPECT_NE(c.detail.find("!="), std::string::npos) << c.detail;
}

TEST_F(HclTdx, BindingRefusesShortOrForeignReportData) {
  auto r = parse_hcl_report(bytes);
  ASSERT_TRUE(r.ok());
  auto rd = hcl_hardware_report_data(*r);
  ASSERT_TRUE(rd.ok());
  auto short_rd = ByteView(*rd).subspan(0, 31);
  EXPECT_FALSE(check_hcl_binding(*r, short_rd).passed);
  Bytes other = *rd;
  other[31] ^= 1;
  EXPECT_FALSE(check_hcl_binding(*r, other).passed);
  // Only the first 32 bytes (SHA-256) are bound: the rest of REPORT_DATA is free.
  Bytes tail = *rd;
  tail[40] ^= 0xff;
  EXPECT_TRUE(check_hcl_binding(*r, tail).passed);
}

TEST_F(HclTdx, Sha384HashTypeBindsFortyEightBytes) {
  Bytes b = bytes;
  put_u32(b, kHclRequestDataOffset + 12, 2);  // SHA-384
  auto r = parse_hcl_report(b);
  ASSERT_TRUE(r.ok()) << r.error().message;
  auto h = crypto::digest(crypto::HashAlg::sha384, r->runtime_data);
  ASSERT_TRUE(h.ok());
  Bytes rd = *h;
  rd.resize(64, 0xAA);
  EXPECT_TRUE(check_hcl_binding(*r, rd).passed);
  rd[47] ^= 1;
  EXPECT_FALSE(check_hcl_binding(*r, rd).passed);
  // The SHA-256 of the same data is not accepted for a SHA-384 report.
  auto h256 = crypto::digest(crypto::HashAlg::sha256, r->runtime_data);
  Bytes rd256 = *h256;
  rd256.resize(64, 0);
  EXPECT_FALSE(check_hcl_binding(*r, rd256).passed);
}

TEST_F(HclTdx, UserDataCheck) {
  auto r = parse_hcl_report(bytes);
  ASSERT_TRUE(r.ok());
  // This report's user-data is 64 zero bytes.
  EXPECT_TRUE(check_hcl_user_data(*r, Bytes{}).passed);
  EXPECT_TRUE(check_hcl_user_data(*r, Bytes(64, 0)).passed);
  auto c = check_hcl_user_data(*r, as_bytes("123abc"));
  EXPECT_FALSE(c.passed);
  EXPECT_EQ(c.reason, "hcl-user-data-mismatch");
  EXPECT_NE(c.detail.find("doesn't match"), std::string::npos) << c.detail;
  EXPECT_FALSE(check_hcl_user_data(*r, Bytes(65, 0)).passed);
}

TEST_F(HclTdx, TruncatedAtEveryLengthIsRefused) {
  auto full = parse_hcl_report(bytes);
  ASSERT_TRUE(full.ok());
  for (size_t n = 0; n < bytes.size(); ++n) {
    auto r = parse_hcl_report(ByteView(bytes).subspan(0, n));
    if (n < full->report_size) {
      ASSERT_FALSE(r.ok()) << "length " << n;
      ASSERT_EQ(r.error().reason, "hcl-report-malformed") << "length " << n << ": " << r.error().message;
    } else {
      // Only zero padding is cut: the report itself is whole.
      ASSERT_TRUE(r.ok()) << "length " << n << ": " << r.error().message;
      ASSERT_EQ(r->runtime_data, full->runtime_data);
    }
  }
}

TEST_F(HclTdx, HeaderFieldsAreChecked) {
  Bytes b = bytes;
  b[0] = 'X';
  expect_malformed(b, "header.signature");
  b = bytes;
  put_u32(b, 4, 3);
  expect_malformed(b, "header.version");
  b = bytes;
  put_u32(b, 16, 1);
  expect_malformed(b, "header.status");
  b = bytes;
  put_u32(b, 28, 7);
  expect_malformed(b, "header.reserved");
  b = bytes;
  put_u32(b, 8, get_u32(bytes, 8) + 1);
  expect_malformed(b, "header.report_size");
}

TEST_F(HclTdx, RequestDataFieldsAreChecked) {
  Bytes b = bytes;
  put_u32(b, kHclRequestDataOffset + 8, 3);  // neither SNP (2) nor TDX (4)
  expect_malformed(b, "unknown hardware report type 3");
  b = bytes;
  put_u32(b, kHclRequestDataOffset + 12, 0);
  expect_malformed(b, "request data.hash_type");
  b = bytes;
  put_u32(b, kHclRequestDataOffset + 4, 2);
  expect_malformed(b, "request data.version");
  b = bytes;
  put_u32(b, kHclRequestDataOffset, get_u32(bytes, kHclRequestDataOffset) - 1);
  expect_malformed(b, "request data.data_size");
}

TEST_F(HclTdx, SizesBeyondTheBufferAreRefused) {
  for (uint32_t size : {0xFFFFFFFFu, 0x80000000u, static_cast<uint32_t>(bytes.size())}) {
    Bytes b = bytes;
    put_u32(b, kHclRequestDataOffset + 16, size);
    expect_malformed(b, "variable_data_size");
  }
  Bytes b = bytes;
  put_u32(b, kHclRequestDataOffset + 16, 0);
  put_u32(b, kHclRequestDataOffset, 20);
  put_u32(b, 8, static_cast<uint32_t>(kHclRuntimeDataOffset));
  expect_malformed(b, "runtime data");
  Bytes huge(kHclMaxReportSize + 1, 0);
  std::memcpy(huge.data(), bytes.data(), bytes.size());
  expect_malformed(huge, "exceeds");
}

TEST_F(HclTdx, OnlyZerosMayFollowTheReport) {
  Bytes b = bytes;
  b.back() = 1;
  expect_malformed(b, "padding");
  // Bytes 1024..1183 of the hardware report field are unused by a TDREPORT.
  b = bytes;
  b[kHclHeaderSize + 1100] = 1;
  expect_malformed(b, "after the 1024-byte TDREPORT");
}

TEST_F(HclTdx, RuntimeJsonMustBeWellFormed) {
  {
    auto r = parse_hcl_report(with_runtime(bytes, "{\"keys\": [}"));
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().reason, "hcl-report-malformed");
    // The offset names the bad byte in the file: runtime data start + 10.
    EXPECT_NE(r.error().message.find(hex_offset(kHclRuntimeDataOffset + 10)), std::string::npos)
        << r.error().message;
    EXPECT_NE(r.error().message.find("not JSON"), std::string::npos) << r.error().message;
  }
  expect_malformed(with_runtime(bytes, "[1,2]"), "not an object");
  expect_malformed(with_runtime(bytes, "\"keys\""), "not an object");
  expect_malformed(with_runtime(bytes, "{}"), "\"keys\" missing");
  expect_malformed(with_runtime(bytes, "{\"keys\": {}}"), "\"keys\" is not an array");
  expect_malformed(with_runtime(bytes, "{\"keys\": [1]}"), "keys[0]: not an object");
  expect_malformed(with_runtime(bytes, "{\"keys\": [{\"kty\":\"RSA\",\"n\":\"AQAB\",\"e\":\"AQAB\"}]}"),
                   "keys[0].kid: missing");
  expect_malformed(with_runtime(bytes, "{\"keys\": [{\"kid\":7,\"kty\":\"RSA\",\"n\":\"AQAB\",\"e\":\"AQAB\"}]}"),
                   "keys[0].kid: not a string");
  expect_malformed(with_runtime(bytes, "{\"keys\": [{\"kid\":\"HCLAkPub\",\"kty\":\"EC\",\"n\":\"AQAB\",\"e\":\"AQAB\"}]}"),
                   "is not RSA");
  expect_malformed(with_runtime(bytes, "{\"keys\": [{\"kid\":\"HCLAkPub\",\"kty\":\"RSA\",\"e\":\"AQAB\"}]}"),
                   "keys[0].n: missing");
  expect_malformed(
      with_runtime(bytes, "{\"keys\": [{\"kid\":\"HCLAkPub\",\"kty\":\"RSA\",\"n\":\"ab+c\",\"e\":\"AQAB\"}]}"),
      "keys[0].n: not base64url at character 2");
  expect_malformed(
      with_runtime(bytes, "{\"keys\": [{\"kid\":\"HCLAkPub\",\"kty\":\"RSA\",\"n\":\"AQAB=\",\"e\":\"AQAB\"}]}"),
      "keys[0].n");
  expect_malformed(
      with_runtime(bytes, "{\"keys\": [{\"kid\":\"HCLAkPub\",\"kty\":\"RSA\",\"n\":\"AQAB\",\"e\":\"AQB\"}]}"),
      "non-zero unused bits");
  expect_malformed(
      with_runtime(bytes, "{\"keys\": [{\"kid\":\"HCLAkPub\",\"kty\":\"RSA\",\"key_ops\":\"sign\",\"n\":\"AQAB\",\"e\":\"AQAB\"}]}"),
      "key_ops: not an array");
  expect_malformed(
      with_runtime(bytes, "{\"keys\": [{\"kid\":\"HCLAkPub\",\"kty\":\"RSA\",\"n\":\"AQAB\",\"e\":\"AQAB\"},"
                          "{\"kid\":\"HCLAkPub\",\"kty\":\"RSA\",\"n\":\"AQAB\",\"e\":\"AQAB\"}]}"),
      "appears twice");
  expect_malformed(with_runtime(bytes, "{\"keys\": [], \"vm-configuration\": []}"), "vm-configuration");
  expect_malformed(with_runtime(bytes, "{\"keys\": [], \"user-data\": 5}"), "user-data");
  // Nesting: Azure's document is 4 deep; 16 is allowed, 17 and 20000 are not.
  auto nested = [](int depth) {
    std::string s = "{\"keys\": [], \"x\": ";
    for (int i = 1; i < depth; ++i) s += "[";
    for (int i = 1; i < depth; ++i) s += "]";
    return s + "}";
  };
  EXPECT_TRUE(parse_hcl_report(with_runtime(bytes, nested(16))).ok());
  expect_malformed(with_runtime(bytes, nested(17)), "nested deeper than 16");
  expect_malformed(with_runtime(bytes, nested(20000)), "nested deeper than 16");
}

TEST_F(HclTdx, ReportWithoutAnAkParsesButHasNone) {
  auto r = parse_hcl_report(with_runtime(bytes, "{\"keys\": []}"));
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->ak(), nullptr);
  EXPECT_EQ(r->ek(), nullptr);
  EXPECT_FALSE(hcl_vm_unique_id(*r).has_value());
  EXPECT_FALSE(check_hcl_user_data(*r, Bytes{}).passed);
}

TEST_F(HclTdx, JsonShowsEveryPart) {
  auto r = parse_hcl_report(bytes);
  ASSERT_TRUE(r.ok());
  const json j = hcl_report_json(*r);
  EXPECT_EQ(j.at("hardware"), "tdx");
  EXPECT_EQ(j.at("hash_type"), "sha256");
  EXPECT_EQ(j.at("hardware_report").get<std::string>().size(), 2048u);
  EXPECT_EQ(j.at("keys").size(), 2u);
  EXPECT_EQ(j.at("keys")[0].at("bits"), 2048);
  EXPECT_EQ(j.at("runtime_data").at("vm-configuration").at("vmUniqueId"), "6332533D-5649-4D02-8AA7-8F64B7C3EE21");
  // The digest shown is the one bound into REPORT_DATA.
  EXPECT_EQ(j.at("runtime_data_digest").get<std::string>(), j.at("report_data").get<std::string>().substr(0, 64));
}

TEST(HclSnp, ParsesTheSnpReportFromTrusteeEvidence) {
  TL_REQUIRE_VECTOR(path, kSnpEvidenceV0);
  const json ev = json::parse(test::read_text(path));
  const Bytes bytes = ev.at("report").get<Bytes>();
  auto r = parse_hcl_report(bytes);
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->hardware, HclHardware::snp);
  EXPECT_EQ(r->version, 1u);
  EXPECT_EQ(r->hardware_report.size(), 1184u);
  // The SNP report's REPORT_DATA (0x50) carries SHA-256(runtime data).
  auto rd = hcl_hardware_report_data(*r);
  ASSERT_TRUE(rd.ok());
  EXPECT_EQ(*rd, Bytes(bytes.begin() + 32 + 0x50, bytes.begin() + 32 + 0x90));
  EXPECT_TRUE(check_hcl_binding(*r, *rd).passed);
  EXPECT_EQ(hcl_vm_unique_id(*r), "26F8BC30-774E-4290-8E7A-535F3B672AEE");
  // An SNP report uses the whole 1184-byte field: a byte there is no padding error.
  Bytes b = bytes;
  b[32 + 1100] ^= 1;
  EXPECT_TRUE(parse_hcl_report(b).ok());
  // Upstream (trustee az-snp-vtpm): report[0x06e0] += 1 is a report data mismatch.
  b = bytes;
  b[0x06e0] += 1;
  auto changed = parse_hcl_report(b);
  ASSERT_TRUE(changed.ok()) << changed.error().message;
  EXPECT_FALSE(check_hcl_binding(*changed, *rd).passed);
}

}  // namespace
}  // namespace tl::tee
