// One server connection (internal): reads requests, dispatches them through
// the Router, writes responses, enforces limits and timeouts.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <unordered_map>
#include <vector>

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>

#include "http/http.h"

namespace tl::http::detail {

class SessionBase {
 public:
  virtual ~SessionBase() = default;
  virtual void on_stop() = 0;  // thread-safe: closes the connection once it is idle
};

// What every session of one server shares; outlives the server object while
// sessions still hold it.
struct ServerShared {
  ServerOptions options;
  Router router;
  std::function<void(std::string_view)> on_error;
  std::shared_ptr<boost::asio::ssl::context> tls;  // null: plain HTTP
  std::atomic<bool> stopping{false};

  void report(std::string_view message) const;
  uint64_t add_session(std::weak_ptr<SessionBase> session);
  void remove_session(uint64_t id);
  std::vector<std::shared_ptr<SessionBase>> live_sessions();
  void wait_until_no_sessions(std::chrono::milliseconds limit);

 private:
  std::mutex mutex_;
  std::condition_variable all_gone_;
  std::unordered_map<uint64_t, std::weak_ptr<SessionBase>> sessions_;
  uint64_t next_id_ = 0;
};

void start_session(const std::shared_ptr<ServerShared>& shared, boost::asio::ip::tcp::socket socket);

}  // namespace tl::http::detail
