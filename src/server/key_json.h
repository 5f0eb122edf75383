// The key vault's JSON shapes (docs/keyvault-api.md): key bundles out, create /
// import / update requests in. Request errors carry reason "key-invalid" or
// "release-policy-invalid" and name the member.
#pragma once

#include <string>

#include <nlohmann/json.hpp>

#include "common/result.h"
#include "keys/audit.h"
#include "keys/vault.h"

namespace tl::server {

// "<base>/keys/<name>/<version>" (version empty: without it).
std::string key_id(const std::string& base_url, const std::string& name, const std::string& version);

// {"key":{kid,kty,key_ops,…public members},"attributes":{…},"release_policy"?,"tags"}
nlohmann::json key_bundle(const keys::KeyVersion& k, const std::string& base_url, int retention_days);
// {"kid" (no version for lists of keys, with it for versions),"attributes","tags"}
nlohmann::json key_item(const keys::KeyVersion& k, const std::string& base_url, bool with_version,
                        int retention_days);
nlohmann::json deleted_bundle(const keys::DeletedKey& d, const std::string& base_url, int retention_days);
nlohmann::json release_policy_json(const keys::ReleasePolicyDoc& p);
nlohmann::json audit_entry_json(const keys::AuditEntry& e);

// POST /keys/{name}/create
Result<keys::NewKey> parse_create_request(const nlohmann::json& body);
// PUT /keys/{name}: the attributes, and the material from "key" (JWK) or "key_pem".
struct ImportRequest {
  keys::NewKey attributes;
  crypto::KeyMaterial material;
};
Result<ImportRequest> parse_import_request(const nlohmann::json& body);
// PATCH /keys/{name}[/{version}]
Result<keys::KeyUpdate> parse_update_request(const nlohmann::json& body);
// {"data": base64url text or a JSON object, "immutable"?, "contentType"?}
Result<keys::ReleasePolicyDoc> parse_release_policy(const nlohmann::json& j);

}  // namespace tl::server
