// `tlaunch image build`: a bootable Secure Boot guest disk (docs/guest-image.md).
// Debian's signed shim → signed grub → signed kernel (chainloaded, so its EFI
// stub is verified by shim and gets the TPM event log) → our initramfs, whose
// /init runs tlaunch-agent as the host's fw_cfg agent.conf asks.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>

#include "common/result.h"
#include "host/image_debs.h"
#include "host/image_manifest.h"

namespace tl::host {

inline constexpr const char* kDefaultDebCache = "/var/cache/trustlaunch/debs";
// Every timestamp in the image when SOURCE_DATE_EPOCH is not set: 2000-01-01T00:00:00Z.
inline constexpr int64_t kDefaultImageEpoch = 946684800;

struct ImageBuildOptions {
  std::filesystem::path out_dir;
  bool kernel_signed = true;              // false: the signature removed (negative tests)
  std::filesystem::path agent;            // tlaunch-agent binary
  std::filesystem::path cache_dir = kDefaultDebCache;
  std::optional<std::filesystem::path> debs_dir;  // offline: take the .debs from here
  bool force = false;                     // replace disk.raw / manifest.json in an existing out_dir
  bool gzip_initrd = true;
  int64_t epoch = kDefaultImageEpoch;     // SOURCE_DATE_EPOCH
};

// Builds out_dir/disk.raw and out_dir/manifest.json (written last, atomically).
// `progress` gets one line per long step.
Result<ImageManifest> build_image(const ImageBuildOptions& options, const Progress& progress);

}  // namespace tl::host
