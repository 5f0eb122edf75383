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
Result<std::shared_ptr<boost::asio::ssl::context>> make_server_context(const TlsFiles& files);

// Client context that verifies the peer: trusts ca_file's certificates, or the
// system store when none is given.
Result<std::shared_ptr<boost::asio::ssl::context>> make_client_context(const std::optional<std::string>& ca_file);

// Per connection: SNI and the host name (or IP address) the certificate must
// carry, checked by OpenSSL during the handshake.
Status expect_peer_name(void* ssl_handle, const std::string& host);

// "certificate verify failed: hostname mismatch" when verification failed,
// else the TLS library's own message.
std::string describe_tls_failure(const boost::system::error_code& ec, void* ssl_handle);

}  // namespace tl::http::detail
