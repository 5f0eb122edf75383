#include "host/vm_config.h"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <fcntl.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include <nlohmann/json.hpp>

#include "common/rfc3339.h"
#include "host/json_fields.h"

namespace tl::host {

namespace {

constexpr const char* kFormat = "tlaunch-vm";

bool is_hex(const std::string& s) {
  return s.find_first_not_of("0123456789abcdef") == std::string::npos;
}

Result<UefiKeys> parse_keys(const std::string& s, const std::string& where) {
  if (s == "microsoft") return UefiKeys::kMicrosoft;
  if (s == "snakeoil") return UefiKeys::kSnakeoil;
  if (s == "custom") return UefiKeys::kCustom;
  return Error{where + ": member 'uefiKeys' must be microsoft, snakeoil or custom, not '" + printable(s, 40) + "'",
               "host-config-invalid"};
}

}  // namespace

Status check_vm_name(const std::string& name) {
  if (name.empty()) return Error{"VM name is empty: give 1-63 of a-z 0-9 - (starting with a letter or digit)", "vm-name-invalid"};
  if (name.size() > 63) {
    return Error{"VM name '" + printable(name, 80) + "' is " + std::to_string(name.size()) + " characters long: at most 63",
                 "vm-name-invalid"};
  }
  for (size_t i = 0; i < name.size(); ++i) {
    const char c = name[i];
    const bool ok = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || (c == '-' && i > 0);
    if (!ok) {
      const std::string shown = (c >= 0x21 && c < 0x7f) ? std::string("'") + c + "'"
                                                          : "byte 0x" + [&] {
                                                              char b[3];
                                                              std::snprintf(b, sizeof b, "%02x", static_cast<unsigned char>(c));
                                                              return std::string(b);
                                                            }();
      return Error{"VM name '" + printable(name, 80) + "' has " + shown + " at position " + std::to_string(i + 1) +
                       ": use a-z 0-9 and '-' (not first)",
                   "vm-name-invalid"};
    }
  }
  return {};
}

const char* uefi_keys_name(UefiKeys k) {
  switch (k) {
    case UefiKeys::kMicrosoft: return "microsoft";
    case UefiKeys::kSnakeoil: return "snakeoil";
    case UefiKeys::kCustom: return "custom";
  }
  return "microsoft";
}

std::string to_json_text(const VmConfig& c) {
  nlohmann::ordered_json j;
  j["format"] = kFormat;
  j["version"] = VmConfig::kVersion;
  j["name"] = c.name;
  j["vmId"] = c.vm_id;
  j["securityType"] = c.security_type;
  j["secureBoot"] = c.secure_boot;
  j["vtpm"] = c.vtpm;
  j["memoryMiB"] = c.memory_mib;
  j["cpus"] = c.cpus;
  j["uefiKeys"] = uefi_keys_name(c.uefi_keys);
  j["uefiKeysFile"] = c.uefi_keys_file;
  j["image"] = {{"path", c.image_path}, {"manifestSha256", c.image_manifest_sha256}};
  j["server"] = {{"url", c.server_url}, {"tokenFile", c.token_file}, {"registered", c.registered}};
  j["guestEndpoint"] = c.guest_endpoint;
  j["group"] = c.group;
  j["releaseKeys"] = c.release_keys;
  j["attestInterval"] = c.attest_interval;
  j["createdAt"] = c.created_at;
  // replace: a path with invalid UTF-8 must not throw.
  return j.dump(2, ' ', false, nlohmann::ordered_json::error_handler_t::replace) + "\n";
}

Result<VmConfig> parse_vm_config(std::string_view text, const std::string& where) {
  const auto j = nlohmann::json::parse(text, nullptr, false);
  if (j.is_discarded()) return Error{where + ": not valid JSON (truncated or damaged)", "host-config-invalid"};
  auto o = StrictObject::open(j, where,
                              {"format", "version", "name", "vmId", "securityType", "secureBoot", "vtpm", "memoryMiB",
                               "cpus", "uefiKeys", "uefiKeysFile", "image", "server", "guestEndpoint", "group",
                               "releaseKeys", "attestInterval", "createdAt"});
  if (!o) return o.take_error();
  auto format = o->str("format");
  if (!format) return format.take_error();
  if (*format != kFormat) return o->error("format", "must be \"tlaunch-vm\"");
  auto version = o->integer("version", 1, 1000000);
  if (!version) return version.take_error();
  if (*version != VmConfig::kVersion) {
    return o->error("version", "is " + std::to_string(*version) + ": this tlaunch reads version " +
                                   std::to_string(VmConfig::kVersion) + " (a newer tlaunch wrote it?)");
  }
  VmConfig c;
  // Each member in turn; the first problem is the answer.
  auto get_str = [&](const char* key, std::string& out) -> Status {
    auto v = o->str(key);
    if (!v) return v.take_error();
    out = std::move(*v);
    return {};
  };
  for (auto [key, out] : std::initializer_list<std::pair<const char*, std::string*>>{
           {"name", &c.name}, {"vmId", &c.vm_id}, {"securityType", &c.security_type},
           {"uefiKeysFile", &c.uefi_keys_file}, {"guestEndpoint", &c.guest_endpoint}, {"group", &c.group},
           {"createdAt", &c.created_at}}) {
    if (auto s = get_str(key, *out); !s) return s.take_error();
  }
  if (auto s = check_vm_name(c.name); !s) return with_context(where + ": member 'name'", s.take_error());
  if (c.vm_id.size() != 36 || c.vm_id[8] != '-' || c.vm_id[13] != '-' || c.vm_id[18] != '-' || c.vm_id[23] != '-' ||
      c.vm_id.find_first_not_of("0123456789abcdef-") != std::string::npos) {
    return o->error("vmId", "must be a lower-case UUID");
  }
  if (c.security_type != "TrustedLaunch" && c.security_type != "Standard") {
    return o->error("securityType", "must be TrustedLaunch or Standard");
  }
  auto sb = o->boolean("secureBoot");
  if (!sb) return sb.take_error();
  c.secure_boot = *sb;
  auto vtpm = o->boolean("vtpm");
  if (!vtpm) return vtpm.take_error();
  c.vtpm = *vtpm;
  auto mem = o->integer("memoryMiB", 128, 1 << 20);
  if (!mem) return mem.take_error();
  c.memory_mib = *mem;
  auto cpus = o->integer("cpus", 1, 256);
  if (!cpus) return cpus.take_error();
  c.cpus = *cpus;
  auto keys = o->str("uefiKeys");
  if (!keys) return keys.take_error();
  auto k = parse_keys(*keys, where);
  if (!k) return k.take_error();
  c.uefi_keys = *k;
  if (c.uefi_keys == UefiKeys::kCustom && c.uefi_keys_file.empty()) {
    return o->error("uefiKeysFile", "must name the prepared varstore when uefiKeys is custom");
  }
  auto interval = o->integer("attestInterval", 0, 7 * 24 * 3600);
  if (!interval) return interval.take_error();
  c.attest_interval = *interval;
  auto rk = o->strings("releaseKeys");
  if (!rk) return rk.take_error();
  c.release_keys = std::move(*rk);

  auto image_it = j.find("image");
  if (image_it == j.end()) return o->error("image", "is missing");
  auto image = StrictObject::open(*image_it, where + ": member 'image'", {"path", "manifestSha256"});
  if (!image) return image.take_error();
  auto ip = image->str("path");
  if (!ip) return ip.take_error();
  c.image_path = *ip;
  auto mh = image->str("manifestSha256");
  if (!mh) return mh.take_error();
  if (!mh->empty() && (mh->size() != 64 || !is_hex(*mh))) return image->error("manifestSha256", "must be 64 lower-case hex digits or empty");
  c.image_manifest_sha256 = *mh;

  auto server_it = j.find("server");
  if (server_it == j.end()) return o->error("server", "is missing");
  auto server = StrictObject::open(*server_it, where + ": member 'server'", {"url", "tokenFile", "registered"});
  if (!server) return server.take_error();
  auto url = server->str("url");
  if (!url) return url.take_error();
  c.server_url = *url;
  auto tf = server->str("tokenFile");
  if (!tf) return tf.take_error();
  c.token_file = *tf;
  auto reg = server->boolean("registered");
  if (!reg) return reg.take_error();
  c.registered = *reg;
  return c;
}

Result<std::string> read_text_file(const std::filesystem::path& file, size_t max_bytes) {
  const int fd = ::open(file.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return Error{"cannot read " + file.string() + ": " + std::strerror(errno), "host-io"};
  std::string out;
  char buf[8192];
  for (;;) {
    const ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      const int e = errno;
      ::close(fd);
      return Error{"cannot read " + file.string() + ": " + std::strerror(e), "host-io"};
    }
    if (n == 0) break;
    if (out.size() + static_cast<size_t>(n) > max_bytes) {
      ::close(fd);
      return Error{file.string() + " is larger than " + std::to_string(max_bytes) + " bytes", "host-config-invalid"};
    }
    out.append(buf, static_cast<size_t>(n));
  }
  ::close(fd);
  return out;
}

Status write_vm_config(const std::filesystem::path& file, const VmConfig& c) {
  return write_file_atomic(file, to_json_text(c));
}

Result<VmConfig> read_vm_config(const std::filesystem::path& file) {
  auto text = read_text_file(file);
  if (!text) return text.take_error();
  return parse_vm_config(*text, file.string());
}

std::string random_uuid() {
  unsigned char b[16];
  size_t got = 0;
  while (got < sizeof b) {
    const ssize_t n = getrandom(b + got, sizeof b - got, 0);
    if (n > 0) got += static_cast<size_t>(n);
  }
  b[6] = static_cast<unsigned char>((b[6] & 0x0f) | 0x40);  // version 4
  b[8] = static_cast<unsigned char>((b[8] & 0x3f) | 0x80);  // RFC 4122 variant
  char out[37];
  std::snprintf(out, sizeof out, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", b[0], b[1],
                b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12], b[13], b[14], b[15]);
  return out;
}

std::string now_rfc3339() { return format_rfc3339(static_cast<int64_t>(std::time(nullptr))); }

}  // namespace tl::host
