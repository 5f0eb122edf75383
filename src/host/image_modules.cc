#include "host/image_modules.h"

#include <cstring>
#include <fstream>
#include <functional>
#include <iterator>

namespace tl::host {
namespace fs = std::filesystem;
namespace {

Error malformed(const std::string& why) { return Error{"kernel module ELF: " + why, "module-malformed"}; }

uint64_t le(ByteView b, size_t off, size_t n) {
  uint64_t v = 0;
  for (size_t i = 0; i < n; ++i) v |= uint64_t{b[off + i]} << (8 * i);
  return v;
}

Result<Bytes> read_all(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  if (!in) return Error{"cannot read " + p.string(), "module-not-found"};
  return Bytes(std::istreambuf_iterator<char>(in), {});
}

}  // namespace

std::string module_key(std::string_view name) {
  std::string k(name);
  for (char& c : k) {
    if (c == '-') c = '_';
  }
  return k;
}

Result<std::vector<std::string>> module_depends(ByteView ko) {
  if (ko.size() < 64) return malformed("shorter than an ELF64 header");
  if (!(ko[0] == 0x7f && ko[1] == 'E' && ko[2] == 'L' && ko[3] == 'F')) return malformed("no ELF magic");
  if (ko[4] != 2 || ko[5] != 1) return malformed("not ELF64 little-endian");
  const uint64_t shoff = le(ko, 0x28, 8);
  const uint64_t shentsize = le(ko, 0x3a, 2), shnum = le(ko, 0x3c, 2), shstrndx = le(ko, 0x3e, 2);
  if (shentsize != 64) return malformed("section header size " + std::to_string(shentsize) + ", expected 64");
  if (shnum == 0 || shstrndx >= shnum) return malformed("section name table index out of range");
  if (shoff > ko.size() || (ko.size() - shoff) / 64 < shnum) return malformed("section headers run past the end");
  auto section = [&](uint64_t i, uint64_t& off, uint64_t& size) -> Status {
    const size_t h = static_cast<size_t>(shoff + i * 64);
    off = le(ko, h + 0x18, 8);
    size = le(ko, h + 0x20, 8);
    const uint32_t type = static_cast<uint32_t>(le(ko, h + 4, 4));
    if (type == 8) size = 0;  // SHT_NOBITS: no bytes in the file
    if (off > ko.size() || ko.size() - off < size) return malformed("section " + std::to_string(i) + " runs past the end");
    return {};
  };
  uint64_t stroff = 0, strsize = 0;
  if (Status s = section(shstrndx, stroff, strsize); !s) return s.take_error();
  for (uint64_t i = 0; i < shnum; ++i) {
    const uint64_t name = le(ko, static_cast<size_t>(shoff + i * 64), 4);
    if (name >= strsize) continue;
    const char* base = reinterpret_cast<const char*>(ko.data() + stroff + name);
    const std::string sec_name(base, strnlen(base, static_cast<size_t>(strsize - name)));
    if (sec_name != ".modinfo") continue;
    uint64_t off = 0, size = 0;
    if (Status s = section(i, off, size); !s) return s.take_error();
    // NUL-separated "key=value" strings.
    const std::string text(ko.begin() + static_cast<ptrdiff_t>(off), ko.begin() + static_cast<ptrdiff_t>(off + size));
    std::vector<std::string> deps;
    size_t start = 0;
    while (start < text.size()) {
      size_t end = text.find('\0', start);
      if (end == std::string::npos) end = text.size();
      const std::string item = text.substr(start, end - start);
      if (item.rfind("depends=", 0) == 0) {
        const std::string list = item.substr(8);
        size_t p = 0;
        while (p <= list.size() && !list.empty()) {
          size_t comma = list.find(',', p);
          if (comma == std::string::npos) comma = list.size();
          if (comma > p) deps.push_back(module_key(list.substr(p, comma - p)));
          p = comma + 1;
        }
      }
      start = end + 1;
    }
    return deps;
  }
  return malformed("no .modinfo section");
}

Result<ModuleIndex> index_modules(const fs::path& dir) {
  ModuleIndex index;
  std::error_code ec;
  if (!fs::is_directory(dir / "kernel", ec)) {
    return Error{"no kernel modules in " + dir.string() + " (kernel/ missing)", "module-not-found"};
  }
  for (auto it = fs::recursive_directory_iterator(dir / "kernel", ec); !ec && it != fs::recursive_directory_iterator();
       it.increment(ec)) {
    if (!it->is_regular_file() || it->path().extension() != ".ko") continue;
    index.files[module_key(it->path().stem().string())] = it->path();
  }
  if (ec) return Error{"listing " + dir.string() + ": " + ec.message(), "module-not-found"};
  std::ifstream builtin(dir / "modules.builtin");
  for (std::string line; std::getline(builtin, line);) {
    // "kernel/drivers/tty/serial/8250/8250.ko"
    const fs::path p(line);
    if (p.extension() == ".ko") index.builtin.insert(module_key(p.stem().string()));
  }
  return index;
}

Result<std::vector<std::string>> module_load_order(const std::vector<std::string>& wanted,
                                                   const std::set<std::string>& available,
                                                   const std::set<std::string>& builtin, const DependsFn& deps) {
  std::vector<std::string> order;
  std::set<std::string> done, in_progress;
  // Depth-first, dependencies first; in_progress catches cycles.
  std::function<Status(const std::string&, const std::string&)> visit = [&](const std::string& key,
                                                                            const std::string& needed_by) -> Status {
    if (done.count(key) != 0) return {};
    if (builtin.count(key) != 0 && available.count(key) == 0) {
      done.insert(key);
      return {};
    }
    if (available.count(key) == 0) {
      return Error{"kernel module '" + key + "'" + (needed_by.empty() ? "" : " (needed by " + needed_by + ")") +
                       " is neither in the kernel package nor built in",
                   "module-not-found"};
    }
    if (!in_progress.insert(key).second) return Error{"kernel module dependency cycle through '" + key + "'", "module-cycle"};
    auto d = deps(key);
    if (!d) return with_context("kernel module '" + key + "'", d.take_error());
    for (const std::string& dep : *d) {
      if (Status s = visit(dep, key); !s) return s;
    }
    in_progress.erase(key);
    done.insert(key);
    order.push_back(key);
    return {};
  };
  for (const std::string& w : wanted) {
    if (Status s = visit(module_key(w), ""); !s) return s.take_error();
  }
  return order;
}

Result<std::vector<std::string>> resolve_modules(const ModuleIndex& index, const std::vector<std::string>& wanted) {
  std::set<std::string> available;
  for (const auto& [k, p] : index.files) available.insert(k);
  return module_load_order(wanted, available, index.builtin, [&](const std::string& key) -> Result<std::vector<std::string>> {
    auto bytes = read_all(index.files.at(key));
    if (!bytes) return bytes.take_error();
    auto d = module_depends(*bytes);
    if (!d) return with_context(index.files.at(key).string(), d.take_error());
    return d;
  });
}

}  // namespace tl::host
