// tlaunch recommendation list: what would make VMs better protected, over
// tlaunchd's /recommendations route (docs/fleet-api.md).
#include <string>

#include "cli/api_client.h"
#include "cli/commands.h"
#include "cli/fleet_args.h"
#include "cli/fleet_output.h"

namespace tl::cli {

namespace {

constexpr const char* kListHelp =
    "usage: tlaunch recommendation list [--kind KIND]\n"
    "\n"
    "List the recommendations for every VM (every page): enable-secure-boot (the\n"
    "profile supports it but it is off), enable-vtpm, install-agent (Secure Boot and\n"
    "vTPM are on but no agent reports).\n"
    "\n"
    "  --kind KIND        enable-secure-boot | enable-vtpm | install-agent\n";

constexpr const char* kListExit = "Exit status: 0 listed, 1 the server refused, 2 usage or connection error.\n";

const std::vector<std::string> kKinds = {"enable-secure-boot", "enable-vtpm", "install-agent"};

}  // namespace

int recommendation_list(const Args& args) {
  constexpr std::string_view kCmd = "recommendation list";
  auto parsed = parse_fleet_options(args, fleet_option_spec({}, {"--kind"}));
  if (!parsed) return report_failure(kCmd, parsed.error());
  if (!*parsed) return print_help(kListHelp, kListExit);
  const ParsedOptions& o = **parsed;
  if (auto s = expect_positionals(o, {}); !s) return report_failure(kCmd, s.error());
  auto kind = one_of(o, "--kind", kKinds);
  if (!kind) return report_failure(kCmd, kind.error());

  auto api = ApiClient::from_options(o);
  if (!api) return report_failure(kCmd, api.error());
  auto all = api->get_all("/recommendations", {{"kind", kind->value_or("")}});
  if (!all) return report_failure(kCmd, all.error());
  if (o.has("--json")) {
    print_json(*all);
    return kExitOk;
  }
  Table t({"VM", "KIND", "SEVERITY", "TITLE", "DETAIL"});
  for (const auto& r : (*all)["value"]) {
    t.add({text(r, "vm"), text(r, "kind"), text(r, "severity"), text(r, "title"), text(r, "detail")});
  }
  t.print();
  return kExitOk;
}

}  // namespace tl::cli
