#include "test_pki.h"

#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <stdexcept>

namespace tl::http::test {
namespace {

void run(const std::string& command) {
  if (std::system((command + " 2>/dev/null").c_str()) != 0) throw std::runtime_error("failed: " + command);
}

std::string q(const std::filesystem::path& p) { return "'" + p.string() + "'"; }

void make_ca(const std::filesystem::path& key, const std::filesystem::path& cert, const std::string& cn) {
  run("openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 -subj /CN=" + cn +
      " -keyout " + q(key) + " -out " + q(cert));
}

// `extensions`: lines of an openssl x509 extfile ("subjectAltName=IP:127.0.0.1").
void make_leaf(const std::filesystem::path& dir, const std::string& name, const std::string& extensions,
               const std::filesystem::path& ca_key, const std::filesystem::path& ca_cert,
               const std::string& subject = "") {
  const auto key = dir / (name + ".key");
  const auto csr = dir / (name + ".csr");
  const auto ext = dir / (name + ".ext");
  std::ofstream(ext) << extensions << "\n";
  run("openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj " +
      q(subject.empty() ? "/CN=" + name : subject) + " -keyout " + q(key) + " -out " + q(csr));
  run("openssl x509 -req -in " + q(csr) + " -CA " + q(ca_cert) + " -CAkey " + q(ca_key) +
      " -CAcreateserial -days 2 -extfile " + q(ext) + " -out " + q(dir / (name + ".pem")));
}

}  // namespace

TestPki::TestPki() {
  std::string templ = (std::filesystem::temp_directory_path() / "tl-http-pki-XXXXXX").string();
  if (mkdtemp(templ.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
  dir = templ;
  ca = dir / "ca.pem";
  other_ca = dir / "other-ca.pem";
  make_ca(dir / "ca.key", ca, "tl-test-ca");
  make_ca(dir / "other-ca.key", other_ca, "tl-other-ca");
  make_leaf(dir, "server", "subjectAltName=IP:127.0.0.1,DNS:localhost", dir / "ca.key", ca);
  make_leaf(dir, "wrongname", "subjectAltName=DNS:other.example", dir / "ca.key", ca);
  make_leaf(dir, "client", "extendedKeyUsage=clientAuth", dir / "ca.key", ca, "/O=Trustlaunch Tests/CN=tl-client");
  make_leaf(dir, "otherclient", "extendedKeyUsage=clientAuth", dir / "other-ca.key", other_ca,
            "/O=Trustlaunch Tests/CN=tl-client");
  make_leaf(dir, "serveronly", "extendedKeyUsage=serverAuth", dir / "ca.key", ca);
  server_chain = dir / "server.pem";
  server_key = dir / "server.key";
  wrong_name_chain = dir / "wrongname.pem";
  wrong_name_key = dir / "wrongname.key";
  client_chain = dir / "client.pem";
  client_key = dir / "client.key";
  other_client_chain = dir / "otherclient.pem";
  other_client_key = dir / "otherclient.key";
  server_only_chain = dir / "serveronly.pem";
  server_only_key = dir / "serveronly.key";
}

TestPki::~TestPki() {
  std::error_code ec;
  std::filesystem::remove_all(dir, ec);
}

}  // namespace tl::http::test
