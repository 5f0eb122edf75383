// Route matching: split the decoded path into segments and compare them with
// each route's pattern; "{name}" segments capture.
#include <algorithm>
#include <set>
#include <stdexcept>

#include "http/http.h"

namespace tl::http {
namespace {

std::vector<std::string_view> split_path(std::string_view path) {
  std::vector<std::string_view> out;
  if (path.empty() || path.front() != '/') return out;
  size_t start = 1;
  while (true) {
    const size_t slash = path.find('/', start);
    out.push_back(path.substr(start, slash == std::string_view::npos ? std::string_view::npos : slash - start));
    if (slash == std::string_view::npos) break;
    start = slash + 1;
  }
  return out;
}

bool is_param(std::string_view segment) {
  return segment.size() >= 3 && segment.front() == '{' && segment.back() == '}';
}

// Number of literal segments when the pattern matches, -1 when it does not.
int match(const std::vector<std::string>& pattern, const std::vector<std::string_view>& path) {
  if (pattern.size() != path.size()) return -1;
  int literals = 0;
  for (size_t i = 0; i < pattern.size(); ++i) {
    if (is_param(pattern[i])) {
      if (path[i].empty()) return -1;
    } else if (pattern[i] != path[i]) {
      return -1;
    } else {
      ++literals;
    }
  }
  return literals;
}

Response default_fallback(int status, const Request&) {
  const char* title = status == 405 ? "Method Not Allowed" : "Not Found";
  Response r;
  r.status = status;
  r.headers["Content-Type"] = "application/problem+json";
  r.body = std::string(R"({"type":"about:blank","title":")") + title + R"(","status":)" +
           std::to_string(status) + "}";
  return r;
}

}  // namespace

void Router::add(std::string method, std::string pattern, Handler handler) {
  if (pattern.empty() || pattern.front() != '/') {
    throw std::invalid_argument("route pattern must start with '/': " + pattern);
  }
  Route route{std::move(method), {}, std::move(handler)};
  for (std::string_view segment : split_path(pattern)) route.segments.emplace_back(segment);
  routes_.push_back(std::move(route));
}

void Router::set_fallback(std::function<Response(int, const Request&)> fallback) {
  fallback_ = std::move(fallback);
}

Response Router::dispatch(Request& request) const {
  const std::vector<std::string_view> path = split_path(request.path);
  const Route* best = nullptr;
  int best_literals = -1;
  std::set<std::string> allowed;  // methods of routes whose path matches
  for (const Route& route : routes_) {
    const int literals = match(route.segments, path);
    if (literals < 0) continue;
    if (route.method != request.method) {
      allowed.insert(route.method);
      continue;
    }
    if (literals > best_literals) {
      best = &route;
      best_literals = literals;
    }
  }
  if (best != nullptr) {
    request.path_params.clear();
    for (size_t i = 0; i < best->segments.size(); ++i) {
      const std::string& segment = best->segments[i];
      if (is_param(segment)) {
        request.path_params[segment.substr(1, segment.size() - 2)] = std::string(path[i]);
      }
    }
    return best->handler(request);
  }
  const int status = allowed.empty() ? 404 : 405;
  Response response = fallback_ ? fallback_(status, request) : default_fallback(status, request);
  if (status == 405 && response.headers.find("Allow") == response.headers.end()) {
    std::string allow;
    for (const std::string& m : allowed) allow += (allow.empty() ? "" : ", ") + m;
    response.headers["Allow"] = allow;
  }
  return response;
}

}  // namespace tl::http
