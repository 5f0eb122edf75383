// Self-authenticating attestation challenges (DESIGN.md "Scale"): any replica
// holding the service keys can check a challenge it did not issue, without
// shared session state. The nonce goes into TPM2_Quote's qualifyingData, so it
// is kept to 34 bytes (sizeof(TPMT_HA) on a TPM whose largest hash is SHA-256).
// Layout, checks and their messages: docs/challenge.md.
//
// Not covered here: single use. A stateless check accepts the same challenge
// until it expires; the service must record challenge_id() in the store and
// refuse a second use.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "common/hex.h"
#include "common/result.h"
#include "crypto/secret_bytes.h"

namespace tl::verify {

inline constexpr uint8_t kChallengeVersion = 1;
inline constexpr size_t kChallengeSize = 34;      // version 1 + key id 1 + expiry 4 + random 16 + mac 12
inline constexpr size_t kChallengeRandomSize = 16;
inline constexpr size_t kChallengeMacSize = 12;   // truncated HMAC-SHA256
inline constexpr size_t kChallengeKeySize = 32;
inline constexpr size_t kChallengeKeyStorageSize = 2 + kChallengeKeySize;  // format || id || key

// One HMAC-SHA256 key with a one-byte id carried in every challenge it signs.
class ChallengeKey {
 public:
  // 32 bytes from the CSPRNG.
  static Result<ChallengeKey> generate(uint8_t id);
  // Storage form: 0x01 || id || 32 key bytes (34 bytes, secret).
  static Result<ChallengeKey> from_storage(ByteView stored);
  crypto::SecretBytes to_storage() const;

  uint8_t id() const { return id_; }
  ByteView material() const { return key_.view(); }

 private:
  ChallengeKey(uint8_t id, crypto::SecretBytes key) : id_(id), key_(std::move(key)) {}
  uint8_t id_ = 0;
  crypto::SecretBytes key_;
};

// Issues under `current`; checks accept `current` and, during rotation, `previous`.
struct ChallengeKeys {
  ChallengeKey current;
  std::optional<ChallengeKey> previous;
};

// Seconds since the Unix epoch; injectable for tests.
using Clock = std::function<int64_t()>;
Clock system_clock();

struct ChallengerOptions {
  int64_t max_lifetime_seconds = 600;  // issue() refuses longer lifetimes
  int64_t max_clock_skew_seconds = 60; // check() refuses expiry > now + max_lifetime + skew
};

// What the service records to enforce single use: the random part, lower-case hex.
struct ChallengeId {
  std::string hex;
  bool operator==(const ChallengeId&) const = default;
};

struct Challenge {
  Bytes bytes;          // kChallengeSize bytes, for TPM2_Quote qualifyingData
  int64_t expires_at;   // Unix seconds; valid while now < expires_at
  ChallengeId id;
};

// The id of a well-sized challenge (structure only: call check() first).
Result<ChallengeId> challenge_id(ByteView challenge);

class Challenger {
 public:
  // Fails when previous has the same id as current, or the options are not positive.
  static Result<Challenger> create(ChallengeKeys keys, Clock clock, ChallengerOptions options = {});

  // context says what the challenge is for (e.g. "attest:" + VM id); non-empty.
  // lifetime_seconds in 1..max_lifetime_seconds.
  Result<Challenge> issue(std::string_view context, int64_t lifetime_seconds) const;

  // Fails closed, in this order: size, version, key id, MAC (also a different
  // context), expired, too far in the future. Error reasons: challenge-malformed,
  // challenge-unknown-key, challenge-invalid (MAC or expiry beyond bounds),
  // challenge-expired.
  Status check(ByteView challenge, std::string_view context) const;

 private:
  Challenger(ChallengeKeys keys, Clock clock, ChallengerOptions options)
      : keys_(std::move(keys)), clock_(std::move(clock)), options_(options) {}
  const ChallengeKey* key_for(uint8_t id) const;
  ChallengeKeys keys_;
  Clock clock_;
  ChallengerOptions options_;
};

}  // namespace tl::verify
