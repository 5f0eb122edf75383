#include "host/image_build.h"

#include <algorithm>
#include <cstdlib>

#include "common/atomic_file.h"
#include "host/image_esp.h"
#include "host/image_files.h"
#include "host/image_guest.h"
#include "host/image_initrd.h"
#include "host/process.h"

namespace tl::host {
namespace fs = std::filesystem;
using namespace std::chrono_literals;

namespace {

Error build_error(const std::string& m, const std::string& reason = "image-build") { return Error{m, reason}; }

// The tools every build needs, checked first so a missing one is named before any download.
Status check_tools(const ImageBuildOptions& o) {
  std::vector<std::pair<const char*, const char*>> tools = {
      {"dpkg-deb", "dpkg"}, {"mkfs.vfat", "dosfstools"}, {"mmd", "mtools"}, {"mcopy", "mtools"}, {"ldd", "libc-bin"}};
  if (!o.debs_dir) {
    tools.push_back({"apt-get", "apt"});
    tools.push_back({"apt-cache", "apt"});
  }
  if (o.gzip_initrd) tools.push_back({"gzip", "gzip"});
  if (!o.kernel_signed) tools.push_back({"sbattach", "sbsigntool"});
  for (const auto& [tool, package] : tools) {
    if (!find_in_path(tool)) {
      return build_error(std::string(tool) + " not found in PATH (install the Debian package " + package +
                             ", or run scripts/setup.sh)",
                         "host-tool-missing");
    }
  }
  return {};
}

Status prepare_out_dir(const ImageBuildOptions& o) {
  std::error_code ec;
  if (fs::exists(o.out_dir, ec)) {
    if (!fs::is_directory(o.out_dir, ec)) return build_error("--out " + o.out_dir.string() + " exists and is not a directory", "image-out-exists");
    if (!fs::is_empty(o.out_dir, ec) && !o.force) {
      return build_error("--out " + o.out_dir.string() + " exists and is not empty (use --force to replace the image in it)",
                         "image-out-exists");
    }
  }
  fs::create_directories(o.out_dir, ec);
  if (ec) return build_error("cannot create --out " + o.out_dir.string() + ": " + ec.message());
  return {};
}

Result<ManifestFile> describe(const fs::path& file, const std::string& path) {
  auto sha = sha256_file(file);
  if (!sha) return sha.take_error();
  std::error_code ec;
  const uint64_t size = fs::file_size(file, ec);
  if (ec) return build_error("cannot stat " + file.string() + ": " + ec.message());
  return ManifestFile{path, *sha, size};
}

}  // namespace

Result<ImageManifest> build_image(const ImageBuildOptions& o, const Progress& progress) {
  if (Status s = check_tools(o); !s) return s.take_error();
  std::error_code ec;
  if (!fs::is_regular_file(o.agent, ec)) {
    return build_error("tlaunch-agent not found at " + o.agent.string() + " (build it, or give --agent PATH)", "image-agent");
  }
  if (Status s = prepare_out_dir(o); !s) return s.take_error();

  auto packages = o.debs_dir ? packages_from_dir(*o.debs_dir) : fetch_packages(o.cache_dir, progress);
  if (!packages) return packages.take_error();
  const std::string kernel_version = packages->kernel_package.substr(std::string("linux-image-").size());

  auto scratch = ScratchDir::create(fs::temp_directory_path(), "tlaunch-image-");
  if (!scratch) return scratch.take_error();
  const fs::path root = scratch->path() / "root", esp = scratch->path() / "esp";
  fs::create_directories(root, ec);
  fs::create_directories(esp, ec);
  if (ec) return build_error("cannot create directories in " + scratch->path().string() + ": " + ec.message());
  if (Status s = extract_packages(*packages, root, progress); !s) return s.take_error();

  // The boot files, as they will be on the ESP.
  const fs::path shim = esp / "BOOTX64.EFI", grub = esp / "grubx64.efi", cfg = esp / "grub.cfg",
                 kernel = esp / "vmlinuz", initrd = esp / "initrd.img";
  const std::pair<fs::path, fs::path> copies[] = {
      {root / "usr/lib/shim/shimx64.efi.signed", shim},
      {root / "usr/lib/grub/x86_64-efi-signed/grubx64.efi.signed", grub},
      {root / "boot" / ("vmlinuz-" + kernel_version), kernel},
  };
  for (const auto& [from, to] : copies) {
    fs::copy_file(from, to, fs::copy_options::overwrite_existing, ec);
    if (ec) return build_error("the packages lack " + from.lexically_relative(root).string() + ": " + ec.message());
  }
  if (!o.kernel_signed) {
    progress("removing the kernel's signature (--kernel unsigned)");
    auto r = run_checked({"sbattach", "--remove", kernel.string()}, 120s);
    if (!r) return with_context("removing the kernel's signature", r.take_error());
  }
  auto grub_text = make_grub_cfg(GrubConfig{});
  if (!grub_text) return grub_text.take_error();
  if (Status s = write_whole_file(cfg, as_bytes(*grub_text)); !s) return s.take_error();

  progress(std::string("building the initramfs (") + (o.gzip_initrd ? "gzip" : "uncompressed") + ")");
  InitrdInputs in;
  in.root = root;
  in.kernel_version = kernel_version;
  in.agent = o.agent;
  in.gzip = o.gzip_initrd;
  in.mtime = static_cast<uint32_t>(o.epoch);
  in.scratch = scratch->path();
  auto rd = build_initrd(in);
  if (!rd) return rd.take_error();
  if (Status s = write_whole_file(initrd, rd->image); !s) return s.take_error();

  const std::vector<EspFile> files = {
      {"/EFI/BOOT/BOOTX64.EFI", shim}, {"/EFI/BOOT/grubx64.efi", grub}, {"/EFI/BOOT/grub.cfg", cfg},
      {"/vmlinuz", kernel},            {"/initrd.img", initrd},
  };
  // 64 MiB holds a release build; a larger agent (debug or sanitizer builds)
  // gets a larger disk: the files plus 5% and 4 MiB for FAT, in whole MiB.
  uint64_t payload = 0;
  for (const EspFile& f : files) payload += fs::file_size(f.source, ec);
  const uint64_t mib = 1ull << 20;
  const uint64_t disk_size = std::max<uint64_t>(kEspSizeBytes, (payload + payload / 20 + 4 * mib + mib - 1) / mib * mib);
  progress("writing the ESP image " + (o.out_dir / "disk.raw").string() + " (" + std::to_string(disk_size / mib) + " MiB)");
  const fs::path disk_tmp = o.out_dir / "disk.raw.tmp", disk = o.out_dir / "disk.raw";
  if (Status s = make_esp(disk_tmp, files, o.epoch, disk_size); !s) {
    fs::remove(disk_tmp, ec);
    return s.take_error();
  }

  ImageManifest m;
  m.kernel_version = kernel_version;
  m.kernel_signed = o.kernel_signed;
  m.initrd_compression = o.gzip_initrd ? "gzip" : "none";
  m.source_date_epoch = o.epoch;
  for (const DebPackage& d : packages->debs) m.packages.push_back(ManifestPackage{d.name, d.version, d.sha256});
  for (const EspFile& f : files) {
    auto d = describe(f.source, f.path);
    if (!d) return d.take_error();
    m.esp.push_back(*d);
  }
  auto disk_desc = describe(disk_tmp, "disk.raw");
  if (!disk_desc) return disk_desc.take_error();
  m.disk = *disk_desc;
  auto agent_desc = describe(o.agent, "/bin/tlaunch-agent");
  if (!agent_desc) return agent_desc.take_error();
  m.agent = *agent_desc;

  // The manifest last: a manifest.json always describes a complete disk.raw.
  fs::remove(o.out_dir / "manifest.json", ec);
  fs::rename(disk_tmp, disk, ec);
  if (ec) return build_error("cannot rename " + disk_tmp.string() + " to disk.raw: " + ec.message());
  const std::string text = manifest_to_json(m);
  if (Status s = write_file_atomic(o.out_dir / "manifest.json", text, 0644); !s) return s.take_error();
  return m;
}

}  // namespace tl::host
