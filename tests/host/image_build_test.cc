// `tlaunch image build` for real: Debian's packages (downloaded once into the
// build tree's image-cache/), twice into two directories → byte-identical
// disk.raw; the ESP read back with mcopy holds the five boot files with the
// manifest's hashes; the initramfs holds /init, the agent, its libraries and
// the modules; --kernel unsigned removes the kernel's signature. One ctest
// test: the cases share the builds, and leave the images in image-test/ for
// image_boot_test.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "host/image_cpio.h"
#include "host/image_files.h"
#include "host/image_manifest.h"
#include "host/process.h"
#include "support/cli_runner.h"
#include "support/test_support.h"

namespace tl::host {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

const fs::path kCache = TL_IMAGE_CACHE_DIR;
const fs::path kImages = TL_IMAGE_TEST_DIR;

struct Built {
  test::TlaunchRun run;
  ImageManifest manifest;
};

// Builds into `out` (replacing what is there) and reads the manifest back strictly.
Built build(const fs::path& out, const std::string& extra) {
  Built b;
  b.run = test::run_tlaunch("image build --force --json --out " + test::shell_quote(out.string()) + " " + extra);
  EXPECT_EQ(b.run.exit_code, 0) << b.run.err;
  if (b.run.exit_code != 0) return b;
  auto m = manifest_from_json(test::read_text(out / "manifest.json"));
  EXPECT_TRUE(m.ok()) << (m.ok() ? "" : m.error().message);
  if (m.ok()) b.manifest = *m;
  EXPECT_EQ(b.run.out, test::read_text(out / "manifest.json")) << "--json prints the manifest";
  return b;
}

class ImageBuild : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    fs::create_directories(kImages);
    signed_ = new Built(build(kImages / "signed", "--cache " + test::shell_quote(kCache.string())));
    unsigned_ = new Built(build(kImages / "unsigned", "--kernel unsigned --cache " + test::shell_quote(kCache.string())));
  }
  static void TearDownTestSuite() {
    delete signed_;
    delete unsigned_;
  }
  static Built* signed_;
  static Built* unsigned_;
};
Built* ImageBuild::signed_ = nullptr;
Built* ImageBuild::unsigned_ = nullptr;

std::string mcopy_out(const fs::path& disk, const std::string& esp_path, const fs::path& to) {
  auto r = run_checked({"mcopy", "-n", "-i", disk.string(), "::" + esp_path, to.string()}, 60s);
  EXPECT_TRUE(r.ok()) << (r.ok() ? "" : r.error().message);
  auto sha = sha256_file(to);
  return sha.ok() ? *sha : "";
}

TEST_F(ImageBuild, ProgressLinesAndManifestContents) {
  ASSERT_EQ(signed_->run.exit_code, 0);
  const ImageManifest& m = signed_->manifest;
  EXPECT_NE(signed_->run.err.find("tlaunch image build: building the initramfs"), std::string::npos) << signed_->run.err;
  EXPECT_NE(signed_->run.err.find("tlaunch image build: extracting linux-image-"), std::string::npos);
  EXPECT_NE(signed_->run.err.find("tlaunch image build: writing the ESP image"), std::string::npos);
  EXPECT_TRUE(m.kernel_signed);
  EXPECT_EQ(m.kernel_version.rfind("6.", 0), 0u) << m.kernel_version;
  ASSERT_EQ(m.packages.size(), 4u);
  EXPECT_EQ(m.packages[0].name, "shim-signed");
  EXPECT_EQ(m.packages[1].name, "grub-efi-amd64-signed");
  EXPECT_EQ(m.packages[2].name, "linux-image-" + m.kernel_version);
  EXPECT_EQ(m.packages[3].name, "busybox-static");
  for (const ManifestPackage& p : m.packages) EXPECT_FALSE(p.version.empty());
  auto disk_sha = sha256_file(kImages / "signed/disk.raw");
  ASSERT_TRUE(disk_sha.ok());
  EXPECT_EQ(m.disk.sha256, *disk_sha);
  // 64 MiB for a release agent; more only when the files need it (debug / sanitizer agents).
  EXPECT_GE(m.disk.size, 64u << 20);
  EXPECT_EQ(m.disk.size % (1u << 20), 0u);
  auto agent_sha = sha256_file(test::build_dir() / "tlaunch-agent");
  ASSERT_TRUE(agent_sha.ok());
  EXPECT_EQ(m.agent.sha256, *agent_sha);
}

TEST_F(ImageBuild, TheEspHoldsTheFiveBootFilesWithTheManifestHashes) {
  ASSERT_EQ(signed_->run.exit_code, 0);
  const ImageManifest& m = signed_->manifest;
  std::vector<std::string> paths;
  for (const ManifestFile& f : m.esp) paths.push_back(f.path);
  EXPECT_EQ(paths, (std::vector<std::string>{"/EFI/BOOT/BOOTX64.EFI", "/EFI/BOOT/grubx64.efi", "/EFI/BOOT/grub.cfg",
                                             "/vmlinuz", "/initrd.img"}));
  test::TempDir tmp;
  for (const ManifestFile& f : m.esp) {
    const fs::path out = tmp.path() / fs::path(f.path).filename();
    EXPECT_EQ(mcopy_out(kImages / "signed/disk.raw", f.path, out), f.sha256) << f.path;
    EXPECT_EQ(fs::file_size(out), f.size) << f.path;
  }
  const std::string cfg = test::read_text(tmp.path() / "grub.cfg");
  EXPECT_NE(cfg.find("\nchainloader /vmlinuz "), std::string::npos) << cfg;
  // shim and grub are Debian's signed binaries as shipped, signed for Microsoft's UEFI CA chain.
  auto shim = run({"sbverify", "--list", (tmp.path() / "BOOTX64.EFI").string()}, 60s);
  ASSERT_TRUE(shim.ok());
  EXPECT_NE(shim->output.find("signature 1"), std::string::npos) << shim->output;
  auto kernel = run({"sbverify", "--list", (tmp.path() / "vmlinuz").string()}, 60s);
  ASSERT_TRUE(kernel.ok());
  EXPECT_NE(kernel->output.find("Debian Secure Boot CA"), std::string::npos) << kernel->output;
}

TEST_F(ImageBuild, TheInitramfsHoldsInitAgentLibrariesAndModules) {
  ASSERT_EQ(signed_->run.exit_code, 0);
  test::TempDir tmp;
  mcopy_out(kImages / "signed/disk.raw", "/initrd.img", tmp.path() / "initrd.img.gz");
  auto gunzip = run_checked({"gzip", "-d", (tmp.path() / "initrd.img.gz").string()}, 60s);
  ASSERT_TRUE(gunzip.ok()) << gunzip.error().message;
  auto bytes = read_whole_file(tmp.path() / "initrd.img");
  ASSERT_TRUE(bytes.ok());
  auto entries = read_cpio(*bytes);
  ASSERT_TRUE(entries.ok()) << entries.error().message;
  std::map<std::string, const CpioEntry*> by_path;
  for (const CpioEntry& e : *entries) by_path[e.path] = &e;
  for (const char* p : {"init", "bin/busybox", "bin/sh", "bin/acpid", "bin/tlaunch-agent", "etc/os-release",
                        "etc/acpi/PWRF/00000080", "lib/modules/load-order", "lib64/ld-linux-x86-64.so.2",
                        "lib/x86_64-linux-gnu/libtss2-tcti-device.so.0", "lib/x86_64-linux-gnu/libtss2-esys.so.0",
                        "lib/x86_64-linux-gnu/libc.so.6"}) {
    EXPECT_TRUE(by_path.count(p)) << p << " missing from the initramfs";
  }
  ASSERT_TRUE(by_path.count("lib/modules/load-order"));
  const auto& lo = by_path["lib/modules/load-order"]->data;
  const std::string order(lo.begin(), lo.end());
  for (const char* mod : {"efivarfs", "virtio_pci", "virtio_pci_modern_dev", "virtio_pci_legacy_dev", "virtio",
                          "virtio_ring", "virtio_net", "net_failover", "failover", "qemu_fw_cfg", "virtio_blk", "button",
                          "evdev"}) {
    EXPECT_NE(order.find(std::string(mod) + "\n"), std::string::npos) << mod << " not in load-order:\n" << order;
    EXPECT_TRUE(by_path.count("lib/modules/" + std::string(mod) + ".ko")) << mod;
  }
  // Dependencies first.
  EXPECT_LT(order.find("\nfailover\n"), order.find("\nnet_failover\n"));
  EXPECT_LT(order.find("net_failover\n"), order.find("virtio_net\n"));
  EXPECT_LT(order.find("virtio_ring\n"), order.find("virtio_pci\n"));
  auto agent = read_whole_file(test::build_dir() / "tlaunch-agent");
  ASSERT_TRUE(agent.ok());
  EXPECT_EQ(by_path["bin/tlaunch-agent"]->data, *agent);
  EXPECT_EQ(by_path["bin/tlaunch-agent"]->mode, 0755u);
}

TEST_F(ImageBuild, SameInputsGiveAByteIdenticalDiskAlsoOfflineFromDebs) {
  ASSERT_EQ(signed_->run.exit_code, 0);
  test::TempDir tmp;
  // The second build takes the same .debs offline (--debs): the download path
  // and the offline path must agree too.
  Built again = build(tmp.path() / "again", "--debs " + test::shell_quote(kCache.string()));
  ASSERT_EQ(again.run.exit_code, 0);
  EXPECT_EQ(again.manifest.disk.sha256, signed_->manifest.disk.sha256);
  EXPECT_EQ(test::read_file(tmp.path() / "again/disk.raw"), test::read_file(kImages / "signed/disk.raw"));
  EXPECT_EQ(test::read_text(tmp.path() / "again/manifest.json"), test::read_text(kImages / "signed/manifest.json"));
}

TEST_F(ImageBuild, UnsignedKernelHasNoSignatureAndEverythingElseIsTheSame) {
  ASSERT_EQ(unsigned_->run.exit_code, 0);
  ASSERT_EQ(signed_->run.exit_code, 0);
  const ImageManifest& u = unsigned_->manifest;
  EXPECT_FALSE(u.kernel_signed);
  test::TempDir tmp;
  mcopy_out(kImages / "unsigned/disk.raw", "/vmlinuz", tmp.path() / "vmlinuz");
  auto list = run({"sbverify", "--list", (tmp.path() / "vmlinuz").string()}, 60s);
  ASSERT_TRUE(list.ok());
  EXPECT_NE(list->output.find("No signature table present"), std::string::npos) << list->output;
  ASSERT_EQ(u.esp.size(), signed_->manifest.esp.size());
  for (size_t i = 0; i < u.esp.size(); ++i) {
    if (u.esp[i].path == "/vmlinuz") {
      EXPECT_NE(u.esp[i].sha256, signed_->manifest.esp[i].sha256);
    } else {
      EXPECT_EQ(u.esp[i].sha256, signed_->manifest.esp[i].sha256) << u.esp[i].path;
    }
  }
}

TEST_F(ImageBuild, AnExistingOutDirNeedsForce) {
  ASSERT_EQ(signed_->run.exit_code, 0);
  auto r = test::run_tlaunch("image build --out " + test::shell_quote((kImages / "signed").string()) + " --debs " +
                             test::shell_quote(kCache.string()));
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("exists and is not empty (use --force"), std::string::npos) << r.err;
  EXPECT_TRUE(fs::exists(kImages / "signed/manifest.json")) << "the refused build must not touch the image";
}

}  // namespace
}  // namespace tl::host
