// Prometheus metrics (text exposition format 0.0.4) for /metrics. Label values
// come from closed sets (route patterns, status codes, reason slugs), so the
// series count stays bounded whatever clients send.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <vector>

namespace tl::server {

class Histogram {
 public:
  explicit Histogram(std::vector<double> upper_bounds);
  void observe(double value);
  // Lines "<name>_bucket{le=…} n", _sum, _count.
  void render(std::string& out, const std::string& name) const;

 private:
  std::vector<double> bounds_;
  std::vector<std::atomic<uint64_t>> counts_;  // one per bound, plus +Inf
  std::atomic<uint64_t> count_{0};
  std::atomic<uint64_t> sum_micro_{0};  // sum in millionths, so it can be atomic
};

class Metrics {
 public:
  Metrics();
  void count_request(const std::string& route, const std::string& method, int status);
  void count_attestation(const std::string& result, const std::string& reason);  // result: ok | rejected
  void count_enrollment(const std::string& result, const std::string& reason);
  void observe_attestation_seconds(double s) { attest_seconds_.observe(s); }
  void observe_request_seconds(double s) { request_seconds_.observe(s); }
  std::string render() const;

 private:
  using Labels = std::vector<std::pair<std::string, std::string>>;
  struct Counter {
    std::string help;
    std::map<Labels, uint64_t> values;
  };
  void add(const std::string& name, Labels labels);
  mutable std::mutex mu_;
  std::map<std::string, Counter> counters_;
  Histogram attest_seconds_;
  Histogram request_seconds_;
};

}  // namespace tl::server
