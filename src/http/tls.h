// OpenSSL contexts for the server and the client, through Asio's wrapper. The
// only place (with tls.cc) that sees OpenSSL inside src/http.
#pragma once

#include <memory>
#include <optional>
#include <string>

#include <boost/asio/ssl/context.hpp>
#include <boost/system/error_code.hpp>

#include "common/result.h"
#include "http/http.h"

namespace tl::http::detail {

// TLS 1.2+ server context from a PEM chain (leaf first) and its private key.
// With client_ca_file, clients are asked for a certificate (naming that file's
// CAs) but may send none; one that is sent must verify against those CAs.
Result<std::shared_ptr<boost::asio::ssl::context>> make_server_context(
    const TlsFiles& files, const std::optional<std::string>& client_ca_file);

// Client context that verifies the peer: trusts ca_file's certificates, or the
// system store when none is given; presents client_certificate when asked.
Result<std::shared_ptr<boost::asio::ssl::context>> make_client_context(
    const std::optional<std::string>& ca_file, const std::optional<TlsFiles>& client_certificate);

// The client certificate of a finished server-side handshake, only if the
// peer sent one and it verified.
struct PeerCertificate {
  std::string sha256_hex;  // of the leaf's DER
  std::string subject;     // RFC 2253
};
std::optional<PeerCertificate> verified_peer_certificate(void* ssl_handle);

// Per connection: SNI and the host name (or IP address) the certificate must
// carry, checked by OpenSSL during the handshake.
Status expect_peer_name(void* ssl_handle, const std::string& host);

// "certificate verify failed: hostname mismatch" when verification failed,
// else the TLS library's own message.
std::string describe_tls_failure(const boost::system::error_code& ec, void* ssl_handle);

}  // namespace tl::http::detail
