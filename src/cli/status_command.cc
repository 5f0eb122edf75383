// tlaunch status: the fleet summary (GET /fleet/summary, docs/fleet-api.md).
#include <initializer_list>
#include <string>

#include "cli/api_client.h"
#include "cli/commands.h"
#include "cli/fleet_args.h"
#include "cli/fleet_output.h"

namespace tl::cli {

namespace {

constexpr const char* kHelp =
    "usage: tlaunch status\n"
    "\n"
    "The fleet at a glance: how many VMs, how many are Healthy, Unhealthy, Unknown and\n"
    "Pending, open (unsuppressed) alerts by severity, recommendations by kind.\n"
    "\n";

constexpr const char* kExit =
    "Exit status: 0 no VM is Unhealthy or Unknown and no alert is open, 1 some are (or\n"
    "the server refused), 2 usage or connection error.\n";

// The counts of one summary member: the names the API documents in their
// natural order (the server's JSON object need not keep it), then any others.
void print_counts(const Json& summary, const char* key, const char* label,
                  std::initializer_list<const char*> known) {
  print_field(label, "");
  const Json& counts = field(summary, key);
  if (!counts.is_object()) return;
  for (const char* name : known) print_field(name, text(counts, name), 2);
  for (const auto& [name, value] : counts.items()) {
    bool listed = false;
    for (const char* k : known) listed = listed || name == k;
    if (!listed) print_field(name, text(value), 2);
  }
}

int64_t count(const Json& summary, const char* key, const char* name) {
  const Json& v = field(field(summary, key), name);
  return v.is_number_integer() ? v.get<int64_t>() : 0;
}

}  // namespace

int fleet_status(const Args& args) {
  constexpr std::string_view kCmd = "status";
  auto parsed = parse_fleet_options(args, fleet_option_spec({}, {}));
  if (!parsed) return report_failure(kCmd, parsed.error());
  if (!*parsed) return print_help(kHelp, kExit);
  const ParsedOptions& o = **parsed;
  if (auto s = expect_positionals(o, {}); !s) return report_failure(kCmd, s.error());

  auto api = ApiClient::from_options(o);
  if (!api) return report_failure(kCmd, api.error());
  auto summary = api->get("/fleet/summary");
  if (!summary) return report_failure(kCmd, summary.error());
  if (o.has("--json")) {
    print_json(*summary);
  } else {
    print_field("server", api->base_url());
    print_field("vms", text(*summary, "vms"));
    print_counts(*summary, "healthStatus", "healthStatus", {"Healthy", "Unhealthy", "Unknown", "Pending"});
    print_counts(*summary, "alerts", "openAlerts", {"High", "Medium", "Low"});
    print_counts(*summary, "recommendations", "recommendations", {"enable-secure-boot", "enable-vtpm", "install-agent"});
  }
  // Something needs an operator: a VM that did not boot as it should or stopped
  // reporting, or an alert nobody silenced.
  const int64_t attention = count(*summary, "healthStatus", "Unhealthy") + count(*summary, "healthStatus", "Unknown") +
                            count(*summary, "alerts", "High") + count(*summary, "alerts", "Medium") +
                            count(*summary, "alerts", "Low");
  return attention > 0 ? kExitFailed : kExitOk;
}

}  // namespace tl::cli
