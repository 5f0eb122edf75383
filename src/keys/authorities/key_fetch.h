// Where a trusted authority's signing keys come from (a file, a JWKS URL, or
// OpenID discovery) and fetching them once. No caching here: authorities.cc
// decides when to fetch.
#pragma once

#include <string>
#include <string_view>

#include "common/result.h"
#include "keys/authorities/authorities.h"
#include "token/jwk.h"

namespace tl::keys::detail {

// An http(s) URL split for tl::http::Client: origin and path (with query).
struct FetchUrl {
  std::string text;            // as given
  std::string origin;          // "https://host:port"
  std::string path_and_query;  // "/certs"
};

// Refuses anything but http(s) URLs without user info or fragment, made of
// printable ASCII; plain http only to a loopback host (keys fetched over a
// network without TLS could be anyone's).
Result<FetchUrl> parse_fetch_url(std::string_view url);

// "<issuer without a trailing '/'>/.well-known/openid-configuration"
// (OpenID Connect Discovery 1.0 §4).
std::string discovery_url(std::string_view issuer);

// The configuration checks create() makes: an issuer; not both jwks_file and
// jwks_uri; the URL that would be fetched parses (the issuer itself when
// discovery is used).
Status check_authority(const TrustedAuthority& authority);

// The authority's current keys: jwks_file read again, jwks_uri fetched, or
// discovery (whose "issuer" must equal the configured one, OpenID Connect
// Discovery §4.3) followed by its "jwks_uri". Every failure has the reason
// authority-unavailable and names the file or URL and the cause.
Result<token::Jwks> fetch_keys(const TrustedAuthority& authority, unsigned timeout_ms);

}  // namespace tl::keys::detail
