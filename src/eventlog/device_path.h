// EFI device paths (UEFI spec 2.10, chapter 10) rendered in the UEFI text form
// (section 10.6), and UEFI_IMAGE_LOAD_EVENT (TCG PC Client PFP, section 10.2.3).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

#include "common/hex.h"
#include "common/result.h"

namespace tl::eventlog {

// At most this many nodes are rendered; a longer path is an error (real boot
// paths have fewer than ten).
inline constexpr size_t kMaxDevicePathNodes = 512;

// "PciRoot(0x0)/Pci(0x1,0x1)/HD(1,GPT,<guid>,0x800,0x100000)/\EFI\BOOT\BOOTX64.EFI".
// Nodes without a text rule here come out as "Path(type,subtype,hex)"; an
// end-of-instance node as ",". An empty input is the empty string. A node whose
// length is below 4 or runs past the end is an error naming its offset.
Result<std::string> device_path_to_text(ByteView path, size_t base_offset = 0);

struct ImageLoadEvent {
  uint64_t image_location = 0;  // ImageLocationInMemory
  uint64_t image_length = 0;    // ImageLengthInMemory
  uint64_t link_time_address = 0;
  ByteView device_path;         // LengthOfDevicePath bytes
  size_t device_path_offset = 0;
};

Result<ImageLoadEvent> parse_image_load_event(ByteView data, size_t base_offset = 0);

}  // namespace tl::eventlog
