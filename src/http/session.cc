#include "http/session.h"

#include <boost/asio/dispatch.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http.hpp>

#include "http/asio_util.h"
#include "http/target.h"
#include "http/tls.h"

namespace tl::http::detail {
namespace {
namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = beast::http;
using tcp = asio::ip::tcp;

Response problem(int status, std::string_view title, std::string_view detail) {
  Response r;
  r.status = status;
  r.headers["Content-Type"] = "application/problem+json";
  std::string escaped;
  for (char c : detail) {  // detail is our own text but may quote request bytes
    if (c == '"' || c == '\\') {
      escaped += '\\';
      escaped += c;
    } else if (static_cast<unsigned char>(c) < 0x20) {
      escaped += ' ';
    } else {
      escaped += c;
    }
  }
  r.body = std::string(R"({"type":"about:blank","title":")") + std::string(title) + R"(","status":)" +
           std::to_string(status) + R"(,"detail":")" + escaped + R"("})";
  return r;
}

std::string endpoint_text(const tcp::socket& socket) {
  beast::error_code ec;
  const auto ep = socket.remote_endpoint(ec);
  if (ec) return "?";
  const std::string address = ep.address().to_string();
  return (ep.address().is_v6() ? "[" + address + "]" : address) + ":" + std::to_string(ep.port());
}

bool is_parse_error(const beast::error_code& ec) {
  return ec.category() == bhttp::make_error_code(bhttp::error::bad_method).category();
}

template <class Stream>
class Session final : public SessionBase, public std::enable_shared_from_this<Session<Stream>> {
  static constexpr bool kTls = !std::is_same_v<Stream, beast::tcp_stream>;

 public:
  template <class... Args>
  Session(std::shared_ptr<ServerShared> shared, std::string remote, Args&&... args)
      : shared_(std::move(shared)), remote_(std::move(remote)), stream_(std::forward<Args>(args)...) {}

  ~Session() override {
    if (registered_) shared_->remove_session(id_);
  }

  void start() {
    id_ = shared_->add_session(this->weak_from_this());
    registered_ = true;
    asio::dispatch(stream_.get_executor(), [self = this->shared_from_this()] { self->begin(); });
  }

  void on_stop() override {
    asio::post(stream_.get_executor(), [self = this->shared_from_this()] {
      if (self->idle_) self->lowest().cancel();  // a handler in progress finishes and then we close
    });
  }

 private:
  beast::tcp_stream& lowest() { return beast::get_lowest_layer(stream_); }
  void expire_in(unsigned ms) { lowest().expires_after(std::chrono::milliseconds(ms)); }

  void begin() {
    if (shared_->stopping) return;
    if constexpr (kTls) {
      expire_in(shared_->options.read_timeout_ms);
      stream_.async_handshake(asio::ssl::stream_base::server,
                              [self = this->shared_from_this()](beast::error_code ec) {
                                if (ec) return;
                                if (self->shared_->options.client_ca_file) {
                                  self->peer_ = verified_peer_certificate(self->stream_.native_handle());
                                }
                                self->read_request();
                              });
    } else {
      read_request();
    }
  }

  void read_request() {
    if (shared_->stopping) return close();
    idle_ = true;
    parser_.emplace();
    parser_->header_limit(static_cast<uint32_t>(std::min<size_t>(shared_->options.max_header_bytes, UINT32_MAX)));
    parser_->body_limit(shared_->options.max_body_bytes);
    expire_in(shared_->options.read_timeout_ms);
    bhttp::async_read_header(stream_, buffer_, *parser_,
                             [self = this->shared_from_this()](beast::error_code ec, size_t) {
                               self->on_header(ec);
                             });
  }

  void on_header(beast::error_code ec) {
    idle_ = false;
    if (ec) return on_read_error(ec);
    if (auto refusal = refuse_transfer_coding(); refusal) return send(std::move(*refusal), true);
    if (parser_->is_done()) return handle();
    const auto expect = parser_->get()[bhttp::field::expect];
    if (beast::iequals(expect, "100-continue")) {
      // curl and others wait for this before sending a body.
      static constexpr std::string_view kContinue = "HTTP/1.1 100 Continue\r\n\r\n";
      expire_in(shared_->options.write_timeout_ms);
      asio::async_write(stream_, asio::buffer(kContinue.data(), kContinue.size()),
                        [self = this->shared_from_this()](beast::error_code wec, size_t) {
                          if (wec) return self->close();
                          self->read_body();
                        });
      return;
    }
    read_body();
  }

  // Only "chunked" is a transfer coding we read. Anything else (gzip, a list,
  // the field twice) is where request smuggling lives: refuse and close
  // (RFC 9112 §6.1: 501 for a coding we do not implement).
  std::optional<Response> refuse_transfer_coding() {
    const auto& msg = parser_->get();
    const size_t fields = msg.count(bhttp::field::transfer_encoding);
    if (fields == 0) return std::nullopt;
    std::string_view value = msg[bhttp::field::transfer_encoding];
    while (!value.empty() && (value.front() == ' ' || value.front() == '\t')) value.remove_prefix(1);
    while (!value.empty() && (value.back() == ' ' || value.back() == '\t')) value.remove_suffix(1);
    if (fields == 1 && beast::iequals(value, "chunked")) return std::nullopt;
    return problem(501, "Not Implemented", "only Transfer-Encoding: chunked is supported");
  }

  void read_body() {
    expire_in(shared_->options.read_timeout_ms);
    bhttp::async_read(stream_, buffer_, *parser_, [self = this->shared_from_this()](beast::error_code ec, size_t) {
      if (ec) return self->on_read_error(ec);
      self->handle();
    });
  }

  void on_read_error(beast::error_code ec) {
    if (ec == bhttp::error::body_limit) {
      return send(problem(413, "Content Too Large",
                          "body larger than " + std::to_string(shared_->options.max_body_bytes) + " bytes"),
                  true);
    }
    if (ec == bhttp::error::header_limit) {
      return send(problem(431, "Request Header Fields Too Large",
                          "header larger than " + std::to_string(shared_->options.max_header_bytes) + " bytes"),
                  true);
    }
    if (is_parse_error(ec) && ec != bhttp::error::end_of_stream && ec != bhttp::error::partial_message) {
      return send(problem(400, "Bad Request", "malformed request: " + describe(ec)), true);
    }
    close();  // closed by the peer, timed out, cancelled by stop(): nothing to answer
  }

  void handle() {
    auto& msg = parser_->get();
    const bool keep_alive = msg.keep_alive();
    Request request;
    request.method = std::string(msg.method_string());
    const std::string_view target(msg.target().data(), msg.target().size());
    auto parsed = parse_target(target);
    if (!parsed) return send(problem(400, "Bad Request", parsed.error().message), true);
    request.path = std::move(parsed->path);
    request.query = std::move(parsed->query);
    request.headers = to_headers(msg);
    request.body = std::move(msg.body());
    request.remote_address = remote_;
    if (peer_) {
      request.client_cert_sha256 = peer_->sha256_hex;
      request.client_cert_subject = peer_->subject;
    }
    Response response;
    try {
      response = shared_->router.dispatch(request);
    } catch (const std::exception& e) {
      shared_->report(request.method + " " + request.path + ": handler threw: " + e.what());
      response = problem(500, "Internal Server Error", "the handler failed");
    } catch (...) {
      shared_->report(request.method + " " + request.path + ": handler threw a non-exception");
      response = problem(500, "Internal Server Error", "the handler failed");
    }
    ++served_;
    const bool close_after = !keep_alive || served_ >= shared_->options.keep_alive_max_requests || shared_->stopping;
    send(std::move(response), close_after, request.method == "HEAD");
  }

  void send(Response response, bool close_after, bool head = false) {
    idle_ = false;
    response_ = {};
    response_.version(11);
    response_.result(static_cast<unsigned>(response.status));
    for (const auto& [name, value] : response.headers) response_.set(name, value);
    if (!response.body.empty() && response.headers.find("Content-Type") == response.headers.end()) {
      response_.set(bhttp::field::content_type, "application/json");
    }
    response_.body() = std::move(response.body);
    response_.keep_alive(!close_after);
    response_.prepare_payload();
    serializer_.emplace(response_);
    if (head) serializer_->split(true);
    expire_in(shared_->options.write_timeout_ms);
    auto done = [self = this->shared_from_this(), close_after](beast::error_code ec, size_t) {
      if (ec || close_after) return self->close();
      self->read_request();
    };
    if (head) {
      bhttp::async_write_header(stream_, *serializer_, std::move(done));
    } else {
      bhttp::async_write(stream_, *serializer_, std::move(done));
    }
  }

  void close() {
    idle_ = false;
    beast::error_code ec;
    if constexpr (kTls) {
      // close_notify, bounded: the peer may never answer it.
      expire_in(std::min(1000u, shared_->options.write_timeout_ms));
      stream_.async_shutdown([self = this->shared_from_this()](beast::error_code) {
        beast::error_code ignored;
        self->lowest().socket().close(ignored);
      });
    } else {
      lowest().socket().shutdown(tcp::socket::shutdown_send, ec);
      lowest().socket().close(ec);
    }
  }

  std::shared_ptr<ServerShared> shared_;
  std::string remote_;
  std::optional<PeerCertificate> peer_;  // the verified client certificate (mTLS)
  Stream stream_;
  beast::flat_buffer buffer_;
  std::optional<bhttp::request_parser<bhttp::string_body>> parser_;
  bhttp::response<bhttp::string_body> response_;
  std::optional<bhttp::response_serializer<bhttp::string_body>> serializer_;
  uint64_t id_ = 0;
  bool registered_ = false;
  bool idle_ = true;  // waiting for a request (or the handshake): stop() may cut it
  unsigned served_ = 0;
};

}  // namespace

void ServerShared::report(std::string_view message) const {
  if (!on_error) return;
  try {
    on_error(message);
  } catch (...) {  // a failing logger must not take a worker down
  }
}

uint64_t ServerShared::add_session(std::weak_ptr<SessionBase> session) {
  std::lock_guard lock(mutex_);
  const uint64_t id = next_id_++;
  sessions_.emplace(id, std::move(session));
  return id;
}

void ServerShared::remove_session(uint64_t id) {
  std::lock_guard lock(mutex_);
  sessions_.erase(id);
  if (sessions_.empty()) all_gone_.notify_all();
}

std::vector<std::shared_ptr<SessionBase>> ServerShared::live_sessions() {
  std::lock_guard lock(mutex_);
  std::vector<std::shared_ptr<SessionBase>> out;
  for (auto& [id, weak] : sessions_) {
    if (auto s = weak.lock()) out.push_back(std::move(s));
  }
  return out;
}

void ServerShared::wait_until_no_sessions(std::chrono::milliseconds limit) {
  std::unique_lock lock(mutex_);
  all_gone_.wait_for(lock, limit, [this] { return sessions_.empty(); });
}

void start_session(const std::shared_ptr<ServerShared>& shared, tcp::socket socket) {
  beast::error_code ec;
  socket.set_option(tcp::no_delay(true), ec);
  std::string remote = endpoint_text(socket);
  if (shared->tls) {
    using TlsStream = asio::ssl::stream<beast::tcp_stream>;
    std::make_shared<Session<TlsStream>>(shared, std::move(remote), std::move(socket), *shared->tls)->start();
  } else {
    std::make_shared<Session<beast::tcp_stream>>(shared, std::move(remote), std::move(socket))->start();
  }
}

}  // namespace tl::http::detail
