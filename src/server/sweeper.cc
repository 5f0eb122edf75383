#include "server/sweeper.h"

namespace tl::server {

Sweeper::Sweeper(fleet::Fleet& fleet, Logger& log, verify::Clock clock, std::chrono::seconds interval)
    : fleet_(fleet), log_(log), clock_(std::move(clock)), interval_(interval), thread_([this] { run(); }) {}

Sweeper::~Sweeper() {
  {
    std::lock_guard lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  thread_.join();
}

void Sweeper::run() {
  std::unique_lock lock(mu_);
  while (!stop_) {
    if (cv_.wait_for(lock, interval_, [this] { return stop_; })) break;
    lock.unlock();
    const auto start = std::chrono::steady_clock::now();
    auto changed = fleet_.sweep_stale(clock_());
    const double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
    if (!changed)
      log_.error("fleet: staleness sweep failed", {{"error", changed.error().message}});
    else if (*changed > 0)
      log_.warn("fleet: VMs without a valid attestation in the refresh window are now Unknown",
                {{"count", *changed}, {"ms", ms}});
    lock.lock();
  }
}

}  // namespace tl::server
