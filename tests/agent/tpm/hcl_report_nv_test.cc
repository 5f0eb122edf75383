// The agent's HCL report collection against a real swtpm: NV index
// 0x01400001 defined and written with tpm2-tools as Azure's paravisor would,
// read back by Tpm::read_nv (TPM2_NV_ReadPublic, chunked TPM2_NV_Read) and
// turned into evidence "tee" by read_tee_evidence.
#include <gtest/gtest.h>

#include <fstream>
#include <string>

#include <nlohmann/json.hpp>

#include "agent/client/attestation_client.h"
#include "agent_tpm_fixture.h"
#include "support/test_support.h"
#include "tee/hcl_report.h"

namespace tl::agent::tpm::testing {
namespace {

constexpr const char* kIndex = "0x01400001";

// Trustee's Azure TDX HCL report is 2,437 bytes (2,600 with padding), but
// swtpm's NV indices hold at most 2,048 (TPM2_PT_NV_INDEX_MAX; Azure's vTPM
// allows more). This is the same report with its runtime data cut to HCLAkPub
// and vm-configuration and the three size fields adjusted: header, TDREPORT and
// request data are the vector's bytes. (Its binding to REPORT_DATA no longer
// holds; reading the index and the AK check do not depend on it.)
Bytes swtpm_sized_hcl_report(const Bytes& full) {
  constexpr size_t kRequestData = 0x4C0, kRuntime = 0x4D4;
  auto le32 = [&](size_t at) {
    return static_cast<uint32_t>(full[at]) | static_cast<uint32_t>(full[at + 1]) << 8 |
           static_cast<uint32_t>(full[at + 2]) << 16 | static_cast<uint32_t>(full[at + 3]) << 24;
  };
  const uint32_t var = le32(kRuntime - 4);
  const nlohmann::json rt = nlohmann::json::parse(full.begin() + kRuntime, full.begin() + kRuntime + var);
  nlohmann::json keys = nlohmann::json::array();
  for (const auto& k : rt.at("keys"))
    if (k.value("kid", "") == "HCLAkPub") keys.push_back(k);
  const std::string text = nlohmann::json{{"keys", keys}, {"vm-configuration", rt.at("vm-configuration")}}.dump();
  Bytes out(full.begin(), full.begin() + kRuntime);
  auto put32 = [&](size_t at, size_t v) {
    for (int i = 0; i < 4; ++i) out[at + static_cast<size_t>(i)] = static_cast<uint8_t>(v >> (8 * i));
  };
  put32(8, kRuntime + text.size());          // header.report_size
  put32(kRequestData, 20 + text.size());     // request data.data_size
  put32(kRuntime - 4, text.size());          // request data.variable_data_size
  out.resize(kRuntime + text.size());
  std::copy(text.begin(), text.end(), out.begin() + static_cast<std::ptrdiff_t>(kRuntime));
  return out;
}

class HclReportNv : public SwtpmSuite {
 protected:
  void TearDown() override {
    // Each test starts without the index (it may not exist: ignore that failure).
    if (swtpm_) (void)swtpm_->run(std::string("tpm2_nvundefine -C o ") + kIndex);
  }
  // Defines the index with `size` bytes and writes `data` at offset 0 (the
  // Tpm must not be open: swtpm serves one connection at a time).
  static void define_and_write(size_t size, const Bytes& data) {
    auto d = swtpm_->run("tpm2_nvdefine -C o -s " + std::to_string(size) +
                         " -a 'ownerread|ownerwrite|authread|authwrite' " + kIndex);
    ASSERT_TRUE(d.ok()) << d.error().message;
    if (data.empty()) return;
    const auto f = swtpm_->dir() / "nv-data.bin";
    std::ofstream(f, std::ios::binary).write(reinterpret_cast<const char*>(data.data()),
                                             static_cast<std::streamsize>(data.size()));
    auto w = swtpm_->run("tpm2_nvwrite -C o -i " + f.string() + " " + kIndex);
    ASSERT_TRUE(w.ok()) << w.error().message;
  }
};

TEST_F(HclReportNv, AbsentIndexIsNoTeeEvidenceAndNoError) {
  Tpm t = open();
  auto nv = t.read_nv(tee::kHclReportNvIndex);
  ASSERT_TRUE(nv.ok()) << nv.error().message;
  EXPECT_FALSE(nv->has_value());
  auto tee = read_tee_evidence(t);
  ASSERT_TRUE(tee.ok()) << tee.error().message;
  EXPECT_FALSE(tee->has_value());
  EXPECT_NOTHING_LOADED(t);
}

TEST_F(HclReportNv, AzureTdxReportIsReadBackByteForByteInChunks) {
  TL_REQUIRE_VECTOR(path, "cvm/trustee-az-tdx-vtpm/hcl-report.bin");
  const Bytes report = swtpm_sized_hcl_report(test::read_file(path));
  ASSERT_LE(report.size(), 2048u);
  ASSERT_GT(report.size(), 1024u);  // more than one TPM2_NV_Read of swtpm's 1,024-byte buffer
  define_and_write(report.size(), report);
  Tpm t = open();
  auto nv = t.read_nv(tee::kHclReportNvIndex);
  ASSERT_TRUE(nv.ok()) << nv.error().message;
  ASSERT_TRUE(nv->has_value());
  EXPECT_EQ(**nv, report);
  auto tee = read_tee_evidence(t);
  ASSERT_TRUE(tee.ok()) << tee.error().message;
  ASSERT_TRUE(tee->has_value());
  EXPECT_EQ((*tee)->type, "az-tdx-vtpm");
  EXPECT_EQ((*tee)->hcl_report, report);
  EXPECT_FALSE((*tee)->vcek.has_value());
  EXPECT_NOTHING_LOADED(t);
}

TEST_F(HclReportNv, ZeroPaddingAfterTheReportIsSentAsRead) {
  TL_REQUIRE_VECTOR(path, "cvm/trustee-az-tdx-vtpm/hcl-report.bin");
  Bytes padded = swtpm_sized_hcl_report(test::read_file(path));
  padded.resize(2048, 0);
  define_and_write(padded.size(), padded);
  Tpm t = open();
  auto tee = read_tee_evidence(t);
  ASSERT_TRUE(tee.ok()) << tee.error().message;
  ASSERT_TRUE(tee->has_value());
  EXPECT_EQ((*tee)->hcl_report, padded);
}

TEST_F(HclReportNv, DefinedButNeverWrittenIsNoTeeEvidence) {
  define_and_write(2048, {});
  Tpm t = open();
  auto nv = t.read_nv(tee::kHclReportNvIndex);
  ASSERT_TRUE(nv.ok()) << nv.error().message;
  EXPECT_FALSE(nv->has_value());
  auto tee = read_tee_evidence(t);
  ASSERT_TRUE(tee.ok());
  EXPECT_FALSE(tee->has_value());
}

TEST_F(HclReportNv, ContentsThatAreNotAnHclReportAreAnErrorNotEvidence) {
  define_and_write(64, Bytes(64, 0x5a));
  Tpm t = open();
  auto nv = t.read_nv(tee::kHclReportNvIndex);
  ASSERT_TRUE(nv.ok()) << nv.error().message;
  ASSERT_TRUE(nv->has_value());
  EXPECT_EQ(**nv, Bytes(64, 0x5a));
  auto tee = read_tee_evidence(t);
  ASSERT_FALSE(tee.ok());
  EXPECT_NE(tee.error().message.find("0x01400001"), std::string::npos) << tee.error().message;
}

TEST_F(HclReportNv, AnIndexLargerThanTheLimitIsRefused) {
  define_and_write(2048, Bytes(2048, 0));
  Tpm t = open();
  auto nv = t.read_nv(tee::kHclReportNvIndex, 1024);
  ASSERT_FALSE(nv.ok());
  EXPECT_NE(nv.error().message.find("2048 bytes"), std::string::npos) << nv.error().message;
}

}  // namespace
}  // namespace tl::agent::tpm::testing
