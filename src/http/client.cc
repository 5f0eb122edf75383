// Client on Boost.Beast: each blocking call is an asynchronous operation run on
// a private io_context for at most timeout_ms (io_context::run_for); one that
// has not finished by then is cut by closing the socket.
#include <optional>

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http.hpp>

#include "http/asio_util.h"
#include "http/origin.h"
#include "http/tls.h"

namespace tl::http {
namespace {
namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = beast::http;
using tcp = asio::ip::tcp;

class BeastClient final : public Client {
 public:
  BeastClient(Origin origin, ClientOptions options, std::shared_ptr<asio::ssl::context> tls)
      : origin_(std::move(origin)), options_(std::move(options)), tls_context_(std::move(tls)) {}

  Status connect() override { return open_ ? Status{} : open(); }

  Result<Response> request(std::string_view method, std::string_view path_and_query, std::string_view body,
                           const Headers& headers) override {
    bhttp::request<bhttp::string_body> req;
    const bhttp::verb verb = bhttp::string_to_verb(beast::string_view(method.data(), method.size()));
    if (verb == bhttp::verb::unknown) {
      req.method_string(beast::string_view(method.data(), method.size()));
    } else {
      req.method(verb);
    }
    req.target(beast::string_view(path_and_query.data(), path_and_query.size()));
    req.version(11);
    req.set(bhttp::field::host, origin_.host_header);
    for (const auto& [name, value] : headers) req.set(name, value);
    req.body() = std::string(body);
    req.keep_alive(options_.keep_alive);
    req.prepare_payload();

    const bool reused = open_;
    auto first = exchange(req, method == "HEAD");
    if (first || !reused || !first_try_stale_) return first;
    // A kept-alive connection the server had already closed: nothing of the
    // request was processed, so sending it once more on a fresh one is safe.
    return exchange(req, method == "HEAD");
  }

 private:
  std::string where() const { return origin_.display(); }

  // Starts an asynchronous operation and runs it for at most timeout_ms.
  template <class Start>
  beast::error_code run(Start&& start) {
    beast::error_code result;
    bool done = false;
    start([&result, &done](beast::error_code ec, auto&&...) {
      result = ec;
      done = true;
    });
    io_.restart();
    io_.run_for(std::chrono::milliseconds(options_.timeout_ms));
    if (done) return result;
    // Closing the socket completes the pending operation (operation_aborted).
    beast::error_code ignored;
    lowest().socket().close(ignored);
    io_.restart();
    io_.run();
    return beast::error::timeout;
  }

  beast::tcp_stream& lowest() { return tls_ ? beast::get_lowest_layer(*tls_) : *plain_; }

  template <class F>
  beast::error_code with_stream(F&& f) {
    if (tls_) return f(*tls_);
    return f(*plain_);
  }

  void close() {
    tls_.reset();
    plain_.reset();
    buffer_.clear();
    open_ = false;
  }

  Status open() {
    close();
    beast::error_code ec;
    tcp::resolver resolver(io_);
    auto endpoints = resolver.resolve(origin_.host, std::to_string(origin_.port), ec);
    if (ec) return Error{"resolve " + origin_.host + ": " + detail::describe(ec)};
    if (origin_.tls) {
      tls_.emplace(io_, *tls_context_);
      if (auto s = detail::expect_peer_name(tls_->native_handle(), origin_.host); !s) return s.take_error();
    } else {
      plain_.emplace(io_);
    }
    ec = run([&](auto handler) { lowest().async_connect(endpoints, std::move(handler)); });
    if (ec) {
      close();
      return Error{"connect to " + where() + ": " + detail::describe(ec)};
    }
    lowest().socket().set_option(tcp::no_delay(true), ec);
    if (tls_) {
        ec = run([&](auto handler) { tls_->async_handshake(asio::ssl::stream_base::client, std::move(handler)); });
      if (ec) {
        std::string text = ec == beast::error::timeout ? std::string("timed out")
                                                       : detail::describe_tls_failure(ec, tls_->native_handle());
        close();
        return Error{"TLS handshake with " + where() + ": " + text};
      }
    }
    open_ = true;
    return {};
  }

  Result<Response> exchange(bhttp::request<bhttp::string_body>& req, bool head) {
    first_try_stale_ = false;
    const bool reused = open_;
    if (!open_) {
      if (auto s = open(); !s) return s.take_error();
    }
    beast::error_code ec = with_stream([&](auto& stream) {
      return run([&](auto handler) { bhttp::async_write(stream, req, std::move(handler)); });
    });
    if (ec) {
      close();
      first_try_stale_ = reused && ec != beast::error::timeout;
      return Error{"send request to " + where() + ": " + detail::describe(ec)};
    }
    bhttp::response_parser<bhttp::string_body> parser;
    parser.header_limit(64 * 1024);
    parser.body_limit(options_.max_response_bytes);
    if (head) parser.skip(true);
    ec = with_stream([&](auto& stream) {
      return run([&](auto handler) { bhttp::async_read(stream, buffer_, parser, std::move(handler)); });
    });
    if (ec) {
      const bool nothing_read = !parser.got_some();
      close();
      first_try_stale_ = reused && nothing_read && detail::is_closed_by_peer(ec);
      std::string hint;
      if (!origin_.tls && (ec.category() == bhttp::make_error_code(bhttp::error::bad_version).category() ||
                           (nothing_read && detail::is_closed_by_peer(ec)))) {
        hint = " (is it an HTTPS server? then use https://)";
      }
      return Error{"read response from " + where() + ": " + detail::describe(ec) + hint};
    }
    auto& msg = parser.get();
    Response out;
    out.status = static_cast<int>(msg.result_int());
    out.headers = detail::to_headers(msg);
    out.body = std::move(msg.body());
    if (!options_.keep_alive || !msg.keep_alive()) close();
    return out;
  }

  Origin origin_;
  ClientOptions options_;
  std::shared_ptr<asio::ssl::context> tls_context_;
  asio::io_context io_{1};
  std::optional<beast::tcp_stream> plain_;
  std::optional<asio::ssl::stream<beast::tcp_stream>> tls_;
  beast::flat_buffer buffer_;
  bool open_ = false;
  bool first_try_stale_ = false;
};

}  // namespace

Result<std::unique_ptr<Client>> Client::create(std::string_view base_url, ClientOptions options) {
  auto origin = parse_origin(base_url);
  if (!origin) return origin.take_error();
  std::shared_ptr<asio::ssl::context> tls;
  if (origin->tls) {
    auto ctx = detail::make_client_context(options.ca_file, options.client_certificate);
    if (!ctx) return ctx.take_error();
    tls = std::move(*ctx);
  }
  return std::unique_ptr<Client>(std::make_unique<BeastClient>(std::move(*origin), std::move(options), std::move(tls)));
}

}  // namespace tl::http
