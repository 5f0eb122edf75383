// What a webhook receives and when it is retried (docs/webhooks.md).
#include <algorithm>
#include <exception>

#include <nlohmann/json.hpp>

#include "common/rfc3339.h"
#include "crypto/kdf.h"
#include "fleet/webhooks_internal.h"
#include "http/origin.h"

namespace tl::fleet::webhooks {

Result<SplitUrl> split_url(std::string_view url) {
  const size_t scheme_end = url.find("://");
  if (scheme_end == std::string_view::npos) {
    return Error{"webhook URL '" + std::string(url) + "' must start with http:// or https://"};
  }
  const size_t path_start = url.find_first_of("/?#", scheme_end + 3);
  SplitUrl out;
  out.origin = std::string(url.substr(0, path_start));
  if (auto origin = http::parse_origin(out.origin); !origin) {
    return with_context("webhook", origin.take_error());
  }
  if (path_start == std::string_view::npos) {
    out.path_and_query = "/";
    return out;
  }
  std::string_view rest = url.substr(path_start);
  if (rest.find('#') != std::string_view::npos) {
    // A fragment is never sent to a server; refusing it avoids a silent surprise.
    return Error{"webhook URL '" + std::string(url) + "' has a fragment ('#'), which HTTP does not send"};
  }
  for (const char c : rest) {
    const auto u = static_cast<unsigned char>(c);
    if (u <= 0x20 || u >= 0x7f) {
      return Error{"webhook URL '" + std::string(url) +
                   "' has a space, control or non-ASCII character in its path (percent-encode it)"};
    }
  }
  out.path_and_query = rest.starts_with("?") ? "/" + std::string(rest) : std::string(rest);
  return out;
}

Result<std::string> payload(const Event& event) {
  // ordered_json keeps "event" first and the alert's members in src/fleet's
  // order, so what a person reads in a receiver's log matches the API.
  using Json = nlohmann::ordered_json;
  Json alert = Json::parse(event.body, nullptr, /*allow_exceptions=*/false);
  if (alert.is_discarded()) {
    return Error{"event " + std::to_string(event.id) + ": stored alert body is not valid JSON"};
  }
  Json out;
  out["event"] = event.event;
  out["id"] = event.id;
  out["createdAt"] = format_rfc3339(event.created_at);
  out["alert"] = std::move(alert);
  try {
    return out.dump();
  } catch (const std::exception& e) {  // invalid UTF-8 in a string: the parser lets none through, but be sure
    return Error{"event " + std::to_string(event.id) + ": cannot encode the payload: " + e.what()};
  }
}

Result<std::string> signature(ByteView secret, std::string_view body) {
  auto tag = crypto::hmac(crypto::HashAlg::sha256, secret, as_bytes(body));
  if (!tag) return with_context("webhook signature", tag.take_error());
  return "sha256=" + to_hex(*tag);
}

std::chrono::milliseconds backoff(int failures, std::chrono::milliseconds first, std::chrono::milliseconds max,
                                  double unit) {
  // Double step by step and stop at the cap: no shift or pow that could overflow
  // after many failures.
  int64_t cap = std::min(first.count(), max.count());
  for (int i = 1; i < failures && cap < max.count(); ++i) cap = std::min(cap * 2, max.count());
  if (unit < 0) unit = 0;
  if (unit > 1) unit = 1;
  const int64_t half = cap / 2;
  return std::chrono::milliseconds(cap - half + static_cast<int64_t>(unit * static_cast<double>(half)));
}

}  // namespace tl::fleet::webhooks
