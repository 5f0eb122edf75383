// OVMF 4M varstores (OVMF_VARS_4M*.fd): a strict parser of the firmware
// volume, its authenticated variable store and the variable records, and the
// check `vm create --uefi-keys PATH` runs before a VM gets such a file
// (docs/host.md). Parsing and checking are separate: the parser only says
// what is there, with offsets; the check decides whether Secure Boot would be on.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/hex.h"
#include "common/result.h"

namespace tl::host::uefi {

// An EFI GUID in its on-disk byte order (first three fields little-endian).
struct Guid {
  std::array<uint8_t, 16> bytes{};
  bool operator==(const Guid&) const = default;
  std::string text() const;  // "8be4df61-93ca-11d2-aa0d-00e098032b8c"
};
// Parses the canonical text form; the error names what is wrong.
Result<Guid> parse_guid(std::string_view text);

Guid global_variable_guid();           // 8be4df61-…: PK, KEK
Guid image_security_database_guid();   // d719b2cb-…: db, dbx
Guid secure_boot_enable_guid();        // f0a30bc7-…: SecureBootEnable
Guid custom_mode_guid();               // c076ec0c-…: CustomMode

inline constexpr uint8_t kVarAdded = 0x3F;  // the only live state
inline constexpr size_t kOvmf4mSize = 540672;

struct Variable {
  size_t offset = 0;        // absolute file offset of the record (StartId)
  uint8_t state = 0;
  uint32_t attributes = 0;
  uint64_t monotonic_count = 0;
  std::array<uint8_t, 16> timestamp{};
  uint32_t pubkey_index = 0;
  std::string name;         // UTF-16LE name, non-ASCII code units shown as '?'
  Guid vendor;
  size_t data_offset = 0;   // absolute file offset of the data
  Bytes data;
  bool live() const { return state == kVarAdded; }
};

struct Varstore {
  size_t store_offset = 0;  // VARIABLE_STORE_HEADER
  size_t store_end = 0;     // store_offset + its Size
  size_t list_end = 0;      // first offset after the last record (StartId != 0x55AA there)
  std::vector<Variable> variables;  // every record, live or not, in file order
};

// Errors name the field and the absolute offset.
Result<Varstore> parse_varstore(ByteView file);

// The single live variable `name` of `vendor`, or nullptr.
const Variable* find_live(const Varstore& s, std::string_view name, const Guid& vendor);

// Secure Boot would be on with this file as a VM's varstore: OVMF 4M size,
// parses, live non-empty PK, KEK and db (attributes 0x27), SecureBootEnable
// = 1 and no CustomMode = 1. Fail closed; reason "uefi-keys-invalid".
Status check_secure_boot_varstore(ByteView file);

}  // namespace tl::host::uefi
