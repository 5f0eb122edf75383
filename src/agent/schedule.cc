#include "agent/schedule.h"

#include <algorithm>
#include <cmath>

namespace tl::agent {
namespace {

using std::chrono::milliseconds;

// Beyond this no schedule makes sense; clamping also keeps the arithmetic
// below far from overflow.
constexpr milliseconds kMaxDelay = std::chrono::duration_cast<milliseconds>(kMaxFrequency);

milliseconds clamp_delay(milliseconds d) { return std::clamp(d, kMinScheduleDelay, kMaxDelay); }

milliseconds at_least_min(double ms) {
  if (!(ms >= static_cast<double>(kMinScheduleDelay.count()))) return kMinScheduleDelay;  // also NaN
  if (ms >= static_cast<double>(kMaxDelay.count())) return kMaxDelay;
  return milliseconds(static_cast<int64_t>(ms));
}

}  // namespace

Schedule::Schedule(ScheduleOptions options, Clock clock, RandomSource random)
    : period_(clamp_delay(options.period)),
      jitter_(std::isnan(options.jitter) ? 0.10 : std::clamp(options.jitter, 0.0, 0.5)),
      initial_(clamp_delay(options.backoff_initial)),
      cap_(std::max(initial_, std::min(clamp_delay(options.backoff_cap), period_))),
      clock_(std::move(clock)),
      random_(std::move(random)) {}

double Schedule::uniform() {
  // The top 53 bits give every double in [0, 1) on a 2^-53 grid.
  return static_cast<double>(random_() >> 11) * 0x1.0p-53;
}

milliseconds Schedule::success_delay() {
  const double factor = 1.0 + jitter_ * (2.0 * uniform() - 1.0);
  return at_least_min(static_cast<double>(period_.count()) * factor);
}

milliseconds Schedule::failure_delay(uint32_t n) {
  // Double from the initial delay until the cap; stopping at the cap keeps the
  // shift from overflowing for any n.
  milliseconds base = initial_;
  for (uint32_t i = 1; i < n && base < cap_; ++i) base = std::min(cap_, base * 2);
  base = std::min(base, cap_);
  const double half = static_cast<double>(base.count()) / 2.0;
  return at_least_min(half + half * uniform());
}

TimePoint Schedule::on_success() {
  failures_ = 0;
  return clock_() + success_delay();
}

TimePoint Schedule::on_failure() {
  if (failures_ < UINT32_MAX) ++failures_;
  return clock_() + failure_delay(failures_);
}

}  // namespace tl::agent
