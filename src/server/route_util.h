// Pieces every tlaunchd route handler shares.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "common/result.h"
#include "http/http.h"
#include "server/log.h"
#include "server/metrics.h"

namespace tl::server {

http::Response json_response(int status, const nlohmann::json& body);
// The request body as one strict JSON object (token::parse_json_object);
// refuses a Content-Type other than application/json.
Result<nlohmann::json> parse_body(const http::Request& req);
// Metric labels come from closed sets: any other method is "other".
std::string method_label(const std::string& m);

http::Response no_content();  // 204

// A whole-number query parameter within lo..hi (absent: nullopt); reason
// request-malformed naming the parameter otherwise.
Result<std::optional<int64_t>> int_param(const http::Request& req, const char* name, int64_t lo, int64_t hi);

// What every API handler does with its answer: counts it, logs a 5xx as an
// error (with the problem's detail) and a 4xx as a rejection (with `caller`
// when given).
void count_and_log(const char* route, const http::Request& req, const http::Response& resp, Logger& log,
                   Metrics& metrics, std::string_view caller = {});

}  // namespace tl::server
