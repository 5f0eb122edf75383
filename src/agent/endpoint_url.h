// Absolute http(s) URLs for the endpoints in the agent's settings
// (maaEndpoint, ascReportingEndpoint). Stricter than RFC 3986 on purpose: an
// endpoint is a base the agent appends API paths to, so credentials, queries
// and fragments have no place in it and are refused rather than guessed at.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "common/result.h"

namespace tl::agent {

struct EndpointUrl {
  std::string scheme;  // "http" or "https", lower case
  std::string host;    // lower case; an IPv6 literal keeps its brackets: "[::1]"
  uint16_t port = 0;   // explicit, or the scheme's default (443 / 80)
  bool port_explicit = false;
  std::string path;    // "/" when the URL had none; never ends in "//"
  // Normalized form: scheme://host[:port]path (the port only when explicit).
  std::string str() const;
  friend bool operator==(const EndpointUrl&, const EndpointUrl&) = default;
};

inline constexpr size_t kMaxEndpointUrlLength = 2048;

// Parses `text` as an absolute http:// or https:// URL. The error says which
// part is wrong (scheme, host, port, path, or a forbidden part), reason
// "settings-bad-url".
Result<EndpointUrl> parse_endpoint_url(std::string_view text);

}  // namespace tl::agent
