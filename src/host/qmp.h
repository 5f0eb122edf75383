// A minimal QMP client on QEMU's unix socket: one command per connection
// (system_powerdown, quit), the greeting and capabilities negotiated first,
// asynchronous events skipped.
#pragma once

#include <chrono>
#include <filesystem>
#include <string>

#include "common/result.h"

namespace tl::host {

// Runs `command` (e.g. "system_powerdown") and returns QEMU's "return" member
// as JSON text; a QMP error is an Error with QEMU's description.
Result<std::string> qmp_execute(const std::filesystem::path& socket, const std::string& command,
                                std::chrono::milliseconds timeout = std::chrono::seconds(5));

}  // namespace tl::host
