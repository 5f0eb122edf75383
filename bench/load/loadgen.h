// tl_loadgen: a closed-loop HTTP(S) load driver over tl::http::Client.
// `connections` threads each own one keep-alive connection (like as many
// agents) and take request indexes from a shared counter until
// total_requests are done or max_seconds have passed, whichever comes first.
#pragma once

#include <cstddef>
#include <functional>
#include <optional>
#include <string>

#include "common/result.h"
#include "http/http.h"

namespace tl::loadgen {

struct Request {
  std::string method = "POST";
  std::string path = "/";
  std::string body;
  http::Headers headers{{"Content-Type", "application/json"}};
};

struct LoadSpec {
  std::string url;  // origin: "http://127.0.0.1:8080", "https://localhost:8443"
  unsigned connections = 64;
  size_t total_requests = 10'000;
  double max_seconds = 30;
  // Called from the driver threads (so it must be thread-safe) with the
  // request's index in [0, total_requests).
  std::function<Request(size_t index)> make_request;
  // Whether a response counts as ok; default: any 2xx.
  std::function<bool(const http::Response&)> check;
  std::optional<std::string> ca_file;  // HTTPS trust anchors (else the system store)
  unsigned timeout_ms = 10'000;
  // 0: closed loop (each connection sends its next request as soon as the
  // last is answered; latency then grows with connections / throughput).
  // > 0: open loop at this many requests per second in total, request i due
  // at start + i / rate; latency counts from when it was due, so a stalled
  // server is not hidden by the driver waiting for it (coordinated omission).
  double rate = 0;
  // Open every connection (and TLS session) before the clock starts, so the
  // numbers describe steady keep-alive traffic; false counts connects too.
  bool connect_first = true;
  // Extra connections opened (TCP, and TLS handshake for https) before the
  // run and then left idle until it ends: agents that keep a connection but
  // have nothing to say. The first that fails to open ends the opening (it is
  // reported in LoadResult, not fatal).
  unsigned idle_connections = 0;
};

struct LoadResult {
  size_t ok = 0;
  size_t failed = 0;       // transport errors and responses `check` refused
  std::string first_error;  // the first failure, to say what went wrong
  double seconds = 0;      // from start to the last completion
  double rps = 0;          // ok / seconds
  double p50_ms = 0, p90_ms = 0, p99_ms = 0, max_ms = 0;  // over every request (ok or not)
  double driver_cpu_seconds = 0;  // user+system CPU of this process during the run
  unsigned idle_open = 0;         // idle connections that did open
  std::string idle_error;         // why the first idle connection that failed did
};

// Errors: bad spec, or a connection that cannot be opened when connect_first.
Result<LoadResult> run(const LoadSpec& spec);

std::string to_json(const LoadResult& result);

}  // namespace tl::loadgen
