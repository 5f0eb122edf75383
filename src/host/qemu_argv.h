// The QEMU command line of a VM (q35 + SMM, OVMF Secure Boot code, its own
// varstore, optional vTPM, the boot disk, fw_cfg agent settings, user
// networking, serial console to a file, QMP socket). Pure: no I/O.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "common/result.h"
#include "host/vm_config.h"

namespace tl::host {

// OVMF files (Debian package ovmf). Overridable for tests and other layouts
// with TLAUNCH_OVMF_DIR.
struct Firmware {
  std::filesystem::path code;       // OVMF_CODE_4M.secboot.fd (needs SMM)
  std::filesystem::path vars_ms;    // Microsoft keys enrolled
  std::filesystem::path vars_snakeoil;
  std::filesystem::path vars_empty; // no keys: Secure Boot off
  static Firmware from_dir(const std::filesystem::path& dir);
  static Firmware system();  // $TLAUNCH_OVMF_DIR or /usr/share/OVMF
  // The varstore to copy for `c` (its keys, or none with Secure Boot off).
  std::filesystem::path vars_template(const VmConfig& c) const;
  // Every file `c` needs exists; the error names the missing one and the package.
  Status check(const VmConfig& c) const;
};

struct VmFiles {
  std::filesystem::path dir;
  std::filesystem::path vars() const { return dir / "vars.fd"; }
  std::filesystem::path disk() const { return dir / "disk.raw"; }
  std::filesystem::path tpm_dir() const { return dir / "tpm"; }
  std::filesystem::path tpm_key() const { return dir / "tpm.key"; }
  std::filesystem::path swtpm_sock() const { return dir / "swtpm.sock"; }
  std::filesystem::path qmp_sock() const { return dir / "qmp.sock"; }
  std::filesystem::path agent_conf() const { return dir / "agent.conf"; }
  // tlaunchd's CA for an https endpoint, handed to the guest as fw_cfg kCaFwCfg.
  std::filesystem::path tlaunchd_ca() const { return dir / "tlaunchd-ca.pem"; }
  std::filesystem::path console_log() const { return dir / "console.log"; }
  std::filesystem::path qemu_log() const { return dir / "qemu.log"; }
  std::filesystem::path swtpm_log() const { return dir / "swtpm.log"; }
  std::filesystem::path supervisor_log() const { return dir / "supervisor.log"; }
  std::filesystem::path config() const { return dir / "vm.json"; }
  std::filesystem::path state() const { return dir / "state.json"; }
  std::filesystem::path stop_request() const { return dir / "stop-requested"; }
};

enum class Accel { kKvm, kTcg };
const char* accel_name(Accel a);

// fw_cfg name under which the guest agent finds its settings.
inline constexpr const char* kAgentConfFwCfg = "opt/org.trustlaunch/agent.conf";
// fw_cfg name of the CA certificates the guest agent checks tlaunchd's TLS certificate with.
inline constexpr const char* kCaFwCfg = "opt/org.trustlaunch/ca.pem";

std::vector<std::string> qemu_argv(const VmConfig& c, const VmFiles& f, const Firmware& fw, Accel accel,
                                   const std::string& qemu_binary = "qemu-system-x86_64");

}  // namespace tl::host
