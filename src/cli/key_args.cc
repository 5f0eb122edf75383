#include "cli/key_args.h"

#include <algorithm>
#include <charconv>
#include <set>

#include "cli/fleet_args.h"
#include "common/rfc3339.h"
#include "token/base64url.h"

namespace tl::cli {

namespace {

// Files the key commands read (policies, PEM, JWK, tokens) are small; a larger
// one is a mistake (the wrong file), not something to send.
constexpr size_t kMaxInputFileBytes = 64 * 1024;

const std::vector<std::string> kKeyOps = {"encrypt", "decrypt", "sign", "verify", "wrapKey", "unwrapKey"};
const std::vector<std::string> kAccessOps = {"get",     "list",  "create", "import",  "update", "delete",
                                             "recover", "purge", "rotate", "release", "audit",  "all"};
const std::vector<std::string> kEncNames = {"RSA_AES_KEY_WRAP_256", "RSA_AES_KEY_WRAP_384", "CKM_RSA_AES_KEY_WRAP"};

std::string joined(const std::vector<std::string>& items, const char* sep) {
  std::string out;
  for (const auto& i : items) out += (out.empty() ? "" : sep) + i;
  return out;
}

bool is_lower_hex(const std::string& s) { return s.find_first_not_of("0123456789abcdef") == std::string::npos; }

Result<std::string> read_small_file(const std::string& what, const std::string& path) {
  auto bytes = read_file_bytes(path);
  if (!bytes) return usage_error(what + ": " + bytes.error().message);
  if (bytes->empty()) return usage_error(what + ": " + path + " is empty");
  if (bytes->size() > kMaxInputFileBytes) {
    return usage_error(what + ": " + path + " has " + std::to_string(bytes->size()) + " bytes, more than " +
                       std::to_string(kMaxInputFileBytes));
  }
  return std::string(bytes->begin(), bytes->end());
}

// "a,b,c" against `allowed`, each item once, in the given order.
Result<Json> parse_list(const std::string& option, const std::string& list, const std::vector<std::string>& allowed) {
  Json out = Json::array();
  std::set<std::string> seen;
  size_t start = 0;
  for (;;) {
    const size_t comma = list.find(',', start);
    const std::string item = list.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
    if (std::find(allowed.begin(), allowed.end(), item) == allowed.end()) {
      return usage_error(option + " '" + list + "': '" + item + "' is not one of " + joined(allowed, ","));
    }
    if (!seen.insert(item).second) return usage_error(option + " '" + list + "': '" + item + "' given twice");
    out.push_back(item);
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  return out;
}

Status exclusive(const ParsedOptions& o, const char* a, const char* b) {
  if (o.has(a) && o.has(b)) return usage_error(std::string(a) + " and " + b + " exclude each other");
  return {};
}

}  // namespace

Status check_key_name(const std::string& name) {
  const bool ok = !name.empty() && name.size() <= 127 &&
                  name.find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-") ==
                      std::string::npos;
  if (!ok) return usage_error("key name '" + name + "' is not valid: 1-127 of A-Z a-z 0-9 -");
  return {};
}

std::string KeyRef::path() const { return "/keys/" + name + (version.empty() ? "" : "/" + version); }

Result<KeyRef> parse_key_ref(const std::string& text, bool version_allowed) {
  KeyRef ref;
  const size_t slash = text.find('/');
  ref.name = text.substr(0, slash);
  if (auto s = check_key_name(ref.name); !s) return s.take_error();
  if (slash == std::string::npos) return ref;
  if (!version_allowed) return usage_error("'" + text + "': give the key's name only, without a version");
  ref.version = text.substr(slash + 1);
  if (ref.version.size() != 32 || !is_lower_hex(ref.version)) {
    return usage_error("'" + text + "': the version must be 32 lower-case hex digits");
  }
  return ref;
}

Status check_token_name(const std::string& name) {
  const bool ok = !name.empty() && name.size() <= 64 &&
                  name.find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._-") ==
                      std::string::npos;
  if (!ok) return usage_error("token name '" + name + "' is not valid: 1-64 of A-Z a-z 0-9 . _ -");
  return {};
}

Status check_identity(const std::string& identity) {
  auto bad = [&identity](const std::string& why) {
    return usage_error("identity '" + identity + "' " + why +
                       " (token:NAME, cert:sha256:<64 hex digits> or vm:VMID)");
  };
  if (identity.starts_with("token:")) {
    if (!check_token_name(identity.substr(6))) return bad("names no valid token");
    return {};
  }
  if (identity.starts_with("cert:sha256:")) {
    const std::string hex = identity.substr(12);
    if (hex.size() != 64 || !is_lower_hex(hex)) return bad("needs 64 lower-case hex digits after cert:sha256:");
    return {};
  }
  if (identity.starts_with("vm:")) {
    const std::string id = identity.substr(3);
    const bool printable = std::all_of(id.begin(), id.end(), [](char c) { return c > 0x20 && c < 0x7f; });
    if (id.empty() || id.size() > 128 || !printable) return bad("needs a VM id after vm:");
    return {};
  }
  return bad("is not of a known kind");
}

Status check_scope(const std::string& scope) {
  if (scope == "*") return {};
  if (!check_key_name(scope)) return usage_error("--scope '" + scope + "' is neither '*' nor a key name");
  return {};
}

Result<std::vector<std::string>> take_repeated(Args& args, const std::string& option) {
  std::vector<std::string> values;
  Args rest;
  bool positional_only = false;
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    if (positional_only) {
      rest.push_back(a);
    } else if (a == "--") {
      positional_only = true;
      rest.push_back(a);
    } else if (a == option) {
      if (i + 1 >= args.size()) return usage_error("option " + option + " needs a value");
      values.push_back(args[++i]);
    } else if (a.starts_with(option + "=")) {
      values.push_back(a.substr(option.size() + 1));
    } else {
      rest.push_back(a);
    }
  }
  args = std::move(rest);
  return values;
}

Result<Json> parse_tags(const std::vector<std::string>& items) {
  Json tags = Json::object();
  for (const auto& item : items) {
    const size_t eq = item.find('=');
    if (eq == std::string::npos || eq == 0) return usage_error("--tag '" + item + "' is not NAME=VALUE");
    const std::string name = item.substr(0, eq);
    if (tags.contains(name)) return usage_error("--tag '" + name + "' given twice");
    tags[name] = item.substr(eq + 1);
  }
  return tags;
}

Result<Json> parse_key_ops(const std::string& list) { return parse_list("--ops", list, kKeyOps); }
Result<Json> parse_access_ops(const std::string& list) { return parse_list("--ops", list, kAccessOps); }

const std::vector<std::string>& release_enc_names() { return kEncNames; }

Result<Json> release_policy_from_file(const std::string& path, bool immutable) {
  auto text = read_small_file("--policy", path);
  if (!text) return text.take_error();
  const Json policy = Json::parse(*text, nullptr, false);
  if (policy.is_discarded()) return usage_error("--policy: " + path + " is not JSON");
  if (!policy.is_object()) return usage_error("--policy: " + path + " holds JSON that is not an object");
  Json out = Json::object();
  out["contentType"] = "application/json; charset=utf-8";
  out["data"] = token::base64url_encode(ByteView(reinterpret_cast<const uint8_t*>(text->data()), text->size()));
  out["immutable"] = immutable;
  return out;
}

Status add_key_attributes(const ParsedOptions& o, const Json& tags, Json& body) {
  const auto policy = o.value("--policy");
  // The vault's rules (exportable-needs-policy, policy-needs-exportable),
  // checked here so the mistake costs no request.
  if (o.has("--exportable") && !policy) return usage_error("--exportable needs --policy FILE (the release policy)");
  if (policy && !o.has("--exportable")) return usage_error("--policy is only for --exportable keys");
  if (o.has("--immutable") && !policy) return usage_error("--immutable needs --policy FILE");
  if (auto ops = o.value("--ops")) {
    auto list = parse_key_ops(*ops);
    if (!list) return list.take_error();
    body["key_ops"] = std::move(*list);
  }
  Json attributes = Json::object();
  attributes["enabled"] = !o.has("--disabled");
  attributes["exportable"] = o.has("--exportable");
  body["attributes"] = std::move(attributes);
  if (policy) {
    auto p = release_policy_from_file(*policy, o.has("--immutable"));
    if (!p) return p.take_error();
    body["release_policy"] = std::move(*p);
  }
  if (!tags.empty()) body["tags"] = tags;
  return {};
}

Result<Json> create_key_body(const ParsedOptions& o, const Json& tags) {
  auto kty = o.value("--kty");
  if (!kty) return usage_error("--kty RSA|EC|oct is required");
  if (*kty != "RSA" && *kty != "EC" && *kty != "oct") {
    return usage_error("--kty takes RSA|EC|oct, not '" + *kty + "' (-HSM types are refused: the vault seals keys, "
                       "it does not keep them in an HSM)");
  }
  Json body = Json::object();
  body["kty"] = *kty;
  if (auto size = o.value("--size")) {
    if (*kty != "RSA") return usage_error("--size is for RSA keys (EC keys take --curve; oct keys are 256 bits)");
    if (*size != "2048" && *size != "3072" && *size != "4096") {
      return usage_error("--size takes 2048|3072|4096, not '" + *size + "'");
    }
    body["key_size"] = std::stoi(*size);
  }
  if (auto curve = o.value("--curve")) {
    if (*kty != "EC") return usage_error("--curve is for EC keys");
    if (*curve != "P-256" && *curve != "P-384") return usage_error("--curve takes P-256|P-384, not '" + *curve + "'");
    body["crv"] = *curve;
  }
  if (auto s = add_key_attributes(o, tags, body); !s) return s.take_error();
  return body;
}

Result<Json> import_key_body(const ParsedOptions& o, const Json& tags) {
  const auto pem = o.value("--pem");
  const auto jwk = o.value("--jwk");
  if (pem.has_value() == jwk.has_value()) return usage_error("give exactly one of --pem FILE and --jwk FILE");
  Json body = Json::object();
  if (pem) {
    auto text = read_small_file("--pem", *pem);
    if (!text) return text.take_error();
    if (text->find("-----BEGIN ") == std::string::npos) return usage_error("--pem: " + *pem + " holds no PEM block");
    body["key_pem"] = std::move(*text);
  } else {
    auto text = read_small_file("--jwk", *jwk);
    if (!text) return text.take_error();
    Json key = Json::parse(*text, nullptr, false);
    if (!key.is_object() || !key.contains("kty") || !key["kty"].is_string()) {
      return usage_error("--jwk: " + *jwk + " is not a JSON object with a \"kty\" string (a JWK)");
    }
    body["key"] = std::move(key);
  }
  if (auto s = add_key_attributes(o, tags, body); !s) return s.take_error();
  return body;
}

Result<Json> update_key_body(const ParsedOptions& o, const Json& tags) {
  if (auto s = exclusive(o, "--enable", "--disable"); !s) return s.take_error();
  if (!o.has("--enable") && !o.has("--disable") && tags.empty()) {
    return usage_error("nothing to change: give --enable, --disable or --tag");
  }
  Json body = Json::object();
  if (o.has("--enable") || o.has("--disable")) body["attributes"] = {{"enabled", o.has("--enable")}};
  if (!tags.empty()) body["tags"] = tags;
  return body;
}

Result<Json> set_policy_body(const ParsedOptions& o) {
  auto path = o.value("--policy");
  if (!path) return usage_error("--policy FILE is required");
  auto p = release_policy_from_file(*path, o.has("--immutable"));
  if (!p) return p.take_error();
  Json body = Json::object();
  body["release_policy"] = std::move(*p);
  return body;
}

Result<Json> release_body(const ParsedOptions& o) {
  auto path = o.value("--target");
  if (!path) return usage_error("--target FILE (an attestation token) is required");
  auto text = read_small_file("--target", *path);
  if (!text) return text.take_error();
  // Trim what editors and `tlaunch-agent attest --once > file` leave around it.
  const auto first = text->find_first_not_of(" \t\r\n");
  const auto last = text->find_last_not_of(" \t\r\n");
  const std::string jwt = first == std::string::npos ? "" : text->substr(first, last - first + 1);
  const bool chars_ok = !jwt.empty() && jwt.find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
                                                              "0123456789-_.") == std::string::npos;
  if (!chars_ok || std::count(jwt.begin(), jwt.end(), '.') != 2) {
    return usage_error("--target: " + *path + " does not hold one JWT (three base64url parts joined by '.')");
  }
  Json body = Json::object();
  body["target"] = jwt;
  auto enc = one_of(o, "--enc", kEncNames);
  if (!enc) return enc.take_error();
  if (*enc) body["enc"] = **enc;
  if (auto nonce = o.value("--nonce")) {
    if (nonce->empty() || nonce->size() > 1024) return usage_error("--nonce must have 1 to 1024 characters");
    body["nonce"] = *nonce;
  }
  return body;
}

Result<Json> token_create_body(const std::string& name, const ParsedOptions& o) {
  if (auto s = check_token_name(name); !s) return s.take_error();
  Json body = Json::object();
  body["name"] = name;
  if (auto expires = o.value("--expires")) {
    if (auto t = parse_rfc3339(*expires); !t) {
      return usage_error("--expires '" + *expires + "': " + t.error().message + " (give e.g. 2027-01-31T00:00:00Z)");
    }
    body["expiresAt"] = *expires;
  }
  return body;
}

Result<Json> access_set_body(const std::string& identity, const ParsedOptions& o) {
  if (auto s = check_identity(identity); !s) return s.take_error();
  auto scope = o.value("--scope");
  if (!scope) return usage_error("--scope '*'|KEY is required");
  if (auto s = check_scope(*scope); !s) return s.take_error();
  auto ops_text = o.value("--ops");
  if (!ops_text) return usage_error("--ops LIST is required (e.g. get,release; 'all' for every operation)");
  auto ops = parse_access_ops(*ops_text);
  if (!ops) return ops.take_error();
  Json body = Json::object();
  body["identity"] = identity;
  body["scope"] = *scope;
  body["operations"] = std::move(*ops);
  return body;
}

Result<int64_t> audit_limit(const ParsedOptions& o) {
  auto text = o.value("--limit");
  if (!text) return int64_t{100};
  int64_t value = 0;
  const char* end = text->data() + text->size();
  auto [ptr, ec] = std::from_chars(text->data(), end, value);
  if (text->empty() || ec != std::errc{} || ptr != end || value < 1 || value > 100000) {
    return usage_error("--limit must be an integer 1-100000, not '" + *text + "'");
  }
  return value;
}

Result<std::string> audit_path(const ParsedOptions& o, int64_t page_limit) {
  if (auto s = exclusive(o, "--denied", "--allowed"); !s) return s.take_error();
  if (o.positionals.size() > 1) return usage_error("unexpected argument '" + o.positionals[1] + "'");
  std::string key;
  if (!o.positionals.empty()) {
    key = o.positionals[0];
    if (auto s = check_key_name(key); !s) return s.take_error();
  }
  const std::string outcome = o.has("--denied") ? "denied" : o.has("--allowed") ? "allowed" : "";
  std::string after;
  if (auto a = o.value("--after")) {
    auto id = positive_integer("--after", *a);
    if (!id) return id.take_error();
    after = std::to_string(*id);
  }
  return with_query("/vault/audit", {{"key", key},
                                     {"outcome", outcome},
                                     {"after", after},
                                     {"limit", std::to_string(page_limit)}});
}

}  // namespace tl::cli
