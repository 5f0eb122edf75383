#include "http/tls.h"

#include <filesystem>
#include <memory>

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include <boost/asio/ip/address.hpp>

#include "common/hex.h"

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

// Asks clients for a certificate issued by one of the CAs in `path` and
// verifies any that is sent; a client without one still connects (the
// application decides what an anonymous client may do).
Status accept_client_certificates(ssl::context& ctx, const std::string& path) {
  if (auto s = require_file(path, "client CA file"); !s) return s.take_error();
  boost::system::error_code ec;
  ctx.load_verify_file(path, ec);
  if (ec) return Error{"client CA file " + path + ": " + ec.message()};
  // The CA names sent in the CertificateRequest, so a client can pick its certificate.
  STACK_OF(X509_NAME)* names = SSL_load_client_CA_file(path.c_str());
  if (names == nullptr) {
    ERR_clear_error();
    return Error{"client CA file " + path + ": no certificate in it"};
  }
  SSL_CTX_set_client_CA_list(ctx.native_handle(), names);  // takes ownership
  // Sessions carry the verified client certificate; OpenSSL refuses to resume
  // them without a context id once peers are verified.
  static constexpr unsigned char kSessionContext[] = "tl-http-mtls";
  if (SSL_CTX_set_session_id_context(ctx.native_handle(), kSessionContext, sizeof kSessionContext - 1) != 1) {
    return Error{"TLS: cannot set the session id context"};
  }
  // verify_peer without verify_fail_if_no_peer_cert: requested, not required;
  // a certificate that does not verify fails the handshake.
  ctx.set_verify_mode(ssl::verify_peer);
  return {};
}

Status use_client_certificate(ssl::context& ctx, const TlsFiles& files) {
  if (auto s = require_file(files.certificate_chain_pem, "client certificate chain"); !s) return s.take_error();
  if (auto s = require_file(files.private_key_pem, "client private key"); !s) return s.take_error();
  boost::system::error_code ec;
  ctx.use_certificate_chain_file(files.certificate_chain_pem, ec);
  if (ec) return Error{"client certificate chain " + files.certificate_chain_pem + ": " + ec.message()};
  ctx.use_private_key_file(files.private_key_pem, ssl::context::pem, ec);
  if (ec || SSL_CTX_check_private_key(ctx.native_handle()) != 1) {
    ERR_clear_error();
    return Error{"client private key " + files.private_key_pem + " does not fit the certificate in " +
                 files.certificate_chain_pem};
  }
  return {};
}

}  // namespace

Result<std::shared_ptr<ssl::context>> make_server_context(const TlsFiles& files,
                                                         const std::optional<std::string>& client_ca_file) {
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
  if (client_ca_file) {
    if (auto s = accept_client_certificates(*ctx, *client_ca_file); !s) return s.take_error();
  }
  return ctx;
}

Result<std::shared_ptr<ssl::context>> make_client_context(const std::optional<std::string>& ca_file,
                                                         const std::optional<TlsFiles>& client_certificate) {
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
  if (client_certificate) {
    if (auto s = use_client_certificate(*ctx, *client_certificate); !s) return s.take_error();
  }
  return ctx;
}

std::optional<PeerCertificate> verified_peer_certificate(void* ssl_handle) {
  SSL* ssl = static_cast<SSL*>(ssl_handle);
  X509* cert = SSL_get0_peer_certificate(ssl);
  // With verify_peer a certificate that failed verification ends the
  // handshake; checking the result again keeps this fail-closed regardless.
  if (cert == nullptr || SSL_get_verify_result(ssl) != X509_V_OK) return std::nullopt;
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int md_len = 0;
  if (X509_digest(cert, EVP_sha256(), md, &md_len) != 1) {
    ERR_clear_error();
    return std::nullopt;
  }
  PeerCertificate out;
  out.sha256_hex = to_hex(ByteView(md, md_len));
  std::unique_ptr<BIO, decltype(&BIO_free)> bio(BIO_new(BIO_s_mem()), &BIO_free);
  // RFC 2253 on one line; UTF-8 kept readable, control characters escaped.
  if (!bio || X509_NAME_print_ex(bio.get(), X509_get_subject_name(cert), 0, XN_FLAG_RFC2253 & ~ASN1_STRFLGS_ESC_MSB) < 0) {
    ERR_clear_error();
    return std::nullopt;  // an identity without its subject is not handed out
  }
  char* data = nullptr;
  const long len = BIO_get_mem_data(bio.get(), &data);
  if (len > 0) out.subject.assign(data, static_cast<size_t>(len));
  return out;
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
