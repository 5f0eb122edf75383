// One measured event of a TCG PC Client event log, as parsed (not yet trusted).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>
#include <vector>

#include "common/hex.h"
#include "crypto/digest.h"

namespace tl::eventlog {

// TCG PC Client Platform Firmware Profile event types (section 10.4.1).
enum EventType : uint32_t {
  EV_PREBOOT_CERT = 0x0,
  EV_POST_CODE = 0x1,
  EV_UNUSED = 0x2,
  EV_NO_ACTION = 0x3,
  EV_SEPARATOR = 0x4,
  EV_ACTION = 0x5,
  EV_EVENT_TAG = 0x6,
  EV_S_CRTM_CONTENTS = 0x7,
  EV_S_CRTM_VERSION = 0x8,
  EV_CPU_MICROCODE = 0x9,
  EV_PLATFORM_CONFIG_FLAGS = 0xA,
  EV_TABLE_OF_DEVICES = 0xB,
  EV_COMPACT_HASH = 0xC,
  EV_IPL = 0xD,
  EV_IPL_PARTITION_DATA = 0xE,
  EV_NONHOST_CODE = 0xF,
  EV_NONHOST_CONFIG = 0x10,
  EV_NONHOST_INFO = 0x11,
  EV_OMIT_BOOT_DEVICE_EVENTS = 0x12,
  EV_POST_CODE2 = 0x13,
  EV_EFI_EVENT_BASE = 0x80000000,
  EV_EFI_VARIABLE_DRIVER_CONFIG = 0x80000001,
  EV_EFI_VARIABLE_BOOT = 0x80000002,
  EV_EFI_BOOT_SERVICES_APPLICATION = 0x80000003,
  EV_EFI_BOOT_SERVICES_DRIVER = 0x80000004,
  EV_EFI_RUNTIME_SERVICES_DRIVER = 0x80000005,
  EV_EFI_GPT_EVENT = 0x80000006,
  EV_EFI_ACTION = 0x80000007,
  EV_EFI_PLATFORM_FIRMWARE_BLOB = 0x80000008,
  EV_EFI_HANDOFF_TABLES = 0x80000009,
  EV_EFI_PLATFORM_FIRMWARE_BLOB2 = 0x8000000A,
  EV_EFI_HANDOFF_TABLES2 = 0x8000000B,
  EV_EFI_VARIABLE_BOOT2 = 0x8000000C,
  EV_EFI_GPT_EVENT2 = 0x8000000D,
  EV_EFI_HCRTM_EVENT = 0x80000010,
  EV_EFI_VARIABLE_AUTHORITY = 0x800000E0,
  EV_EFI_SPDM_FIRMWARE_BLOB = 0x800000E1,
  EV_EFI_SPDM_FIRMWARE_CONFIG = 0x800000E2,
  EV_EFI_SPDM_DEVICE_POLICY = 0x800000E3,
  EV_EFI_SPDM_DEVICE_AUTHORITY = 0x800000E4,
};

// "EV_EFI_VARIABLE_DRIVER_CONFIG", or "EV_UNKNOWN_0x…" for an undefined value.
std::string event_type_name(uint32_t type);

struct EventDigest {
  crypto::HashAlg alg;
  ByteView value;  // view into the log's own buffer
};

struct Event {
  uint32_t index = 0;   // position in the file; 0 is the first (header) event
  size_t offset = 0;    // byte offset of the event's first byte in the file
  uint32_t pcr = 0;
  uint32_t type = 0;
  std::vector<EventDigest> digests;  // in log order; one (SHA-1) for legacy events
  ByteView data;                     // event data, view into the log's own buffer

  // The digest for a bank, or an empty view when the event has none for it.
  ByteView digest(crypto::HashAlg alg) const;
};

}  // namespace tl::eventlog
