// The guest-side texts of the image: grub.cfg, /init, /etc/os-release and
// the power button handler (templates in src/host/guest/, compiled in).
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"

namespace tl::host {

// Printed by grub.cfg when `boot` returned, i.e. the kernel was refused
// (Secure Boot) or could not be loaded. A contract with the VM layer.
inline constexpr std::string_view kBootFailedMarker =
    "TLAUNCH-BOOT-FAILED: Secure Boot refused the kernel (or it could not be loaded)";

struct GrubConfig {
  std::string kernel = "/vmlinuz";          // path on the ESP
  std::vector<std::string> cmdline = {      // kernel command line words
      "console=ttyS0,115200", "initrd=\\initrd.img", "panic=-1"};
};

// grub.cfg text. Every path and word must be plain (letters, digits and
// / \ . , _ - = :), so nothing in them is grub script syntax ("grub-bad-word").
Result<std::string> make_grub_cfg(const GrubConfig& config);

std::string_view init_script();              // /init
std::string_view power_button_handler();     // /etc/acpi/PWRF/00000080
std::string make_os_release(std::string_view kernel_version);  // /etc/os-release

}  // namespace tl::host
