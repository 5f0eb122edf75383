// Human output of the `tlaunch key` commands: key bundles as "key: value"
// blocks, lists, the audit log, tokens and access policies as tables
// (docs/cli.md "Key vault commands"). --json output is print_json's.
#pragma once

#include <string>
#include <utility>

#include "cli/api_client.h"

namespace tl::cli {

// "https://host/keys/NAME/VERSION" → {"NAME", "VERSION"} ("" when the kid has
// no version, as list entries do; {"", ""} when it names no key).
std::pair<std::string, std::string> kid_name_version(const std::string& kid);

// A bundle (GET /keys/NAME), or a deleted bundle (its recoveryId,
// deletedDate, scheduledPurgeDate too). The release policy is shown decoded.
void print_key_bundle(const Json& bundle);

// {"value":[…]} of GET /keys (by_version false: NAME column) or
// GET /keys/NAME/versions (by_version true: VERSION column).
void print_key_list(const Json& list, bool by_version);
void print_deleted_key_list(const Json& list);
void print_audit(const Json& list);
void print_token_list(const Json& list);
void print_access_list(const Json& list);

}  // namespace tl::cli
