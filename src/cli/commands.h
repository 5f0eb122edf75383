// Subcommands of `tlaunch`. Each takes the arguments after its name and returns
// the process exit code (0 success, 1 verification failed / the server refused /
// the thing is unhealthy, 2 bad input, usage or connection error).
#pragma once

#include <string>
#include <vector>

namespace tl::cli {

using Args = std::vector<std::string>;

inline constexpr int kExitOk = 0;
inline constexpr int kExitFailed = 1;  // input well-formed but a check failed, or the server said no
inline constexpr int kExitBadInput = 2;

int eventlog_inspect(const Args& args);  // src/cli/eventlog_inspect.cc
int quote_verify(const Args& args);      // src/cli/quote_verify.cc
// Confidential VM hardware evidence, offline (src/cli/tee_commands.cc).
int snp_verify(const Args& args);
int tdx_verify(const Args& args);
int hcl_inspect(const Args& args);

// Fleet commands over tlaunchd's REST API (docs/fleet-api.md).
int vm_register(const Args& args);  // src/cli/vm_commands.cc
int vm_list(const Args& args);
int vm_show(const Args& args);
int vm_update(const Args& args);
int vm_delete(const Args& args);
int baseline_create(const Args& args);  // src/cli/baseline_commands.cc
int baseline_list(const Args& args);
int baseline_show(const Args& args);
int baseline_learn(const Args& args);
int alert_list(const Args& args);  // src/cli/alert_commands.cc
int alert_suppress(const Args& args);
int alert_suppressions(const Args& args);
int alert_unsuppress(const Args& args);
int recommendation_list(const Args& args);  // src/cli/recommendation_commands.cc
int fleet_status(const Args& args);         // src/cli/status_command.cc

// The key vault over tlaunchd's REST API (docs/keyvault-api.md), src/cli/key_commands.cc.
int key_create(const Args& args);
int key_import(const Args& args);
int key_show(const Args& args);
int key_list(const Args& args);
int key_rotate(const Args& args);
int key_update(const Args& args);
int key_delete(const Args& args);
int key_recover(const Args& args);
int key_purge(const Args& args);
int key_set_policy(const Args& args);
int key_release(const Args& args);
int key_audit(const Args& args);
int key_token(const Args& args);   // create | list | revoke
int key_access(const Args& args);  // set | list | remove

// Guest images for Trusted Launch VMs (docs/guest-image.md), src/cli/image_commands.cc.
int image_build(const Args& args);

}  // namespace tl::cli
