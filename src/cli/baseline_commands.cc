// tlaunch baseline create | list | show | learn: the trusted baselines of VM
// groups over tlaunchd's /baselines routes (docs/fleet-api.md).
#include <cstdio>
#include <string>

#include "cli/api_client.h"
#include "cli/commands.h"
#include "cli/fleet_args.h"
#include "cli/fleet_output.h"
#include "token/base64url.h"

namespace tl::cli {

namespace {

constexpr const char* kCreateHelp =
    "usage: tlaunch baseline create GROUP --from-eventlog FILE [--variant NAME]\n"
    "                               [--pcrs 0,2,4,7,8,9] [--add-variant]\n"
    "\n"
    "Create the trusted baseline of a VM group from a known-good TCG event log\n"
    "(binary_bios_measurements of a VM that booted as it should). tlaunchd checks the\n"
    "log and keeps its measurements and the PCR values that follow from them.\n"
    "\n"
    "  --from-eventlog FILE  the binary event log\n"
    "  --variant NAME        the variant's name (e.g. kernel-6.1.0-27; server default otherwise)\n"
    "  --pcrs LIST           the PCRs a VM's boot must match, comma-separated 0-23\n"
    "                        (server default otherwise)\n"
    "  --add-variant         add this log as one more known-good variant of the group's\n"
    "                        newest baseline (e.g. two kernels during a rollout) instead\n"
    "                        of starting a new version with it alone\n";

constexpr const char* kCreateExit =
    "Exit status: 0 created, 1 the server refused (eventlog-malformed, baseline-invalid …),\n"
    "2 usage error, unreadable file, or the server cannot be reached.\n";

constexpr const char* kListHelp =
    "usage: tlaunch baseline list\n"
    "\n"
    "List the groups' newest baselines: version, variants, learning.\n"
    "\n";

constexpr const char* kListExit = "Exit status: 0 listed, 1 the server refused, 2 usage or connection error.\n";

constexpr const char* kShowHelp =
    "usage: tlaunch baseline show GROUP [--version N]\n"
    "\n"
    "Show a group's baseline: its PCRs, and per variant its PCR values and number of\n"
    "measurements (--json has every measurement).\n"
    "\n"
    "  --version N        this version instead of the newest\n";

constexpr const char* kShowExit =
    "Exit status: 0 shown, 1 the server refused (baseline-not-found …), 2 usage or connection error.\n";

constexpr const char* kLearnHelp =
    "usage: tlaunch baseline learn GROUP on|off\n"
    "\n"
    "Turn learning on or off for a group: with learning on and no baseline yet, the\n"
    "first verified attestation of a VM of the group becomes its baseline.\n"
    "\n";

constexpr const char* kLearnExit = "Exit status: 0 set, 1 the server refused, 2 usage or connection error.\n";

std::string joined_values(const Json& array) {
  std::string out;
  if (!array.is_array()) return text(array);
  for (const auto& v : array) out += (out.empty() ? "" : ",") + text(v);
  return out.empty() ? "-" : out;
}

void print_baseline(const Json& b) {
  print_field("group", text(b, "group"));
  print_field("version", text(b, "version"));
  print_field("createdAt", time_text(b, "createdAt"));
  // GET /baselines/{group} does not say; POST and a newer server may.
  if (!field(b, "learning").is_null()) print_field("learning", text(b, "learning"));
  print_field("pcrs", joined_values(field(b, "pcrs")));
  const Json& variants = field(b, "variants");
  print_field("variants", std::to_string(variants.is_array() ? variants.size() : 0));
  if (!variants.is_array()) return;
  for (const auto& v : variants) {
    print_field("variant", text(v, "name"));
    print_field("source", text(v, "source"), 2);
    print_field("createdAt", time_text(v, "createdAt"), 2);
    const Json& m = field(v, "measurements");
    print_field("measurements", std::to_string(m.is_array() ? m.size() : 0), 2);
    const Json& pcrs = field(v, "pcrValues");
    print_field("pcrValues", "", 2);
    if (pcrs.is_object()) {
      for (const auto& [pcr, value] : pcrs.items()) print_field(pcr, text(value), 4);
    }
  }
}

}  // namespace

int baseline_create(const Args& args) {
  constexpr std::string_view kCmd = "baseline create";
  auto parsed =
      parse_fleet_options(args, fleet_option_spec({"--add-variant"}, {"--from-eventlog", "--variant", "--pcrs"}));
  if (!parsed) return report_failure(kCmd, parsed.error());
  if (!*parsed) return print_help(kCreateHelp, kCreateExit);
  const ParsedOptions& o = **parsed;
  if (auto s = expect_positionals(o, {"GROUP"}); !s) return report_failure(kCmd, s.error());
  const std::string& group = o.positionals[0];
  if (auto s = check_name("group", group); !s) return report_failure(kCmd, s.error());
  const auto log_path = o.value("--from-eventlog");
  if (!log_path) return report_failure(kCmd, usage_error("--from-eventlog FILE is required"));
  std::optional<std::vector<int>> pcrs;
  if (auto text_pcrs = o.value("--pcrs")) {
    auto p = parse_pcr_list(*text_pcrs);
    if (!p) return report_failure(kCmd, p.error());
    pcrs = std::move(*p);
  }
  auto log = read_file_bytes(*log_path);
  if (!log) return report_failure(kCmd, usage_error(log.error().message));
  if (log->empty()) return report_failure(kCmd, usage_error(*log_path + " is empty: not an event log"));

  Json body = Json::object();
  body["eventLog"] = token::base64url_encode(*log);
  if (auto variant = o.value("--variant")) body["variant"] = *variant;
  if (pcrs) body["pcrs"] = *pcrs;
  body["mode"] = o.has("--add-variant") ? "add-variant" : "new-version";

  auto api = ApiClient::from_options(o);
  if (!api) return report_failure(kCmd, api.error());
  auto b = api->call("POST", "/baselines/" + percent_encode(group), &body);
  if (!b) return report_failure(kCmd, b.error());
  if (o.has("--json")) {
    print_json(*b);
  } else {
    print_baseline(*b);
  }
  return kExitOk;
}

int baseline_list(const Args& args) {
  constexpr std::string_view kCmd = "baseline list";
  auto parsed = parse_fleet_options(args, fleet_option_spec({}, {}));
  if (!parsed) return report_failure(kCmd, parsed.error());
  if (!*parsed) return print_help(kListHelp, kListExit);
  const ParsedOptions& o = **parsed;
  if (auto s = expect_positionals(o, {}); !s) return report_failure(kCmd, s.error());

  auto api = ApiClient::from_options(o);
  if (!api) return report_failure(kCmd, api.error());
  auto list = api->get("/baselines");
  if (!list) return report_failure(kCmd, list.error());
  if (o.has("--json")) {
    print_json(*list);
    return kExitOk;
  }
  Table t({"GROUP", "VERSION", "VARIANTS", "LEARNING", "CREATED"});
  const Json& rows = field(*list, "value");
  for (const auto& b : rows.is_array() ? rows : Json::array()) {
    // Version 0: learning is on and nothing was learned yet.
    const std::string version = field(b, "version") == Json(0) ? "-" : text(b, "version");
    t.add({text(b, "group"), version, joined_values(field(b, "variants")), text(b, "learning"),
           time_text(b, "createdAt")});
  }
  t.print();
  return kExitOk;
}

int baseline_show(const Args& args) {
  constexpr std::string_view kCmd = "baseline show";
  auto parsed = parse_fleet_options(args, fleet_option_spec({}, {"--version"}));
  if (!parsed) return report_failure(kCmd, parsed.error());
  if (!*parsed) return print_help(kShowHelp, kShowExit);
  const ParsedOptions& o = **parsed;
  if (auto s = expect_positionals(o, {"GROUP"}); !s) return report_failure(kCmd, s.error());
  const std::string& group = o.positionals[0];
  if (auto s = check_name("group", group); !s) return report_failure(kCmd, s.error());
  std::string version;
  if (auto v = o.value("--version")) {
    auto n = positive_integer("--version", *v);
    if (!n) return report_failure(kCmd, n.error());
    version = std::to_string(*n);
  }

  auto api = ApiClient::from_options(o);
  if (!api) return report_failure(kCmd, api.error());
  auto b = api->get(with_query("/baselines/" + percent_encode(group), {{"version", version}}));
  if (!b) return report_failure(kCmd, b.error());
  if (o.has("--json")) {
    print_json(*b);
  } else {
    print_baseline(*b);
  }
  return kExitOk;
}

int baseline_learn(const Args& args) {
  constexpr std::string_view kCmd = "baseline learn";
  auto parsed = parse_fleet_options(args, fleet_option_spec({}, {}));
  if (!parsed) return report_failure(kCmd, parsed.error());
  if (!*parsed) return print_help(kLearnHelp, kLearnExit);
  const ParsedOptions& o = **parsed;
  if (auto s = expect_positionals(o, {"GROUP", "on|off"}); !s) return report_failure(kCmd, s.error());
  const std::string& group = o.positionals[0];
  if (auto s = check_name("group", group); !s) return report_failure(kCmd, s.error());
  const std::string& state = o.positionals[1];
  if (state != "on" && state != "off") {
    return report_failure(kCmd, usage_error("learning is on or off, not '" + state + "'"));
  }

  auto api = ApiClient::from_options(o);
  if (!api) return report_failure(kCmd, api.error());
  const Json body = {{"enabled", state == "on"}};
  auto r = api->call("PUT", "/baselines/" + percent_encode(group) + "/learning", &body);
  if (!r) return report_failure(kCmd, r.error());
  if (o.has("--json")) {
    print_json(*r);
  } else {
    std::printf("group %s: learning %s\n", text(*r, "group").c_str(),
                field(*r, "learning") == Json(true) ? "on" : "off");
  }
  return kExitOk;
}

}  // namespace tl::cli
