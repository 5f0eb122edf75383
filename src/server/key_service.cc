#include "server/key_service.h"

#include <fstream>
#include <sstream>

#include "keys/authorities/unverified_issuer.h"
#include "server/admin_token.h"
#include "store/database.h"

namespace tl::server {
namespace {

Result<std::string> read_pin(const std::string& file) {
  std::ifstream in(file, std::ios::binary);
  if (!in) return Error{"cannot read the PKCS#11 PIN file " + file};
  std::stringstream ss;
  ss << in.rdbuf();
  std::string pin = ss.str();
  while (!pin.empty() && (pin.back() == '\n' || pin.back() == '\r')) pin.pop_back();
  if (pin.empty()) return Error{"the PKCS#11 PIN file " + file + " is empty"};
  return pin;
}

// Whether the database already holds a vault (its wrapped data key): then a
// missing KEK is an error to report, never a reason to make a new one.
Result<bool> vault_exists(const std::string& db_path) {
  auto db = store::Database::open(db_path);
  if (!db) return db.take_error();
  auto st = db->prepare("SELECT count(*) FROM vault_meta");
  if (!st) return st.take_error();
  auto row = st->step();
  if (!row) return row.take_error();
  auto n = st->column_int64(0);
  if (!n) return n.take_error();
  return *n > 0;
}

Result<std::unique_ptr<keys::kek::Kek>> open_kek(const Config& c) {
  auto exists = vault_exists(c.database);
  if (!exists) return exists.take_error();
  if (c.pkcs11) {
    auto pin = read_pin(c.pkcs11->pin_file);
    if (!pin) return pin.take_error();
    keys::kek::Pkcs11Options o;
    o.module = c.pkcs11->module;
    o.token_label = c.pkcs11->token_label;
    o.pin = std::move(*pin);
    o.key_label = c.pkcs11->key_label;
    o.create_if_missing = !*exists;
    auto k = keys::kek::open_pkcs11_kek(o);
    std::fill(o.pin.begin(), o.pin.end(), '\0');
    return k;
  }
  auto k = keys::kek::open_file_kek(c.effective_kek_file(), /*create_if_missing=*/!*exists);
  if (!k && *exists)
    return Error{k.error().message + " (the vault in " + c.database +
                 " was created with a KEK: restore that file or give its path with --kek-file)",
                 k.error().reason};
  return k;
}

bool looks_like_jwt(std::string_view s) {
  size_t dots = 0;
  for (char ch : s) dots += ch == '.';
  return dots == 2 && s.size() > 20;
}

}  // namespace

KeyService::~KeyService() { stop_purger(); }

std::string clip_detail(std::string s) {
  // Details echo what callers sent (member names, issuers); each audit entry
  // is fsynced, so a caller must not be able to make it large.
  constexpr size_t kMax = 512;
  if (s.size() <= kMax) return s;
  size_t cut = kMax;
  while (cut > 0 && (static_cast<unsigned char>(s[cut]) & 0xC0) == 0x80) --cut;  // UTF-8 boundary
  s.resize(cut);
  return s + "…";
}

void KeyService::start_purger() {
  if (purger_.joinable()) return;
  purger_ = std::thread([this] {
    std::unique_lock lock(purger_mu_);
    while (!purger_stop_) {
      lock.unlock();
      auto n = vault_->purge_expired(now());
      if (!n) log_.error("purging deleted keys failed", {{"error", n.error().message}});
      else if (*n > 0) log_.info("deleted keys purged after their retention", {{"count", *n}});
      lock.lock();
      purger_cv_.wait_for(lock, std::chrono::hours(1), [this] { return purger_stop_; });
    }
  });
}

void KeyService::stop_purger() {
  {
    std::lock_guard lock(purger_mu_);
    purger_stop_ = true;
  }
  purger_cv_.notify_all();
  if (purger_.joinable()) purger_.join();
}

Result<std::unique_ptr<KeyService>> KeyService::open(const Config& config, Service& service, Logger& log) {
  std::unique_ptr<KeyService> ks(new KeyService(service, log));
  auto kek = open_kek(config);
  if (!kek) return with_context("key vault: key-encryption key", kek.take_error());
  ks->kek_ = std::move(*kek);
  ks->kek_description_ = ks->kek_->description();
  ks->retention_days_ = config.key_retention_days;

  keys::VaultOptions vo;
  vo.retention_days = config.key_retention_days;
  auto vault = keys::Vault::open(config.database, *ks->kek_, vo);
  if (!vault) return with_context("key vault", vault.take_error());
  ks->vault_ = std::move(*vault);
  auto access = keys::AccessControl::open(config.database);
  if (!access) return with_context("key vault: access control", access.take_error());
  ks->access_ = std::move(*access);
  auto audit = keys::AuditLog::open(config.database);
  if (!audit) return with_context("key vault: audit log", audit.take_error());
  ks->audit_ = std::move(*audit);

  std::vector<keys::TrustedAuthority> trusted;
  for (const auto& a : config.trusted_authorities)
    trusted.push_back(keys::TrustedAuthority{a.issuer, a.jwks_uri, a.ca_file, a.jwks_file});
  Service* s = &service;
  auto auth = keys::Authorities::create([s] { return s->issuer().issuer(); },
                                        [s] { return s->issuer().verification_keys(); }, std::move(trusted));
  if (!auth) return with_context("key vault: authorities", auth.take_error());
  ks->authorities_ = std::move(*auth);
  return ks;
}

Result<Caller> KeyService::authenticate(const http::Request& req) {
  const std::string* h = req.header("Authorization");
  if (!h) {
    if (req.client_cert_sha256) return Caller{"cert:sha256:" + *req.client_cert_sha256, nullptr};
    return Error{"this route needs 'Authorization: Bearer <API token>' (or an attestation token, or a TLS client "
                 "certificate from the configured client CA)",
                 "unauthorized"};
  }
  constexpr std::string_view kScheme = "Bearer ";
  if (h->size() <= kScheme.size() || h->compare(0, kScheme.size(), kScheme) != 0)
    return Error{"Authorization must be 'Bearer <credential>'", "unauthorized"};
  const std::string_view credential = std::string_view(*h).substr(kScheme.size());
  if (credential.rfind("tlk_", 0) == 0) {
    auto id = access_->authenticate_token(credential, now());
    if (!id) return with_reason("unauthorized", id.take_error());
    return Caller{std::move(*id), nullptr};
  }
  if (looks_like_jwt(credential)) {
    // A VM authenticates with an attestation token from this tlaunchd only:
    // other issuers' tokens are release targets, never identities (and are
    // not verified here, so a caller cannot make tlaunchd fetch their keys).
    auto iss = keys::detail::unverified_issuer(credential, token::VerifyOptions::kDefaultMaxTokenBytes);
    if (!iss || !authorities_->is_own_issuer(*iss))
      return Error{"only attestation tokens issued by this tlaunchd identify a VM", "unauthorized"};
    auto t = authorities_->verify(credential, now());
    if (!t) return Error{"the bearer attestation token is not valid: " + t.error().message, "unauthorized"};
    const auto& claims = t->claims();
    if (!authorities_->is_own_issuer(claims.value("iss", "")))
      return Error{"only attestation tokens issued by this tlaunchd identify a VM", "unauthorized"};
    // Only tokens from /attest (an enrolled vTPM: type "azurevm") name a VM.
    // The confidential-VM endpoints issue "sevsnpvm" / "tdxvm" tokens for
    // evidence anyone may submit (a recorded report replays), so those are
    // release targets only, never identities.
    auto type = claims.find("x-ms-attestation-type");
    if (type == claims.end() || !type->is_string() || type->get<std::string>() != "azurevm")
      return Error{"only attestation tokens from /attest (x-ms-attestation-type 'azurevm') identify a VM; "
                   "confidential-VM tokens are release targets, not credentials",
                   "unauthorized"};
    auto vmid = claims.find("x-ms-azurevm-vmid");
    if (vmid == claims.end() || !vmid->is_string() || vmid->get<std::string>().empty())
      return Error{"the bearer attestation token has no x-ms-azurevm-vmid", "unauthorized"};
    nlohmann::json keys = nlohmann::json::array();
    if (auto rt = claims.find("x-ms-runtime"); rt != claims.end() && rt->is_object())
      if (auto k = rt->find("keys"); k != rt->end() && k->is_array()) keys = *k;
    return Caller{"vm:" + vmid->get<std::string>(), std::move(keys)};
  }
  if (auto st = check_admin(service_.repository(), req); !st) {
    if (st.error().reason == "unavailable") return st.take_error();
    return Error{"the bearer credential is not a valid API token, admin token or attestation token", "unauthorized"};
  }
  return Caller{"admin", nullptr};
}

Status KeyService::authorize(const Caller& caller, keys::Operation op, const std::string& key_name) {
  if (access_->allowed(caller.identity, op, key_name)) return {};
  const std::string what = std::string(keys::operation_name(op));
  Error e{"'" + caller.identity + "' may not " + what + (key_name.empty() ? std::string() : " key '" + key_name + "'") +
              " (no access policy grants it)",
          "forbidden"};
  keys::AuditEntry a;
  a.at = now();
  a.caller = caller.identity;
  a.operation = what;
  a.key_name = key_name;
  a.outcome = "denied";
  a.reason = "forbidden";
  a.detail = clip_detail(e.message);
  if (auto r = audit_->record(std::move(a)); !r)
    log_.error("audit entry not written", {{"operation", what}, {"error", r.error().message}});
  return e;
}

Status KeyService::audit_change(const Caller& caller, const std::string& operation, const std::string& key_name,
                                const std::string& key_version, const std::string& detail) {
  keys::AuditEntry a;
  a.at = now();
  a.caller = caller.identity;
  a.operation = operation;
  a.key_name = key_name;
  a.key_version = key_version;
  a.outcome = "allowed";
  a.detail = clip_detail(detail);
  auto r = audit_->record(std::move(a));
  if (!r) return r.take_error();
  return {};
}

}  // namespace tl::server
