// The guest initramfs: busybox, the kernel modules the guest needs (with
// their dependencies), tlaunch-agent with its shared libraries, /init and
// /etc files, as a deterministic cpio archive (image_cpio.h), gzip'd or not.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "common/hex.h"
#include "common/result.h"

namespace tl::host {

// Modules loaded by /init, before their dependencies are added:
// efivarfs (Secure Boot state), virtio PCI/net/blk, fw_cfg (agent.conf),
// button + evdev (ACPI power button for busybox acpid).
std::vector<std::string> guest_modules();

// The busybox applets /init and the power button handler use.
std::vector<std::string> guest_applets();

// Absolute paths of the shared objects in `ldd` output, the dynamic loader
// included ("not found" is an error naming the library, reason "image-agent").
Result<std::vector<std::string>> parse_ldd(const std::string& output);

struct InitrdInputs {
  std::filesystem::path root;       // the extracted packages
  std::string kernel_version;       // lib/modules/<version>
  std::filesystem::path agent;      // tlaunch-agent binary on the host
  bool gzip = true;
  uint32_t mtime = 0;
  std::filesystem::path scratch;    // a directory for temporary files
};

struct Initrd {
  Bytes image;                       // what goes to /initrd.img on the ESP
  std::vector<std::string> modules;  // load order
  std::vector<std::string> libraries;  // host paths copied for the agent
};

Result<Initrd> build_initrd(const InitrdInputs& in);

}  // namespace tl::host
