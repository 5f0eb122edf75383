// The fleet commands' side of tlaunchd's REST API (docs/fleet-api.md): where
// the server is, the admin token, the CA to trust, one call at a time, RFC 7807
// problems turned into errors, and paged lists followed to their end.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "cli/options.h"
#include "common/result.h"
#include "http/http.h"

namespace tl::cli {

using Json = nlohmann::ordered_json;  // keeps the server's member order for --json

// Error reasons for failures on this side of the wire; they exit 2. Any other
// reason is the server's problem slug (docs/errors.md) and exits 1.
inline constexpr std::string_view kUsageReason = "tlaunch-usage";
inline constexpr std::string_view kConnectionReason = "tlaunch-connection";

Error usage_error(std::string message);

// The option spec of a fleet command: its own options plus --server,
// --token-file, --cacert, --json and --help.
OptionSpec fleet_option_spec(std::set<std::string> flags, std::set<std::string> with_value);

// Parses a fleet command's arguments. nullopt when --help / -h was given (the
// caller prints its help); usage errors carry kUsageReason.
Result<std::optional<ParsedOptions>> parse_fleet_options(const Args& args, const OptionSpec& spec);

// Prints `e` for the user and returns the exit code: usage errors as
// "tlaunch <command>: …", connection failures and server problems as
// "tlaunch: …".
int report_failure(std::string_view command, const Error& e);

// "a b/c" → "a%20b%2Fc": for path segments and query values.
std::string percent_encode(std::string_view text);

// path?name=value&… with the values percent-encoded; pairs with an empty value are left out.
std::string with_query(std::string path, const std::vector<std::pair<std::string, std::string>>& query);

class ApiClient {
 public:
  // From --server / TLAUNCH_SERVER (default https://127.0.0.1:8443),
  // --token-file / TLAUNCH_TOKEN_FILE (required) and --cacert / TLAUNCH_CACERT.
  // Nothing is sent yet. Errors: a missing, unreadable or empty token file, a
  // bad URL or CA file (all kUsageReason).
  static Result<ApiClient> from_options(const ParsedOptions& options);

  // One request with the bearer token. A 2xx answer gives its JSON body (null
  // for an empty body); a problem answer gives an Error whose message is its
  // detail and whose reason is its reason slug; a transport failure gives
  // kConnectionReason and names the URL.
  Result<Json> call(std::string_view method, const std::string& path_and_query, const Json* body = nullptr);
  Result<Json> get(const std::string& path_and_query) { return call("GET", path_and_query); }

  // GETs a paged list ({"value": […], "nextAfter": cursor|null}) page by page,
  // passing each nextAfter back as `after`, and returns every item as one
  // {"value": […], "nextAfter": null}.
  Result<Json> get_all(const std::string& path, std::vector<std::pair<std::string, std::string>> query);

  const std::string& base_url() const { return base_url_; }

 private:
  ApiClient(std::string base_url, std::string token, std::unique_ptr<http::Client> client)
      : base_url_(std::move(base_url)), token_(std::move(token)), client_(std::move(client)) {}

  std::string base_url_;
  std::string token_;
  std::unique_ptr<http::Client> client_;
};

}  // namespace tl::cli
