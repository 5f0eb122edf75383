// When the agent attests next: pure logic, the clock and the random source
// injected so tests can drive it deterministically.
//
//  * After a success: the period, jittered uniformly by ±jitter (default ±10 %),
//    so a fleet booted together spreads out instead of attesting in lockstep.
//  * After the n-th consecutive failure: exponential back-off with "equal
//    jitter": base = min(cap, initial · 2^(n-1)), delay uniform in
//    [base/2, base]. Equal rather than full jitter keeps a floor under every
//    retry, so the sequence visibly grows and never collapses to ~0.
//    cap = min(backoff_cap, period): a failing agent never waits longer than
//    a healthy one would. A success resets n.
//  * Every delay is at least kMinScheduleDelay, whatever the options or the
//    random source say: never a tight loop.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>

#include "agent/frequency.h"

namespace tl::agent {

using TimePoint = std::chrono::system_clock::time_point;
using Clock = std::function<TimePoint()>;
// Uniformly distributed 64-bit values (e.g. a seeded std::mt19937_64).
using RandomSource = std::function<uint64_t()>;

inline constexpr std::chrono::milliseconds kMinScheduleDelay{1000};

struct ScheduleOptions {
  std::chrono::milliseconds period = kDefaultFrequency;
  double jitter = 0.10;  // fraction of the period; clamped to [0, 0.5], NaN → 0.10
  std::chrono::milliseconds backoff_initial = std::chrono::seconds(5);
  std::chrono::milliseconds backoff_cap = std::chrono::minutes(15);
};

class Schedule {
 public:
  // Out-of-range options are clamped (see above), never refused: the agent
  // must keep a sane cadence even when handed nonsense.
  Schedule(ScheduleOptions options, Clock clock, RandomSource random);

  // Records the outcome of an attempt and returns when to attempt next.
  TimePoint on_success();
  TimePoint on_failure();

  uint32_t consecutive_failures() const { return failures_; }

  // The delays behind on_success / on_failure (failure count n ≥ 1).
  std::chrono::milliseconds success_delay();
  std::chrono::milliseconds failure_delay(uint32_t n);

  // The effective (clamped) parameters.
  std::chrono::milliseconds period() const { return period_; }
  double jitter() const { return jitter_; }
  std::chrono::milliseconds backoff_initial() const { return initial_; }
  std::chrono::milliseconds backoff_cap() const { return cap_; }

 private:
  double uniform();  // [0, 1)

  std::chrono::milliseconds period_;
  double jitter_;
  std::chrono::milliseconds initial_;
  std::chrono::milliseconds cap_;
  Clock clock_;
  RandomSource random_;
  uint32_t failures_ = 0;
};

}  // namespace tl::agent
