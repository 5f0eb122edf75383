#include "server/metrics.h"

#include <cmath>
#include <cstdio>

namespace tl::server {
namespace {

// Label values are escaped per the exposition format: \\, \", \n.
std::string escape(const std::string& v) {
  std::string o;
  for (char c : v) {
    if (c == '\\') o += "\\\\";
    else if (c == '"') o += "\\\"";
    else if (c == '\n') o += "\\n";
    else o += c;
  }
  return o;
}

std::string fmt_double(double d) {
  char b[32];
  std::snprintf(b, sizeof b, "%.6g", d);
  return b;
}

}  // namespace

Histogram::Histogram(std::vector<double> upper_bounds)
    : bounds_(std::move(upper_bounds)), counts_(bounds_.size() + 1) {}

void Histogram::observe(double value) {
  size_t i = 0;
  while (i < bounds_.size() && value > bounds_[i]) ++i;
  counts_[i].fetch_add(1, std::memory_order_relaxed);
  count_.fetch_add(1, std::memory_order_relaxed);
  sum_micro_.fetch_add(static_cast<uint64_t>(std::llround(std::max(0.0, value) * 1e6)), std::memory_order_relaxed);
}

void Histogram::render(std::string& out, const std::string& name) const {
  uint64_t cumulative = 0;
  for (size_t i = 0; i < bounds_.size(); ++i) {
    cumulative += counts_[i].load(std::memory_order_relaxed);
    out += name + "_bucket{le=\"" + fmt_double(bounds_[i]) + "\"} " + std::to_string(cumulative) + "\n";
  }
  cumulative += counts_[bounds_.size()].load(std::memory_order_relaxed);
  out += name + "_bucket{le=\"+Inf\"} " + std::to_string(cumulative) + "\n";
  out += name + "_sum " + fmt_double(static_cast<double>(sum_micro_.load()) / 1e6) + "\n";
  out += name + "_count " + std::to_string(count_.load()) + "\n";
}

Metrics::Metrics()
    : attest_seconds_({0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 1}),
      request_seconds_({0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 1}) {
  counters_["tlaunchd_http_requests_total"].help = "HTTP requests by route pattern, method and status.";
  counters_["tlaunchd_attestations_total"].help = "Attestations by result (ok, rejected) and rejection reason.";
  counters_["tlaunchd_enrollments_total"].help = "Enrollment steps by result and rejection reason.";
}

void Metrics::add(const std::string& name, Labels labels) {
  std::lock_guard lock(mu_);
  ++counters_[name].values[std::move(labels)];
}

void Metrics::count_request(const std::string& route, const std::string& method, int status) {
  add("tlaunchd_http_requests_total", {{"route", route}, {"method", method}, {"code", std::to_string(status)}});
}
void Metrics::count_attestation(const std::string& result, const std::string& reason) {
  add("tlaunchd_attestations_total", {{"result", result}, {"reason", reason}});
}
void Metrics::count_enrollment(const std::string& result, const std::string& reason) {
  add("tlaunchd_enrollments_total", {{"result", result}, {"reason", reason}});
}

std::string Metrics::render() const {
  std::string out;
  {
    std::lock_guard lock(mu_);
    for (const auto& [name, c] : counters_) {
      out += "# HELP " + name + " " + c.help + "\n# TYPE " + name + " counter\n";
      for (const auto& [labels, v] : c.values) {
        out += name + "{";
        for (size_t i = 0; i < labels.size(); ++i)
          out += (i ? "," : "") + labels[i].first + "=\"" + escape(labels[i].second) + "\"";
        out += "} " + std::to_string(v) + "\n";
      }
    }
  }
  out += "# HELP tlaunchd_attestation_duration_seconds Time to verify evidence and issue a token.\n"
         "# TYPE tlaunchd_attestation_duration_seconds histogram\n";
  attest_seconds_.render(out, "tlaunchd_attestation_duration_seconds");
  out += "# HELP tlaunchd_http_request_duration_seconds Time from request to response, per request.\n"
         "# TYPE tlaunchd_http_request_duration_seconds histogram\n";
  request_seconds_.render(out, "tlaunchd_http_request_duration_seconds");
  return out;
}

}  // namespace tl::server
