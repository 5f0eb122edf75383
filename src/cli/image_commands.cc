// tlaunch image build: a reproducible Secure Boot guest disk image from
// Debian's signed packages (src/host/image_build.h, docs/guest-image.md).
#include <cerrno>
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <limits.h>
#include <string>
#include <unistd.h>

#include "cli/commands.h"
#include "cli/options.h"
#include "host/image_build.h"

namespace tl::cli {
namespace {
namespace fs = std::filesystem;

constexpr const char* kBuildHelp =
    "usage: tlaunch image build --out DIR [--kernel signed|unsigned] [--agent PATH]\n"
    "                           [--cache DIR | --debs DIR] [--initrd-compression gzip|none]\n"
    "                           [--force] [--json]\n"
    "\n"
    "Build a bootable Secure Boot guest disk (an EFI system partition, FAT32 over the\n"
    "whole disk) from Debian's signed packages: shim-signed -> grub-efi-amd64-signed ->\n"
    "the signed kernel linux-image-amd64 depends on -> an initramfs whose /init runs\n"
    "tlaunch-agent as the host's fw_cfg file opt/org.trustlaunch/agent.conf says.\n"
    "The same inputs give a byte-identical disk.raw (docs/guest-image.md).\n"
    "\n"
    "  --out DIR          write DIR/disk.raw and DIR/manifest.json (DIR must be empty or new)\n"
    "  --kernel K         signed (default), or unsigned: the same kernel with its signature\n"
    "                     removed, which Secure Boot refuses (for negative tests)\n"
    "  --agent PATH       the tlaunch-agent binary to put in the image (default: tlaunch-agent\n"
    "                     beside this tlaunch); its shared libraries are copied from this host\n"
    "  --cache DIR        where downloaded .deb files are kept (default $TLAUNCH_CACHE_DIR,\n"
    "                     else /var/cache/trustlaunch/debs); apt-get download fetches what is\n"
    "                     missing, and every file must match apt's signed index\n"
    "  --debs DIR         offline: take the four packages from the .deb files in DIR\n"
    "  --initrd-compression C  gzip (default) or none\n"
    "  --force            replace the image in a DIR that is not empty\n"
    "  --json             print the manifest (manifest.json's text) on stdout\n"
    "\n"
    "Timestamps in the image are $SOURCE_DATE_EPOCH (default 946684800, 2000-01-01).\n"
    "Needs apt-get, dpkg-deb, mkfs.vfat, mtools, ldd, gzip, and sbattach for --kernel unsigned.\n"
    "\n"
    "Exit status: 0 built, 1 the build failed, 2 usage error.\n";

int usage_error(const std::string& m) {
  std::cerr << "tlaunch image build: " << m << "\n(see --help)\n";
  return kExitBadInput;
}

// tlaunch-agent beside the running tlaunch binary.
fs::path default_agent() {
  std::error_code ec;
  const fs::path self = fs::read_symlink("/proc/self/exe", ec);
  if (ec) return "tlaunch-agent";
  return self.parent_path() / "tlaunch-agent";
}

}  // namespace

int image_build(const Args& args) {
  auto opts = parse_options(args, OptionSpec{{"--force", "--json", "--help", "-h"},
                                             {"--out", "--kernel", "--agent", "--cache", "--debs", "--initrd-compression"}});
  if (!opts) return usage_error(opts.error().message);
  if (opts->has("--help") || opts->has("-h")) {
    std::cout << kBuildHelp;
    return kExitOk;
  }
  if (!opts->positionals.empty()) return usage_error("unexpected argument '" + opts->positionals[0] + "'");
  auto out = opts->value("--out");
  if (!out || out->empty()) return usage_error("missing --out DIR");

  host::ImageBuildOptions o;
  o.out_dir = *out;
  const std::string kernel = opts->value("--kernel").value_or("signed");
  if (kernel != "signed" && kernel != "unsigned") return usage_error("--kernel: '" + kernel + "' is not signed or unsigned");
  o.kernel_signed = kernel == "signed";
  const std::string comp = opts->value("--initrd-compression").value_or("gzip");
  if (comp != "gzip" && comp != "none") return usage_error("--initrd-compression: '" + comp + "' is not gzip or none");
  o.gzip_initrd = comp == "gzip";
  o.agent = opts->value("--agent") ? fs::path(*opts->value("--agent")) : default_agent();
  if (opts->value("--cache") && opts->value("--debs")) return usage_error("give --cache or --debs, not both");
  if (auto c = opts->value("--cache")) {
    o.cache_dir = *c;
  } else if (const char* env = std::getenv("TLAUNCH_CACHE_DIR"); env != nullptr && *env != '\0') {
    o.cache_dir = env;
  }
  if (auto d = opts->value("--debs")) o.debs_dir = fs::path(*d);
  o.force = opts->has("--force");
  if (const char* sde = std::getenv("SOURCE_DATE_EPOCH"); sde != nullptr && *sde != '\0') {
    char* end = nullptr;
    errno = 0;
    const long long v = std::strtoll(sde, &end, 10);
    if (errno != 0 || *end != '\0' || v < 315532800 || v > 4102444800LL) {
      return usage_error(std::string("SOURCE_DATE_EPOCH '") + sde + "' is not a time between 1980 and 2100 in seconds");
    }
    o.epoch = v;
  }

  auto progress = [](const std::string& line) { std::cerr << "tlaunch image build: " << line << std::endl; };
  auto m = host::build_image(o, progress);
  if (!m) {
    const Error& e = m.error();
    std::cerr << "tlaunch image build: " << e.message << (e.reason.empty() ? "" : " [" + e.reason + "]") << "\n";
    if (e.reason == "image-out-exists" || e.reason == "image-agent") return kExitBadInput;
    return kExitFailed;
  }
  if (opts->has("--json")) {
    std::cout << host::manifest_to_json(*m);
  } else {
    std::cout << "built " << (o.out_dir / "disk.raw").string() << " (kernel " << m->kernel_version << ", "
              << (m->kernel_signed ? "signed" : "UNSIGNED") << ")\n"
              << "  disk.raw sha256 " << m->disk.sha256 << "\n"
              << "  manifest " << (o.out_dir / "manifest.json").string() << "\n";
  }
  return kExitOk;
}

}  // namespace tl::cli
