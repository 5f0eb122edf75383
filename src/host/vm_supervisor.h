// The supervisor of one VM run (started detached by `vm start` as
// `tlaunch vm supervise NAME`): starts swtpm and checks it answers, starts
// QEMU and waits for its QMP socket, then watches the console and both
// processes until QEMU exits, recording every change in state.json
// (docs/host.md, "Supervision").
#pragma once

#include <functional>
#include <string>
#include <string_view>

#include "common/result.h"
#include "host/vm_store.h"

namespace tl::host {

// Something tlaunchd should know: kind is "boot-refused", "vm-crashed" or
// "vtpm-crashed" (POST /vms/NAME/host-events, detail made by
// host_event_detail), or "powerState" with detail "Running" (QEMU is up) or
// "Stopped" (it ended without a crash: PATCH /vms/NAME). The sink must not throw.
using HostEventSink = std::function<void(const std::string& kind, const std::string& detail)>;

// What the host saw, as tlaunchd's host-events accept it: control characters
// (a log tail's newlines) become "; ", invalid UTF-8 bytes '?', at most 1,000
// bytes cut at a character boundary, never blank.
std::string host_event_detail(std::string_view text);

struct SupervisorOptions {
  std::string qemu_binary = "qemu-system-x86_64";
  Firmware firmware = Firmware::system();
};

// Runs one VM until QEMU exits; returns the final state. `log` receives the
// supervisor's own lines (its log file).
Result<VmState> supervise(const HostStore& store, const std::string& name, const SupervisorOptions& options,
                          const HostEventSink& events, const Progress& log);

// Signals that ask a running supervise() to stop the VM (SIGTERM, SIGINT).
void install_supervisor_signal_handlers();

}  // namespace tl::host
