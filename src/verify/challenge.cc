#include "verify/challenge.h"


#include <chrono>
#include <limits>

#include "crypto/constant_time.h"
#include "crypto/kdf.h"

namespace tl::verify {
namespace {

constexpr uint8_t kKeyStorageFormat = 1;
constexpr size_t kOffKeyId = 1;
constexpr size_t kOffExpiry = 2;
constexpr size_t kOffRandom = 6;
constexpr size_t kOffMac = kOffRandom + kChallengeRandomSize;  // 22
static_assert(kOffMac + kChallengeMacSize == kChallengeSize);

// HMAC-SHA256(key, bytes[0..22) || context), truncated to 12 bytes. The signed
// header has a fixed length and the context comes last, so the input is unambiguous.
Result<Bytes> mac(const ChallengeKey& key, ByteView header, std::string_view context) {
  Bytes input(header.begin(), header.end());
  const ByteView ctx = as_bytes(context);
  input.insert(input.end(), ctx.begin(), ctx.end());
  auto tag = crypto::hmac(crypto::HashAlg::sha256, key.material(), input);
  if (!tag) return with_context("challenge MAC", tag.take_error());
  tag->resize(kChallengeMacSize);
  return std::move(*tag);
}

std::string hex_byte(uint8_t b) { return "0x" + to_hex(ByteView(&b, 1)); }

}  // namespace

Result<ChallengeKey> ChallengeKey::generate(uint8_t id) {
  auto key = crypto::random_secret(kChallengeKeySize);
  if (!key) return with_context("challenge key", key.take_error());
  return ChallengeKey(id, std::move(*key));
}

Result<ChallengeKey> ChallengeKey::from_storage(ByteView stored) {
  if (stored.size() != kChallengeKeyStorageSize)
    return Error{"challenge key: stored form is " + std::to_string(stored.size()) +
                 " bytes, expected " + std::to_string(kChallengeKeyStorageSize)};
  if (stored[0] != kKeyStorageFormat)
    return Error{"challenge key: unknown storage format " + hex_byte(stored[0])};
  return ChallengeKey(stored[1], crypto::SecretBytes(stored.subspan(2)));
}

crypto::SecretBytes ChallengeKey::to_storage() const {
  crypto::SecretBytes out(kChallengeKeyStorageSize);
  out.data()[0] = kKeyStorageFormat;
  out.data()[1] = id_;
  std::copy(key_.view().begin(), key_.view().end(), out.data() + 2);
  return out;
}

Clock system_clock() {
  return [] {
    return std::chrono::duration_cast<std::chrono::seconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
  };
}

Result<ChallengeId> challenge_id(ByteView challenge) {
  if (challenge.size() != kChallengeSize)
    return Error{"challenge: " + std::to_string(challenge.size()) + " bytes, expected " +
                 std::to_string(kChallengeSize)};
  return ChallengeId{to_hex(challenge.subspan(kOffRandom, kChallengeRandomSize))};
}

Result<Challenger> Challenger::create(ChallengeKeys keys, Clock clock, ChallengerOptions options) {
  if (keys.current.material().size() != kChallengeKeySize)
    return Error{"challenger: current key is not " + std::to_string(kChallengeKeySize) + " bytes"};
  if (keys.previous) {
    if (keys.previous->material().size() != kChallengeKeySize)
      return Error{"challenger: previous key is not " + std::to_string(kChallengeKeySize) + " bytes"};
    if (keys.previous->id() == keys.current.id())
      return Error{"challenger: previous and current keys share id " + hex_byte(keys.current.id())};
  }
  if (!clock) return Error{"challenger: no clock"};
  if (options.max_lifetime_seconds <= 0 || options.max_clock_skew_seconds < 0)
    return Error{"challenger: max_lifetime_seconds must be positive and max_clock_skew_seconds not negative"};
  return Challenger(std::move(keys), std::move(clock), options);
}

const ChallengeKey* Challenger::key_for(uint8_t id) const {
  if (keys_.current.id() == id) return &keys_.current;
  if (keys_.previous && keys_.previous->id() == id) return &*keys_.previous;
  return nullptr;
}

Result<Challenge> Challenger::issue(std::string_view context, int64_t lifetime_seconds) const {
  if (context.empty()) return Error{"challenge: empty context (say what the challenge is for)"};
  if (lifetime_seconds <= 0 || lifetime_seconds > options_.max_lifetime_seconds)
    return Error{"challenge: lifetime " + std::to_string(lifetime_seconds) + " s outside 1.." +
                 std::to_string(options_.max_lifetime_seconds) + " s"};
  const int64_t now = clock_();
  if (now < 0 || now > int64_t{std::numeric_limits<uint32_t>::max()} - lifetime_seconds)
    return Error{"challenge: clock " + std::to_string(now) + " s cannot encode expiry as u32"};
  const auto expiry = static_cast<uint32_t>(now + lifetime_seconds);

  auto random = crypto::random_secret(kChallengeRandomSize);
  if (!random) return with_context("challenge", random.take_error());

  Bytes out(kChallengeSize, 0);
  out[0] = kChallengeVersion;
  out[kOffKeyId] = keys_.current.id();
  for (int i = 0; i < 4; ++i) out[kOffExpiry + i] = static_cast<uint8_t>(expiry >> (24 - 8 * i));
  std::copy(random->view().begin(), random->view().end(), out.begin() + kOffRandom);
  auto tag = mac(keys_.current, ByteView(out).first(kOffMac), context);
  if (!tag) return tag.take_error();
  std::copy(tag->begin(), tag->end(), out.begin() + kOffMac);

  ChallengeId id{to_hex(ByteView(out).subspan(kOffRandom, kChallengeRandomSize))};
  return Challenge{std::move(out), int64_t{expiry}, std::move(id)};
}

Status Challenger::check(ByteView challenge, std::string_view context) const {
  if (challenge.size() != kChallengeSize)
    return Error{"challenge: wrong size: " + std::to_string(challenge.size()) + " bytes, expected " +
                 std::to_string(kChallengeSize), "challenge-malformed"};
  if (challenge[0] != kChallengeVersion)
    return Error{"challenge: unknown version " + hex_byte(challenge[0]), "challenge-malformed"};
  const ChallengeKey* key = key_for(challenge[kOffKeyId]);
  if (key == nullptr) return Error{"challenge: unknown key id " + hex_byte(challenge[kOffKeyId]), "challenge-unknown-key"};

  auto expected = mac(*key, challenge.first(kOffMac), context);
  if (!expected) return expected.take_error();
  if (!crypto::constant_time_equal(ByteView(*expected).first(kChallengeMacSize),
                                   challenge.subspan(kOffMac, kChallengeMacSize)))
    return Error{"challenge: MAC mismatch (forged, corrupted, or issued for another context)", "challenge-invalid"};

  uint32_t expiry = 0;
  for (int i = 0; i < 4; ++i) expiry = (expiry << 8) | challenge[kOffExpiry + i];
  const int64_t now = clock_();
  if (now >= int64_t{expiry})
    return Error{"challenge: expired " + std::to_string(now - int64_t{expiry}) + " s ago", "challenge-expired"};
  const int64_t bound = now + options_.max_lifetime_seconds + options_.max_clock_skew_seconds;
  if (int64_t{expiry} > bound)
    return Error{"challenge: expiry " + std::to_string(int64_t{expiry} - now) +
                 " s ahead is beyond the lifetime + clock skew bound of " +
                 std::to_string(options_.max_lifetime_seconds + options_.max_clock_skew_seconds) + " s", "challenge-invalid"};
  return {};
}

}  // namespace tl::verify
