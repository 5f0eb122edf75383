// tl-load: drive POSTs of generated JSON bodies at an HTTP(S) endpoint and
// print throughput and latency percentiles (bench/load/loadgen.h).
//   tl-load --url http://127.0.0.1:8080 --path /echo --connections 64
//           --requests 50000 --seconds 20 [--body-bytes 4096] [--ca ca.pem]
//           [--rate 5000]   (open loop: requests due at a fixed total rate)
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

#include "load/loadgen.h"

namespace {

int usage() {
  std::fprintf(stderr,
               "usage: tl-load --url ORIGIN [--path /echo] [--connections N] [--requests N] [--seconds S]\n"
               "               [--body-bytes N] [--method POST] [--rate RPS] [--idle N] [--ca FILE]\n"
               "               [--count-connect] [--label TEXT]\n");
  return 2;
}

// {"agent":"agent-17","seq":17,"evidence":"xxxx…"} padded to about `bytes`.
std::string make_body(size_t index, size_t bytes) {
  std::string head = R"({"agent":"agent-)" + std::to_string(index % 100000) + R"(","seq":)" + std::to_string(index) +
                     R"(,"evidence":")";
  std::string body = head;
  const size_t tail = 2;
  if (bytes > head.size() + tail) body.append(bytes - head.size() - tail, static_cast<char>('a' + index % 26));
  body += "\"}";
  return body;
}

}  // namespace

int main(int argc, char** argv) {
  tl::loadgen::LoadSpec spec;
  std::string path = "/echo";
  std::string method = "POST";
  std::string label;
  size_t body_bytes = 4096;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    const char* value = i + 1 < argc ? argv[i + 1] : nullptr;
    auto take = [&]() -> const char* {
      ++i;
      return value;
    };
    if (arg == "--count-connect") {
      spec.connect_first = false;
      continue;
    }
    if (value == nullptr) return usage();
    if (arg == "--url") spec.url = take();
    else if (arg == "--path") path = take();
    else if (arg == "--method") method = take();
    else if (arg == "--connections") spec.connections = static_cast<unsigned>(std::strtoul(take(), nullptr, 10));
    else if (arg == "--requests") spec.total_requests = std::strtoull(take(), nullptr, 10);
    else if (arg == "--seconds") spec.max_seconds = std::strtod(take(), nullptr);
    else if (arg == "--body-bytes") body_bytes = std::strtoull(take(), nullptr, 10);
    else if (arg == "--idle") spec.idle_connections = static_cast<unsigned>(std::strtoul(take(), nullptr, 10));
    else if (arg == "--rate") spec.rate = std::strtod(take(), nullptr);
    else if (arg == "--ca") spec.ca_file = std::string(take());
    else if (arg == "--label") label = take();
    else return usage();
  }
  if (spec.url.empty()) return usage();
  spec.make_request = [&](size_t index) {
    tl::loadgen::Request r;
    r.method = method;
    r.path = path;
    if (method != "GET") r.body = make_body(index, body_bytes);
    return r;
  };
  auto result = tl::loadgen::run(spec);
  if (!result) {
    std::fprintf(stderr, "tl-load: %s\n", result.error().message.c_str());
    return 1;
  }
  const auto& r = *result;
  const double cpu_us = r.ok + r.failed > 0 ? r.driver_cpu_seconds * 1e6 / static_cast<double>(r.ok + r.failed) : 0;
  const std::string idle =
      spec.idle_connections > 0
          ? " idle=" + std::to_string(r.idle_open) + "/" + std::to_string(spec.idle_connections)
          : std::string();
  std::printf("%s conns=%u%s ok=%zu failed=%zu secs=%.2f rps=%.0f p50=%.2fms p90=%.2fms p99=%.2fms max=%.2fms "
              "driver_cpu=%.1fus/req\n",
              label.empty() ? spec.url.c_str() : label.c_str(), spec.connections, idle.c_str(), r.ok, r.failed, r.seconds, r.rps,
              r.p50_ms, r.p90_ms, r.p99_ms, r.max_ms, cpu_us);
  std::printf("json %s\n", tl::loadgen::to_json(r).c_str());
  if (!r.first_error.empty()) std::printf("first error: %s\n", r.first_error.c_str());
  if (!r.idle_error.empty()) std::printf("first idle error: %s\n", r.idle_error.c_str());
  return r.failed == 0 ? 0 : 3;
}
