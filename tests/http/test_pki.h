// Certificates for the HTTPS tests, made with the openssl CLI in a fresh
// temporary directory (removed on destruction).
#pragma once

#include <filesystem>
#include <string>

namespace tl::http::test {

struct TestPki {
  std::filesystem::path dir;
  std::filesystem::path ca;            // trust anchor of `server`
  std::filesystem::path server_chain;  // leaf for IP 127.0.0.1 and DNS localhost, signed by ca
  std::filesystem::path server_key;
  std::filesystem::path other_ca;      // an unrelated CA
  std::filesystem::path wrong_name_chain;  // signed by ca, but only for DNS other.example
  std::filesystem::path wrong_name_key;
  std::filesystem::path client_chain;        // client certificate (CN=tl-client, clientAuth) signed by ca
  std::filesystem::path client_key;
  std::filesystem::path other_client_chain;  // the same kind of certificate signed by other_ca
  std::filesystem::path other_client_key;
  std::filesystem::path server_only_chain;   // signed by ca, but extendedKeyUsage serverAuth only
  std::filesystem::path server_only_key;

  TestPki();  // throws std::runtime_error when openssl fails
  ~TestPki();
  TestPki(const TestPki&) = delete;
  TestPki& operator=(const TestPki&) = delete;
};

}  // namespace tl::http::test
