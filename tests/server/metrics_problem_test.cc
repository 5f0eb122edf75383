#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "server/metrics.h"
#include "server/problem.h"

namespace tl::server {
namespace {

TEST(Metrics, RendersCountersAndHistogramsInExpositionFormat) {
  Metrics m;
  m.count_request("/attest", "POST", 200);
  m.count_request("/attest", "POST", 200);
  m.count_request("/attest", "POST", 403);
  m.count_attestation("rejected", "quote-nonce");
  m.observe_attestation_seconds(0.003);
  m.observe_attestation_seconds(2.0);
  const std::string t = m.render();
  EXPECT_NE(t.find("# TYPE tlaunchd_http_requests_total counter"), std::string::npos);
  EXPECT_NE(t.find("tlaunchd_http_requests_total{route=\"/attest\",method=\"POST\",code=\"200\"} 2\n"), std::string::npos) << t;
  EXPECT_NE(t.find("tlaunchd_http_requests_total{route=\"/attest\",method=\"POST\",code=\"403\"} 1\n"), std::string::npos);
  EXPECT_NE(t.find("tlaunchd_attestations_total{result=\"rejected\",reason=\"quote-nonce\"} 1\n"), std::string::npos);
  // Cumulative buckets: 3 ms is in le=0.005 and above; 2 s only in +Inf.
  EXPECT_NE(t.find("tlaunchd_attestation_duration_seconds_bucket{le=\"0.002\"} 0\n"), std::string::npos) << t;
  EXPECT_NE(t.find("tlaunchd_attestation_duration_seconds_bucket{le=\"0.005\"} 1\n"), std::string::npos);
  EXPECT_NE(t.find("tlaunchd_attestation_duration_seconds_bucket{le=\"1\"} 1\n"), std::string::npos);
  EXPECT_NE(t.find("tlaunchd_attestation_duration_seconds_bucket{le=\"+Inf\"} 2\n"), std::string::npos);
  EXPECT_NE(t.find("tlaunchd_attestation_duration_seconds_count 2\n"), std::string::npos);
  EXPECT_NE(t.find("tlaunchd_attestation_duration_seconds_sum 2.003\n"), std::string::npos);
}

TEST(Metrics, EscapesLabelValues) {
  Metrics m;
  m.count_enrollment("rejected", "a\"b\\c\nd");
  EXPECT_NE(m.render().find("reason=\"a\\\"b\\\\c\\nd\""), std::string::npos);
}

TEST(Problem, IsRfc7807WithOneTypePerReason) {
  auto r = problem("challenge-expired", "challenge: expired 3 s ago");
  EXPECT_EQ(r.status, 403);
  EXPECT_EQ(r.headers["Content-Type"], "application/problem+json");
  auto j = nlohmann::json::parse(r.body);
  EXPECT_EQ(j["type"], "urn:trustlaunch:problem:challenge-expired");
  EXPECT_EQ(j["title"], "The nonce has expired");
  EXPECT_EQ(j["status"], 403);
  EXPECT_EQ(j["detail"], "challenge: expired 3 s ago");
  EXPECT_EQ(j["reason"], "challenge-expired");
  EXPECT_EQ(problem_status("request-malformed"), 400);
  EXPECT_EQ(problem_status("ek-takeover-refused"), 409);
  EXPECT_EQ(problem_status("enrollment-expired"), 410);
  EXPECT_EQ(problem_status("vm-not-enrolled"), 404);
  // Verification reasons from the pipeline are rejections (403) with a generic title.
  EXPECT_EQ(problem_status("eventlog-replay-mismatch"), 403);
  EXPECT_EQ(problem(Error{"x"}, "internal-error").status, 500);
  EXPECT_EQ(problem(Error{"x", "quote-nonce"}, "internal-error").status, 403);
}

}  // namespace
}  // namespace tl::server
