// `tlaunch key …` before anything reaches a server: the argument checks and
// the request bodies they build (src/cli/key_args.h), then the real binary:
// help for every command, usage errors (exit 2, no request), and commands
// that pass their checks reaching the connection stage (nothing listens on
// port 1, so they fail there, which the tests tell apart from a usage error).
#include "cli/key_args.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <cstdlib>
#include <string>
#include <vector>

#include "cli/key_output.h"
#include "support/cli_runner.h"
#include "token/base64url.h"

namespace tl::cli {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;
using ::testing::StartsWith;
using test::TempDir;

const std::string kVersion = "0f3c5a6b7c8d9e0f1a2b3c4d5e6f7a8b";

// Every option the key commands take, so any command's arguments parse here.
const OptionSpec kSpec = fleet_option_spec(
    {"--exportable", "--immutable", "--disabled", "--enable", "--disable", "--deleted", "--denied", "--allowed"},
    {"--kty", "--size", "--curve", "--policy", "--ops", "--pem", "--jwk", "--target", "--enc", "--nonce", "--out",
     "--expires", "--scope", "--limit", "--after", "--versions"});

ParsedOptions opts(const Args& args) {
  auto p = parse_options(args, kSpec);
  EXPECT_TRUE(p.ok()) << p.error().message;
  return p.ok() ? *p : ParsedOptions{};
}

// A usage error naming `what`.
template <class T>
void expect_usage(const Result<T>& r, const std::string& what) {
  ASSERT_FALSE(r.ok()) << "accepted; expected: " << what;
  EXPECT_EQ(r.error().reason, kUsageReason);
  EXPECT_THAT(r.error().message, HasSubstr(what));
}

std::string decoded(const Json& data) {
  auto b = token::base64url_decode(data.get<std::string>());
  EXPECT_TRUE(b.ok());
  return b.ok() ? std::string(b->begin(), b->end()) : std::string();
}

class KeyArgs : public ::testing::Test {
 protected:
  std::string file(const std::string& name, const std::string& text) {
    return dir_.file(name, as_bytes(text)).string();
  }
  std::string policy() { return file("policy.json", R"({"version":"1.0.0","anyOf":[]})"); }
  TempDir dir_;
};

TEST_F(KeyArgs, KeyNamesAndReferences) {
  EXPECT_TRUE(check_key_name("app-key-1").ok());
  EXPECT_TRUE(check_key_name(std::string(127, 'a')).ok());
  expect_usage(check_key_name(""), "key name");
  expect_usage(check_key_name(std::string(128, 'a')), "1-127");
  for (const char* bad : {"app_key", "app.key", "a/b", "..", "a b", "ké"}) expect_usage(check_key_name(bad), "key name");

  auto bare = parse_key_ref("app-key");
  ASSERT_TRUE(bare.ok());
  EXPECT_EQ(bare->path(), "/keys/app-key");
  auto v = parse_key_ref("app-key/" + kVersion);
  ASSERT_TRUE(v.ok());
  EXPECT_EQ(v->version, kVersion);
  EXPECT_EQ(v->path(), "/keys/app-key/" + kVersion);
  expect_usage(parse_key_ref("app-key/" + kVersion, /*version_allowed=*/false), "without a version");
  expect_usage(parse_key_ref("app-key/"), "32 lower-case hex");
  expect_usage(parse_key_ref("app-key/0F3C5A6B7C8D9E0F1A2B3C4D5E6F7A8B"), "32 lower-case hex");
  expect_usage(parse_key_ref("app-key/" + kVersion + "/x"), "32 lower-case hex");
  expect_usage(parse_key_ref("/app-key"), "key name");
}

TEST_F(KeyArgs, IdentitiesScopesAndTokenNames) {
  EXPECT_TRUE(check_identity("token:ci-deploy").ok());
  EXPECT_TRUE(check_identity("vm:5e0c7d0e-8d8d-4a4e-9b1b-0c2d4c6f1a11").ok());
  EXPECT_TRUE(check_identity("cert:sha256:" + std::string(64, 'a')).ok());
  expect_usage(check_identity("admin"), "not of a known kind");
  expect_usage(check_identity("token:"), "names no valid token");
  expect_usage(check_identity("token:a b"), "names no valid token");
  expect_usage(check_identity("cert:sha256:" + std::string(63, 'a')), "64 lower-case hex");
  expect_usage(check_identity("cert:sha256:" + std::string(64, 'A')), "64 lower-case hex");
  expect_usage(check_identity("vm:"), "VM id");
  expect_usage(check_identity("vm:a\tb"), "VM id");
  EXPECT_TRUE(check_scope("*").ok());
  EXPECT_TRUE(check_scope("app-key").ok());
  expect_usage(check_scope("app_*"), "neither");
  EXPECT_TRUE(check_token_name("ci.deploy_1-x").ok());
  expect_usage(check_token_name(std::string(65, 'a')), "token name");
}

TEST_F(KeyArgs, TagsRepeatAndAreTakenOutOfTheArguments) {
  Args args = {"app", "--tag", "env=prod", "--kty", "RSA", "--tag=team=a=b", "--", "--tag", "x=y"};
  auto items = take_repeated(args, "--tag");
  ASSERT_TRUE(items.ok());
  EXPECT_EQ(*items, (std::vector<std::string>{"env=prod", "team=a=b"}));
  // After "--" everything is positional and stays.
  EXPECT_EQ(args, (Args{"app", "--kty", "RSA", "--", "--tag", "x=y"}));
  auto tags = parse_tags(*items);
  ASSERT_TRUE(tags.ok());
  EXPECT_EQ(tags->dump(), R"({"env":"prod","team":"a=b"})");
  Args dangling = {"app", "--tag"};
  expect_usage(take_repeated(dangling, "--tag"), "needs a value");
  expect_usage(parse_tags({"novalue"}), "NAME=VALUE");
  expect_usage(parse_tags({"=v"}), "NAME=VALUE");
  expect_usage(parse_tags({"a=1", "a=2"}), "given twice");
  auto empty_value = parse_tags({"a="});
  ASSERT_TRUE(empty_value.ok());
  EXPECT_EQ((*empty_value)["a"], "");
}

TEST_F(KeyArgs, OperationLists) {
  auto ops = parse_key_ops("sign,verify");
  ASSERT_TRUE(ops.ok());
  EXPECT_EQ(ops->dump(), R"(["sign","verify"])");
  expect_usage(parse_key_ops("sign,sign"), "given twice");
  expect_usage(parse_key_ops("sign,"), "'' is not one of");
  expect_usage(parse_key_ops("Sign"), "'Sign' is not one of");
  expect_usage(parse_key_ops("release"), "is not one of");
  auto access = parse_access_ops("get,release,delete");
  ASSERT_TRUE(access.ok());
  EXPECT_EQ(access->dump(), R"(["get","release","delete"])");
  EXPECT_TRUE(parse_access_ops("all").ok());
  expect_usage(parse_access_ops("get,encrypt"), "'encrypt' is not one of");
}

TEST_F(KeyArgs, PolicyFilesGoAsBase64urlOfTheirBytes) {
  const std::string text = "{ \"version\": \"1.0.0\",\n  \"anyOf\": [] }\n";
  auto p = release_policy_from_file(file("p.json", text), true);
  ASSERT_TRUE(p.ok()) << p.error().message;
  EXPECT_EQ((*p)["contentType"], "application/json; charset=utf-8");
  EXPECT_EQ((*p)["immutable"], true);
  EXPECT_EQ(decoded((*p)["data"]), text);
  expect_usage(release_policy_from_file(file("a.json", "[1,2]"), false), "not an object");
  expect_usage(release_policy_from_file(file("b.json", "{\"version\":"), false), "is not JSON");
  expect_usage(release_policy_from_file(file("c.json", ""), false), "is empty");
  expect_usage(release_policy_from_file(file("d.json", std::string(70000, ' ')), false), "more than");
  expect_usage(release_policy_from_file((dir_.path() / "absent.json").string(), false), "cannot open");
}

TEST_F(KeyArgs, CreateBody) {
  auto rsa = create_key_body(opts({"--kty", "RSA", "--size", "3072", "--ops", "sign,verify", "--disabled"}),
                             Json{{"env", "prod"}});
  ASSERT_TRUE(rsa.ok()) << rsa.error().message;
  EXPECT_EQ(rsa->dump(),
            R"({"kty":"RSA","key_size":3072,"key_ops":["sign","verify"],"attributes":{"enabled":false,)"
            R"("exportable":false},"tags":{"env":"prod"}})");
  auto ec = create_key_body(opts({"--kty", "EC", "--curve", "P-384", "--exportable", "--policy", policy(),
                                  "--immutable"}),
                            Json::object());
  ASSERT_TRUE(ec.ok()) << ec.error().message;
  EXPECT_EQ((*ec)["crv"], "P-384");
  EXPECT_EQ((*ec)["attributes"]["exportable"], true);
  EXPECT_EQ((*ec)["release_policy"]["immutable"], true);
  EXPECT_EQ(decoded((*ec)["release_policy"]["data"]), R"({"version":"1.0.0","anyOf":[]})");
  EXPECT_FALSE(ec->contains("tags"));
  auto oct = create_key_body(opts({"--kty", "oct"}), Json::object());
  ASSERT_TRUE(oct.ok());
  EXPECT_EQ(oct->dump(), R"({"kty":"oct","attributes":{"enabled":true,"exportable":false}})");

  expect_usage(create_key_body(opts({}), Json::object()), "--kty RSA|EC|oct is required");
  expect_usage(create_key_body(opts({"--kty", "RSA-HSM"}), Json::object()), "-HSM types are refused");
  expect_usage(create_key_body(opts({"--kty", "rsa"}), Json::object()), "not 'rsa'");
  expect_usage(create_key_body(opts({"--kty", "RSA", "--size", "1024"}), Json::object()), "2048|3072|4096");
  expect_usage(create_key_body(opts({"--kty", "EC", "--size", "2048"}), Json::object()), "--size is for RSA");
  expect_usage(create_key_body(opts({"--kty", "RSA", "--curve", "P-256"}), Json::object()), "--curve is for EC");
  expect_usage(create_key_body(opts({"--kty", "EC", "--curve", "P-521"}), Json::object()), "P-256|P-384");
  expect_usage(create_key_body(opts({"--kty", "RSA", "--exportable"}), Json::object()), "--exportable needs --policy");
  expect_usage(create_key_body(opts({"--kty", "RSA", "--policy", policy()}), Json::object()),
               "only for --exportable");
  expect_usage(create_key_body(opts({"--kty", "RSA", "--immutable"}), Json::object()), "--immutable needs --policy");
  expect_usage(create_key_body(opts({"--kty", "RSA", "--ops", "sign,bogus"}), Json::object()), "'bogus'");
}

TEST_F(KeyArgs, ImportBody) {
  const std::string pem = file("k.pem", "-----BEGIN PRIVATE KEY-----\nMIIB\n-----END PRIVATE KEY-----\n");
  auto a = import_key_body(opts({"--pem", pem}), Json::object());
  ASSERT_TRUE(a.ok()) << a.error().message;
  EXPECT_THAT((*a)["key_pem"].get<std::string>(), StartsWith("-----BEGIN PRIVATE KEY-----"));
  EXPECT_FALSE(a->contains("key"));
  const std::string jwk = file("k.jwk", R"({"kty":"oct","k":"AAAA"})");
  auto b = import_key_body(opts({"--jwk", jwk, "--exportable", "--policy", policy()}), Json::object());
  ASSERT_TRUE(b.ok()) << b.error().message;
  EXPECT_EQ((*b)["key"]["kty"], "oct");
  EXPECT_TRUE(b->contains("release_policy"));
  expect_usage(import_key_body(opts({}), Json::object()), "exactly one of --pem FILE and --jwk FILE");
  expect_usage(import_key_body(opts({"--pem", pem, "--jwk", jwk}), Json::object()), "exactly one");
  expect_usage(import_key_body(opts({"--pem", file("x.pem", "not pem")}), Json::object()), "no PEM block");
  expect_usage(import_key_body(opts({"--jwk", file("x.jwk", R"({"k":"AAAA"})")}), Json::object()), "a JWK");
  expect_usage(import_key_body(opts({"--jwk", file("y.jwk", R"([1])")}), Json::object()), "a JWK");
}

TEST_F(KeyArgs, UpdateAndSetPolicyBodies) {
  auto a = update_key_body(opts({"--disable"}), Json::object());
  ASSERT_TRUE(a.ok());
  EXPECT_EQ(a->dump(), R"({"attributes":{"enabled":false}})");
  auto b = update_key_body(opts({}), Json{{"k", "v"}});
  ASSERT_TRUE(b.ok());
  EXPECT_EQ(b->dump(), R"({"tags":{"k":"v"}})");
  expect_usage(update_key_body(opts({}), Json::object()), "nothing to change");
  expect_usage(update_key_body(opts({"--enable", "--disable"}), Json::object()), "exclude each other");
  auto c = set_policy_body(opts({"--policy", policy()}));
  ASSERT_TRUE(c.ok());
  EXPECT_EQ((*c)["release_policy"]["immutable"], false);
  expect_usage(set_policy_body(opts({"--immutable"})), "--policy FILE is required");
}

TEST_F(KeyArgs, ReleaseBody) {
  const std::string jwt = "eyJhbGciOiJFUzI1NiJ9.eyJpc3MiOiJ4In0.c2ln";
  auto a = release_body(opts({"--target", file("t.jwt", "  " + jwt + "\n"), "--enc", "RSA_AES_KEY_WRAP_384",
                              "--nonce", "abc"}));
  ASSERT_TRUE(a.ok()) << a.error().message;
  EXPECT_EQ(a->dump(), R"({"target":")" + jwt + R"(","enc":"RSA_AES_KEY_WRAP_384","nonce":"abc"})");
  auto b = release_body(opts({"--target", file("t2.jwt", jwt)}));
  ASSERT_TRUE(b.ok());
  EXPECT_FALSE(b->contains("enc"));  // the server's default
  EXPECT_FALSE(b->contains("nonce"));
  expect_usage(release_body(opts({})), "--target FILE");
  expect_usage(release_body(opts({"--target", file("x", "a.b")})), "one JWT");
  expect_usage(release_body(opts({"--target", file("y", "a.b.c.d")})), "one JWT");
  expect_usage(release_body(opts({"--target", file("z", "a.b c.d")})), "one JWT");
  expect_usage(release_body(opts({"--target", file("w", "\n\n")})), "one JWT");
  expect_usage(release_body(opts({"--target", file("t3", jwt), "--enc", "A256KW"})), "--enc takes");
  expect_usage(release_body(opts({"--target", file("t4", jwt), "--nonce", std::string(1025, 'n')})), "1 to 1024");
}

TEST_F(KeyArgs, TokenAccessAndAudit) {
  auto t = token_create_body("ci", opts({"--expires", "2027-01-31T00:00:00Z"}));
  ASSERT_TRUE(t.ok());
  EXPECT_EQ(t->dump(), R"({"name":"ci","expiresAt":"2027-01-31T00:00:00Z"})");
  EXPECT_EQ(token_create_body("ci", opts({}))->dump(), R"({"name":"ci"})");
  expect_usage(token_create_body("ci", opts({"--expires", "tomorrow"})), "--expires 'tomorrow'");
  expect_usage(token_create_body("c i", opts({})), "token name");

  auto a = access_set_body("token:ci", opts({"--scope", "app-key", "--ops", "get,release"}));
  ASSERT_TRUE(a.ok());
  EXPECT_EQ(a->dump(), R"({"identity":"token:ci","scope":"app-key","operations":["get","release"]})");
  expect_usage(access_set_body("token:ci", opts({"--ops", "get"})), "--scope");
  expect_usage(access_set_body("token:ci", opts({"--scope", "*"})), "--ops LIST is required");
  expect_usage(access_set_body("root", opts({"--scope", "*", "--ops", "get"})), "identity 'root'");

  auto limit = audit_limit(opts({}));
  ASSERT_TRUE(limit.ok());
  EXPECT_EQ(*limit, 100);
  EXPECT_EQ(*audit_limit(opts({"--limit", "2500"})), 2500);
  for (const char* bad : {"0", "-1", "x", "100001", "1e3"}) expect_usage(audit_limit(opts({"--limit", bad})), "--limit");
  EXPECT_EQ(*audit_path(opts({}), 100), "/vault/audit?limit=100");
  EXPECT_EQ(*audit_path(opts({"app-key", "--denied"}), 1000), "/vault/audit?key=app-key&outcome=denied&limit=1000");
  EXPECT_EQ(*audit_path(opts({"--allowed"}), 5), "/vault/audit?outcome=allowed&limit=5");
  EXPECT_EQ(*audit_path(opts({"--after", "42"}), 5), "/vault/audit?after=42&limit=5");
  expect_usage(audit_path(opts({"--after", "0"}), 5), "--after");
  expect_usage(audit_path(opts({"--denied", "--allowed"}), 5), "exclude each other");
  expect_usage(audit_path(opts({"a", "b"}), 5), "unexpected argument 'b'");
  expect_usage(audit_path(opts({"a_b"}), 5), "key name");
}

TEST(KeyOutput, KidNameAndVersion) {
  EXPECT_EQ(kid_name_version("https://h:8443/keys/app/" + kVersion), std::make_pair(std::string("app"), kVersion));
  EXPECT_EQ(kid_name_version("https://h:8443/keys/app"), std::make_pair(std::string("app"), std::string()));
  EXPECT_EQ(kid_name_version("https://h:8443/deletedkeys/app"), std::make_pair(std::string(), std::string()));
  EXPECT_EQ(kid_name_version("nothing"), std::make_pair(std::string(), std::string()));
}

// ---- the real binary ----

constexpr const char* kNowhere = "http://127.0.0.1:1";

test::TlaunchRun tlaunch(const std::vector<std::string>& args) {
  std::string cmd;
  for (const auto& a : args) cmd += (cmd.empty() ? "" : " ") + test::shell_quote(a);
  return test::run_tlaunch(cmd);
}

class KeyCli : public KeyArgs {
 protected:
  void SetUp() override {
    ::unsetenv("TLAUNCH_SERVER");
    ::unsetenv("TLAUNCH_TOKEN_FILE");
    ::unsetenv("TLAUNCH_CACERT");
    token_ = file("token", "tlk_secret\n");
  }
  std::string token_;
};

struct Command {
  std::vector<std::string> words;
  std::vector<std::string> valid;  // arguments that pass every check
};

TEST_F(KeyCli, EveryCommandHasHelpAndReachesTheServerWhenValid) {
  const std::string pol = policy();
  const std::string pem = file("k.pem", "-----BEGIN PRIVATE KEY-----\nMIIB\n-----END PRIVATE KEY-----\n");
  const std::string jwt = file("t.jwt", "a.b.c\n");
  const std::vector<Command> commands = {
      {{"key", "create"}, {"app", "--kty", "RSA", "--exportable", "--policy", pol, "--tag", "a=b", "--tag", "c=d"}},
      {{"key", "import"}, {"app", "--pem", pem}},
      {{"key", "show"}, {"app/" + kVersion}},
      {{"key", "list"}, {"--versions", "app"}},
      {{"key", "rotate"}, {"app"}},
      {{"key", "update"}, {"app", "--disable"}},
      {{"key", "delete"}, {"app"}},
      {{"key", "recover"}, {"app"}},
      {{"key", "purge"}, {"app"}},
      {{"key", "set-policy"}, {"app", "--policy", pol}},
      {{"key", "release"}, {"app", "--target", jwt}},
      {{"key", "audit"}, {"app", "--denied", "--limit", "5"}},
      {{"key", "token", "create"}, {"ci"}},
      {{"key", "token", "list"}, {}},
      {{"key", "token", "revoke"}, {"ci"}},
      {{"key", "access", "set"}, {"token:ci", "--scope", "*", "--ops", "all"}},
      {{"key", "access", "list"}, {}},
      {{"key", "access", "remove"}, {"token:ci", "--scope", "app"}},
  };
  for (const auto& c : commands) {
    std::string name;
    for (const auto& w : c.words) name += (name.empty() ? "" : " ") + w;
    SCOPED_TRACE(name);
    auto help_args = c.words;
    help_args.push_back("--help");
    const auto help = tlaunch(help_args);
    EXPECT_EQ(help.exit_code, 0) << help.err;
    EXPECT_THAT(help.out, StartsWith("usage: tlaunch " + c.words[0] + " " + c.words[1]));
    EXPECT_THAT(help.out, HasSubstr("tlaunch " + name));
    EXPECT_THAT(help.out, HasSubstr("--token-file"));
    auto args = c.words;
    args.insert(args.end(), c.valid.begin(), c.valid.end());
    args.insert(args.end(), {"--server", kNowhere, "--token-file", token_});
    const auto r = tlaunch(args);
    EXPECT_EQ(r.exit_code, 2) << r.err;
    EXPECT_THAT(r.err, HasSubstr("cannot reach http://127.0.0.1:1"));
    EXPECT_EQ(r.out, "");
  }
}

TEST_F(KeyCli, UsageErrorsExitTwoBeforeAnyRequest) {
  const std::vector<std::pair<std::vector<std::string>, std::string>> cases = {
      {{"key", "create", "app"}, "--kty RSA|EC|oct is required"},
      {{"key", "create", "app_1", "--kty", "RSA"}, "key name"},
      {{"key", "create", "app", "--kty", "RSA", "--exportable"}, "--exportable needs --policy"},
      {{"key", "create", "app", "--kty", "RSA", "--tag", "x"}, "NAME=VALUE"},
      {{"key", "create", "app/" + kVersion, "--kty", "RSA"}, "without a version"},
      {{"key", "show"}, "missing NAME[/VERSION]"},
      {{"key", "show", "app", "extra"}, "unexpected argument 'extra'"},
      {{"key", "show", "app/" + kVersion, "--deleted"}, "without a version"},
      {{"key", "list", "--versions", "app", "--deleted"}, "exclude each other"},
      {{"key", "update", "app"}, "nothing to change"},
      {{"key", "release", "app"}, "--target FILE"},
      {{"key", "audit", "--limit", "0"}, "--limit"},
      {{"key", "token", "create", "a b"}, "token name"},
      {{"key", "access", "set", "admin", "--scope", "*", "--ops", "get"}, "identity 'admin'"},
      {{"key", "access", "remove", "token:ci"}, "--scope"},
      {{"key", "create", "app", "--kty", "RSA", "--bogus"}, "unknown option --bogus"},
  };
  for (const auto& [args, message] : cases) {
    auto full = args;
    full.insert(full.end(), {"--server", kNowhere, "--token-file", token_});
    const auto r = tlaunch(full);
    SCOPED_TRACE(args[1]);
    EXPECT_EQ(r.exit_code, 2) << r.err;
    EXPECT_THAT(r.err, HasSubstr(message));
    EXPECT_THAT(r.err, Not(HasSubstr("cannot reach")));
    EXPECT_EQ(r.out, "");
  }
  const auto none = tlaunch({"key", "token"});
  EXPECT_EQ(none.exit_code, 2);
  EXPECT_THAT(none.err, HasSubstr("needs a subcommand"));
  const auto bogus = tlaunch({"key", "access", "grant"});
  EXPECT_EQ(bogus.exit_code, 2);
  EXPECT_THAT(bogus.err, HasSubstr("unknown subcommand 'grant'"));
}

}  // namespace
}  // namespace tl::cli
