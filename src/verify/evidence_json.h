// Error helpers shared by the strict evidence decoders (evidence.cc,
// cvm_evidence.cc): every refusal names the JSON path and says what was found.
#pragma once

#include <string>

#include <nlohmann/json.hpp>

#include "common/result.h"

namespace tl::verify::detail {

inline Error evidence_malformed(const std::string& path, const std::string& what) {
  return Error{path + ": " + what, "evidence-malformed"};
}

// "object", "integer", … for error messages.
inline const char* json_kind(const nlohmann::json& j) {
  using v = nlohmann::json::value_t;
  switch (j.type()) {
    case v::object: return "object";
    case v::array: return "array";
    case v::string: return "string";
    case v::boolean: return "boolean";
    case v::null: return "null";
    case v::number_integer:
    case v::number_unsigned: return "integer";
    case v::number_float: return "number";
    default: return "non-JSON value";
  }
}

inline Error wrong_json_type(const std::string& path, const char* expected, const nlohmann::json& got) {
  return evidence_malformed(path, std::string("expected ") + expected + ", got " + json_kind(got));
}

}  // namespace tl::verify::detail
