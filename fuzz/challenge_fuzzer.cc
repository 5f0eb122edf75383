// Fuzzes Challenger::check on arbitrary bytes. The first byte picks how many of
// the following bytes are the context (mod 16); the rest is the challenge.
// Invariants: a rejection always says why; nothing but a challenge this
// challenger issued for that context is accepted (a random input forging a
// 96-bit MAC would be a finding); a genuine challenge still checks.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "fuzz_support.h"
#include "verify/challenge.h"

using tl::fuzz::check;

namespace {

constexpr int64_t kNow = 1'700'000'000;

const tl::verify::Challenger& challenger() {
  static const tl::verify::Challenger c = [] {
    tl::Bytes cur(tl::verify::kChallengeKeyStorageSize, 0x11), prev(tl::verify::kChallengeKeyStorageSize, 0x22);
    cur[0] = prev[0] = 1;
    cur[1] = 1;
    prev[1] = 0;
    auto k1 = tl::verify::ChallengeKey::from_storage(cur);
    auto k0 = tl::verify::ChallengeKey::from_storage(prev);
    check(k1.ok() && k0.ok());
    auto ch = tl::verify::Challenger::create({std::move(*k1), std::move(*k0)}, [] { return kNow; });
    check(ch.ok());
    return std::move(*ch);
  }();
  return c;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const auto& ch = challenger();
  size_t ctx_len = data[0] % 16;
  if (ctx_len > size - 1) ctx_len = size - 1;
  const std::string_view context(reinterpret_cast<const char*>(data + 1), ctx_len);
  const tl::ByteView challenge(data + 1 + ctx_len, size - 1 - ctx_len);

  const tl::Status s = ch.check(challenge, context);
  check(!s.ok());  // forging a MAC by chance is not expected
  check(!s.error().message.empty());

  if (!context.empty()) {
    auto genuine = ch.issue(context, 60);
    check(genuine.ok());
    check(ch.check(genuine->bytes, context).ok());
  }
  return 0;
}
