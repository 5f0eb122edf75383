#include "server/route_util.h"

#include <cctype>
#include <charconv>

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

http::Response no_content() {
  http::Response r;
  r.status = 204;
  return r;
}

Result<std::optional<int64_t>> int_param(const http::Request& req, const char* name, int64_t lo, int64_t hi) {
  auto it = req.query.find(name);
  if (it == req.query.end()) return std::optional<int64_t>{};
  const std::string& v = it->second;
  int64_t x = 0;
  auto [p, ec] = std::from_chars(v.data(), v.data() + v.size(), x);
  if (ec != std::errc{} || p != v.data() + v.size() || x < lo || x > hi)
    return Error{"query parameter '" + std::string(name) + "': '" + v + "' is not a whole number in " +
                     std::to_string(lo) + ".." + std::to_string(hi),
                 "request-malformed"};
  return std::optional<int64_t>{x};
}

void count_and_log(const char* route, const http::Request& req, const http::Response& resp, Logger& log,
                   Metrics& metrics, std::string_view caller) {
  metrics.count_request(route, method_label(req.method), resp.status);
  if (resp.status >= 500) {
    const auto body = nlohmann::json::parse(resp.body, nullptr, false);
    log.error("request failed", {{"route", route}, {"status", resp.status}, {"remote", req.remote_address},
                                 {"detail", body.is_object() ? body.value("detail", "") : std::string()}});
  } else if (resp.status >= 400) {
    nlohmann::json fields = {{"route", route}, {"status", resp.status}, {"remote", req.remote_address}};
    if (!caller.empty()) fields["caller"] = std::string(caller);
    log.info("request rejected", fields);
  }
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
