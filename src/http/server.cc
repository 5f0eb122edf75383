// Server on Boost.Beast/Asio: one io_context run by `threads` workers; every
// connection is a Session whose operations are serialized on its own strand,
// so an idle keep-alive connection is only a pending read, not a thread.
#include <atomic>
#include <condition_variable>
#include <mutex>
#include <thread>
#include <unordered_map>

#include <boost/asio/dispatch.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http.hpp>

#include "http/asio_util.h"
#include "http/session.h"
#include "http/tls.h"

namespace tl::http {
namespace {
namespace asio = boost::asio;
namespace beast = boost::beast;
using tcp = asio::ip::tcp;
using detail::ServerShared;
using detail::SessionBase;

class BeastServer final : public Server {
 public:
  BeastServer(std::shared_ptr<ServerShared> shared, unsigned threads)
      : shared_(std::move(shared)), io_(static_cast<int>(threads)), acceptor_(asio::make_strand(io_)),
        retry_timer_(acceptor_.get_executor()), thread_count_(threads) {}

  ~BeastServer() override { stop(); }

  Status listen() {
    beast::error_code ec;
    const auto address = asio::ip::make_address(shared_->options.bind_address, ec);
    if (ec) return Error{"bind address '" + shared_->options.bind_address + "': " + detail::describe(ec)};
    const tcp::endpoint endpoint(address, shared_->options.port);
    const std::string where = shared_->options.bind_address + ":" + std::to_string(shared_->options.port);
    acceptor_.open(endpoint.protocol(), ec);
    if (!ec) acceptor_.set_option(asio::socket_base::reuse_address(true), ec);
    if (!ec) acceptor_.bind(endpoint, ec);
    if (!ec) acceptor_.listen(asio::socket_base::max_listen_connections, ec);
    if (ec) return Error{"listen on " + where + ": " + detail::describe(ec)};
    port_ = acceptor_.local_endpoint().port();
    accept();
    for (unsigned i = 0; i < thread_count_; ++i) threads_.emplace_back([this] { work(); });
    return {};
  }

  uint16_t port() const override { return port_; }

  void stop() override {
    std::call_once(stopped_, [this] {
      shared_->stopping = true;
      asio::post(acceptor_.get_executor(), [this] {
        beast::error_code ec;
        retry_timer_.cancel();
        acceptor_.close(ec);
      });
      for (const auto& session : shared_->live_sessions()) session->on_stop();
      shared_->wait_until_no_sessions(std::chrono::milliseconds(shared_->options.stop_grace_ms));
      io_.stop();  // handlers still running finish; nothing new starts
      for (auto& t : threads_) {
        if (t.joinable()) t.join();
      }
    });
  }

 private:
  void work() {
    // Handlers catch their own exceptions; this keeps a worker alive should
    // one escape from the library itself.
    for (int attempts = 0; attempts < 1000; ++attempts) {
      try {
        io_.run();
        return;
      } catch (const std::exception& e) {
        shared_->report(std::string("worker: ") + e.what());
      }
    }
  }

  void accept() {
    acceptor_.async_accept(asio::make_strand(io_), [this](beast::error_code ec, tcp::socket socket) {
      if (!acceptor_.is_open() || shared_->stopping) return;
      if (ec) {
        // Out of descriptors and the like: try again shortly instead of spinning.
        shared_->report("accept: " + detail::describe(ec));
        retry_timer_.expires_after(std::chrono::milliseconds(50));
        retry_timer_.async_wait([this](beast::error_code timer_ec) {
          if (!timer_ec) accept();
        });
        return;
      }
      detail::start_session(shared_, std::move(socket));
      accept();
    });
  }

  std::shared_ptr<ServerShared> shared_;
  asio::io_context io_;
  tcp::acceptor acceptor_;
  asio::steady_timer retry_timer_;
  unsigned thread_count_;
  std::vector<std::thread> threads_;
  uint16_t port_ = 0;
  std::once_flag stopped_;
};

}  // namespace

Result<std::unique_ptr<Server>> Server::start(ServerOptions options, Router router,
                                              std::function<void(std::string_view)> on_error) {
  auto shared = std::make_shared<ServerShared>();
  if (options.client_ca_file && !options.tls) {
    return Error{"client CA file " + *options.client_ca_file + ": client certificates need HTTPS (set tls)"};
  }
  if (options.tls) {
    auto ctx = detail::make_server_context(*options.tls, options.client_ca_file);
    if (!ctx) return ctx.take_error();
    shared->tls = std::move(*ctx);
  }
  unsigned threads = options.threads != 0 ? options.threads : std::max(1u, std::thread::hardware_concurrency());
  shared->options = std::move(options);
  shared->router = std::move(router);
  shared->on_error = std::move(on_error);
  auto server = std::make_unique<BeastServer>(std::move(shared), threads);
  if (auto s = server->listen(); !s) return s.take_error();
  return std::unique_ptr<Server>(std::move(server));
}

}  // namespace tl::http
