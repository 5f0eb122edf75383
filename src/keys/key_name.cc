// Key names, version ids, key_ops and tags: the vault's input rules.
#include <algorithm>
#include <set>

#include "common/rfc3339.h"
#include "crypto/secret_bytes.h"
#include "keys/internal.h"

namespace tl::keys::detail {

Status check_key_name(std::string_view name) {
  if (name.empty() || name.size() > 127) {
    return Error{"key name must be 1-127 characters of 0-9, a-z, A-Z and '-' (got " + std::to_string(name.size()) +
                     " characters)",
                 "key-invalid"};
  }
  for (size_t i = 0; i < name.size(); ++i) {
    const char c = name[i];
    const bool ok = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '-';
    if (!ok) {
      return Error{"key name: character " + std::to_string(i) + " is not one of 0-9, a-z, A-Z and '-'",
                   "key-invalid"};
    }
  }
  return {};
}

Result<std::string> new_version_id() {
  // Not secret, but unpredictable ids cost nothing and the CSPRNG is at hand.
  TL_KEYS_ASSIGN(r, crypto::random_secret(16));
  return to_hex(r.view());
}

std::string material_aad(std::string_view name, std::string_view version, bool exportable) {
  // exportable never changes after a version is made, so it is bound here: a
  // row edited to exportable by someone without the KEK no longer unseals.
  std::string aad = "tlaunchd-key/";
  aad += name;
  aad += '/';
  aad += version;
  aad += exportable ? "/exportable" : "/not-exportable";
  return aad;
}

Result<std::vector<std::string>> resolve_key_ops(crypto::KeyKind kind, const std::vector<std::string>& ops) {
  std::vector<std::string> supported = crypto::supported_key_ops(kind);
  if (ops.empty()) return supported;
  std::set<std::string> seen;
  for (size_t i = 0; i < ops.size(); ++i) {
    const std::string& op = ops[i];
    if (std::find(supported.begin(), supported.end(), op) == supported.end()) {
      std::string list;
      for (const auto& s : supported) list += (list.empty() ? "" : ", ") + s;
      return Error{"key_ops[" + std::to_string(i) + "]: \"" + op + "\" is not an operation of a " +
                       std::string(crypto::kty_name(kind)) + " key (" + list + ")",
                   "key-invalid"};
    }
    if (!seen.insert(op).second) {
      return Error{"key_ops[" + std::to_string(i) + "]: \"" + op + "\" is given twice", "key-invalid"};
    }
  }
  return ops;
}

Status check_tags(const std::map<std::string, std::string>& tags) {
  if (tags.size() > 15) {
    return Error{"tags: at most 15 tags (got " + std::to_string(tags.size()) + ")", "key-invalid"};
  }
  for (const auto& [k, v] : tags) {
    if (k.empty() || k.size() > 512) {
      return Error{"tags: a tag name must be 1-512 characters (got " + std::to_string(k.size()) + ")", "key-invalid"};
    }
    if (v.size() > 256) {
      return Error{"tags." + k + ": a tag value must be at most 256 characters (got " + std::to_string(v.size()) + ")",
                   "key-invalid"};
    }
  }
  return {};
}

Status check_validity(const std::optional<int64_t>& nbf, const std::optional<int64_t>& exp) {
  if (nbf && exp && *exp <= *nbf) {
    return Error{"attributes: exp (" + format_rfc3339(*exp) + ") must be after nbf (" + format_rfc3339(*nbf) +
                     "): the key could never be used",
                 "key-invalid"};
  }
  return {};
}

}  // namespace tl::keys::detail
