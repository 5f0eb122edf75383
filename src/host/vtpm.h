// The host's vTPM CA and each VM's swtpm (docs/host.md):
// - ROOT/ca holds a private swtpm-localca configuration (never the system-wide
//   /var/lib/swtpm-localca); swtpm_localca creates the CA there on first use.
//   tlaunchd trusts its root and issuer (--ek-ca).
// - Each VM's TPM state (ROOT/vms/NAME/tpm) is made by swtpm_setup with EK
//   and platform certificates from that CA, and encrypted with AES-256-CBC
//   under the VM's own key file (tpm.key, 0600, 64 hex digits).
#pragma once

#include <chrono>
#include <filesystem>
#include <string>
#include <vector>

#include "common/result.h"

namespace tl::host {

struct VtpmCa {
  std::filesystem::path dir;
  std::filesystem::path localca_conf() const { return dir / "swtpm-localca.conf"; }
  std::filesystem::path localca_options() const { return dir / "swtpm-localca.options"; }
  std::filesystem::path setup_conf() const { return dir / "swtpm_setup.conf"; }
  std::filesystem::path root_cert() const { return dir / "swtpm-localca-rootca-cert.pem"; }
  std::filesystem::path issuer_cert() const { return dir / "issuercert.pem"; }
  bool exists() const;  // both certificates are there

  // Writes the three configuration files (idempotent; the CA keys are made by
  // swtpm_localca at the first provision).
  Status write_config() const;
  // Makes sure the CA exists, by provisioning a throw-away TPM if needed.
  Status ensure() const;
};

// A fresh 256-bit key as 64 hex digits, written 0600 (the umask cannot widen it).
Status write_tpm_key(const std::filesystem::path& file);

// swtpm_setup: a TPM 2.0 with SHA-256 PCRs, RSA + ECC EKs with certificates,
// a platform certificate, NV locked; state encrypted under `key_file`.
// `ek_cert_dir` (optional) receives the EK certificates as DER files.
Status provision_vtpm(const VtpmCa& ca, const std::filesystem::path& state_dir, const std::filesystem::path& key_file,
                      const std::filesystem::path& log_file, const std::filesystem::path& ek_cert_dir = {});

// swtpm socket with a unix control socket, its state and key, and a log.
std::vector<std::string> swtpm_argv(const std::filesystem::path& state_dir, const std::filesystem::path& key_file,
                                    const std::filesystem::path& ctrl_socket, const std::filesystem::path& log_file);

// Connects to swtpm's control socket and asks for its capabilities: true
// only when it answers (a socket file alone can be stale).
Status probe_swtpm(const std::filesystem::path& ctrl_socket, std::chrono::milliseconds timeout);

// Unix socket paths are limited to 107 bytes: a clear error before a tool
// fails in an obscure way.
Status check_socket_path(const std::filesystem::path& p);

}  // namespace tl::host
