#include "agent/strict_json.h"

#include <set>
#include <vector>

namespace tl::agent {

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

std::string join_path(const std::string& parent, std::string_view key) {
  return parent.empty() ? std::string(key) : parent + "." + std::string(key);
}

Result<nlohmann::json> parse_strict_object(std::string_view text, const std::string& reason_prefix) {
  using json = nlohmann::json;
  struct Frame {
    bool is_object;
    std::string path;
    std::set<std::string> keys;
    std::string last_key;
  };
  std::vector<Frame> stack;
  Error problem;
  bool failed = false;
  auto child_path = [&]() -> std::string {
    if (stack.empty()) return "";
    const Frame& top = stack.back();
    return top.is_object ? join_path(top.path, top.last_key) : top.path + "[]";
  };
  json::parser_callback_t cb = [&](int depth, json::parse_event_t event, json& parsed) {
    if (failed) return false;
    switch (event) {
      case json::parse_event_t::object_start:
      case json::parse_event_t::array_start: {
        if (depth >= kMaxJsonDepth) {
          failed = true;
          problem = Error{"JSON nested deeper than " + std::to_string(kMaxJsonDepth) + " levels",
                          reason_prefix + "-invalid-json"};
          return false;
        }
        std::string path = child_path();
        stack.push_back(Frame{event == json::parse_event_t::object_start, std::move(path), {}, {}});
        break;
      }
      case json::parse_event_t::key:
        if (!stack.empty() && parsed.is_string()) {
          Frame& top = stack.back();
          top.last_key = parsed.get<std::string>();
          if (!top.keys.insert(top.last_key).second) {
            failed = true;
            problem = Error{join_path(top.path, top.last_key) + ": duplicate key", reason_prefix + "-duplicate-key"};
            return false;
          }
        }
        break;
      case json::parse_event_t::object_end:
      case json::parse_event_t::array_end:
        if (!stack.empty()) stack.pop_back();
        break;
      default:
        break;
    }
    return true;
  };
  json j;
  try {
    j = json::parse(text.begin(), text.end(), cb, /*allow_exceptions=*/true);
  } catch (const json::parse_error& e) {
    if (failed) return problem;
    return Error{"not valid JSON at byte " + std::to_string(e.byte) + ": " + e.what(), reason_prefix + "-invalid-json"};
  } catch (const json::exception& e) {
    // out_of_range for a number beyond double ("1e400"): found by fuzzing.
    if (failed) return problem;
    return Error{std::string("not valid JSON: ") + e.what(), reason_prefix + "-invalid-json"};
  }
  if (failed) return problem;
  if (j.is_discarded()) return Error{"not valid JSON", reason_prefix + "-invalid-json"};
  if (!j.is_object()) {
    return Error{std::string("top level is a JSON ") + json_kind(j) + ", expected an object", reason_prefix + "-invalid-json"};
  }
  return j;
}

}  // namespace tl::agent
