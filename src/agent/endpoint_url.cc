#include "agent/endpoint_url.h"

#include <algorithm>
#include <cctype>

namespace tl::agent {
namespace {

constexpr const char* kReason = "settings-bad-url";

Error bad(const std::string& what) { return Error{what, kReason}; }

bool is_alpha(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
bool is_digit(char c) { return c >= '0' && c <= '9'; }
bool is_hex(char c) { return is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'); }
char lower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

std::string lowered(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(), lower);
  return out;
}

// RFC 3986 pchar minus nothing, plus '/': unreserved, pct-encoded, sub-delims, ':', '@'.
bool is_path_char(char c) {
  if (is_alpha(c) || is_digit(c)) return true;
  switch (c) {
    case '-': case '.': case '_': case '~':                                  // unreserved
    case '!': case '$': case '&': case '\'': case '(': case ')': case '*':   // sub-delims
    case '+': case ',': case ';': case '=':
    case ':': case '@': case '/':
      return true;
    default:
      return false;
  }
}

std::string printable(char c) {
  if (c >= 0x21 && c < 0x7f) return std::string("'") + c + "'";
  static const char* hex = "0123456789abcdef";
  const auto u = static_cast<unsigned char>(c);
  return std::string("byte 0x") + hex[u >> 4] + hex[u & 15];
}

// A DNS name (letters, digits, '-', '.'; labels 1..63, not starting or ending
// in '-') or a dotted IPv4 address, which is a DNS-shaped string as well.
Status check_reg_name(std::string_view host) {
  if (host.size() > 253) return bad("host is longer than 253 characters");
  size_t label_start = 0;
  for (size_t i = 0; i <= host.size(); ++i) {
    if (i == host.size() || host[i] == '.') {
      const std::string_view label = host.substr(label_start, i - label_start);
      if (label.empty()) {
        // One trailing dot (a fully qualified name) is fine; empty labels elsewhere are not.
        if (!(i == host.size() && i > 0)) return bad("host \"" + std::string(host) + "\" has an empty label");
      } else {
        if (label.size() > 63) return bad("host label \"" + std::string(label) + "\" is longer than 63 characters");
        if (label.front() == '-' || label.back() == '-') {
          return bad("host label \"" + std::string(label) + "\" starts or ends with '-'");
        }
      }
      label_start = i + 1;
      continue;
    }
    const char c = host[i];
    if (!is_alpha(c) && !is_digit(c) && c != '-') {
      return bad("host \"" + std::string(host) + "\" contains " + printable(c) +
                 " (only letters, digits, '-' and '.' are allowed)");
    }
  }
  return {};
}

// "[…]" with hex digits, ':' and '.' (an embedded IPv4 tail); a zone id is refused.
Status check_ipv6_literal(std::string_view host) {
  const std::string_view inner = host.substr(1, host.size() - 2);
  if (inner.empty()) return bad("IPv6 host \"[]\" is empty");
  if (inner.find(':') == std::string_view::npos) return bad("IPv6 host \"" + std::string(host) + "\" has no ':'");
  for (char c : inner) {
    if (!is_hex(c) && c != ':' && c != '.') {
      return bad("IPv6 host \"" + std::string(host) + "\" contains " + printable(c));
    }
  }
  return {};
}

}  // namespace

std::string EndpointUrl::str() const {
  std::string out = scheme + "://" + host;
  if (port_explicit) out += ":" + std::to_string(port);
  return out + path;
}

Result<EndpointUrl> parse_endpoint_url(std::string_view text) {
  if (text.empty()) return bad("URL is empty");
  if (text.size() > kMaxEndpointUrlLength) {
    return bad("URL is " + std::to_string(text.size()) + " characters, more than " +
               std::to_string(kMaxEndpointUrlLength));
  }
  for (size_t i = 0; i < text.size(); ++i) {
    const auto c = static_cast<unsigned char>(text[i]);
    if (c <= 0x20 || c >= 0x7f) {
      return bad("URL contains " + printable(text[i]) + " at offset " + std::to_string(i) +
                 " (spaces, control and non-ASCII characters must be percent-encoded)");
    }
  }

  const size_t colon = text.find(':');
  if (colon == std::string_view::npos || text.substr(colon, 3) != "://") {
    return bad("\"" + std::string(text) + "\" is not an absolute URL (expected https://host[:port][/path])");
  }
  EndpointUrl url;
  url.scheme = lowered(text.substr(0, colon));
  if (url.scheme != "https" && url.scheme != "http") {
    return bad("scheme \"" + std::string(text.substr(0, colon)) + "\" is not http or https");
  }
  std::string_view rest = text.substr(colon + 3);

  const size_t authority_end = rest.find_first_of("/?#");
  const std::string_view authority = rest.substr(0, authority_end);
  const std::string_view tail = authority_end == std::string_view::npos ? std::string_view{} : rest.substr(authority_end);

  if (authority.find('@') != std::string_view::npos) {
    return bad("URL has user information before '@': credentials do not belong in the settings");
  }
  if (authority.empty()) return bad("URL has no host");

  std::string_view host, port_text;
  bool has_port = false;
  if (authority.front() == '[') {
    const size_t close = authority.find(']');
    if (close == std::string_view::npos) return bad("IPv6 host has no closing ']'");
    host = authority.substr(0, close + 1);
    const std::string_view after = authority.substr(close + 1);
    if (!after.empty()) {
      if (after.front() != ':') return bad("unexpected \"" + std::string(after) + "\" after the IPv6 host");
      has_port = true;
      port_text = after.substr(1);
    }
    if (auto s = check_ipv6_literal(host); !s) return s.take_error();
  } else {
    const size_t pc = authority.find(':');
    host = authority.substr(0, pc);
    if (pc != std::string_view::npos) {
      has_port = true;
      port_text = authority.substr(pc + 1);
    }
    if (host.empty()) return bad("URL has no host");
    if (auto s = check_reg_name(host); !s) return s.take_error();
  }
  url.host = lowered(host);

  if (has_port) {
    if (port_text.empty()) return bad("port after ':' is empty");
    if (port_text.size() > 5 || !std::all_of(port_text.begin(), port_text.end(), is_digit)) {
      return bad("port \"" + std::string(port_text) + "\" is not a number from 1 to 65535");
    }
    const unsigned long p = std::stoul(std::string(port_text));
    if (p == 0 || p > 65535) return bad("port " + std::string(port_text) + " is not in 1..65535");
    url.port = static_cast<uint16_t>(p);
    url.port_explicit = true;
  } else {
    url.port = url.scheme == "https" ? 443 : 80;
  }

  if (!tail.empty() && tail.front() == '?') return bad("URL has a query ('?'): an endpoint is a base URL without one");
  if (!tail.empty() && tail.front() == '#') return bad("URL has a fragment ('#'): an endpoint is a base URL without one");
  const std::string_view path = tail;
  for (size_t i = 0; i < path.size(); ++i) {
    const char c = path[i];
    if (c == '?') return bad("URL has a query ('?'): an endpoint is a base URL without one");
    if (c == '#') return bad("URL has a fragment ('#'): an endpoint is a base URL without one");
    if (c == '%') {
      if (i + 2 >= path.size() || !is_hex(path[i + 1]) || !is_hex(path[i + 2])) {
        return bad("path has a '%' not followed by two hex digits");
      }
      continue;
    }
    if (!is_path_char(c)) return bad("path contains " + printable(c));
  }
  if (path.find("//") != std::string_view::npos) return bad("path \"" + std::string(path) + "\" contains an empty segment (\"//\")");
  // Dot segments would make the effective endpoint differ from what is written.
  for (size_t start = 0; start < path.size();) {
    size_t end = path.find('/', start + 1);
    if (end == std::string_view::npos) end = path.size();
    const std::string_view seg = path.substr(start + 1, end - start - 1);
    if (seg == "." || seg == "..") return bad("path \"" + std::string(path) + "\" contains a \"" + std::string(seg) + "\" segment");
    start = end;
  }
  url.path = path.empty() ? "/" : std::string(path);
  return url;
}

}  // namespace tl::agent
