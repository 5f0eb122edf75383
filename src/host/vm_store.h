// The host's state root (docs/host.md): ROOT/vms/NAME/… and ROOT/ca, and the
// operations on a VM's files that need no running process: create, update,
// delete, list; plus stopping a running VM (QMP, then signals).
#pragma once

#include <chrono>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "common/result.h"
#include "host/qemu_argv.h"
#include "host/vm_config.h"
#include "host/vm_state.h"
#include "host/vtpm.h"

namespace tl::host {

using Progress = std::function<void(const std::string&)>;

// --host-dir, else $TLAUNCH_HOST_DIR, else /var/lib/trustlaunch.
std::filesystem::path host_root(const std::optional<std::string>& flag);

class HostStore {
 public:
  explicit HostStore(std::filesystem::path root) : root_(std::move(root)) {}
  const std::filesystem::path& root() const { return root_; }
  VmFiles files(const std::string& name) const { return VmFiles{root_ / "vms" / name}; }
  VtpmCa ca() const { return VtpmCa{root_ / "ca"}; }
  // The arguments `tlaunch vm supervise NAME --host-dir ROOT` runs with: what
  // tells this VM's supervisor from any other process (process_alive).
  std::vector<std::string> supervisor_args(const std::string& name) const {
    return {"vm", "supervise", name, "--host-dir", root_.string()};
  }
  std::string supervisor_needle(const std::string& name) const {
    return "supervise " + name + " --host-dir " + root_.string();
  }
  bool exists(const std::string& name) const;
  // Names of the VMs with a vm.json, sorted.
  std::vector<std::string> names() const;
  Result<VmConfig> config(const std::string& name) const;  // error vm-not-found when absent
  // state.json with dead processes taken into account: a VM recorded as
  // active whose supervisor is gone is reported Crashed ("supervisor gone").
  Result<VmState> state(const std::string& name) const;

 private:
  std::filesystem::path root_;
};

// Where the boot disk comes from: an image directory (disk.raw + manifest.json)
// or a disk.raw file.
struct ImageSource {
  std::filesystem::path disk;
  std::filesystem::path manifest;  // empty when none
};
Result<ImageSource> resolve_image(const std::filesystem::path& image);

// Makes ROOT/vms/NAME: vm.json, a copy of the disk, the varstore for its keys
// (or none), agent.conf and, with a vTPM, its encrypted TPM state with an EK
// certificate from the host CA. `c.name`, `c.vm_id`, profile, endpoint… are
// taken as given. On failure nothing is left behind.
Result<VmConfig> create_vm(const HostStore& store, VmConfig c, const std::filesystem::path& image,
                           const Firmware& fw, const Progress& progress);

struct VmChange {
  std::optional<bool> secure_boot, vtpm;
};
// Changes the profile for the next boot: Secure Boot off swaps in the no-keys
// varstore, on swaps the keys varstore back; vTPM off drops the device (state
// kept), on adds it (provisioning the TPM if it never had one). Safe while the
// VM runs: files are replaced by rename, QEMU keeps the old ones until exit.
// Returns the new configuration.
Result<VmConfig> update_vm(const HostStore& store, const std::string& name, const VmChange& change,
                           const Firmware& fw, const Progress& progress);

// Clean ACPI shutdown (QMP system_powerdown) for up to `timeout`, then QMP
// quit, then SIGKILL; the supervisor records Stopped and stops swtpm. When
// the supervisor is gone, does its part (swtpm, state). Not running: no-op.
Status stop_vm(const HostStore& store, const std::string& name, std::chrono::milliseconds timeout,
               const Progress& progress);

// Removes ROOT/vms/NAME (the VM must be stopped).
Status delete_vm_files(const HostStore& store, const std::string& name);

// Rewrites agent.conf from the configuration.
Status write_agent_conf(const VmFiles& f, const VmConfig& c);

// Whole file copy (new file mode `mode`), replacing `to` by rename.
Status copy_file_atomic(const std::filesystem::path& from, const std::filesystem::path& to, unsigned mode);

}  // namespace tl::host
