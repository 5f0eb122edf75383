#include "host/image_cpio.h"

#include <algorithm>
#include <cstdio>
#include <map>
#include <set>

namespace tl::host {
namespace {

constexpr uint32_t kTypeDir = 0040000;
constexpr uint32_t kTypeFile = 0100000;
constexpr uint32_t kTypeLink = 0120000;
constexpr size_t kHeaderSize = 110;  // "070701" + 13 fields of 8 hex digits
constexpr const char* kTrailer = "TRAILER!!!";

Error bad_path(const std::string& path, const std::string& why) {
  std::string shown = path.size() > 80 ? path.substr(0, 80) + "…" : path;
  return Error{"initramfs path '" + shown + "': " + why, "cpio-bad-path"};
}

void put_hex8(Bytes& out, uint32_t v) {
  char buf[9];
  std::snprintf(buf, sizeof buf, "%08X", v);
  out.insert(out.end(), buf, buf + 8);
}

void pad4(Bytes& out) {
  while (out.size() % 4 != 0) out.push_back(0);
}

void put_entry(Bytes& out, uint32_t ino, uint32_t mode, uint32_t mtime, const std::string& name,
               ByteView data) {
  const char magic[] = "070701";
  out.insert(out.end(), magic, magic + 6);
  const uint32_t fields[13] = {ino, mode, 0, 0, (mode & kTypeDir) == kTypeDir ? 2u : 1u, mtime,
                               static_cast<uint32_t>(data.size()), 0, 0, 0, 0,
                               static_cast<uint32_t>(name.size() + 1), 0};
  for (uint32_t f : fields) put_hex8(out, f);
  out.insert(out.end(), name.begin(), name.end());
  out.push_back(0);
  pad4(out);
  out.insert(out.end(), data.begin(), data.end());
  pad4(out);
}

uint32_t type_bits(CpioType t) {
  switch (t) {
    case CpioType::directory: return kTypeDir;
    case CpioType::symlink: return kTypeLink;
    case CpioType::file: break;
  }
  return kTypeFile;
}

}  // namespace

Status check_cpio_path(const std::string& path) {
  if (path.empty()) return bad_path(path, "empty");
  if (path.size() > kCpioMaxPath) {
    return bad_path(path, std::to_string(path.size()) + " bytes, longer than " + std::to_string(kCpioMaxPath));
  }
  if (path.find('\0') != std::string::npos) return bad_path(path, "contains a NUL byte");
  if (path.front() == '/') return bad_path(path, "absolute (must be relative to the archive root)");
  size_t start = 0;
  while (start <= path.size()) {
    size_t end = path.find('/', start);
    if (end == std::string::npos) end = path.size();
    const std::string part = path.substr(start, end - start);
    if (part.empty()) return bad_path(path, "empty component");
    if (part == "." || part == "..") return bad_path(path, "'" + part + "' component");
    start = end + 1;
  }
  return {};
}

Result<Bytes> write_cpio(std::vector<CpioEntry> entries, uint32_t mtime) {
  std::map<std::string, const CpioEntry*> by_path;
  for (const CpioEntry& e : entries) {
    if (Status s = check_cpio_path(e.path); !s) return s.take_error();
    if (e.path == kTrailer) return bad_path(e.path, "reserved as the archive trailer");
    if ((e.mode & ~07777u) != 0) return bad_path(e.path, "mode has bits outside 07777");
    if (!by_path.emplace(e.path, &e).second) return bad_path(e.path, "listed twice");
  }
  // Parents the caller did not list become 0755 directories; listed parents must be directories.
  std::set<std::string> implied;
  for (const auto& [path, e] : by_path) {
    for (size_t slash = path.find('/'); slash != std::string::npos; slash = path.find('/', slash + 1)) {
      const std::string parent = path.substr(0, slash);
      auto it = by_path.find(parent);
      if (it == by_path.end()) {
        implied.insert(parent);
      } else if (it->second->type != CpioType::directory) {
        return bad_path(path, "parent '" + parent + "' is not a directory");
      }
    }
  }
  CpioEntry dir_template;
  dir_template.type = CpioType::directory;
  dir_template.mode = 0755;
  std::map<std::string, CpioEntry> implied_entries;
  for (const std::string& p : implied) {
    CpioEntry d = dir_template;
    d.path = p;
    implied_entries.emplace(p, std::move(d));
  }
  for (const auto& [p, d] : implied_entries) by_path.emplace(p, &d);

  // std::map orders by bytes, so a directory always precedes what it holds
  // ("a" < "a/b"), which the kernel's unpacker needs.
  Bytes out;
  uint32_t ino = 1;
  for (const auto& [path, e] : by_path) {
    ByteView data = e->type == CpioType::directory ? ByteView{} : ByteView{e->data};
    if (data.size() > 0xffffffffu) return bad_path(path, "larger than 4 GiB");
    put_entry(out, ino++, type_bits(e->type) | e->mode, mtime, path, data);
  }
  put_entry(out, 0, 0, 0, kTrailer, {});
  return out;
}

Result<std::vector<CpioEntry>> read_cpio(ByteView a) {
  std::vector<CpioEntry> out;
  size_t off = 0;
  auto fail = [&](const std::string& why) {
    return Error{"cpio entry at offset " + std::to_string(off) + ": " + why, "cpio-malformed"};
  };
  while (true) {
    if (a.size() - off < kHeaderSize) return fail("truncated header (no TRAILER!!! entry)");
    if (std::string(a.begin() + off, a.begin() + off + 6) != "070701") return fail("bad magic (not newc)");
    uint32_t f[13];
    for (int i = 0; i < 13; ++i) {
      uint32_t v = 0;
      for (int j = 0; j < 8; ++j) {
        const uint8_t c = a[off + 6 + i * 8 + j];
        int d = c >= '0' && c <= '9' ? c - '0' : c >= 'A' && c <= 'F' ? c - 'A' + 10
                : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
        if (d < 0) return fail("header field " + std::to_string(i) + " is not hex");
        v = v << 4 | static_cast<uint32_t>(d);
      }
      f[i] = v;
    }
    const uint32_t mode = f[1], filesize = f[6], namesize = f[11];
    if (namesize == 0 || namesize > kCpioMaxPath + 1) return fail("name size " + std::to_string(namesize));
    size_t name_end = off + kHeaderSize + namesize;
    if (name_end > a.size()) return fail("name runs past the end");
    if (a[name_end - 1] != 0) return fail("name not NUL-terminated");
    std::string name(a.begin() + off + kHeaderSize, a.begin() + name_end - 1);
    size_t data_off = (name_end + 3) & ~size_t{3};
    if (data_off > a.size() || a.size() - data_off < filesize) return fail("'" + name + "': data runs past the end");
    if (name == kTrailer) return out;
    if (Status s = check_cpio_path(name); !s) return fail(s.error().message);
    CpioEntry e;
    e.path = name;
    e.mode = mode & 07777;
    switch (mode & 0170000) {
      case kTypeDir: e.type = CpioType::directory; break;
      case kTypeFile: e.type = CpioType::file; break;
      case kTypeLink: e.type = CpioType::symlink; break;
      default: return fail("'" + name + "': unsupported file type");
    }
    if (e.type == CpioType::directory && filesize != 0) return fail("'" + name + "': directory with data");
    e.data.assign(a.begin() + data_off, a.begin() + data_off + filesize);
    out.push_back(std::move(e));
    off = (data_off + filesize + 3) & ~size_t{3};
    if (off > a.size()) return fail("padding runs past the end");
  }
}

}  // namespace tl::host
