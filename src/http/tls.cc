#include "http/tls.h"

#include <filesystem>

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include <boost/asio/ip/address.hpp>

namespace tl::http::detail {
namespace ssl = boost::asio::ssl;

namespace {

std::string lowercase_first(std::string text) {
  if (!text.empty() && text[0] >= 'A' && text[0] <= 'Z') text[0] = static_cast<char>(text[0] - 'A' + 'a');
  return text;
}

Status require_file(const std::string& path, const char* what) {
  std::error_code ec;
  if (!std::filesystem::is_regular_file(path, ec)) return Error{std::string(what) + " " + path + ": not a readable file"};
  return {};
}

}  // namespace

Result<std::shared_ptr<ssl::context>> make_server_context(const TlsFiles& files) {
  if (auto s = require_file(files.certificate_chain_pem, "TLS certificate chain"); !s) return s.take_error();
  if (auto s = require_file(files.private_key_pem, "TLS private key"); !s) return s.take_error();
  auto ctx = std::make_shared<ssl::context>(ssl::context::tls_server);
  ctx->set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 | ssl::context::no_sslv3 |
                   ssl::context::no_tlsv1 | ssl::context::no_tlsv1_1 | ssl::context::single_dh_use);
  if (SSL_CTX_set_min_proto_version(ctx->native_handle(), TLS1_2_VERSION) != 1) {
    return Error{"TLS: cannot require TLS 1.2"};
  }
  boost::system::error_code ec;
  ctx->use_certificate_chain_file(files.certificate_chain_pem, ec);
  if (ec) return Error{"TLS certificate chain " + files.certificate_chain_pem + ": " + ec.message()};
  ctx->use_private_key_file(files.private_key_pem, ssl::context::pem, ec);
  // OpenSSL checks here that the key matches the leaf ("key values mismatch").
  if (ec) {
    return Error{"TLS private key " + files.private_key_pem + " (for " + files.certificate_chain_pem +
                 "): " + ec.message()};
  }
  if (SSL_CTX_check_private_key(ctx->native_handle()) != 1) {
    ERR_clear_error();
    return Error{"TLS private key " + files.private_key_pem + " does not match the certificate in " +
                 files.certificate_chain_pem};
  }
  return ctx;
}

Result<std::shared_ptr<ssl::context>> make_client_context(const std::optional<std::string>& ca_file) {
  auto ctx = std::make_shared<ssl::context>(ssl::context::tls_client);
  ctx->set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 | ssl::context::no_sslv3 |
                   ssl::context::no_tlsv1 | ssl::context::no_tlsv1_1);
  if (SSL_CTX_set_min_proto_version(ctx->native_handle(), TLS1_2_VERSION) != 1) {
    return Error{"TLS: cannot require TLS 1.2"};
  }
  boost::system::error_code ec;
  if (ca_file) {
    if (auto s = require_file(*ca_file, "CA file"); !s) return s.take_error();
    ctx->load_verify_file(*ca_file, ec);
    if (ec) return Error{"CA file " + *ca_file + ": " + ec.message()};
  } else {
    ctx->set_default_verify_paths(ec);
    if (ec) return Error{"TLS: system trust store: " + ec.message()};
  }
  ctx->set_verify_mode(ssl::verify_peer | ssl::verify_fail_if_no_peer_cert);
  return ctx;
}

Status expect_peer_name(void* ssl_handle, const std::string& host) {
  SSL* ssl = static_cast<SSL*>(ssl_handle);
  boost::system::error_code ec;
  boost::asio::ip::make_address(host, ec);
  if (!ec) {
    // RFC 6066: no SNI for IP literals; the certificate must carry the IP in its SAN.
    if (X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl), host.c_str()) != 1) {
      return Error{"TLS: cannot expect IP address " + host};
    }
    return {};
  }
  if (SSL_set_tlsext_host_name(ssl, host.c_str()) != 1 || SSL_set1_host(ssl, host.c_str()) != 1) {
    return Error{"TLS: cannot expect host name " + host};
  }
  return {};
}

std::string describe_tls_failure(const boost::system::error_code& ec, void* ssl_handle) {
  SSL* ssl = static_cast<SSL*>(ssl_handle);
  const long verify = ssl != nullptr ? SSL_get_verify_result(ssl) : X509_V_OK;
  if (verify != X509_V_OK) {
    return std::string("certificate verify failed: ") + X509_verify_cert_error_string(verify);
  }
  return lowercase_first(ec.message());
}

}  // namespace tl::http::detail
