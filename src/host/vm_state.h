// A VM's runtime state: ROOT/vms/NAME/state.json, written by its supervisor
// (and by `vm start` / `vm stop` when no supervisor runs). The power-state
// machine is a pure function so its rules are tested apart from processes.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>

#include "common/result.h"

namespace tl::host {

enum class PowerState { kStopped, kStarting, kRunning, kStopping, kCrashed, kBootRefused };
const char* power_state_name(PowerState s);
std::optional<PowerState> parse_power_state(std::string_view s);

enum class VmEvent {
  kStartRequested,  // vm start
  kQemuUp,          // QEMU is running (its QMP socket answers)
  kStopRequested,   // vm stop
  kQemuExitClean,   // QEMU exited 0 (guest powered off, or quit)
  kQemuExitFailed,  // QEMU exited non-zero or by a signal not asked for
  kSwtpmDied,       // the vTPM went away under a running QEMU
  kBootRefused,     // Secure Boot refused the boot chain (console)
  kStartFailed,     // swtpm or QEMU could not be started
};

// The next state, or an error for an event that cannot happen in `from`
// (e.g. start while Running): the caller refuses the action.
Result<PowerState> next_state(PowerState from, VmEvent event);

// Running, Starting and Stopping have processes; the others have none.
bool is_active(PowerState s);

struct VmState {
  PowerState power = PowerState::kStopped;
  int64_t supervisor_pid = 0, qemu_pid = 0, swtpm_pid = 0;
  std::string accel;          // "kvm" | "tcg" | "" (never started)
  std::string started_at, stopped_at;
  std::string last_error;     // why it stopped, crashed or was refused
  std::string last_marker;    // the guest's last TLAUNCH-GUEST line
  std::string last_marker_at;
};

std::string to_json_text(const VmState& s);
Result<VmState> parse_vm_state(std::string_view text, const std::string& where);
Status write_vm_state(const std::filesystem::path& file, const VmState& s);
// A missing file is a VM that never started (Stopped).
Result<VmState> read_vm_state(const std::filesystem::path& file);

// Whether `pid` is alive, its executable's name contains `program`
// ("qemu-system", "swtpm", "tlaunch") and its command line (arguments joined
// by spaces) contains `needle` (the VM's directory, or "supervise NAME
// --host-dir ROOT"): a recycled pid, or another VM's process, is not taken
// for this VM's.
bool process_alive(int64_t pid, std::string_view program, std::string_view needle = {});

}  // namespace tl::host
