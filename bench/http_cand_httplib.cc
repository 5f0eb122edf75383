// Candidate: cpp-httplib 0.11 (Debian's libcpp-httplib-dev): blocking I/O,
// one pooled thread per connection for as long as it is kept alive.
#include <httplib.h>

#include <memory>
#include <chrono>
#include <thread>

#include "load/candidates.h"
#include "load/echo_workload.h"

namespace tl::bench {
namespace {

class HttplibCandidate final : public CandidateServer {
 public:
  HttplibCandidate(std::unique_ptr<httplib::Server> server, int port)
      : server_(std::move(server)), port_(port), thread_([this] { server_->listen_after_bind(); }) {}
  ~HttplibCandidate() override { stop(); }
  // listen() happens on the thread: report the port only once it accepts.
  bool wait_until_listening() const {
    for (int i = 0; i < 500 && !server_->is_running(); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(10));
    return server_->is_running();
  }
  uint16_t port() const override { return static_cast<uint16_t>(port_); }
  void stop() override {
    server_->stop();
    if (thread_.joinable()) thread_.join();
  }

 private:
  std::unique_ptr<httplib::Server> server_;
  int port_;
  std::thread thread_;
};

}  // namespace

Result<std::unique_ptr<CandidateServer>> start_cpp_httplib(const CandidateConfig& config) {
  std::unique_ptr<httplib::Server> server;
  if (config.cert.empty()) {
    server = std::make_unique<httplib::Server>();
  } else {
    auto tls = std::make_unique<httplib::SSLServer>(config.cert.c_str(), config.key.c_str());
    if (!tls->is_valid()) return Error{"cpp-httplib: cannot load " + config.cert + " / " + config.key};
    server = std::move(tls);
  }
  const unsigned threads = config.threads;
  // The library takes ownership of the raw pointer it is handed.
  server->new_task_queue = [threads] { return std::make_unique<httplib::ThreadPool>(threads).release(); };
  // Defaults close a connection after 5 requests; agents keep theirs open.
  server->set_keep_alive_max_count(1'000'000);
  server->set_keep_alive_timeout(10);
  // Off by default: headers and body go out in two writes, and Nagle plus the
  // peer's delayed ACK then add ~40 ms to every response.
  server->set_tcp_nodelay(true);
  const unsigned work_us = config.work_us;
  server->Post("/echo", [work_us](const httplib::Request& req, httplib::Response& res) {
    res.set_content(loadgen::echo_workload(req.body, work_us), "application/json");
  });
  const int port = server->bind_to_any_port("127.0.0.1");
  if (port <= 0) return Error{"cpp-httplib: cannot bind 127.0.0.1"};
  auto candidate = std::make_unique<HttplibCandidate>(std::move(server), port);
  if (!candidate->wait_until_listening()) return Error{"cpp-httplib: not listening after 5 s"};
  return std::unique_ptr<CandidateServer>(std::move(candidate));
}

}  // namespace tl::bench
