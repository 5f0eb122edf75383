// Candidate: CivetWeb 1.15 (Debian's libcivetweb-dev): a fixed pool of
// worker threads, each serving one connection at a time.
#include <civetweb.h>

#include <string>

#include "load/candidates.h"
#include "load/echo_workload.h"

namespace tl::bench {
namespace {

int echo_handler(mg_connection* conn, void* data) {
  const unsigned work_us = *static_cast<const unsigned*>(data);
  const mg_request_info* info = mg_get_request_info(conn);
  std::string body;
  if (info->content_length > 0 && info->content_length < (1 << 24)) {
    body.resize(static_cast<size_t>(info->content_length));
    size_t got = 0;
    while (got < body.size()) {
      const int n = mg_read(conn, body.data() + got, body.size() - got);
      if (n <= 0) return 400;
      got += static_cast<size_t>(n);
    }
  }
  std::string out;
  try {
    out = loadgen::echo_workload(body, work_us);
  } catch (...) {
    mg_send_http_error(conn, 400, "%s", "bad json");
    return 400;
  }
  mg_send_http_ok(conn, "application/json", static_cast<long long>(out.size()));
  mg_write(conn, out.data(), out.size());
  return 200;
}

class CivetCandidate final : public CandidateServer {
 public:
  CivetCandidate(mg_context* ctx, uint16_t port, std::unique_ptr<unsigned> work)
      : ctx_(ctx), port_(port), work_(std::move(work)) {}
  ~CivetCandidate() override { stop(); }
  uint16_t port() const override { return port_; }
  void stop() override {
    if (ctx_ != nullptr) mg_stop(ctx_);
    ctx_ = nullptr;
  }

 private:
  mg_context* ctx_;
  uint16_t port_;
  std::unique_ptr<unsigned> work_;
};

}  // namespace

Result<std::unique_ptr<CandidateServer>> start_civetweb(const CandidateConfig& config) {
  const bool tls = !config.cert.empty();
  mg_init_library(tls ? MG_FEATURES_TLS : MG_FEATURES_DEFAULT);
  if (tls && mg_check_feature(MG_FEATURES_TLS) == 0) return Error{"civetweb built without TLS"};
  const std::string ports = tls ? "127.0.0.1:0s" : "127.0.0.1:0";
  const std::string threads = std::to_string(config.threads);
  // CivetWeb wants the key and the chain in one PEM file: --cert names it.
  const char* options[] = {"listening_ports", ports.c_str(), "num_threads", threads.c_str(),
                           "enable_keep_alive", "yes", "keep_alive_timeout_ms", "10000",
                           "tcp_nodelay", "1",  // else Nagle + delayed ACK: ~40 ms per response
                           tls ? "ssl_certificate" : nullptr, config.cert.c_str(), nullptr};
  mg_callbacks callbacks{};
  mg_context* ctx = mg_start(&callbacks, nullptr, options);
  if (ctx == nullptr) return Error{"civetweb: mg_start failed"};
  auto work = std::make_unique<unsigned>(config.work_us);
  mg_set_request_handler(ctx, "/echo", echo_handler, work.get());
  mg_server_port ports_out[4]{};
  const int n = mg_get_server_ports(ctx, 4, ports_out);
  if (n < 1) {
    mg_stop(ctx);
    return Error{"civetweb: no listening port"};
  }
  return std::unique_ptr<CandidateServer>(
      std::make_unique<CivetCandidate>(ctx, static_cast<uint16_t>(ports_out[0].port), std::move(work)));
}

}  // namespace tl::bench
