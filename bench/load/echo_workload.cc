#include "load/echo_workload.h"

#include <chrono>
#include <cstdint>

#include <nlohmann/json.hpp>

namespace tl::loadgen {

std::string echo_workload(std::string_view request_body, unsigned work_us) {
  const auto parsed = nlohmann::json::parse(request_body);
  uint64_t acc = parsed.value("seq", uint64_t{0});
  if (work_us > 0) {
    // Busy CPU work, not a sleep: a verifier burns cycles.
    const auto until = std::chrono::steady_clock::now() + std::chrono::microseconds(work_us);
    while (std::chrono::steady_clock::now() < until) {
      for (int i = 0; i < 64; ++i) acc = acc * 6364136223846793005ULL + 1442695040888963407ULL;
    }
  }
  nlohmann::json out;
  out["agent"] = parsed.value("agent", std::string());
  out["seq"] = parsed.value("seq", uint64_t{0});
  out["status"] = "ok";
  out["mix"] = acc & 0xffff;
  out["token"] = std::string(900, 't');
  return out.dump();
}

}  // namespace tl::loadgen
