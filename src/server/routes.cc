#include "server/routes.h"

#include "server/key_routes.h"

#include <chrono>

#include "server/fleet_routes.h"
#include "server/problem.h"
#include "server/route_util.h"

namespace tl::server {
namespace {

using nlohmann::json;
using Clock = std::chrono::steady_clock;

// Wraps a JSON-in/JSON-out service call: parse, call, map errors, measure.
using JsonCall = std::function<Result<json>(const http::Request&, const json&)>;

enum class Kind { plain, attestation, enrollment };

// Recorded CVM evidence is at most a few tens of KiB (byte-array encodings
// included); 1 MiB leaves room and bounds the open endpoints' parse cost.
constexpr size_t kMaxCvmBody = 1024 * 1024;

// max_body (bytes, 0 = the HTTP layer's 8 MiB) is checked before the JSON is
// parsed: a parsed document costs many times its text (byte arrays above all).
http::Handler json_post(const char* route, Logger& log, Metrics& metrics, JsonCall call, Kind kind = Kind::plain,
                        size_t max_body = 0) {
  return [route, &log, &metrics, call = std::move(call), kind, max_body](const http::Request& req) {
    const auto start = Clock::now();
    http::Response resp;
    std::string reason;
    if (max_body != 0 && req.body.size() > max_body) {
      reason = "payload-too-large";
      resp = problem(reason, "the body is " + std::to_string(req.body.size()) + " bytes; " + route + " accepts at most " +
                                 std::to_string(max_body));
      metrics.count_request(route, method_label(req.method), resp.status);
      log.info("request rejected", {{"route", route}, {"status", resp.status}, {"reason", reason},
                                    {"remote", req.remote_address}});
      return resp;
    }
    auto body = parse_body(req);
    if (!body) {
      reason = body.error().reason;
      resp = problem(body.error(), "request-malformed");
    } else {
      auto out = call(req, *body);
      if (out) {
        resp = json_response(200, *out);
      } else {
        reason = out.error().reason.empty() ? "internal-error" : out.error().reason;
        resp = problem(out.error(), "internal-error");
      }
    }
    const double secs = std::chrono::duration<double>(Clock::now() - start).count();
    metrics.count_request(route, method_label(req.method), resp.status);
    metrics.observe_request_seconds(secs);
    if (kind == Kind::attestation) {
      metrics.count_attestation(resp.status == 200 ? "ok" : "rejected", reason);
      if (resp.status == 200) metrics.observe_attestation_seconds(secs);
    } else if (kind == Kind::enrollment) {
      const bool begun = std::string_view(route) == "/enroll";
      metrics.count_enrollment(resp.status != 200 ? "rejected" : begun ? "started" : "activated", reason);
    }
    if (resp.status >= 500) {
      log.error("request failed", {{"route", route}, {"status", resp.status}, {"reason", reason},
                                   {"remote", req.remote_address}, {"detail", json::parse(resp.body, nullptr, false).value("detail", "")}});
    } else if (resp.status >= 400) {
      log.info("request rejected", {{"route", route}, {"status", resp.status}, {"reason", reason},
                                    {"remote", req.remote_address}});
    } else if (log.enabled(LogLevel::debug)) {
      log.debug("request", {{"route", route}, {"status", resp.status}, {"ms", secs * 1000}, {"remote", req.remote_address}});
    }
    return resp;
  };
}

http::Handler get_json(const char* route, Metrics& metrics, std::function<json()> f) {
  return [route, &metrics, f = std::move(f)](const http::Request& req) {
    auto r = json_response(200, f());
    metrics.count_request(route, method_label(req.method), r.status);
    return r;
  };
}

}  // namespace

http::Router make_router(Service& service, Logger& log, Metrics& metrics, KeyService* keys) {
  http::Router r;
  if (keys) add_key_routes(r, *keys, log, metrics);
  r.add("GET", "/healthz", [&](const http::Request& req) {
    auto st = service.healthy();
    if (!st) log.error("health check: database unavailable", {{"error", st.error().message}});
    http::Response resp = st ? json_response(200, json{{"status", "ok"}})
                             : problem("unavailable", "the database is not available (see the service log)");
    metrics.count_request("/healthz", method_label(req.method), resp.status);
    return resp;
  });
  r.add("GET", "/metrics", [&](const http::Request&) {
    http::Response resp;
    resp.headers["Content-Type"] = "text/plain; version=0.0.4; charset=utf-8";
    resp.body = metrics.render();
    return resp;
  });
  r.add("GET", "/.well-known/openid-configuration",
        get_json("/.well-known/openid-configuration", metrics, [&] { return service.openid_configuration(); }));
  r.add("GET", "/certs", get_json("/certs", metrics, [&] { return service.jwks(); }));
  r.add("POST", "/enroll", json_post("/enroll", log, metrics, [&](const http::Request&, const json& b) {
          return service.begin_enrollment(b);
        }, Kind::enrollment));
  r.add("POST", "/enroll/{id}/activate",
        json_post("/enroll/{id}/activate", log, metrics, [&](const http::Request& req, const json& b) {
          return service.activate_enrollment(req.path_params.at("id"), b);
        }, Kind::enrollment));
  r.add("POST", "/challenge", json_post("/challenge", log, metrics, [&](const http::Request&, const json& b) {
          return service.challenge(b);
        }));
  r.add("POST", "/attest",
        json_post("/attest", log, metrics, [&](const http::Request&, const json& b) { return service.attest(b); },
                  Kind::attestation));
  r.add("POST", "/appraise", json_post("/appraise", log, metrics, [&](const http::Request&, const json& b) {
          return service.appraise(b);
        }));
  // Confidential VMs (MAA-like, unauthenticated: docs/tlaunchd.md "Confidential VMs").
  r.add("POST", "/attest/sevsnpvm", json_post("/attest/sevsnpvm", log, metrics, [&](const http::Request&, const json& b) {
          return service.attest_cvm(verify::CvmEvidenceType::az_snp_vtpm, b);
        }, Kind::attestation, kMaxCvmBody));
  r.add("POST", "/attest/tdxvm", json_post("/attest/tdxvm", log, metrics, [&](const http::Request&, const json& b) {
          return service.attest_cvm(verify::CvmEvidenceType::az_tdx_vtpm, b);
        }, Kind::attestation, kMaxCvmBody));
  add_fleet_routes(r, service, log, metrics);
  r.set_fallback([&metrics](int status, const http::Request& req) {
    metrics.count_request("(unmatched)", method_label(req.method), status);
    if (status == 405) return problem("method-not-allowed", req.method + " is not allowed on " + req.path);
    return problem("not-found", "no resource at " + req.path);
  });
  return r;
}

}  // namespace tl::server
