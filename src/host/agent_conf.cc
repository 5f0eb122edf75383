#include "host/agent_conf.h"

#include "host/json_fields.h"

namespace tl::host {

namespace {

Status check_value(const char* key, const std::string& v) {
  for (unsigned char c : v) {
    if (c < 0x20 || c == 0x7f) {
      return Error{std::string("agent setting ") + key + " '" + printable(v, 80) + "' has a control character",
                   "agent-conf-invalid"};
    }
  }
  return {};
}

}  // namespace

Result<std::string> agent_conf_text(const AgentSettings& s) {
  if (auto st = check_value("endpoint", s.endpoint); !st) return st.take_error();
  if (!s.endpoint.empty() && s.endpoint.rfind("http://", 0) != 0 && s.endpoint.rfind("https://", 0) != 0) {
    return Error{"agent setting endpoint '" + printable(s.endpoint, 80) + "' is not an http:// or https:// URL",
                 "agent-conf-invalid"};
  }
  if (s.attest_interval < 0) return Error{"agent setting attest_interval is negative", "agent-conf-invalid"};
  // No endpoint (no tlaunchd configured): the guest says no-config.
  std::string out = s.endpoint.empty() ? "" : "endpoint=" + s.endpoint + "\n";
  if (s.attest_interval > 0) out += "attest_interval=" + std::to_string(s.attest_interval) + "\n";
  for (const auto& k : s.release_keys) {
    const bool ok = !k.empty() && k.size() <= 127 &&
                    k.find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._-") ==
                        std::string::npos;
    if (!ok) {
      return Error{"release key name '" + printable(k, 80) + "' is not valid: 1-127 of A-Z a-z 0-9 . _ -",
                   "agent-conf-invalid"};
    }
    out += "release_key=" + k + "\n";
  }
  return out;
}

std::string guest_view_of(const std::string& server_url) {
  const auto scheme_end = server_url.find("://");
  if (scheme_end == std::string::npos) return server_url;
  const size_t host_begin = scheme_end + 3;
  for (const char* loop : {"127.0.0.1", "localhost", "[::1]"}) {
    const std::string h(loop);
    if (server_url.compare(host_begin, h.size(), h) != 0) continue;
    const size_t after = host_begin + h.size();
    // Only the whole host: "localhost.example" is another machine.
    if (after == server_url.size() || server_url[after] == ':' || server_url[after] == '/') {
      return server_url.substr(0, host_begin) + "10.0.2.2" + server_url.substr(after);
    }
  }
  return server_url;
}

}  // namespace tl::host
