#include "eventlog/device_path.h"

#include <cstdio>

#include "common/byte_reader.h"
#include "eventlog/uefi_variable.h"

namespace tl::eventlog {

namespace {

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

// EISA PNP IDs compress "PNP" into the low 16 bits (UEFI spec 10.3.3).
constexpr uint32_t kPnpVendor = 0x41d0;

std::string acpi_text(ByteView n) {
  const uint32_t hid = static_cast<uint32_t>(le(n, 0, 4));
  const uint32_t uid = static_cast<uint32_t>(le(n, 4, 4));
  if ((hid & 0xffff) == kPnpVendor) {
    const uint32_t product = hid >> 16;
    if (product == 0x0a03) return "PciRoot(" + hex_num(uid) + ")";
    if (product == 0x0a08) return "PcieRoot(" + hex_num(uid) + ")";
    char buf[64];
    std::snprintf(buf, sizeof buf, "Acpi(PNP%04X,0x%x)", product, uid);
    return buf;
  }
  return "Acpi(" + hex_num(hid) + "," + hex_num(uid) + ")";
}

std::string generic(uint8_t type, uint8_t subtype, ByteView body) {
  std::string s = "Path(" + std::to_string(type) + "," + std::to_string(subtype);
  if (!body.empty()) s += "," + to_hex(body);
  return s + ")";
}

std::string vendor(const char* kind, ByteView body) {
  std::string s = std::string(kind) + "(" + guid_from_bytes(body.first(16)).to_string();
  if (body.size() > 16) s += "," + to_hex(body.subspan(16));
  return s + ")";
}

// One node's text; `body` excludes the 4-byte header. Falls back to the generic
// form whenever the body is shorter than the node type defines.
std::string node_text(uint8_t type, uint8_t subtype, ByteView body) {
  const size_t n = body.size();
  switch (type) {
    case 1:  // hardware
      if (subtype == 1 && n == 2)  // PCI: Function, Device; text form is Pci(Device,Function)
        return "Pci(" + hex_num(body[1]) + "," + hex_num(body[0]) + ")";
      if (subtype == 4 && n >= 16) return vendor("VenHw", body);
      if (subtype == 5 && n == 4) return "Ctrl(" + hex_num(le(body, 0, 4)) + ")";
      break;
    case 2:  // ACPI
      if (subtype == 1 && n == 8) return acpi_text(body);
      break;
    case 3:  // messaging
      if (subtype == 2 && n == 4)
        return "Scsi(" + hex_num(le(body, 0, 2)) + "," + hex_num(le(body, 2, 2)) + ")";
      if (subtype == 5 && n == 2) return "USB(" + hex_num(body[0]) + "," + hex_num(body[1]) + ")";
      if (subtype == 11 && n == 33)
        return "MAC(" + to_hex(body.first(6)) + "," + hex_num(body[32]) + ")";
      if (subtype == 10 && n >= 16) return vendor("VenMsg", body);
      if (subtype == 12 && n == 23) {
        // IPv4: LocalIp, RemoteIp, LocalPort, RemotePort, Protocol, StaticIpAddress,
        // GatewayIp, SubnetMask; text IPv4(Remote,Protocol,Static|DHCP,Local,Gateway,Mask).
        auto ip = [&](size_t at) {
          return std::to_string(body[at]) + "." + std::to_string(body[at + 1]) + "." +
                 std::to_string(body[at + 2]) + "." + std::to_string(body[at + 3]);
        };
        const uint64_t proto = le(body, 12, 2);
        const std::string p = proto == 6 ? "TCP" : proto == 17 ? "UDP" : hex_num(proto);
        return "IPv4(" + ip(4) + "," + p + "," + (body[14] ? "Static" : "DHCP") + "," + ip(0) + "," +
               ip(15) + "," + ip(19) + ")";
      }
      if (subtype == 24) {  // URI, not NUL-terminated
        std::string uri;
        for (uint8_t c : body) uri += (c >= 0x20 && c < 0x7f) ? static_cast<char>(c) : '?';
        return "Uri(" + uri + ")";
      }
      if (subtype == 18 && n == 6)
        return "Sata(" + hex_num(le(body, 0, 2)) + "," + hex_num(le(body, 2, 2)) + "," +
               hex_num(le(body, 4, 2)) + ")";
      if (subtype == 23 && n == 12) {
        std::string eui;
        for (size_t i = 0; i < 8; ++i) {
          char b[4];
          std::snprintf(b, sizeof b, "%s%02x", i ? "-" : "", body[4 + i]);
          eui += b;
        }
        return "NVMe(" + hex_num(le(body, 0, 4)) + "," + eui + ")";
      }
      break;
    case 4:  // media
      if (subtype == 1 && n == 38) {
        // HD: PartitionNumber u32, Start u64, Size u64, Signature[16], MBRType u8, SignatureType u8.
        const std::string num = std::to_string(le(body, 0, 4));
        const std::string range = hex_num(le(body, 4, 8)) + "," + hex_num(le(body, 12, 8));
        const uint8_t sig_type = body[37];
        if (sig_type == 2)
          return "HD(" + num + ",GPT," + guid_from_bytes(body.subspan(20, 16)).to_string() + "," +
                 range + ")";
        if (sig_type == 1) return "HD(" + num + ",MBR," + hex_num(le(body, 20, 4)) + "," + range + ")";
        return "HD(" + num + "," + hex_num(sig_type) + ",0," + range + ")";
      }
      if (subtype == 2 && n == 20)
        return "CDROM(" + hex_num(le(body, 0, 4)) + "," + hex_num(le(body, 4, 8)) + "," +
               hex_num(le(body, 12, 8)) + ")";
      if (subtype == 3 && n >= 16) return vendor("VenMedia", body);
      if (subtype == 4) return utf16le_to_utf8(body);  // file path, already '\'-rooted
      if (subtype == 6 && n == 16) return "FvFile(" + guid_from_bytes(body).to_string() + ")";
      if (subtype == 7 && n == 16) return "Fv(" + guid_from_bytes(body).to_string() + ")";
      if (subtype == 8 && n == 20)
        return "Offset(" + hex_num(le(body, 4, 8)) + "," + hex_num(le(body, 12, 8)) + ")";
      break;
    default:
      break;
  }
  return generic(type, subtype, body);
}

}  // namespace

Result<std::string> device_path_to_text(ByteView path, size_t base_offset) {
  ByteReader r(path, base_offset);
  std::string out;
  bool need_slash = false;
  for (size_t nodes = 0; !r.empty(); ++nodes) {
    if (nodes == kMaxDevicePathNodes) {
      return r.error("device path", "more than " + std::to_string(kMaxDevicePathNodes) + " nodes");
    }
    const size_t node_offset = r.offset();
    auto type = r.u8("device path node Type");
    if (!type) return type.take_error();
    auto subtype = r.u8("device path node SubType");
    if (!subtype) return subtype.take_error();
    auto length = r.u16_le("device path node Length");
    if (!length) return length.take_error();
    if (*length < 4) {
      return r.error_at(node_offset, "device path node Length",
                        std::to_string(*length) + " is below the 4-byte node header");
    }
    auto body = r.bytes(*length - 4u, "device path node data");
    if (!body) return body.take_error();
    if (*type == 0x7f) {
      if (*subtype == 0xff) break;  // end of the whole path
      out += ",";                   // end of this instance, another follows
      need_slash = false;
      continue;
    }
    if (need_slash) out += "/";
    out += node_text(*type, *subtype, *body);
    need_slash = true;
  }
  return out;
}

Result<ImageLoadEvent> parse_image_load_event(ByteView data, size_t base_offset) {
  ByteReader r(data, base_offset);
  ImageLoadEvent ev;
  auto loc = r.u64_le("UEFI_IMAGE_LOAD_EVENT.ImageLocationInMemory");
  if (!loc) return loc.take_error();
  auto len = r.u64_le("UEFI_IMAGE_LOAD_EVENT.ImageLengthInMemory");
  if (!len) return len.take_error();
  auto link = r.u64_le("UEFI_IMAGE_LOAD_EVENT.ImageLinkTimeAddress");
  if (!link) return link.take_error();
  auto dp_len = r.u64_le("UEFI_IMAGE_LOAD_EVENT.LengthOfDevicePath");
  if (!dp_len) return dp_len.take_error();
  if (*dp_len > r.remaining()) {
    return r.error("UEFI_IMAGE_LOAD_EVENT.DevicePath",
                   "LengthOfDevicePath " + std::to_string(*dp_len) + " but only " +
                       std::to_string(r.remaining()) + " bytes left");
  }
  ev.device_path_offset = r.offset();
  auto dp = r.bytes(static_cast<size_t>(*dp_len), "UEFI_IMAGE_LOAD_EVENT.DevicePath");
  if (!dp) return dp.take_error();
  ev.image_location = *loc;
  ev.image_length = *len;
  ev.link_time_address = *link;
  ev.device_path = *dp;
  return ev;
}

}  // namespace tl::eventlog
