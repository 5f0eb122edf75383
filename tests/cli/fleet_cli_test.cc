// The fleet commands of `tlaunch` against the real tlaunchd: the test starts
// the tlaunchd binary on 127.0.0.1 (port 0, its own database and admin token
// file) and runs the real tlaunch binary, as an operator would. Nothing is
// mocked; where a test needs many VMs it registers them over the REST API
// with the project's HTTP client, then reads them back through the CLI.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <memory>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "http/http.h"
#include "support/cli_runner.h"
#include "support/test_support.h"

namespace tl::cli {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;
using ::testing::Not;
using nlohmann::json;
using test::TempDir;
using test::TlaunchRun;

constexpr const char* kBootLog = "ovmf-secureboot/eventlog_sb_debian_chain.bin";

// tlaunchd as a child process on 127.0.0.1, stopped on destruction (the
// pattern of tests/e2e/fixture.h, without the vTPM parts this test does not need).
class Tlaunchd {
 public:
  static std::unique_ptr<Tlaunchd> start(const fs::path& dir, std::vector<std::string> extra = {}) {
    auto t = std::unique_ptr<Tlaunchd>(new Tlaunchd);
    fs::create_directories(dir);
    t->db_ = dir / "tlaunchd.db";
    t->log_ = dir / "tlaunchd.log";
    std::vector<std::string> argv = {(test::build_dir() / "tlaunchd").string(), "serve", "--port", "0", "--db",
                                     t->db_.string()};
    for (auto& a : extra) {
      if (a == "--tls-cert") t->scheme_ = "https";
      argv.push_back(std::move(a));
    }
    const pid_t pid = ::fork();
    if (pid < 0) return nullptr;
    if (pid == 0) {
      FILE* f = std::fopen(t->log_.c_str(), "w");
      if (f != nullptr) ::dup2(::fileno(f), 2);
      std::vector<char*> cargv;
      for (auto& a : argv) cargv.push_back(a.data());
      cargv.push_back(nullptr);
      ::execv(cargv[0], cargv.data());
      _exit(127);
    }
    t->pid_ = pid;
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    while (std::chrono::steady_clock::now() < deadline) {
      int status = 0;
      if (::waitpid(pid, &status, WNOHANG) == pid) {
        t->pid_ = -1;
        ADD_FAILURE() << "tlaunchd exited at start:\n" << t->log_text();
        return nullptr;
      }
      std::istringstream lines(t->log_text());
      for (std::string line; std::getline(lines, line);) {
        const json j = json::parse(line, nullptr, false);
        if (j.is_object() && j.value("msg", "") == "listening") {
          t->port_ = j.value("port", 0);
          return t;
        }
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    ADD_FAILURE() << "tlaunchd did not log 'listening' within 30 s:\n" << t->log_text();
    return nullptr;
  }

  ~Tlaunchd() { stop(); }

  void stop() {
    if (pid_ <= 0) return;
    ::kill(pid_, SIGTERM);
    for (int i = 0; i < 200; ++i) {
      int status = 0;
      if (::waitpid(pid_, &status, WNOHANG) == pid_) {
        pid_ = -1;
        return;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    ::kill(pid_, SIGKILL);
    int status = 0;
    ::waitpid(pid_, &status, 0);
    pid_ = -1;
  }

  std::string url() const { return scheme_ + "://127.0.0.1:" + std::to_string(port_); }
  // docs/fleet-api.md "Authentication": <database>.admin-token by default.
  fs::path token_file() const { return fs::path(db_.string() + ".admin-token"); }
  std::string log_text() const {
    std::ifstream in(log_);
    std::ostringstream s;
    s << in.rdbuf();
    return s.str();
  }

 private:
  Tlaunchd() = default;
  pid_t pid_ = -1;
  int port_ = 0;
  std::string scheme_ = "http";
  fs::path db_, log_;
};

std::string quoted(const std::vector<std::string>& args) {
  std::string cmd;
  for (const auto& a : args) cmd += (cmd.empty() ? "" : " ") + test::shell_quote(a);
  return cmd;
}

json parse_json(const TlaunchRun& r) {
  const json j = json::parse(r.out, nullptr, false);
  if (!j.is_discarded()) return j;
  ADD_FAILURE() << "stdout is not JSON:\n" << r.out.substr(0, 800) << "\nstderr: " << r.err;
  return json::object();
}

// Data lines of a table (the header line left out) whose first column is `first`.
std::vector<std::string> rows_starting(const std::string& table, const std::string& first) {
  std::vector<std::string> rows;
  std::istringstream in(table);
  std::string line;
  std::getline(in, line);  // header
  while (std::getline(in, line)) {
    if (line.rfind(first + " ", 0) == 0) rows.push_back(line);
  }
  return rows;
}

size_t data_lines(const std::string& table) {
  size_t n = 0;
  for (char c : table) n += c == '\n';
  return n == 0 ? 0 : n - 1;
}

class FleetCli : public ::testing::Test {
 protected:
  void SetUp() override {
    ::unsetenv("TLAUNCH_SERVER");
    ::unsetenv("TLAUNCH_TOKEN_FILE");
    ::unsetenv("TLAUNCH_CACERT");
    server_ = Tlaunchd::start(dir_.path() / "server", extra_args());
    ASSERT_NE(server_, nullptr);
    // The token file is written before the server listens; wait briefly all the same.
    for (int i = 0; i < 100 && !fs::exists(server_->token_file()); ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    ASSERT_TRUE(fs::exists(server_->token_file())) << server_->log_text();
  }

  virtual std::vector<std::string> extra_args() { return {}; }

  // tlaunch ARGS against this test's tlaunchd with its admin token.
  TlaunchRun cli(std::vector<std::string> args) {
    args.insert(args.end(), {"--server", server_->url(), "--token-file", server_->token_file().string()});
    return test::run_tlaunch(quoted(args));
  }

  // The same with --json, expecting `exit_code`.
  json cli_json(std::vector<std::string> args, int exit_code = 0) {
    args.push_back("--json");
    const TlaunchRun r = cli(args);
    EXPECT_EQ(r.exit_code, exit_code) << quoted(args) << "\n" << r.err << server_->log_text();
    return parse_json(r);
  }

  std::string token() const {
    std::ifstream in(server_->token_file());
    std::string t;
    in >> t;
    return t;
  }

  TempDir dir_;
  std::unique_ptr<Tlaunchd> server_;
};

TEST_F(FleetCli, OperatorWalkthroughFromRegistrationToDeletion) {
  TL_REQUIRE_VECTOR(boot_log, kBootLog);

  // register
  TlaunchRun r = cli({"vm", "register", "web-01", "--vm-id", "5e0c7d0e-8d8d-4a4e-9b1b-0c2d4c6f1a11", "--group",
                      "debian-12-pool", "--resource-id", "/subscriptions/x/virtualMachines/web-01"});
  ASSERT_EQ(r.exit_code, 0) << r.err << server_->log_text();
  EXPECT_THAT(r.out, HasSubstr("name: web-01\n"));
  EXPECT_THAT(r.out, HasSubstr("  healthStatus: Pending\n"));
  EXPECT_EQ(r.err, "");
  r = cli({"vm", "register", "web-01", "--vm-id", "another-id", "--group", "debian-12-pool"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_THAT(r.err, HasSubstr("(vm-exists)"));
  EXPECT_THAT(r.err, ::testing::StartsWith("tlaunch: "));
  r = cli({"vm", "register", "std-01", "--vm-id", "std-id", "--group", "legacy", "--security-type", "Standard",
           "--agent", "absent", "--power-state", "Stopped"});
  ASSERT_EQ(r.exit_code, 0) << r.err;

  // list
  r = cli({"vm", "list"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.out, ::testing::StartsWith("NAME "));
  ASSERT_EQ(rows_starting(r.out, "web-01").size(), 1u) << r.out;
  EXPECT_THAT(rows_starting(r.out, "web-01")[0], HasSubstr("debian-12-pool"));
  EXPECT_THAT(rows_starting(r.out, "web-01")[0], HasSubstr("Pending"));
  EXPECT_EQ(data_lines(r.out), 2u) << r.out;
  json list = cli_json({"vm", "list", "--group", "debian-12-pool"});
  ASSERT_EQ(list["value"].size(), 1u) << list.dump(2);
  EXPECT_EQ(list["value"][0]["name"], "web-01");
  EXPECT_TRUE(list["nextAfter"].is_null());
  list = cli_json({"vm", "list", "--health", "Healthy"});
  EXPECT_TRUE(list["value"].empty()) << list.dump(2);
  list = cli_json({"vm", "list", "--health", "Pending"});
  EXPECT_EQ(list["value"].size(), 2u) << list.dump(2);

  // show: every attestationStatus property by its API name
  r = cli({"vm", "show", "web-01"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  for (const char* key : {"attestSecureBootEnabled", "attestationCertValidated", "bootIntegrityValidated",
                          "healthStatus", "linuxKernelVersion", "errorMessage", "provisioningState", "timestamp"}) {
    EXPECT_THAT(r.out, HasSubstr(std::string("\n  ") + key + ": ")) << key;
  }
  EXPECT_THAT(r.out, HasSubstr("  healthStatus: Pending\n"));
  EXPECT_THAT(r.out, HasSubstr("vmId: 5e0c7d0e-8d8d-4a4e-9b1b-0c2d4c6f1a11\n"));
  EXPECT_THAT(r.out, HasSubstr("id: /subscriptions/x/virtualMachines/web-01\n"));
  EXPECT_THAT(r.out, HasSubstr("  securityType: TrustedLaunch\n"));
  EXPECT_THAT(r.out, HasSubstr("  uefiSettings.secureBootEnabled: true\n"));
  EXPECT_THAT(r.out, HasSubstr("  enableTpm: true\n"));
  EXPECT_THAT(r.out, HasSubstr("openAlerts: 0\n"));
  json vm = cli_json({"vm", "show", "web-01"});
  const json& props = vm["attestationStatus"]["properties"];
  EXPECT_EQ(props["healthStatus"], "Pending");
  EXPECT_EQ(props["provisioningState"], "InProgress");
  EXPECT_TRUE(props["timestamp"].is_null());
  EXPECT_TRUE(vm["ekName"].is_null());
  // What the text said is what the server said.
  EXPECT_THAT(r.out, HasSubstr("  attestationCertValidated: " + props["attestationCertValidated"].get<std::string>()));
  vm = cli_json({"vm", "show", "std-01"});
  EXPECT_EQ(vm["securityProfile"]["securityType"], "Standard");
  EXPECT_EQ(vm["securityProfile"]["uefiSettings"]["secureBootEnabled"], false);
  EXPECT_EQ(vm["securityProfile"]["enableTpm"], false);
  EXPECT_EQ(vm["agentInstalled"], false);
  EXPECT_EQ(vm["powerState"], "Stopped");

  // update: the profile keeps what was not given
  vm = cli_json({"vm", "update", "web-01", "--secure-boot", "off"});
  EXPECT_EQ(vm["securityProfile"]["uefiSettings"]["secureBootEnabled"], false);
  EXPECT_EQ(vm["securityProfile"]["securityType"], "TrustedLaunch");
  EXPECT_EQ(vm["securityProfile"]["enableTpm"], true);
  json recs = cli_json({"recommendation", "list", "--kind", "enable-secure-boot"});
  std::set<std::string> rec_vms;
  for (const auto& x : recs["value"]) rec_vms.insert(x["vm"].get<std::string>());
  EXPECT_EQ(rec_vms.count("web-01"), 1u) << recs.dump(2);
  r = cli({"recommendation", "list"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("enable-secure-boot"));
  r = cli({"vm", "show", "web-01"});
  EXPECT_THAT(r.out, HasSubstr("  - enable-secure-boot (Low): "));
  vm = cli_json({"vm", "update", "web-01", "--secure-boot", "on", "--power-state", "Stopped", "--rebind-tpm"});
  EXPECT_EQ(vm["securityProfile"]["uefiSettings"]["secureBootEnabled"], true);
  EXPECT_EQ(vm["powerState"], "Stopped");
  EXPECT_TRUE(vm["ekName"].is_null());
  r = cli({"vm", "update", "nobody", "--agent", "installed"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_THAT(r.err, HasSubstr("(vm-not-found)"));

  // baseline from the recorded Secure Boot boot
  r = cli({"baseline", "create", "debian-12-pool", "--from-eventlog", boot_log.string(), "--variant", "kernel-a",
           "--pcrs", "0,2,4,7"});
  ASSERT_EQ(r.exit_code, 0) << r.err << server_->log_text();
  EXPECT_THAT(r.out, HasSubstr("group: debian-12-pool\n"));
  EXPECT_THAT(r.out, HasSubstr("version: 1\n"));
  EXPECT_THAT(r.out, HasSubstr("pcrs: 0,2,4,7\n"));
  EXPECT_THAT(r.out, HasSubstr("variant: kernel-a\n"));
  json b = cli_json({"baseline", "show", "debian-12-pool"});
  ASSERT_EQ(b["variants"].size(), 1u) << b.dump(2);
  const json& variant = b["variants"][0];
  ASSERT_TRUE(variant["measurements"].is_array());
  EXPECT_FALSE(variant["measurements"].empty());
  // The text output counts what the JSON holds.
  r = cli({"baseline", "show", "debian-12-pool"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("  measurements: " + std::to_string(variant["measurements"].size()) + "\n"));
  // The baseline's PCR values are the log's replay, as `eventlog inspect` computes it.
  const TlaunchRun inspect = test::run_tlaunch(quoted({"eventlog", "inspect", boot_log.string(), "--json"}));
  ASSERT_EQ(inspect.exit_code, 0) << inspect.err;
  const json replay = parse_json(inspect)["pcrs"]["sha256"];
  ASSERT_EQ(variant["pcrValues"].size(), 4u) << variant["pcrValues"].dump();
  for (const char* pcr : {"0", "2", "4", "7"}) {
    EXPECT_EQ(variant["pcrValues"][pcr], replay[pcr]) << "PCR " << pcr;
    EXPECT_THAT(r.out, HasSubstr("    " + std::string(pcr) + ": " + replay[pcr].get<std::string>() + "\n"));
  }
  // A second known-good variant (over the same PCRs, as the server requires).
  b = cli_json({"baseline", "create", "debian-12-pool", "--from-eventlog", boot_log.string(), "--variant", "kernel-b",
                "--pcrs", "0,2,4,7", "--add-variant"});
  EXPECT_EQ(b["version"], 2);
  EXPECT_EQ(b["variants"].size(), 2u) << b.dump(2);
  r = cli({"baseline", "list"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  ASSERT_EQ(rows_starting(r.out, "debian-12-pool").size(), 1u) << r.out;
  EXPECT_THAT(rows_starting(r.out, "debian-12-pool")[0], HasSubstr("kernel-a,kernel-b"));
  b = cli_json({"baseline", "show", "debian-12-pool", "--version", "1"});
  EXPECT_EQ(b["version"], 1);
  EXPECT_EQ(b["variants"].size(), 1u);
  r = cli({"baseline", "show", "debian-12-pool", "--version", "99"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_THAT(r.err, HasSubstr("(baseline-not-found)"));
  r = cli({"baseline", "show", "no-such-group"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_THAT(r.err, HasSubstr("(baseline-not-found)"));
  r = cli({"baseline", "create", "debian-12-pool", "--from-eventlog",
           dir_.file("garbage.bin", as_bytes("this is not a TCG event log")).string()});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_THAT(r.err, HasSubstr("(baseline-invalid)"));
  EXPECT_THAT(r.err, HasSubstr("eventLog: "));
  r = cli({"baseline", "learn", "k8s-nodes", "on"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "group k8s-nodes: learning on\n");
  json learning = cli_json({"baseline", "learn", "k8s-nodes", "off"});
  EXPECT_EQ(learning["learning"], false);

  // suppressions
  json s = cli_json({"alert", "suppress", "--group", "legacy", "--kind", "attestation-stale", "--reason",
                     "Standard VMs have no agent"});
  ASSERT_TRUE(s["id"].is_number_integer()) << s.dump(2);
  const std::string id = std::to_string(s["id"].get<int64_t>());
  EXPECT_EQ(s["reason"], "Standard VMs have no agent");
  r = cli({"alert", "suppressions"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  ASSERT_EQ(rows_starting(r.out, id).size(), 1u) << r.out;
  EXPECT_THAT(rows_starting(r.out, id)[0], HasSubstr("legacy"));
  EXPECT_THAT(rows_starting(r.out, id)[0], HasSubstr("Standard VMs have no agent"));
  r = cli({"alert", "unsuppress", id});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "removed suppression " + id + "\n");
  r = cli({"alert", "unsuppress", id});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_THAT(r.err, HasSubstr("(suppression-not-found)"));
  EXPECT_TRUE(cli_json({"alert", "suppressions"})["value"].empty());
  r = cli({"alert", "list"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(data_lines(r.out), 0u) << r.out;

  // status
  r = cli({"status"});
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_THAT(r.out, HasSubstr("vms: 2\n"));
  EXPECT_THAT(r.out, HasSubstr("  Pending: 2\n"));
  const json summary = cli_json({"status"});
  EXPECT_EQ(summary["vms"], 2);
  EXPECT_EQ(summary["healthStatus"]["Pending"], 2);

  // delete
  r = cli({"vm", "delete", "web-01"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "deleted VM web-01\n");
  r = cli({"vm", "show", "web-01"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_THAT(r.err, HasSubstr("(vm-not-found)"));
  r = cli({"vm", "delete", "web-01"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_THAT(r.err, HasSubstr("(vm-not-found)"));
  EXPECT_EQ(cli_json({"status"})["vms"], 1);
}

TEST_F(FleetCli, AWrongOrMissingTokenIsUnauthorized) {
  const std::string wrong = dir_.file("wrong-token", as_bytes("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\n")).string();
  for (const std::vector<std::string>& args :
       std::vector<std::vector<std::string>>{{"vm", "list"}, {"status"}, {"alert", "suppressions"}}) {
    std::vector<std::string> full = args;
    full.insert(full.end(), {"--server", server_->url(), "--token-file", wrong});
    const TlaunchRun r = test::run_tlaunch(quoted(full));
    EXPECT_EQ(r.exit_code, 1) << quoted(full);
    EXPECT_THAT(r.err, HasSubstr("(unauthorized)"));
    EXPECT_EQ(r.out, "");
  }
  // The right token in a file with surrounding whitespace, found through the environment.
  const std::string padded = dir_.file("padded", as_bytes("\n  " + token() + "  \n\n")).string();
  ::setenv("TLAUNCH_TOKEN_FILE", padded.c_str(), 1);
  ::setenv("TLAUNCH_SERVER", server_->url().c_str(), 1);
  const TlaunchRun r = test::run_tlaunch("status");
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("vms: 0\n"));
}

TEST_F(FleetCli, ListsFollowPagingToTheEnd) {
  // More VMs than the largest page (1000): registered over the API directly,
  // which is quicker than 1,001 CLI processes, then listed through the CLI.
  auto client = http::Client::create(server_->url());
  ASSERT_TRUE(client) << client.error().message;
  const http::Headers headers{{"Authorization", "Bearer " + token()}, {"Content-Type", "application/json"}};
  constexpr int kVms = 1003;
  for (int i = 0; i < kVms; ++i) {
    char name[32];
    std::snprintf(name, sizeof name, "vm-%04d", i);
    const json body = {{"name", name},
                       {"vmId", std::string("id-") + name},
                       {"group", i % 2 == 0 ? "even" : "odd"},
                       {"securityProfile",
                        {{"securityType", "TrustedLaunch"},
                         {"uefiSettings", {{"secureBootEnabled", true}}},
                         {"enableTpm", true}}}};
    auto r = (*client)->request("POST", "/vms", body.dump(), headers);
    ASSERT_TRUE(r) << r.error().message;
    ASSERT_EQ(r->status, 201) << r->body;
  }
  const json all = cli_json({"vm", "list"});
  ASSERT_EQ(all["value"].size(), static_cast<size_t>(kVms));
  std::set<std::string> names;
  for (const auto& vm : all["value"]) names.insert(vm["name"].get<std::string>());
  EXPECT_EQ(names.size(), static_cast<size_t>(kVms));
  EXPECT_TRUE(all["nextAfter"].is_null());
  const TlaunchRun table = cli({"vm", "list", "--group", "odd"});
  ASSERT_EQ(table.exit_code, 0) << table.err;
  EXPECT_EQ(data_lines(table.out), static_cast<size_t>(kVms / 2)) << table.out.substr(0, 300);
  EXPECT_EQ(rows_starting(table.out, "vm-1001").size(), 1u);
  EXPECT_EQ(rows_starting(table.out, "vm-1002").size(), 0u);
  EXPECT_EQ(cli_json({"status"})["vms"], kVms);
}

TEST_F(FleetCli, AStoppedServerIsAConnectionError) {
  const std::string url = server_->url();
  server_->stop();
  const TlaunchRun r = cli({"vm", "list"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_THAT(r.err, HasSubstr("tlaunch: cannot reach " + url));
  EXPECT_EQ(r.out, "");
}

// A VM that never attests goes Unknown after the refresh window, with an
// attestation-stale alert: vm show and status exit 1, the alert is listed,
// a suppression silences it (still listed, no longer counted), and deleting
// the VM resolves it.
class FleetCliStale : public FleetCli {
 protected:
  std::vector<std::string> extra_args() override { return {"--refresh-window", "1", "--sweep-interval", "1"}; }
};

TEST_F(FleetCliStale, StaleVmAlertSuppressionAndResolution) {
  TlaunchRun r = cli({"vm", "register", "db-01", "--vm-id", "db-01-id", "--group", "db-pool"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  std::string health;
  for (int i = 0; i < 150 && health != "Unknown"; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    const TlaunchRun show = cli({"vm", "show", "db-01", "--json"});
    const json vm = json::parse(show.out, nullptr, false);
    if (vm.is_object()) health = vm["attestationStatus"]["properties"].value("healthStatus", "");
  }
  ASSERT_EQ(health, "Unknown") << server_->log_text();
  r = cli({"vm", "show", "db-01"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_THAT(r.out, HasSubstr("  healthStatus: Unknown\n"));
  EXPECT_THAT(r.out, Not(HasSubstr("errorMessage: -\n")));  // staleness is said

  json alerts = cli_json({"alert", "list", "--vm", "db-01"});
  ASSERT_EQ(alerts["value"].size(), 1u) << alerts.dump(2);
  EXPECT_EQ(alerts["value"][0]["kind"], "attestation-stale");
  EXPECT_TRUE(alerts["value"][0]["suppressedBy"].is_null());
  r = cli({"alert", "list", "--severity", "Medium"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("attestation-stale"));
  r = cli({"status"});
  EXPECT_EQ(r.exit_code, 1) << r.out;
  EXPECT_THAT(r.out, HasSubstr("  Unknown: 1\n"));

  json s = cli_json({"alert", "suppress", "--vm", "db-01", "--kind", "attestation-stale", "--reason", "maintenance"});
  const int64_t id = s["id"].get<int64_t>();
  alerts = cli_json({"alert", "list", "--vm", "db-01"});
  ASSERT_EQ(alerts["value"].size(), 1u);
  EXPECT_EQ(alerts["value"][0]["suppressedBy"], id);
  // Suppressed: no longer counted, and the Unknown VM still fails the status.
  const json summary = cli_json({"status"}, 1);
  EXPECT_EQ(summary["alerts"]["Medium"], 0) << summary.dump(2);
  EXPECT_EQ(summary["healthStatus"]["Unknown"], 1) << summary.dump(2);

  r = cli({"vm", "delete", "db-01"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(cli_json({"alert", "list"})["value"].empty());
  alerts = cli_json({"alert", "list", "--resolved"});
  ASSERT_EQ(alerts["value"].size(), 1u) << alerts.dump(2);
  EXPECT_EQ(alerts["value"][0]["state"], "resolved");
  EXPECT_EQ(cli_json({"alert", "list", "--all"})["value"].size(), 1u);
  r = cli({"status"});
  EXPECT_EQ(r.exit_code, 0) << r.out;
}

// HTTPS: the server's certificate is checked against --cacert; without it the
// system store does not know the test CA and the CLI refuses to talk.
class FleetCliTls : public FleetCli {
 protected:
  std::vector<std::string> extra_args() override {
    const fs::path d = dir_.path() / "tls";
    fs::create_directories(d);
    const std::string q = test::shell_quote(d.string());
    const std::string cmd =
        "cd " + q +
        " && openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout ca.key -out ca.pem"
        " -days 2 -subj /CN=tl-cli-test-ca -addext basicConstraints=critical,CA:TRUE"
        " -addext keyUsage=critical,keyCertSign"
        " && openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout server.key -out server.csr"
        " -subj /CN=127.0.0.1"
        " && printf 'subjectAltName=IP:127.0.0.1\\nextendedKeyUsage=serverAuth\\n' > ext.cnf"
        " && openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 2"
        " -extfile ext.cnf -out server.pem";
    EXPECT_EQ(std::system(("(" + cmd + ") >/dev/null 2>&1").c_str()), 0) << cmd;
    ca_ = (d / "ca.pem").string();
    return {"--tls-cert", (d / "server.pem").string(), "--tls-key", (d / "server.key").string()};
  }
  std::string ca_;
};

TEST_F(FleetCliTls, TheServerCertificateIsVerified) {
  ASSERT_EQ(server_->url().rfind("https://", 0), 0u);
  TlaunchRun r = cli({"status", "--cacert", ca_});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("vms: 0\n"));
  ::setenv("TLAUNCH_CACERT", ca_.c_str(), 1);
  r = cli({"vm", "list"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  ::unsetenv("TLAUNCH_CACERT");
  r = cli({"status"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_THAT(r.err, HasSubstr("tlaunch: cannot reach " + server_->url()));
  EXPECT_THAT(r.err, HasSubstr("TLS"));
}

}  // namespace
}  // namespace tl::cli
