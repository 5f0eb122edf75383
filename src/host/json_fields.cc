#include "host/json_fields.h"

namespace tl::host {

Result<StrictObject> StrictObject::open(const nlohmann::json& j, const std::string& where,
                                        const std::set<std::string>& known) {
  if (!j.is_object()) return Error{where + ": not a JSON object", "host-config-invalid"};
  for (const auto& [key, value] : j.items()) {
    if (known.count(key) == 0) return Error{where + ": unknown member '" + printable(key, 64) + "'", "host-config-invalid"};
  }
  return StrictObject(j, where);
}

Error StrictObject::error(const std::string& key, const std::string& what) const {
  return Error{where_ + ": member '" + key + "' " + what, "host-config-invalid"};
}

Result<std::string> StrictObject::str(const std::string& key, bool required) const {
  auto it = j_->find(key);
  if (it == j_->end()) {
    if (required) return error(key, "is missing");
    return std::string();
  }
  if (!it->is_string()) return error(key, "must be a string");
  return it->get<std::string>();
}

Result<bool> StrictObject::boolean(const std::string& key, bool required, bool fallback) const {
  auto it = j_->find(key);
  if (it == j_->end()) {
    if (required) return error(key, "is missing");
    return fallback;
  }
  if (!it->is_boolean()) return error(key, "must be true or false");
  return it->get<bool>();
}

Result<int64_t> StrictObject::integer(const std::string& key, int64_t min, int64_t max, bool required,
                                      int64_t fallback) const {
  auto it = j_->find(key);
  if (it == j_->end()) {
    if (required) return error(key, "is missing");
    return fallback;
  }
  if (!it->is_number_integer()) return error(key, "must be an integer");
  const int64_t v = it->get<int64_t>();
  if (it->is_number_unsigned() && it->get<uint64_t>() > static_cast<uint64_t>(INT64_MAX)) {
    return error(key, "is out of range");
  }
  if (v < min || v > max) {
    return error(key, "must be " + std::to_string(min) + ".." + std::to_string(max) + ", not " + std::to_string(v));
  }
  return v;
}

Result<std::vector<std::string>> StrictObject::strings(const std::string& key) const {
  auto it = j_->find(key);
  if (it == j_->end()) return error(key, "is missing");
  if (!it->is_array()) return error(key, "must be an array of strings");
  std::vector<std::string> out;
  for (const auto& v : *it) {
    if (!v.is_string()) return error(key, "must be an array of strings");
    out.push_back(v.get<std::string>());
  }
  return out;
}

std::string printable(std::string_view text, size_t max) {
  std::string out;
  for (unsigned char c : text) {
    if (out.size() >= max) break;
    out.push_back(c >= 0x20 && c < 0x7f ? static_cast<char>(c) : '?');
  }
  return out;
}

}  // namespace tl::host
