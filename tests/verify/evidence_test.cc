// decode_evidence / encode_evidence: the round trip, and every kind of hostile
// input refused with reason "evidence-malformed" and the JSON path of the field.
#include "verify/evidence.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <string>

#include "token/base64url.h"

namespace tl::verify {
namespace {

using crypto::HashAlg;
using ::testing::HasSubstr;
using json = nlohmann::json;

Evidence sample() {
  Evidence e;
  e.vm_id = "3f1c2a9e-5b7d-4c1e-9a0b-1d2e3f405162";
  e.nonce = Bytes(32, 0x5e);
  e.quote_attest = Bytes{0xff, 0x54, 0x43, 0x47, 0x80, 0x18, 1, 2, 3};
  e.quote_signature = Bytes{0x00, 0x14, 0x00, 0x0b, 9, 8, 7};
  e.pcrs[HashAlg::sha256][0] = Bytes(32, 0xa0);
  e.pcrs[HashAlg::sha256][7] = Bytes(32, 0xa7);
  e.pcrs[HashAlg::sha256][23] = Bytes(32, 0xb7);
  e.pcrs[HashAlg::sha1][0] = Bytes(20, 0x01);
  e.event_log = Bytes(100, 0x42);
  e.ak_public = Bytes{0x00, 0x01, 0x00, 0x0b};
  e.runtime_key = RuntimeKeyEvidence{Bytes{1, 2, 3}, Bytes{4, 5, 6, 7}, Bytes{8, 9}, {0, 1, 7}};
  e.client_payload = json{{"nonce", "abc"}, {"n", {1, 2, {{"deep", true}}}}};
  e.os = OsInfo{"Linux", "Debian GNU/Linux", 12, 0, "6.1.0-28-amd64"};
  e.kernel_modules.reported = true;
  e.kernel_modules.taint = 12288;  // O (4096) + E (8192)
  e.kernel_modules.unsigned_modules = {"hello_unsigned", "vboxdrv"};
  e.kernel_modules.rejected_modules = {"evil-mod"};
  e.kernel_modules.ima_failures = {"nvidia.ko"};
  return e;
}

// Decodes j, expects failure, returns the message (reason checked here).
std::string refused(const json& j, const EvidenceLimits& limits = {}) {
  auto r = decode_evidence(j, limits);
  EXPECT_FALSE(r.ok()) << "accepted: " << j.dump().substr(0, 300);
  if (r.ok()) return "";
  EXPECT_EQ(r.error().reason, "evidence-malformed") << r.error().message;
  return r.error().message;
}

std::string refused_text(const std::string& text) {
  auto r = decode_evidence_text(text);
  EXPECT_FALSE(r.ok()) << "accepted: " << text.substr(0, 300);
  if (r.ok()) return "";
  EXPECT_EQ(r.error().reason, "evidence-malformed");
  return r.error().message;
}

TEST(Evidence, RoundTrip) {
  const Evidence e = sample();
  const json j = encode_evidence(e);
  auto d = decode_evidence(j);
  ASSERT_TRUE(d.ok()) << d.error().message;
  EXPECT_TRUE(*d == e);
  // Through text, too, and the wire names are the documented ones.
  auto t = decode_evidence_text(j.dump());
  ASSERT_TRUE(t.ok()) << t.error().message;
  EXPECT_TRUE(*t == e);
  std::string a7;
  for (int i = 0; i < 32; ++i) a7 += "a7";
  EXPECT_EQ(j.at("pcrs").at("sha256").at("7"), a7);
  EXPECT_EQ(j.at("nonce"), token::base64url_encode(e.nonce));
  EXPECT_EQ(j.at("runtimeKey").at("policyPcrs"), json({0, 1, 7}));
  EXPECT_EQ(j.at("os").at("versionMajor"), 12);
  EXPECT_EQ(j.at("os").at("kernelRelease"), "6.1.0-28-amd64");
  EXPECT_EQ(j.at("kernelModules"), json({{"taint", 12288},
                                         {"unsigned", {"hello_unsigned", "vboxdrv"}},
                                         {"rejected", {"evil-mod"}},
                                         {"imaFailures", {"nvidia.ko"}}}));
}

TEST(Evidence, KernelModuleReportRoundTripsEmptyAndWide) {
  Evidence e = sample();
  // Reported with nothing found is different from not reported.
  e.kernel_modules = KernelModuleReport{};
  e.kernel_modules.reported = true;
  json j = encode_evidence(e);
  EXPECT_EQ(j.at("kernelModules"),
            json({{"taint", 0}, {"unsigned", json::array()}, {"rejected", json::array()}, {"imaFailures", json::array()}}));
  auto d = decode_evidence(j);
  ASSERT_TRUE(d.ok()) << d.error().message;
  EXPECT_TRUE(*d == e);
  // The limits themselves are accepted: 256 names of 64 characters, a taint
  // with every bit set, a 256-byte release.
  for (int i = 0; i < 256; ++i) {
    std::string name = "m" + std::to_string(i);
    name.resize(64, '_');
    e.kernel_modules.unsigned_modules.push_back(name);
  }
  e.kernel_modules.taint = UINT64_MAX;
  e.os.kernel_release = std::string(256, 'r');
  d = decode_evidence_text(encode_evidence(e).dump());
  ASSERT_TRUE(d.ok()) << d.error().message;
  EXPECT_TRUE(*d == e);
}

TEST(Evidence, OldEvidenceWithoutKernelMembersStaysValid) {
  // What an agent before kernel module reporting sends, as text.
  json j = encode_evidence(sample());
  j.erase("kernelModules");
  j["os"].erase("kernelRelease");
  auto d = decode_evidence_text(j.dump());
  ASSERT_TRUE(d.ok()) << d.error().message;
  EXPECT_EQ(d->os.kernel_release, "");
  EXPECT_FALSE(d->kernel_modules.reported);
  EXPECT_TRUE(d->kernel_modules == KernelModuleReport{});
}

TEST(Evidence, KernelModulesAreStrict) {
  auto with = [](const char* ptr, json v) {
    json j = encode_evidence(sample());
    j[json::json_pointer(ptr)] = std::move(v);
    return j;
  };
  EXPECT_THAT(refused(with("/os/kernelRelease", "")), HasSubstr("os.kernelRelease: empty"));
  EXPECT_THAT(refused(with("/os/kernelRelease", std::string(257, 'r'))), HasSubstr("os.kernelRelease: 257 bytes"));
  EXPECT_THAT(refused(with("/os/kernelRelease", "6.1\n")), HasSubstr("os.kernelRelease: character 3 is not printable"));
  EXPECT_THAT(refused(with("/os/kernelRelease", "6.1-\xc3\xa9")), HasSubstr("os.kernelRelease: character 4"));
  EXPECT_THAT(refused(with("/os/kernelRelease", 6)), HasSubstr("os.kernelRelease: expected string"));
  EXPECT_THAT(refused(with("/kernelModules", json::array())), HasSubstr("kernelModules: expected object, got array"));
  EXPECT_THAT(refused(with("/kernelModules/taint", -1)), HasSubstr("kernelModules.taint: negative"));
  EXPECT_THAT(refused(with("/kernelModules/taint", 1.5)), HasSubstr("kernelModules.taint: expected integer"));
  EXPECT_THAT(refused(with("/kernelModules/taint", "8192")), HasSubstr("kernelModules.taint: expected integer"));
  EXPECT_THAT(refused(with("/kernelModules/unsigned", "vboxdrv")),
              HasSubstr("kernelModules.unsigned: expected array, got string"));
  EXPECT_THAT(refused(with("/kernelModules/rejected/0", 7)), HasSubstr("kernelModules.rejected[0]: expected string"));
  EXPECT_THAT(refused(with("/kernelModules/rejected/0", "")), HasSubstr("kernelModules.rejected[0]: module name of 0"));
  EXPECT_THAT(refused(with("/kernelModules/imaFailures/0", std::string(65, 'a'))),
              HasSubstr("kernelModules.imaFailures[0]: module name of 65 bytes"));
  EXPECT_THAT(refused(with("/kernelModules/unsigned/1", "a b")),
              HasSubstr("kernelModules.unsigned[1]: character 1 is not one of"));
  EXPECT_THAT(refused(with("/kernelModules/unsigned/1", "../x")),
              HasSubstr("kernelModules.unsigned[1]: character 2 is not one of"));
  EXPECT_THAT(refused(with("/kernelModules/unsigned/1", "hello_unsigned")),
              HasSubstr("kernelModules.unsigned[1]: module \"hello_unsigned\" is listed twice"));
  json many = json::array();
  for (int i = 0; i < 257; ++i) many.push_back("m" + std::to_string(i));
  EXPECT_THAT(refused(with("/kernelModules/rejected", many)),
              HasSubstr("kernelModules.rejected: 257 entries, over the limit of 256"));
  for (const char* m : {"taint", "unsigned", "rejected", "imaFailures"}) {
    json j = encode_evidence(sample());
    j["kernelModules"].erase(m);
    EXPECT_THAT(refused(j), HasSubstr("kernelModules." + std::string(m) + ": missing"));
  }
  json j = encode_evidence(sample());
  j["kernelModules"]["loaded"] = json::array();
  EXPECT_THAT(refused(j), HasSubstr("kernelModules.loaded: unknown member"));
}

TEST(Evidence, OptionalMembersMayBeAbsent) {
  Evidence e = sample();
  e.ak_public.reset();
  e.runtime_key.reset();
  e.client_payload = json::object();
  e.os.kernel_release.clear();
  e.kernel_modules = KernelModuleReport{};
  const json j = encode_evidence(e);
  EXPECT_FALSE(j.contains("akPublic"));
  EXPECT_FALSE(j.contains("runtimeKey"));
  EXPECT_FALSE(j.contains("clientPayload"));
  EXPECT_FALSE(j.contains("kernelModules"));
  EXPECT_FALSE(j.at("os").contains("kernelRelease"));
  auto d = decode_evidence(j);
  ASSERT_TRUE(d.ok()) << d.error().message;
  EXPECT_TRUE(*d == e);
}

TEST(Evidence, MissingRequiredMembers) {
  for (const char* m : {"version", "vmId", "nonce", "quote", "pcrs", "eventLog", "os"}) {
    json j = encode_evidence(sample());
    j.erase(m);
    EXPECT_THAT(refused(j), HasSubstr(std::string(m) + ": missing"));
  }
  json j = encode_evidence(sample());
  j["quote"].erase("signature");
  EXPECT_THAT(refused(j), HasSubstr("quote.signature: missing"));
  j = encode_evidence(sample());
  j["runtimeKey"].erase("policyPcrs");
  EXPECT_THAT(refused(j), HasSubstr("runtimeKey.policyPcrs: missing"));
  j = encode_evidence(sample());
  j["os"].erase("versionMinor");
  EXPECT_THAT(refused(j), HasSubstr("os.versionMinor: missing"));
}

TEST(Evidence, UnknownMembersAreRefused) {
  json j = encode_evidence(sample());
  j["akPub"] = "AAEACw";  // a typo must not silently drop the AK check
  EXPECT_THAT(refused(j), HasSubstr("akPub: unknown member"));
  j = encode_evidence(sample());
  j["quote"]["pcrs"] = "x";
  EXPECT_THAT(refused(j), HasSubstr("quote.pcrs: unknown member"));
  j = encode_evidence(sample());
  j["runtimeKey"]["private"] = "x";
  EXPECT_THAT(refused(j), HasSubstr("runtimeKey.private: unknown member"));
  j = encode_evidence(sample());
  j["os"]["kernel"] = "6.1";
  EXPECT_THAT(refused(j), HasSubstr("os.kernel: unknown member"));
}

TEST(Evidence, WrongTypes) {
  const std::pair<json::json_pointer, json> cases[] = {
      {json::json_pointer("/version"), "1"},
      {json::json_pointer("/version"), 1.0},
      {json::json_pointer("/version"), -1},
      {json::json_pointer("/vmId"), 42},
      {json::json_pointer("/nonce"), json::array()},
      {json::json_pointer("/quote"), "x"},
      {json::json_pointer("/quote/attest"), nullptr},
      {json::json_pointer("/pcrs"), json::array()},
      {json::json_pointer("/pcrs/sha256"), "x"},
      {json::json_pointer("/pcrs/sha256/0"), 0},
      {json::json_pointer("/eventLog"), true},
      {json::json_pointer("/runtimeKey/policyPcrs"), "0,1"},
      {json::json_pointer("/runtimeKey/policyPcrs/0"), "0"},
      {json::json_pointer("/runtimeKey/policyPcrs/0"), -1},
      {json::json_pointer("/clientPayload"), json::array({1})},
      {json::json_pointer("/os/versionMajor"), "12"},
      {json::json_pointer("/os/versionMajor"), 12.5},
      {json::json_pointer("/os"), nullptr},
  };
  for (const auto& [ptr, value] : cases) {
    json j = encode_evidence(sample());
    j[ptr] = value;
    std::string path = ptr.to_string().substr(1);
    std::replace(path.begin(), path.end(), '/', '.');
    if (path == "runtimeKey.policyPcrs.0") path = "runtimeKey.policyPcrs[0]";
    EXPECT_THAT(refused(j), HasSubstr(path + ":")) << ptr.to_string() << " = " << value.dump();
  }
  EXPECT_THAT(refused(json::array()), HasSubstr("expected object, got array"));
  EXPECT_THAT(refused(json("evidence")), HasSubstr("expected object, got string"));
}

TEST(Evidence, BadValues) {
  auto with = [](const char* ptr, json v) {
    json j = encode_evidence(sample());
    j[json::json_pointer(ptr)] = std::move(v);
    return j;
  };
  EXPECT_THAT(refused(with("/version", 2)), HasSubstr("version: unsupported version 2"));
  EXPECT_THAT(refused(with("/vmId", "")), HasSubstr("vmId: empty"));
  EXPECT_THAT(refused(with("/vmId", std::string(129, 'a'))), HasSubstr("vmId: 129 bytes"));
  EXPECT_THAT(refused(with("/vmId", "a\nb")), HasSubstr("vmId: character 1 is not printable"));
  EXPECT_THAT(refused(with("/os/type", "Plan9")), HasSubstr("os.type: expected"));
  EXPECT_THAT(refused(with("/os/versionMajor", 4294967296ull)), HasSubstr("os.versionMajor: over"));
  EXPECT_THAT(refused(with("/runtimeKey/policyPcrs", json({0, 24}))),
              HasSubstr("runtimeKey.policyPcrs[1]: PCR 24 is out of range"));
  EXPECT_THAT(refused(with("/runtimeKey/policyPcrs", json({7, 1}))),
              HasSubstr("runtimeKey.policyPcrs[1]: PCRs must be ascending"));
  EXPECT_THAT(refused(with("/runtimeKey/policyPcrs", json({1, 1}))), HasSubstr("ascending without repeats"));
}

TEST(Evidence, BadBase64url) {
  auto with = [](const char* ptr, const std::string& v) {
    json j = encode_evidence(sample());
    j[json::json_pointer(ptr)] = v;
    return j;
  };
  const std::string good = token::base64url_encode(Bytes(32, 0x5e));
  EXPECT_THAT(refused(with("/nonce", good + "=")), HasSubstr("nonce: not base64url"));
  EXPECT_THAT(refused(with("/nonce", "AQID==")), HasSubstr("nonce: not base64url"));  // padding
  EXPECT_THAT(refused(with("/nonce", "AQ+/")), HasSubstr("nonce: not base64url"));    // standard alphabet
  EXPECT_THAT(refused(with("/nonce", "AQI D")), HasSubstr("nonce: not base64url"));
  EXPECT_THAT(refused(with("/nonce", "AQJ")), HasSubstr("nonce: not base64url"));  // non-zero unused bits
  EXPECT_THAT(refused(with("/nonce", "A")), HasSubstr("nonce: not base64url"));    // 4k+1 characters
  EXPECT_THAT(refused(with("/nonce", "")), HasSubstr("nonce: empty"));
  EXPECT_THAT(refused(with("/quote/attest", "!!!!")), HasSubstr("quote.attest: not base64url"));
  EXPECT_THAT(refused(with("/runtimeKey/certifyInfo", "a=")), HasSubstr("runtimeKey.certifyInfo: not base64url"));
  EXPECT_THAT(refused(with("/akPublic", "AAEACw==")), HasSubstr("akPublic: not base64url"));
  EXPECT_THAT(refused(with("/eventLog", "")), HasSubstr("eventLog: empty"));
}

TEST(Evidence, OversizedFields) {
  auto with = [](const char* ptr, size_t bytes) {
    json j = encode_evidence(sample());
    j[json::json_pointer(ptr)] = token::base64url_encode(Bytes(bytes, 0x33));
    return j;
  };
  EXPECT_THAT(refused(with("/nonce", 65)), HasSubstr("nonce: over the limit of 64 bytes"));
  EXPECT_TRUE(decode_evidence(with("/nonce", 64)).ok());
  EXPECT_THAT(refused(with("/quote/attest", 2049)), HasSubstr("quote.attest: over the limit"));
  EXPECT_THAT(refused(with("/quote/signature", 1025)), HasSubstr("quote.signature: over the limit"));
  EXPECT_THAT(refused(with("/akPublic", 1025)), HasSubstr("akPublic: over the limit"));
  EXPECT_THAT(refused(with("/runtimeKey/public", 1025)), HasSubstr("runtimeKey.public: over the limit"));

  EvidenceLimits small;
  small.max_event_log_bytes = 1000;
  EXPECT_THAT(refused(with("/eventLog", 1001), small), HasSubstr("eventLog: over the limit of 1000 bytes"));
  EXPECT_TRUE(decode_evidence(with("/eventLog", 1000), small).ok());
  // The default limit (4 MiB) too.
  EXPECT_THAT(refused(with("/eventLog", 4 * 1024 * 1024 + 1)), HasSubstr("eventLog: over the limit"));

  small.max_client_payload_bytes = 20;
  json j = encode_evidence(sample());
  j["clientPayload"] = {{"k", std::string(30, 'x')}};
  EXPECT_THAT(refused(j, small), HasSubstr("clientPayload:"));
}

TEST(Evidence, PcrsAreStrict) {
  auto with_pcr = [](const std::string& bank, const std::string& index, json value) {
    json j = encode_evidence(sample());
    j["pcrs"][bank][index] = std::move(value);
    return j;
  };
  EXPECT_THAT(refused(with_pcr("sha256", "24", std::string(64, '0'))),
              HasSubstr("pcrs.sha256.24: PCR index 24 is out of range"));
  EXPECT_THAT(refused(with_pcr("sha256", "07", std::string(64, '0'))), HasSubstr("pcrs.sha256.07: PCR index"));
  EXPECT_THAT(refused(with_pcr("sha256", "-1", std::string(64, '0'))), HasSubstr("pcrs.sha256.-1: PCR index"));
  EXPECT_THAT(refused(with_pcr("sha256", "x", std::string(64, '0'))), HasSubstr("pcrs.sha256.x: PCR index"));
  EXPECT_THAT(refused(with_pcr("sha256", "7", std::string(40, '0'))),
              HasSubstr("pcrs.sha256.7: expected 32 bytes, got 20"));
  EXPECT_THAT(refused(with_pcr("sha1", "7", std::string(64, '0'))), HasSubstr("pcrs.sha1.7: expected 20 bytes, got 32"));
  EXPECT_THAT(refused(with_pcr("sha256", "7", std::string(63, '0'))), HasSubstr("pcrs.sha256.7: odd number"));
  EXPECT_THAT(refused(with_pcr("sha256", "7", std::string(64, 'A'))), HasSubstr("not lower-case hex"));
  EXPECT_THAT(refused(with_pcr("sha256", "7", "0x" + std::string(62, '0'))), HasSubstr("not lower-case hex"));
  EXPECT_THAT(refused(with_pcr("md5", "7", std::string(32, '0'))), HasSubstr("pcrs.md5: unknown PCR bank"));
  json j = encode_evidence(sample());
  j["pcrs"] = json::object();
  EXPECT_THAT(refused(j), HasSubstr("pcrs: no bank"));
  j["pcrs"] = {{"sha256", json::object()}};
  EXPECT_THAT(refused(j), HasSubstr("pcrs.sha256: no PCR"));
}

TEST(Evidence, HostileText) {
  const std::string good = encode_evidence(sample()).dump();
  // Truncated at many points: never accepted, never a crash.
  for (size_t n = 0; n < good.size(); n += 7) {
    EXPECT_THAT(refused_text(good.substr(0, n)), HasSubstr("not valid JSON")) << n;
  }
  EXPECT_THAT(refused_text("{\"vmId\":\"a\",\"vmId\":\"b\"}"), HasSubstr("member \"vmId\" appears twice"));
  EXPECT_THAT(refused_text("{\"os\":{\"type\":\"Linux\",\"type\":\"Windows\"}}"), HasSubstr("appears twice"));
  std::string deep = "{\"clientPayload\":";
  for (int i = 0; i < 40; ++i) deep += "[";
  for (int i = 0; i < 40; ++i) deep += "]";
  deep += "}";
  EXPECT_THAT(refused_text(deep), HasSubstr("nested deeper than 16 levels"));
  EXPECT_THAT(refused_text("{\"vmId\":\"\xff\"}"), HasSubstr("not valid JSON"));
  EXPECT_THAT(refused_text("[]"), HasSubstr("expected object"));
  EXPECT_THAT(refused_text(good + "x"), HasSubstr("not valid JSON"));
  EXPECT_TRUE(decode_evidence_text(good).ok());
}

}  // namespace
}  // namespace tl::verify
