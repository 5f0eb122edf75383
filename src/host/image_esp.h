// The EFI system partition as a whole-disk FAT32 image ("superfloppy", which
// OVMF boots), made reproducible: fixed volume id and label (mkfs.vfat
// --invariant), every timestamp = the build's epoch, files added in a fixed order.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "common/result.h"

namespace tl::host {

inline constexpr uint64_t kEspSizeBytes = 64ull << 20;
inline constexpr const char* kEspVolumeId = "544c4155";  // "TLAU"
inline constexpr const char* kEspLabel = "TLAUNCH";

struct EspFile {
  std::string path;              // on the ESP: "/EFI/BOOT/BOOTX64.EFI"
  std::filesystem::path source;  // host file (its mtime is set to the epoch)
};

// Creates `disk` (replacing it) with the files, in the given order. `epoch`
// must be at or after 1980-01-01 (FAT cannot say earlier).
Status make_esp(const std::filesystem::path& disk, const std::vector<EspFile>& files, int64_t epoch,
                uint64_t size_bytes = kEspSizeBytes);

}  // namespace tl::host
