// Private to src/agent: JSON parsing for files an operator or the agent wrote
// (settings, status), refusing what must not be guessed at.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "common/result.h"

namespace tl::agent {

inline constexpr int kMaxJsonDepth = 16;

// Parses `text` as one JSON object. Refuses invalid JSON (with the byte
// offset), a top-level value that is not an object, a member name repeated
// within one object (named with its path, such as
// "AttestationConfig.MaaSettings.maaEndpoint: duplicate key", reason
// "<reason_prefix>-duplicate-key"), and nesting deeper than kMaxJsonDepth.
// Other errors have reason "<reason_prefix>-invalid-json".
Result<nlohmann::json> parse_strict_object(std::string_view text, const std::string& reason_prefix);

// "object", "array", "string", "number", "boolean", "null".
const char* json_kind(const nlohmann::json& j);

// "a.b" or "b" when `parent` is empty.
std::string join_path(const std::string& parent, std::string_view key);

}  // namespace tl::agent
