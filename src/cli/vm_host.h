// Shared parts of the host VM commands (vm create/start/stop/restart/ca,
// and the local side of vm list/show/update/delete): the host state root,
// which tlaunchd to tell, and starting/stopping through the supervisor.
#pragma once

#include <optional>
#include <string>

#include "cli/api_client.h"
#include "cli/commands.h"
#include "host/vm_store.h"

namespace tl::cli {

int vm_create(const Args& args);
int vm_start(const Args& args);
int vm_stop(const Args& args);
int vm_restart(const Args& args);
int vm_supervise(const Args& args);  // hidden: the detached supervisor
int vm_ca(const Args& args);

// --host-dir / $TLAUNCH_HOST_DIR / /var/lib/trustlaunch.
host::HostStore host_store(const ParsedOptions& o);

// A tlaunchd is configured: --server/--token-file given, or
// TLAUNCH_SERVER/TLAUNCH_TOKEN_FILE set.
bool server_configured(const ParsedOptions& o);

// The API client for a local VM: the command line / environment when it names
// a server, else the server and token file recorded at create; nullopt when
// neither.
std::optional<Result<ApiClient>> api_for_vm(const ParsedOptions& o, const host::VmConfig& c);

// Launches the supervisor and waits until QEMU runs (or failed). Prints
// progress on stderr. `wait_for`: "none", "ready" or "attest".
Status start_local_vm(const host::HostStore& store, const std::string& name, const std::string& wait_for,
                      std::chrono::seconds wait_timeout);

Status stop_local_vm(const host::HostStore& store, const std::string& name, std::chrono::seconds timeout);

// The local parts of the shared vm commands (vm_commands.cc calls them when
// NAME is a VM on this host).
// `print_fleet` prints tlaunchd's view (vm show's fleet output).
int local_vm_show(const ParsedOptions& o, const std::string& name, void (*print_fleet)(const Json&));
int local_vm_update(const ParsedOptions& o, const std::string& name);
int local_vm_delete(const ParsedOptions& o, const std::string& name);
// Local VMs first (power state, profile, accelerator, fleet health), then VMs
// only tlaunchd knows. `fleet` is GET /vms (every page) or null.
int local_vm_list(const ParsedOptions& o, const Json& fleet, bool only_listed_in_fleet);

}  // namespace tl::cli
