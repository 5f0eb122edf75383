#include "host/qemu_argv.h"

#include <filesystem>
#include <fstream>
#include <iterator>

#include <cstdlib>
#include <system_error>

#include "host/uefi_varstore.h"

namespace tl::host {

Firmware Firmware::from_dir(const std::filesystem::path& dir) {
  return Firmware{dir / "OVMF_CODE_4M.secboot.fd", dir / "OVMF_VARS_4M.ms.fd", dir / "OVMF_VARS_4M.snakeoil.fd",
                  dir / "OVMF_VARS_4M.fd"};
}

Firmware Firmware::system() {
  const char* d = std::getenv("TLAUNCH_OVMF_DIR");
  return from_dir(d != nullptr && *d != '\0' ? d : "/usr/share/OVMF");
}

std::filesystem::path Firmware::vars_template(const VmConfig& c) const {
  if (!c.secure_boot) return vars_empty;
  switch (c.uefi_keys) {
    case UefiKeys::kMicrosoft: return vars_ms;
    case UefiKeys::kSnakeoil: return vars_snakeoil;
    case UefiKeys::kCustom: return c.uefi_keys_file;
  }
  return vars_ms;
}

Status Firmware::check(const VmConfig& c) const {
  std::error_code ec;
  for (const auto& p : {code, vars_template(c)}) {
    if (std::filesystem::is_regular_file(p, ec)) continue;
    if (c.secure_boot && c.uefi_keys == UefiKeys::kCustom && p == c.uefi_keys_file) {
      return Error{"the UEFI varstore " + p.string() + " (--uefi-keys) does not exist", "firmware-missing"};
    }
    return Error{"UEFI firmware file " + p.string() + " is missing: install the Debian package ovmf "
                     "(apt-get install ovmf) or set TLAUNCH_OVMF_DIR",
                 "firmware-missing"};
  }
  // A custom varstore without enrolled keys would boot with Secure Boot
  // silently off while the profile says on: refuse it (fail closed).
  if (c.secure_boot && c.uefi_keys == UefiKeys::kCustom) {
    std::ifstream in(c.uefi_keys_file, std::ios::binary);
    const Bytes bytes{std::istreambuf_iterator<char>(in), {}};
    if (!in.good() && !in.eof()) {
      return Error{"cannot read the UEFI varstore " + c.uefi_keys_file + " (--uefi-keys)", "uefi-keys-invalid"};
    }
    if (auto s = uefi::check_secure_boot_varstore(bytes); !s) {
      return with_context("the UEFI varstore " + c.uefi_keys_file + " (--uefi-keys)", s.take_error());
    }
  }
  return {};
}

namespace {
// QEMU splits option values at ',' and reads ",," as a literal comma.
std::string q(const std::filesystem::path& p) {
  std::string out;
  for (char ch : p.string()) {
    out += ch;
    if (ch == ',') out += ',';
  }
  return out;
}
}  // namespace

const char* accel_name(Accel a) { return a == Accel::kKvm ? "kvm" : "tcg"; }

std::vector<std::string> qemu_argv(const VmConfig& c, const VmFiles& f, const Firmware& fw, Accel accel,
                                   const std::string& qemu_binary) {
  std::vector<std::string> a = {qemu_binary, "-name", "tlaunch-" + c.name, "-uuid", c.vm_id};
  // The Secure Boot OVMF build needs SMM, and the flash must be SMM-only
  // writable or a guest could rewrite its own Secure Boot variables.
  a.insert(a.end(), {"-machine", std::string("q35,smm=on,accel=") + accel_name(accel), "-global",
                     "driver=cfi.pflash01,property=secure,value=on", "-global", "ICH9-LPC.disable_s3=1"});
  a.insert(a.end(), {"-cpu", accel == Accel::kKvm ? "host" : "max", "-smp", std::to_string(c.cpus), "-m",
                     std::to_string(c.memory_mib)});
  a.insert(a.end(), {"-drive", "if=pflash,format=raw,unit=0,readonly=on,file=" + q(fw.code), "-drive",
                     "if=pflash,format=raw,unit=1,file=" + q(f.vars())});
  if (c.vtpm) {
    a.insert(a.end(), {"-chardev", "socket,id=chrtpm,path=" + q(f.swtpm_sock()), "-tpmdev",
                       "emulator,id=tpm0,chardev=chrtpm", "-device", "tpm-tis,tpmdev=tpm0"});
  }
  a.insert(a.end(), {"-drive", "if=none,id=esp,format=raw,readonly=on,file=" + q(f.disk()), "-device",
                     "virtio-blk-pci,drive=esp,bootindex=0"});
  a.insert(a.end(), {"-fw_cfg", std::string("name=") + kAgentConfFwCfg + ",file=" + q(f.agent_conf())});
  std::error_code ec;
  if (std::filesystem::exists(f.tlaunchd_ca(), ec)) {
    a.insert(a.end(), {"-fw_cfg", std::string("name=") + kCaFwCfg + ",file=" + q(f.tlaunchd_ca())});
  }
  a.insert(a.end(), {"-netdev", "user,id=net0", "-device", "virtio-net-pci,netdev=net0,romfile="});
  a.insert(a.end(), {"-display", "none", "-vga", "none", "-chardev",
                     "file,id=serial0,append=on,path=" + q(f.console_log()), "-serial", "chardev:serial0"});
  a.insert(a.end(), {"-qmp", "unix:" + q(f.qmp_sock()) + ",server=on,wait=off"});
  // A guest reboot ends the run: the supervisor records it and the next
  // `vm start` boots with the configuration as it is then.
  a.insert(a.end(), {"-no-reboot", "-nodefaults", "-no-user-config"});
  return a;
}

}  // namespace tl::host
