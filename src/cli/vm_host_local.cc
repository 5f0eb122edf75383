// The local side of tlaunch vm list | show | update | delete: VMs on this
// host (ROOT/vms), shown with tlaunchd's view when they are registered.
#include <cstdio>
#include <unistd.h>

#include "cli/fleet_args.h"
#include "cli/fleet_output.h"
#include "cli/vm_host.h"

namespace tl::cli {

namespace {

void progress(const std::string& line) { std::fprintf(stderr, "tlaunch: %s\n", line.c_str()); }

Json local_json(const host::HostStore& store, const host::VmConfig& c, const host::VmState& s) {
  Json j = Json::parse(host::to_json_text(c));
  j["dir"] = store.files(c.name).dir.string();
  j["state"] = Json::parse(host::to_json_text(s));
  return j;
}

const char* on_off(bool b) { return b ? "on" : "off"; }

// The fleet's view of a registered VM, or null (not registered, no server,
// or the server cannot say: then `note` says why).
Json fleet_view(const ParsedOptions& o, const host::VmConfig& c, std::string& note) {
  if (!c.registered && !server_configured(o)) return nullptr;
  auto api = api_for_vm(o, c);
  if (!api) return nullptr;
  if (!*api) {
    note = api->error().message;
    return nullptr;
  }
  auto vm = (*api)->get("/vms/" + percent_encode(c.name));
  if (!vm) {
    note = vm.error().message;
    return nullptr;
  }
  return *vm;
}

}  // namespace

int local_vm_list(const ParsedOptions& o, const Json& fleet, bool only_listed_in_fleet) {
  const auto store = host_store(o);
  Json local = Json::array();
  std::set<std::string> names;
  Table t({"NAME", "POWER", "SECURITY-TYPE", "SECURE-BOOT", "VTPM", "ACCEL", "HEALTH", "LAST-GUEST-MARKER"});
  for (const auto& name : store.names()) {
    auto c = store.config(name);
    if (!c) {
      progress(c.error().message);
      continue;
    }
    auto s = store.state(name);
    host::VmState st = s ? *s : host::VmState{};
    std::string health = c->registered ? "-" : "unregistered";
    bool in_fleet = false;
    if (fleet.is_object()) {
      for (const auto& vm : field(fleet, "value")) {
        if (text(vm, "name") != name) continue;
        health = text(field(field(vm, "attestationStatus"), "properties"), "healthStatus");
        in_fleet = true;
      }
    }
    // A filtered fleet list (--group, --health) filters the local VMs too.
    if (only_listed_in_fleet && !in_fleet) continue;
    names.insert(name);
    local.push_back(local_json(store, *c, st));
    t.add({name, host::power_state_name(st.power), c->security_type, on_off(c->secure_boot), on_off(c->vtpm),
           st.accel.empty() ? "-" : st.accel, health, st.last_marker.empty() ? "-" : st.last_marker});
  }
  if (o.has("--json")) {
    Json out = fleet.is_object() ? fleet : Json{{"value", Json::array()}, {"nextAfter", nullptr}};
    out["local"] = local;
    print_json(out);
    return kExitOk;
  }
  t.print();
  if (fleet.is_object()) {
    Table r({"NAME", "GROUP", "HEALTH", "SECURE-BOOT", "CERT", "BOOT-INTEGRITY", "ALERTS", "TIMESTAMP"});
    bool any = false;
    for (const auto& vm : field(fleet, "value")) {
      if (names.count(text(vm, "name"))) continue;
      const Json& props = field(field(vm, "attestationStatus"), "properties");
      r.add({text(vm, "name"), text(vm, "group"), text(props, "healthStatus"), text(props, "attestSecureBootEnabled"),
             text(props, "attestationCertValidated"), text(props, "bootIntegrityValidated"), text(vm, "openAlerts"),
             time_text(props, "timestamp")});
      any = true;
    }
    if (any) {
      std::puts("\nRegistered in tlaunchd, not on this host:");
      r.print();
    }
  }
  return kExitOk;
}

int local_vm_show(const ParsedOptions& o, const std::string& name, void (*print_fleet)(const Json&)) {
  constexpr std::string_view kCmd = "vm show";
  const auto store = host_store(o);
  auto c = store.config(name);
  if (!c) return report_failure(kCmd, c.error());
  auto s = store.state(name);
  if (!s) return report_failure(kCmd, s.error());
  std::string note;
  const Json fleet = fleet_view(o, *c, note);
  if (o.has("--json")) {
    Json out = local_json(store, *c, *s);
    out["fleet"] = fleet;
    if (!note.empty()) out["fleetError"] = note;
    print_json(out);
  } else {
    print_field("name", c->name);
    print_field("vmId", c->vm_id);
    print_field("dir", store.files(name).dir.string());
    print_field("powerState", host::power_state_name(s->power));
    print_field("securityType", c->security_type);
    print_field("secureBoot", on_off(c->secure_boot));
    print_field("vtpm", on_off(c->vtpm));
    print_field("uefiKeys", host::uefi_keys_name(c->uefi_keys));
    print_field("memoryMiB", std::to_string(c->memory_mib));
    print_field("cpus", std::to_string(c->cpus));
    print_field("accel", s->accel.empty() ? "-" : s->accel);
    print_field("image", c->image_path);
    print_field("startedAt", s->started_at.empty() ? "-" : s->started_at);
    print_field("stoppedAt", s->stopped_at.empty() ? "-" : s->stopped_at);
    print_field("lastGuestMarker", s->last_marker.empty() ? "-" : s->last_marker);
    print_field("lastError", s->last_error.empty() ? "-" : s->last_error);
    print_field("tlaunchd", c->server_url.empty() ? "-" : c->server_url + (c->registered ? " (registered)" : ""));
    if (fleet.is_object()) {
      std::puts("fleet:");
      print_fleet(fleet);
    } else if (!note.empty()) {
      print_field("fleet", "unavailable: " + note);
    }
  }
  if (fleet.is_object()) {
    const std::string health = text(field(field(fleet, "attestationStatus"), "properties"), "healthStatus");
    if (health == "Unhealthy" || health == "Unknown") return kExitFailed;
  } else if (!note.empty()) {
    // A registered VM whose status tlaunchd could not give is not "all right":
    // the connection error's code, as the fleet-only `vm show` answers.
    return kExitBadInput;
  }
  return s->power == host::PowerState::kCrashed || s->power == host::PowerState::kBootRefused ? kExitFailed : kExitOk;
}

int local_vm_update(const ParsedOptions& o, const std::string& name) {
  constexpr std::string_view kCmd = "vm update";
  const auto store = host_store(o);
  auto current = store.config(name);
  if (!current) return report_failure(kCmd, current.error());
  host::VmChange change;
  if (o.has("--enable-secure-boot") && o.has("--disable-secure-boot")) {
    return report_failure(kCmd, usage_error("--enable-secure-boot and --disable-secure-boot contradict each other"));
  }
  if (o.has("--enable-vtpm") && o.has("--disable-vtpm")) {
    return report_failure(kCmd, usage_error("--enable-vtpm and --disable-vtpm contradict each other"));
  }
  if (o.has("--enable-secure-boot")) change.secure_boot = true;
  if (o.has("--disable-secure-boot")) change.secure_boot = false;
  if (o.has("--enable-vtpm")) change.vtpm = true;
  if (o.has("--disable-vtpm")) change.vtpm = false;
  auto next = host::update_vm(store, name, change, host::Firmware::system(), progress);
  if (!next) return report_failure(kCmd, next.error());
  const bool changed = next->secure_boot != current->secure_boot || next->vtpm != current->vtpm;
  progress(name + ": Secure Boot " + on_off(next->secure_boot) + ", vTPM " + on_off(next->vtpm) +
           (changed ? " (from the next boot)" : " (unchanged)"));
  Json fleet;
  if (next->registered || server_configured(o)) {
    if (auto api = api_for_vm(o, *next)) {
      if (!*api) return report_failure(kCmd, api->error());
      Json body = Json::object();
      body["securityProfile"] = {{"securityType", next->security_type},
                                 {"uefiSettings", {{"secureBootEnabled", next->secure_boot}}},
                                 {"enableTpm", next->vtpm}};
      auto r = (*api)->call("PATCH", "/vms/" + percent_encode(name), &body);
      if (!r) return report_failure(kCmd, r.error());
      fleet = *r;
      progress("tlaunchd's inventory has the new profile");
    }
  }
  if (o.has("--json")) {
    Json out = Json::parse(host::to_json_text(*next));
    out["fleet"] = fleet;
    print_json(out);
  }
  auto st = store.state(name);
  const bool running = st && host::is_active(st->power);
  if (!changed || !running) return kExitOk;
  bool restart = o.has("--restart");
  if (!restart && isatty(0) && isatty(2) && !o.has("--json")) {
    std::fprintf(stderr, "restart %s now? [y/N] ", name.c_str());
    char answer[16] = {0};
    if (std::fgets(answer, sizeof answer, stdin) != nullptr) restart = answer[0] == 'y' || answer[0] == 'Y';
  }
  if (!restart) {
    progress("the change takes effect at the next boot: tlaunch vm restart " + name);
    return kExitOk;
  }
  if (auto s = stop_local_vm(store, name, std::chrono::seconds(30)); !s) return report_failure(kCmd, s.error());
  if (auto s = start_local_vm(store, name, "none", std::chrono::seconds(300)); !s) return report_failure(kCmd, s.error());
  return kExitOk;
}

int local_vm_delete(const ParsedOptions& o, const std::string& name) {
  constexpr std::string_view kCmd = "vm delete";
  const auto store = host_store(o);
  auto c = store.config(name);
  if (!c) return report_failure(kCmd, c.error());
  if (auto s = stop_local_vm(store, name, std::chrono::seconds(30)); !s) return report_failure(kCmd, s.error());
  if (c->registered && !o.has("--keep-inventory")) {
    if (auto api = api_for_vm(o, *c)) {
      if (!*api) return report_failure(kCmd, api->error());
      auto r = (*api)->call("DELETE", "/vms/" + percent_encode(name));
      if (!r && r.error().reason != "vm-not-found") return report_failure(kCmd, r.error());
      progress("removed " + name + " from tlaunchd's inventory");
    }
  }
  if (auto s = host::delete_vm_files(store, name); !s) return report_failure(kCmd, s.error());
  if (!o.has("--json")) std::printf("deleted VM %s\n", name.c_str());
  return kExitOk;
}

}  // namespace tl::cli
