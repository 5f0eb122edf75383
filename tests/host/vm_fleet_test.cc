// Local VMs and tlaunchd's inventory, with the real tlaunchd on 127.0.0.1:
// vm create registers the VM with its profile, vm show adds the fleet view,
// vm update --enable/--disable-* PATCHes the profile, a crash is reported to
// tlaunchd (host-events; an older tlaunchd's 404 is only logged), vm delete
// removes it from the inventory. No guest boots: the disk is blank, and the
// VM is killed while its firmware looks for something to boot.
#include <gtest/gtest.h>

#include <csignal>
#include <fstream>
#include <memory>
#include <sstream>
#include <thread>
#include <nlohmann/json.hpp>

#include "host/process.h"
#include "host/vm_state.h"
#include "support/cli_runner.h"
#include "support/test_support.h"

namespace tl::host {
namespace {

using namespace std::chrono_literals;
namespace fs = std::filesystem;
using nlohmann::json;

// tlaunchd on 127.0.0.1, port 0: the port is read from its "listening" log line.
class Server {
 public:
  explicit Server(const fs::path& dir) : db_(dir / "tlaunchd.db"), log_(dir / "tlaunchd.log") {
    fs::create_directories(dir);
    SpawnOptions o;
    o.stderr_file = log_;
    o.stdout_file = dir / "tlaunchd.out";
    auto c = spawn({(test::build_dir() / "tlaunchd").string(), "serve", "--port", "0", "--db", db_.string()}, o);
    if (!c) {
      ADD_FAILURE() << c.error().message;
      return;
    }
    child_ = std::move(*c);
    for (int i = 0; i < 300 && port_ == 0 && child_.running(); ++i) {
      std::istringstream lines(test::read_text_or_empty(log_));
      for (std::string line; std::getline(lines, line);) {
        const json j = json::parse(line, nullptr, false);
        if (j.is_object() && j.value("msg", "") == "listening") port_ = j.value("port", 0);
      }
      std::this_thread::sleep_for(100ms);
    }
    if (port_ == 0) ADD_FAILURE() << "tlaunchd did not start:\n" << test::read_text_or_empty(log_);
  }
  ~Server() {
    child_.signal(SIGTERM);
    if (!child_.wait(10s)) {
      child_.signal(SIGKILL);
      child_.wait();
    }
  }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_); }
  std::string token_file() const { return db_.string() + ".admin-token"; }
  bool up() const { return port_ != 0; }

 private:
  fs::path db_, log_;
  Child child_;
  int port_ = 0;
};

TEST(VmFleet, CreateRegistersUpdatePatchesCrashIsReportedDeleteRemoves) {
  test::TempDir dir;
  Server server(dir.path() / "srv");
  ASSERT_TRUE(server.up());
  const std::string host = " --host-dir " + test::shell_quote((dir.path() / "host").string());
  const std::string srv = " --server " + server.url() + " --token-file " + test::shell_quote(server.token_file());
  const fs::path disk = dir.path() / "blank.raw";
  std::ofstream(disk) << std::string(1 << 20, '\0');

  auto r = test::run_tlaunch("vm create web-1 --security-type Standard --image " + test::shell_quote(disk.string()) +
                             " --group pool-a --release-key db-key --attest-interval 60" + host + srv);
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_NE(r.err.find("registered web-1"), std::string::npos) << r.err;
  const fs::path vmdir = dir.path() / "host" / "vms" / "web-1";
  // The agent's settings: tlaunchd as the guest sees it (10.0.2.2 for the host's loopback).
  const std::string conf = test::read_text_or_empty(vmdir / "agent.conf");
  EXPECT_NE(conf.find("endpoint=http://10.0.2.2:"), std::string::npos) << conf;
  EXPECT_NE(conf.find("release_key=db-key\n"), std::string::npos) << conf;
  EXPECT_NE(conf.find("attest_interval=60\n"), std::string::npos) << conf;

  // The inventory has it with its profile and vmId (fleet-only vm show: no --host-dir).
  r = test::run_tlaunch("vm show web-1 --json" + srv);
  json fleet = json::parse(r.out, nullptr, false);
  ASSERT_TRUE(fleet.is_object()) << r.out << r.err;
  EXPECT_EQ(fleet["group"], "pool-a");
  EXPECT_EQ(fleet["securityProfile"]["securityType"], "Standard");
  EXPECT_EQ(fleet["securityProfile"]["uefiSettings"]["secureBootEnabled"], false);
  EXPECT_EQ(fleet["securityProfile"]["enableTpm"], false);
  const json vmjson = json::parse(test::read_text_or_empty(vmdir / "vm.json"));
  EXPECT_EQ(fleet["vmId"], vmjson["vmId"]);
  EXPECT_EQ(vmjson["server"]["registered"], true);

  // The local show adds the fleet view; the recorded server is used without flags.
  r = test::run_tlaunch("vm show web-1 --json" + host);
  json local = json::parse(r.out, nullptr, false);
  ASSERT_TRUE(local.is_object()) << r.out << r.err;
  EXPECT_EQ(local["state"]["powerState"], "Stopped");
  EXPECT_EQ(local["fleet"]["name"], "web-1");

  // Local update: the profile in tlaunchd follows.
  r = test::run_tlaunch("vm update web-1 --enable-secure-boot --enable-vtpm" + host);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  r = test::run_tlaunch("vm show web-1 --json" + srv);
  fleet = json::parse(r.out, nullptr, false);
  EXPECT_EQ(fleet["securityProfile"]["uefiSettings"]["secureBootEnabled"], true) << r.out;
  EXPECT_EQ(fleet["securityProfile"]["enableTpm"], true);
  EXPECT_EQ(test::read_text_or_empty(vmdir / "vars.fd"), test::read_text_or_empty("/usr/share/OVMF/OVMF_VARS_4M.ms.fd"));

  // vm list: the local VM with its fleet health.
  r = test::run_tlaunch("vm list" + host + srv);
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("web-1"), std::string::npos);
  EXPECT_NE(r.out.find("Pending"), std::string::npos) << r.out;
  // The filters apply to the local VMs too (group and health are tlaunchd's).
  r = test::run_tlaunch("vm list --group pool-a" + host + srv);
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("web-1"), std::string::npos) << r.out;
  r = test::run_tlaunch("vm list --group pool-b" + host + srv);
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out.find("web-1"), std::string::npos) << r.out;
  r = test::run_tlaunch("vm list --health Healthy --json" + host + srv);
  EXPECT_EQ(r.exit_code, 0) << r.err;
  json listed = json::parse(r.out, nullptr, false);
  ASSERT_TRUE(listed.is_object()) << r.out;
  EXPECT_TRUE(listed["local"].empty()) << r.out;
  EXPECT_TRUE(listed["value"].empty()) << r.out;
  r = test::run_tlaunch("vm list --health Pending --json" + host + srv);
  listed = json::parse(r.out, nullptr, false);
  ASSERT_TRUE(listed.is_object()) << r.out;
  ASSERT_EQ(listed["local"].size(), 1U) << r.out;
  EXPECT_EQ(listed["local"][0]["name"], "web-1");

  // A crash: recorded locally and sent to tlaunchd (or, from a tlaunchd
  // without host-events, logged as not taken).
  r = test::run_tlaunch("vm start web-1" + host);
  ASSERT_EQ(r.exit_code, 0) << r.err << test::read_text_or_empty(vmdir / "supervisor.log");
  auto st = read_vm_state(vmdir / "state.json");
  ASSERT_TRUE(st);
  ASSERT_GT(st->qemu_pid, 0);
  ASSERT_EQ(::kill(static_cast<pid_t>(st->qemu_pid), SIGKILL), 0);
  std::string log;
  for (int i = 0; i < 100; ++i) {
    log = test::read_text_or_empty(vmdir / "supervisor.log");
    if (log.find("VM Crashed") != std::string::npos) break;
    std::this_thread::sleep_for(200ms);
  }
  EXPECT_NE(log.find("event vm-crashed: QEMU was killed by signal 9"), std::string::npos) << log;
  // This tlaunchd has the host-events route: the report must be taken.
  EXPECT_NE(log.find("reported vm-crashed to tlaunchd"), std::string::npos) << log;
  EXPECT_NE(log.find("told tlaunchd: powerState Running"), std::string::npos) << log;

  // The vTPM dies under a running VM: QEMU is stopped, Crashed says why, tlaunchd is told.
  r = test::run_tlaunch("vm start web-1" + host);
  ASSERT_EQ(r.exit_code, 0) << r.err << test::read_text_or_empty(vmdir / "supervisor.log");
  st = read_vm_state(vmdir / "state.json");
  ASSERT_TRUE(st);
  ASSERT_GT(st->swtpm_pid, 0);
  const int64_t qemu = st->qemu_pid;
  ASSERT_EQ(::kill(static_cast<pid_t>(st->swtpm_pid), SIGKILL), 0);
  for (int i = 0; i < 100; ++i) {
    st = read_vm_state(vmdir / "state.json");
    if (st && st->power == PowerState::kCrashed) break;
    std::this_thread::sleep_for(200ms);
  }
  ASSERT_TRUE(st);
  EXPECT_EQ(st->power, PowerState::kCrashed);
  EXPECT_NE(st->last_error.find("the vTPM (swtpm) was killed by signal 9"), std::string::npos) << st->last_error;
  EXPECT_FALSE(process_alive(qemu, "qemu-system"));
  log = test::read_text_or_empty(vmdir / "supervisor.log");
  EXPECT_NE(log.find("event vtpm-crashed"), std::string::npos) << log;
  for (int i = 0; i < 50 && log.find("reported vtpm-crashed to tlaunchd") == std::string::npos; ++i) {
    std::this_thread::sleep_for(200ms);
    log = test::read_text_or_empty(vmdir / "supervisor.log");
  }
  EXPECT_NE(log.find("reported vtpm-crashed to tlaunchd"), std::string::npos) << log;

  // Delete: gone locally and from the inventory.
  r = test::run_tlaunch("vm delete web-1" + host);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_FALSE(fs::exists(vmdir));
  r = test::run_tlaunch("vm show web-1" + srv);
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("vm-not-found"), std::string::npos) << r.err;

  // --keep-inventory leaves it registered.
  r = test::run_tlaunch("vm create web-2 --security-type Standard --image " + test::shell_quote(disk.string()) + host + srv);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  r = test::run_tlaunch("vm delete web-2 --keep-inventory" + host);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  r = test::run_tlaunch("vm show web-2 --json" + srv);
  EXPECT_EQ(r.exit_code, 0) << r.err;
  // A name tlaunchd already has: refused, and nothing is left on the host.
  r = test::run_tlaunch("vm create web-2 --security-type Standard --image " + test::shell_quote(disk.string()) + host + srv);
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("vm-exists"), std::string::npos) << r.err;
  EXPECT_FALSE(fs::exists(dir.path() / "host" / "vms" / "web-2"));
}

}  // namespace
}  // namespace tl::host
