// The Debian packages a guest image is made of: found in a directory of .deb
// files (offline), or downloaded with `apt-get download` (apt checks them
// against the signed archive index) into a cache, then extracted.
#pragma once

#include <filesystem>
#include <functional>
#include <string>
#include <vector>

#include "common/result.h"

namespace tl::host {

using Progress = std::function<void(const std::string&)>;

// The image's packages; the kernel is the one linux-image-amd64 depends on.
inline constexpr const char* kShimPackage = "shim-signed";
inline constexpr const char* kGrubPackage = "grub-efi-amd64-signed";
inline constexpr const char* kBusyboxPackage = "busybox-static";
inline constexpr const char* kKernelMetaPackage = "linux-image-amd64";

struct DebPackage {
  std::string name;
  std::string version;
  std::string sha256;  // of the .deb file
  std::filesystem::path file;
};

// One of each: shim, grub, kernel, busybox (in that order).
struct ImagePackages {
  std::vector<DebPackage> debs;
  std::string kernel_package;  // "linux-image-6.1.0-56-amd64"
};

// True for a signed kernel image package name: linux-image-<version>-amd64
// (not the meta package, -unsigned or -dbg).
bool is_kernel_package(const std::string& name);

// Parses `apt-cache depends linux-image-amd64`: the linux-image package it depends on.
Result<std::string> kernel_from_apt_depends(const std::string& output);

struct AptUri {
  std::string file;    // name apt-get download gives the file
  std::string sha256;  // from the signed index
};
// Parses `apt-get download --print-uris` output ("'URL' FILE SIZE SHA256:HEX" lines).
Result<std::vector<AptUri>> parse_print_uris(const std::string& output);

// The packages from .deb files in `dir` (--debs): each exactly once.
Result<ImagePackages> packages_from_dir(const std::filesystem::path& dir);

// Downloads what `cache` lacks (under a lock on cache/.lock), checks every
// file's SHA-256 against apt's index, and returns the packages.
Result<ImagePackages> fetch_packages(const std::filesystem::path& cache, const Progress& progress);

// dpkg-deb -x of every package into `root`.
Status extract_packages(const ImagePackages& packages, const std::filesystem::path& root, const Progress& progress);

}  // namespace tl::host
