// The fleet commands of `tlaunch` before anything reaches a server: help,
// usage errors (unknown options, missing values, bad enums, bad PCR lists,
// bad names), the admin token file, and connection failures. The real binary
// runs (tests/support/cli_runner.h); nothing listens where these point, so a
// command that got past its checks would fail with a connection error
// instead, which the tests tell apart.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstdlib>
#include <string>
#include <vector>

#include "support/cli_runner.h"
#include "support/test_support.h"

namespace tl::cli {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;
using ::testing::StartsWith;
using test::TempDir;
using test::TlaunchRun;

// Port 1 (tcpmux) is privileged and unused on a test machine: connecting is refused.
constexpr const char* kNowhere = "http://127.0.0.1:1";

TlaunchRun tlaunch(const std::vector<std::string>& args) {
  std::string cmd;
  for (const auto& a : args) cmd += (cmd.empty() ? "" : " ") + test::shell_quote(a);
  return test::run_tlaunch(cmd);
}

std::string joined(const std::vector<std::string>& args) {
  std::string s;
  for (const auto& a : args) s += (s.empty() ? "" : " ") + a;
  return s;
}

class FleetArgs : public ::testing::Test {
 protected:
  void SetUp() override {
    // The operator's environment must not leak into what is tested.
    ::unsetenv("TLAUNCH_SERVER");
    ::unsetenv("TLAUNCH_TOKEN_FILE");
    ::unsetenv("TLAUNCH_CACERT");
    token_ = dir_.file("token", as_bytes("  c2VjcmV0LXRva2Vu\n")).string();
    log_ = dir_.file("log.bin", as_bytes("not really a log, but not empty")).string();
  }

  // A usage error: exit 2, the command named, the reason on stderr, nothing on stdout.
  void expect_usage(const std::vector<std::string>& args, const std::string& message) {
    SCOPED_TRACE(joined(args));
    const TlaunchRun r = tlaunch(args);
    EXPECT_EQ(r.exit_code, 2) << r.err;
    EXPECT_THAT(r.err, HasSubstr(message));
    EXPECT_THAT(r.err, StartsWith("tlaunch " + args[0]));
    EXPECT_EQ(r.out, "");
  }

  TempDir dir_;
  std::string token_;
  std::string log_;
};

struct Command {
  std::vector<std::string> words;  // e.g. {"vm", "show"}
  std::vector<std::string> valid;  // positionals and options that pass the checks
};

// `log` is a non-empty file standing in for an event log.
std::vector<Command> commands(const std::string& log = "log.bin") {
  return {
      {{"vm", "register"}, {"web-01", "--vm-id", "5e0c7d0e", "--group", "pool"}},
      {{"vm", "list"}, {}},
      {{"vm", "show"}, {"web-01"}},
      {{"vm", "update"}, {"web-01", "--power-state", "Stopped"}},
      {{"vm", "delete"}, {"web-01"}},
      {{"baseline", "create"}, {"pool", "--from-eventlog", log}},
      {{"baseline", "list"}, {}},
      {{"baseline", "show"}, {"pool"}},
      {{"baseline", "learn"}, {"pool", "on"}},
      {{"alert", "list"}, {}},
      {{"alert", "suppress"}, {"--group", "pool", "--reason", "planned"}},
      {{"alert", "suppressions"}, {}},
      {{"alert", "unsuppress"}, {"3"}},
      {{"recommendation", "list"}, {}},
      {{"status"}, {}},
  };
}

std::vector<std::string> concat(std::vector<std::string> a, const std::vector<std::string>& b) {
  a.insert(a.end(), b.begin(), b.end());
  return a;
}

TEST_F(FleetArgs, TopLevelHelpListsEveryFleetCommand) {
  const TlaunchRun r = tlaunch({"--help"});
  ASSERT_EQ(r.exit_code, 0);
  for (const auto& c : commands()) EXPECT_THAT(r.out, HasSubstr("  " + joined(c.words))) << joined(c.words);
  for (const char* opt : {"--server URL", "--token-file FILE", "--cacert FILE", "--json", "TLAUNCH_SERVER",
                          "TLAUNCH_TOKEN_FILE", "TLAUNCH_CACERT"}) {
    EXPECT_THAT(r.out, HasSubstr(opt));
  }
}

TEST_F(FleetArgs, EveryCommandHasHelpWithItsUsageCommonOptionsAndExitStatus) {
  for (const auto& c : commands()) {
    SCOPED_TRACE(joined(c.words));
    for (const char* help : {"--help", "-h"}) {
      // Help wins even over an option that would be refused.
      const TlaunchRun r = tlaunch(concat(c.words, {"--bogus", help}));
      EXPECT_EQ(r.exit_code, 0) << r.err;
      EXPECT_THAT(r.out, StartsWith("usage: tlaunch " + joined(c.words)));
      EXPECT_THAT(r.out, HasSubstr("--token-file FILE"));
      EXPECT_THAT(r.out, HasSubstr("Exit status: 0"));
      EXPECT_EQ(r.err, "");
    }
  }
}

TEST_F(FleetArgs, GroupWithoutSubcommandOrUnknownOne) {
  TlaunchRun r = tlaunch({"vm"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_THAT(r.err, HasSubstr("'vm' needs a subcommand"));
  r = tlaunch({"vm", "explode"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_THAT(r.err, HasSubstr("unknown command 'vm explode'"));
  r = tlaunch({"alert", "--help"});
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_THAT(r.out, HasSubstr("alert suppress"));
}

TEST_F(FleetArgs, ValidArgumentsGetAsFarAsTheConnection) {
  // The control case for every usage test below: with the same arguments made
  // valid, each command passes its checks and fails only to connect (exit 2,
  // "cannot reach" and the URL), so the usage tests see the check they aim at.
  for (const auto& c : commands(log_)) {
    SCOPED_TRACE(joined(c.words));
    const TlaunchRun r = tlaunch(concat(concat(c.words, c.valid), {"--server", kNowhere, "--token-file", token_}));
    EXPECT_EQ(r.exit_code, 2);
    EXPECT_THAT(r.err, HasSubstr(std::string("tlaunch: cannot reach ") + kNowhere));
    EXPECT_THAT(r.err, HasSubstr("refused"));
  }
}

TEST_F(FleetArgs, UnknownOptionsAreRefused) {
  for (const auto& c : commands(log_)) {
    expect_usage(concat(concat(c.words, c.valid), {"--bogus"}), "unknown option --bogus");
    expect_usage(concat(concat(c.words, c.valid), {"--jsn"}), "unknown option --jsn");
  }
}

TEST_F(FleetArgs, OptionsWithoutTheirValueAreRefused) {
  for (const auto& c : commands(log_)) {
    for (const char* opt : {"--server", "--token-file", "--cacert"}) {
      expect_usage(concat(concat(c.words, c.valid), {opt}), std::string("option ") + opt + " needs a value");
    }
  }
  expect_usage({"vm", "register", "web-01", "--group", "g", "--vm-id"}, "option --vm-id needs a value");
  expect_usage({"baseline", "create", "pool", "--from-eventlog"}, "option --from-eventlog needs a value");
  expect_usage({"alert", "suppress", "--vm", "a", "--reason"}, "option --reason needs a value");
  expect_usage({"vm", "list", "--json=yes"}, "option --json takes no value");
  expect_usage({"vm", "list", "--group", "a", "--group", "b"}, "option --group given twice");
}

TEST_F(FleetArgs, PositionalsAreCounted) {
  expect_usage({"vm", "show"}, "missing NAME");
  expect_usage({"vm", "show", "a", "b"}, "unexpected argument 'b'");
  expect_usage({"vm", "delete"}, "missing NAME");
  expect_usage({"vm", "update"}, "missing NAME");
  expect_usage({"vm", "register", "--vm-id", "x", "--group", "g"}, "missing NAME");
  expect_usage({"vm", "list", "extra"}, "unexpected argument 'extra'");
  expect_usage({"baseline", "create", "--from-eventlog", log_}, "missing GROUP");
  expect_usage({"baseline", "show"}, "missing GROUP");
  expect_usage({"baseline", "learn", "pool"}, "missing on|off");
  expect_usage({"baseline", "list", "pool"}, "unexpected argument 'pool'");
  expect_usage({"alert", "unsuppress"}, "missing ID");
  expect_usage({"alert", "list", "open"}, "unexpected argument 'open'");
  expect_usage({"status", "now"}, "unexpected argument 'now'");
}

TEST_F(FleetArgs, BadEnumValuesAreRefused) {
  const std::vector<std::string> reg = {"vm", "register", "a", "--vm-id", "x", "--group", "g"};
  expect_usage(concat(reg, {"--security-type", "trustedlaunch"}), "--security-type takes TrustedLaunch|Standard, not 'trustedlaunch'");
  expect_usage(concat(reg, {"--secure-boot", "yes"}), "--secure-boot takes on or off, not 'yes'");
  expect_usage(concat(reg, {"--vtpm", "1"}), "--vtpm takes on or off, not '1'");
  expect_usage(concat(reg, {"--agent", "present"}), "--agent takes installed|absent, not 'present'");
  expect_usage(concat(reg, {"--power-state", "running"}), "--power-state takes Running|Stopped, not 'running'");
  expect_usage({"vm", "update", "a", "--vtpm", "enabled"}, "--vtpm takes on or off, not 'enabled'");
  expect_usage({"vm", "update", "a", "--security-type", "Confidential"}, "--security-type takes TrustedLaunch|Standard");
  expect_usage({"vm", "list", "--health", "healthy"}, "--health takes Healthy|Unhealthy|Unknown|Pending, not 'healthy'");
  expect_usage({"alert", "list", "--severity", "Critical"}, "--severity takes High|Medium|Low, not 'Critical'");
  expect_usage({"alert", "suppress", "--kind", "stale", "--reason", "r"}, "--kind takes attestation-failed|");
  expect_usage({"recommendation", "list", "--kind", "enable-tpm"},
               "--kind takes enable-secure-boot|enable-vtpm|install-agent, not 'enable-tpm'");
  expect_usage({"baseline", "learn", "pool", "yes"}, "learning is on or off, not 'yes'");
}

TEST_F(FleetArgs, BadPcrListsAreRefused) {
  const std::vector<std::string> create = {"baseline", "create", "pool", "--from-eventlog", log_, "--pcrs"};
  for (const char* bad : {"", "24", "-1", "a", "1,,2", "1,", ",1", "0x7", "7 ", "4294967303", "+1"}) {
    expect_usage(concat(create, {bad}), "is not a PCR index 0-23");
  }
  expect_usage(concat(create, {"0,7,0"}), "PCR 0 given twice");
}

TEST_F(FleetArgs, RequiredOptionsAndCombinations) {
  expect_usage({"vm", "register", "a", "--group", "g"}, "--vm-id ID is required");
  expect_usage({"vm", "register", "a", "--vm-id", "x"}, "--group G is required");
  expect_usage({"vm", "register", "a", "--vm-id", "", "--group", "g"}, "--vm-id ID is required");
  expect_usage({"vm", "update", "a"}, "nothing to change");
  expect_usage({"vm", "update", "a", "--json"}, "nothing to change");
  expect_usage({"baseline", "create", "pool"}, "--from-eventlog FILE is required");
  expect_usage({"alert", "list", "--all", "--resolved"}, "--all and --resolved exclude each other");
  expect_usage({"alert", "suppress", "--reason", "why"}, "give at least one of --group, --vm and --kind");
  expect_usage({"alert", "suppress", "--group", "g"}, "--reason TEXT is required");
  expect_usage({"alert", "suppress", "--group", "g", "--reason", "  "}, "--reason TEXT is required");
  for (const char* id : {"0", "abc", "3x", "99999999999999999999"}) {
    expect_usage({"alert", "unsuppress", id}, "suppression ID must be a positive integer");
  }
  expect_usage({"baseline", "show", "pool", "--version", "0"}, "--version must be a positive integer");
  expect_usage({"baseline", "show", "pool", "--version", "latest"}, "--version must be a positive integer");
}

TEST_F(FleetArgs, NamesThatCannotBeAPathSegmentAreRefused) {
  for (const std::string& bad : std::vector<std::string>{"a/b", "..", ".", "a b", "ä", std::string(65, 'x'), ""}) {
    expect_usage({"vm", "show", bad}, "VM name '" + bad + "' is not valid");
    expect_usage({"vm", "delete", bad}, "is not valid");
    expect_usage({"baseline", "show", bad}, "group '" + bad + "' is not valid");
    expect_usage({"baseline", "learn", bad, "on"}, "is not valid");
  }
  expect_usage({"vm", "list", "--group", "a/b"}, "group 'a/b' is not valid");
  expect_usage({"alert", "list", "--vm", "../x"}, "VM name '../x' is not valid");
}

TEST_F(FleetArgs, TheEventLogFileMustBeReadableAndNotEmpty) {
  expect_usage({"baseline", "create", "pool", "--from-eventlog", (dir_.path() / "missing.bin").string()},
               "cannot open " + (dir_.path() / "missing.bin").string());
  expect_usage({"baseline", "create", "pool", "--from-eventlog", dir_.file("empty.bin", {}).string()},
               "is empty: not an event log");
}

TEST_F(FleetArgs, TheAdminTokenFileIsRequiredReadableAndHoldsOneToken) {
  const std::vector<std::string> cmd = {"vm", "list", "--server", kNowhere};
  expect_usage(cmd, "no admin token: give --token-file FILE or set TLAUNCH_TOKEN_FILE");
  const std::string missing = (dir_.path() / "no-such-token").string();
  expect_usage(concat(cmd, {"--token-file", missing}), "cannot read the admin token: cannot open " + missing);
  expect_usage(concat(cmd, {"--token-file", dir_.path().string()}), "cannot read the admin token");
  expect_usage(concat(cmd, {"--token-file", dir_.file("blank", as_bytes(" \n\t\n")).string()}), "is empty");
  expect_usage(concat(cmd, {"--token-file", dir_.file("two", as_bytes("abc\ndef\n")).string()}),
               "does not hold one token");
  expect_usage(concat(cmd, {"--token-file", dir_.file("nul", Bytes{'a', 0, 'b'}).string()}),
               "does not hold one token");
  // Surrounding whitespace is trimmed: this one gets as far as the connection.
  const TlaunchRun r = tlaunch(concat(cmd, {"--token-file", token_}));
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_THAT(r.err, HasSubstr("cannot reach"));
}

TEST_F(FleetArgs, EnvironmentVariablesStandInForTheOptions) {
  ::setenv("TLAUNCH_TOKEN_FILE", (dir_.path() / "env-token").c_str(), 1);
  TlaunchRun r = tlaunch({"status", "--server", kNowhere});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_THAT(r.err, HasSubstr("cannot open " + (dir_.path() / "env-token").string()));
  // The option wins over the variable.
  r = tlaunch({"status", "--server", kNowhere, "--token-file", token_});
  EXPECT_THAT(r.err, HasSubstr("cannot reach"));

  ::setenv("TLAUNCH_TOKEN_FILE", token_.c_str(), 1);
  ::setenv("TLAUNCH_SERVER", "http://127.0.0.1:2", 1);
  r = tlaunch({"status"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_THAT(r.err, HasSubstr("tlaunch: cannot reach http://127.0.0.1:2"));
  r = tlaunch({"status", "--server", kNowhere});
  EXPECT_THAT(r.err, HasSubstr(std::string("cannot reach ") + kNowhere));

  ::setenv("TLAUNCH_CACERT", (dir_.path() / "no-ca.pem").c_str(), 1);
  r = tlaunch({"status", "--server", "https://127.0.0.1:1"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_THAT(r.err, HasSubstr("no-ca.pem"));
}

TEST_F(FleetArgs, TheDefaultServerIsLocalHttps) {
  const TlaunchRun r = tlaunch({"status", "--token-file", token_});
  EXPECT_EQ(r.exit_code, 2);
  // Either nothing listens there (refused) or something does and it is not
  // trusted: both name the default URL.
  EXPECT_THAT(r.err, HasSubstr("https://127.0.0.1:8443"));
}

TEST_F(FleetArgs, BadServerUrlsAndCaFilesAreUsageErrors) {
  expect_usage({"status", "--token-file", token_, "--server", "ftp://example"}, "must start with http:// or https://");
  expect_usage({"status", "--token-file", token_, "--server", "https://127.0.0.1:8443/api"}, "no path");
  expect_usage({"status", "--token-file", token_, "--server", "https://127.0.0.1:99999"}, "bad port");
  expect_usage({"status", "--token-file", token_, "--server", "https://127.0.0.1:1", "--cacert",
                (dir_.path() / "none.pem").string()},
               "none.pem");
  expect_usage({"status", "--token-file", token_, "--server", "https://127.0.0.1:1", "--cacert",
                dir_.file("junk.pem", as_bytes("not a certificate")).string()},
               "junk.pem");
}

}  // namespace
}  // namespace tl::cli
