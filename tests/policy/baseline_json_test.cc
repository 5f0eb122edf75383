// Baseline JSON: what to_json writes reads back unchanged, and the strict
// reader refuses every malformed or unexpected document with its JSON path.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <functional>

#include "policy/baseline.h"
#include "support/test_support.h"

namespace tl::policy {
namespace {

using nlohmann::json;
using ::testing::HasSubstr;
using ::testing::StartsWith;

constexpr const char* kLog = "ovmf-secureboot/eventlog_sb_debian_chain.bin";
const std::string kHex(64, 'a');

// A small, valid document; each hostile case edits one thing in it.
json small_baseline() {
  return json::parse(R"({
    "group": "debian-12-pool", "version": 2, "createdAt": "2026-11-22T20:00:00Z", "learning": false,
    "pcrs": [4, 7],
    "variants": [{
      "name": "kernel-6.1.0-27", "source": "eventlog", "createdAt": "2026-11-22T20:00:00Z",
      "pcrValues": {"4": ")" + kHex + R"(", "7": ")" + kHex + R"("},
      "measurements": [{"pcr": 4, "event": 23, "eventType": "EV_EFI_BOOT_SERVICES_APPLICATION",
                        "component": "PciRoot(0x0)/Pci(0x1,0x0)/\\EFI\\BOOT\\BOOTX64.EFI", "sha256": ")" +
                     kHex + R"("}]
    }]
  })");
}

void expect_refused(const json& j, const std::string& path_and_text) {
  auto b = baseline_from_json(j);
  ASSERT_FALSE(b.ok()) << "accepted: " << j.dump();
  EXPECT_EQ(b.error().reason, "baseline-invalid");
  EXPECT_THAT(b.error().message, StartsWith(path_and_text)) << j.dump();
}

json edited(const std::function<void(json&)>& edit) {
  json j = small_baseline();
  edit(j);
  return j;
}

TEST(BaselineJson, SmallDocumentReads) {
  auto b = baseline_from_json(small_baseline());
  ASSERT_TRUE(b.ok()) << b.error().message;
  EXPECT_EQ(b->group, "debian-12-pool");
  EXPECT_EQ(b->version, 2);
  EXPECT_EQ(b->created_at, 1795377600);  // 2026-11-22T20:00:00Z
  EXPECT_EQ(b->pcrs, (std::vector<uint32_t>{4, 7}));
  ASSERT_EQ(b->variants.size(), 1u);
  const BaselineVariant& v = b->variants[0];
  EXPECT_EQ(v.name, "kernel-6.1.0-27");
  EXPECT_EQ(v.pcr_values.at(4), kHex);
  ASSERT_EQ(v.measurements.size(), 1u);
  EXPECT_EQ(v.measurements[0].event, 23u);
  EXPECT_EQ(v.measurements[0].component, "PciRoot(0x0)/Pci(0x1,0x0)/\\EFI\\BOOT\\BOOTX64.EFI");
}

TEST(BaselineJson, RoundTripOfTheRealLogsBaseline) {
  TL_REQUIRE_VECTOR(path, kLog);
  const Bytes log = test::read_file(path);
  auto a = variant_from_eventlog(log, "debian-12", default_baseline_pcrs(), 1795000000);
  auto b = variant_from_eventlog(log, "debian-12-again", {0, 4, 7, 14}, 951782400);
  ASSERT_TRUE(a.ok() && b.ok());
  b->pcr_values.erase(14);  // variants of one baseline share its PCRs
  for (auto it = b->measurements.begin(); it != b->measurements.end();)
    it = it->pcr == 14 ? b->measurements.erase(it) : it + 1;
  Baseline in{"debian-12-pool", 3, 1795000000, {0, 2, 4, 7, 8, 9}, {*a, *a}};
  in.variants[1].name = "second";
  const json j = to_json(in);
  EXPECT_EQ(j["createdAt"], "2026-11-18T11:06:40Z");
  EXPECT_EQ(j["variants"][0]["pcrValues"].size(), 6u);
  // Through text, as the store and the API carry it.
  auto out = baseline_from_json(json::parse(j.dump()));
  ASSERT_TRUE(out.ok()) << out.error().message;
  EXPECT_EQ(out->group, in.group);
  EXPECT_EQ(out->version, in.version);
  EXPECT_EQ(out->created_at, in.created_at);
  EXPECT_EQ(out->pcrs, in.pcrs);
  ASSERT_EQ(out->variants.size(), 2u);
  for (size_t i = 0; i < 2; ++i) {
    EXPECT_EQ(out->variants[i].name, in.variants[i].name);
    EXPECT_EQ(out->variants[i].source, in.variants[i].source);
    EXPECT_EQ(out->variants[i].created_at, in.variants[i].created_at);
    EXPECT_EQ(out->variants[i].pcr_values, in.variants[i].pcr_values);
    EXPECT_EQ(out->variants[i].measurements, in.variants[i].measurements);
  }
  EXPECT_EQ(to_json(*out), j);
  // Another PCR set and time.
  Baseline other{"g", 1, 951782400, {0, 4, 7}, {*b}};
  auto back = baseline_from_json(to_json(other));
  ASSERT_TRUE(back.ok()) << back.error().message;
  EXPECT_EQ(to_json(*back), to_json(other));
  EXPECT_EQ(to_json(other)["createdAt"], "2000-02-29T00:00:00Z");
}

TEST(BaselineJson, UpperCaseHexIsStoredLowerCase) {
  auto b = baseline_from_json(edited([](json& j) { j["variants"][0]["pcrValues"]["4"] = std::string(64, 'A'); }));
  ASSERT_TRUE(b.ok()) << b.error().message;
  EXPECT_EQ(b->variants[0].pcr_values.at(4), std::string(64, 'a'));
}

TEST(BaselineJson, OptionalMembersMayBeAbsent) {
  auto b = baseline_from_json(edited([](json& j) {
    j.erase("createdAt");
    j.erase("learning");
    j["variants"][0].erase("createdAt");
    j["variants"][0].erase("measurements");
  }));
  ASSERT_TRUE(b.ok()) << b.error().message;
  EXPECT_TRUE(b->variants[0].measurements.empty());
}

TEST(BaselineJson, NotAnObject) {
  for (const json& j : {json(nullptr), json(1), json("baseline"), json::array()}) {
    auto b = baseline_from_json(j);
    ASSERT_FALSE(b.ok());
    EXPECT_EQ(b.error().reason, "baseline-invalid");
    EXPECT_THAT(b.error().message, HasSubstr("expected a JSON object"));
  }
}

TEST(BaselineJson, TruncatedDocumentsMissRequiredMembers) {
  for (const char* name : {"group", "version", "pcrs", "variants"})
    expect_refused(edited([&](json& j) { j.erase(name); }), std::string(name) + ": required member is missing");
  for (const char* name : {"name", "source", "pcrValues"})
    expect_refused(edited([&](json& j) { j["variants"][0].erase(name); }),
                   std::string("variants[0].") + name + ": required member is missing");
  for (const char* name : {"pcr", "event", "eventType", "component", "sha256"})
    expect_refused(edited([&](json& j) { j["variants"][0]["measurements"][0].erase(name); }),
                   std::string("variants[0].measurements[0].") + name + ": required member is missing");
  // Text cut anywhere is not JSON at all; the reader never sees it.
  const std::string text = small_baseline().dump();
  for (size_t n = 0; n < text.size(); ++n)
    EXPECT_TRUE(json::parse(text.substr(0, n), nullptr, false).is_discarded()) << n;
}

TEST(BaselineJson, UnknownMembersAreRefused) {
  expect_refused(edited([](json& j) { j["mode"] = "permissive"; }), "mode: unknown member");
  expect_refused(edited([](json& j) { j["variants"][0]["pcrs"] = json::array({4}); }),
                 "variants[0].pcrs: unknown member");
  expect_refused(edited([](json& j) { j["variants"][0]["measurements"][0]["sha1"] = "00"; }),
                 "variants[0].measurements[0].sha1: unknown member");
}

TEST(BaselineJson, WrongTypesAreRefused) {
  expect_refused(edited([](json& j) { j["group"] = 7; }), "group: expected a string");
  expect_refused(edited([](json& j) { j["version"] = "2"; }), "version: expected an integer");
  expect_refused(edited([](json& j) { j["version"] = 2.5; }), "version: expected an integer");
  expect_refused(edited([](json& j) { j["version"] = 0; }), "version: 0 is out of range");
  expect_refused(edited([](json& j) { j["version"] = uint64_t{1} << 40; }), "version: must be at most");
  expect_refused(edited([](json& j) { j["createdAt"] = 1795464000; }), "createdAt: expected an RFC 3339 time");
  expect_refused(edited([](json& j) { j["createdAt"] = "2026-02-30T00:00:00Z"; }), "createdAt: day 30");
  expect_refused(edited([](json& j) { j["createdAt"] = "2026-11-22 20:00:00"; }), "createdAt: expected an RFC 3339");
  expect_refused(edited([](json& j) { j["learning"] = "yes"; }), "learning: expected a boolean");
  expect_refused(edited([](json& j) { j["pcrs"] = "4,7"; }), "pcrs: expected an array");
  expect_refused(edited([](json& j) { j["pcrs"] = json::array({4, "7"}); }), "pcrs[1]: expected an integer");
  expect_refused(edited([](json& j) { j["variants"] = json::object(); }), "variants: expected an array");
  expect_refused(edited([](json& j) { j["variants"][0] = "v1"; }), "variants[0]: expected an object");
  expect_refused(edited([](json& j) { j["variants"][0]["pcrValues"] = json::array(); }),
                 "variants[0].pcrValues: expected an object");
  expect_refused(edited([](json& j) { j["variants"][0]["measurements"] = json::object(); }),
                 "variants[0].measurements: expected an array");
  expect_refused(edited([](json& j) { j["variants"][0]["measurements"][0]["event"] = -1; }),
                 "variants[0].measurements[0].event: -1 is out of range");
  expect_refused(edited([](json& j) { j["variants"][0]["measurements"][0]["event"] = uint64_t{1} << 32; }),
                 "variants[0].measurements[0].event: must be at most 4294967295");
  expect_refused(edited([](json& j) { j["variants"][0]["measurements"][0]["eventType"] = ""; }),
                 "variants[0].measurements[0].eventType: must not be empty");
  expect_refused(edited([](json& j) { j["variants"][0]["measurements"][0]["component"] = json::array(); }),
                 "variants[0].measurements[0].component: expected a string");
  expect_refused(edited([](json& j) { j["variants"][0]["measurements"][0]["component"] = std::string(5000, 'c'); }),
                 "variants[0].measurements[0].component: longer than 4096 bytes");
}

TEST(BaselineJson, BadHexIsRefused) {
  const std::string p = "variants[0].pcrValues.4: ";
  expect_refused(edited([](json& j) { j["variants"][0]["pcrValues"]["4"] = std::string(63, 'a'); }),
                 p + "expected 64 hex digits (SHA-256), got 63");
  expect_refused(edited([](json& j) { j["variants"][0]["pcrValues"]["4"] = std::string(65, 'a'); }),
                 p + "expected 64 hex digits (SHA-256), got 65");
  expect_refused(edited([](json& j) { j["variants"][0]["pcrValues"]["4"] = std::string(1 << 20, 'a'); }),
                 p + "expected 64 hex digits");
  expect_refused(edited([](json& j) { j["variants"][0]["pcrValues"]["4"] = "0x" + std::string(62, 'a'); }),
                 p + "character 1 is not a hex digit");
  expect_refused(edited([](json& j) { j["variants"][0]["pcrValues"]["4"] = std::string(40, 'a'); }),
                 p + "expected 64 hex digits (SHA-256), got 40");
  expect_refused(edited([](json& j) { j["variants"][0]["pcrValues"]["4"] = std::string(63, 'a') + "g"; }),
                 p + "character 63 is not a hex digit");
  expect_refused(edited([](json& j) { j["variants"][0]["pcrValues"]["4"] = 12; }), p + "expected a SHA-256 hex");
  expect_refused(edited([](json& j) { j["variants"][0]["measurements"][0]["sha256"] = std::string(64, ' '); }),
                 "variants[0].measurements[0].sha256: character 0 is not a hex digit");
}

TEST(BaselineJson, PcrsAreChecked) {
  expect_refused(edited([](json& j) { j["pcrs"] = json::array({4, 24}); }), "pcrs[1]: 24 is out of range (0..23)");
  expect_refused(edited([](json& j) { j["pcrs"] = json::array({-1}); }), "pcrs[0]: -1 is out of range");
  expect_refused(edited([](json& j) { j["pcrs"] = json::array(); }), "pcrs: a baseline needs at least one PCR");
  expect_refused(edited([](json& j) { j["pcrs"] = json::array({7, 4}); }), "pcrs[1]: PCRs must be ascending");
  expect_refused(edited([](json& j) { j["pcrs"] = json::array({4, 4, 7}); }), "pcrs[1]: PCRs must be ascending");
  for (const char* key : {"24", "04", "-1", "x", "", " 4", "100"})
    expect_refused(edited([&](json& j) { j["variants"][0]["pcrValues"][key] = std::string(64, 'a'); }),
                   std::string("variants[0].pcrValues.") + key + ": member name is not a PCR index 0..23");
  expect_refused(edited([](json& j) { j["variants"][0]["pcrValues"]["9"] = std::string(64, 'a'); }),
                 "variants[0].pcrValues.9: PCR 9 is not one of the baseline's PCRs");
  expect_refused(edited([](json& j) { j["variants"][0]["pcrValues"].erase("7"); }),
                 "variants[0].pcrValues: no value for baseline PCR 7");
  expect_refused(edited([](json& j) { j["variants"][0]["measurements"][0]["pcr"] = 9; }),
                 "variants[0].measurements[0].pcr: PCR 9 is not one of the baseline's PCRs");
}

TEST(BaselineJson, VariantsAreChecked) {
  expect_refused(edited([](json& j) { j["variants"] = json::array(); }),
                 "variants: a baseline needs at least one variant");
  expect_refused(edited([](json& j) { j["variants"].push_back(j["variants"][0]); }),
                 "variants[1].name: duplicate variant name \"kernel-6.1.0-27\"");
  expect_refused(edited([](json& j) { j["variants"][0]["name"] = "a b"; }), "variants[0].name: variant name");
  expect_refused(edited([](json& j) { j["variants"][0]["name"] = ""; }), "variants[0].name: variant name");
  expect_refused(edited([](json& j) { j["variants"][0]["source"] = ""; }), "variants[0].source: must not be empty");
  expect_refused(edited([](json& j) { j["group"] = "pool/../x"; }), "group: must be 1 to 64");
  expect_refused(edited([](json& j) {
                   json v = j["variants"][0];
                   j["variants"] = json::array();
                   for (int i = 0; i < 257; ++i) {
                     v["name"] = "v" + std::to_string(i);
                     j["variants"].push_back(v);
                   }
                 }),
                 "variants: more than 256 variants");
}

}  // namespace
}  // namespace tl::policy
