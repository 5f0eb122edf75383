// JSON parsing that refuses what JOSE (and any security decision) must not
// guess at; tlaunchd parses every request body with it.
#pragma once

#include <nlohmann/json.hpp>
#include <string_view>

#include "common/result.h"

namespace tl::token {

inline constexpr int kMaxJsonDepth = 16;

// Parses `text` as one JSON object. Refuses invalid JSON (or invalid UTF-8),
// a top-level value that is not an object, a member name repeated within one
// object (RFC 7515 §5.2 lets us reject rather than take the last), and
// nesting deeper than kMaxJsonDepth.
Result<nlohmann::json> parse_json_object(std::string_view text);

// "object", "array", "string", "number", "boolean", "null".
const char* json_kind(const nlohmann::json& j);

}  // namespace tl::token
