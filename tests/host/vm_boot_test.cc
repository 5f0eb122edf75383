// Real VMs through the tlaunch CLI (QEMU under TCG here, OVMF Secure Boot,
// swtpm): a Trusted Launch VM boots its signed chain with Secure Boot on;
// SIGKILL to QEMU is recorded as Crashed; vm stop stops it (processes gone);
// an unsigned kernel with Secure Boot on is BootRefused; vm update
// --disable-secure-boot swaps the varstore and the next boot has Secure Boot
// off. The boot disks come from tests/host/vm_test_esp.sh. One ctest test:
// the cases share the disks, and each boot costs 15-35 s.
#include <gtest/gtest.h>

#include <chrono>
#include <csignal>
#include <fstream>
#include <nlohmann/json.hpp>
#include <thread>

#include "host/process.h"
#include "host/vm_state.h"
#include "support/cli_runner.h"
#include "support/test_support.h"

namespace tl::host {
namespace {

using namespace std::chrono_literals;
namespace fs = std::filesystem;
using nlohmann::json;

class VmBoot : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    const char* debs = std::getenv("TL_VM_TEST_DEBS");
    auto r = run({TL_VM_TEST_ESP_SCRIPT, TL_VM_TEST_ESP_DIR, debs ? debs : TL_VM_TEST_DEBS_DIR}, 600s);
    ASSERT_TRUE(r) << r.error().message;
    ASSERT_EQ(r->status, 0) << r->output;
  }

  test::TlaunchRun cli(const std::string& args) {
    return test::run_tlaunch(args + " --host-dir " + test::shell_quote(dir_.path().string()));
  }

  json show(const std::string& name) {
    auto r = cli("vm show " + name + " --json");
    EXPECT_NE(r.exit_code, 2) << r.err;
    auto j = json::parse(r.out, nullptr, false);
    EXPECT_FALSE(j.is_discarded()) << r.out << r.err;
    return j;
  }

  // Waits until state.json says `power` (or the timeout).
  json wait_power(const std::string& name, const std::string& power, std::chrono::seconds timeout) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    json j;
    while (std::chrono::steady_clock::now() < deadline) {
      j = show(name);
      if (j.is_object() && j["state"]["powerState"] == power) return j;
      std::this_thread::sleep_for(500ms);
    }
    ADD_FAILURE() << name << " did not become " << power << ": " << j.dump(2) << "\n"
                  << test::read_text_or_empty(dir_.path() / "vms" / name / "supervisor.log");
    return j;
  }

  fs::path vm_dir(const std::string& name) { return dir_.path() / "vms" / name; }

  // A failed assertion must not leave QEMU or swtpm running.
  void TearDown() override {
    for (const char* name : {"tl1", "neg"}) {
      if (fs::exists(vm_dir(name))) (void)cli(std::string("vm stop ") + name + " --timeout 0");
    }
  }

  test::TempDir dir_;
};

TEST_F(VmBoot, TrustedLaunchLifecycleRefusalAndSecureBootOff) {
  const std::string signed_disk = std::string(TL_VM_TEST_ESP_DIR) + "/signed/disk.raw";
  const std::string unsigned_disk = std::string(TL_VM_TEST_ESP_DIR) + "/unsigned/disk.raw";

  // 1. Trusted Launch: Secure Boot + vTPM by default; boots to the guest's ready marker.
  auto r = cli("vm create tl1 --security-type TrustedLaunch --image " + signed_disk +
               " --start --wait-for ready --wait-timeout 240");
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err << test::read_text_or_empty(vm_dir("tl1") / "supervisor.log");
  EXPECT_NE(r.err.find("guest: TLAUNCH-GUEST: ready"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("secureboot=1"), std::string::npos) << r.err;
  json j = show("tl1");
  EXPECT_EQ(j["secureBoot"], true);
  EXPECT_EQ(j["vtpm"], true);
  EXPECT_EQ(j["state"]["powerState"], "Running");
  EXPECT_EQ(j["state"]["accel"], "tcg") << "KVM here lacks SMM: the probe must pick TCG";
  const std::string marker = j["state"]["lastMarker"];
  EXPECT_NE(marker.find("secureboot=1"), std::string::npos) << marker;
  EXPECT_EQ(test::read_text_or_empty(vm_dir("tl1") / "vars.fd").size(), test::read_text_or_empty("/usr/share/OVMF/OVMF_VARS_4M.ms.fd").size());
  const int64_t qemu = j["state"]["qemuPid"];
  const int64_t swtpm = j["state"]["swtpmPid"];
  ASSERT_GT(qemu, 0);
  ASSERT_GT(swtpm, 0);
  EXPECT_TRUE(process_alive(qemu, "qemu-system"));
  EXPECT_TRUE(process_alive(swtpm, "swtpm"));
  // vm list shows it (no tlaunchd configured: local only).
  r = cli("vm list");
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("tl1"), std::string::npos);
  EXPECT_NE(r.out.find("Running"), std::string::npos);
  // A running VM cannot be started twice.
  r = cli("vm start tl1");
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("vm-running"), std::string::npos) << r.err;

  // 2. QEMU killed: Crashed, with the reason; swtpm stopped by the supervisor.
  ASSERT_EQ(::kill(static_cast<pid_t>(qemu), SIGKILL), 0);
  j = wait_power("tl1", "Crashed", 30s);
  EXPECT_NE(j["state"]["lastError"].get<std::string>().find("signal 9"), std::string::npos) << j.dump(2);
  EXPECT_EQ(j["state"]["qemuPid"], 0);
  std::this_thread::sleep_for(500ms);
  EXPECT_FALSE(process_alive(swtpm, "swtpm"));
  r = cli("vm show tl1");
  EXPECT_EQ(r.exit_code, 1) << "a crashed VM is not all right";

  // 3. Start again and stop: Stopped, processes gone.
  r = cli("vm start tl1");
  ASSERT_EQ(r.exit_code, 0) << r.err << test::read_text_or_empty(vm_dir("tl1") / "supervisor.log");
  j = show("tl1");
  ASSERT_EQ(j["state"]["powerState"], "Running");
  const int64_t qemu2 = j["state"]["qemuPid"], swtpm2 = j["state"]["swtpmPid"];
  r = cli("vm stop tl1 --timeout 2");
  ASSERT_EQ(r.exit_code, 0) << r.err << test::read_text_or_empty(vm_dir("tl1") / "supervisor.log");
  j = show("tl1");
  EXPECT_EQ(j["state"]["powerState"], "Stopped") << j.dump(2);
  EXPECT_FALSE(process_alive(qemu2, "qemu-system"));
  EXPECT_FALSE(process_alive(swtpm2, "swtpm"));
  r = cli("vm stop tl1");
  EXPECT_EQ(r.exit_code, 0) << "stopping a stopped VM is a no-op";

  // 4. Unsigned kernel, Secure Boot on: refused by grub, the VM stopped.
  r = cli("vm create neg --security-type TrustedLaunch --image " + unsigned_disk + " --start");
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  j = wait_power("neg", "BootRefused", 120s);
  const std::string refusal = j["state"]["lastError"];
  EXPECT_NE(refusal.find("bad shim signature"), std::string::npos) << refusal;
  EXPECT_EQ(j["state"]["qemuPid"], 0);
  r = cli("vm show neg");
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.out.find("BootRefused"), std::string::npos);

  // 5. Secure Boot off: the no-keys varstore; the same kernel boots, SecureBoot=0.
  r = cli("vm update neg --disable-secure-boot");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(test::read_text_or_empty(vm_dir("neg") / "vars.fd"), test::read_text_or_empty("/usr/share/OVMF/OVMF_VARS_4M.fd"));
  r = cli("vm start neg --wait-for ready --wait-timeout 240");
  ASSERT_EQ(r.exit_code, 0) << r.err << test::read_text_or_empty(vm_dir("neg") / "supervisor.log");
  j = show("neg");
  EXPECT_EQ(j["secureBoot"], false);
  EXPECT_NE(j["state"]["lastMarker"].get<std::string>().find("secureboot=0"), std::string::npos) << j.dump(2);
  // Secure Boot on again: the keys varstore is back.
  r = cli("vm update neg --enable-secure-boot");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.err.find("tlaunch vm restart neg"), std::string::npos) << "running: says how to apply it";
  EXPECT_EQ(test::read_text_or_empty(vm_dir("neg") / "vars.fd"), test::read_text_or_empty("/usr/share/OVMF/OVMF_VARS_4M.ms.fd"));

  // 6. Delete: stops it, removes the directory.
  r = cli("vm delete neg");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_FALSE(fs::exists(vm_dir("neg")));
  r = cli("vm delete tl1");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_FALSE(fs::exists(vm_dir("tl1")));
}

}  // namespace
}  // namespace tl::host
