#include "host/image_initrd.h"

#include <csignal>
#include <optional>
#include <set>
#include <sstream>

#include "host/image_cpio.h"
#include "host/image_files.h"
#include "host/image_guest.h"
#include "host/image_modules.h"
#include "host/process.h"

namespace tl::host {
namespace fs = std::filesystem;
using namespace std::chrono_literals;

namespace {

// libtss2-esys loads its TCTI with dlopen, which ldd cannot see.
constexpr const char* kDlopenedLibs[] = {"libtss2-tcti-device.so.0"};
constexpr const char* kLibDirs[] = {"/lib/x86_64-linux-gnu", "/usr/lib/x86_64-linux-gnu"};

Error agent_error(const std::string& m) { return Error{m, "image-agent"}; }

Result<std::vector<std::string>> ldd(const fs::path& binary) {
  auto out = run_checked({"ldd", binary.string()}, 60s);
  if (!out) return with_context("listing the shared libraries of " + binary.string(), out.take_error());
  return parse_ldd(*out);
}

CpioEntry file_entry(std::string path, Bytes data, uint32_t mode) {
  CpioEntry e;
  e.path = std::move(path);
  e.type = CpioType::file;
  e.mode = mode;
  e.data = std::move(data);
  return e;
}

CpioEntry dir_entry(std::string path, uint32_t mode = 0755) {
  CpioEntry e;
  e.path = std::move(path);
  e.type = CpioType::directory;
  e.mode = mode;
  return e;
}

CpioEntry link_entry(std::string path, const std::string& target) {
  CpioEntry e;
  e.path = std::move(path);
  e.type = CpioType::symlink;
  e.mode = 0777;
  e.data.assign(target.begin(), target.end());
  return e;
}

Bytes text_bytes(std::string_view s) { return Bytes(s.begin(), s.end()); }

}  // namespace

std::vector<std::string> guest_modules() {
  return {"efivarfs", "virtio_pci", "virtio_net", "virtio_blk", "qemu_fw_cfg", "button", "evdev"};
}

std::vector<std::string> guest_applets() {
  return {"sh",   "acpid", "cat",  "chmod", "cp",   "cut",  "dmesg", "echo",     "grep",  "halt",
          "insmod", "ip",  "kill", "ls",    "mkdir", "mount", "od",   "poweroff", "printf", "ps",
          "reboot", "sha256sum", "sleep", "sync", "tail", "tr", "umount", "uname", "wc", "["};
}

Result<std::vector<std::string>> parse_ldd(const std::string& output) {
  std::vector<std::string> libs;
  std::istringstream in(output);
  for (std::string line; std::getline(in, line);) {
    const size_t arrow = line.find("=>");
    std::string path;
    if (arrow != std::string::npos) {
      std::string rest = line.substr(arrow + 2);
      const size_t start = rest.find_first_not_of(" \t");
      if (start == std::string::npos) return agent_error("ldd: no path in line '" + line + "'");
      rest = rest.substr(start);
      if (rest.rfind("not found", 0) == 0) {
        std::string name = line.substr(0, arrow);
        name.erase(0, name.find_first_not_of(" \t"));
        name.erase(name.find_last_not_of(" \t") + 1);
        return agent_error("the agent needs " + name + ", which is not installed on this host");
      }
      path = rest.substr(0, rest.find(" ("));
    } else {
      std::string t = line;
      t.erase(0, t.find_first_not_of(" \t"));
      if (t.empty() || t[0] != '/') continue;  // linux-vdso.so.1, "statically linked"
      path = t.substr(0, t.find(" ("));
    }
    if (path.empty() || path[0] != '/') return agent_error("ldd: unexpected path in line '" + line + "'");
    libs.push_back(path);
  }
  return libs;
}

Result<Initrd> build_initrd(const InitrdInputs& in) {
  Initrd result;
  std::vector<CpioEntry> entries;
  for (const char* d : {"dev", "proc", "sys", "run", "tmp", "root", "etc", "etc/acpi", "etc/acpi/PWRF"}) {
    entries.push_back(dir_entry(d));
  }
  entries.push_back(file_entry("init", text_bytes(init_script()), 0755));
  entries.push_back(file_entry("etc/acpi/PWRF/00000080", text_bytes(power_button_handler()), 0755));
  entries.push_back(file_entry("etc/os-release", text_bytes(make_os_release(in.kernel_version)), 0644));

  // busybox, one symlink per applet used.
  auto busybox = read_whole_file(in.root / "bin/busybox");
  if (!busybox) return with_context("busybox-static", busybox.take_error());
  entries.push_back(file_entry("bin/busybox", std::move(*busybox), 0755));
  for (const std::string& applet : guest_applets()) entries.push_back(link_entry("bin/" + applet, "busybox"));

  // Kernel modules, flat in /lib/modules, with the order /init loads them in.
  const fs::path mod_dir = in.root / "lib/modules" / in.kernel_version;
  auto index = index_modules(mod_dir);
  if (!index) return index.take_error();
  auto order = resolve_modules(*index, guest_modules());
  if (!order) return order.take_error();
  std::string load_order;
  for (const std::string& m : *order) {
    auto ko = read_whole_file(index->files.at(m));
    if (!ko) return ko.take_error();
    entries.push_back(file_entry("lib/modules/" + m + ".ko", std::move(*ko), 0644));
    load_order += m + "\n";
  }
  entries.push_back(file_entry("lib/modules/load-order", text_bytes(load_order), 0644));
  result.modules = *order;

  // The agent and every shared object it loads, at the paths ldd resolved.
  std::error_code ec;
  if (!fs::is_regular_file(in.agent, ec)) {
    return agent_error("tlaunch-agent not found at " + in.agent.string() + " (build it, or give --agent PATH)");
  }
  auto agent = read_whole_file(in.agent);
  if (!agent) return agent.take_error();
  entries.push_back(file_entry("bin/tlaunch-agent", std::move(*agent), 0755));
  auto libs = ldd(in.agent);
  if (!libs) return libs.take_error();
  for (const char* name : kDlopenedLibs) {
    fs::path found;
    for (const char* dir : kLibDirs) {
      if (fs::exists(fs::path(dir) / name, ec)) {
        found = fs::path(dir) / name;
        break;
      }
    }
    if (found.empty()) return agent_error(std::string("the agent loads ") + name + ", which is not installed on this host (libtss2-dev)");
    libs->push_back(found.string());
    auto more = ldd(found);
    if (!more) return more.take_error();
    libs->insert(libs->end(), more->begin(), more->end());
  }
  std::set<std::string> seen;
  for (const std::string& lib : *libs) {
    if (!seen.insert(lib).second) continue;
    auto data = read_whole_file(lib);  // follows the soname symlink to the real file
    if (!data) return data.take_error();
    entries.push_back(file_entry(lib.substr(1), std::move(*data), 0755));
    result.libraries.push_back(lib);
  }

  auto cpio = write_cpio(std::move(entries), in.mtime);
  if (!cpio) return cpio.take_error();
  if (!in.gzip) {
    result.image = std::move(*cpio);
    return result;
  }
  const fs::path raw = in.scratch / "initrd.cpio", gz = in.scratch / "initrd.cpio.gz";
  if (Status s = write_whole_file(raw, *cpio); !s) return s.take_error();
  fs::remove(gz, ec);
  SpawnOptions opts;
  opts.stdout_file = gz;
  // -n: no name or time stamp in the gzip header, so the bytes depend only on the contents.
  // spawn, not run: run() captures stdout, and gzip's stdout is the file.
  auto z = spawn({"gzip", "-n", "-9", "-c", raw.string()}, opts);
  if (!z) return with_context("compressing the initramfs", z.take_error());
  const std::optional<int> status = z->wait(10min);
  if (!status) {
    z->signal(SIGKILL);
    z->wait();
    return Error{"compressing the initramfs: gzip did not finish in 10 minutes", "host-tool-timeout"};
  }
  if (*status != 0) {
    return Error{"compressing the initramfs: gzip failed (exit " + std::to_string(*status) + ")", "host-tool-failed"};
  }
  auto image = read_whole_file(gz);
  if (!image) return image.take_error();
  result.image = std::move(*image);
  return result;
}

}  // namespace tl::host
