// The key vault behind tlaunchd's /keys, /deletedkeys and /vault routes
// (docs/keyvault-api.md): authentication of callers, access checks, the audit
// trail and Secure Key Release. HTTP-agnostic apart from reading credentials.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <thread>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "common/result.h"
#include "http/http.h"
#include "keys/access.h"
#include "keys/audit.h"
#include "keys/authorities/authorities.h"
#include "keys/kek/kek.h"
#include "keys/vault.h"
#include "server/config.h"
#include "server/log.h"
#include "server/service.h"

namespace tl::server {

// An authenticated caller.
struct Caller {
  std::string identity;  // "admin", "token:NAME", "cert:sha256:HEX", "vm:VMID"
  // vm: callers: the x-ms-runtime.keys of the attestation token they presented.
  nlohmann::json runtime_keys;
};

// At most 512 bytes (cut on a UTF-8 boundary): what audit entries keep of a message.
std::string clip_detail(std::string s);

class KeyService {
 public:
  // Opens the KEK (file or PKCS#11 per config), the vault, access control,
  // audit log and authorities on tlaunchd's database.
  static Result<std::unique_ptr<KeyService>> open(const Config& config, Service& service, Logger& log);
  ~KeyService();

  // Bearer credential (API token, tlaunchd's admin token, or an attestation
  // token this tlaunchd issued) or a verified TLS client certificate; reason
  // "unauthorized" otherwise.
  Result<Caller> authenticate(const http::Request& req);
  // reason "forbidden" naming the identity and operation; the denial is audited.
  Status authorize(const Caller& caller, keys::Operation op, const std::string& key_name);

  // POST /keys/{name}[/{version}]/release. Every outcome is audited;
  // `clause` receives the policy clause that decided, when one did.
  Result<nlohmann::json> release(const Caller& caller, const std::string& name, const std::string& version,
                                 const nlohmann::json& body, std::string* clause = nullptr);

  // Records a successful change (create, delete, set-policy …); its failure is
  // returned (the change is done; the caller logs it).
  Status audit_change(const Caller& caller, const std::string& operation, const std::string& key_name,
                      const std::string& key_version, const std::string& detail = {});

  // A thread that purges soft-deleted keys past their retention, at start
  // and then hourly; stop_purger() (also in the destructor) ends it.
  void start_purger();
  void stop_purger();

  keys::Vault& vault() { return *vault_; }
  keys::AccessControl& access() { return *access_; }
  keys::AuditLog& audit() { return *audit_; }
  keys::Authorities& authorities() { return *authorities_; }
  const std::string& kek_description() const { return kek_description_; }
  std::string base_url() { return service_.issuer().issuer(); }
  int retention_days() const { return retention_days_; }
  int64_t now() const { return service_.now(); }

 private:
  KeyService(Service& s, Logger& l) : service_(s), log_(l) {}
  Result<nlohmann::json> release_checked(const Caller& caller, const std::string& name, const std::string& version,
                                         const nlohmann::json& body, keys::AuditEntry& audit);

  Service& service_;
  Logger& log_;
  std::unique_ptr<keys::kek::Kek> kek_;
  std::unique_ptr<keys::Vault> vault_;
  std::unique_ptr<keys::AccessControl> access_;
  std::unique_ptr<keys::AuditLog> audit_;
  std::unique_ptr<keys::Authorities> authorities_;
  std::string kek_description_;
  int retention_days_ = 90;
  std::mutex purger_mu_;
  std::condition_variable purger_cv_;
  bool purger_stop_ = false;
  std::thread purger_;
};

}  // namespace tl::server
