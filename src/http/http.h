// HTTP/1.1 server and client (with TLS over OpenSSL) for tlaunchd, the agent,
// the CLI and the load driver. The library underneath is an implementation
// detail chosen by measurement (docs/http-server.md); nothing of it leaks here.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"

namespace tl::http {

// Header names compare case-insensitively (RFC 9110 §5.1).
struct CaseInsensitiveLess {
  using is_transparent = void;  // find() with a string_view, no copy
  bool operator()(std::string_view a, std::string_view b) const;
};
using Headers = std::map<std::string, std::string, CaseInsensitiveLess>;

struct Request {
  std::string method;  // "GET", "POST", …
  std::string path;    // without the query string, percent-decoded (an encoded '/' is refused)
  std::map<std::string, std::string> query;       // decoded ('+' is a space); a repeated name is refused
  std::map<std::string, std::string> path_params;  // from "{name}" segments of the route
  Headers headers;
  std::string body;
  std::string remote_address;  // "127.0.0.1:53122"
  // HTTPS with ServerOptions::client_ca_file: the client certificate the peer
  // presented and the server verified against that CA (unset: none was sent).
  std::optional<std::string> client_cert_sha256;  // lowercase hex SHA-256 of the leaf's DER
  std::string client_cert_subject;                // RFC 2253 one line, "CN=vm-1,O=Contoso"; empty when none
  const std::string* header(std::string_view name) const;
};

struct Response {
  int status = 200;
  Headers headers;  // Content-Type defaults to application/json when body is non-empty
  std::string body;
};

using Handler = std::function<Response(const Request&)>;

struct TlsFiles {
  std::string certificate_chain_pem;  // path: leaf first
  std::string private_key_pem;        // path
};

struct ServerOptions {
  std::string bind_address = "127.0.0.1";
  uint16_t port = 0;  // 0 = pick a free port; Server::port() tells which
  unsigned threads = 0;  // 0 = hardware concurrency
  std::optional<TlsFiles> tls;  // HTTPS when set (TLS 1.2+ only)
  // HTTPS only: a client certificate is requested (not required); one that is
  // sent must chain to a CA in this PEM file or the handshake fails. Its
  // identity is on Request (client_cert_sha256, client_cert_subject).
  std::optional<std::string> client_ca_file;
  size_t max_body_bytes = 8 * 1024 * 1024;  // larger bodies get 413
  // A keep-alive connection idle for read_timeout_ms is closed, as is one
  // that sends a request (or a TLS handshake) slower than that.
  unsigned read_timeout_ms = 10'000;
  unsigned write_timeout_ms = 10'000;
  unsigned keep_alive_max_requests = 10'000;  // then the connection is closed
  size_t max_header_bytes = 16 * 1024;  // request line + header fields; larger gets 431
  unsigned stop_grace_ms = 5'000;  // stop(): how long in-flight requests may still run
};

// Routes: exact paths or "{name}" segments ("/keys/{name}/{version}/release").
// A "{name}" segment matches one non-empty path segment; when several routes
// match, the one with the most literal segments wins (then the first added).
// Unknown path → 404, known path with another method → 405 with Allow; both
// answered by `fallback` when set so the caller can shape them (RFC 7807).
class Router {
 public:
  void add(std::string method, std::string pattern, Handler handler);
  // status 404 or 405 and the request; the default answers an RFC 7807 problem
  // JSON. A 405 always carries Allow (added when the fallback did not set it).
  void set_fallback(std::function<Response(int status, const Request&)> fallback);
  Response dispatch(Request& request) const;  // fills path_params
 private:
  struct Route {
    std::string method;
    std::vector<std::string> segments;
    Handler handler;
  };
  std::vector<Route> routes_;
  std::function<Response(int, const Request&)> fallback_;
};

// A running server. Requests are read and answered asynchronously, so idle
// keep-alive connections cost no thread; handlers run on the `threads` worker
// threads and must be thread-safe (and should not block for long: a blocked
// worker serves no other connection). A handler that throws gets a 500 (and
// the exception is reported through on_error, which is called from the worker
// threads and so must be thread-safe too), never a crash. stop() must not be
// called from a handler (it joins the workers).
class Server {
 public:
  static Result<std::unique_ptr<Server>> start(ServerOptions options, Router router,
                                                std::function<void(std::string_view)> on_error = {});
  virtual ~Server() = default;  // stops and joins
  virtual uint16_t port() const = 0;
  virtual void stop() = 0;  // idempotent; in-flight requests finish
};

struct ClientOptions {
  std::optional<std::string> ca_file;  // HTTPS: trust only these CAs (PEM); else the system store
  std::optional<TlsFiles> client_certificate;  // HTTPS: presented when the server asks for one (mTLS)
  unsigned timeout_ms = 10'000;       // connect, TLS handshake, write and read each
  bool keep_alive = true;
  size_t max_response_bytes = 64 * 1024 * 1024;  // larger responses are an error
};

// A blocking client for one origin ("http://127.0.0.1:8443", "https://host:port").
// HTTPS verifies the server certificate chain and host name; there is no way
// to turn that off. One Client is used by one thread at a time.
class Client {
 public:
  static Result<std::unique_ptr<Client>> create(std::string_view base_url, ClientOptions options = {});
  virtual ~Client() = default;
  // Opens the connection (and TLS session) now instead of on the first request;
  // a no-op when one is open.
  virtual Status connect() = 0;
  // Transport failures (refused, timeout, TLS) are errors; any HTTP status is a Response.
  virtual Result<Response> request(std::string_view method, std::string_view path_and_query,
                                   std::string_view body = {}, const Headers& headers = {}) = 0;
  Result<Response> get(std::string_view path) { return request("GET", path); }
  Result<Response> post_json(std::string_view path, std::string_view json) {
    return request("POST", path, json, Headers{{"Content-Type", "application/json"}});
  }
};

}  // namespace tl::http
