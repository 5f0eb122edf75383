// Facts extracted from real firmware logs. Expected values were read
// independently of this code: certificate subjects and fingerprints with
// `openssl x509` on the DER cut out of the log by a separate Python script,
// digests, strings and variable data from `tpm2_eventlog` and `strings`.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>

#include "eventlog/facts.h"
#include "eventlog/parsed_log.h"
#include "support/test_support.h"

namespace tl::eventlog {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

BootFacts facts_of(const std::filesystem::path& p) {
  auto log = ParsedLog::parse(test::read_file(p));
  EXPECT_TRUE(log.ok()) << log.error().message;
  if (!log.ok()) return {};
  return inspect_facts(*log);
}

constexpr const char* kDebianPkSubject =
    "emailAddress=debian-devel@lists.debian.org,CN=Debian UEFI Secure Boot (PK/KEK key),O=Debian";
constexpr const char* kMsUefiCa =
    "CN=Microsoft Corporation UEFI CA 2011,O=Microsoft Corporation,L=Redmond,ST=Washington,C=US";

TEST(FactsDebianChain, SecureBootKeysAndAuthorities) {
  TL_REQUIRE_VECTOR(path, "ovmf-secureboot/eventlog_sb_debian_chain.bin");
  const BootFacts f = facts_of(path);
  const auto& sb = f.secure_boot;
  EXPECT_EQ(sb.state, SecureBootState::enabled);
  ASSERT_TRUE(sb.secure_boot_event);
  EXPECT_EQ(sb.secure_boot_event->index, 4u);

  ASSERT_EQ(sb.pk.entries.size(), 1u);
  EXPECT_EQ(sb.pk.entries[0].type, "x509");
  EXPECT_EQ(sb.pk.entries[0].subject, kDebianPkSubject);
  EXPECT_EQ(sb.pk.entries[0].sha256_fingerprint,
            "5fb05ed84c5170d542ed6a7b7487dd57b8faedb02f7e107b0409e1d22cac4169");
  EXPECT_EQ(sb.pk.entries[0].owner, "8be4df61-93ca-11d2-aa0d-00e098032b8c");

  ASSERT_EQ(sb.kek.entries.size(), 2u);
  EXPECT_EQ(sb.kek.entries[1].subject,
            "CN=Microsoft Corporation KEK CA 2011,O=Microsoft Corporation,L=Redmond,ST=Washington,C=US");
  EXPECT_EQ(sb.kek.entries[1].sha256_fingerprint,
            "a1117f516a32cefcba3f2d1ace10a87972fd6bbe8fe0d0b996e09e65d802a503");
  EXPECT_EQ(sb.kek.entries[1].owner, "77fa9abd-0359-4d32-bd60-28f4e78f784b");  // Microsoft

  ASSERT_EQ(sb.db.entries.size(), 2u);
  EXPECT_EQ(sb.db.entries[0].subject,
            "CN=Microsoft Windows Production PCA 2011,O=Microsoft Corporation,L=Redmond,ST=Washington,C=US");
  EXPECT_EQ(sb.db.entries[1].subject, kMsUefiCa);
  EXPECT_EQ(sb.db.entries[1].sha256_fingerprint,
            "48e99b991f57fc52f76149599bff0a58c47154229b9f8d603ac40d3500248507");

  ASSERT_EQ(sb.dbx.entries.size(), 1u);  // OVMF's placeholder: SHA-256 of nothing
  EXPECT_EQ(sb.dbx.entries[0].type, "sha256");
  EXPECT_EQ(sb.dbx.entries[0].hex, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");

  ASSERT_EQ(sb.authorities.size(), 3u);
  EXPECT_EQ(sb.authorities[0].event.index, 22u);
  EXPECT_EQ(sb.authorities[0].variable, "db");
  EXPECT_TRUE(sb.authorities[0].after_separator);
  ASSERT_TRUE(sb.authorities[0].signature);
  EXPECT_EQ(sb.authorities[0].signature->subject, kMsUefiCa);
  EXPECT_EQ(sb.authorities[1].variable, "SbatLevel");
  EXPECT_EQ(sb.authorities[2].variable, "MokListRT");  // shim's vendor cert
  ASSERT_TRUE(sb.authorities[2].signature);
  EXPECT_EQ(sb.authorities[2].signature->subject, "CN=Debian Secure Boot CA");
  EXPECT_EQ(sb.authorities[2].signature->sha256_fingerprint,
            "079646974bce09b1f04da67bd722d1fb0947ae4c4010bccdbba52d5b23cbf1a2");
  // VariableData 736261742c312c323032353032313830300a7368696d2c340a677275622c350a.
  EXPECT_EQ(sb.sbat_level, "sbat,1,2025021800\nshim,4\ngrub,5\n");

  ASSERT_EQ(sb.shim_variables.size(), 3u);
  EXPECT_EQ(sb.shim_variables[0].name, "MokList");
  EXPECT_EQ(sb.shim_variables[0].digests.at(crypto::HashAlg::sha256),
            "342c88bb9fde2c45eeaa17321262b089181e7e841ef5a4a5e8ed240920026f97");
  EXPECT_EQ(sb.shim_variables[1].name, "MokListX");
  EXPECT_EQ(sb.shim_variables[2].name, "MokListTrusted");
  EXPECT_FALSE(sb.debug_mode);
}

TEST(FactsDebianChain, BootApplicationsLinuxAndNoProblems) {
  TL_REQUIRE_VECTOR(path, "ovmf-secureboot/eventlog_sb_debian_chain.bin");
  const BootFacts f = facts_of(path);
  ASSERT_EQ(f.boot_applications.size(), 4u);
  const auto& shim = f.boot_applications[0];
  EXPECT_EQ(shim.event.index, 23u);
  EXPECT_EQ(shim.event.pcr, 4u);
  EXPECT_EQ(shim.digests.at(crypto::HashAlg::sha256),
            "80a66d53a945d2286fcadd780fae1c225aa732079cd67b5225dc78aaab4e2ff8");
  EXPECT_EQ(shim.device_path, "PciRoot(0x0)/Pci(0x1,0x0)/\\EFI\\BOOT\\BOOTX64.EFI");
  EXPECT_EQ(shim.image_length, 1048504u);
  EXPECT_EQ(f.boot_applications[1].device_path, "\\EFI\\BOOT\\grubx64.efi");
  EXPECT_EQ(f.boot_applications[1].digests.at(crypto::HashAlg::sha256),
            "a68f6d71ebddaa19751ff8d729f67d11b0df8e4c49400c3e7e90de16119e1265");
  // The kernel, loaded by GRUB through shim: no device path.
  EXPECT_EQ(f.boot_applications[2].device_path, "");
  EXPECT_EQ(f.boot_applications[2].error, "");

  const auto& lb = f.linux_boot;
  EXPECT_EQ(lb.loader, "grub");
  EXPECT_EQ(lb.kernel_cmdline, "/vmlinuz console=ttyS0,115200 quiet loglevel=4 panic=-1");
  EXPECT_EQ(lb.kernel_path, "/vmlinuz");
  EXPECT_EQ(lb.initrd_path, "/initrd.img");
  // The log names the kernel "/vmlinuz" only: its version (6.1.0-56-amd64, on the
  // console) is not measured anywhere, so it must not be invented.
  EXPECT_EQ(lb.kernel_version, std::nullopt);
  EXPECT_THAT(lb.grub_files, ElementsAre("(hd0)/EFI/debian/grub.cfg", "/vmlinuz", "/initrd.img"));
  ASSERT_EQ(lb.grub_commands.size(), 14u);
  EXPECT_EQ(lb.grub_commands.front(), "[ -z (hd0)/EFI/debian -o ! -e (hd0)/EFI/debian ]");
  EXPECT_EQ(lb.grub_commands.back(), "initrd /initrd.img");
  EXPECT_THAT(f.problems, IsEmpty());
}

TEST(FactsVectors, SecureBootStateOfKeylimeLogs) {
  TL_REQUIRE_VECTOR(on, "eventlogs/keylime-sb-enabled.bin");
  TL_REQUIRE_VECTOR(off, "eventlogs/keylime-sb-disabled.bin");
  EXPECT_EQ(facts_of(on).secure_boot.state, SecureBootState::enabled);
  EXPECT_EQ(facts_of(off).secure_boot.state, SecureBootState::disabled);
}

TEST(FactsVectors, KernelVersionFromGrubKernelPath) {
  TL_REQUIRE_VECTOR(mok, "eventlogs/event-moklisttrusted.bin");
  TL_REQUIRE_VECTOR(rhel, "eventlogs/keylime-sb-enabled.bin");
  TL_REQUIRE_VECTOR(gce, "eventlogs/event-gce-ubuntu-2104-log.bin");
  const BootFacts m = facts_of(mok);
  EXPECT_EQ(m.linux_boot.kernel_path, "(hd0,gpt2)/vmlinuz-5.14.0-130.el9.x86_64");
  EXPECT_EQ(m.linux_boot.kernel_version, "5.14.0-130.el9.x86_64");
  EXPECT_EQ(m.linux_boot.initrd_path, "(hd0,gpt2)/initramfs-5.14.0-130.el9.x86_64.img");
  EXPECT_THAT(*m.linux_boot.kernel_cmdline, HasSubstr("root=UUID=10d7f09f-7852-4b75-a2b6-2355d99b4376 ro"));
  EXPECT_EQ(facts_of(rhel).linux_boot.kernel_version, "5.14.0-503.11.1.el9_5.x86_64");
  EXPECT_EQ(facts_of(gce).linux_boot.kernel_version, "5.11.0-1008-gcp");
}

TEST(FactsVectors, SystemdBootCommandLineAndKernelMeasuredInitrd) {
  TL_REQUIRE_VECTOR(sd, "eventlogs/event-sd-boot-fedora37.bin");
  const BootFacts f = facts_of(sd);
  EXPECT_EQ(f.linux_boot.loader, "systemd-boot");
  // PCR 12 EV_IPL, UTF-16LE, as tpm2_eventlog shows it (leading and trailing space kept).
  EXPECT_EQ(f.linux_boot.kernel_cmdline, " console=ttyS0 console=tty0 efi=debug ");
  EXPECT_TRUE(f.linux_boot.initrd_measured_by_kernel);  // PCR 9 EV_EVENT_TAG "Linux initrd"
  EXPECT_EQ(f.linux_boot.kernel_version, std::nullopt);
  EXPECT_THAT(f.problems, IsEmpty());
}

TEST(FactsVectors, DevicePathsOfOtherFirmware) {
  TL_REQUIRE_VECTOR(gce, "eventlogs/event-gce-ubuntu-2104-log.bin");
  const BootFacts f = facts_of(gce);
  ASSERT_FALSE(f.boot_applications.empty());
  EXPECT_EQ(f.boot_applications[0].device_path,
            "PciRoot(0x0)/Pci(0x3,0x0)/Scsi(0x1,0x0)/"
            "HD(15,GPT,6ea6f740-25ef-4269-838d-1a6f21ebf27f,0x2800,0x35000)/\\EFI\\ubuntu\\shimx64.efi");
}

// Which real logs raise problems, and why (docs/eventlog-facts.md explains each).
class CleanVector : public ::testing::TestWithParam<std::string> {};

TEST_P(CleanVector, RaisesNoProblem) {
  TL_REQUIRE_VECTOR(path, GetParam());
  const BootFacts f = facts_of(path);
  for (const auto& p : f.problems) ADD_FAILURE() << "event " << p.event << ": " << p.message;
}

INSTANTIATE_TEST_SUITE_P(
    Vectors, CleanVector,
    ::testing::Values("eventlogs/event-uefi-sha1-log.bin", "eventlogs/event-bootorder.bin",
                      "eventlogs/event-sd-boot-fedora37.bin", "eventlogs/event-moklisttrusted.bin",
                      "eventlogs/event-arch-linux.bin", "eventlogs/event-gce-ubuntu-2104-log.bin",
                      "eventlogs/keylime-sb-enabled.bin", "eventlogs/keylime-sb-disabled.bin",
                      "ovmf-secureboot/eventlog_sb_debian_chain.bin",
                      "ovmf-secureboot/eventlog_unprovisioned_swtpm_4banks.bin"));

TEST(FactsVectors, OldShimAuthorityEventsInPostcodeLogAreFlagged) {
  // Events 40 and 54 (shim's "Shim" vendor certificate): the event carries 1126
  // bytes, the digest covers the first 1125 (checked with Python's hashlib), and
  // 6 bytes follow VariableData. Old shim mis-sized the structure.
  TL_REQUIRE_VECTOR(path, "eventlogs/event-postcode.bin");
  const BootFacts f = facts_of(path);
  std::vector<uint32_t> events;
  for (const auto& p : f.problems) {
    events.push_back(p.event);
    EXPECT_EQ(p.pcr, 7u);
  }
  EXPECT_THAT(events, ElementsAre(40, 40, 40, 54, 54, 54));
  EXPECT_THAT(f.problems[0].message, HasSubstr("sha1 digest 185db6197a44b1f2e728982752efbd86ee6cb5df is not the hash"));
  EXPECT_EQ(f.problems[0].offset, 0x5cd3u);
  EXPECT_THAT(f.problems[2].message, HasSubstr("6 bytes after VariableData of Shim"));
}

}  // namespace
}  // namespace tl::eventlog
