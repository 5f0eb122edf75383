#include "host/uefi_varstore.h"

#include <cstdio>

namespace tl::host::uefi {

namespace {

constexpr std::string_view kInvalid = "uefi-keys-invalid";

std::string hex_off(uint64_t v) {
  char b[32];
  std::snprintf(b, sizeof b, "0x%llx", static_cast<unsigned long long>(v));
  return b;
}

uint16_t u16(ByteView b, size_t o) { return static_cast<uint16_t>(b[o] | (b[o + 1] << 8)); }
uint32_t u32(ByteView b, size_t o) { return static_cast<uint32_t>(u16(b, o)) | (static_cast<uint32_t>(u16(b, o + 2)) << 16); }
uint64_t u64(ByteView b, size_t o) { return static_cast<uint64_t>(u32(b, o)) | (static_cast<uint64_t>(u32(b, o + 4)) << 32); }

Guid guid_at(ByteView b, size_t o) {
  Guid g;
  for (size_t i = 0; i < 16; ++i) g.bytes[i] = b[o + i];
  return g;
}

Guid must(std::string_view text) { return *parse_guid(text); }

constexpr std::string_view kFvGuid = "fff12b8d-7696-4c8b-a985-2747075b4f50";
constexpr std::string_view kAuthStoreGuid = "aaf32c78-947b-439a-a180-2e144ec37792";
constexpr size_t kVarHeader = 60;  // authenticated VARIABLE_HEADER

}  // namespace

std::string Guid::text() const {
  const auto& b = bytes;
  char out[40];
  std::snprintf(out, sizeof out, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", b[3], b[2],
                b[1], b[0], b[5], b[4], b[7], b[6], b[8], b[9], b[10], b[11], b[12], b[13], b[14], b[15]);
  return out;
}

Result<Guid> parse_guid(std::string_view t) {
  if (t.size() != 36 || t[8] != '-' || t[13] != '-' || t[18] != '-' || t[23] != '-') {
    return Error{"'" + std::string(t.substr(0, 40)) + "' is not a GUID (xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx)",
                 "bad-guid"};
  }
  std::string hex;
  for (char c : t) if (c != '-') hex += c;
  auto raw = from_hex(hex);
  if (!raw) return Error{"GUID '" + std::string(t) + "': " + raw.error().message, "bad-guid"};
  const auto& r = *raw;
  Guid g;
  const uint8_t order[16] = {3, 2, 1, 0, 5, 4, 7, 6, 8, 9, 10, 11, 12, 13, 14, 15};
  for (size_t i = 0; i < 16; ++i) g.bytes[i] = r[order[i]];
  return g;
}

Guid global_variable_guid() { return must("8be4df61-93ca-11d2-aa0d-00e098032b8c"); }
Guid image_security_database_guid() { return must("d719b2cb-3d3a-4596-a3bc-dad00e67656f"); }
Guid secure_boot_enable_guid() { return must("f0a30bc7-af08-4556-99c4-001009c93a44"); }
Guid custom_mode_guid() { return must("c076ec0c-7028-4399-a072-71ee5c448b9f"); }

Result<Varstore> parse_varstore(ByteView f) {
  if (f.size() < 56) {
    return Error{"firmware volume header at offset 0x0: needs 56 bytes, the file has " + std::to_string(f.size())};
  }
  if (!(f[40] == '_' && f[41] == 'F' && f[42] == 'V' && f[43] == 'H')) {
    return Error{"firmware volume header at offset 0x28: signature is not _FVH: not an OVMF varstore"};
  }
  if (guid_at(f, 16) != must(kFvGuid)) {
    return Error{"firmware volume header at offset 0x10: file system GUID " + guid_at(f, 16).text() +
                 " is not the NV variable store's " + std::string(kFvGuid)};
  }
  const uint64_t fv_len = u64(f, 32);
  if (fv_len != f.size()) {
    return Error{"firmware volume header at offset 0x20: FvLength " + std::to_string(fv_len) + " but the file has " +
                 std::to_string(f.size()) + " bytes"};
  }
  const size_t s = u16(f, 48);
  if (s < 56 || s + 28 > f.size()) {
    return Error{"firmware volume header at offset 0x30: HeaderLength " + std::to_string(s) +
                 " leaves no room for the variable store header (file " + std::to_string(f.size()) + " bytes)"};
  }
  Varstore out;
  out.store_offset = s;
  if (guid_at(f, s) != must(kAuthStoreGuid)) {
    return Error{"variable store header at offset " + hex_off(s) + ": GUID " + guid_at(f, s).text() +
                 " is not the authenticated variable store's " + std::string(kAuthStoreGuid)};
  }
  const uint64_t size = u32(f, s + 16);
  if (size < 28 || s + size > f.size()) {
    return Error{"variable store header at offset " + hex_off(s + 16) + ": Size " + std::to_string(size) +
                 " runs past the firmware volume (ends " + hex_off(f.size()) + ")"};
  }
  if (f[s + 20] != 0x5A) return Error{"variable store header at offset " + hex_off(s + 20) + ": Format " + hex_off(f[s + 20]) + ", expected 0x5a"};
  if (f[s + 21] != 0xFE) return Error{"variable store header at offset " + hex_off(s + 21) + ": State " + hex_off(f[s + 21]) + ", expected 0xfe (healthy)"};
  out.store_end = s + size;
  size_t o = s + 28;
  while (true) {
    if (o + 2 > out.store_end || u16(f, o) != 0x55AA) break;
    const std::string at = "variable at offset " + hex_off(o) + ": ";
    if (o + kVarHeader > out.store_end) {
      return Error{at + "its 60-byte header runs past the variable store (ends " + hex_off(out.store_end) + ")"};
    }
    Variable v;
    v.offset = o;
    v.state = f[o + 2];
    v.attributes = u32(f, o + 4);
    v.monotonic_count = u64(f, o + 8);
    for (size_t i = 0; i < 16; ++i) v.timestamp[i] = f[o + 16 + i];
    v.pubkey_index = u32(f, o + 32);
    const uint64_t name_size = u32(f, o + 36);
    const uint64_t data_size = u32(f, o + 40);
    v.vendor = guid_at(f, o + 44);
    const uint64_t name_at = o + kVarHeader;
    if (name_at + name_size > out.store_end) {
      return Error{at + "NameSize " + std::to_string(name_size) + " runs past the variable store (ends " +
                   hex_off(out.store_end) + ")"};
    }
    if (name_size < 2 || name_size % 2 != 0) {
      return Error{at + "NameSize " + std::to_string(name_size) + " is not a whole UTF-16 name with its NUL"};
    }
    for (uint64_t i = 0; i + 2 < name_size; i += 2) {
      const uint16_t c = u16(f, name_at + i);
      if (c == 0) return Error{at + "name has a NUL at offset " + hex_off(name_at + i) + " before its end"};
      v.name += c < 0x80 && c >= 0x20 ? static_cast<char>(c) : '?';
    }
    if (u16(f, name_at + name_size - 2) != 0) {
      return Error{at + "name is not NUL-terminated (offset " + hex_off(name_at + name_size - 2) + ")"};
    }
    v.data_offset = name_at + name_size;
    if (v.data_offset + data_size > out.store_end) {
      return Error{at + "DataSize " + std::to_string(data_size) + " runs past the variable store (ends " +
                   hex_off(out.store_end) + ")"};
    }
    v.data.assign(f.begin() + static_cast<std::ptrdiff_t>(v.data_offset),
                  f.begin() + static_cast<std::ptrdiff_t>(v.data_offset + data_size));
    o = (v.data_offset + data_size + 3) & ~size_t{3};
    out.variables.push_back(std::move(v));
  }
  out.list_end = o;
  return out;
}

const Variable* find_live(const Varstore& s, std::string_view name, const Guid& vendor) {
  for (const auto& v : s.variables) {
    if (v.live() && v.name == name && v.vendor == vendor) return &v;
  }
  return nullptr;
}

Status check_secure_boot_varstore(ByteView file) {
  if (file.size() != kOvmf4mSize) {
    return Error{"is " + std::to_string(file.size()) + " bytes, not an OVMF 4M varstore (" +
                     std::to_string(kOvmf4mSize) + " bytes)",
                 std::string(kInvalid)};
  }
  auto s = parse_varstore(file);
  if (!s) return with_reason(std::string(kInvalid), s.take_error());
  struct Need { const char* name; Guid vendor; };
  for (const auto& n : {Need{"PK", global_variable_guid()}, Need{"KEK", global_variable_guid()},
                        Need{"db", image_security_database_guid()}}) {
    const Variable* v = find_live(*s, n.name, n.vendor);
    if (v == nullptr || v->data.empty()) {
      return Error{std::string("has no live, non-empty ") + n.name +
                       ": Secure Boot would be off while the VM's profile says on",
                   std::string(kInvalid)};
    }
    if (v->attributes != 0x27) {
      return Error{std::string(n.name) + " at offset " + hex_off(v->offset) + " has attributes " +
                       hex_off(v->attributes) + ", expected 0x27",
                   std::string(kInvalid)};
    }
  }
  const Variable* sbe = find_live(*s, "SecureBootEnable", secure_boot_enable_guid());
  if (sbe == nullptr || sbe->data.size() != 1 || sbe->data[0] != 1) {
    return Error{"SecureBootEnable is not live and 1: Secure Boot would be off", std::string(kInvalid)};
  }
  const Variable* cm = find_live(*s, "CustomMode", custom_mode_guid());
  if (cm != nullptr && (cm->data.size() != 1 || cm->data[0] != 0)) {
    return Error{"CustomMode at offset " + hex_off(cm->offset) + " is not 0", std::string(kInvalid)};
  }
  return {};
}

}  // namespace tl::host::uefi
