// A JWK "x5c" entry for a test key: a self-signed certificate made by the
// openssl CLI (an independent implementation) over the key, as standard
// padded base64 of its DER (RFC 7517 §4.7).
#pragma once

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>

#include "token/base64url.h"
#include "token/jwk.h"

namespace tl::token::test {

inline std::string standard_base64(ByteView der) {
  std::string text = base64url_encode(der);
  for (char& c : text) {
    if (c == '-') c = '+';
    if (c == '_') c = '/';
  }
  while (text.size() % 4 != 0) text += '=';
  return text;
}

// The DER certificate; empty (and a test failure) when openssl fails.
inline Bytes self_signed_der(const SigningKey& key) {
  const auto dir = std::filesystem::temp_directory_path() /
                   ("tl-x5c-" + std::to_string(::getpid()) + "-" + key.kid().substr(0, 8));
  std::filesystem::create_directories(dir);
  const auto key_path = dir / "key.pem";
  const auto cert_path = dir / "cert.der";
  auto pem = key.to_pkcs8_pem();
  if (!pem) {
    ADD_FAILURE() << pem.error().message;
    return {};
  }
  std::ofstream(key_path) << pem->reveal();
  const std::string command = "openssl req -x509 -new -key '" + key_path.string() +
                              "' -subj /CN=tl-x5c-test -days 2 -outform DER -out '" + cert_path.string() +
                              "' 2>/dev/null";
  const int rc = std::system(command.c_str());
  std::ifstream in(cert_path, std::ios::binary);
  Bytes der{std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
  std::filesystem::remove_all(dir);
  if (rc != 0 || der.empty()) ADD_FAILURE() << "openssl failed: " << command;
  return der;
}

inline std::string x5c_of(const SigningKey& key) { return standard_base64(self_signed_der(key)); }

}  // namespace tl::token::test
