#include "agent/settings.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <fstream>
#include <nlohmann/json.hpp>

namespace tl::agent {
namespace {

using ::testing::HasSubstr;
using json = nlohmann::json;
using namespace std::chrono_literals;

// The full example from the extension's documentation shape.
const char* const kFull = R"({"AttestationConfig":{
  "MaaSettings":{"maaEndpoint":"https://sharedeus.eus.attest.azure.net","maaTenantName":"GuestAttestation"},
  "AscSettings":{"ascReportingEndpoint":"https://asc.example.net:8443/report","ascReportingFrequency":"4H"},
  "AzureStackSettings":{"clusterId":"cluster-1","clusterAadTenantId":"72f988bf-86f1-41af-91ab-2d7cd011db47"},
  "useCustomToken":"true","disableAlerts":"false","isAzureStack":"true"}})";

json full() { return json::parse(kFull); }

Error err_of(const std::string& text) {
  auto r = parse_settings(text);
  if (r.ok()) return Error{"accepted", "none"};
  EXPECT_FALSE(r.error().reason.empty());
  EXPECT_EQ(r.error().reason.rfind("settings-", 0), 0u) << r.error().reason;
  return r.error();
}

std::string err(const std::string& text) { return err_of(text).message; }
std::string err(const char* text) { return err(std::string(text)); }
std::string err(const json& j) { return err(j.dump()); }

TEST(Settings, FullDocument) {
  auto s = parse_settings(kFull);
  ASSERT_TRUE(s.ok()) << s.error().message;
  EXPECT_EQ(s->maa_endpoint.host, "sharedeus.eus.attest.azure.net");
  EXPECT_EQ(s->maa_endpoint.scheme, "https");
  EXPECT_EQ(s->maa_tenant_name, "GuestAttestation");
  ASSERT_TRUE(s->asc_reporting_endpoint.has_value());
  EXPECT_EQ(s->asc_reporting_endpoint->port, 8443);
  EXPECT_EQ(s->asc_reporting_endpoint->path, "/report");
  EXPECT_EQ(s->reporting_frequency, 4h);
  EXPECT_EQ(s->cluster_id, "cluster-1");
  EXPECT_EQ(s->cluster_aad_tenant_id, "72f988bf-86f1-41af-91ab-2d7cd011db47");
  EXPECT_TRUE(s->use_custom_token);
  EXPECT_FALSE(s->disable_alerts);
  EXPECT_TRUE(s->is_azure_stack);
}

TEST(Settings, MinimalDocumentGetsDefaults) {
  auto s = parse_settings(R"({"AttestationConfig":{"MaaSettings":{"maaEndpoint":"http://127.0.0.1:8080"}}})");
  ASSERT_TRUE(s.ok()) << s.error().message;
  EXPECT_EQ(s->maa_endpoint.port, 8080);
  EXPECT_EQ(s->maa_tenant_name, "");
  EXPECT_FALSE(s->asc_reporting_endpoint.has_value());
  EXPECT_EQ(s->reporting_frequency, kDefaultFrequency);
  EXPECT_EQ(s->reporting_frequency, 8h);
  EXPECT_FALSE(s->use_custom_token);
  EXPECT_FALSE(s->disable_alerts);
  EXPECT_FALSE(s->is_azure_stack);
}

TEST(Settings, EmptyStringsOfOptionalKeysMeanAbsent) {
  // The extension's own template writes "" for values it leaves unset.
  json j = full();
  j["AttestationConfig"]["AscSettings"] = {{"ascReportingEndpoint", ""}, {"ascReportingFrequency", ""}};
  j["AttestationConfig"]["MaaSettings"]["maaTenantName"] = "";
  j["AttestationConfig"]["isAzureStack"] = "false";
  auto s = parse_settings(j.dump());
  ASSERT_TRUE(s.ok()) << s.error().message;
  EXPECT_FALSE(s->asc_reporting_endpoint.has_value());
  EXPECT_EQ(s->reporting_frequency, 8h);
  EXPECT_EQ(s->maa_tenant_name, "");
}

TEST(Settings, BooleansAsStringsOrJsonBooleans) {
  json j = full();
  j["AttestationConfig"]["useCustomToken"] = false;
  j["AttestationConfig"]["disableAlerts"] = true;
  auto s = parse_settings(j.dump());
  ASSERT_TRUE(s.ok()) << s.error().message;
  EXPECT_FALSE(s->use_custom_token);
  EXPECT_TRUE(s->disable_alerts);

  for (const char* v : {"True", "TRUE", "1", "yes", "", " true"}) {
    j["AttestationConfig"]["disableAlerts"] = v;
    const Error e = err_of(j.dump());
    EXPECT_EQ(e.reason, "settings-bad-value") << v;
    EXPECT_THAT(e.message, HasSubstr("AttestationConfig.disableAlerts: expected \"true\" or \"false\" (lower case)"));
  }
  j["AttestationConfig"]["disableAlerts"] = 1;
  EXPECT_THAT(err(j), HasSubstr("AttestationConfig.disableAlerts: expected \"true\" or \"false\", got number"));
  j["AttestationConfig"]["disableAlerts"] = nullptr;
  EXPECT_THAT(err(j), HasSubstr("got null"));
}

TEST(Settings, WrongCaseKeyNamesPathAndSuggests) {
  json j = full();
  auto& maa = j["AttestationConfig"]["MaaSettings"];
  maa["MaaEndpoint"] = maa["maaEndpoint"];
  maa.erase("maaEndpoint");
  const Error e = err_of(j.dump());
  EXPECT_EQ(e.reason, "settings-unknown-key");
  EXPECT_EQ(e.message, "AttestationConfig.MaaSettings.MaaEndpoint: unknown key; did you mean \"maaEndpoint\"?");
}

TEST(Settings, UnknownKeysAtEveryLevel) {
  EXPECT_EQ(err(R"({"attestationConfig":{}})"), "attestationConfig: unknown key; did you mean \"AttestationConfig\"?");
  json j = full();
  j["AttestationConfig"]["maaSettings"] = j["AttestationConfig"]["MaaSettings"];
  j["AttestationConfig"].erase("MaaSettings");
  EXPECT_EQ(err(j), "AttestationConfig.maaSettings: unknown key; did you mean \"MaaSettings\"?");

  j = full();
  j["AttestationConfig"]["AscSettings"]["ascReportingFrequncy"] = "4H";  // typo, 1 edit
  EXPECT_EQ(err(j),
            "AttestationConfig.AscSettings.ascReportingFrequncy: unknown key; did you mean \"ascReportingFrequency\"?");

  j = full();
  j["AttestationConfig"]["AzureStackSettings"]["clusterID"] = "x";
  EXPECT_THAT(err(j), HasSubstr("AttestationConfig.AzureStackSettings.clusterID: unknown key; did you mean \"clusterId\"?"));

  j = full();
  j["AttestationConfig"]["disableAlert"] = "true";
  EXPECT_THAT(err(j), HasSubstr("AttestationConfig.disableAlert: unknown key; did you mean \"disableAlerts\"?"));

  j = full();
  j["AttestationConfig"]["somethingElse"] = "x";  // nothing close: no suggestion
  EXPECT_EQ(err(j), "AttestationConfig.somethingElse: unknown key");

  j = full();
  j["Extra"] = 1;
  EXPECT_EQ(err(j), "Extra: unknown key");
}

TEST(Settings, HostileKeyIsShownSafely) {
  const std::string m = err(R"({"AttestationConfig":{"MaaSettings":{"maaEndpoint":"https://h"},"x\u001b[2J)" +
                            std::string(500, 'y') + R"(":1}})");
  EXPECT_THAT(m, HasSubstr("AttestationConfig.x?[2J"));
  EXPECT_EQ(m.find('\x1b'), std::string::npos);
  EXPECT_LT(m.size(), 200u);
}

TEST(Settings, DuplicateKeysAreErrorsWithPath) {
  const Error e = err_of(
      R"({"AttestationConfig":{"MaaSettings":{"maaEndpoint":"https://a","maaEndpoint":"https://b"}}})");
  EXPECT_EQ(e.reason, "settings-duplicate-key");
  EXPECT_EQ(e.message, "AttestationConfig.MaaSettings.maaEndpoint: duplicate key");
  EXPECT_EQ(err(R"({"AttestationConfig":{},"AttestationConfig":{}})"), "AttestationConfig: duplicate key");
  EXPECT_THAT(err(R"({"AttestationConfig":{"MaaSettings":{"maaEndpoint":"https://a"},"isAzureStack":"false","isAzureStack":"true"}})"),
              HasSubstr("AttestationConfig.isAzureStack: duplicate key"));
  // The same key in different objects is not a duplicate.
  EXPECT_TRUE(parse_settings(kFull).ok());
}

TEST(Settings, MissingRequiredKeys) {
  EXPECT_EQ(err_of("{}").reason, "settings-missing-key");
  EXPECT_EQ(err("{}"), "AttestationConfig: required key is missing");
  EXPECT_EQ(err(R"({"AttestationConfig":{}})"), "AttestationConfig.MaaSettings: required key is missing");
  EXPECT_EQ(err(R"({"AttestationConfig":{"MaaSettings":{}}})"),
            "AttestationConfig.MaaSettings.maaEndpoint: required key is missing");
  EXPECT_EQ(err(R"({"AttestationConfig":{"MaaSettings":{"maaEndpoint":""}}})"),
            "AttestationConfig.MaaSettings.maaEndpoint: required but empty");
  json j = full();
  j["AttestationConfig"].erase("AzureStackSettings");
  EXPECT_EQ(err(j), "AttestationConfig.AzureStackSettings.clusterId: required when isAzureStack is \"true\"");
  j["AttestationConfig"]["isAzureStack"] = "false";
  EXPECT_TRUE(parse_settings(j.dump()).ok());
}

TEST(Settings, WrongTypesNamedWithPath) {
  EXPECT_EQ(err(R"({"AttestationConfig":"x"})"), "AttestationConfig: expected an object, got string");
  EXPECT_EQ(err(R"({"AttestationConfig":{"MaaSettings":[]}})"),
            "AttestationConfig.MaaSettings: expected an object, got array");
  EXPECT_EQ(err(R"({"AttestationConfig":{"MaaSettings":{"maaEndpoint":42}}})"),
            "AttestationConfig.MaaSettings.maaEndpoint: expected a string, got number");
  json j = full();
  j["AttestationConfig"]["AscSettings"]["ascReportingFrequency"] = 4;
  EXPECT_EQ(err(j), "AttestationConfig.AscSettings.ascReportingFrequency: expected a string, got number");
  j = full();
  j["AttestationConfig"]["AzureStackSettings"]["clusterId"] = json::object();
  EXPECT_EQ(err(j), "AttestationConfig.AzureStackSettings.clusterId: expected a string, got object");
  j = full();
  j["AttestationConfig"]["AscSettings"] = nullptr;
  EXPECT_EQ(err(j), "AttestationConfig.AscSettings: expected an object, got null");
  EXPECT_EQ(err_of(j.dump()).reason, "settings-wrong-type");
}

TEST(Settings, BadEndpointsSayWhatIsWrong) {
  json j = full();
  j["AttestationConfig"]["MaaSettings"]["maaEndpoint"] = "ftp://x";
  EXPECT_EQ(err(j), "AttestationConfig.MaaSettings.maaEndpoint: scheme \"ftp\" is not http or https");
  EXPECT_EQ(err_of(j.dump()).reason, "settings-bad-url");
  j["AttestationConfig"]["MaaSettings"]["maaEndpoint"] = "sharedeus.eus.attest.azure.net";
  EXPECT_THAT(err(j), HasSubstr("maaEndpoint: \"sharedeus.eus.attest.azure.net\" is not an absolute URL"));
  j = full();
  j["AttestationConfig"]["AscSettings"]["ascReportingEndpoint"] = "https://h:99999/";
  EXPECT_EQ(err(j), "AttestationConfig.AscSettings.ascReportingEndpoint: port 99999 is not in 1..65535");
}

TEST(Settings, BadFrequencyNamedWithPath) {
  json j = full();
  j["AttestationConfig"]["AscSettings"]["ascReportingFrequency"] = "4h";
  const Error e = err_of(j.dump());
  EXPECT_EQ(e.reason, "settings-bad-frequency");
  EXPECT_EQ(e.message,
            "AttestationConfig.AscSettings.ascReportingFrequency: frequency \"4h\": unit must be upper case: write \"4H\"");
}

TEST(Settings, BadStringValues) {
  json j = full();
  j["AttestationConfig"]["MaaSettings"]["maaTenantName"] = std::string(kMaxSettingsString + 1, 'a');
  EXPECT_THAT(err(j), HasSubstr("maaTenantName: string of 1025 bytes is longer than 1024"));
  j["AttestationConfig"]["MaaSettings"]["maaTenantName"] = "a\nb";
  EXPECT_THAT(err(j), HasSubstr("maaTenantName: contains a control character"));
}

TEST(Settings, HostileDocuments) {
  EXPECT_THAT(err(""), HasSubstr("not valid JSON"));
  EXPECT_THAT(err(std::string(kFull).substr(0, 100)), HasSubstr("not valid JSON"));
  EXPECT_THAT(err("[1,2]"), HasSubstr("top level is a JSON array"));
  EXPECT_THAT(err("\"x\""), HasSubstr("top level is a JSON string"));
  EXPECT_THAT(err("null"), HasSubstr("top level is a JSON null"));
  EXPECT_THAT(err(R"({"AttestationConfig":{}} trailing)"), HasSubstr("not valid JSON"));
  EXPECT_THAT(err("{\"AttestationConfig\":\"\xff\"}"), HasSubstr("not valid JSON"));
  EXPECT_THAT(err(std::string(10000, '[')), HasSubstr("nested deeper than 16"));
  EXPECT_THAT(err(R"({"AttestationConfig":)" + std::string(20, '[') + std::string(20, ']') + "}"), HasSubstr("nested deeper"));
  const Error big = err_of(std::string(kMaxSettingsSize + 1, ' '));
  EXPECT_EQ(big.reason, "settings-too-large");
  // A number beyond double range is refused, not thrown (found by fuzzing).
  EXPECT_THAT(err(R"({"AttestationConfig":{"MaaSettings":{"maaEndpoint":3e333}}})"), HasSubstr("number overflow"));
  // Comments are not JSON.
  EXPECT_THAT(err("// c\n" + std::string(kFull)), HasSubstr("not valid JSON"));
}

TEST(Settings, LoadFromFile) {
  std::string tmpl = (std::filesystem::temp_directory_path() / "tl_settings_XXXXXX").string();
  const int fd = ::mkstemp(tmpl.data());
  ASSERT_GE(fd, 0);
  ::close(fd);
  const std::filesystem::path p(tmpl);
  { std::ofstream(p, std::ios::binary) << kFull; }
  auto s = load_settings(p);
  ASSERT_TRUE(s.ok()) << s.error().message;
  EXPECT_TRUE(s->is_azure_stack);
  { std::ofstream(p, std::ios::binary) << R"({"AttestationConfig":{}})"; }
  auto bad = load_settings(p);
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().message, p.string() + ": AttestationConfig.MaaSettings: required key is missing");
  { std::ofstream(p, std::ios::binary) << std::string(kMaxSettingsSize + 10, ' '); }
  EXPECT_EQ(load_settings(p).error().reason, "settings-too-large");
  std::filesystem::remove(p);
  auto missing = load_settings(p);
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error().reason, "settings-unreadable");
  EXPECT_THAT(missing.error().message, HasSubstr(p.string()));
}

}  // namespace
}  // namespace tl::agent
