#include "cli/key_output.h"

#include <bit>
#include <cstdio>

#include "cli/fleet_output.h"
#include "token/base64url.h"

namespace tl::cli {

namespace {

std::string tags_text(const Json& tags) {
  if (!tags.is_object() || tags.empty()) return "-";
  std::string out;
  for (const auto& [k, v] : tags.items()) out += (out.empty() ? "" : ",") + k + "=" + text(v);
  return text(Json(out));
}

std::string list_text(const Json& items) {
  if (!items.is_array() || items.empty()) return "-";
  std::string out;
  for (const auto& i : items) out += (out.empty() ? "" : ",") + text(i);
  return out;
}

// RSA modulus bits from the JWK's "n"; "-" when it does not decode.
std::string rsa_bits(const Json& key) {
  const Json& n = field(key, "n");
  if (!n.is_string()) return "-";
  auto bytes = token::base64url_decode(n.get<std::string>());
  if (!bytes) return "-";
  size_t i = 0;
  while (i < bytes->size() && (*bytes)[i] == 0) ++i;
  if (i == bytes->size()) return "-";
  const size_t bits = (bytes->size() - i - 1) * 8 + static_cast<size_t>(std::bit_width(unsigned{(*bytes)[i]}));
  return std::to_string(bits);
}

// The policy as the server holds it: base64url of JSON (or a JSON object), shown compact.
std::string policy_text(const Json& release_policy) {
  const Json& data = field(release_policy, "data");
  if (data.is_object()) return text(Json(data.dump()));
  if (!data.is_string()) return "-";
  auto bytes = token::base64url_decode(data.get<std::string>());
  if (!bytes) return "(data is not base64url)";
  const Json j = Json::parse(bytes->begin(), bytes->end(), nullptr, false);
  if (j.is_discarded()) return "(data is not JSON)";
  return text(Json(j.dump(-1, ' ', false, Json::error_handler_t::replace)));
}

// A deleted bundle's key name, from its key's kid.
std::string name_of(const Json& item) {
  const Json& key = field(item, "key");
  return kid_name_version(text(key.is_object() ? key : item, "kid")).first;
}

}  // namespace

std::pair<std::string, std::string> kid_name_version(const std::string& kid) {
  const size_t at = kid.rfind("/keys/");
  if (at == std::string::npos) return {};
  const std::string rest = kid.substr(at + 6);
  const size_t slash = rest.find('/');
  if (slash == std::string::npos) return {rest, ""};
  return {rest.substr(0, slash), rest.substr(slash + 1)};
}

void print_key_bundle(const Json& b) {
  const Json& key = field(b, "key");
  const Json& attrs = field(b, "attributes");
  const auto [name, version] = kid_name_version(text(key, "kid"));
  print_field("kid", text(key, "kid"));
  print_field("name", name.empty() ? "-" : text(Json(name)));
  print_field("version", version.empty() ? "-" : text(Json(version)));
  const std::string kty = text(key, "kty");
  print_field("kty", kty);
  if (kty == "RSA") print_field("size", rsa_bits(key));
  if (kty == "EC") print_field("crv", text(key, "crv"));
  print_field("key_ops", list_text(field(key, "key_ops")));
  print_field("enabled", text(attrs, "enabled"));
  print_field("exportable", text(attrs, "exportable"));
  print_field("created", time_text(attrs, "created"));
  print_field("updated", time_text(attrs, "updated"));
  print_field("nbf", time_text(attrs, "nbf"));
  print_field("exp", time_text(attrs, "exp"));
  print_field("recoveryLevel", text(attrs, "recoveryLevel"));
  const Json& policy = field(b, "release_policy");
  if (policy.is_object()) {
    print_field("release_policy", "");
    print_field("immutable", text(policy, "immutable"), 2);
    print_field("policy", policy_text(policy), 2);
  } else {
    print_field("release_policy", "-");
  }
  const Json& tags = field(b, "tags");
  if (tags.is_object() && !tags.empty()) {
    print_field("tags", "");
    for (const auto& [k, v] : tags.items()) print_field(text(Json(k)), text(v), 2);
  } else {
    print_field("tags", "-");
  }
  if (b.is_object() && b.contains("deletedDate")) {
    print_field("recoveryId", text(b, "recoveryId"));
    print_field("deletedDate", time_text(b, "deletedDate"));
    print_field("scheduledPurgeDate", time_text(b, "scheduledPurgeDate"));
  }
}

void print_key_list(const Json& list, bool by_version) {
  Table t({by_version ? "VERSION" : "NAME", "ENABLED", "EXPORTABLE", "CREATED", "UPDATED", "TAGS"});
  for (const auto& item : field(list, "value")) {
    const auto [name, version] = kid_name_version(text(item, "kid"));
    const Json& attrs = field(item, "attributes");
    t.add({text(Json(by_version ? version : name)), text(attrs, "enabled"), text(attrs, "exportable"),
           time_text(attrs, "created"), time_text(attrs, "updated"), tags_text(field(item, "tags"))});
  }
  t.print();
}

void print_deleted_key_list(const Json& list) {
  Table t({"NAME", "DELETED", "PURGE-AT", "RECOVERY-ID"});
  for (const auto& item : field(list, "value")) {
    t.add({text(Json(name_of(item))), time_text(item, "deletedDate"), time_text(item, "scheduledPurgeDate"),
           text(item, "recoveryId")});
  }
  t.print();
}

// Audit members the server leaves empty when they do not apply (no reason for
// an allowed entry, no clause without a policy decision): "-", not "".
static std::string or_dash(const Json& object, std::string_view key) {
  const Json& v = field(object, key);
  return v.is_string() && v.get_ref<const std::string&>().empty() ? "-" : text(object, key);
}

void print_audit(const Json& list) {
  Table t({"ID", "AT", "CALLER", "OPERATION", "KEY", "OUTCOME", "REASON", "CLAUSE"});
  for (const auto& e : field(list, "value")) {
    std::string key = text(e, "keyName");
    if (const Json& v = field(e, "keyVersion"); v.is_string() && !v.get_ref<const std::string&>().empty()) {
      key += "/" + text(v);
    }
    t.add({text(e, "id"), time_text(e, "at"), text(e, "caller"), text(e, "operation"), key, text(e, "outcome"),
           or_dash(e, "reason"), or_dash(e, "clause")});
  }
  t.print();
}

void print_token_list(const Json& list) {
  Table t({"NAME", "CREATED", "EXPIRES"});
  for (const auto& e : field(list, "value")) t.add({text(e, "name"), time_text(e, "createdAt"), time_text(e, "expiresAt")});
  t.print();
}

void print_access_list(const Json& list) {
  Table t({"IDENTITY", "SCOPE", "OPERATIONS", "CREATED"});
  for (const auto& e : field(list, "value")) {
    t.add({text(e, "identity"), text(e, "scope"), list_text(field(e, "operations")), time_text(e, "createdAt")});
  }
  t.print();
}

}  // namespace tl::cli
