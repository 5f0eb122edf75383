// Structured logs: one JSON object per line ({"ts","level","msg", fields…}) on
// stderr, so journald / Loki / jq can read them. Never pass secrets as fields.
#pragma once

#include <cstdio>
#include <mutex>
#include <string_view>

#include <nlohmann/json.hpp>

#include "server/config.h"

namespace tl::server {

class Logger {
 public:
  explicit Logger(LogLevel min = LogLevel::info, std::FILE* out = stderr) : min_(min), out_(out) {}
  bool enabled(LogLevel level) const { return level >= min_; }
  void log(LogLevel level, std::string_view msg, nlohmann::json fields = nlohmann::json::object());
  void debug(std::string_view m, nlohmann::json f = nlohmann::json::object()) { log(LogLevel::debug, m, std::move(f)); }
  void info(std::string_view m, nlohmann::json f = nlohmann::json::object()) { log(LogLevel::info, m, std::move(f)); }
  void warn(std::string_view m, nlohmann::json f = nlohmann::json::object()) { log(LogLevel::warn, m, std::move(f)); }
  void error(std::string_view m, nlohmann::json f = nlohmann::json::object()) { log(LogLevel::error, m, std::move(f)); }

 private:
  LogLevel min_;
  std::FILE* out_;
  std::mutex mu_;
};

// RFC 3339 UTC with milliseconds, e.g. "2026-11-22T17:03:04.123Z".
std::string rfc3339_now();

}  // namespace tl::server
