// Pieces every tlaunchd route handler shares.
#pragma once

#include <string>

#include <nlohmann/json.hpp>

#include "common/result.h"
#include "http/http.h"

namespace tl::server {

http::Response json_response(int status, const nlohmann::json& body);
// The request body as one strict JSON object (token::parse_json_object);
// refuses a Content-Type other than application/json.
Result<nlohmann::json> parse_body(const http::Request& req);
// Metric labels come from closed sets: any other method is "other".
std::string method_label(const std::string& m);

}  // namespace tl::server
