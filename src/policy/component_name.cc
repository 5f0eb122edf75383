// What an event measured, in words an operator recognises: the decoders of
// src/eventlog (device paths, UEFI variables, signature data) do the parsing;
// this file only chooses which one applies and how to say it.
#include <cstdio>

#include "eventlog/checks.h"
#include "eventlog/device_path.h"
#include "eventlog/efi_signature_list.h"
#include "eventlog/secure_boot.h"
#include "eventlog/uefi_variable.h"
#include "policy/baseline_internal.h"

namespace tl::policy::detail {

namespace {

using namespace tl::eventlog;  // NOLINT: event type constants

// Long enough for a GRUB command line or a deep device path, short enough to
// keep a deviation list readable.
constexpr size_t kMaxComponentChars = 200;

std::string hex_num(uint64_t v) {
  char buf[24];
  std::snprintf(buf, sizeof buf, "0x%llx", static_cast<unsigned long long>(v));
  return buf;
}

uint64_t le(ByteView b, size_t at, size_t n) {
  uint64_t v = 0;
  for (size_t i = 0; i < n; ++i) v |= static_cast<uint64_t>(b[at + i]) << (8 * i);
  return v;
}

// Length of the valid UTF-8 sequence starting at s[i], or 0 when it is not one.
size_t utf8_sequence(std::string_view s, size_t i) {
  const auto c = static_cast<unsigned char>(s[i]);
  size_t n = 0;
  uint32_t cp = 0;
  if (c < 0x80) return 1;
  if ((c & 0xe0) == 0xc0) {
    n = 2;
    cp = c & 0x1f;
  } else if ((c & 0xf0) == 0xe0) {
    n = 3;
    cp = c & 0x0f;
  } else if ((c & 0xf8) == 0xf0) {
    n = 4;
    cp = c & 0x07;
  } else {
    return 0;
  }
  if (i + n > s.size()) return 0;
  for (size_t k = 1; k < n; ++k) {
    const auto cc = static_cast<unsigned char>(s[i + k]);
    if ((cc & 0xc0) != 0x80) return 0;
    cp = (cp << 6) | (cc & 0x3f);
  }
  // Overlong forms, surrogates and values past U+10FFFF are not text.
  if ((n == 2 && cp < 0x80) || (n == 3 && cp < 0x800) || (n == 4 && cp < 0x10000) || cp > 0x10ffff ||
      (cp >= 0xd800 && cp <= 0xdfff))
    return 0;
  return n;
}

// Valid UTF-8 without control characters (event data is attacker-shaped and
// ends up in JSON and terminals), cut at kMaxComponentChars with an ellipsis.
std::string printable(std::string_view s) {
  std::string out;
  size_t chars = 0;
  for (size_t i = 0; i < s.size();) {
    if (chars == kMaxComponentChars) {
      out += "\xe2\x80\xa6";  // …
      break;
    }
    const size_t n = utf8_sequence(s, i);
    const auto c = static_cast<unsigned char>(s[i]);
    if (n == 0 || (n == 1 && (c < 0x20 || c == 0x7f))) {
      out += '.';
      i += n == 0 ? 1 : n;
    } else {
      out.append(s.substr(i, n));
      i += n;
    }
    ++chars;
  }
  return out;
}

std::string_view as_text(ByteView d) {
  std::string_view s(reinterpret_cast<const char*>(d.data()), d.size());
  // C strings as GRUB and shim log them: the NUL is not part of the text.
  while (!s.empty() && s.back() == '\0') s.remove_suffix(1);
  return s;
}

// UTF-16LE text (systemd, S-CRTM version strings) has every second byte zero.
bool looks_utf16(ByteView d) {
  if (d.size() < 4 || d.size() % 2 != 0 || d[0] == 0) return false;
  for (size_t i = 1; i < d.size() && i < 32; i += 2)
    if (d[i] != 0) return false;
  return true;
}

std::string text_of(ByteView d) {
  if (looks_utf16(d)) return printable(utf16le_to_utf8(d));
  return printable(as_text(d));
}

bool mostly_printable(ByteView d) {
  const std::string_view s = as_text(d);
  if (s.empty()) return false;
  for (char ch : s) {
    const auto c = static_cast<unsigned char>(ch);
    if (c < 0x20 || c >= 0x7f) return false;
  }
  return true;
}

std::string image_component(const Event& e) {
  auto load = parse_image_load_event(e.data);
  if (!load) return "image (UEFI_IMAGE_LOAD_EVENT does not decode)";
  if (load->device_path.empty()) {
    // Images loaded from a buffer (shim loading the kernel, embedded drivers)
    // carry no path; their load address changes from boot to boot, so it is
    // not part of the name the comparison aligns on.
    return "image loaded from memory (no device path)";
  }
  auto text = device_path_to_text(load->device_path);
  if (!text) return "image (device path does not decode)";
  return printable(*text);
}

// The certificate subject of an authority (the db entry or shim's vendor
// certificate that allowed an image): one EFI_SIGNATURE_DATA, or bare DER.
std::string authority_subject(ByteView data) {
  if (data.size() > 16) {
    SignatureEntry s = decode_signature_entry(efi_cert_x509_guid(), guid_from_bytes(data.first(16)), data.subspan(16));
    if (!s.subject.empty()) return s.subject;
  }
  SignatureEntry s = decode_signature_entry(efi_cert_x509_guid(), Guid{}, data);
  return s.subject;
}

std::string variable_component(const Event& e) {
  auto var = parse_uefi_variable(e.data);
  if (!var) return "variable (UEFI_VARIABLE_DATA does not decode)";
  std::string name = printable(var->name);
  if (name.empty()) name = "(unnamed variable " + var->vendor.to_string() + ")";
  if (e.type == EV_EFI_VARIABLE_AUTHORITY && !var->name_is("SbatLevel")) {
    const std::string subject = authority_subject(var->data);
    if (!subject.empty()) return printable(name + ": " + subject);
  }
  return name;
}

std::string blob_component(const Event& e) {
  const ByteView d = e.data;
  if (e.type == EV_EFI_PLATFORM_FIRMWARE_BLOB2 && !d.empty() && d.size() == 1u + d[0] + 16u) {
    const size_t n = d[0];
    const std::string desc = text_of(d.subspan(1, n));
    return "firmware blob " + (desc.empty() ? std::string() : desc + " ") + "base " + hex_num(le(d, 1 + n, 8)) +
           " length " + hex_num(le(d, 1 + n + 8, 8));
  }
  if (d.size() == 16)
    return "firmware blob base " + hex_num(le(d, 0, 8)) + " length " + hex_num(le(d, 8, 8));
  return "firmware blob (" + std::to_string(d.size()) + " bytes)";
}

// TCG_PCClientTaggedEvent: the Linux EFI stub tags its initrd and load options.
std::string tagged_component(const Event& e) {
  const ByteView d = e.data;
  if (d.size() < 8) return "event tag (" + std::to_string(d.size()) + " bytes)";
  const auto id = static_cast<uint32_t>(le(d, 0, 4));
  const auto size = static_cast<uint32_t>(le(d, 4, 4));
  const ByteView body = size <= d.size() - 8 ? d.subspan(8, size) : d.subspan(8);
  if (id == 0x8F3B22EC) return "Linux initrd";
  if (id == 0x8F3B22ED) return printable("Linux load options: " + text_of(body));
  std::string s = "event tag " + hex_num(id);
  if (mostly_printable(body) || looks_utf16(body)) s += ": " + text_of(body);
  return printable(s);
}

std::string component_of(const Event& e) {
  switch (e.type) {
    case EV_EFI_BOOT_SERVICES_APPLICATION:
    case EV_EFI_BOOT_SERVICES_DRIVER:
    case EV_EFI_RUNTIME_SERVICES_DRIVER:
      return image_component(e);
    case EV_EFI_VARIABLE_DRIVER_CONFIG:
    case EV_EFI_VARIABLE_BOOT:
    case EV_EFI_VARIABLE_BOOT2:
    case EV_EFI_VARIABLE_AUTHORITY:
      return variable_component(e);
    case EV_EFI_PLATFORM_FIRMWARE_BLOB:
    case EV_EFI_PLATFORM_FIRMWARE_BLOB2:
      return blob_component(e);
    case EV_S_CRTM_VERSION:
      return "S-CRTM version";
    case EV_S_CRTM_CONTENTS:
      return "S-CRTM contents";
    case EV_EFI_HCRTM_EVENT:
      return "H-CRTM";
    case EV_SEPARATOR:
      // 0xffffffff marks an error in the pre-OS environment (PFP 10.4.1).
      return e.data.size() == 4 && le(e.data, 0, 4) == 0xffffffff ? "separator (error)" : "separator";
    case EV_EVENT_TAG:
      return tagged_component(e);
    case EV_EFI_GPT_EVENT:
    case EV_EFI_GPT_EVENT2:
      return "GPT partition table";
    case EV_EFI_HANDOFF_TABLES:
    case EV_EFI_HANDOFF_TABLES2:
      return "handoff tables";
    case EV_IPL:
    case EV_EFI_ACTION:
    case EV_ACTION:
      return text_of(e.data);
    case EV_POST_CODE:
    case EV_POST_CODE2:
      // PFP 1.05 lets POST code events carry a blob address instead of text.
      if (e.data.size() == 16 && !mostly_printable(e.data)) return blob_component(e);
      return mostly_printable(e.data) ? text_of(e.data) : "POST code";
    default:
      if (mostly_printable(e.data) || looks_utf16(e.data)) return text_of(e.data);
      return event_type_name(e.type) + " (" + std::to_string(e.data.size()) + " bytes)";
  }
}

}  // namespace

std::string component_name(const Event& e) {
  std::string c = component_of(e);
  // Replay vouches for digests, not for the data beside them: say so when the
  // data of a hashed-data event is not what its digest covers.
  if (!data_is_measured(e)) c = "(data not covered by its digest) " + c;
  return c;
}

}  // namespace tl::policy::detail
