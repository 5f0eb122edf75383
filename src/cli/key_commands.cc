// tlaunch key …: the key vault over tlaunchd's REST API (docs/keyvault-api.md):
// keys and their versions, soft delete, release policies, Secure Key Release
// for an attestation token, the audit log, API tokens and access policies.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <limits>
#include <set>
#include <string>

#include "cli/api_client.h"
#include "cli/commands.h"
#include "cli/fleet_args.h"
#include "cli/fleet_output.h"
#include "cli/key_args.h"
#include "cli/key_output.h"

namespace tl::cli {

namespace {

constexpr const char* kExitStatus =
    "Exit status: 0 done, 1 the server refused (key-not-found, forbidden, release-policy-denied …),\n"
    "2 usage error, unreadable file, or the server cannot be reached.\n";

constexpr const char* kAttributeOptions =
    "  --exportable       the key may be released (needs --policy)\n"
    "  --policy FILE      its release policy: a JSON file (docs/release-policy.md)\n"
    "  --immutable        the release policy can never change\n"
    "  --ops LIST         key operations, e.g. sign,verify (default: all its type supports)\n"
    "  --disabled         create it disabled\n"
    "  --tag NAME=VALUE   a tag (repeat for more)\n";

constexpr const char* kCreateHead =
    "usage: tlaunch key create NAME --kty RSA|EC|oct [--size 2048|3072|4096] [--curve P-256|P-384]\n"
    "                          [--exportable --policy FILE [--immutable]] [--ops LIST] [--disabled]\n"
    "                          [--tag NAME=VALUE]…\n"
    "\n"
    "Create a key (POST /keys/NAME/create): a new one, or a new version of NAME.\n"
    "\n"
    "  --kty T            RSA, EC or oct (256-bit symmetric)\n"
    "  --size BITS        RSA modulus size (server default 2048)\n"
    "  --curve C          EC curve\n";

constexpr const char* kImportHead =
    "usage: tlaunch key import NAME --pem FILE | --jwk FILE [--exportable --policy FILE [--immutable]]\n"
    "                          [--ops LIST] [--disabled] [--tag NAME=VALUE]…\n"
    "\n"
    "Import a private key (PUT /keys/NAME) as a new version of NAME.\n"
    "\n"
    "  --pem FILE         unencrypted PKCS#8, PKCS#1 or SEC 1 PEM\n"
    "  --jwk FILE         a private JWK (RSA, EC P-256/P-384, or oct of 32 bytes)\n";

constexpr const char* kShowHelp =
    "usage: tlaunch key show NAME[/VERSION] [--deleted]\n"
    "\n"
    "Show a key: the newest enabled version, or VERSION. The release policy is\n"
    "shown decoded. With --deleted, a deleted key (GET /deletedkeys/NAME).\n"
    "\n";

constexpr const char* kListHelp =
    "usage: tlaunch key list [--versions NAME | --deleted]\n"
    "\n"
    "List the keys (every page), the versions of NAME (oldest first), or the\n"
    "deleted keys.\n"
    "\n";

constexpr const char* kRotateHelp =
    "usage: tlaunch key rotate NAME\n"
    "\n"
    "A new version of NAME with new material, and the newest version's type,\n"
    "operations, exportability, release policy and tags.\n"
    "\n";

constexpr const char* kUpdateHelp =
    "usage: tlaunch key update NAME[/VERSION] [--enable | --disable] [--tag NAME=VALUE]…\n"
    "\n"
    "Change a version (the newest without VERSION): enable or disable it; --tag\n"
    "replaces its tags with the ones given (as Key Vault's PATCH does).\n"
    "\n";

constexpr const char* kDeleteHelp =
    "usage: tlaunch key delete NAME\n"
    "\n"
    "Soft-delete a key and all its versions: it can be recovered until its\n"
    "scheduled purge date, or purged. Prints the deleted key.\n"
    "\n";

constexpr const char* kRecoverHelp =
    "usage: tlaunch key recover NAME\n"
    "\n"
    "Bring a deleted key back.\n"
    "\n";

constexpr const char* kPurgeHelp =
    "usage: tlaunch key purge NAME\n"
    "\n"
    "Erase a deleted key for good (DELETE /deletedkeys/NAME).\n"
    "\n";

constexpr const char* kSetPolicyHelp =
    "usage: tlaunch key set-policy NAME[/VERSION] --policy FILE [--immutable]\n"
    "\n"
    "Replace the release policy of an exportable key's version (the newest\n"
    "without VERSION). An immutable policy can never change again.\n"
    "\n"
    "  --policy FILE      the policy, a JSON file (docs/release-policy.md)\n"
    "  --immutable        make it immutable\n"
    "\n";

constexpr const char* kReleaseHelp =
    "usage: tlaunch key release NAME[/VERSION] --target FILE [--enc E] [--nonce N] [--out FILE]\n"
    "\n"
    "Secure Key Release for an attestation token: the server checks the key's\n"
    "release policy against the token and answers a JWS whose key_hsm holds the\n"
    "key wrapped to the token's runtime key (only that VM's TPM can unwrap it:\n"
    "there, use 'tlaunch-agent release'). Prints the JWS.\n"
    "\n"
    "  --target FILE      the attestation token (JWT) of the VM to release to\n"
    "  --enc E            RSA_AES_KEY_WRAP_256, RSA_AES_KEY_WRAP_384 or CKM_RSA_AES_KEY_WRAP\n"
    "                     (server default CKM_RSA_AES_KEY_WRAP)\n"
    "  --nonce N          a nonce the server echoes in the JWS\n"
    "  --out FILE         write the JWS to FILE (mode 0600) instead of stdout\n"
    "\n";

constexpr const char* kAuditHelp =
    "usage: tlaunch key audit [NAME] [--denied | --allowed] [--after ID] [--limit N]\n"
    "\n"
    "The vault's audit log, oldest first: who did what to which key, allowed or\n"
    "denied, and why (the release policy clause that decided).\n"
    "\n"
    "  --denied, --allowed  only entries with this outcome\n"
    "  --after ID         only entries after entry ID (to read on from a listing)\n"
    "  --limit N          print at most N entries (default 100)\n"
    "\n";

constexpr const char* kTokenHelp =
    "usage: tlaunch key token create NAME [--expires RFC3339]\n"
    "       tlaunch key token list\n"
    "       tlaunch key token revoke NAME\n"
    "\n"
    "API tokens (admin only). 'create' prints the new token once, on stdout; its\n"
    "identity is token:NAME, with no access until 'tlaunch key access set' grants\n"
    "some. 'revoke' removes the token and its access policies.\n"
    "\n"
    "  --expires T        e.g. 2027-01-31T00:00:00Z (default: never)\n"
    "\n";

constexpr const char* kAccessHelp =
    "usage: tlaunch key access set IDENTITY --scope '*'|KEY --ops LIST\n"
    "       tlaunch key access list\n"
    "       tlaunch key access remove IDENTITY --scope '*'|KEY\n"
    "\n"
    "Access policies (admin only). IDENTITY is token:NAME, cert:sha256:<hex of the\n"
    "client certificate's SHA-256> or vm:VMID (a VM presenting its attestation\n"
    "token). 'set' replaces the operations of IDENTITY on the scope.\n"
    "\n"
    "  --scope S          '*' (every key) or a key name\n"
    "  --ops LIST         get,list,create,import,update,delete,recover,purge,rotate,\n"
    "                     release,audit, or all\n"
    "\n";

const std::string kAttributeFlags[] = {"--exportable", "--immutable", "--disabled"};

std::string help_with_attributes(const char* head) { return std::string(head) + kAttributeOptions + "\n"; }

// The common steps of a key command: --tag taken out (when `tags` is given),
// options parsed, --help answered. nullopt: the command is done (`exit`).
struct Parsed {
  ParsedOptions o;
  Json tags = Json::object();
};

std::optional<Parsed> parse(const Args& in, const OptionSpec& spec, std::string_view cmd, const std::string& help,
                            bool with_tags, int& exit) {
  Args args = in;
  Parsed p;
  if (with_tags) {
    auto items = take_repeated(args, "--tag");
    if (!items) {
      exit = report_failure(cmd, items.error());
      return std::nullopt;
    }
    auto tags = parse_tags(*items);
    if (!tags) {
      exit = report_failure(cmd, tags.error());
      return std::nullopt;
    }
    p.tags = std::move(*tags);
  }
  auto parsed = parse_fleet_options(args, spec);
  if (!parsed) {
    exit = report_failure(cmd, parsed.error());
    return std::nullopt;
  }
  if (!*parsed) {
    exit = print_help(help.c_str(), kExitStatus);
    return std::nullopt;
  }
  p.o = std::move(**parsed);
  return p;
}

// The answer of one request, printed: the server's JSON with --json, else `print`.
int call_and_print(const ParsedOptions& o, std::string_view cmd, std::string_view method, const std::string& path,
                   const Json* body, void (*print)(const Json&)) {
  auto api = ApiClient::from_options(o);
  if (!api) return report_failure(cmd, api.error());
  auto r = api->call(method, path, body);
  if (!r) return report_failure(cmd, r.error());
  if (o.has("--json")) {
    print_json(*r);
  } else {
    print(*r);
  }
  return kExitOk;
}

// A 204 answer: nothing of the server's to print with --json; `done` otherwise.
int call_no_content(const ParsedOptions& o, std::string_view cmd, std::string_view method, const std::string& path,
                    const std::string& done) {
  auto api = ApiClient::from_options(o);
  if (!api) return report_failure(cmd, api.error());
  auto r = api->call(method, path);
  if (!r) return report_failure(cmd, r.error());
  if (!o.has("--json")) std::printf("%s\n", done.c_str());
  return kExitOk;
}

// A nextLink as a path on the server we asked: relative ("/keys?skiptoken=…"),
// or absolute on the same origin (Key Vault writes absolute ones). Anywhere
// else is refused: our token goes with every request.
Result<std::string> next_path(const ApiClient& api, const std::string& link) {
  if (link.starts_with("/") && !link.starts_with("//")) return link;
  std::string base = api.base_url();
  while (base.ends_with("/")) base.pop_back();
  if (link.starts_with(base + "/")) return link.substr(base.size());
  return Error{"the server's nextLink '" + link.substr(0, 200) + "' is not on " + base, "invalid-answer"};
}

// GETs `first` and every nextLink after it, up to `max_items` items, as one
// {"value": […], "nextLink": null}.
Result<Json> get_linked(ApiClient& api, const std::string& first,
                        size_t max_items = std::numeric_limits<size_t>::max()) {
  Json all = Json::array();
  std::string path = first;
  std::set<std::string> seen{first};
  while (all.size() < max_items) {
    auto page = api.get(path);
    if (!page) return page.take_error();
    auto value = page->find("value");
    if (!page->is_object() || value == page->end() || !value->is_array()) {
      return Error{"the answer to GET " + path + " has no \"value\" array", "invalid-answer"};
    }
    for (auto& item : *value) {
      if (all.size() == max_items) break;
      all.push_back(std::move(item));
    }
    auto next = page->find("nextLink");
    if (next == page->end() || next->is_null()) break;
    if (!next->is_string()) return Error{"the answer to GET " + path + " has a nextLink that is not a string", "invalid-answer"};
    auto p = next_path(api, next->get<std::string>());
    if (!p) return p.take_error();
    if (!seen.insert(*p).second) return Error{"the answer to GET " + path + " links to a page already read", "invalid-answer"};
    path = std::move(*p);
  }
  Json out = Json::object();
  out["value"] = std::move(all);
  out["nextLink"] = nullptr;
  return out;
}

Status write_private_file(const std::string& path, const std::string& content) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) return usage_error("--out: cannot create " + path + ": " + std::strerror(errno));
  // An existing file keeps its mode through O_TRUNC: narrow it before writing.
  if (::fchmod(fd, 0600) != 0) {
    const int e = errno;
    ::close(fd);
    return usage_error("--out: cannot restrict " + path + " to mode 0600: " + std::strerror(e));
  }
  size_t done = 0;
  while (done < content.size()) {
    const ssize_t n = ::write(fd, content.data() + done, content.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      const int e = errno;
      ::close(fd);
      return usage_error("--out: cannot write " + path + ": " + std::strerror(e));
    }
    done += static_cast<size_t>(n);
  }
  if (::close(fd) != 0) return usage_error("--out: cannot write " + path + ": " + std::strerror(errno));
  return {};
}

void print_policy_entry(const Json& p) {
  print_field("identity", text(p, "identity"));
  print_field("scope", text(p, "scope"));
  std::string ops;
  for (const auto& op : field(p, "operations")) ops += (ops.empty() ? "" : ",") + text(op);
  print_field("operations", ops.empty() ? "-" : ops);
  print_field("createdAt", time_text(p, "createdAt"));
}

// NAME alone (rotate, delete, recover, purge).
Result<std::string> single_name(const ParsedOptions& o) {
  if (auto s = expect_positionals(o, {"NAME"}); !s) return s.take_error();
  auto ref = parse_key_ref(o.positionals[0], /*version_allowed=*/false);
  if (!ref) return ref.take_error();
  return ref->name;
}

Result<KeyRef> single_ref(const ParsedOptions& o) {
  if (auto s = expect_positionals(o, {"NAME[/VERSION]"}); !s) return s.take_error();
  return parse_key_ref(o.positionals[0]);
}

int create_or_import(const Args& args, bool import) {
  const std::string_view cmd = import ? "key import" : "key create";
  std::set<std::string> values = {"--policy", "--ops"};
  if (import) {
    values.insert({"--pem", "--jwk"});
  } else {
    values.insert({"--kty", "--size", "--curve"});
  }
  int exit = kExitOk;
  auto p = parse(args, fleet_option_spec({std::begin(kAttributeFlags), std::end(kAttributeFlags)}, values), cmd,
                 help_with_attributes(import ? kImportHead : kCreateHead), true, exit);
  if (!p) return exit;
  auto name = single_name(p->o);
  if (!name) return report_failure(cmd, name.error());
  auto body = import ? import_key_body(p->o, p->tags) : create_key_body(p->o, p->tags);
  if (!body) return report_failure(cmd, body.error());
  if (import) return call_and_print(p->o, cmd, "PUT", "/keys/" + *name, &*body, print_key_bundle);
  return call_and_print(p->o, cmd, "POST", "/keys/" + *name + "/create", &*body, print_key_bundle);
}

// rotate / delete / recover: NAME, one request answering a bundle.
int name_command(const Args& args, std::string_view cmd, const char* help, std::string_view method,
                 const std::string& prefix, const std::string& suffix) {
  int exit = kExitOk;
  auto p = parse(args, fleet_option_spec({}, {}), cmd, help, false, exit);
  if (!p) return exit;
  auto name = single_name(p->o);
  if (!name) return report_failure(cmd, name.error());
  return call_and_print(p->o, cmd, method, prefix + *name + suffix, nullptr, print_key_bundle);
}

int token_create(const Args& args) {
  constexpr std::string_view kCmd = "key token create";
  int exit = kExitOk;
  auto p = parse(args, fleet_option_spec({}, {"--expires"}), kCmd, kTokenHelp, false, exit);
  if (!p) return exit;
  if (auto s = expect_positionals(p->o, {"NAME"}); !s) return report_failure(kCmd, s.error());
  auto body = token_create_body(p->o.positionals[0], p->o);
  if (!body) return report_failure(kCmd, body.error());
  auto api = ApiClient::from_options(p->o);
  if (!api) return report_failure(kCmd, api.error());
  auto r = api->call("POST", "/vault/tokens", &*body);
  if (!r) return report_failure(kCmd, r.error());
  if (p->o.has("--json")) {
    print_json(*r);
    return kExitOk;
  }
  const Json& token = field(*r, "token");
  if (!token.is_string()) {
    return report_failure(kCmd, Error{"the answer to POST /vault/tokens has no \"token\"", "invalid-answer"});
  }
  // The token alone on stdout, so `> file` keeps just it; the rest for people on stderr.
  std::printf("%s\n", text(token).c_str());
  std::fprintf(stderr,
               "tlaunch: token %s created (identity token:%s, expires %s); it is not shown again.\n"
               "tlaunch: grant it operations with 'tlaunch key access set token:%s --scope KEY --ops …'\n",
               text(*r, "name").c_str(), text(*r, "name").c_str(), time_text(*r, "expiresAt").c_str(),
               text(*r, "name").c_str());
  return kExitOk;
}

int token_list(const Args& args) {
  constexpr std::string_view kCmd = "key token list";
  int exit = kExitOk;
  auto p = parse(args, fleet_option_spec({}, {}), kCmd, kTokenHelp, false, exit);
  if (!p) return exit;
  if (auto s = expect_positionals(p->o, {}); !s) return report_failure(kCmd, s.error());
  return call_and_print(p->o, kCmd, "GET", "/vault/tokens", nullptr, print_token_list);
}

int token_revoke(const Args& args) {
  constexpr std::string_view kCmd = "key token revoke";
  int exit = kExitOk;
  auto p = parse(args, fleet_option_spec({}, {}), kCmd, kTokenHelp, false, exit);
  if (!p) return exit;
  if (auto s = expect_positionals(p->o, {"NAME"}); !s) return report_failure(kCmd, s.error());
  const std::string& name = p->o.positionals[0];
  if (auto s = check_token_name(name); !s) return report_failure(kCmd, s.error());
  return call_no_content(p->o, kCmd, "DELETE", "/vault/tokens/" + name, "revoked token " + name);
}

int access_set(const Args& args) {
  constexpr std::string_view kCmd = "key access set";
  int exit = kExitOk;
  auto p = parse(args, fleet_option_spec({}, {"--scope", "--ops"}), kCmd, kAccessHelp, false, exit);
  if (!p) return exit;
  if (auto s = expect_positionals(p->o, {"IDENTITY"}); !s) return report_failure(kCmd, s.error());
  auto body = access_set_body(p->o.positionals[0], p->o);
  if (!body) return report_failure(kCmd, body.error());
  return call_and_print(p->o, kCmd, "PUT", "/vault/access-policies", &*body, print_policy_entry);
}

int access_list(const Args& args) {
  constexpr std::string_view kCmd = "key access list";
  int exit = kExitOk;
  auto p = parse(args, fleet_option_spec({}, {}), kCmd, kAccessHelp, false, exit);
  if (!p) return exit;
  if (auto s = expect_positionals(p->o, {}); !s) return report_failure(kCmd, s.error());
  return call_and_print(p->o, kCmd, "GET", "/vault/access-policies", nullptr, print_access_list);
}

int access_remove(const Args& args) {
  constexpr std::string_view kCmd = "key access remove";
  int exit = kExitOk;
  auto p = parse(args, fleet_option_spec({}, {"--scope"}), kCmd, kAccessHelp, false, exit);
  if (!p) return exit;
  if (auto s = expect_positionals(p->o, {"IDENTITY"}); !s) return report_failure(kCmd, s.error());
  const std::string& identity = p->o.positionals[0];
  if (auto s = check_identity(identity); !s) return report_failure(kCmd, s.error());
  auto scope = p->o.value("--scope");
  if (!scope) return report_failure(kCmd, usage_error("--scope '*'|KEY is required"));
  if (auto s = check_scope(*scope); !s) return report_failure(kCmd, s.error());
  return call_no_content(p->o, kCmd, "DELETE",
                         with_query("/vault/access-policies", {{"identity", identity}, {"scope", *scope}}),
                         "removed the access of " + identity + " on " + *scope);
}

// "key token create …" / "key access set …": the third word picks the command.
int dispatch(const Args& args, std::string_view group, const char* help,
             std::initializer_list<std::pair<const char*, int (*)(const Args&)>> subs) {
  if (args.empty()) {
    std::fprintf(stderr, "tlaunch %.*s: needs a subcommand\n\n%s", static_cast<int>(group.size()), group.data(), help);
    return kExitBadInput;
  }
  if (args[0] == "--help" || args[0] == "-h") return print_help(help, kExitStatus);
  for (const auto& [name, run] : subs) {
    if (args[0] == name) return run(Args(args.begin() + 1, args.end()));
  }
  std::fprintf(stderr, "tlaunch %.*s: unknown subcommand '%s'\n\n%s", static_cast<int>(group.size()), group.data(),
               args[0].c_str(), help);
  return kExitBadInput;
}

}  // namespace

int key_create(const Args& args) { return create_or_import(args, false); }
int key_import(const Args& args) { return create_or_import(args, true); }

int key_show(const Args& args) {
  constexpr std::string_view kCmd = "key show";
  int exit = kExitOk;
  auto p = parse(args, fleet_option_spec({"--deleted"}, {}), kCmd, kShowHelp, false, exit);
  if (!p) return exit;
  auto ref = single_ref(p->o);
  if (!ref) return report_failure(kCmd, ref.error());
  if (p->o.has("--deleted")) {
    if (!ref->version.empty()) return report_failure(kCmd, usage_error("--deleted takes a key name without a version"));
    return call_and_print(p->o, kCmd, "GET", "/deletedkeys/" + ref->name, nullptr, print_key_bundle);
  }
  return call_and_print(p->o, kCmd, "GET", ref->path(), nullptr, print_key_bundle);
}

int key_list(const Args& args) {
  constexpr std::string_view kCmd = "key list";
  int exit = kExitOk;
  auto p = parse(args, fleet_option_spec({"--deleted"}, {"--versions"}), kCmd, kListHelp, false, exit);
  if (!p) return exit;
  const ParsedOptions& o = p->o;
  if (auto s = expect_positionals(o, {}); !s) return report_failure(kCmd, s.error());
  const auto versions_of = o.value("--versions");
  if (versions_of && o.has("--deleted")) {
    return report_failure(kCmd, usage_error("--versions and --deleted exclude each other"));
  }
  std::string path = "/keys?maxresults=25";
  if (versions_of) {
    auto ref = parse_key_ref(*versions_of, false);
    if (!ref) return report_failure(kCmd, ref.error());
    path = "/keys/" + ref->name + "/versions";
  } else if (o.has("--deleted")) {
    path = "/deletedkeys";
  }
  auto api = ApiClient::from_options(o);
  if (!api) return report_failure(kCmd, api.error());
  auto all = get_linked(*api, path);
  if (!all) return report_failure(kCmd, all.error());
  if (o.has("--json")) {
    print_json(*all);
  } else if (o.has("--deleted")) {
    print_deleted_key_list(*all);
  } else {
    print_key_list(*all, versions_of.has_value());
  }
  return kExitOk;
}

int key_rotate(const Args& args) { return name_command(args, "key rotate", kRotateHelp, "POST", "/keys/", "/rotate"); }
int key_delete(const Args& args) { return name_command(args, "key delete", kDeleteHelp, "DELETE", "/keys/", ""); }
int key_recover(const Args& args) {
  return name_command(args, "key recover", kRecoverHelp, "POST", "/deletedkeys/", "/recover");
}

int key_purge(const Args& args) {
  constexpr std::string_view kCmd = "key purge";
  int exit = kExitOk;
  auto p = parse(args, fleet_option_spec({}, {}), kCmd, kPurgeHelp, false, exit);
  if (!p) return exit;
  auto name = single_name(p->o);
  if (!name) return report_failure(kCmd, name.error());
  return call_no_content(p->o, kCmd, "DELETE", "/deletedkeys/" + *name, "purged key " + *name);
}

int key_update(const Args& args) {
  constexpr std::string_view kCmd = "key update";
  int exit = kExitOk;
  auto p = parse(args, fleet_option_spec({"--enable", "--disable"}, {}), kCmd, kUpdateHelp, true, exit);
  if (!p) return exit;
  auto ref = single_ref(p->o);
  if (!ref) return report_failure(kCmd, ref.error());
  auto body = update_key_body(p->o, p->tags);
  if (!body) return report_failure(kCmd, body.error());
  return call_and_print(p->o, kCmd, "PATCH", ref->path(), &*body, print_key_bundle);
}

int key_set_policy(const Args& args) {
  constexpr std::string_view kCmd = "key set-policy";
  int exit = kExitOk;
  auto p = parse(args, fleet_option_spec({"--immutable"}, {"--policy"}), kCmd, kSetPolicyHelp, false, exit);
  if (!p) return exit;
  auto ref = single_ref(p->o);
  if (!ref) return report_failure(kCmd, ref.error());
  auto body = set_policy_body(p->o);
  if (!body) return report_failure(kCmd, body.error());
  return call_and_print(p->o, kCmd, "PATCH", ref->path(), &*body, print_key_bundle);
}

int key_release(const Args& args) {
  constexpr std::string_view kCmd = "key release";
  int exit = kExitOk;
  auto p = parse(args, fleet_option_spec({}, {"--target", "--enc", "--nonce", "--out"}), kCmd, kReleaseHelp, false,
                 exit);
  if (!p) return exit;
  const ParsedOptions& o = p->o;
  auto ref = single_ref(o);
  if (!ref) return report_failure(kCmd, ref.error());
  auto body = release_body(o);
  if (!body) return report_failure(kCmd, body.error());
  auto api = ApiClient::from_options(o);
  if (!api) return report_failure(kCmd, api.error());
  auto r = api->call("POST", ref->path() + "/release", &*body);
  if (!r) return report_failure(kCmd, r.error());
  const Json& value = field(*r, "value");
  if (!value.is_string() || value.get_ref<const std::string&>().empty()) {
    return report_failure(kCmd, Error{"the answer to the release has no \"value\" (the JWS)", "invalid-answer"});
  }
  if (auto out = o.value("--out"); out && *out != "-") {
    if (auto s = write_private_file(*out, value.get<std::string>() + "\n"); !s) return report_failure(kCmd, s.error());
    if (o.has("--json")) print_json(*r);
    return kExitOk;
  }
  if (o.has("--json")) {
    print_json(*r);
  } else {
    // A JWS is base64url and dots only; print it as it came (text() would not change it).
    std::printf("%s\n", text(value).c_str());
  }
  return kExitOk;
}

int key_audit(const Args& args) {
  constexpr std::string_view kCmd = "key audit";
  int exit = kExitOk;
  auto p = parse(args, fleet_option_spec({"--denied", "--allowed"}, {"--limit", "--after"}), kCmd, kAuditHelp, false, exit);
  if (!p) return exit;
  auto limit = audit_limit(p->o);
  if (!limit) return report_failure(kCmd, limit.error());
  auto path = audit_path(p->o, std::min<int64_t>(*limit, 1000));
  if (!path) return report_failure(kCmd, path.error());
  auto api = ApiClient::from_options(p->o);
  if (!api) return report_failure(kCmd, api.error());
  auto all = get_linked(*api, *path, static_cast<size_t>(*limit));
  if (!all) return report_failure(kCmd, all.error());
  if (p->o.has("--json")) {
    print_json(*all);
  } else {
    print_audit(*all);
  }
  return kExitOk;
}

int key_token(const Args& args) {
  return dispatch(args, "key token", kTokenHelp,
                  {{"create", token_create}, {"list", token_list}, {"revoke", token_revoke}});
}

int key_access(const Args& args) {
  return dispatch(args, "key access", kAccessHelp,
                  {{"set", access_set}, {"list", access_list}, {"remove", access_remove}});
}

}  // namespace tl::cli
