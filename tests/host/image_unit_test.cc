// Unit tests of the guest image builder's pieces: the cpio writer and reader,
// module dependency resolution (.modinfo ELF reader), the manifest, grub.cfg,
// and the parsers of apt / ldd output. The real build and boot are in
// image_build_test.cc and image_boot_test.cc.
#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>
#include <functional>
#include <map>
#include <nlohmann/json.hpp>
#include <set>

#include "host/image_cpio.h"
#include "host/image_debs.h"
#include "host/image_guest.h"
#include "host/image_initrd.h"
#include "host/image_manifest.h"
#include "host/image_modules.h"
#include "host/process.h"
#include "support/cli_runner.h"
#include "support/test_support.h"

namespace tl::host {
namespace {

using namespace std::chrono_literals;

CpioEntry file(std::string path, std::string data, uint32_t mode = 0644) {
  CpioEntry e;
  e.path = std::move(path);
  e.type = CpioType::file;
  e.mode = mode;
  e.data.assign(data.begin(), data.end());
  return e;
}

// ---- cpio ----

TEST(ImageCpio, RoundTripsSortedWithParentsAndFixedFields) {
  CpioEntry link;
  link.path = "bin/sh";
  link.type = CpioType::symlink;
  link.mode = 0777;
  link.data = {'b', 'u', 's', 'y', 'b', 'o', 'x'};
  auto a = write_cpio({file("init", "#!/bin/sh\n", 0755), link, file("bin/busybox", "BB", 0755),
                       file("lib/modules/x.ko", std::string(5, 'k'))},
                      1234);
  ASSERT_TRUE(a.ok()) << a.error().message;
  EXPECT_EQ(a->size() % 4, 0u);
  auto back = read_cpio(*a);
  ASSERT_TRUE(back.ok()) << back.error().message;
  std::vector<std::string> paths;
  for (const CpioEntry& e : *back) paths.push_back(e.path);
  EXPECT_EQ(paths, (std::vector<std::string>{"bin", "bin/busybox", "bin/sh", "init", "lib", "lib/modules",
                                             "lib/modules/x.ko"}));
  EXPECT_EQ((*back)[0].type, CpioType::directory);
  EXPECT_EQ((*back)[0].mode, 0755u);
  EXPECT_EQ((*back)[2].type, CpioType::symlink);
  EXPECT_EQ(std::string((*back)[2].data.begin(), (*back)[2].data.end()), "busybox");
  EXPECT_EQ((*back)[3].mode, 0755u);
  EXPECT_EQ((*back)[6].data.size(), 5u);
  // Header fields: inode 1 first, mtime as given, uid/gid 0.
  const std::string head(a->begin(), a->begin() + 110);
  EXPECT_EQ(head.substr(0, 6), "070701");
  EXPECT_EQ(head.substr(6, 8), "00000001");             // ino
  EXPECT_EQ(head.substr(22, 16), std::string(16, '0'));  // uid, gid
  EXPECT_EQ(head.substr(46, 8), "000004D2");             // mtime 1234
}

TEST(ImageCpio, SameEntriesInAnyOrderGiveTheSameBytes) {
  auto a = write_cpio({file("b", "2"), file("a/x", "1"), file("c", "3")}, 0);
  auto b = write_cpio({file("c", "3"), file("b", "2"), file("a/x", "1")}, 0);
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_EQ(*a, *b);
}

TEST(ImageCpio, GnuCpioListsAndExtractsTheArchive) {
  auto a = write_cpio({file("init", "hello\n", 0755), file("etc/os-release", "ID=debian\n")}, 0);
  ASSERT_TRUE(a.ok());
  test::TempDir dir;
  const auto archive = dir.file("a.cpio", *a);
  auto listed = run_checked({"sh", "-c", "cpio -it < " + test::shell_quote(archive.string())}, 30s);
  ASSERT_TRUE(listed.ok()) << listed.error().message;
  EXPECT_NE(listed->find("etc/os-release"), std::string::npos);
  EXPECT_NE(listed->find("init"), std::string::npos);
  const auto out = dir.path() / "x";
  std::filesystem::create_directory(out);
  auto x = run_checked({"sh", "-c", "cd " + test::shell_quote(out.string()) + " && cpio -idm < " +
                                        test::shell_quote(archive.string())},
                       30s);
  ASSERT_TRUE(x.ok()) << x.error().message;
  EXPECT_EQ(test::read_text(out / "init"), "hello\n");
  EXPECT_EQ(std::filesystem::status(out / "init").permissions() & std::filesystem::perms::owner_exec,
            std::filesystem::perms::owner_exec);
}

TEST(ImageCpio, RefusesHostileNames) {
  const std::vector<std::string> hostile = {"",   "/init", "..", "../etc/passwd", "a/../b", "a//b", "a/", "./a",
                                            std::string("a\0b", 3), std::string(kCpioMaxPath + 1, 'a'), "TRAILER!!!"};
  for (const std::string& bad : hostile) {
    auto a = write_cpio({file(bad, "x")}, 0);
    ASSERT_FALSE(a.ok()) << "accepted '" << bad << "'";
    EXPECT_EQ(a.error().reason, "cpio-bad-path") << bad;
  }
  EXPECT_TRUE(write_cpio({file(std::string(kCpioMaxPath, 'a'), "x")}, 0).ok());
}

TEST(ImageCpio, RefusesDuplicatesBadModesAndFilesAsParents) {
  EXPECT_FALSE(write_cpio({file("a", "1"), file("a", "2")}, 0).ok());
  EXPECT_FALSE(write_cpio({file("a", "1", 0170644)}, 0).ok());
  auto r = write_cpio({file("a", "1"), file("a/b", "2")}, 0);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("not a directory"), std::string::npos);
}

TEST(ImageCpio, ReaderRefusesTruncatedAndMalformedArchives) {
  auto a = write_cpio({file("init", "hello world")}, 0);
  ASSERT_TRUE(a.ok());
  for (size_t cut : {size_t{0}, size_t{50}, size_t{109}, size_t{115}, size_t{125}, a->size() - 1}) {
    Bytes t(a->begin(), a->begin() + static_cast<ptrdiff_t>(cut));
    EXPECT_FALSE(read_cpio(t).ok()) << "truncated at " << cut;
  }
  Bytes bad_magic = *a;
  bad_magic[5] = '2';  // 070702 (crc format)
  EXPECT_FALSE(read_cpio(bad_magic).ok());
  Bytes bad_hex = *a;
  bad_hex[10] = 'G';
  EXPECT_FALSE(read_cpio(bad_hex).ok());
  Bytes huge_size = *a;  // filesize field = FFFFFFFF
  for (int i = 0; i < 8; ++i) huge_size[6 + 6 * 8 + i] = 'F';
  auto r = read_cpio(huge_size);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().reason, "cpio-malformed");
  Bytes dotdot = *a;  // rename "init" to "../x" in place: same length
  const std::string name = "../x";
  std::copy(name.begin(), name.end(), dotdot.begin() + 110);
  EXPECT_FALSE(read_cpio(dotdot).ok());
}

// ---- kernel modules ----

// A minimal ELF64 LE relocatable: null section, .shstrtab, .modinfo.
Bytes fake_ko(const std::string& modinfo) {
  const std::string shstrtab = std::string("\0.shstrtab\0.modinfo\0", 20);
  Bytes elf(64, 0);
  elf[0] = 0x7f, elf[1] = 'E', elf[2] = 'L', elf[3] = 'F', elf[4] = 2, elf[5] = 1, elf[6] = 1;
  const size_t str_off = elf.size();
  elf.insert(elf.end(), shstrtab.begin(), shstrtab.end());
  const size_t info_off = elf.size();
  elf.insert(elf.end(), modinfo.begin(), modinfo.end());
  while (elf.size() % 8) elf.push_back(0);
  const size_t shoff = elf.size();
  auto put = [&](size_t off, uint64_t v, int n) {
    for (int i = 0; i < n; ++i) elf[off + i] = static_cast<uint8_t>(v >> (8 * i));
  };
  elf.resize(shoff + 3 * 64, 0);
  put(0x28, shoff, 8);
  put(0x3a, 64, 2);
  put(0x3c, 3, 2);
  put(0x3e, 1, 2);
  // section 1: .shstrtab (name 1, SHT_STRTAB)
  put(shoff + 64 + 0, 1, 4);
  put(shoff + 64 + 4, 3, 4);
  put(shoff + 64 + 0x18, str_off, 8);
  put(shoff + 64 + 0x20, shstrtab.size(), 8);
  // section 2: .modinfo (name 11, SHT_PROGBITS)
  put(shoff + 128 + 0, 11, 4);
  put(shoff + 128 + 4, 1, 4);
  put(shoff + 128 + 0x18, info_off, 8);
  put(shoff + 128 + 0x20, modinfo.size(), 8);
  return elf;
}

TEST(ImageModules, ReadsDependsFromModinfo) {
  const std::string info = std::string("license=GPL\0depends=virtio,virtio_ring,virtio-pci-legacy-dev\0name=virtio_pci\0", 78);
  auto d = module_depends(fake_ko(info));
  ASSERT_TRUE(d.ok()) << d.error().message;
  EXPECT_EQ(*d, (std::vector<std::string>{"virtio", "virtio_ring", "virtio_pci_legacy_dev"}));
  auto none = module_depends(fake_ko(std::string("depends=\0name=efivarfs\0", 23)));
  ASSERT_TRUE(none.ok());
  EXPECT_TRUE(none->empty());
}

TEST(ImageModules, RefusesMalformedElf) {
  Bytes ko = fake_ko(std::string("depends=a\0", 10));
  for (size_t cut : {size_t{0}, size_t{10}, size_t{63}, ko.size() - 1}) {
    Bytes t(ko.begin(), ko.begin() + static_cast<ptrdiff_t>(cut));
    auto r = module_depends(t);
    EXPECT_FALSE(r.ok()) << "cut at " << cut;
  }
  Bytes not_elf = ko;
  not_elf[1] = 'X';
  EXPECT_FALSE(module_depends(not_elf).ok());
  Bytes elf32 = ko;
  elf32[4] = 1;
  EXPECT_FALSE(module_depends(elf32).ok());
  Bytes far_section = ko;  // .modinfo offset far past the end
  const size_t shoff = ko.size() - 3 * 64;
  far_section[shoff + 128 + 0x18 + 5] = 0x7f;
  auto r = module_depends(far_section);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().reason, "module-malformed");
  Bytes many_sections = ko;  // shnum 0xffff: headers past the end
  many_sections[0x3c] = 0xff, many_sections[0x3d] = 0xff;
  EXPECT_FALSE(module_depends(many_sections).ok());
}

TEST(ImageModules, LoadOrderPutsDependenciesFirstOnceAndSkipsBuiltins) {
  const std::map<std::string, std::vector<std::string>> deps = {
      {"virtio_net", {"net_failover", "virtio", "virtio_ring"}},
      {"net_failover", {"failover"}},
      {"failover", {}},
      {"virtio", {}},
      {"virtio_ring", {}},
      {"virtio_pci", {"virtio_pci_modern_dev", "virtio", "virtio_ring", "virtio_pci_legacy_dev"}},
      {"virtio_pci_modern_dev", {}},
      {"virtio_pci_legacy_dev", {}},
      {"efivarfs", {"crc32"}},
  };
  std::set<std::string> available;
  for (const auto& [k, v] : deps) available.insert(k);
  auto order = module_load_order({"virtio_pci", "virtio-net", "efivarfs"}, available, {"crc32"},
                                 [&](const std::string& k) -> Result<std::vector<std::string>> { return deps.at(k); });
  ASSERT_TRUE(order.ok()) << order.error().message;
  EXPECT_EQ(*order, (std::vector<std::string>{"virtio_pci_modern_dev", "virtio", "virtio_ring", "virtio_pci_legacy_dev",
                                              "virtio_pci", "failover", "net_failover", "virtio_net", "efivarfs"}));
}

TEST(ImageModules, MissingModuleAndCyclesAreErrors) {
  auto missing = module_load_order({"a"}, {"a"}, {}, [](const std::string&) -> Result<std::vector<std::string>> {
    return std::vector<std::string>{"ghost"};
  });
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error().reason, "module-not-found");
  EXPECT_NE(missing.error().message.find("needed by a"), std::string::npos);
  auto cycle = module_load_order({"a"}, {"a", "b"}, {}, [](const std::string& k) -> Result<std::vector<std::string>> {
    return std::vector<std::string>{k == "a" ? "b" : "a"};
  });
  ASSERT_FALSE(cycle.ok());
  EXPECT_EQ(cycle.error().reason, "module-cycle");
  EXPECT_EQ(guest_modules().front(), "efivarfs");
}

// ---- grub.cfg, /init ----

TEST(ImageGuest, GrubCfgChainloadsTheKernelAndMarksAFailedBoot) {
  auto cfg = make_grub_cfg(GrubConfig{});
  ASSERT_TRUE(cfg.ok()) << cfg.error().message;
  EXPECT_NE(cfg->find("\nchainloader /vmlinuz console=ttyS0,115200 initrd=\\initrd.img panic=-1\n"), std::string::npos) << *cfg;
  EXPECT_EQ(cfg->find("\nlinux "), std::string::npos);
  const size_t boot = cfg->find("\nboot\n");
  const size_t marker = cfg->find(std::string(kBootFailedMarker));
  const size_t halt = cfg->find("\nhalt\n");
  ASSERT_NE(boot, std::string::npos);
  ASSERT_NE(marker, std::string::npos);
  ASSERT_NE(halt, std::string::npos);
  EXPECT_LT(boot, marker);
  EXPECT_LT(marker, halt);
  EXPECT_EQ(cfg->find('@'), std::string::npos) << "a template placeholder was left";
}

TEST(ImageGuest, GrubCfgRefusesScriptSyntaxInWords) {
  for (const char* bad : {"a;halt", "x y", "$root", "a\nb", "\"q\"", "", "{x}"}) {
    GrubConfig c;
    c.cmdline.push_back(bad);
    auto r = make_grub_cfg(c);
    ASSERT_FALSE(r.ok()) << bad;
    EXPECT_EQ(r.error().reason, "grub-bad-word");
  }
  GrubConfig rel;
  rel.kernel = "vmlinuz";
  EXPECT_FALSE(make_grub_cfg(rel).ok());
}

TEST(ImageGuest, InitPrintsTheContractMarkersAndReadsAgentConf) {
  const std::string init(init_script());
  EXPECT_EQ(init.rfind("#!/bin/sh\n", 0), 0u);
  for (const char* s : {"/sys/firmware/qemu_fw_cfg/by_name/opt/org.trustlaunch/agent.conf/raw", "endpoint=*",
                        "attest_interval=*", "release_key=*", "\"ready kernel=$(uname -r) secureboot=$sb\"",
                        "\"no-tpm\"", "\"no-config\"", "\"attest-ok\"", "\"attest-failed: ", "\"key-released $name bytes=",
                        "\"key-release-failed $k: ", "10.0.2.15/24", "via 10.0.2.2", "acpid"}) {
    EXPECT_NE(init.find(s), std::string::npos) << s;
  }
  // The script parses: busybox sh is not on the host, POSIX sh -n is a fair check of syntax.
  test::TempDir dir;
  const auto f = dir.file("init", as_bytes(init));
  auto r = run({"sh", "-n", f.string()}, 10s);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->status, 0) << r->output;
  const std::string os = make_os_release("6.1.0-56-amd64");
  EXPECT_NE(os.find("\nID=debian\n"), std::string::npos);
  EXPECT_NE(os.find("VERSION_ID=\"12\""), std::string::npos);
  EXPECT_NE(os.find("PRETTY_NAME=\"trustlaunch guest"), std::string::npos);
}

// ---- manifest ----

ImageManifest sample_manifest() {
  ImageManifest m;
  m.kernel_version = "6.1.0-56-amd64";
  m.kernel_signed = true;
  m.initrd_compression = "gzip";
  m.source_date_epoch = 946684800;
  m.packages = {{"shim-signed", "1.51~1+deb12u1+16.1-2~deb12u1", std::string(64, 'a')}};
  m.esp = {{"/vmlinuz", std::string(64, 'b'), 8000000}};
  m.disk = {"disk.raw", std::string(64, 'c'), 67108864};
  m.agent = {"/bin/tlaunch-agent", std::string(64, 'd'), 1234};
  return m;
}

TEST(ImageManifestTest, RoundTripsAndIsCanonical) {
  const std::string text = manifest_to_json(sample_manifest());
  auto back = manifest_from_json(text);
  ASSERT_TRUE(back.ok()) << back.error().message;
  EXPECT_EQ(manifest_to_json(*back), text);
  EXPECT_EQ(back->kernel_version, "6.1.0-56-amd64");
  EXPECT_EQ(back->esp.at(0).size, 8000000u);
  EXPECT_EQ(text.rfind("{\n  \"format\": \"trustlaunch-image/1\",", 0), 0u) << text;
}

TEST(ImageManifestTest, RefusesTruncatedWrongTypesAndUnknownMembers) {
  const std::string text = manifest_to_json(sample_manifest());
  for (size_t cut : {size_t{0}, size_t{1}, text.size() / 2, text.size() - 3}) {
    EXPECT_FALSE(manifest_from_json(text.substr(0, cut)).ok()) << cut;
  }
  auto mutate = [&](const std::function<void(nlohmann::json&)>& f) {
    nlohmann::json j = nlohmann::json::parse(text);
    f(j);
    return manifest_from_json(j.dump());
  };
  const std::vector<std::function<void(nlohmann::json&)>> bad = {
      [](nlohmann::json& j) { j["format"] = "trustlaunch-image/2"; },
      [](nlohmann::json& j) { j["kernel"]["signed"] = "yes"; },
      [](nlohmann::json& j) { j["kernel"]["version"] = 6; },
      [](nlohmann::json& j) { j["kernel"].erase("version"); },
      [](nlohmann::json& j) { j["extra"] = 1; },
      [](nlohmann::json& j) { j["disk"]["size"] = -1; },
      [](nlohmann::json& j) { j["disk"]["size"] = 1.5; },
      [](nlohmann::json& j) { j["disk"]["sha256"] = std::string(64, 'A'); },
      [](nlohmann::json& j) { j["disk"]["sha256"] = std::string(63, 'a'); },
      [](nlohmann::json& j) { j["esp"] = nlohmann::json::object(); },
      [](nlohmann::json& j) { j["esp"][0]["owner"] = "root"; },
      [](nlohmann::json& j) { j["packages"][0]["name"] = ""; },
      [](nlohmann::json& j) { j["packages"] = nlohmann::json::array({1}); },
      [](nlohmann::json& j) { j["initrd_compression"] = "zstd"; },
      [](nlohmann::json& j) { j["source_date_epoch"] = "0"; },
      [](nlohmann::json& j) { j = nlohmann::json::array(); },
  };
  for (size_t i = 0; i < bad.size(); ++i) {
    auto r = mutate(bad[i]);
    ASSERT_FALSE(r.ok()) << "mutation " << i << " accepted";
    EXPECT_EQ(r.error().reason, "manifest-invalid");
  }
  EXPECT_FALSE(manifest_from_json(std::string(2u << 20, ' ')).ok());
}

// ---- apt, ldd output ----

TEST(ImageDebs, KernelPackageNames) {
  EXPECT_TRUE(is_kernel_package("linux-image-6.1.0-56-amd64"));
  for (const char* n : {"linux-image-amd64", "linux-image-6.1.0-56-amd64-unsigned", "linux-image-6.1.0-56-amd64-dbg",
                        "linux-image-6.1.0-56-cloud-amd64", "linux-image--amd64", "shim-signed"}) {
    EXPECT_FALSE(is_kernel_package(n)) << n;
  }
  auto k = kernel_from_apt_depends("linux-image-amd64\n  Depends: linux-image-6.1.0-56-amd64\n");
  ASSERT_TRUE(k.ok());
  EXPECT_EQ(*k, "linux-image-6.1.0-56-amd64");
  EXPECT_FALSE(kernel_from_apt_depends("").ok());
  EXPECT_FALSE(kernel_from_apt_depends("  Depends: linux-image-amd64; rm -rf /\n").ok());
}

TEST(ImageDebs, PrintUrisLines) {
  const std::string sha(64, 'e');
  auto u = parse_print_uris("'http://deb.debian.org/debian/pool/main/s/shim.deb' shim-signed_1.51_amd64.deb 350384 SHA256:" +
                            sha + "\nnoise\n");
  ASSERT_TRUE(u.ok()) << u.error().message;
  ASSERT_EQ(u->size(), 1u);
  EXPECT_EQ((*u)[0].file, "shim-signed_1.51_amd64.deb");
  EXPECT_EQ((*u)[0].sha256, sha);
  EXPECT_FALSE(parse_print_uris("'http://x' ../../etc/passwd 1 SHA256:" + sha + "\n").ok());
  EXPECT_FALSE(parse_print_uris("'http://x' a.deb 1 MD5Sum:abc\n").ok());
  EXPECT_FALSE(parse_print_uris("'http://x' a.deb\n").ok());
}

TEST(ImageInitrd, LddOutput) {
  auto libs = parse_ldd(
      "\tlinux-vdso.so.1 (0x00007ffd)\n"
      "\tlibtss2-esys.so.0 => /lib/x86_64-linux-gnu/libtss2-esys.so.0 (0x00007f01)\n"
      "\tlibc.so.6 => /lib/x86_64-linux-gnu/libc.so.6 (0x00007f02)\n"
      "\t/lib64/ld-linux-x86-64.so.2 (0x00007f03)\n");
  ASSERT_TRUE(libs.ok()) << libs.error().message;
  EXPECT_EQ(*libs, (std::vector<std::string>{"/lib/x86_64-linux-gnu/libtss2-esys.so.0", "/lib/x86_64-linux-gnu/libc.so.6",
                                             "/lib64/ld-linux-x86-64.so.2"}));
  auto missing = parse_ldd("\tlibfoo.so.1 => not found\n");
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.error().message.find("libfoo.so.1"), std::string::npos);
  EXPECT_FALSE(parse_ldd("\tlibx.so => relative/path.so (0x1)\n").ok());
  auto stat = parse_ldd("\tstatically linked\n");
  ASSERT_TRUE(stat.ok());
  EXPECT_TRUE(stat->empty());
}

// ---- the command line (no build) ----

TEST(ImageCli, UsageErrors) {
  for (const char* args : {"image build", "image build --out", "image build --out /tmp/x --kernel maybe",
                                 "image build --out /tmp/x --bogus", "image build --out /tmp/x extra",
                                 "image build --out /tmp/x --initrd-compression zstd",
                                 "image build --out /tmp/x --cache /a --debs /b"}) {
    auto r = test::run_tlaunch(args);
    EXPECT_EQ(r.exit_code, 2) << args << ": " << r.err;
    EXPECT_NE(r.err.find("tlaunch image build"), std::string::npos) << args << ": " << r.err;
  }
  auto help = test::run_tlaunch("image build --help");
  EXPECT_EQ(help.exit_code, 0);
  EXPECT_NE(help.out.find("--kernel"), std::string::npos);
}

TEST(ImageCli, RefusesAMissingAgentAndANonEmptyOutDirBeforeDownloading) {
  test::TempDir dir;
  auto r = test::run_tlaunch("image build --out " + test::shell_quote((dir.path() / "o").string()) +
                             " --agent /nonexistent/tlaunch-agent --debs " + test::shell_quote(dir.path().string()));
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_NE(r.err.find("tlaunch-agent not found at /nonexistent/tlaunch-agent"), std::string::npos) << r.err;
  const auto agent = dir.file("agent", as_bytes("x"));
  std::filesystem::create_directory(dir.path() / "o2");
  dir.file("o2/keep", as_bytes("x"));
  auto busy = test::run_tlaunch("image build --out " + test::shell_quote((dir.path() / "o2").string()) + " --agent " +
                                test::shell_quote(agent.string()) + " --debs " + test::shell_quote(dir.path().string()));
  EXPECT_EQ(busy.exit_code, 2) << busy.err;
  EXPECT_NE(busy.err.find("not empty (use --force"), std::string::npos) << busy.err;
  // --force with a --debs dir lacking the packages: the package error names the dir.
  auto nodebs = test::run_tlaunch("image build --force --out " + test::shell_quote((dir.path() / "o2").string()) +
                                  " --agent " + test::shell_quote(agent.string()) + " --debs " +
                                  test::shell_quote(dir.path().string()));
  EXPECT_EQ(nodebs.exit_code, 1) << nodebs.err;
  EXPECT_NE(nodebs.err.find("no shim-signed package in " + dir.path().string()), std::string::npos) << nodebs.err;
}

}  // namespace
}  // namespace tl::host
