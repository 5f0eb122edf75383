// tlaunch vm register | list | show | update | delete: the VM inventory over
// tlaunchd's /vms routes (docs/fleet-api.md). A VM that also lives on this
// host (vm_host_local.cc) is shown and changed on both sides.
#include <cstdio>
#include <string>

#include "cli/api_client.h"
#include "cli/commands.h"
#include "cli/fleet_args.h"
#include "cli/fleet_output.h"
#include "cli/vm_host.h"

namespace tl::cli {

namespace {

constexpr const char* kRegisterHelp =
    "usage: tlaunch vm register NAME --vm-id ID --group G [--resource-id ID]\n"
    "                          [--security-type TrustedLaunch|Standard] [--secure-boot on|off]\n"
    "                          [--vtpm on|off] [--agent installed|absent] [--power-state Running|Stopped]\n"
    "\n"
    "Register a VM in tlaunchd's inventory. It is Pending until its agent attests; the\n"
    "first verified attestation binds it to its TPM (EK).\n"
    "\n"
    "  --vm-id ID         the id the VM's agent reports (x-ms-azurevm-vmid)\n"
    "  --group G          its group (image / node pool): the baseline it is compared with\n"
    "  --resource-id ID   free-text resource id\n"
    "  --security-type T  TrustedLaunch (default) or Standard\n"
    "  --secure-boot S    Secure Boot in the profile (default on for TrustedLaunch, off for Standard)\n"
    "  --vtpm S           vTPM in the profile (default on for TrustedLaunch, off for Standard)\n"
    "  --agent A          the attestation agent is installed (server default) or absent\n"
    "  --power-state P    Running (server default) or Stopped\n";

constexpr const char* kRegisterExit =
    "Exit status: 0 registered, 1 the server refused (vm-exists, vm-invalid …),\n"
    "2 usage error, unreadable token file, or the server cannot be reached.\n";

constexpr const char* kListHelp =
    "usage: tlaunch vm list [--group G] [--health Healthy|Unhealthy|Unknown|Pending] [--host-dir DIR]\n"
    "\n"
    "List the registered VMs with their attestation status (every page). VMs on this\n"
    "host come first with their power state, profile, accelerator and fleet health;\n"
    "then the VMs only tlaunchd knows (a tlaunchd is then optional, except with\n"
    "--group or --health: they filter by tlaunchd's inventory, local VMs included).\n"
    "\n"
    "  --host-dir DIR     the host state root (default $TLAUNCH_HOST_DIR, else /var/lib/trustlaunch)\n"
    "  --group G          only VMs of this group\n"
    "  --health H         only VMs with this healthStatus\n";

constexpr const char* kListExit =
    "Exit status: 0 listed, 1 the server refused (or could not be reached while the\n"
    "VMs on this host were listed), 2 usage or connection error.\n";

constexpr const char* kShowHelp =
    "usage: tlaunch vm show NAME [--host-dir DIR]\n"
    "\n"
    "Show a VM: its profile, its attestationStatus properties (Azure Local's names),\n"
    "its recommendations and its number of open alerts. A VM on this host shows its\n"
    "power state, accelerator, the guest's last console marker and last error first.\n"
    "\n"
    "  --host-dir DIR     the host state root (default $TLAUNCH_HOST_DIR, else /var/lib/trustlaunch)\n";

constexpr const char* kShowExit =
    "Exit status: 0 the VM is Healthy or Pending, 1 it is Unhealthy or Unknown, Crashed or\n"
    "BootRefused on this host, or the server refused (vm-not-found …), 2 usage or connection error.\n";

constexpr const char* kUpdateHelp =
    "usage: tlaunch vm update NAME [--group G] [--resource-id ID] [--security-type T]\n"
    "                        [--secure-boot on|off] [--vtpm on|off] [--agent installed|absent]\n"
    "                        [--power-state Running|Stopped] [--rebind-tpm]\n"
    "       tlaunch vm update NAME --enable-secure-boot|--disable-secure-boot\n"
    "                        |--enable-vtpm|--disable-vtpm [--restart] [--host-dir DIR]\n"
    "\n"
    "Change a registered VM (PATCH /vms/NAME); what is not given stays.\n"
    "\n"
    "The second form changes a VM on this host: Secure Boot off swaps in the varstore\n"
    "without keys, on swaps the keys back; vTPM off removes the TPM device (its state\n"
    "is kept), on adds it again. tlaunchd's profile is updated too when the VM is\n"
    "registered. It takes effect at the next boot: --restart restarts a running VM\n"
    "now; on a terminal you are asked; otherwise run 'tlaunch vm restart NAME'.\n"
    "\n"
    "  --rebind-tpm       forget the TPM (EK) the VM is bound to: its next verified\n"
    "                     attestation binds it anew (after a vTPM was replaced)\n"
    "  other options as for 'tlaunch vm register'\n";

constexpr const char* kUpdateExit =
    "Exit status: 0 updated, 1 the server refused, 2 usage or connection error.\n";

constexpr const char* kDeleteHelp =
    "usage: tlaunch vm delete NAME [--keep-inventory] [--host-dir DIR]\n"
    "\n"
    "Remove a VM from the inventory; its open alerts resolve. A VM on this host is\n"
    "stopped and its directory (disk, varstore, vTPM state and key, logs) removed,\n"
    "and it leaves tlaunchd's inventory unless --keep-inventory is given.\n"
    "\n";

constexpr const char* kDeleteExit =
    "Exit status: 0 deleted, 1 the server refused (vm-not-found …), 2 usage or connection error.\n";

const std::vector<std::string> kSecurityTypes = {"TrustedLaunch", "Standard"};
const std::vector<std::string> kAgentStates = {"installed", "absent"};
const std::vector<std::string> kPowerStates = {"Running", "Stopped"};
const std::vector<std::string> kHealth = {"Healthy", "Unhealthy", "Unknown", "Pending"};

// The attestationStatus properties in the API's order (docs/fleet-api.md).
const char* const kStatusProperties[] = {
    "attestSecureBootEnabled", "attestationCertValidated", "bootIntegrityValidated", "healthStatus",
    "linuxKernelVersion",      "errorMessage",             "provisioningState",      "timestamp"};

const Json& properties_of(const Json& vm) { return field(field(vm, "attestationStatus"), "properties"); }

const Json& profile_of(const Json& vm) { return field(vm, "securityProfile"); }

std::string secure_boot_of(const Json& profile) { return text(field(profile, "uefiSettings"), "secureBootEnabled"); }

void print_vm(const Json& vm) {
  print_field("name", text(vm, "name"));
  print_field("id", text(vm, "id"));
  print_field("vmId", text(vm, "vmId"));
  print_field("group", text(vm, "group"));
  const Json& profile = profile_of(vm);
  print_field("securityProfile", "");
  print_field("securityType", text(profile, "securityType"), 2);
  print_field("uefiSettings.secureBootEnabled", secure_boot_of(profile), 2);
  print_field("enableTpm", text(profile, "enableTpm"), 2);
  print_field("agentInstalled", text(vm, "agentInstalled"));
  print_field("powerState", text(vm, "powerState"));
  print_field("ekName", text(vm, "ekName"));
  print_field("registeredAt", time_text(vm, "registeredAt"));
  print_field("attestationStatus", "");
  const Json& props = properties_of(vm);
  for (const char* key : kStatusProperties) {
    print_field(key, std::string_view(key) == "timestamp" ? time_text(props, key) : text(props, key), 2);
  }
  // Properties a newer server adds are shown too, after the known ones.
  if (props.is_object()) {
    for (const auto& [key, value] : props.items()) {
      bool known = false;
      for (const char* k : kStatusProperties) known = known || key == k;
      if (!known) print_field(key, text(value), 2);
    }
  }
  const Json& recs = field(vm, "recommendations");
  if (!recs.is_array() || recs.empty()) {
    print_field("recommendations", "none");
  } else {
    print_field("recommendations", "");
    for (const auto& r : recs) {
      std::printf("  - %s (%s): %s\n", text(r, "kind").c_str(), text(r, "severity").c_str(), text(r, "title").c_str());
    }
  }
  print_field("openAlerts", text(vm, "openAlerts"));
}

// Fields of POST /vms and PATCH /vms/{name} shared by register and update.
struct ProfileOptions {
  std::optional<std::string> security_type, agent, power_state;
  std::optional<bool> secure_boot, vtpm;
};

Result<ProfileOptions> profile_options(const ParsedOptions& o) {
  ProfileOptions p;
  auto type = one_of(o, "--security-type", kSecurityTypes);
  if (!type) return type.take_error();
  auto agent = one_of(o, "--agent", kAgentStates);
  if (!agent) return agent.take_error();
  auto power = one_of(o, "--power-state", kPowerStates);
  if (!power) return power.take_error();
  auto sb = on_off(o, "--secure-boot");
  if (!sb) return sb.take_error();
  auto vtpm = on_off(o, "--vtpm");
  if (!vtpm) return vtpm.take_error();
  return ProfileOptions{*type, *agent, *power, *sb, *vtpm};
}

Json security_profile(const std::string& type, bool secure_boot, bool vtpm) {
  Json p = Json::object();
  p["securityType"] = type;
  p["uefiSettings"] = {{"secureBootEnabled", secure_boot}};
  p["enableTpm"] = vtpm;
  return p;
}

void add_agent_and_power(Json& body, const ProfileOptions& p) {
  if (p.agent) body["agentInstalled"] = *p.agent == "installed";
  if (p.power_state) body["powerState"] = *p.power_state;
}

void print_result(const ParsedOptions& o, const Json& vm) {
  if (o.has("--json")) {
    print_json(vm);
  } else {
    print_vm(vm);
  }
}

}  // namespace

int vm_register(const Args& args) {
  constexpr std::string_view kCmd = "vm register";
  auto parsed = parse_fleet_options(
      args, fleet_option_spec({}, {"--vm-id", "--group", "--resource-id", "--security-type", "--secure-boot",
                                   "--vtpm", "--agent", "--power-state"}));
  if (!parsed) return report_failure(kCmd, parsed.error());
  if (!*parsed) return print_help(kRegisterHelp, kRegisterExit);
  const ParsedOptions& o = **parsed;
  if (auto s = expect_positionals(o, {"NAME"}); !s) return report_failure(kCmd, s.error());
  const auto vm_id = o.value("--vm-id");
  const auto group = o.value("--group");
  if (!vm_id || vm_id->empty()) return report_failure(kCmd, usage_error("--vm-id ID is required"));
  if (!group) return report_failure(kCmd, usage_error("--group G is required"));
  auto p = profile_options(o);
  if (!p) return report_failure(kCmd, p.error());

  const std::string type = p->security_type.value_or("TrustedLaunch");
  // A Trusted Launch VM has Secure Boot and a vTPM unless told otherwise; a
  // Standard one has neither.
  const bool trusted = type == "TrustedLaunch";
  Json body = Json::object();
  body["name"] = o.positionals[0];
  if (auto id = o.value("--resource-id")) body["id"] = *id;
  body["vmId"] = *vm_id;
  body["group"] = *group;
  body["securityProfile"] = security_profile(type, p->secure_boot.value_or(trusted), p->vtpm.value_or(trusted));
  add_agent_and_power(body, *p);

  auto api = ApiClient::from_options(o);
  if (!api) return report_failure(kCmd, api.error());
  auto vm = api->call("POST", "/vms", &body);
  if (!vm) return report_failure(kCmd, vm.error());
  print_result(o, *vm);
  return kExitOk;
}

int vm_list(const Args& args) {
  constexpr std::string_view kCmd = "vm list";
  auto parsed = parse_fleet_options(args, fleet_option_spec({}, {"--group", "--health", "--host-dir"}));
  if (!parsed) return report_failure(kCmd, parsed.error());
  if (!*parsed) return print_help(kListHelp, kListExit);
  const bool local = !host_store(**parsed).names().empty();
  const ParsedOptions& o = **parsed;
  if (auto s = expect_positionals(o, {}); !s) return report_failure(kCmd, s.error());
  auto health = one_of(o, "--health", kHealth);
  if (!health) return report_failure(kCmd, health.error());
  const std::string group = o.value("--group").value_or("");
  if (o.value("--group")) {
    if (auto s = check_name("group", group); !s) return report_failure(kCmd, s.error());
  }

  // The filters are on tlaunchd's view (group and health live there), so on a
  // host they need it: listing every local VM would ignore what was asked.
  const bool filtered = o.value("--group") || health->has_value();
  if (local && filtered && !server_configured(o)) {
    return report_failure(kCmd, usage_error("--group and --health filter by tlaunchd's inventory: give --server "
                                            "(or TLAUNCH_SERVER) and a token"));
  }
  if (local && !server_configured(o)) return local_vm_list(o, nullptr, false);
  auto api = ApiClient::from_options(o);
  if (!api) return report_failure(kCmd, api.error());
  auto all = api->get_all("/vms", {{"group", group}, {"healthStatus", health->value_or("")}});
  if (!all && local) {
    // The VMs on this host can still be listed; say why the fleet column is empty.
    std::fprintf(stderr, "tlaunch: fleet health unavailable: %s\n", all.error().message.c_str());
    if (filtered) return report_failure(kCmd, all.error());  // nothing to filter the local VMs by
    local_vm_list(o, nullptr, false);
    return kExitFailed;
  }
  if (!all) return report_failure(kCmd, all.error());
  if (local) return local_vm_list(o, *all, filtered);
  if (o.has("--json")) {
    print_json(*all);
    return kExitOk;
  }
  Table t({"NAME", "GROUP", "HEALTH", "SECURE-BOOT", "CERT", "BOOT-INTEGRITY", "ALERTS", "TIMESTAMP"});
  for (const auto& vm : (*all)["value"]) {
    const Json& props = properties_of(vm);
    t.add({text(vm, "name"), text(vm, "group"), text(props, "healthStatus"), text(props, "attestSecureBootEnabled"),
           text(props, "attestationCertValidated"), text(props, "bootIntegrityValidated"), text(vm, "openAlerts"),
           time_text(props, "timestamp")});
  }
  t.print();
  return kExitOk;
}

int vm_show(const Args& args) {
  constexpr std::string_view kCmd = "vm show";
  auto parsed = parse_fleet_options(args, fleet_option_spec({}, {"--host-dir"}));
  if (!parsed) return report_failure(kCmd, parsed.error());
  if (!*parsed) return print_help(kShowHelp, kShowExit);
  const ParsedOptions& o = **parsed;
  if (auto s = expect_positionals(o, {"NAME"}); !s) return report_failure(kCmd, s.error());
  const std::string& name = o.positionals[0];
  if (auto s = check_name("VM name", name); !s) return report_failure(kCmd, s.error());
  if (host::check_vm_name(name) && host_store(o).exists(name)) return local_vm_show(o, name, print_vm);

  auto api = ApiClient::from_options(o);
  if (!api) return report_failure(kCmd, api.error());
  auto vm = api->get("/vms/" + percent_encode(name));
  if (!vm) return report_failure(kCmd, vm.error());
  print_result(o, *vm);
  // Scripts can ask "is this VM all right?" by the exit status alone.
  const std::string health = text(properties_of(*vm), "healthStatus");
  return health == "Unhealthy" || health == "Unknown" ? kExitFailed : kExitOk;
}

int vm_update(const Args& args) {
  constexpr std::string_view kCmd = "vm update";
  auto parsed = parse_fleet_options(
      args, fleet_option_spec({"--rebind-tpm", "--enable-secure-boot", "--disable-secure-boot", "--enable-vtpm",
                               "--disable-vtpm", "--restart"},
                              {"--group", "--resource-id", "--security-type", "--secure-boot", "--vtpm", "--agent",
                               "--power-state", "--host-dir"}));
  if (!parsed) return report_failure(kCmd, parsed.error());
  if (!*parsed) return print_help(kUpdateHelp, kUpdateExit);
  const ParsedOptions& o = **parsed;
  if (auto s = expect_positionals(o, {"NAME"}); !s) return report_failure(kCmd, s.error());
  const std::string& name = o.positionals[0];
  if (auto s = check_name("VM name", name); !s) return report_failure(kCmd, s.error());
  const bool local_change = o.has("--enable-secure-boot") || o.has("--disable-secure-boot") ||
                            o.has("--enable-vtpm") || o.has("--disable-vtpm");
  if (local_change) {
    for (const char* fleet_only : {"--group", "--resource-id", "--security-type", "--secure-boot", "--vtpm", "--agent",
                                   "--power-state"}) {
      if (o.value(fleet_only)) {
        return report_failure(kCmd, usage_error(std::string(fleet_only) +
                                                " cannot be combined with --enable-*/--disable-* (a VM on this host)"));
      }
    }
    if (o.has("--rebind-tpm")) return report_failure(kCmd, usage_error("--rebind-tpm cannot be combined with --enable-*/--disable-*"));
    return local_vm_update(o, name);
  }
  if (o.has("--restart")) return report_failure(kCmd, usage_error("--restart goes with --enable-*/--disable-* only"));
  auto p = profile_options(o);
  if (!p) return report_failure(kCmd, p.error());
  const bool profile_change = p->security_type || p->secure_boot || p->vtpm;
  const bool any_change = profile_change || p->agent || p->power_state || o.value("--group") ||
                          o.value("--resource-id") || o.has("--rebind-tpm");
  if (!any_change) return report_failure(kCmd, usage_error("nothing to change: give at least one option"));

  auto api = ApiClient::from_options(o);
  if (!api) return report_failure(kCmd, api.error());
  const std::string path = "/vms/" + percent_encode(name);
  Json body = Json::object();
  if (profile_change) {
    // The API replaces securityProfile as a whole, so the parts not given are
    // taken from the VM as it is now.
    auto current = api->get(path);
    if (!current) return report_failure(kCmd, current.error());
    const Json& now = profile_of(*current);
    auto on = [](const Json& v) { return v.is_boolean() && v.get<bool>(); };
    body["securityProfile"] =
        security_profile(p->security_type.value_or(text(now, "securityType")),
                         p->secure_boot.value_or(on(field(field(now, "uefiSettings"), "secureBootEnabled"))),
                         p->vtpm.value_or(on(field(now, "enableTpm"))));
  }
  if (auto g = o.value("--group")) body["group"] = *g;
  if (auto id = o.value("--resource-id")) body["id"] = *id;
  add_agent_and_power(body, *p);
  if (o.has("--rebind-tpm")) body["unbindEk"] = true;

  auto vm = api->call("PATCH", path, &body);
  if (!vm) return report_failure(kCmd, vm.error());
  print_result(o, *vm);
  return kExitOk;
}

int vm_delete(const Args& args) {
  constexpr std::string_view kCmd = "vm delete";
  auto parsed = parse_fleet_options(args, fleet_option_spec({"--keep-inventory"}, {"--host-dir"}));
  if (!parsed) return report_failure(kCmd, parsed.error());
  if (!*parsed) return print_help(kDeleteHelp, kDeleteExit);
  const ParsedOptions& o = **parsed;
  if (auto s = expect_positionals(o, {"NAME"}); !s) return report_failure(kCmd, s.error());
  const std::string& name = o.positionals[0];
  if (auto s = check_name("VM name", name); !s) return report_failure(kCmd, s.error());
  if (host::check_vm_name(name) && host_store(o).exists(name)) return local_vm_delete(o, name);

  auto api = ApiClient::from_options(o);
  if (!api) return report_failure(kCmd, api.error());
  auto r = api->call("DELETE", "/vms/" + percent_encode(name));
  if (!r) return report_failure(kCmd, r.error());
  // 204 has no body: with --json there is nothing of the server's to print.
  if (!o.has("--json")) std::printf("deleted VM %s\n", name.c_str());
  return kExitOk;
}

}  // namespace tl::cli
