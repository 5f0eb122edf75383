// Issue 7, end to end on real VMs: `tlaunch image build` images booted by
// `tlaunch vm` under QEMU (TCG here) with OVMF Secure Boot firmware and a
// per-VM swtpm, the guest's tlaunch-agent attesting to a real tlaunchd over
// QEMU user networking, the fleet monitor's status, alerts and
// recommendations, and a key released into the VM's vTPM.
//
// Each case is its own process (ctest runs them in parallel) with its own
// host directory (vTPM CA, VMs) and tlaunchd. The images are built once by
// the vm_e2e_image fixture (tests/e2e/CMakeLists.txt) into
// <build>/vm-e2e/{signed,unsigned}.
#include <gtest/gtest.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <thread>

#include <nlohmann/json.hpp>

#include "crypto/b64url.h"
#include "crypto/digest.h"
#include "common/hex.h"
#include "fixture.h"
#include "support/cli_runner.h"
#include "support/test_support.h"

namespace tl::test {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;
using namespace std::chrono_literals;

fs::path image(const char* variant) { return build_dir() / "vm-e2e" / variant; }

ByteView text_bytes(const std::string& s) { return {reinterpret_cast<const uint8_t*>(s.data()), s.size()}; }

class VmE2e : public ::testing::Test {
 protected:
  void SetUp() override {
    for (const char* v : {"signed", "unsigned"}) {
      ASSERT_TRUE(fs::exists(image(v) / "disk.raw"))
          << image(v) << " is missing: the vm_e2e_image fixture builds it (ctest -R vm_e2e)";
    }
    host_ = tmp_.path() / "host";
    ::setenv("TLAUNCH_HOST_DIR", host_.c_str(), 1);
    auto ca = run_tlaunch("vm ca --json");
    ASSERT_EQ(ca.exit_code, 0) << ca.out << ca.err;
    const json paths = json::parse(ca.out);
    auto d = Tlaunchd::start(tmp_.path() / "tlaunchd",
                             {"--ek-ca", paths.at("rootCert").get<std::string>(), "--ek-ca",
                              paths.at("issuerCert").get<std::string>()});
    ASSERT_TRUE(d) << d.error().message;
    tlaunchd_ = std::move(*d);
    ::setenv("TLAUNCH_SERVER", tlaunchd_->base_url().c_str(), 1);
    ::setenv("TLAUNCH_TOKEN_FILE", (tmp_.path() / "tlaunchd" / "tlaunchd.db.admin-token").c_str(), 1);
  }

  void TearDown() override {
    // Stop whatever is still running: no QEMU or swtpm outlives a test.
    for (const auto& name : created_) (void)run_tlaunch("vm stop " + name + " --timeout 5");
  }

  // Runs tlaunch and requires exit 0.
  std::string ok(const std::string& args) {
    auto r = run_tlaunch(args);
    EXPECT_EQ(r.exit_code, 0) << "tlaunch " << args << "\nstdout: " << r.out << "\nstderr: " << r.err;
    return r.out;
  }

  void create(const std::string& name, const std::string& args) {
    ok("vm create " + name + " " + args);
    created_.push_back(name);
  }

  // `vm show` exits 1 when tlaunchd says the VM is not Healthy (docs/cli.md).
  json show(const std::string& name) {
    auto r = run_tlaunch("vm show " + name + " --json");
    EXPECT_TRUE(r.exit_code == 0 || r.exit_code == 1) << r.out << r.err;
    return json::parse(r.out, nullptr, false);
  }

  std::string console(const std::string& name) { return test::read_text_or_empty(host_ / "vms" / name / "console.log"); }

  // Waits until the console holds `marker` (the guest's own lines, docs/guest-image.md).
  bool wait_console(const std::string& name, const std::string& marker, std::chrono::seconds limit) {
    const auto end = std::chrono::steady_clock::now() + limit;
    while (std::chrono::steady_clock::now() < end) {
      if (console(name).find(marker) != std::string::npos) return true;
      std::this_thread::sleep_for(1s);
    }
    return false;
  }

  static json props(const json& vm) { return vm.at("fleet").at("attestationStatus").at("properties"); }

  static bool has_recommendation(const json& vm, const std::string& kind) {
    for (const auto& r : vm.at("fleet").value("recommendations", json::array()))
      if (r.value("kind", "") == kind) return true;
    return false;
  }

  std::string vm_id(const std::string& name) { return show(name).at("vmId").get<std::string>(); }

  TempDir tmp_;
  fs::path host_;
  std::unique_ptr<Tlaunchd> tlaunchd_;
  std::vector<std::string> created_;
};

TEST_F(VmE2e, TrustedLaunchVmBootsAttestsHealthyAndGetsAReleasedKey) {
  ok("baseline learn tl-pool on");
  create("tl1", "--security-type TrustedLaunch --image " + shell_quote(image("signed").string()) +
                    " --group tl-pool --release-key vm-secret");
  const std::string id = vm_id("tl1");

  // A known AES-256 key, so the bytes the guest unwraps can be compared.
  Bytes material(32);
  for (size_t i = 0; i < material.size(); ++i) material[i] = static_cast<uint8_t>(0xA0 + i);
  const auto jwk = tmp_.file("k.jwk", text_bytes(json{{"kty", "oct"}, {"k", crypto::b64url_encode(material)}}.dump()));
  const auto policy = tmp_.file(
      "policy.json",
      text_bytes(json{{"version", "1.0.0"},
                    {"anyOf", json::array({{{"authority", tlaunchd_->base_url()},
                                            {"allOf", json::array({{{"claim", "secureboot"}, {"equals", true}},
                                                                   {{"claim", "x-ms-azurevm-vmid"}, {"equals", id}}})}}})}}
                   .dump()));
  ok("key import vm-secret --jwk " + shell_quote(jwk.string()) + " --exportable --policy " +
     shell_quote(policy.string()));
  ok("key access set vm:" + id + " --scope vm-secret --ops get,release");

  ok("vm start tl1 --wait-for attest --wait-timeout 300");
  const json vm = show("tl1");
  EXPECT_EQ(vm.at("state").at("powerState"), "Running") << vm.dump(2);
  const json p = props(vm);
  EXPECT_EQ(p.at("healthStatus"), "Healthy") << vm.dump(2);
  EXPECT_EQ(p.at("attestSecureBootEnabled"), "Enabled");
  EXPECT_EQ(p.at("attestationCertValidated"), "Valid");
  EXPECT_EQ(p.at("bootIntegrityValidated"), "Valid");
  EXPECT_TRUE(p.at("errorMessage").is_null()) << p.dump();
  EXPECT_TRUE(p.at("linuxKernelVersion").get<std::string>().starts_with("6.")) << p.dump();
  EXPECT_TRUE(p.at("timestamp").is_string());
  EXPECT_EQ(vm.at("fleet").at("vmId"), id);
  EXPECT_EQ(vm.at("fleet").at("securityProfile").at("securityType"), "TrustedLaunch");
  EXPECT_TRUE(vm.at("fleet").value("recommendations", json::array()).empty()) << vm.dump(2);
  EXPECT_NE(console("tl1").find("TLAUNCH-GUEST: ready kernel="), std::string::npos);
  EXPECT_NE(console("tl1").find("secureboot=1"), std::string::npos);

  // The guest releases the key into its vTPM (it retries until key and grant exist).
  const std::string want = "TLAUNCH-GUEST: key-released vm-secret bytes=32 sha256=" + to_hex(*crypto::digest(crypto::HashAlg::sha256, material));
  EXPECT_TRUE(wait_console("tl1", want, 180s)) << "console:\n" << console("tl1");
  const std::string audit = ok("key audit vm-secret --json");
  EXPECT_NE(audit.find("vm:" + id), std::string::npos) << audit;

  ok("vm stop tl1");
  EXPECT_EQ(show("tl1").at("state").at("powerState"), "Stopped");
}

TEST_F(VmE2e, UnsignedKernelWithSecureBootOnDoesNotBoot) {
  create("ub1", "--security-type TrustedLaunch --image " + shell_quote(image("unsigned").string()));
  auto r = run_tlaunch("vm start ub1 --wait-for attest --wait-timeout 240");
  EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
  EXPECT_NE((r.out + r.err).find("boot-refused"), std::string::npos) << r.out << r.err;
  EXPECT_EQ(console("ub1").find("TLAUNCH-GUEST: ready"), std::string::npos) << console("ub1");
  EXPECT_NE(console("ub1").find("bad shim signature"), std::string::npos) << console("ub1");

  const json vm = show("ub1");
  EXPECT_EQ(vm.at("state").at("powerState"), "BootRefused") << vm.dump(2);
  const json p = props(vm);
  EXPECT_EQ(p.at("healthStatus"), "Unhealthy") << vm.dump(2);
  EXPECT_EQ(p.at("bootIntegrityValidated"), "Invalid");
  EXPECT_NE(p.at("errorMessage").get<std::string>().find("Secure Boot refused"), std::string::npos) << p.dump();
  const std::string alerts = ok("alert list --vm ub1 --json");
  EXPECT_NE(alerts.find("\"boot-refused\""), std::string::npos) << alerts;
  EXPECT_NE(alerts.find("bad shim signature"), std::string::npos) << alerts;
}

TEST_F(VmE2e, UnsignedKernelWithSecureBootOffBootsAndIsUnhealthy) {
  create("uo1", "--security-type TrustedLaunch --disable-secure-boot --image " +
                    shell_quote(image("unsigned").string()));
  ok("vm start uo1 --wait-for attest --wait-timeout 300");
  EXPECT_NE(console("uo1").find("secureboot=0"), std::string::npos) << console("uo1");
  const json vm = show("uo1");
  const json p = props(vm);
  EXPECT_EQ(p.at("healthStatus"), "Unhealthy") << vm.dump(2);
  EXPECT_EQ(p.at("attestSecureBootEnabled"), "Disabled");
  EXPECT_EQ(p.at("attestationCertValidated"), "Valid");
  EXPECT_TRUE(has_recommendation(vm, "enable-secure-boot")) << vm.dump(2);
  EXPECT_FALSE(has_recommendation(vm, "enable-vtpm")) << vm.dump(2);
}

TEST_F(VmE2e, VmWithoutVtpmGetsTheEnableVtpmRecommendation) {
  create("nv1", "--security-type TrustedLaunch --disable-vtpm --image " + shell_quote(image("signed").string()));
  ok("vm start nv1 --wait-for ready --wait-timeout 240");
  EXPECT_TRUE(wait_console("nv1", "TLAUNCH-GUEST: no-tpm", 60s)) << console("nv1");
  const json vm = show("nv1");
  EXPECT_EQ(vm.at("fleet").at("securityProfile").at("enableTpm"), false) << vm.dump(2);
  EXPECT_TRUE(has_recommendation(vm, "enable-vtpm")) << vm.dump(2);
  EXPECT_NE(props(vm).at("healthStatus"), "Healthy") << vm.dump(2);
}

TEST_F(VmE2e, DisablingSecureBootAndRestartingChangesTheAttestedState) {
  ok("baseline learn up-pool on");
  create("up1", "--security-type TrustedLaunch --group up-pool --image " + shell_quote(image("signed").string()));
  ok("vm start up1 --wait-for attest --wait-timeout 300");
  EXPECT_EQ(props(show("up1")).at("healthStatus"), "Healthy") << show("up1").dump(2);
  const std::string first = props(show("up1")).at("timestamp").get<std::string>();

  ok("vm update up1 --disable-secure-boot --restart");
  // The restart's attestation: wait for a newer timestamp.
  const auto end = std::chrono::steady_clock::now() + 300s;
  json vm;
  while (std::chrono::steady_clock::now() < end) {
    vm = show("up1");
    if (props(vm).value("timestamp", json()).is_string() && props(vm).at("timestamp").get<std::string>() != first &&
        props(vm).at("attestSecureBootEnabled") == "Disabled")
      break;
    std::this_thread::sleep_for(2s);
  }
  const json p = props(vm);
  EXPECT_EQ(p.at("attestSecureBootEnabled"), "Disabled") << vm.dump(2);
  EXPECT_EQ(p.at("healthStatus"), "Unhealthy");
  EXPECT_EQ(vm.at("fleet").at("securityProfile").at("uefiSettings").at("secureBootEnabled"), false);
  EXPECT_TRUE(has_recommendation(vm, "enable-secure-boot")) << vm.dump(2);
  EXPECT_NE(console("up1").rfind("secureboot=0"), std::string::npos);
}

}  // namespace
}  // namespace tl::test
