// The kernel module report's parsers on the kernel's real message texts (as
// kernel/module/main.c, kernel/module/signing.c, security/lockdown/lockdown.c
// and certs/ print them, and as /dev/kmsg, dmesg, journalctl and syslog frame
// them), on IMA measurement lines, and on hostile input; then the collector on
// files. Also uname's release.
#include "agent/kernel_modules.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <random>
#include <string>
#include <vector>

#include "agent/kernel_release.h"
#include "support/test_support.h"

namespace tl::agent {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using Names = std::vector<std::string>;

const std::string kUnsignedMsg = "module verification failed: signature and/or required key missing - tainting kernel";

KernelLogFindings scan(const std::string& text) { return scan_kernel_log(text); }

TEST(KernelLog, KmsgRecordNamesTheUnsignedModule) {
  // pr_notice (level 5, facility 0); the record's dictionary lines follow.
  auto f = scan("5,1234,21254560,-;nvidia: " + kUnsignedMsg + "\n SUBSYSTEM=module\n DEVICE=+module:nvidia\n");
  EXPECT_EQ(f.unsigned_modules, Names{"nvidia"});
  EXPECT_TRUE(f.rejected_modules.empty());
  EXPECT_EQ(f.key_problems, 0u);
}

TEST(KernelLog, KernelRefusalsHaveNoNameAndAreReportedAsUnnamed) {
  // CONFIG_PRINTK_CALLER adds ",caller=T450" to the header.
  for (const std::string line : {
           "5,810,8412091,-,caller=T450;Loading of unsigned module is rejected",
           "5,811,8412100,-;Loading of module with unavailable key is rejected",
           "5,812,8412104,-;Loading of module with unsupported crypto is rejected",
           "5,813,8412110,-;Lockdown: modprobe: unsigned module loading is restricted; see man kernel_lockdown.7",
           "[    8.4] Lockdown: unsigned module loading is restricted; see man kernel_lockdown.7",  // before 5.10
           "3,814,8412111,-;Module key 'Evil Corp: 1234abcd' is in blacklist",
       }) {
    auto f = scan(line);
    EXPECT_EQ(f.rejected_modules, Names{std::string(kUnnamedModule)}) << line;
    EXPECT_TRUE(f.unsigned_modules.empty()) << line;
  }
}

TEST(KernelLog, KeyProblemsAreCountedNotNamed) {
  auto f = scan(
      "4,700,5061525,-;Request for unknown module key 'CentOS Linux kernel signing key: e1fdb0e2a7e861a1d1ca80a23dcf0dba3aa4adf5' err -11\n"
      "3,701,3144058,-;PKCS#7 signature not signed with a trusted key\n");
  EXPECT_EQ(f.key_problems, 2u);
  EXPECT_TRUE(f.unsigned_modules.empty());
  EXPECT_TRUE(f.rejected_modules.empty());
}

TEST(KernelLog, StagingAndOtherTaintMessagesAreIgnored) {
  auto f = scan(
      "[    5.600621] r8723bs: module is from the staging directory, the quality is unknown, you have been warned.\n"
      "[   21.252559] nvidia: module license 'NVIDIA' taints kernel.\n"
      "[   21.252561] Disabling lock debugging due to kernel taint\n"
      "[  109.630804] igb_uio: loading out-of-tree module taints kernel.\n");
  EXPECT_TRUE(f.unsigned_modules.empty());
  EXPECT_TRUE(f.rejected_modules.empty());
  EXPECT_EQ(f.lines, 4u);
}

TEST(KernelLog, TextFramesOfDmesgJournalAndSyslog) {
  auto f = scan(
      "[   21.254560] nvidia: " + kUnsignedMsg + "\n" +
      // 3.x kernels: two spaces from string concatenation
      "[ 4303.266479] wl: module verification failed: signature and/or  required key missing - tainting kernel\n" +
      "[    2.137140][    T1] rpmsg_core: " + kUnsignedMsg + "\n" +
      "Nov 22 20:14:33 vm kernel: hello_unsigned: " + kUnsignedMsg + "\r\n" +
      "kernel: nvidia: " + kUnsignedMsg + "\n");  // repeated: listed once
  EXPECT_EQ(f.unsigned_modules, (Names{"nvidia", "wl", "rpmsg_core", "hello_unsigned"}));
}

TEST(KernelLog, UserspaceReportsOfARefusalNameTheModule) {
  auto f = scan(
      "Nov 22 20:14:35 vm systemd-modules-load[450]: Failed to insert module 'nvidia': Key was rejected by service\n"
      "modprobe: ERROR: could not insert 'nvidia-drm': Key was rejected by service\n"
      "insmod: ERROR: could not insert module /root/evil-mod.ko: Key was rejected by service\n"
      "insmod: ERROR: could not insert module /root/evil-mod.ko: Unknown symbol in module\n");
  // In the kernel's spelling ('-' is '_' in module names).
  EXPECT_EQ(f.rejected_modules, (Names{"nvidia", "nvidia_drm", "evil_mod"}));
}

TEST(KernelLog, UserspaceCannotForgeKernelMessagesThroughKmsg) {
  // Writes to /dev/kmsg never get facility 0: 13 is user.notice.
  auto f = scan("13,900,1000,-;evil: " + kUnsignedMsg + "\n12,901,1001,-;Loading of unsigned module is rejected\n");
  EXPECT_TRUE(f.unsigned_modules.empty());
  EXPECT_TRUE(f.rejected_modules.empty());
  // Facility 0 at any level is the kernel's.
  f = scan("6,902,1002,-;good_name: " + kUnsignedMsg);
  EXPECT_EQ(f.unsigned_modules, Names{"good_name"});
}

TEST(KernelLog, HostileRecords) {
  // Truncated records and wrong field counts: never a crash; a line whose
  // kmsg header is broken is read as text.
  for (const std::string line : {"5", "5,", "5,12,", "5,12,34", "5,12,34,", "5,12,34,-", ";", ",,,;", "5,12;x",
                                 "5,12,34,-;", "99999999999999999999999,1,1,-;x", "\x01\x02\x03", " SUBSYSTEM=x"}) {
    auto f = scan(line);
    EXPECT_TRUE(f.unsigned_modules.empty()) << line;
    EXPECT_TRUE(f.rejected_modules.empty()) << line;
  }
  EXPECT_EQ(scan("5,abc,34,-;nvidia: " + kUnsignedMsg).unsigned_modules, Names{"nvidia"});  // as text
  // The message without a name, a name too long for a module, a name glued to
  // other text: the failure is still reported, without a made-up name.
  EXPECT_EQ(scan(": " + kUnsignedMsg).unsigned_modules, Names{std::string(kUnnamedModule)});
  EXPECT_EQ(scan(std::string(70, 'a') + ": " + kUnsignedMsg).unsigned_modules, Names{std::string(kUnnamedModule)});
  EXPECT_EQ(scan("x/y: " + kUnsignedMsg).unsigned_modules, Names{std::string(kUnnamedModule)});
  EXPECT_EQ(scan("modprobe: ERROR: could not insert 'a b': Key was rejected by service").rejected_modules,
            Names{std::string(kUnnamedModule)});
  EXPECT_TRUE(scan("could not insert 'nvidia: Key was rejected by service").rejected_modules.empty());  // no closing quote
  // A huge line is skipped, not scanned.
  KernelLogFindings f;
  scan_kernel_log_line(std::string(100'000, 'x') + " nvidia: " + kUnsignedMsg, f);
  EXPECT_EQ(f.skipped, 1u);
  EXPECT_TRUE(f.unsigned_modules.empty());
  // Binary garbage around a real record does not hide it.
  std::mt19937 rng(4);
  std::string garbage;
  for (int i = 0; i < 20000; ++i) garbage += static_cast<char>(rng() & 0xff);
  f = scan(garbage + "\n5,1,1,-;vboxdrv: " + kUnsignedMsg + "\n" + garbage);
  EXPECT_THAT(f.unsigned_modules, ::testing::Contains("vboxdrv"));
}

TEST(KernelLog, RealSecureBootGuestLogHasNothingToReport) {
  // A Debian 6.1 guest under Secure Boot: lockdown notices about other things
  // ("Lockdown: swapper/0: hibernation is restricted") and only signed modules.
  TL_REQUIRE_VECTOR(path, "ovmf-secureboot/console_sb_debian_chain.log");
  const std::string text = test::read_text(path);
  ASSERT_NE(text.find("Lockdown: swapper/0: hibernation is restricted"), std::string::npos);
  const KernelLogFindings f = scan(text);
  EXPECT_GT(f.lines, 50u);
  EXPECT_TRUE(f.unsigned_modules.empty());
  EXPECT_TRUE(f.rejected_modules.empty());
  EXPECT_EQ(f.key_problems, 0u);
  // The same log with one module loaded unsigned and one refused under lockdown.
  const KernelLogFindings g = scan(text + "DMESG: [   40.000001] hello_unsigned: " + kUnsignedMsg + "\n" +
                                   "DMESG: [   41.000001] Lockdown: insmod: unsigned module loading is restricted; "
                                   "see man kernel_lockdown.7\n");
  EXPECT_EQ(g.unsigned_modules, Names{"hello_unsigned"});
  EXPECT_EQ(g.rejected_modules, Names{std::string(kUnnamedModule)});
}

TEST(Taint, ParsesTheProcFile) {
  auto t = parse_taint("12288\n");
  ASSERT_TRUE(t.ok()) << t.error().message;
  EXPECT_EQ(*t, 12288u);
  EXPECT_EQ(taint_letters(*t), "OE");
  EXPECT_EQ(taint_letters(1 | 4096 | 8192 | 2), "POE");
  EXPECT_EQ(taint_letters(0), "");
  EXPECT_EQ(*parse_taint("0"), 0u);
  EXPECT_EQ(*parse_taint("18446744073709551615\n"), UINT64_MAX);
}

TEST(Taint, RefusesWhatIsNotOneNumber) {
  EXPECT_THAT(parse_taint("").error().message, HasSubstr("empty"));
  EXPECT_THAT(parse_taint("\n").error().message, HasSubstr("empty"));
  EXPECT_THAT(parse_taint("12a\n").error().message, HasSubstr("byte 2 is not a decimal digit"));
  EXPECT_THAT(parse_taint("-1").error().message, HasSubstr("byte 0"));
  EXPECT_THAT(parse_taint("1 2").error().message, HasSubstr("byte 1"));
  EXPECT_THAT(parse_taint("18446744073709551616").error().message, HasSubstr("larger than a 64-bit number"));
  EXPECT_THAT(parse_taint(std::string(30, '1')).error().message, HasSubstr("longer than"));
  EXPECT_EQ(parse_taint("x").error().reason, "taint-malformed");
}

const std::string kTh = "91f34b5c671d73504b274a919661cf80dab1e127";
const std::string kFh = "sha256:6e2b1f7a3c4d5e6f708192a3b4c5d6e7f8091a2b3c4d5e6f708192a3b4c5d6e7";

ImaFindings ima(const std::string& text) { return scan_ima_log(text); }

TEST(Ima, SignedAndUnsignedModules) {
  auto f = ima("10 " + kTh + " ima-ng " + kFh + " boot_aggregate\n" +
               "10 " + kTh + " ima-ng " + kFh + " /usr/lib/modules/6.1.0-28-amd64/kernel/fs/fat/vfat.ko.xz\n" +
               "10 " + kTh + " ima-sig " + kFh + " /lib/modules/6.1.0-28-amd64/kernel/drivers/net/e1000.ko 030204a1b2c3d4\n" +
               "10 " + kTh + " ima-sig " + kFh + " /lib/modules/6.1.0-28-amd64/extra/hello-unsigned.ko \n" +
               "10 " + kTh + " ima-sig " + kFh + " /lib/modules/6.1.0-28-amd64/extra/other.ko.zst\n" +
               "10 " + kTh + " ima-sig " + kFh + " /usr/bin/bash \n");
  EXPECT_EQ(f.module_entries, 4u);
  EXPECT_EQ(f.unsigned_modules, (Names{"hello_unsigned", "other"}));
  EXPECT_EQ(f.malformed, 0u);
}

TEST(Ima, FileNamesWithSpacesAndModsig) {
  auto f = ima("10 " + kTh + " ima-sig " + kFh + " /tmp/my mods/a.ko b/evil.ko.gz \n" +
               // ima-modsig: sig, d-modsig, modsig; the appended signature counts
               "10 " + kTh + " ima-modsig " + kFh + " /x/signed.ko  sha256:abcd 3082aa\n" +
               "10 " + kTh + " ima-modsig " + kFh + " /x/none.ko   \n");
  EXPECT_EQ(f.module_entries, 3u);
  EXPECT_EQ(f.unsigned_modules, (Names{"evil", "none"}));
}

TEST(Ima, ViolationsAndMalformedLines) {
  auto f = ima("10 0000000000000000000000000000000000000000 ima-sig sha256:00 /lib/modules/x.ko \n"
               "garbage\n10 abc\n10 zz ima-sig sha256:00 /a.ko \nx " + kTh + " ima-ng " + kFh + " /a.ko\n" +
               "10  ima-ng " + kFh + " /a.ko\n\n" + std::string("\x00\xff\n", 3));
  EXPECT_EQ(f.module_entries, 0u);
  EXPECT_TRUE(f.unsigned_modules.empty());
  EXPECT_EQ(f.malformed, 6u);
  // A line too long for a measurement is malformed, not scanned.
  f = ima("10 " + kTh + " ima-sig " + kFh + " /" + std::string(20000, 'd') + "/x.ko \n");
  EXPECT_EQ(f.malformed, 1u);
  EXPECT_TRUE(f.unsigned_modules.empty());
}

TEST(ModuleName, FromPath) {
  EXPECT_EQ(module_name_from_path("/lib/modules/6.1/extra/hello-world.ko.xz"), "hello_world");
  EXPECT_EQ(module_name_from_path("vfat.ko"), "vfat");
  EXPECT_EQ(module_name_from_path("/a/b.ko.zst"), "b");
  EXPECT_EQ(module_name_from_path("/a/.ko"), "");
  EXPECT_EQ(module_name_from_path("/a/b.so"), "");
  EXPECT_EQ(module_name_from_path("/a/b c.ko"), "");
  EXPECT_EQ(module_name_from_path("/a/" + std::string(65, 'm') + ".ko"), "");
  EXPECT_TRUE(valid_module_name("a.b-c_D9"));
  EXPECT_FALSE(valid_module_name(""));
  EXPECT_FALSE(valid_module_name("a/b"));
  EXPECT_TRUE(valid_module_name(kUnnamedModule));
}

class Collect : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("tl-kmod-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
    src_.kernel_log = dir_ / "kmsg.txt";
    src_.taint = dir_ / "tainted";
    src_.ima_log = dir_ / "ima.txt";
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  void write(const std::filesystem::path& p, const std::string& text) {
    std::ofstream(p, std::ios::binary) << text;
  }
  std::filesystem::path dir_;
  KernelModuleSources src_;
};

TEST_F(Collect, MissingSourcesAreNotAvailableNotErrors) {
  const KernelModuleFindings f = collect_kernel_modules(src_);
  EXPECT_EQ(f.taint, 0u);
  EXPECT_TRUE(f.unsigned_modules.empty());
  EXPECT_TRUE(f.rejected_modules.empty());
  EXPECT_TRUE(f.ima_failures.empty());
  EXPECT_TRUE(f.problems.empty());
}

TEST_F(Collect, AllThreeSources) {
  write(src_.taint, "12288\n");
  write(src_.kernel_log, "[   21.25] hello_unsigned: " + kUnsignedMsg + "\n" +
                             "modprobe: ERROR: could not insert 'evil': Key was rejected by service\n" +
                             "[   30.00] Loading of unsigned module is rejected\n");
  write(src_.ima_log, "10 " + kTh + " ima-sig " + kFh + " /lib/modules/6.1/extra/nosig.ko \n");
  const KernelModuleFindings f = collect_kernel_modules(src_);
  EXPECT_EQ(f.taint, 12288u);
  EXPECT_EQ(f.unsigned_modules, Names{"hello_unsigned"});
  // The nameless kernel refusal says nothing the named one does not.
  EXPECT_EQ(f.rejected_modules, Names{"evil"});
  EXPECT_EQ(f.ima_failures, Names{"nosig"});
  EXPECT_TRUE(f.problems.empty()) << f.problems[0];
}

TEST_F(Collect, TaintWithoutANameInTheLogIsStillReported) {
  write(src_.taint, "8192\n");
  write(src_.kernel_log, "[    1.0] Linux version 6.1.0\n");
  EXPECT_EQ(collect_kernel_modules(src_).unsigned_modules, Names{std::string(kUnnamedModule)});
  write(src_.taint, "4096\n");  // O alone: reported in taint, no module list entry
  EXPECT_TRUE(collect_kernel_modules(src_).unsigned_modules.empty());
}

TEST_F(Collect, GarbledSourcesAreProblemsNamingTheFile) {
  write(src_.taint, "twelve\n");
  std::filesystem::create_directories(src_.ima_log);  // a directory is not a list
  write(src_.kernel_log, std::string(20000, 'x') + "\n5,1,1,-;vboxdrv: " + kUnsignedMsg + "\n");
  const KernelModuleFindings f = collect_kernel_modules(src_);
  ASSERT_EQ(f.problems.size(), 3u);
  EXPECT_THAT(f.problems[0], HasSubstr(src_.taint.string() + ": byte 0 is not a decimal digit"));
  EXPECT_THAT(f.problems[1], HasSubstr(src_.kernel_log.string() + ": 1 of 2 lines were longer than"));
  EXPECT_THAT(f.problems[2], HasSubstr(src_.ima_log.string() + ": not a regular file or character device"));
  // What could be read still counts.
  EXPECT_EQ(f.unsigned_modules, Names{"vboxdrv"});
  EXPECT_EQ(f.taint, 0u);
}

TEST_F(Collect, ImaLinesThatAreNotMeasurementsAreReported) {
  write(src_.ima_log, "not a measurement\n");
  const KernelModuleFindings f = collect_kernel_modules(src_);
  ASSERT_EQ(f.problems.size(), 1u);
  EXPECT_THAT(f.problems[0], HasSubstr(src_.ima_log.string() + ": 1 lines are not IMA measurements"));
}

TEST_F(Collect, CharacterDevicesAreReadWithoutBlockingAndBounded) {
  // /dev/null: a device that is empty at once (as a drained /dev/kmsg).
  src_.kernel_log = "/dev/null";
  EXPECT_TRUE(collect_kernel_modules(src_).problems.empty());
  // /dev/zero never runs dry: reading stops at the bound and says so.
  src_.kernel_log = "/dev/zero";
  const KernelModuleFindings f = collect_kernel_modules(src_);
  ASSERT_EQ(f.problems.size(), 1u);
  EXPECT_THAT(f.problems[0], HasSubstr("/dev/zero: stopped after 67108864 bytes"));
}

TEST_F(Collect, ListsAreCappedAtTheEvidenceLimit) {
  std::string log;
  for (int i = 0; i < 300; ++i) log += "modprobe: ERROR: could not insert 'm" + std::to_string(i) + "': Key was rejected by service\n";
  write(src_.kernel_log, log);
  const KernelModuleFindings f = collect_kernel_modules(src_);
  EXPECT_EQ(f.rejected_modules.size(), 256u);
  ASSERT_EQ(f.problems.size(), 1u);
  EXPECT_THAT(f.problems[0], HasSubstr("rejected: 300 modules, only the first 256 are reported"));
}

TEST(KernelRelease, IsUnamesRelease) {
  struct utsname u {};
  ASSERT_EQ(::uname(&u), 0);
  auto r = kernel_release();
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(*r, std::string(u.release));
}

TEST(KernelRelease, RefusesWhatTheEvidenceFormatWould) {
  EXPECT_TRUE(checked_kernel_release("6.1.0-28-amd64").ok());
  EXPECT_THAT(checked_kernel_release("").error().message, HasSubstr("empty"));
  EXPECT_THAT(checked_kernel_release("6.1\n").error().message, HasSubstr("byte 3 is not printable"));
  EXPECT_THAT(checked_kernel_release(std::string(257, 'r')).error().message, HasSubstr("longer than 256"));
  EXPECT_EQ(checked_kernel_release("").error().reason, "kernel-release");
}

}  // namespace
}  // namespace tl::agent
