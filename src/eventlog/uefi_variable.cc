#include "eventlog/uefi_variable.h"

#include <cstdio>

#include "common/byte_reader.h"

namespace tl::eventlog {

std::string Guid::to_string() const {
  // Hot (a dbx holds hundreds of owner GUIDs): hand-rolled instead of snprintf.
  static constexpr char kHex[] = "0123456789abcdef";
  static constexpr uint8_t kOrder[16] = {3, 2, 1, 0, 5, 4, 7, 6, 8, 9, 10, 11, 12, 13, 14, 15};
  std::string out(36, '-');
  size_t pos = 0;
  for (size_t i = 0; i < 16; ++i) {
    if (i == 4 || i == 6 || i == 8 || i == 10) ++pos;  // the dashes
    const uint8_t b = bytes[kOrder[i]];
    out[pos++] = kHex[b >> 4];
    out[pos++] = kHex[b & 0xf];
  }
  return out;
}

Guid guid_from_bytes(ByteView sixteen) {
  Guid g;
  for (size_t i = 0; i < 16 && i < sixteen.size(); ++i) g.bytes[i] = sixteen[i];
  return g;
}

Guid guid_from_fields(uint32_t a, uint16_t b, uint16_t c, std::array<uint8_t, 8> d) {
  Guid g;
  for (int i = 0; i < 4; ++i) g.bytes[i] = static_cast<uint8_t>(a >> (8 * i));
  for (int i = 0; i < 2; ++i) g.bytes[4 + i] = static_cast<uint8_t>(b >> (8 * i));
  for (int i = 0; i < 2; ++i) g.bytes[6 + i] = static_cast<uint8_t>(c >> (8 * i));
  for (int i = 0; i < 8; ++i) g.bytes[8 + i] = d[i];
  return g;
}

Guid efi_global_variable_guid() {
  return guid_from_fields(0x8be4df61, 0x93ca, 0x11d2, {0xaa, 0x0d, 0x00, 0xe0, 0x98, 0x03, 0x2b, 0x8c});
}
Guid image_security_database_guid() {
  return guid_from_fields(0xd719b2cb, 0x3d3a, 0x4596, {0xa3, 0xbc, 0xda, 0xd0, 0x0e, 0x67, 0x65, 0x6f});
}
Guid shim_lock_guid() {
  return guid_from_fields(0x605dab50, 0xe046, 0x4300, {0xab, 0xb6, 0x3d, 0xd8, 0x10, 0xdd, 0x8b, 0x23});
}

namespace {
void append_utf8(std::string& out, uint32_t cp) {
  if (cp < 0x80) {
    out += static_cast<char>(cp);
  } else if (cp < 0x800) {
    out += static_cast<char>(0xc0 | (cp >> 6));
    out += static_cast<char>(0x80 | (cp & 0x3f));
  } else if (cp < 0x10000) {
    out += static_cast<char>(0xe0 | (cp >> 12));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3f));
    out += static_cast<char>(0x80 | (cp & 0x3f));
  } else {
    out += static_cast<char>(0xf0 | (cp >> 18));
    out += static_cast<char>(0x80 | ((cp >> 12) & 0x3f));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3f));
    out += static_cast<char>(0x80 | (cp & 0x3f));
  }
}
constexpr uint32_t kReplacement = 0xfffd;
}  // namespace

std::string utf16le_to_utf8(ByteView data) {
  std::string out;
  const size_t units = data.size() / 2;
  for (size_t i = 0; i < units; ++i) {
    uint32_t u = static_cast<uint32_t>(data[2 * i] | (data[2 * i + 1] << 8));
    if (u == 0) return out;
    if (u >= 0xd800 && u <= 0xdbff && i + 1 < units) {
      const uint32_t lo = static_cast<uint32_t>(data[2 * i + 2] | (data[2 * i + 3] << 8));
      if (lo >= 0xdc00 && lo <= 0xdfff) {
        append_utf8(out, 0x10000 + ((u - 0xd800) << 10) + (lo - 0xdc00));
        ++i;
        continue;
      }
    }
    if (u >= 0xd800 && u <= 0xdfff) u = kReplacement;
    append_utf8(out, u);
  }
  if (data.size() % 2 != 0) append_utf8(out, kReplacement);
  return out;
}

bool UefiVariable::name_is(std::string_view ascii) const {
  if (name_bytes.size() != ascii.size() * 2) return false;
  for (size_t i = 0; i < ascii.size(); ++i) {
    if (name_bytes[2 * i] != static_cast<uint8_t>(ascii[i]) || name_bytes[2 * i + 1] != 0) return false;
  }
  return true;
}

Result<UefiVariable> parse_uefi_variable(ByteView data, size_t base_offset) {
  ByteReader r(data, base_offset);
  auto guid = r.bytes(16, "UEFI_VARIABLE_DATA.VariableName");
  if (!guid) return guid.take_error();
  auto name_len = r.u64_le("UEFI_VARIABLE_DATA.UnicodeNameLength");
  if (!name_len) return name_len.take_error();
  auto data_len = r.u64_le("UEFI_VARIABLE_DATA.VariableDataLength");
  if (!data_len) return data_len.take_error();
  // Lengths come from the input: compare before multiplying so nothing overflows.
  if (*name_len > r.remaining() / 2) {
    return r.error("UEFI_VARIABLE_DATA.UnicodeName",
                   "UnicodeNameLength " + std::to_string(*name_len) + " needs " +
                       "more than the " + std::to_string(r.remaining()) + " bytes left");
  }
  auto name = r.bytes(static_cast<size_t>(*name_len) * 2, "UEFI_VARIABLE_DATA.UnicodeName");
  if (!name) return name.take_error();
  if (*data_len > r.remaining()) {
    return r.error("UEFI_VARIABLE_DATA.VariableData",
                   "VariableDataLength " + std::to_string(*data_len) + " but only " +
                       std::to_string(r.remaining()) + " bytes left");
  }
  UefiVariable v;
  v.data_offset = r.offset();
  auto value = r.bytes(static_cast<size_t>(*data_len), "UEFI_VARIABLE_DATA.VariableData");
  if (!value) return value.take_error();
  v.vendor = guid_from_bytes(*guid);
  v.name_bytes = *name;
  v.name = utf16le_to_utf8(*name);
  v.data = *value;
  v.trailing = r.remaining();
  return v;
}

}  // namespace tl::eventlog
