#include "keys/authorities/key_fetch.h"

#include <arpa/inet.h>
#include <netinet/in.h>

#include <fstream>
#include <iterator>

#include "http/http.h"
#include "http/origin.h"
#include "keys/authorities/reasons.h"
#include "token/strict_json.h"

namespace tl::keys::detail {
namespace {

// "localhost", 127.0.0.0/8 and ::1: a fetch that never leaves the machine.
// Addresses are parsed, so "127.0.0.1.example.com" is a name, not loopback.
bool is_loopback(const std::string& host) {
  if (host == "localhost") return true;
  in_addr v4{};
  if (inet_pton(AF_INET, host.c_str(), &v4) == 1) return (ntohl(v4.s_addr) >> 24) == 127;
  in6_addr v6{};
  return inet_pton(AF_INET6, host.c_str(), &v6) == 1 && IN6_IS_ADDR_LOOPBACK(&v6);
}

Error unavailable(Error e) {
  e.reason = kReasonAuthorityUnavailable;
  return e;
}

Result<std::string> http_get(const FetchUrl& url, const TrustedAuthority& authority, unsigned timeout_ms) {
  http::ClientOptions options;
  options.ca_file = authority.ca_file;
  options.timeout_ms = timeout_ms;
  options.keep_alive = false;
  // A discovery document or a JWKS is small; more is refused, not buffered.
  options.max_response_bytes = token::Jwks::kMaxJsonBytes;
  auto client = http::Client::create(url.origin, options);
  if (!client) return with_context("GET " + url.text, client.take_error());
  auto response = (*client)->request("GET", url.path_and_query, {}, http::Headers{{"Accept", "application/json"}});
  if (!response) return with_context("GET " + url.text, response.take_error());
  if (response->status != 200) {
    return Error{"GET " + url.text + ": HTTP " + std::to_string(response->status) + ", expected 200"};
  }
  return std::move(response->body);
}

Result<std::string> read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Error{"JWKS file " + path + ": cannot open it"};
  std::string text;
  // One byte more than a JWKS may have, so Jwks::parse reports the size.
  text.resize(token::Jwks::kMaxJsonBytes + 1);
  in.read(text.data(), static_cast<std::streamsize>(text.size()));
  if (in.bad()) return Error{"JWKS file " + path + ": read error"};
  text.resize(static_cast<size_t>(in.gcount()));
  return text;
}

Result<FetchUrl> jwks_uri_from_discovery(const TrustedAuthority& authority, unsigned timeout_ms) {
  auto url = parse_fetch_url(discovery_url(authority.issuer));
  if (!url) return url.take_error();
  auto body = http_get(*url, authority, timeout_ms);
  if (!body) return body.take_error();
  auto doc = token::parse_json_object(*body);
  if (!doc) return with_context("discovery document " + url->text, doc.take_error());
  auto issuer = doc->find("issuer");
  if (issuer == doc->end() || !issuer->is_string() || issuer->get<std::string>() != authority.issuer) {
    const std::string got = issuer == doc->end() ? std::string("missing") : "is " + issuer->dump();
    return Error{"discovery document " + url->text + ": \"issuer\" " + got + ", expected \"" + authority.issuer +
                 "\" (set jwks_uri to skip discovery)"};
  }
  auto jwks_uri = doc->find("jwks_uri");
  if (jwks_uri == doc->end() || !jwks_uri->is_string()) {
    return Error{"discovery document " + url->text + ": \"jwks_uri\" is missing or not a string"};
  }
  auto jwks = parse_fetch_url(jwks_uri->get<std::string>());
  if (!jwks) return with_context("discovery document " + url->text + ": \"jwks_uri\"", jwks.take_error());
  return jwks;
}

}  // namespace

Result<FetchUrl> parse_fetch_url(std::string_view url) {
  const size_t scheme_end = url.find("://");
  const std::string_view scheme = scheme_end == std::string_view::npos ? std::string_view{} : url.substr(0, scheme_end);
  if (scheme != "http" && scheme != "https") {
    return Error{"URL '" + std::string(url) + "' must start with https:// (or http:// to a loopback address)"};
  }
  for (const char c : url) {
    const auto u = static_cast<unsigned char>(c);
    if (u <= 0x20 || u >= 0x7f) {
      return Error{"URL '" + std::string(url) + "' has a space, control or non-ASCII character"};
    }
  }
  if (url.find('#') != std::string_view::npos) return Error{"URL '" + std::string(url) + "' has a fragment ('#')"};
  const size_t path_start = url.find_first_of("/?", scheme_end + 3);
  FetchUrl out;
  out.text = std::string(url);
  out.origin = std::string(url.substr(0, path_start));
  if (out.origin.find('@') != std::string::npos) {
    return Error{"URL '" + std::string(url) + "' has user information ('@'), which is not supported"};
  }
  auto origin = http::parse_origin(out.origin);
  if (!origin) return origin.take_error();
  if (!origin->tls && !is_loopback(origin->host)) {
    return Error{"URL '" + std::string(url) + "' is plain http to a host that is not loopback; use https://"};
  }
  if (path_start == std::string_view::npos) {
    out.path_and_query = "/";
  } else {
    const std::string_view rest = url.substr(path_start);
    out.path_and_query = rest.starts_with("?") ? "/" + std::string(rest) : std::string(rest);
  }
  return out;
}

std::string discovery_url(std::string_view issuer) {
  while (issuer.ends_with("/")) issuer.remove_suffix(1);
  return std::string(issuer) + "/.well-known/openid-configuration";
}

Status check_authority(const TrustedAuthority& authority) {
  if (authority.issuer.empty()) return Error{"trusted authority with an empty issuer"};
  const std::string where = "trusted authority \"" + authority.issuer + "\"";
  if (authority.jwks_file && authority.jwks_uri) {
    return Error{where + ": both jwks_file and jwks_uri are set; keep one"};
  }
  if (authority.jwks_file) {
    if (authority.jwks_file->empty()) return Error{where + ": jwks_file is empty"};
    return {};
  }
  if (authority.jwks_uri) {
    if (auto url = parse_fetch_url(*authority.jwks_uri); !url)
      return with_context(where + ": jwks_uri", url.take_error());
    return {};
  }
  if (authority.issuer.find_first_of("?#") != std::string::npos) {
    return Error{where + ": an issuer with a query or fragment cannot be discovered; set jwks_uri"};
  }
  if (auto url = parse_fetch_url(discovery_url(authority.issuer)); !url) {
    return with_context(where + ": OpenID discovery (set jwks_uri or jwks_file otherwise)", url.take_error());
  }
  return {};
}

Result<token::Jwks> fetch_keys(const TrustedAuthority& authority, unsigned timeout_ms) {
  const std::string where = "authority \"" + authority.issuer + "\"";
  if (authority.jwks_file) {
    auto text = read_file(*authority.jwks_file);
    if (!text) return unavailable(with_context(where, text.take_error()));
    auto keys = token::Jwks::parse(*text);
    if (!keys) return unavailable(with_context(where + ": JWKS file " + *authority.jwks_file, keys.take_error()));
    return keys;
  }
  Result<FetchUrl> url =
      authority.jwks_uri ? parse_fetch_url(*authority.jwks_uri) : jwks_uri_from_discovery(authority, timeout_ms);
  if (!url) return unavailable(with_context(where, url.take_error()));
  auto body = http_get(*url, authority, timeout_ms);
  if (!body) return unavailable(with_context(where, body.take_error()));
  auto keys = token::Jwks::parse(*body);
  if (!keys) return unavailable(with_context(where + ": JWKS from " + url->text, keys.take_error()));
  return keys;
}

}  // namespace tl::keys::detail
