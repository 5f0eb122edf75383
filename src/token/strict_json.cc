#include "token/strict_json.h"

#include <set>
#include <string>
#include <vector>

namespace tl::token {

const char* json_kind(const nlohmann::json& j) {
  switch (j.type()) {
    case nlohmann::json::value_t::object: return "object";
    case nlohmann::json::value_t::array: return "array";
    case nlohmann::json::value_t::string: return "string";
    case nlohmann::json::value_t::boolean: return "boolean";
    case nlohmann::json::value_t::null: return "null";
    case nlohmann::json::value_t::number_integer:
    case nlohmann::json::value_t::number_unsigned:
    case nlohmann::json::value_t::number_float: return "number";
    default: return "non-JSON value";
  }
}

Result<nlohmann::json> parse_json_object(std::string_view text) {
  using json = nlohmann::json;
  std::vector<std::set<std::string>> keys;  // member names per open object
  std::string problem;
  json::parser_callback_t cb = [&](int depth, json::parse_event_t event, json& parsed) {
    if (!problem.empty()) return false;
    switch (event) {
      case json::parse_event_t::object_start:
        keys.emplace_back();
        [[fallthrough]];
      case json::parse_event_t::array_start:
        if (depth >= kMaxJsonDepth) problem = "nested deeper than " + std::to_string(kMaxJsonDepth) + " levels";
        break;
      case json::parse_event_t::key:
        if (!keys.empty() && parsed.is_string() && !keys.back().insert(parsed.get<std::string>()).second) {
          problem = "duplicate member \"" + parsed.get<std::string>() + "\"";
        }
        break;
      case json::parse_event_t::object_end:
        if (!keys.empty()) keys.pop_back();
        break;
      default:
        break;
    }
    return true;
  };
  json j = json::parse(text.begin(), text.end(), cb, /*allow_exceptions=*/false);
  if (!problem.empty()) return Error{problem};
  if (j.is_discarded()) return Error{"not valid JSON"};
  if (!j.is_object()) return Error{std::string("JSON ") + json_kind(j) + ", expected an object"};
  return j;
}

}  // namespace tl::token
