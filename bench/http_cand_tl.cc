// Candidate: tl_http itself (Boost.Beast/Asio underneath).
#include "http/http.h"
#include "load/candidates.h"
#include "load/echo_workload.h"

namespace tl::bench {
namespace {

class TlCandidate final : public CandidateServer {
 public:
  explicit TlCandidate(std::unique_ptr<http::Server> server) : server_(std::move(server)) {}
  uint16_t port() const override { return server_->port(); }
  void stop() override { server_->stop(); }

 private:
  std::unique_ptr<http::Server> server_;
};

}  // namespace

Result<std::unique_ptr<CandidateServer>> start_tl_http(const CandidateConfig& config) {
  http::Router router;
  const unsigned work_us = config.work_us;
  router.add("POST", "/echo", [work_us](const http::Request& req) {
    return http::Response{200, {}, loadgen::echo_workload(req.body, work_us)};
  });
  http::ServerOptions options;
  options.threads = config.threads;
  if (!config.cert.empty()) options.tls = http::TlsFiles{config.cert, config.key};
  auto server = http::Server::start(std::move(options), std::move(router));
  if (!server) return server.take_error();
  return std::unique_ptr<CandidateServer>(std::make_unique<TlCandidate>(std::move(*server)));
}

}  // namespace tl::bench
