#include "host/image_guest.h"

#include "host/guest_files.h"

namespace tl::host {
namespace {

std::string replace_all(std::string text, std::string_view key, std::string_view value) {
  for (size_t p = text.find(key); p != std::string::npos; p = text.find(key, p + value.size())) {
    text.replace(p, key.size(), value);
  }
  return text;
}

bool plain_word(std::string_view w) {
  if (w.empty()) return false;
  for (char c : w) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '/' ||
                    c == '\\' || c == '.' || c == ',' || c == '_' || c == '-' || c == '=' || c == ':';
    if (!ok) return false;
  }
  return true;
}

}  // namespace

Result<std::string> make_grub_cfg(const GrubConfig& config) {
  if (!plain_word(config.kernel) || config.kernel.front() != '/') {
    return Error{"grub.cfg: kernel path '" + config.kernel + "' must be an absolute plain path", "grub-bad-word"};
  }
  std::string cmdline;
  for (const std::string& w : config.cmdline) {
    if (!plain_word(w)) return Error{"grub.cfg: kernel command line word '" + w + "' is not plain text", "grub-bad-word"};
    if (!cmdline.empty()) cmdline += ' ';
    cmdline += w;
  }
  std::string text(guest::k_grub_cfg_in);
  text = replace_all(std::move(text), "@KERNEL@", config.kernel);
  text = replace_all(std::move(text), "@CMDLINE@", cmdline);
  return replace_all(std::move(text), "@FAILED_MARKER@", kBootFailedMarker);
}

std::string_view init_script() { return guest::k_init_sh; }
std::string_view power_button_handler() { return guest::k_acpi_power_button; }

std::string make_os_release(std::string_view kernel_version) {
  return replace_all(std::string(guest::k_os_release_in), "@KERNEL_VERSION@", kernel_version);
}

}  // namespace tl::host
