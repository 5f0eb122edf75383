#include "token/jwt.h"

#include <algorithm>
#include <cctype>
#include <chrono>
#include <cmath>

#include "token/base64url.h"
#include "token/strict_json.h"

namespace tl::token {

namespace {

using json = nlohmann::json;

Result<std::string> dump_strict(const json& j) {
  try {
    return j.dump(-1, ' ', false, json::error_handler_t::strict);
  } catch (const json::exception& e) {
    return Error{std::string("cannot serialize: ") + e.what()};
  }
}

bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) == std::tolower(static_cast<unsigned char>(y));
         });
}

// A NumericDate claim (RFC 7519 §2): a JSON number of seconds; fractions are
// truncated toward negative infinity.
Result<std::optional<int64_t>> numeric_date(const json& claims, const char* name) {
  auto it = claims.find(name);
  if (it == claims.end()) return std::optional<int64_t>{};
  if (it->is_number_integer()) return std::optional<int64_t>{it->get<int64_t>()};
  if (it->is_number_unsigned()) {
    const uint64_t v = it->get<uint64_t>();
    if (v > static_cast<uint64_t>(INT64_MAX)) return Error{std::string("claims: \"") + name + "\" is out of range"};
    return std::optional<int64_t>{static_cast<int64_t>(v)};
  }
  if (it->is_number_float()) {
    const double v = it->get<double>();
    if (!std::isfinite(v) || std::fabs(v) > 9.0e15) return Error{std::string("claims: \"") + name + "\" is out of range"};
    return std::optional<int64_t>{static_cast<int64_t>(std::floor(v))};
  }
  return Error{std::string("claims: \"") + name + "\" is a " + json_kind(*it) + ", expected a NumericDate (number)"};
}

// A verification failure with its reason. The reason is set, not merely
// defaulted: a callee's own classification (crypto, JSON) is not a token reason.
Error refused(const char* reason, Error e) {
  e.reason = reason;
  return e;
}
Error refused(const char* reason, std::string message) { return Error{std::move(message), reason}; }

bool unsecured_header(const Bytes& header_bytes) {
  auto h = parse_json_object(std::string(header_bytes.begin(), header_bytes.end()));
  if (!h) return false;
  auto alg = h->find("alg");
  return alg != h->end() && alg->is_string() && iequals(alg->get<std::string>(), "none");
}

}  // namespace

Result<std::string> sign_jwt(const SigningKey& key, const json& claims, const SignOptions& options) {
  if (!claims.is_object()) return Error{std::string("claims are a JSON ") + json_kind(claims) + ", expected an object"};
  json header = {{"alg", std::string(crypto::jws_alg_name(key.alg()))}, {"kid", key.kid()}, {"typ", "JWT"}};
  if (options.jku) header["jku"] = *options.jku;
  auto h = dump_strict(header);
  if (!h) return with_context("header", h.take_error());
  auto c = dump_strict(claims);
  if (!c) return with_context("claims", c.take_error());
  std::string input = base64url_encode(as_bytes(*h)) + "." + base64url_encode(as_bytes(*c));
  auto sig = key.private_key().sign(as_bytes(input));
  if (!sig) return sig.take_error();
  return input + "." + base64url_encode(*sig);
}

Result<VerifiedToken> verify_jwt(std::string_view token, const Jwks& keys, const VerifyOptions& options) {
  // 1. Size, before any decoding.
  if (token.size() > options.max_token_bytes) {
    return refused(kReasonTokenMalformed, "token is " + std::to_string(token.size()) + " bytes, over the " +
                                              std::to_string(options.max_token_bytes) + "-byte limit");
  }
  // 2. Exactly three parts, none empty (an empty signature is an unsecured JWS).
  const size_t dots = static_cast<size_t>(std::count(token.begin(), token.end(), '.'));
  if (dots != 2) {
    return refused(kReasonTokenMalformed,
                   "token has " + std::to_string(dots + 1) + " parts, a JWS compact serialization has 3");
  }
  const size_t d1 = token.find('.');
  const size_t d2 = token.find('.', d1 + 1);
  const std::string_view parts[3] = {token.substr(0, d1), token.substr(d1 + 1, d2 - d1 - 1), token.substr(d2 + 1)};
  static constexpr const char* kPartNames[3] = {"header", "payload", "signature"};
  Bytes decoded[3];
  for (int i = 0; i < 3; ++i) {
    if (parts[i].empty()) {
      // An unsecured JWS (RFC 7515 §A.5) has an empty signature: name what it
      // is when its header says so, rather than calling it malformed.
      if (i == 2 && unsecured_header(decoded[0]))
        return refused(kReasonTokenAlgRefused, "header: \"alg\" \"none\" is refused (unsecured JWS)");
      return refused(kReasonTokenMalformed, std::string(kPartNames[i]) + ": empty part");
    }
    auto b = base64url_decode(parts[i]);
    if (!b) return refused(kReasonTokenMalformed, with_context(kPartNames[i], b.take_error()));
    decoded[i] = std::move(*b);
  }

  // 3. Header: a JSON object with an allowed alg, no crit, typ JWT, a kid.
  const std::string header_text(decoded[0].begin(), decoded[0].end());
  auto header = parse_json_object(header_text);
  if (!header) return refused(kReasonTokenMalformed, with_context("header", header.take_error()));
  auto alg_it = header->find("alg");
  if (alg_it == header->end()) return refused(kReasonTokenMalformed, "header: missing \"alg\"");
  if (!alg_it->is_string()) {
    return refused(kReasonTokenMalformed,
                   std::string("header: \"alg\" is a ") + json_kind(*alg_it) + ", expected a string");
  }
  const std::string alg_name = alg_it->get<std::string>();
  if (alg_name == "none" || iequals(alg_name, "none")) {
    return refused(kReasonTokenAlgRefused, "header: \"alg\" \"none\" is refused (unsecured JWS)");
  }
  const auto alg = crypto::jws_alg_from_name(alg_name);
  if (!alg || std::find(options.allowed_algs.begin(), options.allowed_algs.end(), *alg) == options.allowed_algs.end()) {
    return refused(kReasonTokenAlgRefused, "header: \"alg\" \"" + alg_name + "\" is not allowed");
  }
  if (header->contains("crit")) {
    return refused(kReasonTokenMalformed, "header: \"crit\" is present; no extension is understood");
  }
  if (auto typ = header->find("typ"); typ != header->end()) {
    if (!typ->is_string() || !iequals(typ->get<std::string>(), "JWT")) {
      return refused(kReasonTokenMalformed, "header: \"typ\" is " + typ->dump() + ", expected \"JWT\"");
    }
  }
  auto kid_it = header->find("kid");
  if (kid_it == header->end()) return refused(kReasonTokenMalformed, "header: missing \"kid\"");
  if (!kid_it->is_string()) {
    return refused(kReasonTokenMalformed,
                   std::string("header: \"kid\" is a ") + json_kind(*kid_it) + ", expected a string");
  }
  const std::string kid = kid_it->get<std::string>();

  // 4. Key lookup and alg/key agreement (against algorithm confusion).
  const Jwk* jwk = keys.find(kid);
  if (jwk == nullptr) return refused(kReasonTokenUnknownKid, "header: unknown \"kid\" \"" + kid + "\"");
  if (auto st = jwk->allows(*alg); !st) return refused(kReasonTokenAlgRefused, with_context("header", st.take_error()));

  // 5. Signature over ASCII(header part || '.' || payload part).
  const std::string_view signing_input = token.substr(0, d2);
  if (auto st = crypto::verify_jws_signature(*alg, jwk->key, as_bytes(signing_input), decoded[2]); !st) {
    return refused(kReasonTokenSignatureInvalid, with_context("signature", st.take_error()));
  }

  // 6. Claims: a JSON object; the time window; issuer and audience.
  const std::string payload_text(decoded[1].begin(), decoded[1].end());
  auto claims = parse_json_object(payload_text);
  if (!claims) return refused(kReasonTokenMalformed, with_context("payload", claims.take_error()));
  const int64_t now = options.now ? *options.now
                                  : std::chrono::duration_cast<std::chrono::seconds>(
                                        std::chrono::system_clock::now().time_since_epoch()).count();
  const int64_t leeway = std::max<int64_t>(options.leeway_seconds, 0);
  auto exp = numeric_date(*claims, "exp");
  if (!exp) return refused(kReasonTokenMalformed, exp.take_error());
  auto nbf = numeric_date(*claims, "nbf");
  if (!nbf) return refused(kReasonTokenMalformed, nbf.take_error());
  auto iat = numeric_date(*claims, "iat");
  if (!iat) return refused(kReasonTokenMalformed, iat.take_error());
  if (!*exp && options.require_exp) return refused(kReasonTokenMalformed, "claims: missing \"exp\"");
  if (*exp && now - leeway >= **exp) {
    return refused(kReasonTokenExpired, "claims: expired (\"exp\" " + std::to_string(**exp) + ", now " +
                                            std::to_string(now) + ", leeway " + std::to_string(leeway) + " s)");
  }
  if (*nbf && now + leeway < **nbf) {
    return refused(kReasonTokenNotYetValid, "claims: not yet valid (\"nbf\" " + std::to_string(**nbf) + ", now " +
                                                std::to_string(now) + ", leeway " + std::to_string(leeway) + " s)");
  }
  if (*iat && now + leeway < **iat) {
    return refused(kReasonTokenNotYetValid, "claims: issued in the future (\"iat\" " + std::to_string(**iat) +
                                                ", now " + std::to_string(now) + ", leeway " +
                                                std::to_string(leeway) + " s)");
  }
  if (options.issuer) {
    auto iss = claims->find("iss");
    if (iss == claims->end()) {
      return refused(kReasonTokenIssuerMismatch, "claims: missing \"iss\", expected \"" + *options.issuer + "\"");
    }
    if (!iss->is_string() || iss->get<std::string>() != *options.issuer) {
      return refused(kReasonTokenIssuerMismatch,
                     "claims: \"iss\" is " + iss->dump() + ", expected \"" + *options.issuer + "\"");
    }
  }
  if (options.audience) {
    auto aud = claims->find("aud");
    if (aud == claims->end()) {
      return refused(kReasonTokenAudienceMismatch,
                     "claims: missing \"aud\", expected \"" + *options.audience + "\"");
    }
    bool found = false;
    if (aud->is_string()) {
      found = aud->get<std::string>() == *options.audience;
    } else if (aud->is_array()) {
      found = std::any_of(aud->begin(), aud->end(),
                          [&](const json& a) { return a.is_string() && a.get<std::string>() == *options.audience; });
    } else {
      return refused(kReasonTokenMalformed,
                     std::string("claims: \"aud\" is a ") + json_kind(*aud) + ", expected a string or an array");
    }
    if (!found) {
      return refused(kReasonTokenAudienceMismatch, "claims: \"aud\" does not contain \"" + *options.audience + "\"");
    }
  }
  return VerifiedToken(std::move(*header), std::move(*claims), *alg, kid);
}

}  // namespace tl::token
