#include "keys/authorities/unverified_issuer.h"

#include <algorithm>

#include "keys/authorities/reasons.h"
#include "token/base64url.h"
#include "token/jwt.h"
#include "token/strict_json.h"

namespace tl::keys::detail {

Result<std::string> unverified_issuer(std::string_view jwt, size_t max_token_bytes) {
  auto malformed = [](std::string message) { return Error{std::move(message), token::kReasonTokenMalformed}; };
  if (jwt.size() > max_token_bytes) {
    return malformed("token is " + std::to_string(jwt.size()) + " bytes, over the " + std::to_string(max_token_bytes) +
                     "-byte limit");
  }
  const size_t dots = static_cast<size_t>(std::count(jwt.begin(), jwt.end(), '.'));
  if (dots != 2)
    return malformed("token has " + std::to_string(dots + 1) + " parts, a JWS compact serialization has 3");
  const size_t d1 = jwt.find('.');
  const size_t d2 = jwt.find('.', d1 + 1);
  const std::string_view payload_part = jwt.substr(d1 + 1, d2 - d1 - 1);
  if (payload_part.empty()) return malformed("payload: empty part");
  auto payload = token::base64url_decode(payload_part);
  if (!payload) return malformed(with_context("payload", payload.take_error()).message);
  const std::string payload_text(payload->begin(), payload->end());
  auto claims = token::parse_json_object(payload_text);
  if (!claims) return malformed(with_context("payload", claims.take_error()).message);

  auto iss = claims->find("iss");
  if (iss == claims->end()) return Error{"claims: missing \"iss\": the token names no issuer", kReasonUntrustedIssuer};
  if (!iss->is_string()) {
    return Error{std::string("claims: \"iss\" is a ") + token::json_kind(*iss) + ", expected a string",
                 kReasonUntrustedIssuer};
  }
  std::string out = iss->get<std::string>();
  if (out.empty()) return Error{"claims: \"iss\" is empty", kReasonUntrustedIssuer};
  return out;
}

}  // namespace tl::keys::detail
