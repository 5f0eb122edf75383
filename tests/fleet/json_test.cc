// Strict request decoding (vm_spec / vm_patch / suppression_from_json) with
// hostile inputs, and the response shapes of docs/fleet-api.md.
#include <gtest/gtest.h>

#include <string>

#include "common/rfc3339.h"
#include "fleet/fleet.h"

namespace tl::fleet {
namespace {

using nlohmann::json;

json good_spec() {
  return json::parse(R"({"name":"web-01","id":"/subscriptions/x/virtualMachines/web-01",
    "vmId":"5e0c7d0e-8d8d-4a4e-9b1b-0c2d4c6f1a11","group":"debian-12-pool",
    "securityProfile":{"securityType":"TrustedLaunch","uefiSettings":{"secureBootEnabled":true},"enableTpm":true},
    "agentInstalled":true,"powerState":"Running"})");
}

TEST(FleetJson, GoodSpec) {
  auto s = vm_spec_from_json(good_spec());
  ASSERT_TRUE(s.ok()) << s.error().message;
  EXPECT_EQ(s->name, "web-01");
  EXPECT_EQ(s->resource_id, "/subscriptions/x/virtualMachines/web-01");
  EXPECT_EQ(s->group, "debian-12-pool");
  EXPECT_EQ(s->profile.security_type, SecurityType::trusted_launch);
  EXPECT_TRUE(s->profile.secure_boot_enabled);
  EXPECT_EQ(s->power_state, PowerState::running);
}

TEST(FleetJson, MinimalSpecDefaults) {
  auto s = vm_spec_from_json(json::parse(R"({"name":"a","vmId":"v","group":"g",
    "securityProfile":{"securityType":"Standard"}})"));
  ASSERT_TRUE(s.ok()) << s.error().message;
  EXPECT_FALSE(s->profile.secure_boot_enabled);
  EXPECT_FALSE(s->profile.tpm_enabled);
  EXPECT_TRUE(s->agent_installed);
  EXPECT_EQ(s->power_state, PowerState::running);
}

struct Hostile {
  const char* what;
  json body;
  const char* names;  // the path the error must name
};

TEST(FleetJson, HostileSpecs) {
  auto with = [](const char* key, json v) {
    json j = good_spec();
    j[key] = std::move(v);
    return j;
  };
  auto without = [](const char* key) {
    json j = good_spec();
    j.erase(key);
    return j;
  };
  json nested_unknown = good_spec();
  nested_unknown["securityProfile"]["uefiSettings"]["vTpmEnabled"] = true;
  json nested_type = good_spec();
  nested_type["securityProfile"]["enableTpm"] = "yes";
  json bad_type = good_spec();
  bad_type["securityProfile"]["securityType"] = "ConfidentialVM";
  const Hostile cases[] = {
      {"array", json::array(), "request body"},
      {"string", json("web"), "request body"},
      {"null", json(nullptr), "request body"},
      {"unknown member", with("extra", 1), "extra"},
      {"name number", with("name", 7), "name"},
      {"name empty", with("name", ""), "name"},
      {"name slash", with("name", "../etc"), "name"},
      {"name space", with("name", "web 01"), "name"},
      {"name too long", with("name", std::string(65, 'a')), "name"},
      {"name unicode", with("name", "w\xc3\xa9" "b"), "name"},
      {"group missing", without("group"), "group"},
      {"vmId missing", without("vmId"), "vmId"},
      {"vmId empty", with("vmId", ""), "vmId"},
      {"vmId oversize", with("vmId", std::string(129, 'v')), "vmId"},
      {"vmId control", with("vmId", std::string("a\nb")), "vmId"},
      {"id oversize", with("id", std::string(513, 'i')), "id"},
      {"id object", with("id", json::object()), "id"},
      {"agent string", with("agentInstalled", "true"), "agentInstalled"},
      {"agent number", with("agentInstalled", 1), "agentInstalled"},
      {"power lower", with("powerState", "running"), "powerState"},
      {"profile missing", without("securityProfile"), "securityProfile"},
      {"profile array", with("securityProfile", json::array()), "securityProfile"},
      {"profile unknown nested", nested_unknown, "securityProfile.uefiSettings.vTpmEnabled"},
      {"profile wrong type nested", nested_type, "securityProfile.enableTpm"},
      {"security type", bad_type, "securityProfile.securityType"},
  };
  for (const Hostile& c : cases) {
    SCOPED_TRACE(c.what);
    auto s = vm_spec_from_json(c.body);
    ASSERT_FALSE(s.ok());
    EXPECT_EQ(s.error().reason, "vm-invalid");
    EXPECT_NE(s.error().message.find(c.names), std::string::npos) << s.error().message;
  }
}

TEST(FleetJson, Patch) {
  auto p = vm_patch_from_json(json::parse(R"({"powerState":"Stopped","agentInstalled":false,"unbindEk":true})"));
  ASSERT_TRUE(p.ok()) << p.error().message;
  EXPECT_EQ(p->power_state, PowerState::stopped);
  EXPECT_EQ(p->agent_installed, false);
  EXPECT_TRUE(p->unbind_ek);
  EXPECT_FALSE(p->group.has_value());
  EXPECT_FALSE(p->profile.has_value());

  EXPECT_TRUE(vm_patch_from_json(json::object()).ok());  // nothing to change is allowed
  for (const char* bad : {R"({"name":"x"})", R"({"vmId":"x"})", R"({"group":"a/b"})", R"({"powerState":true})",
                          R"({"unbindEk":"yes"})", R"([])", R"({"securityProfile":{}})"}) {
    auto r = vm_patch_from_json(json::parse(bad));
    ASSERT_FALSE(r.ok()) << bad;
    EXPECT_EQ(r.error().reason, "vm-invalid") << bad;
  }
}

TEST(FleetJson, Suppression) {
  auto s = suppression_from_json(json::parse(R"({"group":"lab","kind":"attestation-stale","reason":"lab VMs sleep"})"));
  ASSERT_TRUE(s.ok()) << s.error().message;
  EXPECT_EQ(s->group, "lab");
  EXPECT_FALSE(s->vm.has_value());
  EXPECT_EQ(s->kind, "attestation-stale");
  EXPECT_EQ(s->reason, "lab VMs sleep");
  const std::pair<const char*, const char*> bad[] = {
      {R"({"reason":"x"})", "at least one of group, vm, kind"},
      {R"({"group":"lab"})", "reason"},
      {R"({"group":"lab","reason":""})", "reason"},
      {R"({"group":"lab","reason":5})", "reason"},
      {R"({"kind":"everything","reason":"x"})", "kind"},
      {R"({"vm":"a b","reason":"x"})", "vm"},
      {R"({"group":"lab","reason":"x","until":"tomorrow"})", "until"},
      {R"({"group":null,"reason":"x"})", "group"},
  };
  for (const auto& [text, names] : bad) {
    auto r = suppression_from_json(json::parse(text));
    ASSERT_FALSE(r.ok()) << text;
    EXPECT_EQ(r.error().reason, "suppression-invalid");
    EXPECT_NE(r.error().message.find(names), std::string::npos) << r.error().message;
  }
  auto huge = suppression_from_json(json{{"group", "lab"}, {"reason", std::string(513, 'r')}});
  ASSERT_FALSE(huge.ok());
  EXPECT_NE(huge.error().message.find("at most 512"), std::string::npos);
}

TEST(FleetJson, HostEvent) {
  auto e = host_event_from_json(json::parse(R"({"kind":"boot-refused","detail":"grub: error: bad shim signature."})"));
  ASSERT_TRUE(e.ok()) << e.error().message;
  EXPECT_EQ(e->kind, HostEventKind::boot_refused);
  EXPECT_EQ(e->detail, "grub: error: bad shim signature.");
  EXPECT_FALSE(e->at.has_value());
  auto crashed = host_event_from_json(json::parse(R"({"kind":"vm-crashed","detail":"signal 11","at":1795377600})"));
  ASSERT_TRUE(crashed.ok()) << crashed.error().message;
  EXPECT_EQ(crashed->kind, HostEventKind::vm_crashed);
  EXPECT_EQ(crashed->at, 1795377600);
  auto vtpm = host_event_from_json(json::parse(R"({"kind":"vtpm-crashed","detail":"swtpm exited"})"));
  ASSERT_TRUE(vtpm.ok());
  EXPECT_EQ(vtpm->kind, HostEventKind::vtpm_crashed);
  auto longest = host_event_from_json(json{{"kind", "vm-crashed"}, {"detail", std::string(1024, 'd')}});
  EXPECT_TRUE(longest.ok());
  auto utf8 = host_event_from_json(json{{"kind", "vm-crashed"}, {"detail", "erreur: signature invalide \xc3\xa9"}});
  EXPECT_TRUE(utf8.ok());

  const std::pair<json, const char*> bad[] = {
      {json::array(), "request body"},
      {json("boot-refused"), "request body"},
      {json(nullptr), "request body"},
      {json::parse(R"({"detail":"x"})"), "kind"},
      {json::parse(R"({"kind":"Boot-Refused","detail":"x"})"), "kind"},
      {json::parse(R"({"kind":"attestation-failed","detail":"x"})"), "kind"},
      {json::parse(R"({"kind":["boot-refused"],"detail":"x"})"), "kind"},
      {json::parse(R"({"kind":null,"detail":"x"})"), "kind"},
      {json::parse(R"({"kind":"boot-refused"})"), "detail"},
      {json::parse(R"({"kind":"boot-refused","detail":""})"), "detail"},
      {json::parse(R"({"kind":"boot-refused","detail":"   "})"), "detail"},
      {json::parse(R"({"kind":"boot-refused","detail":42})"), "detail"},
      {json::parse(R"({"kind":"boot-refused","detail":"line 1\nline 2"})"), "detail"},
      {json{{"kind", "boot-refused"}, {"detail", std::string(1025, 'd')}}, "detail"},
      {json::parse(R"({"kind":"boot-refused","detail":"x","at":"2026-11-22T20:00:00Z"})"), "at"},
      {json::parse(R"({"kind":"boot-refused","detail":"x","at":1795377600.5})"), "at"},
      {json::parse(R"({"kind":"boot-refused","detail":"x","at":true})"), "at"},
      {json::parse(R"({"kind":"boot-refused","detail":"x","at":null})"), "at"},
      {json::parse(R"({"kind":"boot-refused","detail":"x","at":0})"), "at"},
      {json::parse(R"({"kind":"boot-refused","detail":"x","at":-5})"), "at"},
      {json::parse(R"({"kind":"boot-refused","detail":"x","at":18446744073709551615})"), "at"},
      {json::parse(R"({"kind":"boot-refused","detail":"x","vm":"web-01"})"), "vm"},
      {json::parse(R"({"kind":"boot-refused","detail":"x","severity":"Low"})"), "severity"},
  };
  for (const auto& [body, names] : bad) {
    SCOPED_TRACE(body.dump());
    auto r = host_event_from_json(body);
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().reason, "vm-invalid");
    EXPECT_NE(r.error().message.find(names), std::string::npos) << r.error().message;
  }
  EXPECT_NE(host_event_from_json(json{{"kind", "boot-refused"}, {"detail", std::string(1025, 'd')}})
                .error()
                .message.find("at most 1024"),
            std::string::npos);
  EXPECT_STREQ(host_event_kind_name(HostEventKind::vtpm_crashed), "vtpm-crashed");
}

TEST(FleetJson, SuppressionAcceptsEveryAlertKind) {
  for (const char* kind : {"attestation-failed", "quote-not-from-vtpm", "attestation-stale", "untrusted-kernel-module",
                           "boot-refused", "vm-crashed", "vtpm-crashed"}) {
    auto s = suppression_from_json(json{{"kind", kind}, {"reason", "r"}});
    ASSERT_TRUE(s.ok()) << kind << ": " << s.error().message;
    EXPECT_EQ(s->kind, kind);
  }
  auto bad = suppression_from_json(json{{"kind", "host-crashed"}, {"reason", "r"}});
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.error().message.find("boot-refused, vm-crashed or vtpm-crashed"), std::string::npos)
      << bad.error().message;
}

TEST(FleetJson, VmShape) {
  Vm vm;
  vm.spec.name = "web-01";
  vm.spec.vm_id = "id-1";
  vm.spec.group = "pool";
  vm.registered_at = 1795377600;  // 2026-11-22T20:00:00Z
  const json j = to_json(vm);
  const json& p = j["attestationStatus"]["properties"];
  EXPECT_EQ(j["attestationStatus"]["name"], "default");
  EXPECT_EQ(j["attestationStatus"]["type"], "attestationStatus");
  EXPECT_EQ(p["healthStatus"], "Pending");
  EXPECT_EQ(p["provisioningState"], "InProgress");
  EXPECT_TRUE(p["timestamp"].is_null());
  EXPECT_TRUE(p["errorMessage"].is_null());
  EXPECT_TRUE(j["ekName"].is_null());
  EXPECT_EQ(j["registeredAt"], "2026-11-22T20:00:00Z");
  EXPECT_EQ(j["securityProfile"]["uefiSettings"]["secureBootEnabled"], true);
  for (const char* key : {"attestSecureBootEnabled", "attestationCertValidated", "bootIntegrityValidated",
                          "healthStatus", "linuxKernelVersion", "errorMessage", "provisioningState", "timestamp"}) {
    EXPECT_TRUE(p.contains(key)) << key;
  }
  EXPECT_EQ(p.size(), 8u);  // exactly Azure Local's fields
}

TEST(FleetJson, SummaryShape) {
  Summary s;
  s.vms = 3;
  s.healthy = 1;
  s.pending = 2;
  s.alerts_medium = 4;
  s.rec_install_agent = 5;
  EXPECT_EQ(to_json(s), json::parse(R"({"vms":3,"healthStatus":{"Healthy":1,"Unhealthy":0,"Unknown":0,"Pending":2},
    "alerts":{"High":0,"Medium":4,"Low":0},
    "recommendations":{"enable-secure-boot":0,"enable-vtpm":0,"install-agent":5}})"));
}

TEST(FleetJson, Rfc3339) {
  EXPECT_EQ(format_rfc3339(0), "1970-01-01T00:00:00Z");
  EXPECT_EQ(format_rfc3339(1795377662), "2026-11-22T20:01:02Z");
}

}  // namespace
}  // namespace tl::fleet
