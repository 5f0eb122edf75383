#include "cli/api_client.h"

#include <cstdio>
#include <cstdlib>
#include <set>

namespace tl::cli {

namespace {

constexpr const char* kDefaultServer = "https://127.0.0.1:8443";
constexpr std::string_view kProblemTypePrefix = "urn:trustlaunch:problem:";
// The API's largest page: fewer round trips for long lists.
constexpr const char* kPageLimit = "1000";

// An empty variable counts as unset, so `TLAUNCH_SERVER= tlaunch …` means the default.
std::optional<std::string> env(const char* name) {
  const char* v = std::getenv(name);
  if (v == nullptr || *v == '\0') return std::nullopt;
  return std::string(v);
}

std::optional<std::string> option_or_env(const ParsedOptions& o, const std::string& option, const char* var) {
  if (auto v = o.value(option)) return v;
  return env(var);
}

bool is_space(uint8_t c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f'; }

Result<std::string> read_token(const std::string& path) {
  auto bytes = read_file_bytes(path);
  if (!bytes) return usage_error("cannot read the admin token: " + bytes.error().message);
  size_t begin = 0, end = bytes->size();
  while (begin < end && is_space((*bytes)[begin])) ++begin;
  while (end > begin && is_space((*bytes)[end - 1])) --end;
  if (begin == end) return usage_error("token file " + path + " is empty (tlaunchd writes the admin token to <database>.admin-token)");
  std::string token(bytes->begin() + static_cast<std::ptrdiff_t>(begin),
                    bytes->begin() + static_cast<std::ptrdiff_t>(end));
  // Only visible ASCII may go into the Authorization header: anything else
  // (a second line, a NUL, a binary file given by mistake) is not a token.
  for (unsigned char c : token) {
    if (c < 0x21 || c > 0x7e) {
      return usage_error("token file " + path + " does not hold one token (it has spaces, line breaks or non-ASCII bytes)");
    }
  }
  return token;
}

// The RFC 7807 problem of a non-2xx answer as an Error: detail and reason.
Error problem_error(const http::Response& r) {
  const std::string status = "HTTP " + std::to_string(r.status);
  const Json j = Json::parse(r.body, nullptr, false);
  if (!j.is_object()) {
    std::string text = r.body.substr(0, 200);
    for (char& c : text) {
      if (static_cast<unsigned char>(c) < 0x20) c = ' ';
    }
    return Error{"the server answered " + status + (text.empty() ? "" : ": " + text), status};
  }
  auto str = [&j](const char* key) -> std::string {
    auto it = j.find(key);
    return it != j.end() && it->is_string() ? it->get<std::string>() : std::string();
  };
  std::string reason = str("reason");
  // Problems made by the HTTP layer carry no reason; a type from tlaunchd's
  // namespace still names it.
  if (const std::string type = str("type"); reason.empty() && type.starts_with(kProblemTypePrefix)) {
    reason = type.substr(kProblemTypePrefix.size());
  }
  if (reason.empty()) reason = status;
  std::string detail = str("detail");
  if (detail.empty()) detail = str("title");
  if (detail.empty()) detail = "the server answered " + status;
  return Error{detail, reason};
}

}  // namespace

Error usage_error(std::string message) { return Error{std::move(message), std::string(kUsageReason)}; }

OptionSpec fleet_option_spec(std::set<std::string> flags, std::set<std::string> with_value) {
  flags.insert({"--json", "--help"});
  with_value.insert({"--server", "--token-file", "--cacert"});
  return OptionSpec{std::move(flags), std::move(with_value)};
}

Result<std::optional<ParsedOptions>> parse_fleet_options(const Args& args, const OptionSpec& spec) {
  // --help wins over anything else on the line, so a half-typed command can still ask for help.
  for (const auto& a : args) {
    if (a == "--") break;
    if (a == "--help" || a == "-h") return std::optional<ParsedOptions>();
  }
  auto parsed = parse_options(args, spec);
  if (!parsed) return usage_error(parsed.error().message);
  return std::optional<ParsedOptions>(std::move(*parsed));
}

int report_failure(std::string_view command, const Error& e) {
  if (e.reason == kUsageReason) {
    std::fprintf(stderr, "tlaunch %.*s: %s (see 'tlaunch %.*s --help')\n", static_cast<int>(command.size()),
                 command.data(), e.message.c_str(), static_cast<int>(command.size()), command.data());
    return kExitBadInput;
  }
  if (e.reason == kConnectionReason) {
    std::fprintf(stderr, "tlaunch: %s\n", e.message.c_str());
    return kExitBadInput;
  }
  std::fprintf(stderr, "tlaunch: %s (%s)\n", e.message.c_str(), e.reason.c_str());
  if (e.reason == "unauthorized") {
    std::fputs("tlaunch: use the admin token tlaunchd wrote to <database>.admin-token "
               "(--token-file or TLAUNCH_TOKEN_FILE)\n", stderr);
  }
  return kExitFailed;
}

std::string percent_encode(std::string_view text) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : text) {
    const bool unreserved = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                            c == '-' || c == '.' || c == '_' || c == '~';
    if (unreserved) {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 0xf];
    }
  }
  return out;
}

std::string with_query(std::string path, const std::vector<std::pair<std::string, std::string>>& query) {
  char sep = '?';
  for (const auto& [name, value] : query) {
    if (value.empty()) continue;
    path += sep;
    path += name + "=" + percent_encode(value);
    sep = '&';
  }
  return path;
}

Result<ApiClient> ApiClient::from_options(const ParsedOptions& o) {
  std::string server = option_or_env(o, "--server", "TLAUNCH_SERVER").value_or(kDefaultServer);
  const auto token_file = option_or_env(o, "--token-file", "TLAUNCH_TOKEN_FILE");
  if (!token_file) {
    return usage_error("no admin token: give --token-file FILE or set TLAUNCH_TOKEN_FILE "
                       "(tlaunchd writes the token to <database>.admin-token)");
  }
  auto token = read_token(*token_file);
  if (!token) return token.take_error();
  http::ClientOptions copts;
  copts.ca_file = option_or_env(o, "--cacert", "TLAUNCH_CACERT");
  auto client = http::Client::create(server, copts);
  if (!client) return usage_error(client.error().message);
  return ApiClient(std::move(server), std::move(*token), std::move(*client));
}

Result<Json> ApiClient::call(std::string_view method, const std::string& path_and_query, const Json* body) {
  http::Headers headers{{"Authorization", "Bearer " + token_}, {"Accept", "application/json"}};
  std::string text;
  if (body != nullptr) {
    text = body->dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);  // a path is bytes, not always UTF-8
    headers["Content-Type"] = "application/json";
  }
  auto r = client_->request(method, path_and_query, text, headers);
  if (!r) return Error{"cannot reach " + base_url_ + ": " + r.error().message, std::string(kConnectionReason)};
  if (r->status < 200 || r->status > 299) return problem_error(*r);
  if (r->body.empty()) return Json(nullptr);
  Json j = Json::parse(r->body, nullptr, false);
  if (j.is_discarded()) {
    return Error{"the answer to " + std::string(method) + " " + path_and_query + " is not JSON", "invalid-answer"};
  }
  return j;
}

Result<Json> ApiClient::get_all(const std::string& path, std::vector<std::pair<std::string, std::string>> query) {
  query.emplace_back("limit", kPageLimit);
  Json all = Json::array();
  std::string after;
  std::set<std::string> seen;  // a cursor seen twice would loop forever
  for (;;) {
    auto q = query;
    q.emplace_back("after", after);
    const std::string target = with_query(path, q);
    auto page = get(target);
    if (!page) return page.take_error();
    auto value = page->find("value");
    if (!page->is_object() || value == page->end() || !value->is_array()) {
      return Error{"the answer to GET " + target + " has no \"value\" array", "invalid-answer"};
    }
    for (auto& item : *value) all.push_back(std::move(item));
    auto next = page->find("nextAfter");
    if (next == page->end() || next->is_null()) break;
    if (next->is_string()) {
      after = next->get<std::string>();
    } else if (next->is_number_integer()) {
      after = std::to_string(next->get<int64_t>());
    } else {
      return Error{"the answer to GET " + target + " has a nextAfter that is neither a name nor an id", "invalid-answer"};
    }
    if (after.empty() || !seen.insert(after).second) {
      return Error{"the answer to GET " + target + " repeats the paging cursor '" + after + "'", "invalid-answer"};
    }
  }
  Json out = Json::object();
  out["value"] = std::move(all);
  out["nextAfter"] = nullptr;
  return out;
}

}  // namespace tl::cli
