#include "agent/schedule.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <memory>
#include <random>

namespace tl::agent {
namespace {

using namespace std::chrono_literals;
using std::chrono::milliseconds;

const TimePoint kStart = TimePoint{} + std::chrono::seconds(1'700'000'000);

struct Harness {
  std::shared_ptr<TimePoint> now = std::make_shared<TimePoint>(kStart);
  std::shared_ptr<std::mt19937_64> rng = std::make_shared<std::mt19937_64>(12345);
  Clock clock() const {
    auto p = now;
    return [p] { return *p; };
  }
  RandomSource random() const {
    auto r = rng;
    return [r] { return (*r)(); };
  }
};

RandomSource constant(uint64_t v) {
  return [v] { return v; };
}

TEST(Schedule, SuccessDelayWithinTenPercentOverManyDraws) {
  Harness h;
  Schedule s({.period = 4h}, h.clock(), h.random());
  milliseconds lo = milliseconds::max(), hi = milliseconds::min();
  for (int i = 0; i < 100000; ++i) {
    const milliseconds d = s.success_delay();
    ASSERT_GE(d, milliseconds(4h) * 9 / 10);
    ASSERT_LE(d, milliseconds(4h) * 11 / 10);
    lo = std::min(lo, d);
    hi = std::max(hi, d);
  }
  // The jitter is really used: draws reach close to both ends of the band.
  EXPECT_LT(lo, milliseconds(4h) * 91 / 100);
  EXPECT_GT(hi, milliseconds(4h) * 109 / 100);
}

TEST(Schedule, OnSuccessIsNowPlusDelayAndResetsFailures) {
  Harness h;
  Schedule s({.period = 1h}, h.clock(), h.random());
  s.on_failure();
  s.on_failure();
  EXPECT_EQ(s.consecutive_failures(), 2u);
  *h.now += 10min;
  const TimePoint next = s.on_success();
  EXPECT_EQ(s.consecutive_failures(), 0u);
  EXPECT_GE(next, *h.now + 54min);
  EXPECT_LE(next, *h.now + 66min);
  // After the reset, the next failure starts from the initial delay again.
  const TimePoint retry = s.on_failure();
  EXPECT_GE(retry, *h.now + 2500ms);
  EXPECT_LE(retry, *h.now + 5s);
}

TEST(Schedule, BackoffGrowsThenCapsWithinEqualJitterBounds) {
  Harness h;
  Schedule s({.period = 8h, .backoff_initial = 5s, .backoff_cap = 15min}, h.clock(), h.random());
  EXPECT_EQ(s.backoff_cap(), 15min);
  for (int trial = 0; trial < 2000; ++trial) {
    milliseconds base = 5s;
    for (uint32_t n = 1; n <= 40; ++n) {
      const milliseconds d = s.failure_delay(n);
      ASSERT_GE(d, base / 2) << "n=" << n;
      ASSERT_LE(d, base) << "n=" << n;
      base = std::min<milliseconds>(base * 2, 15min);
    }
  }
  // The sequence of bases: 5, 10, 20, 40, 80, 160, 320, 640 s, then capped at 900 s.
  // With equal jitter, delay(n+1) >= base(n+1)/2 = base(n) >= delay(n) while growing,
  // so the minimum over draws rises strictly until the cap.
  milliseconds prev_min{0};
  for (uint32_t n = 1; n <= 9; ++n) {
    milliseconds mn = milliseconds::max();
    for (int i = 0; i < 2000; ++i) mn = std::min(mn, s.failure_delay(n));
    EXPECT_GT(mn, prev_min) << "n=" << n;
    prev_min = mn;
  }
  for (uint32_t n : {10u, 11u, 100u, 1000000u, UINT32_MAX}) {
    const milliseconds d = s.failure_delay(n);
    EXPECT_GE(d, 450s);
    EXPECT_LE(d, 900s);
  }
}

TEST(Schedule, OnFailureCountsAndUsesTheBackoff) {
  Harness h;
  Schedule s({.period = 1h, .backoff_initial = 5s, .backoff_cap = 15min}, h.clock(), h.random());
  milliseconds base = 5s;
  for (uint32_t n = 1; n <= 12; ++n) {
    const TimePoint next = s.on_failure();
    EXPECT_EQ(s.consecutive_failures(), n);
    EXPECT_GE(next - *h.now, base / 2);
    EXPECT_LE(next - *h.now, base);
    base = std::min<milliseconds>(base * 2, 15min);
    *h.now = next;
  }
}

TEST(Schedule, CapIsAtMostThePeriod) {
  Harness h;
  Schedule s({.period = 2min, .backoff_initial = 5s, .backoff_cap = 15min}, h.clock(), h.random());
  EXPECT_EQ(s.backoff_cap(), 2min);
  for (int i = 0; i < 1000; ++i) EXPECT_LE(s.failure_delay(30), 2min);
}

TEST(Schedule, BadOptionsStillGiveAMinimumDelay) {
  Harness h;
  for (ScheduleOptions o : {ScheduleOptions{.period = 0ms, .jitter = 5.0, .backoff_initial = 0ms, .backoff_cap = 0ms},
                            ScheduleOptions{.period = -1h, .jitter = -1.0, .backoff_initial = -5s, .backoff_cap = -1s},
                            ScheduleOptions{.period = milliseconds::max(),
                                            .jitter = std::numeric_limits<double>::quiet_NaN(),
                                            .backoff_initial = milliseconds::max(),
                                            .backoff_cap = milliseconds::max()},
                            ScheduleOptions{.period = 1ms, .jitter = std::numeric_limits<double>::infinity(),
                                            .backoff_initial = 1ms, .backoff_cap = 1ms}}) {
    Schedule s(o, h.clock(), h.random());
    EXPECT_GE(s.jitter(), 0.0);
    EXPECT_LE(s.jitter(), 0.5);
    for (int i = 0; i < 1000; ++i) {
      EXPECT_GE(s.success_delay(), kMinScheduleDelay);
      EXPECT_LE(s.success_delay(), std::chrono::duration_cast<milliseconds>(kMaxFrequency) * 3 / 2);
      EXPECT_GE(s.failure_delay(1 + static_cast<uint32_t>(i)), kMinScheduleDelay);
      EXPECT_GE(s.on_failure() - *h.now, kMinScheduleDelay);
      EXPECT_GE(s.on_success() - *h.now, kMinScheduleDelay);
    }
  }
}

TEST(Schedule, ExtremeRandomSourcesStayInBounds) {
  Harness h;
  for (uint64_t v : {uint64_t{0}, ~uint64_t{0}}) {
    Schedule s({.period = 1h}, h.clock(), constant(v));
    EXPECT_GE(s.success_delay(), 54min);
    EXPECT_LE(s.success_delay(), 66min);
    EXPECT_GE(s.failure_delay(1), 2500ms);
    EXPECT_LE(s.failure_delay(1), 5s);
    EXPECT_GE(s.failure_delay(50), 450s);
    EXPECT_LE(s.failure_delay(50), 900s);
  }
}

}  // namespace
}  // namespace tl::agent
