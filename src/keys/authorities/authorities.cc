// Picks the authority by the token's (unverified) "iss", then verifies the
// token with that authority's keys only. Trusted issuers' keys are cached per
// issuer; a fetch holds only that issuer's fetch mutex, so verification for
// other issuers (and for this one, from cached keys) goes on meanwhile.
#include "keys/authorities/authorities.h"

#include <map>
#include <memory>
#include <mutex>
#include <optional>

#include "keys/authorities/key_fetch.h"
#include "keys/authorities/reasons.h"
#include "keys/authorities/unverified_issuer.h"

namespace tl::keys {

namespace {

// One trusted issuer's keys and when they were fetched (the `now` of verify).
struct IssuerState {
  explicit IssuerState(TrustedAuthority a) : authority(std::move(a)) {}
  const TrustedAuthority authority;

  std::mutex fetch_mutex;  // one fetch at a time for this issuer

  std::mutex mutex;                         // guards the members below; never held during a fetch
  std::shared_ptr<const token::Jwks> keys;  // null until the first good fetch
  int64_t fetched_at = 0;                   // of `keys`
  std::optional<int64_t> attempted_at;      // last fetch, good or not
  uint64_t generation = 0;                  // counts finished fetches
  std::optional<Error> last_error;          // of the last fetch, when it failed
};

}  // namespace

struct Authorities::Impl {
  std::function<std::string()> own_issuer;
  std::function<token::Jwks()> own_keys;
  std::vector<std::string> trusted_order;                                    // configuration order
  std::map<std::string, std::unique_ptr<IssuerState>, std::less<>> trusted;  // fixed after create()
  AuthoritiesOptions options;

  token::VerifyOptions verify_options(const std::string& iss, int64_t now) const {
    token::VerifyOptions o;
    o.issuer = iss;
    o.now = now;
    o.leeway_seconds = options.leeway_seconds;
    o.allowed_algs = options.allowed_algs;
    return o;
  }

  // Fetches the keys unless another caller finished a fetch while this one
  // waited for the fetch mutex (then that fetch's outcome is the answer).
  // `seen` is the generation the caller saw before deciding to fetch.
  Result<std::shared_ptr<const token::Jwks>> fetch(IssuerState& s, uint64_t seen, int64_t now) {
    std::lock_guard fetch_lock(s.fetch_mutex);
    {
      std::lock_guard lock(s.mutex);
      if (s.generation != seen) {
        if (s.last_error) return *s.last_error;
        return s.keys;
      }
    }
    auto fetched = detail::fetch_keys(s.authority, options.fetch_timeout_ms);
    std::lock_guard lock(s.mutex);
    ++s.generation;
    s.attempted_at = now;
    if (!fetched) {
      // Keys fetched before stay in use until they expire: a failed refetch
      // must not turn known-good keys away.
      s.last_error = fetched.error();
      return fetched.take_error();
    }
    s.last_error.reset();
    s.keys = std::make_shared<const token::Jwks>(std::move(*fetched));
    s.fetched_at = now;
    return s.keys;
  }

  // Cached keys while fresh, else fetched. A failed fetch is answered again,
  // without a new attempt, for min_refetch_seconds: an issuer that is down is
  // not asked again by every token, nor does every token wait for a timeout.
  Result<std::shared_ptr<const token::Jwks>> current_keys(IssuerState& s, int64_t now) {
    uint64_t seen = 0;
    {
      std::lock_guard lock(s.mutex);
      if (s.keys && now - s.fetched_at < options.cache_seconds) return s.keys;
      if (s.last_error && recently_attempted(s, now)) return *s.last_error;
      seen = s.generation;
    }
    return fetch(s, seen, now);
  }

  bool recently_attempted(const IssuerState& s, int64_t now) const {
    return s.attempted_at && now - *s.attempted_at < options.min_refetch_seconds;
  }

  // After an unknown kid: fetched again unless the last fetch (good or not)
  // was under min_refetch_seconds ago, so made-up kids cannot make us a
  // request amplifier. Null when no refetch is due.
  Result<std::shared_ptr<const token::Jwks>> refetch_for_unknown_kid(IssuerState& s, int64_t now) {
    uint64_t seen = 0;
    {
      std::lock_guard lock(s.mutex);
      if (recently_attempted(s, now)) return std::shared_ptr<const token::Jwks>{};
      seen = s.generation;
    }
    return fetch(s, seen, now);
  }

  Result<token::VerifiedToken> verify_trusted(std::string_view jwt, IssuerState& s, int64_t now) {
    auto keys = current_keys(s, now);
    if (!keys) return keys.take_error();
    const token::VerifyOptions o = verify_options(s.authority.issuer, now);
    auto verified = token::verify_jwt(jwt, **keys, o);
    if (verified || verified.error().reason != token::kReasonTokenUnknownKid) return verified;
    auto again = refetch_for_unknown_kid(s, now);
    if (!again) return again.take_error();
    if (!*again || *again == *keys) return verified;  // nothing new to try
    return token::verify_jwt(jwt, **again, o);
  }
};

Authorities::Authorities(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Authorities::~Authorities() = default;

Result<std::unique_ptr<Authorities>> Authorities::create(std::function<std::string()> own_issuer,
                                                         std::function<token::Jwks()> own_keys,
                                                         std::vector<TrustedAuthority> trusted,
                                                         AuthoritiesOptions options) {
  if (!own_issuer || !own_keys) return Error{"authorities: the own issuer and its keys are required"};
  if (options.cache_seconds <= 0) return Error{"authorities: cache_seconds must be positive"};
  if (options.min_refetch_seconds < 0) return Error{"authorities: min_refetch_seconds must not be negative"};
  if (options.fetch_timeout_ms == 0) return Error{"authorities: fetch_timeout_ms must be positive"};
  if (options.leeway_seconds < 0) return Error{"authorities: leeway_seconds must not be negative"};
  if (options.allowed_algs.empty()) return Error{"authorities: allowed_algs is empty, no token could verify"};
  auto impl = std::make_unique<Impl>();
  impl->own_issuer = std::move(own_issuer);
  impl->own_keys = std::move(own_keys);
  impl->options = std::move(options);
  for (auto& a : trusted) {
    if (auto st = detail::check_authority(a); !st) return st.take_error();
    if (impl->trusted.contains(a.issuer)) return Error{"trusted authority \"" + a.issuer + "\" is listed twice"};
    impl->trusted_order.push_back(a.issuer);
    std::string issuer = a.issuer;
    impl->trusted.emplace(std::move(issuer), std::make_unique<IssuerState>(std::move(a)));
  }
  return std::unique_ptr<Authorities>(new Authorities(std::move(impl)));
}

Result<token::VerifiedToken> Authorities::verify(std::string_view jwt, int64_t now) {
  auto iss = detail::unverified_issuer(jwt, token::VerifyOptions::kDefaultMaxTokenBytes);
  if (!iss) return iss.take_error();
  // The own issuer first: its keys are local and current, never fetched.
  if (is_own_issuer(*iss)) return token::verify_jwt(jwt, impl_->own_keys(), impl_->verify_options(*iss, now));
  auto it = impl_->trusted.find(*iss);
  if (it == impl_->trusted.end()) {
    return Error{"token issuer \"" + *iss + "\" is not a trusted authority", detail::kReasonUntrustedIssuer};
  }
  return impl_->verify_trusted(jwt, *it->second, now);
}

bool Authorities::is_own_issuer(std::string_view iss) const {
  const std::string own = impl_->own_issuer();
  return !own.empty() && iss == own;
}

std::vector<std::string> Authorities::issuers() const {
  std::vector<std::string> out;
  if (std::string own = impl_->own_issuer(); !own.empty()) out.push_back(std::move(own));
  for (const auto& i : impl_->trusted_order) {
    if (out.empty() || i != out.front()) out.push_back(i);
  }
  return out;
}

}  // namespace tl::keys
