// Issue 4, the agent's kernel module report end to end, all real: a swtpm vTPM
// holding the recorded Secure Boot boot, the real tlaunchd, and the real
// tlaunch-agent binary reading a kernel log, taint file and IMA list given with
// --kernel-log / --taint-file / --ima-log. The token, verified with standard
// tools (check_token.py), must carry what those files say as the self-reported
// claims x-tl-kernel-modules and x-tl-kernel-release (uname's).
#include <gtest/gtest.h>
#include <sys/utsname.h>

#include <fstream>

#include <nlohmann/json.hpp>

#include "fixture.h"
#include "support/cli_runner.h"
#include "support/test_support.h"

namespace tl::test {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

constexpr const char* kVm = "4a1b2c3d-0000-4000-8000-0000000000b4";

class KernelModulesE2E : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    root_ = std::make_unique<TempDir>();
    const fs::path r = root_->path();
    auto ca = VtpmCa::create(r / "vtpm-ca");
    if (!ca) return fail("vTPM CA: " + ca.error().message);
    ca_ = std::move(*ca);
    auto vm = start_vm_tpm(*ca_, r / "vm", boot_log_path());
    if (!vm) return fail("VM vTPM: " + vm.error().message);
    vm_ = std::move(*vm);
    auto svc = Tlaunchd::start(r / "svc", {"--ek-ca", ca_->root_pem().string(), "--ek-ca", ca_->issuer_pem().string()});
    if (!svc) return fail("tlaunchd: " + svc.error().message);
    svc_ = std::move(*svc);
    std::ofstream(r / "os-release") << "NAME=\"Debian GNU/Linux\"\nVERSION_ID=\"12\"\nID=debian\n";
  }
  static void TearDownTestSuite() {
    svc_.reset();
    vm_.reset();
    ca_.reset();
    root_.reset();
  }
  void SetUp() override {
    if (setup_error_) GTEST_FAIL() << *setup_error_;
  }
  static void fail(const std::string& m) {
    if (!setup_error_) setup_error_ = m;
  }

  // tlaunch-agent attest --once with these extra options; the token (its last
  // output line: warnings go to stderr before it) and all it printed.
  static Result<std::pair<std::string, std::string>> attest(const std::string& extra) {
    const fs::path r = root_->path();
    auto out = sh((build_dir() / "tlaunch-agent").string() + " attest --once --endpoint " + svc_->base_url() +
                  " --tcti " + shell_quote(vm_->tcti()) + " --vm-id " + kVm + " --eventlog " +
                  shell_quote(boot_log_path().string()) + " --os-release " + shell_quote((r / "os-release").string()) +
                  " --state-dir " + shell_quote((r / "state").string()) + " " + extra);
    if (!out) return out.take_error();
    std::string token = *out;
    while (!token.empty() && (token.back() == '\n' || token.back() == '\r')) token.pop_back();
    token = token.substr(token.rfind('\n') == std::string::npos ? 0 : token.rfind('\n') + 1);
    return std::make_pair(token, *out);
  }

  // The claims of `token` as a relying party sees them (signature checked
  // against the service's JWKS by PyJWT and openssl).
  static json verified_claims(const std::string& token) {
    const fs::path f = root_->path() / "token.txt";
    std::ofstream(f) << token;
    auto out = sh("/usr/bin/python3 " + shell_quote((fs::path(__FILE__).parent_path() / "check_token.py").string()) +
                  " " + shell_quote(svc_->base_url()) + " " + shell_quote(f.string()));
    EXPECT_TRUE(out.ok()) << out.error().message;
    if (!out) return json{};
    json v = json::parse(*out, nullptr, false);
    return v.is_object() && v.contains("claims") ? v["claims"] : json{};
  }

  static std::string uname_release() {
    struct utsname u {};
    EXPECT_EQ(::uname(&u), 0);
    return u.release;
  }

  static inline std::unique_ptr<TempDir> root_;
  static inline std::unique_ptr<VtpmCa> ca_;
  static inline std::unique_ptr<Swtpm> vm_;
  static inline std::unique_ptr<Tlaunchd> svc_;
  static inline std::optional<std::string> setup_error_;
};

TEST_F(KernelModulesE2E, TokenNamesTheModuleThatFailedVerificationAndUnamesRelease) {
  const fs::path r = root_->path();
  // A guest's kernel log as dmesg prints it (the kernel's own texts), a taint
  // of O|E, and an IMA list with a module measured without a signature.
  std::ofstream(r / "dmesg.txt")
      << "[    0.000000] Linux version 6.1.0-28-amd64 (debian-kernel@lists.debian.org)\n"
         "[   12.104512] hello_unsigned: loading out-of-tree module taints kernel.\n"
         "[   12.104631] hello_unsigned: module verification failed: signature and/or required key missing - "
         "tainting kernel\n"
         "[   13.000001] r8723bs: module is from the staging directory, the quality is unknown, you have been warned.\n"
         "[   14.500000] Loading of unsigned module is rejected\n"
         "modprobe: ERROR: could not insert 'evil-mod': Key was rejected by service\n";
  std::ofstream(r / "tainted") << "12288\n";
  std::ofstream(r / "ima.txt")
      << "10 91f34b5c671d73504b274a919661cf80dab1e127 ima-ng sha256:"
         "6e2b1f7a3c4d5e6f708192a3b4c5d6e7f8091a2b3c4d5e6f708192a3b4c5d6e7 boot_aggregate\n"
         "10 0c4a8b2e5f1d7c3a9b6e2f8d4c1a7e5b3f9d2c8a ima-sig sha256:"
         "1d2c3b4a5f6e7d8c9b0a1f2e3d4c5b6a7f8e9d0c1b2a3f4e5d6c7b8a9f0e1d2c "
         "/lib/modules/6.1.0-28-amd64/updates/dkms/nosig-driver.ko.xz \n";

  auto out = attest("--kernel-log " + shell_quote((r / "dmesg.txt").string()) + " --taint-file " +
                    shell_quote((r / "tainted").string()) + " --ima-log " + shell_quote((r / "ima.txt").string()));
  ASSERT_TRUE(out.ok()) << out.error().message << "\n" << svc_->log_text();
  const json c = verified_claims(out->first);
  ASSERT_TRUE(c.is_object()) << out->second;
  EXPECT_EQ(c.value("x-tl-kernel-release", json()), uname_release());
  ASSERT_TRUE(c.contains("x-tl-kernel-modules")) << "claims: " << c.dump();
  // The named refusal makes the nameless kernel one redundant; names in the
  // kernel's spelling ('-' is '_').
  EXPECT_EQ(c["x-tl-kernel-modules"], json({{"taint", 12288},
                                            {"unsigned", {"hello_unsigned"}},
                                            {"rejected", {"evil_mod"}},
                                            {"imaFailures", {"nosig_driver"}}}));
  // The verified claims are those of the recorded boot, unaffected.
  EXPECT_EQ(c.value("secureboot", false), true);
  EXPECT_EQ(c.value("x-ms-azurevm-vmid", ""), kVm);
}

TEST_F(KernelModulesE2E, UnreadableSourcesAreWarningsAndNeverBlockAttestation) {
  const fs::path r = root_->path();
  std::ofstream(r / "tainted-garbled") << "not a number\n";
  fs::create_directories(r / "not-a-log");
  auto out = attest("--kernel-log " + shell_quote((r / "not-a-log").string()) + " --taint-file " +
                    shell_quote((r / "tainted-garbled").string()) + " --ima-log " +
                    shell_quote((r / "no-such-ima-list").string()));
  ASSERT_TRUE(out.ok()) << out.error().message << "\n" << svc_->log_text();
  // The log says what was wrong, naming each file; a missing one is not mentioned.
  EXPECT_NE(out->second.find("warning: " + (r / "tainted-garbled").string() + ": byte 0 is not a decimal digit"),
            std::string::npos) << out->second;
  EXPECT_NE(out->second.find("warning: " + (r / "not-a-log").string() + ": not a regular file"), std::string::npos)
      << out->second;
  EXPECT_EQ(out->second.find("no-such-ima-list"), std::string::npos) << out->second;
  const json c = verified_claims(out->first);
  ASSERT_TRUE(c.is_object()) << out->second;
  ASSERT_TRUE(c.contains("x-tl-kernel-modules")) << "claims: " << c.dump();
  // Reported, with nothing found in what could be read.
  EXPECT_EQ(c["x-tl-kernel-modules"], json({{"taint", 0},
                                            {"unsigned", json::array()},
                                            {"rejected", json::array()},
                                            {"imaFailures", json::array()}}));
}

}  // namespace
}  // namespace tl::test
