// The Linux boot as boot loaders measure it:
//  - GRUB (grub-core/commands/tpm.c): every command on PCR 8 as EV_IPL
//    "grub_cmd: <cmd>\0", the kernel command line as "kernel_cmdline: <line>\0",
//    every file it reads (config, kernel, initrd) on PCR 9 as its path.
//  - systemd-boot / systemd-stub: the kernel command line as UTF-16LE on PCR 12
//    (older systemd-boot: PCR 8) as EV_IPL.
//  - the Linux EFI stub (5.19+ / 6.1): the initrd it loads on PCR 9 as an
//    EV_EVENT_TAG with id 0x8F3B22EC, "Linux initrd"; load options with 0x8F3B22ED.
#include <algorithm>
#include <cctype>

#include "eventlog/facts_internal.h"
#include "eventlog/uefi_variable.h"

namespace tl::eventlog::detail {

namespace {

constexpr std::string_view kGrubCmd = "grub_cmd: ";
constexpr std::string_view kGrubCmdline = "kernel_cmdline: ";
constexpr uint32_t kInitrdTag = 0x8F3B22EC;
constexpr uint32_t kLoadOptionsTag = 0x8F3B22ED;

bool starts_with(std::string_view s, std::string_view prefix) {
  return s.substr(0, prefix.size()) == prefix;
}

// "linux /vmlinuz-6.1 root=…" -> {"linux", "/vmlinuz-6.1"}.
std::pair<std::string_view, std::string_view> first_two_words(std::string_view s) {
  auto skip_space = [&](size_t p) {
    while (p < s.size() && std::isspace(static_cast<unsigned char>(s[p]))) ++p;
    return p;
  };
  auto word_end = [&](size_t p) {
    while (p < s.size() && !std::isspace(static_cast<unsigned char>(s[p]))) ++p;
    return p;
  };
  const size_t a = skip_space(0), a_end = word_end(a);
  const size_t b = skip_space(a_end), b_end = word_end(b);
  return {s.substr(a, a_end - a), s.substr(b, b_end - b)};
}

uint32_t le32(ByteView b, size_t at) {
  return static_cast<uint32_t>(b[at]) | static_cast<uint32_t>(b[at + 1]) << 8 |
         static_cast<uint32_t>(b[at + 2]) << 16 | static_cast<uint32_t>(b[at + 3]) << 24;
}

}  // namespace

// "(hd0,gpt2)/vmlinuz-5.14.0-130.el9.x86_64" -> "5.14.0-130.el9.x86_64".
std::optional<std::string> kernel_version_from_path(std::string_view path) {
  const size_t slash = path.find_last_of("/\\)");
  const std::string_view base = slash == std::string_view::npos ? path : path.substr(slash + 1);
  for (std::string_view prefix : {"vmlinuz-", "vmlinux-", "bzImage-", "kernel-"}) {
    if (!starts_with(base, prefix)) continue;
    const std::string_view version = base.substr(prefix.size());
    // A version starts with a digit ("6.1.0-56-amd64"); "vmlinuz-linux" names none.
    if (version.empty() || !std::isdigit(static_cast<unsigned char>(version[0]))) return std::nullopt;
    return std::string(version);
  }
  return std::nullopt;
}

LinuxBootFacts extract_linux_boot(std::span<const Event> events) {
  LinuxBootFacts f;
  std::optional<std::string> linux_cmd_path;
  for (const Event& e : events) {
    if (e.type == EV_IPL && (e.pcr == 8 || e.pcr == 12) && looks_utf16(e.data)) {
      // systemd: the command line as UTF-16; the last one measured is what the kernel got.
      f.kernel_cmdline = utf16le_to_utf8(e.data);
      if (f.loader.empty()) f.loader = "systemd-boot";
      continue;
    }
    if (e.type == EV_IPL && e.pcr == 8) {
      const std::string_view s = ascii_data(e);
      if (starts_with(s, kGrubCmd)) {
        f.loader = "grub";
        const std::string_view cmd = s.substr(kGrubCmd.size());
        f.grub_commands.emplace_back(cmd);
        auto [verb, arg] = first_two_words(cmd);
        if ((verb == "linux" || verb == "linuxefi" || verb == "linux16") && !arg.empty())
          linux_cmd_path = std::string(arg);
        if ((verb == "initrd" || verb == "initrdefi" || verb == "initrd16") && !arg.empty())
          f.initrd_path = std::string(arg);
      } else if (starts_with(s, kGrubCmdline)) {
        f.loader = "grub";
        f.kernel_cmdline = std::string(s.substr(kGrubCmdline.size()));
      }
      continue;
    }
    if (e.type == EV_IPL && e.pcr == 9 && f.loader == "grub") {
      f.grub_files.emplace_back(ascii_data(e));
      continue;
    }
    if (e.type == EV_EVENT_TAG && e.pcr == 9 && e.data.size() >= 8) {
      // TCG_PCClientTaggedEvent: taggedEventID u32, taggedEventDataSize u32, data.
      const uint32_t id = le32(e.data, 0);
      const uint32_t size = le32(e.data, 4);
      if (id == kInitrdTag) f.initrd_measured_by_kernel = true;
      if (id == kLoadOptionsTag && size <= e.data.size() - 8 && !f.kernel_cmdline)
        f.kernel_cmdline = utf16le_to_utf8(e.data.subspan(8, size));
    }
  }
  // GRUB's measured command line starts with the kernel path (it is the kernel's
  // argv without "BOOT_IMAGE="); prefer it to the `linux` command it came from.
  if (f.loader == "grub" && f.kernel_cmdline) {
    auto [path, rest] = first_two_words(*f.kernel_cmdline);
    (void)rest;
    if (!path.empty()) f.kernel_path = std::string(path);
  }
  if (!f.kernel_path && linux_cmd_path) f.kernel_path = linux_cmd_path;
  if (f.kernel_path) f.kernel_version = kernel_version_from_path(*f.kernel_path);
  return f;
}

}  // namespace tl::eventlog::detail
