// A client's base URL: "http://host:port" or "https://host:port" (no path).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "common/result.h"

namespace tl::http {

struct Origin {
  bool tls = false;
  std::string host;         // name or IP, without IPv6 brackets
  uint16_t port = 0;        // default 80 / 443
  std::string host_header;  // as sent in Host: "host:port" ("[::1]:8443")
  std::string display() const { return host_header; }
};

Result<Origin> parse_origin(std::string_view url);

}  // namespace tl::http
