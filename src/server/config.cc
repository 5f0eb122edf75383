#include "server/config.h"

#include "common/hex.h"

#include <algorithm>
#include <fstream>
#include <set>
#include <sstream>

#include <nlohmann/json.hpp>

namespace tl::server {
namespace {

using nlohmann::json;

Result<std::string> read_text(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Error{"config file " + path + ": cannot open"};
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

std::optional<LogLevel> parse_log_level(std::string_view s) {
  if (s == "debug") return LogLevel::debug;
  if (s == "info") return LogLevel::info;
  if (s == "warn") return LogLevel::warn;
  if (s == "error") return LogLevel::error;
  return std::nullopt;
}

Result<int64_t> parse_int(std::string_view text, const std::string& what, int64_t lo, int64_t hi) {
  if (text.empty()) return Error{what + ": empty"};
  int64_t v = 0;
  for (char c : text) {
    if (c < '0' || c > '9') return Error{what + ": '" + std::string(text) + "' is not a whole number"};
    if (v > (hi - (c - '0')) / 10) return Error{what + ": " + std::string(text) + " is above " + std::to_string(hi)};
    v = v * 10 + (c - '0');
  }
  if (v < lo) return Error{what + ": " + std::string(text) + " is below " + std::to_string(lo)};
  return v;
}

// Strict readers for one JSON object: each member must be known and typed.
class ObjectReader {
 public:
  ObjectReader(const json& j, std::string path) : j_(j), path_(std::move(path)) {}
  Status check_object(std::initializer_list<const char*> known) const {
    if (!j_.is_object()) return Error{where("") + "must be an object"};
    std::set<std::string> k(known.begin(), known.end());
    for (const auto& [name, _] : j_.items())
      if (!k.count(name)) return Error{where(name) + "unknown key"};
    return {};
  }
  const json* get(const char* name) const {
    auto it = j_.find(name);
    return it == j_.end() ? nullptr : &*it;
  }
  Status str(const char* name, std::string& out) const {
    const json* v = get(name);
    if (!v) return {};
    if (!v->is_string()) return Error{where(name) + "must be a string"};
    out = v->get<std::string>();
    return {};
  }
  Status opt_str(const char* name, std::optional<std::string>& out) const {
    std::string s;
    if (!get(name)) return {};
    if (auto st = str(name, s); !st) return st;
    out = s;
    return {};
  }
  Status boolean(const char* name, bool& out) const {
    const json* v = get(name);
    if (!v) return {};
    if (!v->is_boolean()) return Error{where(name) + "must be true or false"};
    out = v->get<bool>();
    return {};
  }
  template <class T>
  Status integer(const char* name, T& out, int64_t lo, int64_t hi) const {
    const json* v = get(name);
    if (!v) return {};
    if (!v->is_number_integer()) return Error{where(name) + "must be a whole number"};
    const int64_t x = v->get<int64_t>();
    if (x < lo || x > hi)
      return Error{where(name) + std::to_string(x) + " outside " + std::to_string(lo) + ".." + std::to_string(hi)};
    out = static_cast<T>(x);
    return {};
  }
  Status strings(const char* name, std::vector<std::string>& out) const {
    const json* v = get(name);
    if (!v) return {};
    if (!v->is_array()) return Error{where(name) + "must be an array of strings"};
    out.clear();
    for (size_t i = 0; i < v->size(); ++i) {
      if (!(*v)[i].is_string()) return Error{where_index(name, i) + "must be a string"};
      out.push_back((*v)[i].get<std::string>());
    }
    return {};
  }
  std::string where_index(const std::string& name, size_t i) const {
    std::string w = where(name);  // "config a.b: "
    return w.substr(0, w.size() - 2) + "[" + std::to_string(i) + "]: ";
  }
  std::string where(const std::string& name) const {
    std::string p = path_.empty() ? name : (name.empty() ? path_ : path_ + "." + name);
    return "config " + (p.empty() ? std::string("(top level)") : p) + ": ";
  }
  ObjectReader child(const char* name) const { return ObjectReader(*get(name), path_.empty() ? name : path_ + "." + name); }

 private:
  const json& j_;
  std::string path_;
};

#define TL_TRY(expr)               \
  do {                             \
    if (auto st_ = (expr); !st_) { \
      return st_.take_error();     \
    }                              \
  } while (0)

Status apply_json(const json& root, Config& c) {
  ObjectReader top(root, "");
  TL_TRY(top.check_object({"listen", "tls", "database", "issuer", "token", "challenge", "enrollment", "appraisal", "log", "fleet", "keyVault", "cvm"}));
  if (top.get("listen")) {
    auto r = top.child("listen");
    TL_TRY(r.check_object({"address", "port", "threads"}));
    TL_TRY(r.str("address", c.listen_address));
    TL_TRY(r.integer("port", c.port, 0, 65535));
    TL_TRY(r.integer("threads", c.threads, 0, 256));
  }
  if (top.get("tls")) {
    auto r = top.child("tls");
    TL_TRY(r.check_object({"certificate", "privateKey", "clientCa"}));
    TL_TRY(r.opt_str("certificate", c.tls_certificate));
    TL_TRY(r.opt_str("privateKey", c.tls_private_key));
    TL_TRY(r.opt_str("clientCa", c.client_ca_file));
  }
  TL_TRY(top.str("database", c.database));
  TL_TRY(top.opt_str("issuer", c.issuer));
  if (top.get("token")) {
    auto r = top.child("token");
    TL_TRY(r.check_object({"lifetimeSeconds", "signingAlg"}));
    TL_TRY(r.integer("lifetimeSeconds", c.token_lifetime_seconds, 60, 7 * 24 * 3600));
    if (const json* a = r.get("signingAlg")) {
      auto alg = a->is_string() ? crypto::jws_alg_from_name(a->get<std::string>()) : std::nullopt;
      if (!alg) return Error{r.where("signingAlg") + "must be \"ES256\", \"RS256\" or \"PS256\""};
      c.signing_alg = *alg;
    }
  }
  if (top.get("challenge")) {
    auto r = top.child("challenge");
    TL_TRY(r.check_object({"lifetimeSeconds"}));
    TL_TRY(r.integer("lifetimeSeconds", c.challenge_lifetime_seconds, 5, 3600));
  }
  if (top.get("enrollment")) {
    auto r = top.child("enrollment");
    TL_TRY(r.check_object({"ekCaBundles", "allowEkWithoutCertificate", "pendingLifetimeSeconds"}));
    TL_TRY(r.strings("ekCaBundles", c.ek_ca_bundles));
    TL_TRY(r.boolean("allowEkWithoutCertificate", c.allow_ek_without_certificate));
    TL_TRY(r.integer("pendingLifetimeSeconds", c.enrollment_lifetime_seconds, 10, 3600));
  }
  if (top.get("appraisal")) {
    auto r = top.child("appraisal");
    TL_TRY(r.check_object({"allowSha1", "requiredPcrs", "requireRuntimeKey"}));
    TL_TRY(r.boolean("allowSha1", c.allow_sha1));
    TL_TRY(r.boolean("requireRuntimeKey", c.require_runtime_key));
    if (const json* p = r.get("requiredPcrs")) {
      if (!p->is_array() || p->empty()) return Error{r.where("requiredPcrs") + "must be a non-empty array of PCR indices"};
      c.required_pcrs.clear();
      for (size_t i = 0; i < p->size(); ++i) {
        const json& e = (*p)[i];
        if (!e.is_number_unsigned() || e.get<uint64_t>() > 23)
          return Error{r.where_index("requiredPcrs", i) + "must be a PCR index 0..23"};
        c.required_pcrs.push_back(e.get<uint32_t>());
      }
    }
  }
  if (top.get("fleet")) {
    auto r = top.child("fleet");
    TL_TRY(r.check_object({"refreshWindowSeconds", "sweepIntervalSeconds", "adminTokenFile", "webhooks",
                           "webhookMaxAttempts", "webhookCaFile"}));
    TL_TRY(r.integer("refreshWindowSeconds", c.refresh_window_seconds, 1, 30 * 24 * 3600));
    TL_TRY(r.integer("sweepIntervalSeconds", c.sweep_interval_seconds, 1, 24 * 3600));
    TL_TRY(r.opt_str("adminTokenFile", c.admin_token_file));
    TL_TRY(r.integer("webhookMaxAttempts", c.webhook_max_attempts, 1, 1000));
    TL_TRY(r.opt_str("webhookCaFile", c.webhook_ca_file));
    if (const json* w = r.get("webhooks")) {
      if (!w->is_array()) return Error{r.where("webhooks") + "must be an array of {\"url\", \"secretFile\"}"};
      c.webhooks.clear();
      for (size_t i = 0; i < w->size(); ++i) {
        ObjectReader e((*w)[i], "fleet.webhooks[" + std::to_string(i) + "]");
        TL_TRY(e.check_object({"url", "secretFile"}));
        Config::Webhook hook;
        if (!e.get("url")) return Error{e.where("url") + "missing"};
        TL_TRY(e.str("url", hook.url));
        TL_TRY(e.opt_str("secretFile", hook.secret_file));
        c.webhooks.push_back(std::move(hook));
      }
    }
  }
  if (top.get("keyVault")) {
    auto r = top.child("keyVault");
    TL_TRY(r.check_object({"kekFile", "pkcs11", "retentionDays", "authorities"}));
    TL_TRY(r.opt_str("kekFile", c.kek_file));
    TL_TRY(r.integer("retentionDays", c.key_retention_days, 7, 90));
    if (r.get("pkcs11")) {
      auto p = r.child("pkcs11");
      TL_TRY(p.check_object({"module", "tokenLabel", "pinFile", "keyLabel"}));
      Config::Pkcs11 hsm;
      for (const char* m : {"module", "tokenLabel", "pinFile"})
        if (!p.get(m)) return Error{p.where(m) + "missing"};
      TL_TRY(p.str("module", hsm.module));
      TL_TRY(p.str("tokenLabel", hsm.token_label));
      TL_TRY(p.str("pinFile", hsm.pin_file));
      TL_TRY(p.str("keyLabel", hsm.key_label));
      c.pkcs11 = std::move(hsm);
    }
    if (const json* a = r.get("authorities")) {
      if (!a->is_array()) return Error{r.where("authorities") + "must be an array of {\"issuer\", …}"};
      c.trusted_authorities.clear();
      for (size_t i = 0; i < a->size(); ++i) {
        ObjectReader e((*a)[i], "keyVault.authorities[" + std::to_string(i) + "]");
        TL_TRY(e.check_object({"issuer", "jwksUri", "caFile", "jwksFile"}));
        Config::Authority au;
        if (!e.get("issuer")) return Error{e.where("issuer") + "missing"};
        TL_TRY(e.str("issuer", au.issuer));
        TL_TRY(e.opt_str("jwksUri", au.jwks_uri));
        TL_TRY(e.opt_str("caFile", au.ca_file));
        TL_TRY(e.opt_str("jwksFile", au.jwks_file));
        c.trusted_authorities.push_back(std::move(au));
      }
    }
  }
  if (top.get("cvm")) {
    auto r = top.child("cvm");
    TL_TRY(r.check_object({"tdxCollateralDir", "tdxCompliantTcbStatuses", "snpLaunchMeasurements",
                           "snpIdKeyDigests", "tdxMrtds"}));
    if (r.get("snpLaunchMeasurements")) TL_TRY(r.strings("snpLaunchMeasurements", c.snp_launch_measurements));
    if (r.get("snpIdKeyDigests")) TL_TRY(r.strings("snpIdKeyDigests", c.snp_id_key_digests));
    if (r.get("tdxMrtds")) TL_TRY(r.strings("tdxMrtds", c.tdx_mrtds));
    TL_TRY(r.opt_str("tdxCollateralDir", c.tdx_collateral_dir));
    if (r.get("tdxCompliantTcbStatuses")) TL_TRY(r.strings("tdxCompliantTcbStatuses", c.tdx_compliant_tcb));
  }
  if (top.get("log")) {
    auto r = top.child("log");
    TL_TRY(r.check_object({"level"}));
    std::string level = log_level_name(c.log_level);
    TL_TRY(r.str("level", level));
    auto l = parse_log_level(level);
    if (!l) return Error{r.where("level") + "must be debug, info, warn or error"};
    c.log_level = *l;
  }
  return {};
}

}  // namespace

const char* log_level_name(LogLevel level) {
  switch (level) {
    case LogLevel::debug: return "debug";
    case LogLevel::info: return "info";
    case LogLevel::warn: return "warn";
    case LogLevel::error: return "error";
  }
  return "info";
}

std::string Config::effective_issuer() const {
  if (issuer) return *issuer;
  const bool v6 = listen_address.find(':') != std::string::npos;
  return std::string(tls() ? "https://" : "http://") + (v6 ? "[" + listen_address + "]" : listen_address) + ":" +
         std::to_string(port);
}

Result<Config> parse_config_json(std::string_view text, Config base) {
  json root = json::parse(text, nullptr, /*allow_exceptions=*/false, /*ignore_comments=*/false);
  if (root.is_discarded()) return Error{"config: not valid JSON"};
  TL_TRY(apply_json(root, base));
  return base;
}

Result<Config> config_from_args(const std::vector<std::string>& args, Config base) {
  // --config first, so flags override the file whatever their order.
  for (size_t i = 0; i < args.size(); ++i) {
    std::string a = args[i], value;
    if (a == "--config") {
      if (i + 1 >= args.size()) return Error{"--config needs a file"};
      value = args[i + 1];
    } else if (a.rfind("--config=", 0) == 0) {
      value = a.substr(9);
    } else {
      continue;
    }
    auto text = read_text(value);
    if (!text) return text.take_error();
    auto parsed = parse_config_json(*text, base);
    if (!parsed) return with_context(value, parsed.take_error());
    base = std::move(*parsed);
  }
  static const std::set<std::string> with_value = {
      "--config", "--listen", "--port", "--db", "--tls-cert", "--tls-key", "--issuer", "--token-lifetime",
      "--signing-alg", "--ek-ca", "--challenge-lifetime", "--log-level", "--threads",
      "--refresh-window", "--sweep-interval", "--admin-token-file", "--webhook", "--webhook-ca",
      "--kek-file", "--pkcs11-module", "--pkcs11-token", "--pkcs11-pin-file", "--pkcs11-key-label",
      "--trust-issuer", "--key-retention-days", "--client-ca", "--tdx-collateral"};
  static const std::set<std::string> flags = {"--allow-ek-without-certificate", "--allow-sha1",
                                              "--no-runtime-key"};
  bool ek_ca_from_flags = false;
  bool webhooks_from_flags = false;
  bool issuers_from_flags = false;
  for (size_t i = 0; i < args.size(); ++i) {
    std::string name = args[i], value;
    if (name.rfind("--", 0) != 0) return Error{"unexpected argument '" + name + "'"};
    if (auto eq = name.find('='); eq != std::string::npos) {
      value = name.substr(eq + 1);
      name = name.substr(0, eq);
      if (!with_value.count(name)) return Error{"option " + name + " takes no value"};
    } else if (with_value.count(name)) {
      if (i + 1 >= args.size()) return Error{"option " + name + " needs a value"};
      value = args[++i];
    } else if (!flags.count(name)) {
      return Error{"unknown option " + name + " (see tlaunchd --help)"};
    }
    if (name == "--config") continue;
    if (name == "--listen") {
      // ADDRESS:PORT, ADDRESS, [IPV6]:PORT or [IPV6]
      if (!value.empty() && value.front() == '[') {
        const auto close = value.find(']');
        if (close == std::string::npos) return Error{"--listen: '" + value + "' lacks the closing ']'"};
        const std::string rest = value.substr(close + 1);
        if (!rest.empty()) {
          if (rest.front() != ':') return Error{"--listen: expected ':PORT' after ']' in '" + value + "'"};
          auto p = parse_int(rest.substr(1), "--listen port", 0, 65535);
          if (!p) return p.take_error();
          base.port = static_cast<uint16_t>(*p);
        }
        value = value.substr(1, close - 1);
        if (value.empty()) return Error{"--listen: empty address"};
        base.listen_address = value;
        continue;
      }
      if (std::count(value.begin(), value.end(), ':') > 1) {
        base.listen_address = value;  // a bare IPv6 address, no port
        continue;
      }
      auto colon = value.rfind(':');
      if (colon != std::string::npos) {
        auto p = parse_int(value.substr(colon + 1), "--listen port", 0, 65535);
        if (!p) return p.take_error();
        base.port = static_cast<uint16_t>(*p);
        value = value.substr(0, colon);
      }
      if (value.empty()) return Error{"--listen: empty address"};
      base.listen_address = value;
    } else if (name == "--port") {
      auto p = parse_int(value, "--port", 0, 65535);
      if (!p) return p.take_error();
      base.port = static_cast<uint16_t>(*p);
    } else if (name == "--db") {
      base.database = value;
    } else if (name == "--tls-cert") {
      base.tls_certificate = value;
    } else if (name == "--tls-key") {
      base.tls_private_key = value;
    } else if (name == "--issuer") {
      base.issuer = value;
    } else if (name == "--token-lifetime") {
      auto p = parse_int(value, "--token-lifetime (seconds)", 60, 7 * 24 * 3600);
      if (!p) return p.take_error();
      base.token_lifetime_seconds = *p;
    } else if (name == "--challenge-lifetime") {
      auto p = parse_int(value, "--challenge-lifetime (seconds)", 5, 3600);
      if (!p) return p.take_error();
      base.challenge_lifetime_seconds = *p;
    } else if (name == "--signing-alg") {
      auto alg = crypto::jws_alg_from_name(value);
      if (!alg) return Error{"--signing-alg: '" + value + "' is not ES256, RS256 or PS256"};
      base.signing_alg = *alg;
    } else if (name == "--ek-ca") {
      if (!ek_ca_from_flags) base.ek_ca_bundles.clear();  // flags replace the file's list
      ek_ca_from_flags = true;
      base.ek_ca_bundles.push_back(value);
    } else if (name == "--log-level") {
      auto l = parse_log_level(value);
      if (!l) return Error{"--log-level: '" + value + "' is not debug, info, warn or error"};
      base.log_level = *l;
    } else if (name == "--threads") {
      auto p = parse_int(value, "--threads", 0, 256);
      if (!p) return p.take_error();
      base.threads = static_cast<unsigned>(*p);
    } else if (name == "--refresh-window") {
      auto p = parse_int(value, "--refresh-window (seconds)", 1, 30 * 24 * 3600);
      if (!p) return p.take_error();
      base.refresh_window_seconds = *p;
    } else if (name == "--sweep-interval") {
      auto p = parse_int(value, "--sweep-interval (seconds)", 1, 24 * 3600);
      if (!p) return p.take_error();
      base.sweep_interval_seconds = *p;
    } else if (name == "--admin-token-file") {
      base.admin_token_file = value;
    } else if (name == "--webhook") {
      if (!webhooks_from_flags) base.webhooks.clear();  // flags replace the file's list
      webhooks_from_flags = true;
      base.webhooks.push_back(Config::Webhook{value, std::nullopt});
    } else if (name == "--kek-file") {
      base.kek_file = value;
    } else if (name == "--pkcs11-module" || name == "--pkcs11-token" || name == "--pkcs11-pin-file" ||
               name == "--pkcs11-key-label") {
      if (!base.pkcs11) base.pkcs11 = Config::Pkcs11{};
      if (name == "--pkcs11-module") base.pkcs11->module = value;
      if (name == "--pkcs11-token") base.pkcs11->token_label = value;
      if (name == "--pkcs11-pin-file") base.pkcs11->pin_file = value;
      if (name == "--pkcs11-key-label") base.pkcs11->key_label = value;
    } else if (name == "--trust-issuer") {
      if (!issuers_from_flags) base.trusted_authorities.clear();  // flags replace the file's list
      issuers_from_flags = true;
      base.trusted_authorities.push_back(Config::Authority{value, std::nullopt, std::nullopt, std::nullopt});
    } else if (name == "--key-retention-days") {
      auto p = parse_int(value, "--key-retention-days", 7, 90);
      if (!p) return p.take_error();
      base.key_retention_days = static_cast<int>(*p);
    } else if (name == "--tdx-collateral") {
      base.tdx_collateral_dir = value;
    } else if (name == "--client-ca") {
      base.client_ca_file = value;
    } else if (name == "--webhook-ca") {
      base.webhook_ca_file = value;
    } else if (name == "--allow-ek-without-certificate") {
      base.allow_ek_without_certificate = true;
    } else if (name == "--allow-sha1") {
      base.allow_sha1 = true;
    } else if (name == "--no-runtime-key") {
      base.require_runtime_key = false;
    }
  }
  return base;
}

Status validate(const Config& c) {
  if (c.tls_certificate.has_value() != c.tls_private_key.has_value())
    return Error{"config: TLS needs both a certificate (--tls-cert / tls.certificate) and a private key "
                 "(--tls-key / tls.privateKey)"};
  if (c.database.empty()) return Error{"config: database path is empty"};
  if (c.issuer && c.issuer->rfind("https://", 0) != 0 && c.issuer->rfind("http://", 0) != 0)
    return Error{"config: issuer '" + *c.issuer + "' must be an http(s) URL"};
  if (c.issuer && !c.issuer->empty() && c.issuer->back() == '/')
    return Error{"config: issuer '" + *c.issuer + "' must not end with '/'"};
  if (c.pkcs11) {
    if (c.pkcs11->module.empty() || c.pkcs11->token_label.empty() || c.pkcs11->pin_file.empty())
      return Error{"config: a PKCS#11 KEK needs the module (--pkcs11-module), the token label (--pkcs11-token) "
                   "and a PIN file (--pkcs11-pin-file)"};
    if (c.kek_file) return Error{"config: give either a KEK file or a PKCS#11 token, not both"};
  }
  if (c.client_ca_file && !c.tls()) return Error{"config: client certificates (--client-ca) need HTTPS (--tls-cert)"};
  for (const auto& a : c.trusted_authorities) {
    if (a.issuer.rfind("https://", 0) != 0 && a.issuer.rfind("http://", 0) != 0)
      return Error{"config: trusted issuer '" + a.issuer + "' must be an http(s) URL"};
    if (a.issuer == c.effective_issuer())
      return Error{"config: trusted issuer '" + a.issuer + "' is tlaunchd's own issuer (always trusted)"};
  }
  for (const auto& w : c.webhooks)
    if (w.url.rfind("https://", 0) != 0 && w.url.rfind("http://", 0) != 0)
      return Error{"config: webhook '" + w.url + "' must be an http(s) URL"};
  static const std::set<std::string> tcb = {"UpToDate", "SWHardeningNeeded", "ConfigurationNeeded",
                                            "ConfigurationAndSWHardeningNeeded", "OutOfDate",
                                            "OutOfDateConfigurationNeeded"};
  for (const auto* list : {&c.snp_launch_measurements, &c.snp_id_key_digests, &c.tdx_mrtds})
    for (const auto& v : *list) {
      auto b = from_hex(v);
      if (!b || b->size() != 48 || std::all_of(b->begin(), b->end(), [](uint8_t x) { return x == 0; }))
        return Error{"config: cvm: '" + v + "' is not a reference value (96 hex digits, not all zero) in " +
                     (list == &c.snp_launch_measurements ? "snpLaunchMeasurements"
                      : list == &c.snp_id_key_digests    ? "snpIdKeyDigests"
                                                         : "tdxMrtds")};
    }
  for (const auto& s : c.tdx_compliant_tcb)
    if (!tcb.count(s))
      return Error{"config: cvm.tdxCompliantTcbStatuses: '" + s + "' is not a TDX TCB status that can be compliant "
                   "(UpToDate, SWHardeningNeeded, ConfigurationNeeded, ConfigurationAndSWHardeningNeeded, OutOfDate, "
                   "OutOfDateConfigurationNeeded; Revoked never is)"};
  return {};
}

const char* config_flags_help() {
  return R"(  --config FILE                  JSON configuration (docs/tlaunchd.md); flags override it
  --listen ADDRESS[:PORT]        address to listen on (default 127.0.0.1:8443)
  --port PORT                    port (0 = any free port, printed at start)
  --threads N                    worker threads (default: 8 per core, at least 16: key
                                 releases wait for their audit entry's fsync)
  --tls-cert FILE --tls-key FILE serve HTTPS with this PEM chain and key (default: plain HTTP)
  --db FILE                      SQLite database (default tlaunchd.db; created, mode 0600)
  --issuer URL                   token "iss" and discovery base (default: scheme://listen:port)
  --token-lifetime SECONDS       token lifetime (default 28800 = 8 h)
  --signing-alg ES256|RS256|PS256  token signing algorithm for new keys (default ES256)
  --challenge-lifetime SECONDS   how long a challenge nonce is valid (default 300)
  --ek-ca FILE                   trusted EK CA bundle (PEM; repeatable; replaces the file's list)
  --allow-ek-without-certificate enroll TPMs whose EK has no certificate (default: refuse)
  --allow-sha1                   accept the SHA-1 PCR bank next to SHA-256 (never instead of it)
  --no-runtime-key               do not require the TPM-resident runtime key in evidence
  --refresh-window SECONDS       a running VM without a valid attestation for this long goes
                                 Unknown with an attestation-stale alert (default 28800 = 8 h)
  --sweep-interval SECONDS       how often staleness is checked (default 60)
  --admin-token-file FILE        the fleet API's bearer token, created at first start
                                 (default: the database path + ".admin-token", mode 0600)
  --webhook URL                  deliver alert events to URL (repeatable; replaces the file's list;
                                 signing secrets only through the config file)
  --webhook-ca FILE              CA bundle for https webhooks (default: the system store)
  --kek-file FILE                the key vault's key-encryption key (default: the database path
                                 + ".kek"; 32 random bytes, created at first start, mode 0600)
  --pkcs11-module LIB --pkcs11-token LABEL --pkcs11-pin-file FILE [--pkcs11-key-label LABEL]
                                 keep the KEK in a PKCS#11 token (an HSM) instead of a file
  --trust-issuer URL             accept release targets from this attestation service too (keys by
                                 OpenID discovery; repeatable; replaces the file's list)
  --key-retention-days N         soft-deleted keys are purged after N days (7..90, default 90)
  --client-ca FILE               HTTPS: TLS client certificates from this CA are key vault identities
  --tdx-collateral DIR           Intel PCS collateral for TDX quotes (tcb_info.json, …; docs/tee.md);
                                 without it no TDX confidential VM is reported compliant
  --log-level debug|info|warn|error  (default info; logs are JSON lines on stderr)
)";
}

}  // namespace tl::server
