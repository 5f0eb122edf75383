// Issue 4 end to end, all real: swtpm vTPMs provisioned by a local vTPM CA
// with the recorded OVMF Secure Boot boot (or an edited copy of it) replayed
// into their PCRs, the agent library attesting to the real tlaunchd binary, the
// fleet API driven over HTTP with the admin token, and a webhook receiver (a
// real HTTP server) on 127.0.0.1.
#include <gtest/gtest.h>

#include <chrono>
#include <ctime>
#include <fstream>
#include <mutex>
#include <thread>

#include <nlohmann/json.hpp>

#include "agent/client/attestation_client.h"
#include "common/rfc3339.h"
#include "crypto/digest.h"
#include "eventlog/parsed_log.h"
#include "fixture.h"
#include "http/http.h"
#include "support/cli_runner.h"
#include "support/test_support.h"
#include "token/base64url.h"

namespace tl::test {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;
using namespace std::chrono_literals;

constexpr const char* kGroup = "debian-12";

Bytes read_bytes(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return Bytes(std::istreambuf_iterator<char>(in), {});
}
void write_bytes(const fs::path& p, ByteView b) {
  std::ofstream(p, std::ios::binary).write(reinterpret_cast<const char*>(b.data()), static_cast<std::streamsize>(b.size()));
}

// Where in the file an event's SHA-256 digest and data lie.
struct EventPlace {
  size_t digest_offset = 0, data_offset = 0, data_size = 0;
};
EventPlace place_of(const Bytes& log, uint32_t index) {
  auto parsed = eventlog::ParsedLog::parse(log);
  EXPECT_TRUE(parsed.ok());
  const auto& e = parsed->events().at(index);
  EXPECT_EQ(e.index, index);
  const uint8_t* base = parsed->bytes().data();
  ByteView d = e.digest(crypto::HashAlg::sha256);
  return {static_cast<size_t>(d.data() - base), static_cast<size_t>(e.data.data() - base), e.data.size()};
}

// The recorded boot with shim (event 23, PCR 4) replaced by another binary:
// one digest changed, the rest of the boot as recorded.
fs::path edited_shim_log(const fs::path& dir) {
  Bytes log = read_bytes(boot_log_path());
  const auto p = place_of(log, 23);
  for (size_t i = 0; i < 32; ++i) log[p.digest_offset + i] ^= 0x5a;
  const fs::path out = dir / "edited-shim.bin";
  write_bytes(out, log);
  return out;
}

// The recorded boot with the SecureBoot variable (event 4, PCR 7) measured as
// 0, its digest recomputed as firmware would.
fs::path secure_boot_off_log(const fs::path& dir) {
  Bytes log = read_bytes(boot_log_path());
  const auto p = place_of(log, 4);
  EXPECT_EQ(log[p.data_offset + p.data_size - 1], 1);
  log[p.data_offset + p.data_size - 1] = 0;
  auto h = crypto::digest(crypto::HashAlg::sha256, ByteView(log.data() + p.data_offset, p.data_size));
  EXPECT_TRUE(h.ok());
  std::copy(h->begin(), h->end(), log.begin() + static_cast<std::ptrdiff_t>(p.digest_offset));
  const fs::path out = dir / "secure-boot-off.bin";
  write_bytes(out, log);
  return out;
}

// Records every webhook delivery; fails the first `fail_next` of them.
class WebhookReceiver {
 public:
  WebhookReceiver() {
    http::Router r;
    r.add("POST", "/hook", [this](const http::Request& req) {
      std::lock_guard lock(mu_);
      http::Response resp;
      if (fail_next_ > 0) {
        --fail_next_;
        ++failed_;
        resp.status = 503;
        return resp;
      }
      events_.push_back(json::parse(req.body, nullptr, false));
      resp.status = 204;
      return resp;
    });
    http::ServerOptions o;
    o.threads = 1;
    auto s = http::Server::start(o, std::move(r));
    EXPECT_TRUE(s.ok()) << s.error().message;
    if (s.ok()) server_ = std::move(*s);
  }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(server_ ? server_->port() : 0) + "/hook"; }
  void fail_next(int n) {
    std::lock_guard lock(mu_);
    fail_next_ = n;
  }
  int failed() {
    std::lock_guard lock(mu_);
    return failed_;
  }
  // Events about one alert id, in arrival order.
  std::vector<json> events_for(int64_t alert_id) {
    std::lock_guard lock(mu_);
    std::vector<json> out;
    for (const auto& e : events_)
      if (e.is_object() && e["alert"].value("id", int64_t{-1}) == alert_id) out.push_back(e);
    return out;
  }

 private:
  std::mutex mu_;
  int fail_next_ = 0, failed_ = 0;
  std::vector<json> events_;
  std::unique_ptr<http::Server> server_;
};

// Polls `f` until it holds or `limit` passes (the service works asynchronously:
// sweeps and webhook deliveries run on their own threads).
template <typename F>
bool eventually(F f, std::chrono::milliseconds limit = 20s) {
  const auto end = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < end) {
    if (f()) return true;
    std::this_thread::sleep_for(100ms);
  }
  return f();
}

class FleetE2E : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    root_ = std::make_unique<TempDir>();
    const fs::path r = root_->path();
    auto ca = VtpmCa::create(r / "vtpm-ca");
    if (!ca) return fail("vTPM CA: " + ca.error().message);
    ca_ = std::move(*ca);
    std::ofstream(r / "os-release") << "NAME=\"Debian GNU/Linux\"\nVERSION_ID=\"12\"\nID=debian\n";
    hook_ = std::make_unique<WebhookReceiver>();
    auto svc = Tlaunchd::start(r / "svc", {"--ek-ca", ca_->root_pem().string(), "--ek-ca", ca_->issuer_pem().string(),
                                           "--webhook", hook_->url()});
    if (!svc) return fail("tlaunchd: " + svc.error().message);
    svc_ = std::move(*svc);
    token_ = read_token(r / "svc");
  }
  static void TearDownTestSuite() {
    svc_.reset();
    hook_.reset();
    ca_.reset();
    root_.reset();
  }
  void SetUp() override {
    if (setup_error_) GTEST_FAIL() << *setup_error_;
  }
  static void fail(const std::string& m) {
    if (!setup_error_) setup_error_ = m;
  }
  static std::string read_token(const fs::path& svc_dir) {
    std::ifstream in(svc_dir / "tlaunchd.db.admin-token");
    std::string t;
    std::getline(in, t);
    return t;
  }

  // The fleet API, with the admin token.
  static http::Response call(const Tlaunchd& svc, const std::string& token, const std::string& method,
                             const std::string& path, const json& body = nullptr) {
    auto c = http::Client::create(svc.base_url());
    EXPECT_TRUE(c.ok());
    http::Headers h{{"Authorization", "Bearer " + token}};
    std::string text;
    if (!body.is_null()) {
      h["Content-Type"] = "application/json";
      text = body.dump();
    }
    auto r = (*c)->request(method, path, text, h);
    EXPECT_TRUE(r.ok()) << r.error().message;
    return r.ok() ? *r : http::Response{};
  }
  static json api(const std::string& method, const std::string& path, const json& body = nullptr,
                  int expect_status = 200) {
    auto r = call(*svc_, token_, method, path, body);
    EXPECT_EQ(r.status, expect_status) << method << " " << path << ": " << r.body;
    return r.body.empty() ? json{} : json::parse(r.body, nullptr, false);
  }
  static json register_vm(const std::string& name, const std::string& vm_id, bool secure_boot = true,
                          bool tpm = true, bool agent = true) {
    return api("POST", "/vms",
               json{{"name", name},
                    {"id", "/clusters/c1/virtualMachines/" + name},
                    {"vmId", vm_id},
                    {"group", kGroup},
                    {"securityProfile", {{"securityType", "TrustedLaunch"},
                                         {"uefiSettings", {{"secureBootEnabled", secure_boot}}},
                                         {"enableTpm", tpm}}},
                    {"agentInstalled", agent}},
               201);
  }
  static void create_baseline() {
    static std::once_flag once;
    std::call_once(once, [] {
      auto b = api("POST", std::string("/baselines/") + kGroup,
                   json{{"eventLog", token::base64url_encode(read_bytes(boot_log_path()))}, {"variant", "recorded"}},
                   201);
      EXPECT_EQ(b.value("version", 0), 1) << b.dump();
    });
  }

  static agent::AgentOptions options(const Swtpm& tpm, const std::string& vm_id, const fs::path& log,
                                     const std::string& base_url) {
    agent::AgentOptions o;
    o.endpoint = base_url;
    o.tcti = tpm.tcti();
    o.vm_id = vm_id;
    o.eventlog = log;
    o.os_release = root_->path() / "os-release";
    o.state_dir = root_->path() / ("state-" + vm_id + "-" + std::to_string(tpm.port()));
    // A clean guest kernel unless a test says otherwise (never the host's /dev/kmsg).
    o.kernel_modules.kernel_log = clean_kernel_log();
    o.kernel_modules.taint = root_->path() / "taint-0";
    o.kernel_modules.ima_log = root_->path() / "no-ima";
    return o;
  }
  // Enrolls if needed and attests once; returns the error text or "".
  static std::string attest(const Swtpm& tpm, const std::string& vm_id, const fs::path& log,
                            const Tlaunchd& svc) {
    auto c = agent::AttestationClient::create(options(tpm, vm_id, log, svc.base_url()));
    if (!c) return c.error().message;
    auto r = (*c)->attest();
    return r ? "" : r.error().message;
  }
  static fs::path clean_kernel_log() {
    const fs::path p = root_->path() / "kmsg-clean";
    if (!fs::exists(p)) {
      std::ofstream(p) << "[    0.000000] Linux version 6.1.0-27-amd64\n[    1.200000] Loaded X.509 cert 'Debian Secure Boot CA'\n";
      std::ofstream(root_->path() / "taint-0") << "0\n";
    }
    return p;
  }
  static std::unique_ptr<Swtpm> vm_tpm(const std::string& name, const fs::path& log) {
    auto t = start_vm_tpm(*ca_, root_->path() / name, log);
    EXPECT_TRUE(t.ok()) << t.error().message;
    return t.ok() ? std::move(*t) : nullptr;
  }
  static json status_of(const std::string& name) { return api("GET", "/vms/" + name)["attestationStatus"]["properties"]; }
  static std::vector<json> alerts_of(const std::string& vm, const std::string& state = "open") {
    auto j = api("GET", "/alerts?vm=" + vm + "&state=" + state);
    return j["value"].get<std::vector<json>>();
  }
  static bool has_recommendation(const json& vm, const std::string& kind) {
    for (const auto& r : vm["recommendations"])
      if (r.value("kind", "") == kind) return true;
    return false;
  }

  static inline std::unique_ptr<TempDir> root_;
  static inline std::unique_ptr<VtpmCa> ca_;
  static inline std::unique_ptr<WebhookReceiver> hook_;
  static inline std::unique_ptr<Tlaunchd> svc_;
  static inline std::string token_;
  static inline std::optional<std::string> setup_error_;
};

TEST_F(FleetE2E, FleetRoutesNeedTheAdminToken) {
  auto none = call(*svc_, "", "GET", "/fleet/summary");
  EXPECT_EQ(none.status, 401) << none.body;
  EXPECT_EQ(json::parse(none.body).value("reason", ""), "unauthorized");
  EXPECT_EQ(none.headers.count("WWW-Authenticate"), 1u);
  auto wrong = call(*svc_, token_ + "x", "GET", "/vms");
  EXPECT_EQ(wrong.status, 401);
  // Every fleet route, read or write, refuses before doing anything.
  const std::vector<std::pair<std::string, std::string>> routes = {
      {"POST", "/vms"}, {"GET", "/vms"}, {"GET", "/vms/x"}, {"PATCH", "/vms/x"}, {"DELETE", "/vms/x"},
      {"POST", "/baselines/g"}, {"GET", "/baselines"}, {"GET", "/baselines/g"}, {"PUT", "/baselines/g/learning"},
      {"GET", "/alerts"}, {"POST", "/suppressions"}, {"GET", "/suppressions"}, {"DELETE", "/suppressions/1"},
      {"GET", "/recommendations"}, {"GET", "/fleet/summary"}, {"POST", "/vms/x/host-events"}};
  for (const auto& [method, path] : routes) {
    auto r = call(*svc_, token_.substr(0, 10), method, path, json::object());
    EXPECT_EQ(r.status, 401) << method << " " << path << ": " << r.body;
  }
  EXPECT_EQ(fs::status(root_->path() / "svc/tlaunchd.db.admin-token").permissions() & fs::perms::all,
            fs::perms::owner_read | fs::perms::owner_write);
}

TEST_F(FleetE2E, VmMatchingItsBaselineIsHealthyWithEveryStatusField) {
  create_baseline();
  const std::string id = "4a1b2c3d-0000-4000-8000-0000000000a1";
  auto registered = register_vm("good-1", id);
  EXPECT_EQ(registered["attestationStatus"]["properties"]["healthStatus"], "Pending");
  EXPECT_EQ(registered["attestationStatus"]["properties"]["provisioningState"], "InProgress");
  auto tpm = vm_tpm("good-1", boot_log_path());
  ASSERT_TRUE(tpm);
  ASSERT_EQ(attest(*tpm, id, boot_log_path(), *svc_), "");
  auto vm = api("GET", "/vms/good-1");
  const json& s = vm["attestationStatus"]["properties"];
  EXPECT_EQ(s["attestSecureBootEnabled"], "Enabled") << vm.dump(2);
  EXPECT_EQ(s["attestationCertValidated"], "Valid");
  EXPECT_EQ(s["bootIntegrityValidated"], "Valid");
  EXPECT_EQ(s["healthStatus"], "Healthy");
  EXPECT_TRUE(s["errorMessage"].is_null());
  EXPECT_EQ(s["provisioningState"], "Succeeded");
  ASSERT_TRUE(s["timestamp"].is_string());
  EXPECT_EQ(s["timestamp"].get<std::string>().size(), 20u);  // 2026-11-22T20:01:02Z
  ASSERT_TRUE(s["linuxKernelVersion"].is_string());
  EXPECT_FALSE(vm["ekName"].is_null());
  EXPECT_TRUE(vm["recommendations"].empty()) << vm.dump(2);
  EXPECT_TRUE(alerts_of("good-1").empty());
}

TEST_F(FleetE2E, EditedBootComponentIsUnhealthyWithOneAlertNamingItDeliveredOnceAndResolvedAfterAGoodBoot) {
  create_baseline();
  const std::string id = "4a1b2c3d-0000-4000-8000-0000000000b1";
  register_vm("edited-1", id);
  const fs::path log = edited_shim_log(root_->path());
  auto tpm = vm_tpm("edited-1", log);
  ASSERT_TRUE(tpm);
  // The first delivery attempt fails: the alert must still arrive, once.
  hook_->fail_next(1);
  ASSERT_EQ(attest(*tpm, id, log, *svc_), "");  // a token: the boot is genuine, just not the trusted one
  ASSERT_EQ(attest(*tpm, id, log, *svc_), "");  // the same failure again
  auto s = status_of("edited-1");
  EXPECT_EQ(s["healthStatus"], "Unhealthy");
  EXPECT_EQ(s["bootIntegrityValidated"], "Invalid");
  EXPECT_EQ(s["attestSecureBootEnabled"], "Enabled");
  ASSERT_TRUE(s["errorMessage"].is_string()) << s.dump(2);
  EXPECT_NE(s["errorMessage"].get<std::string>().find("PCR 4"), std::string::npos) << s["errorMessage"];
  EXPECT_NE(s["errorMessage"].get<std::string>().find("BOOTX64.EFI"), std::string::npos) << s["errorMessage"];

  auto alerts = alerts_of("edited-1");
  ASSERT_EQ(alerts.size(), 1u) << json(alerts).dump(2);
  const json& a = alerts[0];
  EXPECT_EQ(a["kind"], "attestation-failed");
  EXPECT_EQ(a["severity"], "Medium");
  EXPECT_EQ(a["title"], "VM attestation failed");
  EXPECT_EQ(a["count"], 2);
  ASSERT_FALSE(a["deviations"].empty());
  const json& d = a["deviations"][0];
  EXPECT_EQ(d["pcr"], 4);
  EXPECT_EQ(d["event"], 23);
  EXPECT_EQ(d["eventType"], "EV_EFI_BOOT_SERVICES_APPLICATION");
  EXPECT_NE(d["component"].get<std::string>().find("BOOTX64.EFI"), std::string::npos) << d.dump();
  EXPECT_EQ(d["expected"], "80a66d53a945d2286fcadd780fae1c225aa732079cd67b5225dc78aaab4e2ff8");
  EXPECT_NE(d["actual"], d["expected"]);

  const int64_t alert_id = a["id"].get<int64_t>();
  ASSERT_TRUE(eventually([&] { return hook_->events_for(alert_id).size() == 1; })) << "no webhook delivery";
  EXPECT_GE(hook_->failed(), 1);
  auto first = hook_->events_for(alert_id);
  EXPECT_EQ(first[0]["event"], "alert.opened");
  EXPECT_EQ(first[0]["alert"]["kind"], "attestation-failed");

  // Reboot into the trusted boot: same vTPM (same EK and AK), PCRs from the recorded log.
  const fs::path saved = root_->path() / "edited-1-saved";
  fs::create_directories(saved);
  fs::copy(tpm->dir() / "state", saved, fs::copy_options::recursive);
  const std::string agent_state = "state-" + id + "-" + std::to_string(tpm->port());
  tpm.reset();
  auto rebooted = Swtpm::start(saved);
  ASSERT_TRUE(rebooted.ok()) << rebooted.error().message;
  std::string cmd = "true";
  auto parsed = eventlog::ParsedLog::parse(read_bytes(boot_log_path()));
  for (const auto& e : parsed->events())
    if (e.type != 3 && !e.digest(crypto::HashAlg::sha256).empty())
      cmd += " && tpm2_pcrextend " + std::to_string(e.pcr) + ":sha256=" + to_hex(e.digest(crypto::HashAlg::sha256));
  ASSERT_TRUE((*rebooted)->run(cmd).ok());
  // The agent keeps its state across the reboot (same state directory).
  auto o = options(**rebooted, id, boot_log_path(), svc_->base_url());
  o.state_dir = root_->path() / agent_state;
  auto agent = agent::AttestationClient::create(o);
  ASSERT_TRUE(agent.ok()) << agent.error().message;
  auto token = (*agent)->attest();
  ASSERT_TRUE(token.ok()) << token.error().message;
  EXPECT_FALSE(token->enrolled_now);
  EXPECT_EQ(status_of("edited-1")["healthStatus"], "Healthy");
  EXPECT_TRUE(alerts_of("edited-1").empty());
  auto resolved = alerts_of("edited-1", "resolved");
  ASSERT_EQ(resolved.size(), 1u);
  EXPECT_EQ(resolved[0]["id"], alert_id);
  ASSERT_TRUE(eventually([&] { return hook_->events_for(alert_id).size() == 2; }));
  EXPECT_EQ(hook_->events_for(alert_id)[1]["event"], "alert.resolved");
  EXPECT_EQ(hook_->events_for(alert_id).size(), 2u);
}

TEST_F(FleetE2E, SecureBootOffInTheLogIsDisabledUnhealthyAndRecommendsEnablingIt) {
  create_baseline();
  const std::string id = "4a1b2c3d-0000-4000-8000-0000000000c1";
  register_vm("sb-off-1", id);
  const fs::path log = secure_boot_off_log(root_->path());
  auto tpm = vm_tpm("sb-off-1", log);
  ASSERT_TRUE(tpm);
  ASSERT_EQ(attest(*tpm, id, log, *svc_), "");
  auto vm = api("GET", "/vms/sb-off-1");
  const json& s = vm["attestationStatus"]["properties"];
  EXPECT_EQ(s["attestSecureBootEnabled"], "Disabled") << vm.dump(2);
  EXPECT_EQ(s["healthStatus"], "Unhealthy");
  EXPECT_TRUE(s["errorMessage"].is_string());
  EXPECT_TRUE(has_recommendation(vm, "enable-secure-boot")) << vm.dump(2);
}

TEST_F(FleetE2E, ProfileRecommendationsForVtpmOffAndNoAgent) {
  auto no_tpm = register_vm("no-vtpm-1", "4a1b2c3d-0000-4000-8000-0000000000d1", true, false, true);
  EXPECT_TRUE(has_recommendation(no_tpm, "enable-vtpm")) << no_tpm.dump(2);
  auto no_sb = register_vm("no-sb-1", "4a1b2c3d-0000-4000-8000-0000000000d2", false, true, true);
  EXPECT_TRUE(has_recommendation(no_sb, "enable-secure-boot")) << no_sb.dump(2);
  auto no_agent = register_vm("no-agent-1", "4a1b2c3d-0000-4000-8000-0000000000d3", true, true, false);
  EXPECT_TRUE(has_recommendation(no_agent, "install-agent")) << no_agent.dump(2);
  EXPECT_FALSE(has_recommendation(no_agent, "enable-vtpm"));
  auto recs = api("GET", "/recommendations?kind=install-agent");
  bool listed = false;
  for (const auto& r : recs["value"]) listed |= r["vm"] == "no-agent-1";
  EXPECT_TRUE(listed) << recs.dump(2);
  auto summary = api("GET", "/fleet/summary");
  EXPECT_GE(summary["recommendations"]["enable-vtpm"].get<int>(), 1) << summary.dump(2);
  EXPECT_GE(summary["recommendations"]["install-agent"].get<int>(), 1);
  EXPECT_GE(summary["recommendations"]["enable-secure-boot"].get<int>(), 1);
  EXPECT_GE(summary["healthStatus"]["Pending"].get<int>(), 3);
}

TEST_F(FleetE2E, QuoteFromAnotherTpmRaisesTheAlertWithoutChangingTheStatus) {
  create_baseline();
  const std::string id = "4a1b2c3d-0000-4000-8000-0000000000e1";
  register_vm("victim-1", id);
  auto tpm = vm_tpm("victim-1", boot_log_path());
  ASSERT_TRUE(tpm);
  ASSERT_EQ(attest(*tpm, id, boot_log_path(), *svc_), "");
  ASSERT_EQ(status_of("victim-1")["healthStatus"], "Healthy");
  // Another TPM speaks for the victim's VM id (its own AK, the victim's enrollment).
  auto other = vm_tpm("impostor-1", boot_log_path());
  ASSERT_TRUE(other);
  auto o = options(*other, id, boot_log_path(), svc_->base_url());
  o.state_dir = root_->path() / "impostor-state";
  auto c = agent::AttestationClient::create(o);
  ASSERT_TRUE(c.ok());
  auto ch = http::Client::create(svc_->base_url());
  auto nonce_resp = (*ch)->post_json("/challenge", json{{"vmId", id}}.dump());
  ASSERT_TRUE(nonce_resp.ok());
  auto nonce = token::base64url_decode(json::parse(nonce_resp->body)["nonce"].get<std::string>());
  auto evidence = (*c)->collect_evidence(*nonce);
  ASSERT_TRUE(evidence.ok()) << evidence.error().message;
  auto r = (*ch)->post_json("/attest", evidence->dump());
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->status, 403) << r->body;
  auto alerts = alerts_of("victim-1");
  ASSERT_EQ(alerts.size(), 1u) << json(alerts).dump(2);
  EXPECT_EQ(alerts[0]["kind"], "quote-not-from-vtpm");
  EXPECT_EQ(alerts[0]["severity"], "Medium");
  EXPECT_EQ(status_of("victim-1")["healthStatus"], "Healthy");
}

TEST_F(FleetE2E, ReplayedEvidenceWithAMangledLogDoesNotChangeAHealthyVm) {
  create_baseline();
  const std::string id = "4a1b2c3d-0000-4000-8000-0000000000e2";
  register_vm("replayed-1", id);
  auto tpm = vm_tpm("replayed-1", boot_log_path());
  ASSERT_TRUE(tpm);
  ASSERT_EQ(attest(*tpm, id, boot_log_path(), *svc_), "");  // enrolls
  auto c = agent::AttestationClient::create(options(*tpm, id, boot_log_path(), svc_->base_url()));
  ASSERT_TRUE(c.ok());
  auto ch = http::Client::create(svc_->base_url());
  auto nonce_resp = (*ch)->post_json("/challenge", json{{"vmId", id}}.dump());
  ASSERT_TRUE(nonce_resp.ok());
  auto nonce = token::base64url_decode(json::parse(nonce_resp->body)["nonce"].get<std::string>());
  auto evidence = (*c)->collect_evidence(*nonce);
  ASSERT_TRUE(evidence.ok()) << evidence.error().message;
  auto genuine = (*ch)->post_json("/attest", evidence->dump());
  ASSERT_TRUE(genuine.ok());
  ASSERT_EQ(genuine->status, 200) << genuine->body;
  // Someone who saw that body sends it again with the log cut short.
  json mangled = *evidence;
  auto log = token::base64url_decode(mangled["eventLog"].get<std::string>());
  ASSERT_TRUE(log.ok());
  log->resize(log->size() / 2);
  mangled["eventLog"] = token::base64url_encode(*log);
  auto r = (*ch)->post_json("/attest", mangled.dump());
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->status, 403) << r->body;
  EXPECT_EQ(status_of("replayed-1")["healthStatus"], "Healthy");
  EXPECT_TRUE(alerts_of("replayed-1").empty());
}

TEST_F(FleetE2E, SuppressedAlertsAreListedButNotCounted) {
  create_baseline();
  const std::string id = "4a1b2c3d-0000-4000-8000-0000000000f1";
  api("POST", "/vms",
      json{{"name", "lab-1"}, {"vmId", id}, {"group", "lab"},
           {"securityProfile", {{"securityType", "TrustedLaunch"}, {"uefiSettings", {{"secureBootEnabled", true}}}, {"enableTpm", true}}}},
      201);
  auto rule = api("POST", "/suppressions", json{{"group", "lab"}, {"reason", "lab images boot unsigned test kernels"}}, 201);
  ASSERT_TRUE(rule.contains("id"));
  const fs::path log = secure_boot_off_log(root_->path());
  auto tpm = vm_tpm("lab-1", log);
  ASSERT_TRUE(tpm);
  const auto before = api("GET", "/fleet/summary");
  ASSERT_EQ(attest(*tpm, id, log, *svc_), "");
  auto alerts = alerts_of("lab-1");
  for (const auto& a : alerts) EXPECT_EQ(a["suppressedBy"], rule["id"]) << a.dump(2);
  const auto after = api("GET", "/fleet/summary");
  EXPECT_EQ(after["alerts"]["Medium"], before["alerts"]["Medium"]) << before.dump() << after.dump();
  api("DELETE", "/suppressions/" + std::to_string(rule["id"].get<int64_t>()), nullptr, 204);
}

TEST_F(FleetE2E, UnsignedKernelModuleReportedByTheAgentRaisesALowAlertThatResolves) {
  create_baseline();
  const std::string id = "4a1b2c3d-0000-4000-8000-000000000111";
  register_vm("modules-1", id);
  auto tpm = vm_tpm("modules-1", boot_log_path());
  ASSERT_TRUE(tpm);
  const fs::path kmsg = root_->path() / "kmsg-unsigned";
  std::ofstream(kmsg) << "[    0.000000] Linux version 6.1.0-27-amd64\n"
                         "[   12.345678] rogue_mod: module verification failed: signature and/or required key missing"
                         " - tainting kernel\n";
  std::ofstream(root_->path() / "taint-E") << "8192\n";
  auto o = options(*tpm, id, boot_log_path(), svc_->base_url());
  o.kernel_modules.kernel_log = kmsg;
  o.kernel_modules.taint = root_->path() / "taint-E";
  {
    auto c = agent::AttestationClient::create(o);
    ASSERT_TRUE(c.ok()) << c.error().message;
    auto r = (*c)->attest();
    ASSERT_TRUE(r.ok()) << r.error().message;
  }
  auto alerts = alerts_of("modules-1");
  ASSERT_EQ(alerts.size(), 1u) << json(alerts).dump(2);
  EXPECT_EQ(alerts[0]["kind"], "untrusted-kernel-module");
  EXPECT_EQ(alerts[0]["severity"], "Low");
  EXPECT_NE(alerts[0]["detail"].get<std::string>().find("rogue_mod"), std::string::npos) << alerts[0].dump(2);
  // The boot itself is trusted: the module alert does not make the VM Unhealthy.
  EXPECT_EQ(status_of("modules-1")["bootIntegrityValidated"], "Valid");
  // The next report without it resolves the alert.
  ASSERT_EQ(attest(*tpm, id, boot_log_path(), *svc_), "");
  EXPECT_TRUE(alerts_of("modules-1").empty());
  EXPECT_EQ(alerts_of("modules-1", "resolved").size(), 1u);
}

TEST_F(FleetE2E, LearningMakesTheGroupsFirstBaselineFromItsFirstVerifiedBoot) {
  const std::string id = "4a1b2c3d-0000-4000-8000-000000000121";
  auto on = api("PUT", "/baselines/learned-pool/learning", json{{"enabled", true}});
  EXPECT_EQ(on["learning"], true);
  api("POST", "/vms",
      json{{"name", "learner-1"}, {"vmId", id}, {"group", "learned-pool"},
           {"securityProfile", {{"securityType", "TrustedLaunch"}, {"uefiSettings", {{"secureBootEnabled", true}}}, {"enableTpm", true}}}},
      201);
  auto tpm = vm_tpm("learner-1", boot_log_path());
  ASSERT_TRUE(tpm);
  ASSERT_EQ(attest(*tpm, id, boot_log_path(), *svc_), "");
  EXPECT_EQ(status_of("learner-1")["healthStatus"], "Healthy");
  auto b = api("GET", "/baselines/learned-pool");
  EXPECT_EQ(b["version"], 1) << b.dump(2);
  ASSERT_EQ(b["variants"].size(), 1u);
  EXPECT_EQ(b["variants"][0]["source"], "learned:" + id);
  // Learning stops after the first baseline: the list says so.
  bool listed = false;
  const auto groups = api("GET", "/baselines");
  for (const auto& g : groups["value"])
    if (g["group"] == "learned-pool") {
      listed = true;
      EXPECT_EQ(g["learning"], false);
    }
  EXPECT_TRUE(listed) << groups.dump(2);
}

// Issue 7: the host reports that a VM did not boot (Secure Boot refused an
// unsigned kernel) or crashed; the status and alerts say so, the webhook hears
// of it, and the VM booting a trusted chain and attesting Healthy resolves it.
TEST_F(FleetE2E, HostReportedBootRefusalIsUnhealthyWithAHighAlertUntilAHealthyBoot) {
  create_baseline();
  const std::string id = "4a1b2c3d-0000-4000-8000-000000000131";
  register_vm("refused-1", id);
  const std::string grub = "grub: error: bad shim signature.";
  auto vm = api("POST", "/vms/refused-1/host-events", json{{"kind", "boot-refused"}, {"detail", grub}});
  const json& s = vm["attestationStatus"]["properties"];
  EXPECT_EQ(s["healthStatus"], "Unhealthy") << vm.dump(2);
  EXPECT_EQ(s["bootIntegrityValidated"], "Invalid");
  EXPECT_EQ(s["attestSecureBootEnabled"], "Unknown");  // enforced by the firmware, but not attested
  EXPECT_EQ(s["attestationCertValidated"], "Unknown");
  EXPECT_EQ(s["errorMessage"], "the VM did not boot: Secure Boot refused its boot chain (" + grub + ")");
  EXPECT_TRUE(s["timestamp"].is_null());
  EXPECT_EQ(s["provisioningState"], "Succeeded");
  EXPECT_EQ(vm["openAlerts"], 1);
  EXPECT_EQ(status_of("refused-1"), s);  // what GET shows is what was stored

  auto alerts = alerts_of("refused-1");
  ASSERT_EQ(alerts.size(), 1u) << json(alerts).dump(2);
  EXPECT_EQ(alerts[0]["kind"], "boot-refused");
  EXPECT_EQ(alerts[0]["severity"], "High");
  EXPECT_EQ(alerts[0]["detail"], grub);
  const int64_t alert_id = alerts[0]["id"].get<int64_t>();
  auto high = api("GET", "/alerts?severity=High");
  bool listed = false;
  for (const auto& a : high["value"]) listed |= a["id"] == alert_id;
  EXPECT_TRUE(listed) << high.dump(2);
  EXPECT_GE(api("GET", "/fleet/summary")["alerts"]["High"].get<int>(), 1);
  ASSERT_TRUE(eventually([&] { return hook_->events_for(alert_id).size() == 1; })) << "no webhook delivery";
  EXPECT_EQ(hook_->events_for(alert_id)[0]["alert"]["kind"], "boot-refused");

  // The host tries again (same refusal): one alert, counted twice.
  api("POST", "/vms/refused-1/host-events", json{{"kind", "boot-refused"}, {"detail", grub}});
  EXPECT_EQ(alerts_of("refused-1")[0]["count"], 2);

  // A signed boot chain boots and attests: Healthy, the alert resolved.
  auto tpm = vm_tpm("refused-1", boot_log_path());
  ASSERT_TRUE(tpm);
  ASSERT_EQ(attest(*tpm, id, boot_log_path(), *svc_), "");
  EXPECT_EQ(status_of("refused-1")["healthStatus"], "Healthy");
  EXPECT_TRUE(status_of("refused-1")["errorMessage"].is_null());
  EXPECT_TRUE(alerts_of("refused-1").empty());
  ASSERT_TRUE(eventually([&] { return hook_->events_for(alert_id).size() == 2; }));
  EXPECT_EQ(hook_->events_for(alert_id)[1]["event"], "alert.resolved");
}

TEST_F(FleetE2E, HostReportedCrashStopsTheVmAndMakesItUnknown) {
  register_vm("crashed-1", "4a1b2c3d-0000-4000-8000-000000000132");
  const int64_t an_hour_ago = static_cast<int64_t>(std::time(nullptr)) - 3600;
  auto vm = api("POST", "/vms/crashed-1/host-events",
                json{{"kind", "vtpm-crashed"}, {"detail", "swtpm exited with status 1"}, {"at", an_hour_ago}});
  EXPECT_EQ(vm["powerState"], "Stopped") << vm.dump(2);
  const json& s = vm["attestationStatus"]["properties"];
  EXPECT_EQ(s["healthStatus"], "Unknown");
  EXPECT_NE(s["errorMessage"].get<std::string>().find("vTPM crashed (host report: swtpm exited with status 1)"),
            std::string::npos)
      << s.dump(2);
  auto alerts = alerts_of("crashed-1");
  ASSERT_EQ(alerts.size(), 1u);
  EXPECT_EQ(alerts[0]["kind"], "vtpm-crashed");
  EXPECT_EQ(alerts[0]["severity"], "Medium");
  EXPECT_EQ(alerts[0]["openedAt"], format_rfc3339(an_hour_ago));  // the host's "at"
  // The new kinds are suppression kinds like the others.
  auto rule = api("POST", "/suppressions", json{{"vm", "crashed-1"}, {"kind", "vm-crashed"}, {"reason", "chaos test"}},
                  201);
  api("DELETE", "/suppressions/" + std::to_string(rule["id"].get<int64_t>()), nullptr, 204);
}

TEST_F(FleetE2E, HostEventRequestsAreStrict) {
  register_vm("strict-1", "4a1b2c3d-0000-4000-8000-000000000133");
  auto missing = call(*svc_, token_, "POST", "/vms/nope/host-events", json{{"kind", "vm-crashed"}, {"detail", "x"}});
  EXPECT_EQ(missing.status, 404) << missing.body;
  EXPECT_EQ(json::parse(missing.body, nullptr, false).value("reason", ""), "vm-not-found");
  const std::pair<json, const char*> bad[] = {
      {json{{"detail", "x"}}, "kind"},
      {json{{"kind", "host-crashed"}, {"detail", "x"}}, "kind"},
      {json{{"kind", "boot-refused"}}, "detail"},
      {json{{"kind", "boot-refused"}, {"detail", ""}}, "detail"},
      {json{{"kind", "boot-refused"}, {"detail", std::string(1025, 'x')}}, "detail"},
      {json{{"kind", "boot-refused"}, {"detail", "x"}, {"at", "yesterday"}}, "at"},
      {json{{"kind", "boot-refused"}, {"detail", "x"}, {"at", 4102444800}}, "at"},  // 2100: ahead of the clock
      {json{{"kind", "boot-refused"}, {"detail", "x"}, {"healthStatus", "Healthy"}}, "healthStatus"},
  };
  for (const auto& [body, names] : bad) {
    auto r = call(*svc_, token_, "POST", "/vms/strict-1/host-events", body);
    EXPECT_EQ(r.status, 400) << body.dump() << ": " << r.body;
    const json p = json::parse(r.body, nullptr, false);
    EXPECT_EQ(p.value("reason", ""), "vm-invalid") << r.body;
    EXPECT_NE(p.value("detail", "").find(names), std::string::npos) << r.body;
  }
  // Not an object, not JSON at all, or not declared as JSON.
  auto array = call(*svc_, token_, "POST", "/vms/strict-1/host-events", json::array());
  EXPECT_EQ(array.status, 400) << array.body;
  EXPECT_EQ(json::parse(array.body, nullptr, false).value("reason", ""), "request-malformed") << array.body;
  auto c = http::Client::create(svc_->base_url());
  ASSERT_TRUE(c.ok());
  auto text = (*c)->request("POST", "/vms/strict-1/host-events", "{\"kind\":",
                            {{"Authorization", "Bearer " + token_}, {"Content-Type", "application/json"}});
  ASSERT_TRUE(text.ok());
  EXPECT_EQ(text->status, 400) << text->body;
  auto plain = (*c)->request("POST", "/vms/strict-1/host-events", R"({"kind":"vm-crashed","detail":"x"})",
                             {{"Authorization", "Bearer " + token_}, {"Content-Type", "text/plain"}});
  ASSERT_TRUE(plain.ok());
  EXPECT_EQ(plain->status, 415) << plain->body;
  // Nothing was recorded by any of them.
  EXPECT_EQ(status_of("strict-1")["healthStatus"], "Pending");
  EXPECT_TRUE(alerts_of("strict-1").empty());
}

// The agent in a guest without any os-release file (a minimal initramfs):
// it reports os-release(5)'s default NAME "Linux" and attests, instead of an
// empty distro the service refuses; the missing file is a collection warning.
TEST_F(FleetE2E, AgentWithoutAnyOsReleaseFileAttests) {
  create_baseline();
  const std::string id = "4a1b2c3d-0000-4000-8000-000000000141";
  register_vm("initramfs-1", id);
  auto tpm = vm_tpm("initramfs-1", boot_log_path());
  ASSERT_TRUE(tpm);
  auto o = options(*tpm, id, boot_log_path(), svc_->base_url());
  o.os_release = root_->path() / "no-such-dir" / "os-release";
  auto c = agent::AttestationClient::create(o);
  ASSERT_TRUE(c.ok()) << c.error().message;
  auto r = (*c)->attest();
  ASSERT_TRUE(r.ok()) << r.error().message;
  bool warned = false;
  for (const auto& w : (*c)->collection_warnings()) warned |= w.find(o.os_release.string()) != std::string::npos;
  EXPECT_TRUE(warned) << "no collection warning names " << o.os_release;
  // The token says what the agent could say.
  const auto dot1 = r->token.find('.');
  const auto dot2 = r->token.find('.', dot1 + 1);
  auto payload = token::base64url_decode(r->token.substr(dot1 + 1, dot2 - dot1 - 1));
  ASSERT_TRUE(payload.ok());
  const json claims = json::parse(payload->begin(), payload->end(), nullptr, false);
  EXPECT_EQ(claims.value("x-ms-azurevm-osdistro", ""), "Linux") << claims.dump(2);
  EXPECT_EQ(claims.value("x-ms-azurevm-ostype", ""), "Linux");
  EXPECT_EQ(status_of("initramfs-1")["healthStatus"], "Healthy");
}

// A short refresh window on its own tlaunchd: the VM attests once, then stops.
TEST_F(FleetE2E, VmThatStopsAttestingGoesUnknownWithAStaleAlert) {
  auto svc = Tlaunchd::start(root_->path() / "svc-stale",
                             {"--ek-ca", ca_->root_pem().string(), "--ek-ca", ca_->issuer_pem().string(),
                              "--refresh-window", "3", "--sweep-interval", "1"});
  ASSERT_TRUE(svc.ok()) << svc.error().message;
  const std::string token = read_token(root_->path() / "svc-stale");
  auto req = [&](const std::string& m, const std::string& p, const json& b = nullptr) {
    auto r = call(**svc, token, m, p, b);
    return json::parse(r.body.empty() ? "{}" : r.body, nullptr, false);
  };
  const std::string id = "4a1b2c3d-0000-4000-8000-000000000101";
  req("POST", "/baselines/" + std::string(kGroup),
      json{{"eventLog", token::base64url_encode(read_bytes(boot_log_path()))}});
  req("POST", "/vms",
      json{{"name", "quiet-1"}, {"vmId", id}, {"group", kGroup},
           {"securityProfile", {{"securityType", "TrustedLaunch"}, {"uefiSettings", {{"secureBootEnabled", true}}}, {"enableTpm", true}}}});
  auto tpm = vm_tpm("quiet-1", boot_log_path());
  ASSERT_TRUE(tpm);
  ASSERT_EQ(attest(*tpm, id, boot_log_path(), **svc), "");
  EXPECT_EQ(req("GET", "/vms/quiet-1")["attestationStatus"]["properties"]["healthStatus"], "Healthy");
  json vm;
  ASSERT_TRUE(eventually([&] {
    vm = req("GET", "/vms/quiet-1");
    return vm["attestationStatus"]["properties"]["healthStatus"] == "Unknown";
  })) << vm.dump(2);
  EXPECT_TRUE(vm["attestationStatus"]["properties"]["errorMessage"].is_string());
  auto alerts = req("GET", "/alerts?vm=quiet-1");
  ASSERT_EQ(alerts["value"].size(), 1u) << alerts.dump(2);
  EXPECT_EQ(alerts["value"][0]["kind"], "attestation-stale");
  // Attesting again makes it Healthy and resolves the stale alert.
  ASSERT_EQ(attest(*tpm, id, boot_log_path(), **svc), "");
  EXPECT_EQ(req("GET", "/vms/quiet-1")["attestationStatus"]["properties"]["healthStatus"], "Healthy");
  EXPECT_TRUE(req("GET", "/alerts?vm=quiet-1")["value"].empty());
}

}  // namespace
}  // namespace tl::test
