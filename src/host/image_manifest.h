// manifest.json of a guest image (format "trustlaunch-image/1",
// docs/guest-image.md): what went into disk.raw and the hashes of every boot
// file, so a verifier can derive expected measurements without opening the disk.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "common/result.h"

namespace tl::host {

inline constexpr const char* kImageFormat = "trustlaunch-image/1";

struct ManifestPackage {
  std::string name;
  std::string version;
  std::string sha256;  // of the .deb, lower-case hex
};

struct ManifestFile {
  std::string path;    // on the ESP, "/EFI/BOOT/BOOTX64.EFI"
  std::string sha256;
  uint64_t size = 0;
};

struct ImageManifest {
  std::string kernel_version;   // "6.1.0-56-amd64"
  bool kernel_signed = true;
  std::string initrd_compression;  // "gzip" | "none"
  int64_t source_date_epoch = 0;   // every timestamp in the image
  std::vector<ManifestPackage> packages;
  std::vector<ManifestFile> esp;   // the boot files as placed on the ESP
  ManifestFile disk;               // path "disk.raw"
  ManifestFile agent;              // path "/bin/tlaunch-agent" (in the initramfs)
};

// Canonical JSON text (2-space indent, fixed member order, trailing newline).
std::string manifest_to_json(const ImageManifest& m);

// Strict: the format string, every member present with its type, no unknown
// members, hashes 64 lower-case hex digits. Reason "manifest-invalid".
Result<ImageManifest> manifest_from_json(std::string_view text);

}  // namespace tl::host
