#include "server/route_util.h"

#include <cctype>

#include "token/strict_json.h"

namespace tl::server {
namespace {

bool is_json(const http::Request& req) {
  const std::string* ct = req.header("Content-Type");
  if (!ct) return false;
  std::string v = ct->substr(0, ct->find(';'));
  while (!v.empty() && v.back() == ' ') v.pop_back();
  for (char& c : v) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return v == "application/json";
}

}  // namespace

http::Response json_response(int status, const nlohmann::json& body) {
  http::Response r;
  r.status = status;
  r.headers["Content-Type"] = "application/json";
  r.body = body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  return r;
}

std::string method_label(const std::string& m) {
  for (const char* known : {"GET", "POST", "PUT", "DELETE", "HEAD", "OPTIONS", "PATCH"})
    if (m == known) return m;
  return "other";
}

Result<nlohmann::json> parse_body(const http::Request& req) {
  if (!is_json(req)) return Error{"Content-Type must be application/json", "unsupported-media-type"};
  // Strict: duplicate members, nesting deeper than 16 levels and invalid UTF-8
  // are refused before anything looks at the request.
  auto j = token::parse_json_object(req.body);
  if (!j) return Error{"request body: " + j.error().message, "request-malformed"};
  return j;
}

}  // namespace tl::server
