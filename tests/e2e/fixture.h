// End-to-end fixtures, all real: a host vTPM CA (swtpm-localca), "VMs" that
// are swtpm instances provisioned by swtpm_setup with an EK certificate from
// that CA and whose PCRs hold a real Secure Boot boot (the recorded OVMF log
// replayed into them), and tlaunchd running as its own process on 127.0.0.1.
#pragma once

#include <sys/types.h>

#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "common/result.h"
#include "tpm/swtpm.h"

namespace tl::test {

// A local vTPM CA as libvirt sets one up (root + issuing certificate).
class VtpmCa {
 public:
  static Result<std::unique_ptr<VtpmCa>> create(const std::filesystem::path& dir);
  const std::filesystem::path& dir() const { return dir_; }
  std::filesystem::path root_pem() const { return dir_ / "ca/swtpm-localca-rootca-cert.pem"; }
  std::filesystem::path issuer_pem() const { return dir_ / "ca/issuercert.pem"; }
  // swtpm_setup a fresh TPM state (RSA + ECC EKs, certificates in NV) into `state`.
  Status provision(const std::filesystem::path& state, const std::string& banks = "sha256") const;

 private:
  std::filesystem::path dir_;
};

// The recorded Debian Secure Boot log (shared/vectors/ovmf-secureboot).
std::filesystem::path boot_log_path();

// A test VM's vTPM: provisioned, started, PCRs extended with every measured
// event of `log` (SHA-256 digests).
Result<std::unique_ptr<Swtpm>> start_vm_tpm(const VtpmCa& ca, const std::filesystem::path& state_dir,
                                            const std::filesystem::path& log, const std::string& banks = "sha256");

// tlaunchd as a child process; stopped (SIGTERM, then SIGKILL) on destruction.
class Tlaunchd {
 public:
  // args are appended after "serve --port 0 --db <dir>/tlaunchd.db"; waits for the
  // "listening" log line (up to 20 s) and reads the port from it.
  static Result<std::unique_ptr<Tlaunchd>> start(const std::filesystem::path& dir,
                                                 const std::vector<std::string>& args);
  ~Tlaunchd();
  Tlaunchd(const Tlaunchd&) = delete;
  Tlaunchd& operator=(const Tlaunchd&) = delete;
  int port() const { return port_; }
  std::string base_url() const { return scheme_ + "://127.0.0.1:" + std::to_string(port_); }
  std::string log_text() const;  // everything it wrote to stderr so far

  struct Key {
    explicit Key() = default;
  };
  explicit Tlaunchd(Key) {}

 private:
  pid_t pid_ = -1;
  int port_ = 0;
  std::string scheme_ = "http";
  std::filesystem::path log_;
};

// A CA and a server certificate for 127.0.0.1 (IP SAN), made with the openssl CLI.
struct TlsFiles {
  std::filesystem::path ca_pem, cert_pem, key_pem;
};
Result<TlsFiles> make_tls_files(const std::filesystem::path& dir);

// Runs a shell command; the error carries its output.
Result<std::string> sh(const std::string& command);

}  // namespace tl::test
