// The VM id the agent reports: the SMBIOS system UUID as the kernel exposes
// it (/sys/class/dmi/id/product_uuid, root-only), or an operator's override
// (a command-line flag). Either way it is validated and normalized to the
// canonical lower-case 8-4-4-4-12 form.
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <string_view>

#include "common/result.h"

namespace tl::agent {

inline constexpr const char* kDefaultProductUuidPath = "/sys/class/dmi/id/product_uuid";

// Canonical lower-case form of `text` (upper or lower hex, 8-4-4-4-12).
// Refuses any other length or shape, non-hex digits (naming the position),
// and the all-zero and all-ones UUIDs that firmware writes when it has no id
// to give. Reason "vm-id-invalid".
Result<std::string> normalize_vm_id(std::string_view text);

// The override when given, else the UUID read from `product_uuid_path` (one
// line, a trailing newline allowed). Errors name where the id came from;
// an unreadable file is "vm-id-unreadable" (often: not running as root).
Result<std::string> resolve_vm_id(const std::optional<std::string>& override_id,
                                  const std::filesystem::path& product_uuid_path = kDefaultProductUuidPath);

}  // namespace tl::agent
