// UEFI structures found in event data: GUIDs, UTF-16 strings and
// UEFI_VARIABLE_DATA (TCG PC Client PFP, section 10.4.4; UEFI spec for GUID layout).
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "common/hex.h"
#include "common/result.h"

namespace tl::eventlog {

// An EFI_GUID as it sits on the wire (first three fields little-endian).
struct Guid {
  std::array<uint8_t, 16> bytes{};
  friend bool operator==(const Guid&, const Guid&) = default;
  // "8be4df61-93ca-11d2-aa0d-00e098032b8c"
  std::string to_string() const;
};

// Reads 16 bytes; the caller guarantees the size.
Guid guid_from_bytes(ByteView sixteen);
// Builds a GUID from its registry form, for the constants below.
Guid guid_from_fields(uint32_t a, uint16_t b, uint16_t c, std::array<uint8_t, 8> d);

Guid efi_global_variable_guid();     // 8be4df61-93ca-11d2-aa0d-00e098032b8c (SecureBoot, PK, KEK)
Guid image_security_database_guid(); // d719b2cb-3d3a-4596-a3bc-dad00e67656f (db, dbx, dbt, dbr)
Guid shim_lock_guid();               // 605dab50-e046-4300-abb6-3dd810dd8b23 (MokList…, SbatLevel)

// UTF-16LE to UTF-8. Stops at the first NUL; an odd trailing byte and unpaired
// surrogates become U+FFFD, so any input yields a string.
std::string utf16le_to_utf8(ByteView data);

// UEFI_VARIABLE_DATA: VariableName GUID, UnicodeNameLength u64 (in UTF-16 code
// units), VariableDataLength u64, UnicodeName, VariableData.
struct UefiVariable {
  Guid vendor;
  std::string name;     // UTF-8
  ByteView name_bytes;  // the raw UTF-16LE name
  ByteView data;        // VariableData (view into the input)
  size_t data_offset = 0;  // absolute offset of VariableData
  size_t trailing = 0;     // bytes after VariableData (firmware should leave none)

  // Exact match of the UTF-16 name against an ASCII name: "SecureBoot\0x" is not "SecureBoot".
  bool name_is(std::string_view ascii) const;
};

// base_offset: the absolute offset of `data` in the log, for error messages.
Result<UefiVariable> parse_uefi_variable(ByteView data, size_t base_offset = 0);

}  // namespace tl::eventlog
