// Request targets as a client sends them: parse_target (percent-decoding,
// query splitting) and then Router::dispatch over a fixed route table.
// Invariants: success gives an absolute path without NUL; a dispatched
// request's path parameters are single non-empty segments; 404/405 come with
// the right shape; percent-encoding every byte and decoding gives it back.
#include <cstddef>
#include <cstdint>
#include <string>

#include "fuzz_support.h"
#include "http/http.h"
#include "http/target.h"

namespace {

tl::http::Router make_router() {
  using tl::http::Request;
  using tl::http::Response;
  tl::http::Router router;
  auto params_ok = [](const Request& req) {
    for (const auto& [name, value] : req.path_params) {
      tl::fuzz::check(!name.empty() && !value.empty() && value.find('/') == std::string::npos);
    }
    return Response{200, {}, "ok"};
  };
  router.add("GET", "/health", params_ok);
  router.add("POST", "/keys/{name}/release", params_ok);
  router.add("GET", "/keys/{name}/{version}", params_ok);
  router.add("GET", "/keys/export/{version}", params_ok);
  router.add("DELETE", "/vms/{id}", params_ok);
  return router;
}

const char* kMethods[] = {"GET", "POST", "DELETE", "PUT"};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const tl::http::Router router = make_router();
  if (size == 0) return 0;
  const std::string target(reinterpret_cast<const char*>(data) + 1, size - 1);

  auto parsed = tl::http::parse_target(target);
  if (parsed) {
    tl::fuzz::check(!parsed->path.empty() && parsed->path.front() == '/');
    tl::fuzz::check(parsed->path.find('\0') == std::string::npos);
    tl::http::Request request;
    request.method = kMethods[data[0] % 4];
    request.path = parsed->path;
    request.query = parsed->query;
    const tl::http::Response response = router.dispatch(request);
    tl::fuzz::check(response.status == 200 || response.status == 404 || response.status == 405);
    if (response.status == 405) tl::fuzz::check(response.headers.count("Allow") == 1);
  }

  // Round trip: every byte escaped, then decoded (NUL is refused by design).
  std::string escaped;
  static const char kHex[] = "0123456789ABCDEF";
  for (char c : target) {
    const auto b = static_cast<unsigned char>(c);
    escaped += '%';
    escaped += kHex[b >> 4];
    escaped += kHex[b & 15];
  }
  auto decoded = tl::http::percent_decode(escaped, true);
  if (target.find('\0') == std::string::npos) {
    tl::fuzz::check(decoded.ok() && *decoded == target);
  } else {
    tl::fuzz::check(!decoded.ok());
  }
  return 0;
}
