// RFC 3339 UTC timestamps with whole seconds ("2026-11-22T20:01:02Z"): the one
// form the APIs, baselines and webhook payloads write (docs/fleet-api.md).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "common/result.h"

namespace tl {

std::string format_rfc3339(int64_t unix_seconds);
// Exactly the form format_rfc3339 writes, with a valid calendar date; the
// error says what is wrong.
Result<int64_t> parse_rfc3339(std::string_view text);

}  // namespace tl
