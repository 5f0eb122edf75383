// Runs the fleet's staleness sweep on a steady period in its own thread.
#pragma once

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <thread>

#include "fleet/fleet.h"
#include "server/log.h"
#include "verify/challenge.h"

namespace tl::server {

class Sweeper {
 public:
  Sweeper(fleet::Fleet& fleet, Logger& log, verify::Clock clock, std::chrono::seconds interval);
  ~Sweeper();  // stops and joins
  Sweeper(const Sweeper&) = delete;
  Sweeper& operator=(const Sweeper&) = delete;

 private:
  void run();
  fleet::Fleet& fleet_;
  Logger& log_;
  verify::Clock clock_;
  std::chrono::seconds interval_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool stop_ = false;
  std::thread thread_;
};

}  // namespace tl::server
