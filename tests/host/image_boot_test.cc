// Boots the images image_build_test built (image-test/) under QEMU/TCG with
// OVMF Secure Boot (Microsoft keys enrolled) and a swtpm vTPM:
//  - the signed image reaches the agent with secureboot=1 and, with an
//    agent.conf endpoint nothing listens on, prints attest-failed; then the
//    ACPI power button (QMP system_powerdown) powers it off;
//  - the unsigned-kernel image is refused by grub ("bad shim signature"), the
//    grub.cfg marker follows and the guest never reaches `ready`.
#include <gtest/gtest.h>

#include <algorithm>
#include <arpa/inet.h>
#include <chrono>
#include <csignal>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <thread>
#include <unistd.h>

#include "host/image_guest.h"
#include "host/process.h"
#include "support/cli_runner.h"
#include "support/test_support.h"

namespace tl::host {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

const fs::path kImages = TL_IMAGE_TEST_DIR;
constexpr const char* kOvmfCode = "/usr/share/OVMF/OVMF_CODE_4M.secboot.fd";
constexpr const char* kOvmfMsVars = "/usr/share/OVMF/OVMF_VARS_4M.ms.fd";

// A TCP port on 127.0.0.1 that nothing listens on (bound, then released).
int unused_port() {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof a;
  int port = 0;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0 &&
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) == 0) {
    port = ntohs(a.sin_port);
  }
  ::close(fd);
  return port;
}

// Kills and reaps a child on every path out of a test.
struct Reaper {
  Child* child;
  ~Reaper() {
    if (child->running()) {
      child->signal(SIGKILL);
      child->wait(10s);
    }
  }
};

// One VM: its swtpm, a copy of the Microsoft-keys varstore, QEMU.
class Vm {
 public:
  explicit Vm(const fs::path& disk, const std::string& agent_conf) {
    fs::copy_file(kOvmfMsVars, dir_.path() / "vars.fd");
    fs::create_directory(dir_.path() / "tpm");
    std::ofstream(dir_.path() / "agent.conf") << agent_conf;
    const fs::path sock = dir_.path() / "swtpm.sock";
    auto tpm = spawn({"swtpm", "socket", "--tpm2", "--tpmstate", "dir=" + (dir_.path() / "tpm").string(), "--ctrl",
                      "type=unixio,path=" + sock.string()});
    if (!tpm.ok()) {
      ADD_FAILURE() << tpm.error().message;
      return;
    }
    swtpm_ = std::move(*tpm);
    for (auto end = Clock::now() + 10s; !fs::exists(sock) && Clock::now() < end;) std::this_thread::sleep_for(50ms);
    if (!fs::exists(sock)) {
      ADD_FAILURE() << "swtpm did not create " << sock;
      return;
    }
    SpawnOptions o;
    o.stderr_file = dir_.path() / "qemu.err";
    auto q = spawn({"qemu-system-x86_64", "-machine", "q35,smm=on,accel=tcg", "-cpu", "max", "-smp", "1", "-m", "1024",
                    "-global", "driver=cfi.pflash01,property=secure,value=on", "-global", "ICH9-LPC.disable_s3=1",
                    "-drive", std::string("if=pflash,format=raw,unit=0,readonly=on,file=") + kOvmfCode, "-drive",
                    "if=pflash,format=raw,unit=1,file=" + (dir_.path() / "vars.fd").string(), "-chardev",
                    "socket,id=chrtpm,path=" + sock.string(), "-tpmdev", "emulator,id=tpm0,chardev=chrtpm", "-device",
                    "tpm-tis,tpmdev=tpm0", "-drive", "if=none,id=esp,format=raw,readonly=on,file=" + disk.string(),
                    "-device", "virtio-blk-pci,drive=esp,bootindex=0", "-netdev", "user,id=n0", "-device",
                    "virtio-net-pci,netdev=n0", "-fw_cfg",
                    "name=opt/org.trustlaunch/agent.conf,file=" + (dir_.path() / "agent.conf").string(), "-uuid",
                    "6c0a3b2e-5d1f-4c7a-9e2b-1f3d5a7c9e01", "-qmp",
                    "unix:" + (dir_.path() / "qmp.sock").string() + ",server=on,wait=off", "-display", "none", "-vga",
                    "none", "-serial", "file:" + console().string(), "-no-reboot"},
                   o);
    if (!q.ok()) {
      ADD_FAILURE() << q.error().message;
      return;
    }
    qemu_ = std::move(*q);
  }
  ~Vm() {
    Reaper tpm{&swtpm_};  // destroyed last: QEMU goes first
    Reaper qemu{&qemu_};
  }

  fs::path console() const { return dir_.path() / "console.log"; }
  std::string console_text() const {
    std::ifstream in(console(), std::ios::binary);
    std::string s((std::istreambuf_iterator<char>(in)), {});
    s.erase(std::remove(s.begin(), s.end(), '\r'), s.end());
    return s;
  }
  bool running() { return qemu_.pid() > 0 && qemu_.running(); }

  // Waits until the console holds `text` or QEMU exits or `timeout` passes.
  bool wait_for(const std::string& text, std::chrono::seconds timeout) {
    for (auto end = Clock::now() + timeout; Clock::now() < end; std::this_thread::sleep_for(250ms)) {
      if (console_text().find(text) != std::string::npos) return true;
      if (!running()) return console_text().find(text) != std::string::npos;
    }
    return false;
  }

  // The ACPI power button through QMP.
  bool system_powerdown() {
    int fd = ::socket(AF_UNIX, SOCK_STREAM, 0);
    sockaddr_un a{};
    a.sun_family = AF_UNIX;
    const std::string p = (dir_.path() / "qmp.sock").string();
    std::snprintf(a.sun_path, sizeof a.sun_path, "%s", p.c_str());
    bool ok = ::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
    const std::string cmds = "{\"execute\":\"qmp_capabilities\"}\n{\"execute\":\"system_powerdown\"}\n";
    ok = ok && ::write(fd, cmds.data(), cmds.size()) == static_cast<ssize_t>(cmds.size());
    std::string reply;
    char buf[512];
    for (auto end = Clock::now() + 10s; ok && Clock::now() < end && reply.find("\"return\"", reply.find("\"return\"") + 1) == std::string::npos;) {
      ssize_t n = ::read(fd, buf, sizeof buf);
      if (n <= 0) break;
      reply.append(buf, static_cast<size_t>(n));
    }
    ::close(fd);
    return ok;
  }
  std::optional<int> wait_exit(std::chrono::seconds timeout) { return qemu_.wait(timeout); }
  std::string qemu_err() const { return test::read_text(dir_.path() / "qemu.err"); }

 private:
  test::TempDir dir_;
  Child swtpm_;
  Child qemu_;
};

void require_images(const std::string& which) {
  ASSERT_TRUE(fs::exists(kImages / which / "disk.raw"))
      << (kImages / which / "disk.raw") << " missing: image_build_test (the fixture) builds it";
}

TEST(ImageBoot, SignedImageBootsUnderSecureBootRunsTheAgentAndPowersOffOnThePowerButton) {
  require_images("signed");
  const int port = unused_port();
  ASSERT_GT(port, 0);
  Vm vm(kImages / "signed/disk.raw", "endpoint=http://10.0.2.2:" + std::to_string(port) + "\n");
  ASSERT_TRUE(vm.running()) << vm.qemu_err();
  const auto start = Clock::now();
  ASSERT_TRUE(vm.wait_for("TLAUNCH-GUEST: attest-failed: ", 240s)) << vm.console_text() << vm.qemu_err();
  const auto secs = std::chrono::duration_cast<std::chrono::seconds>(Clock::now() - start).count();
  const std::string log = vm.console_text();
  EXPECT_NE(log.find("\nTLAUNCH-GUEST: ready kernel=6."), std::string::npos) << log;
  EXPECT_NE(log.find(" secureboot=1\n"), std::string::npos) << log;
  EXPECT_EQ(log.find("TLAUNCH-GUEST: no-tpm"), std::string::npos);
  EXPECT_EQ(log.find("TLAUNCH-GUEST: no-config"), std::string::npos);
  // The failure line is one line and names something (the agent's error).
  const size_t at = log.find("TLAUNCH-GUEST: attest-failed: ");
  const std::string line = log.substr(at, log.find('\n', at) - at);
  EXPECT_GT(line.size(), std::string("TLAUNCH-GUEST: attest-failed: ").size() + 5) << line;
  std::cout << "boot to attest-failed: " << secs << " s; " << line << "\n";

  ASSERT_TRUE(vm.system_powerdown());
  auto status = vm.wait_exit(60s);
  EXPECT_TRUE(status.has_value()) << "QEMU still running 60 s after system_powerdown\n" << vm.console_text();
  EXPECT_NE(vm.console_text().find("TLAUNCH-GUEST: powerdown"), std::string::npos) << vm.console_text();
}

TEST(ImageBoot, UnsignedKernelIsRefusedUnderSecureBootAndMarked) {
  require_images("unsigned");
  Vm vm(kImages / "unsigned/disk.raw", "endpoint=http://10.0.2.2:1\n");
  ASSERT_TRUE(vm.running()) << vm.qemu_err();
  EXPECT_TRUE(vm.wait_for(std::string(kBootFailedMarker), 180s)) << vm.console_text();
  // grub's `halt` after the marker ends the VM promptly.
  auto status = vm.wait_exit(60s);
  EXPECT_TRUE(status.has_value()) << "QEMU did not exit after the refusal";
  const std::string log = vm.console_text();
  EXPECT_NE(log.find("bad shim signature"), std::string::npos) << log;
  EXPECT_EQ(log.find("TLAUNCH-GUEST: ready"), std::string::npos) << log;
}

}  // namespace
}  // namespace tl::host
