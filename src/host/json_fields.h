// Strict reading of the host's own JSON files (vm.json, state.json): every
// member is known, has the right type, and errors name the file and member.
#pragma once

#include <cstdint>
#include <set>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/result.h"

namespace tl::host {

class StrictObject {
 public:
  // Fails when `j` is not an object or holds a member outside `known`.
  static Result<StrictObject> open(const nlohmann::json& j, const std::string& where,
                                   const std::set<std::string>& known);

  Result<std::string> str(const std::string& key, bool required = true) const;
  Result<bool> boolean(const std::string& key, bool required = true, bool fallback = false) const;
  Result<int64_t> integer(const std::string& key, int64_t min, int64_t max, bool required = true,
                          int64_t fallback = 0) const;
  Result<std::vector<std::string>> strings(const std::string& key) const;
  Error error(const std::string& key, const std::string& what) const;

 private:
  StrictObject(const nlohmann::json& j, std::string where) : j_(&j), where_(std::move(where)) {}
  const nlohmann::json* j_;
  std::string where_;
};

// Guest-controlled text (console lines) made safe for JSON and terminals:
// printable ASCII only, others as '?', clipped to `max` bytes.
std::string printable(std::string_view text, size_t max = 512);

}  // namespace tl::host
