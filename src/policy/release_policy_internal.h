// Helpers the release policy files share (src/policy/release_policy*.cc).
// Not part of the public API.
#pragma once

#include <array>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "common/result.h"

namespace tl::policy::detail {

inline constexpr const char* kReleasePolicyInvalid = "release-policy-invalid";

// The claim operators of Key Vault's grammar, in the order its EBNF lists them.
inline constexpr std::array<std::string_view, 7> kReleaseOperators = {
    "equals", "notEquals", "less", "lessOrEquals", "greater", "greaterOrEquals", "exists"};

// "(root)" for the document itself, else the path ("anyOf[0].allOf[2]").
std::string location(const std::string& path);

// An error of the release policy reader: "<location>: <what>", reason
// release-policy-invalid.
Error policy_error(const std::string& path, const std::string& what);

// Parses `text` as one JSON object, strictly: invalid JSON (with its byte
// offset), invalid UTF-8, a member name repeated in one object and nesting
// deeper than `max_depth` containers are refused, each error located by the
// path of the value where it happened.
Result<nlohmann::json> read_policy_json(std::string_view text, int max_depth);

// The form in which an authority and a token's "iss" are compared: without one
// trailing '/', and, when the text has a "scheme://" prefix, with the scheme
// and the host lower-cased (both are case-insensitive in URLs, RFC 3986 §3.1,
// §3.2.2); the path keeps its case.
std::string normalize_authority(std::string_view url);

// A value for people: its JSON text, cut at a UTF-8 boundary after about 64
// bytes ("…" marks the cut), so that an explanation stays valid UTF-8 and short.
std::string shown(const nlohmann::json& value);

// "a string", "a number", "an array", …
std::string kind_with_article(const nlohmann::json& value);

}  // namespace tl::policy::detail
