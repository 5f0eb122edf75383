// tlaunch alert list | suppress | suppressions | unsuppress: alerts and the
// rules that silence them, over tlaunchd's /alerts and /suppressions routes
// (docs/fleet-api.md).
#include <cstdio>
#include <string>

#include "cli/api_client.h"
#include "cli/commands.h"
#include "cli/fleet_args.h"
#include "cli/fleet_output.h"

namespace tl::cli {

namespace {

constexpr const char* kListHelp =
    "usage: tlaunch alert list [--all|--resolved] [--vm NAME] [--severity High|Medium|Low]\n"
    "\n"
    "List alerts (open ones unless told otherwise), suppressed ones included: the\n"
    "SUPPRESSED column names the rule that silenced them.\n"
    "\n"
    "  --all              open and resolved alerts\n"
    "  --resolved         resolved alerts only\n"
    "  --vm NAME          only this VM's alerts\n"
    "  --severity S       only alerts of this severity\n";

constexpr const char* kListExit = "Exit status: 0 listed, 1 the server refused, 2 usage or connection error.\n";

constexpr const char* kSuppressHelp =
    "usage: tlaunch alert suppress [--group G] [--vm NAME] [--kind KIND] --reason TEXT\n"
    "\n"
    "Add a suppression rule: alerts matching every one of the given --group, --vm and\n"
    "--kind are still stored and listed but not delivered. At least one is required.\n"
    "\n"
    "  --group G          alerts of VMs in this group\n"
    "  --vm NAME          alerts of this VM\n"
    "  --kind KIND        attestation-failed | quote-not-from-vtpm | attestation-stale |\n"
    "                     untrusted-kernel-module | boot-refused | vm-crashed | vtpm-crashed\n"
    "  --reason TEXT      why (e.g. \"Secure Boot deliberately off in this pool\"); required\n";

constexpr const char* kSuppressExit =
    "Exit status: 0 added, 1 the server refused (suppression-invalid …), 2 usage or connection error.\n";

constexpr const char* kSuppressionsHelp =
    "usage: tlaunch alert suppressions\n"
    "\n"
    "List the suppression rules.\n"
    "\n";

constexpr const char* kSuppressionsExit = "Exit status: 0 listed, 1 the server refused, 2 usage or connection error.\n";

constexpr const char* kUnsuppressHelp =
    "usage: tlaunch alert unsuppress ID\n"
    "\n"
    "Remove the suppression rule ID (see 'tlaunch alert suppressions').\n"
    "\n";

constexpr const char* kUnsuppressExit =
    "Exit status: 0 removed, 1 the server refused (suppression-not-found …), 2 usage or connection error.\n";

const std::vector<std::string> kSeverities = {"High", "Medium", "Low"};
const std::vector<std::string> kKinds = {"attestation-failed",      "quote-not-from-vtpm", "attestation-stale",
                                         "untrusted-kernel-module", "boot-refused",        "vm-crashed",
                                         "vtpm-crashed"};

void print_suppression(const Json& s) {
  print_field("id", text(s, "id"));
  print_field("group", text(s, "group"));
  print_field("vm", text(s, "vm"));
  print_field("kind", text(s, "kind"));
  print_field("reason", text(s, "reason"));
  print_field("createdAt", time_text(s, "createdAt"));
}

}  // namespace

int alert_list(const Args& args) {
  constexpr std::string_view kCmd = "alert list";
  auto parsed = parse_fleet_options(args, fleet_option_spec({"--all", "--resolved"}, {"--vm", "--severity"}));
  if (!parsed) return report_failure(kCmd, parsed.error());
  if (!*parsed) return print_help(kListHelp, kListExit);
  const ParsedOptions& o = **parsed;
  if (auto s = expect_positionals(o, {}); !s) return report_failure(kCmd, s.error());
  if (o.has("--all") && o.has("--resolved")) {
    return report_failure(kCmd, usage_error("--all and --resolved exclude each other"));
  }
  auto severity = one_of(o, "--severity", kSeverities);
  if (!severity) return report_failure(kCmd, severity.error());
  const std::string vm = o.value("--vm").value_or("");
  if (o.value("--vm")) {
    if (auto s = check_name("VM name", vm); !s) return report_failure(kCmd, s.error());
  }
  const std::string state = o.has("--all") ? "all" : o.has("--resolved") ? "resolved" : "open";

  auto api = ApiClient::from_options(o);
  if (!api) return report_failure(kCmd, api.error());
  auto all = api->get_all("/alerts", {{"state", state}, {"vm", vm}, {"severity", severity->value_or("")}});
  if (!all) return report_failure(kCmd, all.error());
  if (o.has("--json")) {
    print_json(*all);
    return kExitOk;
  }
  Table t({"ID", "KIND", "SEVERITY", "VM", "STATE", "COUNT", "OPENED", "LAST-SEEN", "SUPPRESSED", "DETAIL"});
  for (const auto& a : (*all)["value"]) {
    t.add({text(a, "id"), text(a, "kind"), text(a, "severity"), text(a, "vm"), text(a, "state"), text(a, "count"),
           time_text(a, "openedAt"), time_text(a, "lastSeenAt"), text(a, "suppressedBy"), text(a, "detail")});
  }
  t.print();
  return kExitOk;
}

int alert_suppress(const Args& args) {
  constexpr std::string_view kCmd = "alert suppress";
  auto parsed = parse_fleet_options(args, fleet_option_spec({}, {"--group", "--vm", "--kind", "--reason"}));
  if (!parsed) return report_failure(kCmd, parsed.error());
  if (!*parsed) return print_help(kSuppressHelp, kSuppressExit);
  const ParsedOptions& o = **parsed;
  if (auto s = expect_positionals(o, {}); !s) return report_failure(kCmd, s.error());
  const auto group = o.value("--group");
  const auto vm = o.value("--vm");
  auto kind = one_of(o, "--kind", kKinds);
  if (!kind) return report_failure(kCmd, kind.error());
  // A rule with nothing to match would silence every alert of the fleet.
  if (!group && !vm && !*kind) {
    return report_failure(kCmd, usage_error("give at least one of --group, --vm and --kind"));
  }
  const auto reason = o.value("--reason");
  if (!reason || reason->find_first_not_of(" \t") == std::string::npos) {
    return report_failure(kCmd, usage_error("--reason TEXT is required: say why these alerts are silenced"));
  }

  Json body = Json::object();
  if (group) body["group"] = *group;
  if (vm) body["vm"] = *vm;
  if (*kind) body["kind"] = **kind;
  body["reason"] = *reason;

  auto api = ApiClient::from_options(o);
  if (!api) return report_failure(kCmd, api.error());
  auto s = api->call("POST", "/suppressions", &body);
  if (!s) return report_failure(kCmd, s.error());
  if (o.has("--json")) {
    print_json(*s);
  } else {
    print_suppression(*s);
  }
  return kExitOk;
}

int alert_suppressions(const Args& args) {
  constexpr std::string_view kCmd = "alert suppressions";
  auto parsed = parse_fleet_options(args, fleet_option_spec({}, {}));
  if (!parsed) return report_failure(kCmd, parsed.error());
  if (!*parsed) return print_help(kSuppressionsHelp, kSuppressionsExit);
  const ParsedOptions& o = **parsed;
  if (auto s = expect_positionals(o, {}); !s) return report_failure(kCmd, s.error());

  auto api = ApiClient::from_options(o);
  if (!api) return report_failure(kCmd, api.error());
  auto list = api->get("/suppressions");
  if (!list) return report_failure(kCmd, list.error());
  if (o.has("--json")) {
    print_json(*list);
    return kExitOk;
  }
  Table t({"ID", "GROUP", "VM", "KIND", "CREATED", "REASON"});
  const Json& rows = field(*list, "value");
  for (const auto& s : rows.is_array() ? rows : Json::array()) {
    t.add({text(s, "id"), text(s, "group"), text(s, "vm"), text(s, "kind"), time_text(s, "createdAt"),
           text(s, "reason")});
  }
  t.print();
  return kExitOk;
}

int alert_unsuppress(const Args& args) {
  constexpr std::string_view kCmd = "alert unsuppress";
  auto parsed = parse_fleet_options(args, fleet_option_spec({}, {}));
  if (!parsed) return report_failure(kCmd, parsed.error());
  if (!*parsed) return print_help(kUnsuppressHelp, kUnsuppressExit);
  const ParsedOptions& o = **parsed;
  if (auto s = expect_positionals(o, {"ID"}); !s) return report_failure(kCmd, s.error());
  auto id = positive_integer("suppression ID", o.positionals[0]);
  if (!id) return report_failure(kCmd, id.error());

  auto api = ApiClient::from_options(o);
  if (!api) return report_failure(kCmd, api.error());
  auto r = api->call("DELETE", "/suppressions/" + std::to_string(*id));
  if (!r) return report_failure(kCmd, r.error());
  // 204 has no body: with --json there is nothing of the server's to print.
  if (!o.has("--json")) std::printf("removed suppression %lld\n", static_cast<long long>(*id));
  return kExitOk;
}

}  // namespace tl::cli
