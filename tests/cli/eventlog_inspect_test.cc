// `tlaunch eventlog inspect` as a user runs it: the real binary
// (tests/support/cli_runner.h) on the real vectors. Expected values come from
// sources independent of this code: expected.json (upstream projects), the
// guest's own sysfs PCR dump, the tpm2-tools quote PCR file, `strings` and
// `tpm2_eventlog` on the logs.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <string>

#include <nlohmann/json.hpp>

#include "../eventlog/log_builder.h"
#include "common/hex.h"
#include "support/cli_runner.h"
#include "support/test_support.h"

namespace tl::cli {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;
using nlohmann::json;

using InspectRun = test::TlaunchRun;
using test::TempDir;

// Runs `tlaunch eventlog inspect ARGS`, stdout and stderr kept apart.
InspectRun inspect(const std::vector<std::string>& args) {
  std::string cmd = "eventlog inspect";
  for (const auto& a : args) cmd += " " + test::shell_quote(a);
  return test::run_tlaunch(cmd);
}

json inspect_json(const fs::path& log, std::vector<std::string> extra = {}) {
  std::vector<std::string> args{log.string(), "--json"};
  args.insert(args.end(), extra.begin(), extra.end());
  const InspectRun r = inspect(args);
  EXPECT_EQ(r.exit_code, 0) << r.err;
  try {
    return json::parse(r.out);
  } catch (const std::exception& e) {
    ADD_FAILURE() << "stdout is not JSON: " << e.what() << "\n" << r.out.substr(0, 500);
    return json::object();
  }
}

// "PCR sha256 0 HEX" lines as the guest wrote them, upper-case hex.
std::map<std::string, std::map<std::string, std::string>> sysfs_pcrs(const fs::path& p) {
  std::map<std::string, std::map<std::string, std::string>> out;
  std::istringstream in(test::read_text(p));
  std::string tag, bank, pcr, value;
  while (in >> tag >> bank >> pcr >> value) {
    for (auto& c : value) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    out[bank][pcr] = value;
  }
  return out;
}

TEST(EventlogInspect, DebianChainJsonShapeAndValues) {
  TL_REQUIRE_VECTOR(log, "ovmf-secureboot/eventlog_sb_debian_chain.bin");
  TL_REQUIRE_VECTOR(guest, "ovmf-secureboot/pcrs_guest_sysfs.txt");
  const json j = inspect_json(log);
  EXPECT_EQ(j.at("format"), "crypto-agile");
  EXPECT_EQ(j.at("banks"), json::array({"sha256"}));
  EXPECT_EQ(j.at("event_count"), 52);  // SECUREBOOT-VM-NOTES.md: 52 events

  // Replay == what the guest read from /sys/class/tpm/tpm0/pcr-sha256 for every PCR the log extends.
  const auto expected = sysfs_pcrs(guest);
  const json& pcrs = j.at("pcrs").at("sha256");
  EXPECT_EQ(pcrs.size(), 11u);  // 0-9 and 14 (shim's MokList)
  for (const auto& [pcr, value] : pcrs.items()) EXPECT_EQ(value, expected.at("sha256").at(pcr)) << "PCR " << pcr;

  const json& sb = j.at("secure_boot");
  EXPECT_EQ(sb.at("enabled"), true);
  ASSERT_EQ(sb.at("pk").size(), 1u);
  EXPECT_EQ(sb.at("pk")[0].at("type"), "x509");
  EXPECT_THAT(sb.at("pk")[0].at("subject").get<std::string>(), HasSubstr("CN=Debian UEFI Secure Boot (PK/KEK key)"));
  EXPECT_EQ(sb.at("pk")[0].at("sha256_fingerprint"),
            "5fb05ed84c5170d542ed6a7b7487dd57b8faedb02f7e107b0409e1d22cac4169");  // openssl x509 -fingerprint
  EXPECT_EQ(sb.at("kek").size(), 2u);
  EXPECT_EQ(sb.at("db").size(), 2u);
  ASSERT_EQ(sb.at("dbx").size(), 1u);
  EXPECT_EQ(sb.at("dbx")[0].at("hash"), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");

  const json& apps = j.at("boot_applications");
  ASSERT_EQ(apps.size(), 4u);
  EXPECT_EQ(apps[0].at("pcr"), 4);
  EXPECT_EQ(apps[0].at("digests").at("sha256"), "80a66d53a945d2286fcadd780fae1c225aa732079cd67b5225dc78aaab4e2ff8");
  EXPECT_EQ(apps[0].at("device_path"), "PciRoot(0x0)/Pci(0x1,0x0)/\\EFI\\BOOT\\BOOTX64.EFI");
  EXPECT_EQ(apps[1].at("device_path"), "\\EFI\\BOOT\\grubx64.efi");

  // strings: "kernel_cmdline: /vmlinuz console=ttyS0,115200 quiet loglevel=4 panic=-1".
  EXPECT_EQ(j.at("kernel_cmdline"), "/vmlinuz console=ttyS0,115200 quiet loglevel=4 panic=-1");
  // The kernel is measured as "/vmlinuz" only; 6.1.0-56-amd64 appears on the
  // console, not in the log, so the version is honestly unknown.
  EXPECT_TRUE(j.at("linux_kernel_version").is_null());
  EXPECT_EQ(j.at("grub").at("files"), json::array({"(hd0)/EFI/debian/grub.cfg", "/vmlinuz", "/initrd.img"}));
  EXPECT_EQ(j.at("grub").at("commands").size(), 14u);
  EXPECT_EQ(j.at("problems"), json::array());
}

class ExpectedJsonLog : public ::testing::TestWithParam<std::string> {};

TEST_P(ExpectedJsonLog, PcrsAndEventCountMatchUpstream) {
  TL_REQUIRE_VECTOR(expected_path, "eventlogs/expected.json");
  TL_REQUIRE_VECTOR(log, "eventlogs/" + GetParam());
  json expected;
  for (const auto& e : json::parse(test::read_text(expected_path)))
    if (e.at("file") == GetParam()) expected = e;
  ASSERT_FALSE(expected.is_null());
  const json j = inspect_json(log);
  EXPECT_EQ(j.at("event_count"), expected.at("event_count_including_first"));
  for (const auto& [bank, pcrs] : expected.at("final_pcrs").items())
    for (const auto& [pcr, value] : pcrs.items())
      EXPECT_EQ(j.at("pcrs").at(bank).value(pcr, std::string("<absent>")), value) << bank << " PCR " << pcr;
}

INSTANTIATE_TEST_SUITE_P(Vectors, ExpectedJsonLog,
                         ::testing::Values("event-uefi-sha1-log.bin", "event-bootorder.bin", "event-postcode.bin",
                                           "event-sd-boot-fedora37.bin", "event-moklisttrusted.bin",
                                           "event-arch-linux.bin", "event-gce-ubuntu-2104-log.bin"));

TEST(EventlogInspect, SecureBootEnabledDisabledAndAbsent) {
  TL_REQUIRE_VECTOR(on, "eventlogs/keylime-sb-enabled.bin");
  TL_REQUIRE_VECTOR(off, "eventlogs/keylime-sb-disabled.bin");
  EXPECT_EQ(inspect_json(on).at("secure_boot").at("enabled"), true);
  EXPECT_EQ(inspect_json(off).at("secure_boot").at("enabled"), false);

  // A log without a SecureBoot variable: enabled is null, not false.
  TempDir tmp;
  auto b = test::LogBuilder::crypto_agile({crypto::HashAlg::sha256});
  b.event(7, 4 /* EV_SEPARATOR */, Bytes{0, 0, 0, 0});
  const json j = inspect_json(tmp.file("no-sb.bin", b.build()));
  EXPECT_TRUE(j.at("secure_boot").at("enabled").is_null());
  EXPECT_TRUE(j.at("kernel_cmdline").is_null());
  EXPECT_TRUE(j.at("linux_kernel_version").is_null());
  EXPECT_EQ(j.at("event_count"), 2);
}

TEST(EventlogInspect, KernelVersionFromGrubMeasuredPath) {
  // strings: "kernel_cmdline: (hd0,gpt2)/vmlinuz-5.14.0-130.el9.x86_64 root=UUID=…".
  TL_REQUIRE_VECTOR(log, "eventlogs/event-moklisttrusted.bin");
  const json j = inspect_json(log);
  EXPECT_EQ(j.at("linux_kernel_version"), "5.14.0-130.el9.x86_64");
  EXPECT_THAT(j.at("kernel_cmdline").get<std::string>(),
              HasSubstr("(hd0,gpt2)/vmlinuz-5.14.0-130.el9.x86_64 root=UUID=10d7f09f"));
}

TEST(EventlogInspect, PostcodeLogReportsItsOldShimProblems) {
  TL_REQUIRE_VECTOR(log, "eventlogs/event-postcode.bin");
  const json j = inspect_json(log);
  ASSERT_EQ(j.at("problems").size(), 6u);
  EXPECT_EQ(j.at("problems")[0].at("event"), 40);
  EXPECT_EQ(j.at("problems")[0].at("offset"), 0x5cd3);
  EXPECT_EQ(j.at("problems")[0].at("pcr"), 7);
  EXPECT_THAT(j.at("problems")[0].at("message").get<std::string>(), HasSubstr("is not the hash of the event data"));
}

TEST(EventlogInspect, MalformedLogsExitTwoWithAClearError) {
  TL_REQUIRE_VECTOR(bogus, "eventlogs/keylime-bogus.bin");
  TL_REQUIRE_VECTOR(empty, "eventlogs/keylime-empty.bin");
  InspectRun r = inspect({bogus.string(), "--json"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(r.out, "");
  EXPECT_THAT(r.err, HasSubstr("malformed event log: event 0 at offset 0x0"));
  r = inspect({empty.string()});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_THAT(r.err, HasSubstr("malformed event log"));
  EXPECT_THAT(r.err, HasSubstr("empty"));
  r = inspect({"/nonexistent/binary_bios_measurements"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_THAT(r.err, HasSubstr("cannot open /nonexistent/binary_bios_measurements"));
}

TEST(EventlogInspect, PcrsFromTheQuoteMatch) {
  TL_REQUIRE_VECTOR(log, "ovmf-secureboot/eventlog_sb_debian_chain.bin");
  TL_REQUIRE_VECTOR(pcrs, "ovmf-secureboot/quote.pcrs");
  const json j = inspect_json(log, {"--pcrs", pcrs.string()});
  EXPECT_EQ(j.at("pcrs_match"), true);
  // quote.pcrs selects sha256 PCRs 0-9 and 14 (TPMS_PCR_SELECTION bytes ff 43 00).
  EXPECT_EQ(j.at("pcrs_compared"), 11);
  const json& p7 = j.at("pcr_check").at("sha256").at("7");
  EXPECT_EQ(p7.at("match"), true);
  EXPECT_EQ(p7.at("actual"), "75677db6f14082d3bfec4d14bdd75c8d72612ef6914ca99cd5a5997b7a21309d");
}

TEST(EventlogInspect, PcrsFromGuestSysfsMatchAndForeignPcrsAreNotFailures) {
  TL_REQUIRE_VECTOR(log, "ovmf-secureboot/eventlog_sb_debian_chain.bin");
  TL_REQUIRE_VECTOR(pcrs, "ovmf-secureboot/pcrs_guest_sysfs.txt");
  const json j = inspect_json(log, {"--pcrs", pcrs.string()});
  EXPECT_EQ(j.at("pcrs_match"), true);
  EXPECT_EQ(j.at("pcrs_compared"), 11);
  // PCR 10 is IMA's: extended by the kernel, not in the firmware log.
  const json& p10 = j.at("pcr_check").at("sha256").at("10");
  EXPECT_EQ(p10.at("in_log"), false);
  EXPECT_TRUE(p10.at("match").is_null());
  EXPECT_EQ(j.at("pcr_check").at("sha256").at("11").at("match"), true);  // zero, untouched

  TL_REQUIRE_VECTOR(log4, "ovmf-secureboot/eventlog_unprovisioned_swtpm_4banks.bin");
  TL_REQUIRE_VECTOR(pcrs4, "ovmf-secureboot/pcrs_guest_sysfs_unprovisioned_swtpm_4banks.txt");
  const json j4 = inspect_json(log4, {"--pcrs", pcrs4.string()});
  EXPECT_EQ(j4.at("pcrs_match"), true);
  EXPECT_EQ(j4.at("pcrs_compared"), 44);  // 11 PCRs x 4 banks
}

TEST(EventlogInspect, PcrMismatchExitsOne) {
  TL_REQUIRE_VECTOR(log, "ovmf-secureboot/eventlog_sb_debian_chain.bin");
  TempDir tmp;
  const std::string wrong = R"({"sha256": {"4": ")" + std::string(64, '0') + R"("}})";
  const fs::path pcrs = tmp.file("pcrs.json", as_bytes(wrong));
  const InspectRun r = inspect({log.string(), "--json", "--pcrs", pcrs.string()});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_THAT(r.err, HasSubstr("do not match"));
  const json j = json::parse(r.out);
  EXPECT_EQ(j.at("pcrs_match"), false);
  EXPECT_EQ(j.at("pcr_check").at("sha256").at("4").at("match"), false);

  const fs::path garbage = tmp.file("garbage.txt", as_bytes("not a pcr file"));
  EXPECT_EQ(inspect({log.string(), "--pcrs", garbage.string()}).exit_code, 2);
}

TEST(EventlogInspect, HumanReadableOutputHelpAndUsageErrors) {
  TL_REQUIRE_VECTOR(log, "ovmf-secureboot/eventlog_sb_debian_chain.bin");
  const InspectRun r = inspect({log.string()});
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_THAT(r.out, HasSubstr("crypto-agile log, banks sha256, 52 events"));
  EXPECT_THAT(r.out, HasSubstr("Secure Boot: enabled (event 4)"));
  EXPECT_THAT(r.out, HasSubstr("PciRoot(0x0)/Pci(0x1,0x0)/\\EFI\\BOOT\\BOOTX64.EFI"));
  EXPECT_THAT(r.out, HasSubstr("cmdline: /vmlinuz console=ttyS0,115200 quiet loglevel=4 panic=-1"));
  EXPECT_THAT(r.out, HasSubstr("Problems: none"));

  const InspectRun help = inspect({"--help"});
  EXPECT_EQ(help.exit_code, 0);
  EXPECT_THAT(help.out, HasSubstr("usage: tlaunch eventlog inspect FILE [--json] [--pcrs FILE]"));
  EXPECT_EQ(inspect({log.string(), "--bogus"}).exit_code, 2);
  EXPECT_EQ(inspect({}).exit_code, 2);
}

}  // namespace
}  // namespace tl::cli
