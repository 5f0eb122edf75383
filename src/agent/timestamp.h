// RFC 3339 UTC timestamps with whole seconds ("2024-05-01T12:00:00Z"), the one
// form the agent writes to its status files and the only one it reads back.
#pragma once

#include <chrono>
#include <string>
#include <string_view>

#include "common/result.h"

namespace tl::agent {

std::string format_timestamp(std::chrono::system_clock::time_point t);

// Exactly "YYYY-MM-DDTHH:MM:SSZ" with a valid calendar date, years 1970..9999.
Result<std::chrono::system_clock::time_point> parse_timestamp(std::string_view text);

}  // namespace tl::agent
