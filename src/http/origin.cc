#include "http/origin.h"

#include <charconv>

namespace tl::http {

Result<Origin> parse_origin(std::string_view url) {
  Origin out;
  std::string_view rest;
  if (url.starts_with("http://")) {
    rest = url.substr(7);
  } else if (url.starts_with("https://")) {
    out.tls = true;
    rest = url.substr(8);
  } else {
    return Error{"URL '" + std::string(url) + "' must start with http:// or https://"};
  }
  if (rest.ends_with("/")) rest.remove_suffix(1);
  if (rest.find('/') != std::string_view::npos || rest.find('?') != std::string_view::npos) {
    return Error{"URL '" + std::string(url) + "' must name only the origin (no path)"};
  }
  std::string_view port_text;
  if (rest.starts_with("[")) {  // [IPv6]:port
    const size_t close = rest.find(']');
    if (close == std::string_view::npos) return Error{"URL '" + std::string(url) + "': unclosed '['"};
    out.host = std::string(rest.substr(1, close - 1));
    std::string_view after = rest.substr(close + 1);
    if (!after.empty() && !after.starts_with(":")) {
      return Error{"URL '" + std::string(url) + "': junk after ']'"};
    }
    if (!after.empty()) port_text = after.substr(1);
  } else {
    const size_t colon = rest.find(':');
    out.host = std::string(rest.substr(0, colon));
    if (colon != std::string_view::npos) port_text = rest.substr(colon + 1);
  }
  if (out.host.empty()) return Error{"URL '" + std::string(url) + "' has no host"};
  if (port_text.empty()) {
    out.port = out.tls ? 443 : 80;
  } else {
    unsigned value = 0;
    auto [end, ec] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), value);
    if (ec != std::errc{} || end != port_text.data() + port_text.size() || value == 0 || value > 65535) {
      return Error{"URL '" + std::string(url) + "': bad port '" + std::string(port_text) + "'"};
    }
    out.port = static_cast<uint16_t>(value);
  }
  const bool v6 = out.host.find(':') != std::string::npos;
  out.host_header = (v6 ? "[" + out.host + "]" : out.host) + ":" + std::to_string(out.port);
  return out;
}

}  // namespace tl::http
