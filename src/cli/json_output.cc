#include "cli/json_output.h"

#include <string>

namespace tl::cli {

nlohmann::ordered_json pcrs_json(const tpm::PcrValues& pcrs) {
  nlohmann::ordered_json j = nlohmann::ordered_json::object();
  for (const auto& [bank, map] : pcrs) {
    nlohmann::ordered_json b = nlohmann::ordered_json::object();
    for (const auto& [index, value] : map) b[std::to_string(index)] = to_hex(value);
    j[std::string(crypto::hash_name(bank))] = std::move(b);
  }
  return j;
}

}  // namespace tl::cli
