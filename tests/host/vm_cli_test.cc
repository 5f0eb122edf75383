// tlaunch vm create / start / stop / update / ca: argument checks and the
// errors a user meets before any VM boots (no QEMU runs here).
#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>

#include "support/cli_runner.h"

namespace {

using tl::test::run_tlaunch;
using tl::test::shell_quote;
using tl::test::TempDir;

class VmCli : public ::testing::Test {
 protected:
  tl::test::TlaunchRun cli(const std::string& args) {
    return run_tlaunch(args + " --host-dir " + shell_quote(dir_.path().string()));
  }
  std::string disk() {
    std::ofstream(dir_.path() / "disk.raw") << std::string(4096, '\0');
    return (dir_.path() / "disk.raw").string();
  }
  TempDir dir_;
};

TEST_F(VmCli, HelpForEverySubcommand) {
  for (const char* sub : {"create", "start", "stop", "restart", "ca", "update", "list", "show", "delete"}) {
    auto r = run_tlaunch(std::string("vm ") + sub + " --help");
    EXPECT_EQ(r.exit_code, 0) << sub;
    EXPECT_NE(r.out.find(std::string("usage: tlaunch vm ") + sub), std::string::npos) << sub << r.out;
    if (std::string(sub) != "update" && std::string(sub) != "list" && std::string(sub) != "show") {
      EXPECT_NE(r.out.find("--host-dir"), std::string::npos) << sub;
    }
  }
  auto r = run_tlaunch("vm update --help");
  EXPECT_NE(r.out.find("--disable-secure-boot"), std::string::npos);
  EXPECT_NE(r.out.find("--restart"), std::string::npos);
}

TEST_F(VmCli, CreateUsageErrors) {
  auto r = cli("vm create Bad_Name --security-type TrustedLaunch --image " + disk());
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("'B' at position 1"), std::string::npos) << r.err;
  r = cli("vm create ok --image " + disk());
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("--security-type"), std::string::npos) << r.err;
  r = cli("vm create ok --security-type Confidential --image " + disk());
  EXPECT_EQ(r.exit_code, 2);
  r = cli("vm create ok --security-type Standard");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("--image"), std::string::npos) << r.err;
  r = cli("vm create ok --security-type Standard --image " + disk() + " --enable-vtpm --disable-vtpm");
  EXPECT_EQ(r.exit_code, 2);
  r = cli("vm create ok --security-type Standard --image " + disk() + " --memory 12");
  EXPECT_EQ(r.exit_code, 2);
  r = cli("vm create ok --security-type Standard --image " + disk() + " --cpus x");
  EXPECT_EQ(r.exit_code, 2);
  r = cli("vm create ok --security-type Standard --image " + disk() + " --wait-for boot");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_FALSE(std::filesystem::exists(dir_.path() / "vms" / "ok")) << "nothing made on a usage error";
}

TEST_F(VmCli, CreateErrorsNameTheProblem) {
  auto r = cli("vm create ok --security-type Standard --image /nonexistent/image");
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("image-not-found"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("/nonexistent/image"), std::string::npos) << r.err;

  ::setenv("TLAUNCH_OVMF_DIR", "/nonexistent-ovmf", 1);
  r = cli("vm create ok --security-type Standard --image " + disk());
  ::unsetenv("TLAUNCH_OVMF_DIR");
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("firmware-missing"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("ovmf"), std::string::npos) << r.err;
  EXPECT_FALSE(std::filesystem::exists(dir_.path() / "vms" / "ok")) << "nothing left behind";

  r = cli("vm create std --security-type Standard --image " + disk());
  ASSERT_EQ(r.exit_code, 0) << r.err;
  r = cli("vm create std --security-type Standard --image " + disk());
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("vm-exists"), std::string::npos) << r.err;

  // A Standard VM: Secure Boot and vTPM off, the no-keys varstore, no TPM state.
  r = cli("vm show std --json");
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("\"secureBoot\": false"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("\"powerState\": \"Stopped\""), std::string::npos) << r.out;
  EXPECT_FALSE(std::filesystem::exists(dir_.path() / "vms" / "std" / "tpm"));
  std::ifstream a(dir_.path() / "vms" / "std" / "vars.fd", std::ios::binary), b("/usr/share/OVMF/OVMF_VARS_4M.fd", std::ios::binary);
  EXPECT_EQ(std::string(std::istreambuf_iterator<char>(a), {}), std::string(std::istreambuf_iterator<char>(b), {}));

  // Enabling the vTPM on a stopped VM provisions its TPM; nothing to restart.
  r = cli("vm update std --enable-vtpm");
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(std::filesystem::exists(dir_.path() / "vms" / "std" / "tpm" / "tpm2-00.permall"));
  r = cli("vm update std --enable-vtpm --disable-vtpm");
  EXPECT_EQ(r.exit_code, 2);
  r = cli("vm update std --enable-vtpm --group g");
  EXPECT_EQ(r.exit_code, 2) << "local and fleet-only options do not mix";
  r = cli("vm update nothere --disable-secure-boot");
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("vm-not-found"), std::string::npos) << r.err;

  r = cli("vm list");
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("std"), std::string::npos);
  EXPECT_NE(r.out.find("Standard"), std::string::npos);
  // tlaunchd unreachable: the local VMs are still listed, exit 1 says the fleet part is missing.
  std::ofstream(dir_.path() / "token") << "t0ken";
  r = cli("vm list --server http://127.0.0.1:1 --token-file " + shell_quote((dir_.path() / "token").string()));
  EXPECT_EQ(r.exit_code, 1) << r.err;
  EXPECT_NE(r.out.find("std"), std::string::npos) << r.out;
  EXPECT_NE(r.err.find("fleet health unavailable"), std::string::npos) << r.err;
  // The filters are tlaunchd's: without it they are refused, not ignored.
  r = cli("vm list --group g");
  EXPECT_EQ(r.exit_code, 2) << r.out;
  EXPECT_NE(r.err.find("--server"), std::string::npos) << r.err;
  EXPECT_EQ(r.out.find("std"), std::string::npos) << "no unfiltered listing: " << r.out;
  r = cli("vm list --health Healthy --server http://127.0.0.1:1 --token-file " +
          shell_quote((dir_.path() / "token").string()));
  EXPECT_NE(r.exit_code, 0);
  EXPECT_EQ(r.out.find("std"), std::string::npos) << "no unfiltered listing: " << r.out;
  r = cli("vm stop std");
  EXPECT_EQ(r.exit_code, 0) << "not running: nothing to do";
  r = cli("vm delete std");
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_FALSE(std::filesystem::exists(dir_.path() / "vms" / "std"));
}

// An image directory whose disk.raw is 4096 zero bytes, with a manifest.json
// naming the given hash for it.
std::filesystem::path image_dir(const std::filesystem::path& parent, const std::string& disk_sha256) {
  const auto d = parent / "image";
  std::filesystem::create_directories(d);
  std::ofstream(d / "disk.raw") << std::string(4096, '\0');
  const std::string h = std::string(64, 'a');
  std::ofstream(d / "manifest.json")
      << R"({"format": "trustlaunch-image/1", "kernel": {"version": "6.1.0-56-amd64", "signed": true},)"
      << R"( "initrd_compression": "gzip", "source_date_epoch": 0, "packages": [], "esp": [],)"
      << R"( "disk": {"path": "disk.raw", "sha256": ")" << disk_sha256 << R"(", "size": 4096},)"
      << R"( "agent": {"path": "/bin/tlaunch-agent", "sha256": ")" << h << R"(", "size": 1}})";
  return d;
}

TEST_F(VmCli, CreateRefusesADiskItsManifestDoesNotDescribe) {
  // SHA-256 of 4096 zero bytes, i.e. the disk image_dir() writes.
  const std::string zeros_sha256 = "ad7facb2586fc6e966c004d7d1d16b024f5805ff7cb47c7a85dabd8b48892ca7";
  TempDir images;
  auto r = cli("vm create changed --security-type Standard --image " +
               shell_quote(image_dir(images.path() / "a", std::string(64, 'b')).string()));
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("image-mismatch"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find(zeros_sha256), std::string::npos) << "names the disk's actual hash: " << r.err;
  EXPECT_NE(r.err.find("rebuild"), std::string::npos) << r.err;
  EXPECT_FALSE(std::filesystem::exists(dir_.path() / "vms" / "changed")) << "nothing left behind";

  r = cli("vm create intact --security-type Standard --image " +
          shell_quote(image_dir(images.path() / "b", zeros_sha256).string()));
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(std::filesystem::exists(dir_.path() / "vms" / "intact" / "disk.raw"));

  std::filesystem::create_directories(images.path() / "c");
  std::ofstream(images.path() / "c" / "disk.raw") << "x";
  std::ofstream(images.path() / "c" / "manifest.json") << "{\"format\": 1}";
  r = cli("vm create broken --security-type Standard --image " + shell_quote((images.path() / "c").string()));
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("manifest.json"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("manifest-invalid"), std::string::npos) << r.err;
}

TEST_F(VmCli, CaPrintsTheCertificatesToTrust) {
  auto r = cli("vm ca");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find((dir_.path() / "ca" / "swtpm-localca-rootca-cert.pem").string()), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("--ek-ca"), std::string::npos);
  EXPECT_TRUE(std::filesystem::exists(dir_.path() / "ca" / "issuercert.pem"));
}

TEST_F(VmCli, StartOfAMissingVm) {
  auto r = cli("vm start ghost");
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("vm-not-found"), std::string::npos) << r.err;
}

}  // namespace

namespace {

// --uefi-keys PATH must hold enrolled keys and SecureBootEnable=1: a blank
// varstore is refused before anything is created; Microsoft's passes.
TEST_F(VmCli, CreateChecksACustomUefiVarstore) {
  const std::string image = disk();
  auto r = cli("vm create blank --security-type TrustedLaunch --disable-vtpm --image " + shell_quote(image) +
               " --uefi-keys /usr/share/OVMF/OVMF_VARS_4M.fd");
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("uefi-keys-invalid"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("OVMF_VARS_4M.fd"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("PK"), std::string::npos) << r.err;
  EXPECT_FALSE(std::filesystem::exists(dir_.path() / "vms" / "blank")) << "nothing left behind";

  r = cli("vm create custom --security-type TrustedLaunch --disable-vtpm --image " + shell_quote(image) +
          " --uefi-keys /usr/share/OVMF/OVMF_VARS_4M.ms.fd");
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(std::filesystem::exists(dir_.path() / "vms" / "custom" / "vars.fd"));
}

}  // namespace
