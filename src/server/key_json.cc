#include "server/key_json.h"


#include "common/rfc3339.h"
#include "token/base64url.h"

namespace tl::server {
namespace {

using nlohmann::json;

constexpr const char* kPolicyContentType = "application/json; charset=utf-8";
constexpr size_t kMaxTags = 15;  // Key Vault's limit

Error invalid(const std::string& where, const std::string& what) { return Error{where + ": " + what, "key-invalid"}; }

std::string kind_of(const json& j) {
  if (j.is_null()) return "null";
  if (j.is_boolean()) return "boolean";
  if (j.is_number()) return "number";
  if (j.is_string()) return "string";
  if (j.is_array()) return "array";
  return "object";
}

Status only_members(const json& j, const std::string& where, std::initializer_list<const char*> known) {
  for (const auto& [k, _] : j.items()) {
    bool ok = false;
    for (const char* n : known) ok |= (k == n);
    if (!ok) return invalid(where.empty() ? k : where + "." + k, "unknown member");
  }
  return {};
}

Result<std::optional<int64_t>> opt_time(const json& j, const char* name, const std::string& where) {
  auto it = j.find(name);
  if (it == j.end() || it->is_null()) return std::optional<int64_t>{};
  if (!it->is_number_integer() || it->get<int64_t>() < 0)
    return invalid(where + "." + name, "must be seconds since the epoch (a whole number), not a " + kind_of(*it));
  return std::optional<int64_t>{it->get<int64_t>()};
}

Result<std::optional<bool>> opt_bool(const json& j, const char* name, const std::string& where) {
  auto it = j.find(name);
  if (it == j.end()) return std::optional<bool>{};
  if (!it->is_boolean()) return invalid(where + "." + name, "must be true or false, not a " + kind_of(*it));
  return std::optional<bool>{it->get<bool>()};
}

Result<std::vector<std::string>> key_ops(const json& j) {
  if (!j.is_array()) return invalid("key_ops", "must be an array of operation names");
  std::vector<std::string> ops;
  for (size_t i = 0; i < j.size(); ++i) {
    if (!j[i].is_string()) return invalid("key_ops[" + std::to_string(i) + "]", "must be a string");
    ops.push_back(j[i].get<std::string>());
  }
  return ops;
}

Result<std::map<std::string, std::string>> tags(const json& j) {
  if (!j.is_object()) return invalid("tags", "must be an object of strings");
  if (j.size() > kMaxTags) return invalid("tags", "more than " + std::to_string(kMaxTags) + " tags");
  std::map<std::string, std::string> out;
  for (const auto& [k, v] : j.items()) {
    if (!v.is_string()) return invalid("tags." + k, "must be a string");
    if (k.empty() || k.size() > 256 || v.get<std::string>().size() > 256)
      return invalid("tags." + k, "names and values are 1..256 characters");
    out[k] = v.get<std::string>();
  }
  return out;
}

// attributes + release_policy + tags + key_ops: what create and import share.
Status common_members(const json& body, keys::NewKey& k) {
  if (auto it = body.find("attributes"); it != body.end()) {
    if (!it->is_object()) return invalid("attributes", "must be an object");
    if (auto st = only_members(*it, "attributes", {"enabled", "exportable", "nbf", "exp"}); !st) return st;
    auto en = opt_bool(*it, "enabled", "attributes");
    if (!en) return en.take_error();
    if (*en) k.enabled = **en;
    auto ex = opt_bool(*it, "exportable", "attributes");
    if (!ex) return ex.take_error();
    if (*ex) k.exportable = **ex;
    auto nbf = opt_time(*it, "nbf", "attributes");
    if (!nbf) return nbf.take_error();
    k.not_before = *nbf;
    auto exp = opt_time(*it, "exp", "attributes");
    if (!exp) return exp.take_error();
    k.expires = *exp;
  }
  if (auto it = body.find("release_policy"); it != body.end() && !it->is_null()) {
    auto p = parse_release_policy(*it);
    if (!p) return p.take_error();
    k.release_policy = std::move(*p);
  }
  if (auto it = body.find("tags"); it != body.end()) {
    auto t = tags(*it);
    if (!t) return t.take_error();
    k.tags = std::move(*t);
  }
  if (auto it = body.find("key_ops"); it != body.end()) {
    auto ops = key_ops(*it);
    if (!ops) return ops.take_error();
    k.key_ops = std::move(*ops);
  }
  return {};
}

json attributes_json(const keys::KeyAttributes& a, int retention_days) {
  json j = {{"enabled", a.enabled},
            {"exportable", a.exportable},
            {"created", a.created},
            {"updated", a.updated},
            {"recoveryLevel", "Recoverable+Purgeable"},
            {"recoverableDays", retention_days}};
  if (a.not_before) j["nbf"] = *a.not_before;
  if (a.expires) j["exp"] = *a.expires;
  return j;
}

}  // namespace

std::string key_id(const std::string& base_url, const std::string& name, const std::string& version) {
  return base_url + "/keys/" + name + (version.empty() ? "" : "/" + version);
}

json release_policy_json(const keys::ReleasePolicyDoc& p) {
  const std::string text = p.policy.json().dump();
  return {{"contentType", kPolicyContentType},
          {"data", token::base64url_encode(ByteView(reinterpret_cast<const uint8_t*>(text.data()), text.size()))},
          {"immutable", p.immutable}};
}

json key_bundle(const keys::KeyVersion& k, const std::string& base_url, int retention_days) {
  json key = k.public_jwk;
  key["kid"] = key_id(base_url, k.name, k.version);
  key["key_ops"] = k.key_ops;
  json b = {{"key", std::move(key)}, {"attributes", attributes_json(k.attributes, retention_days)}, {"tags", k.tags}};
  if (k.release_policy) b["release_policy"] = release_policy_json(*k.release_policy);
  return b;
}

json key_item(const keys::KeyVersion& k, const std::string& base_url, bool with_version, int retention_days) {
  return {{"kid", key_id(base_url, k.name, with_version ? k.version : std::string())},
          {"attributes", attributes_json(k.attributes, retention_days)},
          {"tags", k.tags}};
}

json deleted_bundle(const keys::DeletedKey& d, const std::string& base_url, int retention_days) {
  json b = key_bundle(d.newest, base_url, retention_days);
  b["recoveryId"] = base_url + "/deletedkeys/" + d.newest.name;
  b["deletedDate"] = d.deleted_at;
  b["scheduledPurgeDate"] = d.scheduled_purge_at;
  return b;
}

json audit_entry_json(const keys::AuditEntry& e) {
  return {{"id", e.id},           {"at", format_rfc3339(e.at)},
          {"caller", e.caller},   {"operation", e.operation},
          {"keyName", e.key_name}, {"keyVersion", e.key_version},
          {"tokenJti", e.token_jti}, {"tokenIssuer", e.token_issuer},
          {"clause", e.clause},   {"outcome", e.outcome},
          {"reason", e.reason},   {"detail", e.detail}};
}

Result<keys::ReleasePolicyDoc> parse_release_policy(const json& j) {
  auto bad = [](const std::string& m) { return Error{"release_policy: " + m, "release-policy-invalid"}; };
  if (!j.is_object()) return bad("must be an object {\"data\", \"immutable\"}");
  for (const auto& [k, _] : j.items())
    if (k != "data" && k != "immutable" && k != "contentType") return bad("unknown member '" + k + "'");
  if (auto ct = j.find("contentType"); ct != j.end()) {
    if (!ct->is_string() || (ct->get<std::string>() != kPolicyContentType && ct->get<std::string>() != "application/json"))
      return bad("contentType must be \"" + std::string(kPolicyContentType) + "\"");
  }
  auto data = j.find("data");
  if (data == j.end()) return bad("missing \"data\" (the policy as base64url-encoded JSON)");
  std::string text;
  if (data->is_string()) {
    auto raw = token::base64url_decode(data->get<std::string>());
    if (!raw) return bad("data: not base64url: " + raw.error().message);
    text.assign(raw->begin(), raw->end());
  } else if (data->is_object()) {
    text = data->dump();
  } else {
    return bad("data must be a base64url string or a JSON object, not a " + kind_of(*data));
  }
  auto p = policy::ReleasePolicy::parse(text);
  if (!p) return with_reason("release-policy-invalid", with_context("release_policy.data", p.take_error()));
  bool immutable = false;
  if (auto im = j.find("immutable"); im != j.end()) {
    if (!im->is_boolean()) return bad("immutable must be true or false");
    immutable = im->get<bool>();
  }
  return keys::ReleasePolicyDoc{std::move(*p), immutable};
}

Result<keys::NewKey> parse_create_request(const json& body) {
  if (auto st = only_members(body, "", {"kty", "key_size", "crv", "key_ops", "attributes", "release_policy", "tags",
                                        "public_exponent"});
      !st)
    return st.take_error();
  keys::NewKey k;
  auto kty = body.find("kty");
  if (kty == body.end() || !kty->is_string()) return invalid("kty", "missing: \"RSA\", \"EC\" or \"oct\"");
  const std::string t = kty->get<std::string>();
  if (t == "RSA-HSM" || t == "EC-HSM" || t == "oct-HSM")
    return invalid("kty", "\"" + t + "\": keys here are sealed by the vault's key-encryption key, not kept inside "
                   "an HSM; use \"" + t.substr(0, t.size() - 4) + "\"");
  auto size = body.find("key_size");
  if (size != body.end() && (!size->is_number_unsigned() || size->get<uint64_t>() > 65536))
    return invalid("key_size", "must be a whole number of bits (2048, 3072, 4096 for RSA; 256 for oct)");
  auto crv = body.find("crv");
  if (crv != body.end() && !crv->is_string()) return invalid("crv", "must be \"P-256\" or \"P-384\"");
  if (t == "RSA") {
    k.spec.kind = crypto::KeyKind::rsa;
    k.spec.bits = size == body.end() ? 2048 : size->get<int>();
    if (k.spec.bits != 2048 && k.spec.bits != 3072 && k.spec.bits != 4096)
      return invalid("key_size", std::to_string(k.spec.bits) + ": RSA keys are 2048, 3072 or 4096 bits");
    if (crv != body.end()) return invalid("crv", "only for EC keys");
    if (auto e = body.find("public_exponent"); e != body.end() && !(e->is_number_unsigned() && e->get<uint64_t>() == 65537))
      return invalid("public_exponent", "only 65537 is supported");
  } else if (t == "EC") {
    k.spec.kind = crypto::KeyKind::ec;
    const std::string c = crv == body.end() ? "P-256" : crv->get<std::string>();
    if (c == "P-256") {
      k.spec.curve = crypto::Curve::p256;
      k.spec.bits = 256;
    } else if (c == "P-384") {
      k.spec.curve = crypto::Curve::p384;
      k.spec.bits = 384;
    } else {
      return invalid("crv", "\"" + c + "\": EC keys are P-256 or P-384");
    }
    if (size != body.end()) return invalid("key_size", "not for EC keys (the curve decides)");
  } else if (t == "oct") {
    k.spec.kind = crypto::KeyKind::oct;
    k.spec.bits = size == body.end() ? 256 : size->get<int>();
    if (k.spec.bits != 256) return invalid("key_size", std::to_string(k.spec.bits) + ": oct keys are 256 bits (AES-256)");
    if (crv != body.end()) return invalid("crv", "only for EC keys");
  } else {
    return invalid("kty", "\"" + t + "\": expected \"RSA\", \"EC\" or \"oct\"");
  }
  if (body.contains("public_exponent") && t != "RSA") return invalid("public_exponent", "only for RSA keys");
  if (auto st = common_members(body, k); !st) return st.take_error();
  return k;
}

Result<ImportRequest> parse_import_request(const json& body) {
  if (auto st = only_members(body, "", {"key", "key_pem", "attributes", "release_policy", "tags", "key_ops", "Hsm"});
      !st)
    return st.take_error();
  if (auto h = body.find("Hsm"); h != body.end() && !(h->is_boolean() && !h->get<bool>()))
    return invalid("Hsm", "true is not supported: keys here are sealed by the vault's key-encryption key");
  const bool has_jwk = body.contains("key"), has_pem = body.contains("key_pem");
  if (has_jwk == has_pem) return invalid("key", "give exactly one of \"key\" (a private JWK) and \"key_pem\" (PEM)");
  Result<crypto::KeyMaterial> m = Error{""};
  if (has_jwk) {
    const json& jwk = body["key"];
    if (!jwk.is_object()) return invalid("key", "must be a private JWK object");
    m = crypto::KeyMaterial::import_jwk(jwk);
    if (!m) return with_reason("key-invalid", with_context("key", m.take_error()));
  } else {
    if (!body["key_pem"].is_string()) return invalid("key_pem", "must be PEM text");
    m = crypto::KeyMaterial::import_pem(body["key_pem"].get<std::string>());
    if (!m) return with_reason("key-invalid", with_context("key_pem", m.take_error()));
  }
  keys::NewKey k;
  k.spec = m->spec();
  if (auto st = common_members(body, k); !st) return st.take_error();
  return ImportRequest{std::move(k), std::move(*m)};
}

Result<keys::KeyUpdate> parse_update_request(const json& body) {
  if (auto st = only_members(body, "", {"attributes", "release_policy", "tags", "key_ops"}); !st) return st.take_error();
  keys::KeyUpdate u;
  if (auto it = body.find("attributes"); it != body.end()) {
    if (!it->is_object()) return invalid("attributes", "must be an object");
    if (auto st = only_members(*it, "attributes", {"enabled", "exportable", "nbf", "exp"}); !st) return st.take_error();
    auto en = opt_bool(*it, "enabled", "attributes");
    if (!en) return en.take_error();
    u.enabled = *en;
    auto ex = opt_bool(*it, "exportable", "attributes");
    if (!ex) return ex.take_error();
    u.exportable = *ex;
    for (const char* name : {"nbf", "exp"}) {
      if (!it->contains(name)) continue;
      auto t = opt_time(*it, name, "attributes");
      if (!t) return t.take_error();
      (std::string(name) == "nbf" ? u.not_before : u.expires) = *t;
    }
  }
  if (auto it = body.find("release_policy"); it != body.end()) {
    auto p = parse_release_policy(*it);
    if (!p) return p.take_error();
    u.release_policy = std::move(*p);
  }
  if (auto it = body.find("tags"); it != body.end()) {
    auto t = tags(*it);
    if (!t) return t.take_error();
    u.tags = std::move(*t);
  }
  if (auto it = body.find("key_ops"); it != body.end()) {
    auto ops = key_ops(*it);
    if (!ops) return ops.take_error();
    u.key_ops = std::move(*ops);
  }
  return u;
}

}  // namespace tl::server
