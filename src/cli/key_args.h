// Checks of the `tlaunch key` commands' arguments and the request bodies they
// make (docs/keyvault-api.md), before anything is sent: a typo is a usage
// error (exit 2), never a request the server has to refuse.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "cli/api_client.h"
#include "cli/options.h"
#include "common/result.h"

namespace tl::cli {

// Key Vault's key name rule: 1-127 of A-Z a-z 0-9 and '-'.
Status check_key_name(const std::string& name);

// NAME or NAME/VERSION, VERSION being 32 lower-case hex digits (the vault's).
struct KeyRef {
  std::string name;
  std::string version;  // empty: the newest enabled version
  std::string path() const;  // "/keys/NAME[/VERSION]"
};
Result<KeyRef> parse_key_ref(const std::string& text, bool version_allowed = true);

// An API token name: 1-64 of A-Z a-z 0-9 . _ - (as tlaunchd issues them).
Status check_token_name(const std::string& name);
// An access policy identity: "token:NAME", "cert:sha256:<64 hex>" or "vm:VMID".
Status check_identity(const std::string& identity);
// An access policy scope: "*" or a key name.
Status check_scope(const std::string& scope);

// Removes every "--tag K=V" and "--tag=K=V" before a "--" from `args` and
// returns the values: the option parser takes each option once, and tags
// repeat. A trailing "--tag" without a value is a usage error.
Result<std::vector<std::string>> take_repeated(Args& args, const std::string& option);
// ["k=v", …] → {"k":"v", …}: K non-empty, each K once; V may be empty.
Result<Json> parse_tags(const std::vector<std::string>& items);

// "encrypt,decrypt" → ["encrypt","decrypt"]: Key Vault's key operations
// (encrypt decrypt sign verify wrapKey unwrapKey), each once.
Result<Json> parse_key_ops(const std::string& list);
// "get,release" → ["get","release"]: access operations (get list create
// import update delete recover purge rotate release audit, or all), each once.
Result<Json> parse_access_ops(const std::string& list);

// The release policy in FILE (a JSON object, at most 64 KiB) as the API takes
// it: {"contentType":"application/json; charset=utf-8","data":"<base64url of
// the file's bytes>","immutable":…}. The bytes go unchanged: the server parses
// and keeps them.
Result<Json> release_policy_from_file(const std::string& path, bool immutable);

// Bodies. Each reads the options its command takes (docs/cli.md).
// create: --kty RSA|EC|oct, --size (RSA), --curve (EC), and the attribute
// options below.
Result<Json> create_key_body(const ParsedOptions& o, const Json& tags);
// import: --pem FILE | --jwk FILE, and the attribute options.
Result<Json> import_key_body(const ParsedOptions& o, const Json& tags);
// The attribute options of create and import: --exportable (needs --policy),
// --policy FILE (needs --exportable), --immutable (needs --policy), --ops,
// --disabled, tags.
Status add_key_attributes(const ParsedOptions& o, const Json& tags, Json& body);
// update: --enable | --disable, tags (they replace the version's tags).
Result<Json> update_key_body(const ParsedOptions& o, const Json& tags);
// set-policy: --policy FILE [--immutable].
Result<Json> set_policy_body(const ParsedOptions& o);
// release: --target FILE (an attestation JWT) [--enc E] [--nonce N].
Result<Json> release_body(const ParsedOptions& o);
// token create: NAME [--expires RFC3339].
Result<Json> token_create_body(const std::string& name, const ParsedOptions& o);
// access set: IDENTITY --scope S --ops LIST.
Result<Json> access_set_body(const std::string& identity, const ParsedOptions& o);

// GET /vault/audit's path and query for [NAME] [--denied|--allowed]
// [--after ID], a page of `page_limit` entries.
Result<std::string> audit_path(const ParsedOptions& o, int64_t page_limit);
// --limit N (1-100000), default 100: how many entries `key audit` prints.
Result<int64_t> audit_limit(const ParsedOptions& o);

// The release "enc" names, in the API's order.
const std::vector<std::string>& release_enc_names();

}  // namespace tl::cli
