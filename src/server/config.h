// tlaunchd's configuration: a strict JSON file (docs/tlaunchd.md) with
// command-line flags on top. Unknown keys and flags are errors, never ignored.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "common/result.h"
#include "crypto/private_key.h"

namespace tl::server {

enum class LogLevel { debug, info, warn, error };
const char* log_level_name(LogLevel level);

struct Config {
  std::string listen_address = "127.0.0.1";
  uint16_t port = 8443;
  unsigned threads = 0;  // 0 = 8 per core, at least 16 (handlers may wait on fsync)
  std::optional<std::string> tls_certificate;  // PEM chain; with tls_private_key → HTTPS
  std::optional<std::string> tls_private_key;
  std::string database = "tlaunchd.db";
  std::optional<std::string> issuer;  // default: scheme://listen_address:port
  int64_t token_lifetime_seconds = 8 * 3600;
  crypto::JwsAlg signing_alg = crypto::JwsAlg::es256;
  int64_t challenge_lifetime_seconds = 300;
  std::vector<std::string> ek_ca_bundles;  // PEM files of trusted EK CA roots (+ intermediates)
  bool allow_ek_without_certificate = false;
  int64_t enrollment_lifetime_seconds = 300;
  bool allow_sha1 = false;
  std::vector<uint32_t> required_pcrs{0, 1, 2, 3, 4, 5, 6, 7};
  bool require_runtime_key = true;
  LogLevel log_level = LogLevel::info;

  // Fleet monitoring (docs/fleet-api.md, docs/tlaunchd.md "fleet").
  int64_t refresh_window_seconds = 8 * 3600;  // no valid report for this long → Unknown + stale alert
  int64_t sweep_interval_seconds = 60;        // how often the staleness sweep runs
  std::optional<std::string> admin_token_file;  // default: database + ".admin-token"
  struct Webhook {
    std::string url;
    std::optional<std::string> secret_file;  // HMAC-SHA256 key for X-Trustlaunch-Signature
  };
  std::vector<Webhook> webhooks;
  int webhook_max_attempts = 20;
  std::optional<std::string> webhook_ca_file;  // CA bundle for https webhooks (default: system store)

  // Key vault (docs/keyvault.md, docs/tlaunchd.md "keyVault").
  std::optional<std::string> kek_file;  // default: database + ".kek" (when no PKCS#11 module)
  struct Pkcs11 {
    std::string module;
    std::string token_label;
    std::string pin_file;
    std::string key_label = "tlaunchd-kek";
  };
  std::optional<Pkcs11> pkcs11;  // the KEK lives in this token instead of a file
  int key_retention_days = 90;   // soft-deleted keys are purged after this
  struct Authority {
    std::string issuer;
    std::optional<std::string> jwks_uri, ca_file, jwks_file;
  };
  std::vector<Authority> trusted_authorities;  // besides tlaunchd's own attestation service
  std::optional<std::string> client_ca_file;   // HTTPS: client certificates chaining here are identities

  // Confidential VMs (docs/tlaunchd.md "cvm"): the Intel PCS collateral TDX
  // quotes are judged against (without it no TDX VM is compliant), and which
  // TDX TCB statuses count as compliant.
  std::optional<std::string> tdx_collateral_dir;
  std::vector<std::string> tdx_compliant_tcb{"UpToDate"};
  // The paravisors trusted as compliant (verify::CvmPolicy): hex SHA-384-sized
  // values, 48 bytes each. None configured: no CVM is compliant.
  std::vector<std::string> snp_launch_measurements;
  std::vector<std::string> snp_id_key_digests;
  std::vector<std::string> tdx_mrtds;

  std::string effective_issuer() const;
  std::string effective_admin_token_file() const { return admin_token_file ? *admin_token_file : database + ".admin-token"; }
  std::string effective_kek_file() const { return kek_file ? *kek_file : database + ".kek"; }
  bool tls() const { return tls_certificate.has_value(); }
};

// Parses a config file's text; errors name the JSON path.
Result<Config> parse_config_json(std::string_view text, Config base = {});

// Applies flags (after the subcommand) over `base`. "--config FILE" is read
// first wherever it appears, then the other flags override it.
Result<Config> config_from_args(const std::vector<std::string>& args, Config base = {});

// Cross-field checks (TLS cert without key, lifetimes in range, …).
Status validate(const Config& c);

// The flags, for --help.
const char* config_flags_help();

}  // namespace tl::server
