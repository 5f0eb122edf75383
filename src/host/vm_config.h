// A VM's own configuration on this host: ROOT/vms/NAME/vm.json (docs/host.md).
// Written once at `vm create`, changed by `vm update`; read strictly (unknown
// keys, wrong types and missing members are errors naming the member).
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "common/atomic_file.h"  // write_file_atomic, used with every host file
#include "common/result.h"

namespace tl::host {

// [a-z0-9][a-z0-9-]{0,62}: a directory name, a QEMU -name and a URL segment
// at once. The error names the offending character and its position.
Status check_vm_name(const std::string& name);

enum class UefiKeys { kMicrosoft, kSnakeoil, kCustom };
const char* uefi_keys_name(UefiKeys k);

struct VmConfig {
  static constexpr int kVersion = 1;
  std::string name;
  std::string vm_id;                      // SMBIOS UUID (random v4), the agent's vmId
  std::string security_type = "TrustedLaunch";  // or "Standard"
  bool secure_boot = true;
  bool vtpm = true;
  int64_t memory_mib = 1024;
  int64_t cpus = 1;
  UefiKeys uefi_keys = UefiKeys::kMicrosoft;
  std::string uefi_keys_file;             // the prepared varstore, for kCustom
  std::string image_path;                 // where the image came from (informative)
  std::string image_manifest_sha256;      // hex of manifest.json, "" when there was none
  std::string server_url;                 // tlaunchd used at create, "" when none
  std::string token_file;
  std::string guest_endpoint;             // tlaunchd as the guest sees it
  std::string group;
  std::vector<std::string> release_keys;
  int64_t attest_interval = 0;            // seconds; 0 = the agent's default
  bool registered = false;                // in tlaunchd's inventory
  std::string created_at;                 // RFC 3339
};

std::string to_json_text(const VmConfig& c);
// `where` names the file in errors.
Result<VmConfig> parse_vm_config(std::string_view text, const std::string& where);

Status write_vm_config(const std::filesystem::path& file, const VmConfig& c);
Result<VmConfig> read_vm_config(const std::filesystem::path& file);

Result<std::string> read_text_file(const std::filesystem::path& file, size_t max_bytes = 1 << 20);

// A random version 4 UUID, lower case.
std::string random_uuid();
// Current UTC time as RFC 3339 (seconds).
std::string now_rfc3339();

}  // namespace tl::host
