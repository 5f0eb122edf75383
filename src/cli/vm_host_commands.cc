// tlaunch vm create | start | stop | restart | ca (and the hidden vm
// supervise): Trusted Launch VMs on this host (docs/host.md).
#include <chrono>
#include <climits>
#include <cstdio>
#include <cstdlib>
#include <csignal>
#include <thread>
#include <unistd.h>

#include "cli/fleet_args.h"
#include "cli/fleet_output.h"
#include "cli/key_args.h"
#include "cli/vm_host.h"
#include "host/agent_conf.h"
#include "host/console_markers.h"
#include "host/process.h"
#include "host/vm_supervisor.h"

namespace tl::cli {

namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

constexpr const char* kHostOptions =
    "  --host-dir DIR     the host state root (default $TLAUNCH_HOST_DIR, else\n"
    "                     /var/lib/trustlaunch)\n";

constexpr const char* kCreateHelp =
    "usage: tlaunch vm create NAME --security-type TrustedLaunch|Standard --image IMAGE\n"
    "                        [--enable-secure-boot|--disable-secure-boot] [--enable-vtpm|--disable-vtpm]\n"
    "                        [--memory MiB] [--cpus N] [--uefi-keys microsoft|snakeoil|PATH]\n"
    "                        [--group G] [--release-key NAME]... [--attest-interval S]\n"
    "                        [--start [--wait-for none|ready|attest] [--wait-timeout S]]\n"
    "\n"
    "Create a VM on this host: ROOT/vms/NAME with its own copy of the boot disk, its\n"
    "UEFI varstore and, with a vTPM, its encrypted swtpm state whose EK certificate\n"
    "is issued by the host's vTPM CA (see 'tlaunch vm ca'). TrustedLaunch turns\n"
    "Secure Boot and the vTPM on unless disabled; Standard has both off unless enabled.\n"
    "When a tlaunchd is configured the VM is registered in its inventory with this\n"
    "profile, and the guest agent is pointed at it (127.0.0.1 becomes 10.0.2.2 in the guest).\n"
    "\n"
    "  NAME               1-63 of a-z 0-9 '-' (not first)\n"
    "  --image IMAGE      an image directory (disk.raw + manifest.json, from\n"
    "                     'tlaunch image build') or a disk.raw file\n"
    "  --memory MiB       guest memory (default 1024)\n"
    "  --cpus N           virtual CPUs (default 1)\n"
    "  --uefi-keys K      Secure Boot keys: microsoft (default), snakeoil, or the path of a\n"
    "                     prepared OVMF 4M varstore with your own PK/KEK/db; it must hold\n"
    "                     live PK, KEK, db and SecureBootEnable=1 (else uefi-keys-invalid)\n"
    "  --group G          the VM's group in tlaunchd (default: the security type in lower case)\n"
    "  --release-key NAME a key the guest agent releases after attesting (repeatable)\n"
    "  --attest-interval S  seconds between the agent's attestations\n"
    "  --start            start it after creating it (as 'tlaunch vm start')\n"
    "  --wait-for W       with --start: none (default), ready or attest (see 'vm start --help')\n"
    "  --wait-timeout S   how long --wait-for waits (default 300)\n";

constexpr const char* kCreateExit =
    "Exit status: 0 created, 1 it could not be made (vm-exists, image-not-found,\n"
    "firmware-missing, uefi-keys-invalid, vtpm-setup-failed …) or tlaunchd refused it,\n"
    "2 usage or connection error.\n";

constexpr const char* kStartHelp =
    "usage: tlaunch vm start NAME [--wait-for none|ready|attest] [--wait-timeout S]\n"
    "\n"
    "Start a VM: a detached supervisor (its log: ROOT/vms/NAME/supervisor.log) starts\n"
    "its swtpm, then QEMU (KVM when it works with SMM, else TCG), and watches both.\n"
    "Returns when QEMU runs, or with the error when it could not start.\n"
    "\n"
    "  --wait-for W       none (default); ready: until the guest reports it is up;\n"
    "                     attest: until it reports a successful attestation\n"
    "  --wait-timeout S   how long --wait-for waits (default 300)\n";

constexpr const char* kStartExit =
    "Exit status: 0 started (and what --wait-for waited for happened), 1 it did not\n"
    "start, Secure Boot refused the boot, the guest failed, or the wait timed out; 2 usage error.\n";

constexpr const char* kStopHelp =
    "usage: tlaunch vm stop NAME [--timeout S]\n"
    "\n"
    "Stop a VM cleanly: ACPI shutdown (the power button), then after --timeout seconds\n"
    "(default 30) QEMU is told to quit, then killed; its swtpm stops after QEMU.\n";

constexpr const char* kStopExit = "Exit status: 0 stopped (or was not running), 1 it could not be stopped, 2 usage error.\n";

constexpr const char* kRestartHelp =
    "usage: tlaunch vm restart NAME [--timeout S] [--wait-for none|ready|attest] [--wait-timeout S]\n"
    "\n"
    "'tlaunch vm stop' then 'tlaunch vm start': changes made by 'vm update' take effect.\n";

constexpr const char* kCaHelp =
    "usage: tlaunch vm ca [--json]\n"
    "\n"
    "The host's vTPM CA, which issues every local VM's EK certificate: creates it when\n"
    "missing and prints its root and issuer certificates. tlaunchd must trust both\n"
    "for attestationCertValidated:\n"
    "  tlaunchd serve --ek-ca ROOT/ca/swtpm-localca-rootca-cert.pem --ek-ca ROOT/ca/issuercert.pem\n"
    "\n"
    "  --json             print {\"rootCert\": PATH, \"issuerCert\": PATH}\n";

constexpr const char* kCaExit = "Exit status: 0 the CA exists, 1 it could not be created, 2 usage error.\n";

int host_help(const char* head, const char* exit_status) {
  std::fputs(head, stdout);
  std::fputs(kHostOptions, stdout);
  return print_help("", exit_status);
}

void progress(const std::string& line) { std::fprintf(stderr, "tlaunch: %s\n", line.c_str()); }

Result<int64_t> bounded(const ParsedOptions& o, const std::string& option, int64_t dflt, int64_t min, int64_t max) {
  auto v = o.value(option);
  if (!v) return dflt;
  auto n = positive_integer(option.c_str(), *v);
  if (!n) return n.take_error();
  if (*n < min || *n > max) {
    return usage_error(option + " must be " + std::to_string(min) + ".." + std::to_string(max) + ", not " + *v);
  }
  return *n;
}

Result<std::string> wait_for_option(const ParsedOptions& o) {
  auto w = one_of(o, "--wait-for", {"none", "ready", "attest"});
  if (!w) return w.take_error();
  return w->value_or("none");
}

std::string self_exe() {
  char buf[PATH_MAX];
  const ssize_t n = ::readlink("/proc/self/exe", buf, sizeof buf - 1);
  if (n <= 0) return "tlaunch";
  return std::string(buf, static_cast<size_t>(n));
}

Json profile_body(const host::VmConfig& c) {
  Json p = Json::object();
  p["securityType"] = c.security_type;
  p["uefiSettings"] = {{"secureBootEnabled", c.secure_boot}};
  p["enableTpm"] = c.vtpm;
  return p;
}

}  // namespace

host::HostStore host_store(const ParsedOptions& o) { return host::HostStore(host::host_root(o.value("--host-dir"))); }

bool server_configured(const ParsedOptions& o) {
  auto set = [](const char* v) {
    const char* e = std::getenv(v);
    return e != nullptr && *e != '\0';
  };
  return o.value("--server") || o.value("--token-file") || set("TLAUNCH_SERVER") || set("TLAUNCH_TOKEN_FILE");
}

std::optional<Result<ApiClient>> api_for_vm(const ParsedOptions& o, const host::VmConfig& c) {
  if (server_configured(o)) return ApiClient::from_options(o);
  if (c.server_url.empty()) return std::nullopt;
  ParsedOptions stored;
  stored.values["--server"] = c.server_url;
  stored.values["--token-file"] = c.token_file;
  if (auto ca = o.value("--cacert")) stored.values["--cacert"] = *ca;
  return ApiClient::from_options(stored);
}

Status start_local_vm(const host::HostStore& store, const std::string& name, const std::string& wait_for,
                      std::chrono::seconds wait_timeout) {
  auto c = store.config(name);
  if (!c) return c.take_error();
  auto st = store.state(name);
  if (!st) return st.take_error();
  if (host::is_active(st->power)) {
    return Error{"VM " + name + " is already " + host::power_state_name(st->power) + " (stop it first)",
                 "vm-running"};
  }
  const host::VmFiles f = store.files(name);
  if (auto s = host::Firmware::system().check(*c); !s) return s;
  for (const char* tool : {"qemu-system-x86_64", "swtpm"}) {
    if (!host::find_in_path(tool)) {
      return Error{std::string(tool) + " not found in PATH: install " +
                       (std::string(tool) == "swtpm" ? "swtpm (apt-get install swtpm swtpm-tools)"
                                                     : "qemu-system-x86 (apt-get install qemu-system-x86)"),
                   "host-tool-missing"};
    }
  }
  // A supervisor that was killed can leave this VM's swtpm behind, holding
  // the vTPM state's lock: end it (only if it is really this VM's).
  // (state() clears the pids of a dead run: read what was recorded.)
  const int64_t old_swtpm = [&]() -> int64_t {
    auto raw = host::read_vm_state(f.state());
    return raw ? raw->swtpm_pid : 0;
  }();
  if (host::process_alive(old_swtpm, "swtpm", f.dir.string())) {
    progress("ending the vTPM (swtpm pid " + std::to_string(old_swtpm) + ") a previous run left behind");
    ::kill(static_cast<pid_t>(old_swtpm), SIGTERM);
    for (int i = 0; i < 50 && host::process_alive(old_swtpm, "swtpm", f.dir.string()); ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
  }
  // Starting, before the supervisor exists; the supervisor's lock
  // (supervisor.lock) keeps a racing second start away from a running VM.
  host::VmState starting = *st;
  starting.power = host::PowerState::kStarting;
  starting.last_error.clear();
  starting.supervisor_pid = starting.qemu_pid = starting.swtpm_pid = 0;
  if (auto s = host::write_vm_state(f.state(), starting); !s) return s;

  host::SpawnOptions so;
  so.new_session = true;  // survives this terminal
  so.stdout_file = so.stderr_file = f.supervisor_log();
  std::vector<std::string> argv{self_exe()};
  for (auto& a : store.supervisor_args(name)) argv.push_back(std::move(a));
  auto child = host::spawn(argv, so);
  if (!child) {
    starting.power = host::PowerState::kCrashed;
    starting.last_error = "the supervisor could not be started: " + child.error().message;
    (void)host::write_vm_state(f.state(), starting);
    return child.take_error();
  }
  progress("starting " + name + " (supervisor pid " + std::to_string(child->pid()) + ", log " +
           f.supervisor_log().string() + ")");

  const auto deadline = Clock::now() + std::chrono::seconds(90);
  for (;;) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    const bool supervisor_running = child->running();  // reaps it when it has ended
    auto now = host::read_vm_state(f.state());
    if (!now) return now.take_error();
    if (now->power == host::PowerState::kRunning) {
      progress(name + " is running (QEMU pid " + std::to_string(now->qemu_pid) + ", accelerator " + now->accel + ")");
      break;
    }
    if (!host::is_active(now->power)) {
      if (now->power == host::PowerState::kBootRefused || now->power == host::PowerState::kStopped) break;
      return Error{"VM " + name + " did not start: " + (now->last_error.empty() ? "see " + f.supervisor_log().string() : now->last_error),
                   "vm-start-failed"};
    }
    if (!supervisor_running) {
      auto tail = host::read_text_file(f.supervisor_log());
      return Error{"the supervisor of " + name + " ended before QEMU ran: " +
                       (tail ? tail->substr(tail->size() > 600 ? tail->size() - 600 : 0) : f.supervisor_log().string()),
                   "vm-start-failed"};
    }
    if (Clock::now() > deadline) {
      return Error{"VM " + name + " did not start within 90 s: see " + f.supervisor_log().string(), "vm-start-failed"};
    }
  }
  if (wait_for == "none") {
    auto now = host::read_vm_state(f.state());
    if (now && now->power == host::PowerState::kBootRefused) {
      return Error{"VM " + name + ": " + now->last_error, "boot-refused"};
    }
    return {};
  }

  progress("waiting for the guest (" + wait_for + ", up to " + std::to_string(wait_timeout.count()) +
           " s; a TCG boot takes about 30 s)");
  const auto started = Clock::now();
  const auto wait_deadline = started + wait_timeout;
  auto next_note = started + std::chrono::seconds(10);
  size_t shown = 0;
  for (;;) {
    // The console is small: read it whole each time, report what is new.
    host::ConsoleScanner scanner;
    auto text = host::read_text_file(f.console_log(), 64 << 20);
    std::vector<host::Marker> markers = text ? scanner.feed(*text + "\n") : std::vector<host::Marker>{};
    for (size_t i = shown; i < markers.size(); ++i) progress("guest: " + markers[i].line);
    shown = std::max(shown, markers.size());
    // The supervisor records the marker within its next poll: wait for it so
    // that a `vm show` right after this command shows it.
    auto recorded = [&] {
      const auto until = Clock::now() + std::chrono::seconds(3);
      while (Clock::now() < until) {
        auto now = host::read_vm_state(f.state());
        if (!now || !now->last_marker.empty()) break;
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
      }
      return Status{};
    };
    for (const auto& m : markers) {
      if (m.kind == host::MarkerKind::kBootRefused) {
        // The supervisor reports it to tlaunchd and then records BootRefused:
        // wait for that, so `vm show` right after agrees with this answer.
        const auto until = Clock::now() + std::chrono::seconds(30);
        while (Clock::now() < until) {
          auto now = host::read_vm_state(f.state());
          if (!now || now->power == host::PowerState::kBootRefused || !host::is_active(now->power)) break;
          std::this_thread::sleep_for(std::chrono::milliseconds(100));
        }
        return Error{"VM " + name + ": Secure Boot refused the boot: " + m.line, "boot-refused"};
      }
      if (wait_for == "ready" && m.kind == host::MarkerKind::kReady) return recorded();
      if (wait_for == "attest" && m.kind == host::MarkerKind::kAttestOk) return recorded();
      if (wait_for == "attest" && (m.kind == host::MarkerKind::kAttestFailed || m.kind == host::MarkerKind::kNoTpm ||
                                   m.kind == host::MarkerKind::kNoConfig)) {
        return Error{"VM " + name + ": " + m.line, "guest-attest-failed"};
      }
    }
    auto now = host::read_vm_state(f.state());
    if (now && !host::is_active(now->power)) {
      return Error{"VM " + name + " is " + host::power_state_name(now->power) + " before the guest was " + wait_for +
                       (now->last_error.empty() ? "" : ": " + now->last_error),
                   "vm-not-running"};
    }
    if (Clock::now() > wait_deadline) {
      return Error{"the guest of " + name + " was not " + wait_for + " within " + std::to_string(wait_timeout.count()) +
                       " s (console: " + f.console_log().string() + ")",
                   "guest-timeout"};
    }
    if (Clock::now() > next_note) {
      progress("still waiting (" +
               std::to_string(std::chrono::duration_cast<std::chrono::seconds>(Clock::now() - started).count()) + " s)");
      next_note += std::chrono::seconds(10);
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(250));
  }
}

Status stop_local_vm(const host::HostStore& store, const std::string& name, std::chrono::seconds timeout) {
  auto c = store.config(name);
  if (!c) return c.take_error();
  auto s = host::stop_vm(store, name, timeout, progress);
  if (!s) return s;
  auto st = store.state(name);
  if (st) progress(name + " is " + host::power_state_name(st->power));
  return {};
}

int vm_create(const Args& in) {
  constexpr std::string_view kCmd = "vm create";
  Args args = in;
  auto release_keys = take_repeated(args, "--release-key");
  if (!release_keys) return report_failure(kCmd, release_keys.error());
  auto parsed = parse_fleet_options(
      args, fleet_option_spec({"--enable-secure-boot", "--disable-secure-boot", "--enable-vtpm", "--disable-vtpm", "--start"},
                              {"--security-type", "--image", "--memory", "--cpus", "--uefi-keys", "--group",
                               "--attest-interval", "--host-dir", "--wait-for", "--wait-timeout"}));
  if (!parsed) return report_failure(kCmd, parsed.error());
  if (!*parsed) return host_help(kCreateHelp, kCreateExit);
  const ParsedOptions& o = **parsed;
  if (auto s = expect_positionals(o, {"NAME"}); !s) return report_failure(kCmd, s.error());
  host::VmConfig c;
  c.name = o.positionals[0];
  if (auto s = host::check_vm_name(c.name); !s) return report_failure(kCmd, usage_error(s.error().message));
  auto type = one_of(o, "--security-type", {"TrustedLaunch", "Standard"});
  if (!type) return report_failure(kCmd, type.error());
  if (!*type) return report_failure(kCmd, usage_error("--security-type TrustedLaunch|Standard is required"));
  c.security_type = **type;
  const bool trusted = c.security_type == "TrustedLaunch";
  if (o.has("--enable-secure-boot") && o.has("--disable-secure-boot")) {
    return report_failure(kCmd, usage_error("--enable-secure-boot and --disable-secure-boot contradict each other"));
  }
  if (o.has("--enable-vtpm") && o.has("--disable-vtpm")) {
    return report_failure(kCmd, usage_error("--enable-vtpm and --disable-vtpm contradict each other"));
  }
  c.secure_boot = o.has("--enable-secure-boot") || (trusted && !o.has("--disable-secure-boot"));
  c.vtpm = o.has("--enable-vtpm") || (trusted && !o.has("--disable-vtpm"));
  const auto image = o.value("--image");
  if (!image) return report_failure(kCmd, usage_error("--image IMAGE is required (an image directory or disk.raw)"));
  auto mem = bounded(o, "--memory", 1024, 128, 1 << 20);
  if (!mem) return report_failure(kCmd, mem.error());
  c.memory_mib = *mem;
  auto cpus = bounded(o, "--cpus", 1, 1, 256);
  if (!cpus) return report_failure(kCmd, cpus.error());
  c.cpus = *cpus;
  auto interval = bounded(o, "--attest-interval", 0, 1, 7 * 24 * 3600);
  if (!interval) return report_failure(kCmd, interval.error());
  c.attest_interval = *interval;
  if (auto k = o.value("--uefi-keys")) {
    if (*k == "microsoft") c.uefi_keys = host::UefiKeys::kMicrosoft;
    else if (*k == "snakeoil") c.uefi_keys = host::UefiKeys::kSnakeoil;
    else {
      c.uefi_keys = host::UefiKeys::kCustom;
      c.uefi_keys_file = fs::absolute(*k).string();
    }
  }
  c.group = o.value("--group").value_or(trusted ? "trustedlaunch" : "standard");
  if (auto s = check_name("group", c.group); !s) return report_failure(kCmd, s.error());
  c.release_keys = *release_keys;
  auto wait_for = wait_for_option(o);
  if (!wait_for) return report_failure(kCmd, wait_for.error());
  auto wait_timeout = bounded(o, "--wait-timeout", 300, 1, 24 * 3600);
  if (!wait_timeout) return report_failure(kCmd, wait_timeout.error());
  c.vm_id = host::random_uuid();

  std::optional<ApiClient> api;
  if (server_configured(o)) {
    auto a = ApiClient::from_options(o);
    if (!a) return report_failure(kCmd, a.error());
    c.server_url = a->base_url();
    if (auto tf = o.value("--token-file")) c.token_file = fs::absolute(*tf).string();
    else if (const char* e = std::getenv("TLAUNCH_TOKEN_FILE")) c.token_file = fs::absolute(e).string();
    c.guest_endpoint = host::guest_view_of(c.server_url);
    api.emplace(std::move(*a));
  }
  // An https tlaunchd: the guest has no CA store, so it gets the CA the CLI
  // trusts (fw_cfg opt/org.trustlaunch/ca.pem), or the agent could not connect.
  std::string guest_ca;
  if (c.guest_endpoint.rfind("https://", 0) == 0) {
    if (auto v = o.value("--cacert")) guest_ca = *v;
    else if (const char* e = std::getenv("TLAUNCH_CACERT"); e && *e) guest_ca = e;
    if (guest_ca.empty()) {
      return report_failure(kCmd, usage_error("tlaunchd is https: give --cacert FILE (or TLAUNCH_CACERT) so that "
                                              "the guest agent can check its certificate"));
    }
  }
  const host::HostStore store = host_store(o);
  auto made = host::create_vm(store, c, *image, host::Firmware::system(), progress);
  if (!made) return report_failure(kCmd, made.error());
  c = *made;
  if (!guest_ca.empty()) {
    auto pem = host::read_text_file(guest_ca, 1 << 20);
    Status copied = pem ? write_file_atomic(store.files(c.name).tlaunchd_ca(), *pem, 0644) : Status(pem.error());
    if (!copied) {
      return report_failure(kCmd, with_context("the guest's copy of --cacert " + guest_ca, copied.take_error()));
    }
  }
  progress("created " + c.name + " in " + store.files(c.name).dir.string() + " (vmId " + c.vm_id + ", Secure Boot " +
           (c.secure_boot ? "on" : "off") + ", vTPM " + (c.vtpm ? "on" : "off") + ")");
  if (c.vtpm) {
    progress("its EK certificate chains to " + store.ca().root_cert().string() + " and " +
             store.ca().issuer_cert().string() + " (tlaunchd --ek-ca)");
  }
  Json fleet_vm;
  if (api) {
    Json body = Json::object();
    body["name"] = c.name;
    body["vmId"] = c.vm_id;
    body["group"] = c.group;
    body["securityProfile"] = profile_body(c);
    auto r = api->call("POST", "/vms", &body);
    if (!r) {
      (void)host::delete_vm_files(store, c.name);
      progress("removed the local VM again: tlaunchd did not register it");
      return report_failure(kCmd, r.error());
    }
    fleet_vm = *r;
    c.registered = true;
    if (auto s = host::write_vm_config(store.files(c.name).config(), c); !s) return report_failure(kCmd, s.error());
    progress("registered " + c.name + " in tlaunchd's inventory at " + c.server_url + " (group " + c.group + ")");
  }
  if (o.has("--start")) {
    if (auto s = start_local_vm(store, c.name, *wait_for, std::chrono::seconds(*wait_timeout)); !s) {
      return report_failure(kCmd, s.error());
    }
  }
  if (o.has("--json")) {
    Json out = Json::parse(host::to_json_text(c));
    if (!fleet_vm.is_null()) out["fleet"] = fleet_vm;
    print_json(out);
  } else {
    std::printf("created VM %s (vmId %s)\n", c.name.c_str(), c.vm_id.c_str());
  }
  return kExitOk;
}

int vm_start(const Args& args) {
  constexpr std::string_view kCmd = "vm start";
  auto parsed = parse_fleet_options(args, fleet_option_spec({}, {"--host-dir", "--wait-for", "--wait-timeout"}));
  if (!parsed) return report_failure(kCmd, parsed.error());
  if (!*parsed) return host_help(kStartHelp, kStartExit);
  const ParsedOptions& o = **parsed;
  if (auto s = expect_positionals(o, {"NAME"}); !s) return report_failure(kCmd, s.error());
  auto wait_for = wait_for_option(o);
  if (!wait_for) return report_failure(kCmd, wait_for.error());
  auto wait_timeout = bounded(o, "--wait-timeout", 300, 1, 24 * 3600);
  if (!wait_timeout) return report_failure(kCmd, wait_timeout.error());
  if (auto s = start_local_vm(host_store(o), o.positionals[0], *wait_for, std::chrono::seconds(*wait_timeout)); !s) {
    return report_failure(kCmd, s.error());
  }
  return kExitOk;
}

int vm_stop(const Args& args) {
  constexpr std::string_view kCmd = "vm stop";
  auto parsed = parse_fleet_options(args, fleet_option_spec({}, {"--host-dir", "--timeout"}));
  if (!parsed) return report_failure(kCmd, parsed.error());
  if (!*parsed) return host_help(kStopHelp, kStopExit);
  const ParsedOptions& o = **parsed;
  if (auto s = expect_positionals(o, {"NAME"}); !s) return report_failure(kCmd, s.error());
  auto timeout = bounded(o, "--timeout", 30, 0, 3600);
  if (!timeout) return report_failure(kCmd, timeout.error());
  if (auto s = stop_local_vm(host_store(o), o.positionals[0], std::chrono::seconds(*timeout)); !s) {
    return report_failure(kCmd, s.error());
  }
  return kExitOk;
}

int vm_restart(const Args& args) {
  constexpr std::string_view kCmd = "vm restart";
  auto parsed =
      parse_fleet_options(args, fleet_option_spec({}, {"--host-dir", "--timeout", "--wait-for", "--wait-timeout"}));
  if (!parsed) return report_failure(kCmd, parsed.error());
  if (!*parsed) return host_help(kRestartHelp, kStartExit);
  const ParsedOptions& o = **parsed;
  if (auto s = expect_positionals(o, {"NAME"}); !s) return report_failure(kCmd, s.error());
  auto timeout = bounded(o, "--timeout", 30, 0, 3600);
  if (!timeout) return report_failure(kCmd, timeout.error());
  auto wait_for = wait_for_option(o);
  if (!wait_for) return report_failure(kCmd, wait_for.error());
  auto wait_timeout = bounded(o, "--wait-timeout", 300, 1, 24 * 3600);
  if (!wait_timeout) return report_failure(kCmd, wait_timeout.error());
  const auto store = host_store(o);
  if (auto s = stop_local_vm(store, o.positionals[0], std::chrono::seconds(*timeout)); !s) {
    return report_failure(kCmd, s.error());
  }
  if (auto s = start_local_vm(store, o.positionals[0], *wait_for, std::chrono::seconds(*wait_timeout)); !s) {
    return report_failure(kCmd, s.error());
  }
  return kExitOk;
}

int vm_supervise(const Args& args) {
  constexpr std::string_view kCmd = "vm supervise";
  auto parsed = parse_fleet_options(args, OptionSpec{{"--help"}, {"--host-dir"}});
  if (!parsed) return report_failure(kCmd, parsed.error());
  if (!*parsed) {
    std::puts("usage: tlaunch vm supervise NAME [--host-dir DIR]\n\nInternal: the supervisor 'tlaunch vm start' "
              "launches (detached). Not for direct use.");
    return kExitOk;
  }
  const ParsedOptions& o = **parsed;
  if (auto s = expect_positionals(o, {"NAME"}); !s) return report_failure(kCmd, s.error());
  const std::string name = o.positionals[0];
  const auto store = host_store(o);
  auto log = [](const std::string& line) {
    std::fprintf(stderr, "%s %s\n", host::now_rfc3339().c_str(), line.c_str());
    std::fflush(stderr);
  };
  auto config = store.config(name);
  if (!config) return report_failure(kCmd, config.error());
  // Events go to the tlaunchd recorded at create (the environment may name another).
  ParsedOptions none;
  auto api = api_for_vm(none, *config);
  host::HostEventSink sink = [&](const std::string& kind, const std::string& detail) {
    if (!api || !config->registered) return;
    if (!*api) {
      log("cannot tell tlaunchd: " + api->error().message);
      return;
    }
    if (kind == "powerState") {
      Json body = {{"powerState", detail}};
      auto r = (*api)->call("PATCH", "/vms/" + percent_encode(name), &body);
      if (!r) log("tlaunchd did not take powerState " + detail + ": " + r.error().message);
      else log("told tlaunchd: powerState " + detail);
      return;
    }
    Json body = {{"kind", kind}, {"detail", detail}};
    auto r = (*api)->call("POST", "/vms/" + percent_encode(name) + "/host-events", &body);
    if (!r) log("tlaunchd did not take the " + kind + " event (an older tlaunchd answers 404): " + r.error().message);
    else log("reported " + kind + " to tlaunchd");
  };
  host::install_supervisor_signal_handlers();
  log("supervising " + name + " (pid " + std::to_string(getpid()) + ")");
  auto st = host::supervise(store, name, host::SupervisorOptions{}, sink, log);
  if (!st) {
    log("supervisor failed: " + st.error().message);
    return kExitFailed;
  }
  return kExitOk;
}

int vm_ca(const Args& args) {
  constexpr std::string_view kCmd = "vm ca";
  auto parsed = parse_fleet_options(args, OptionSpec{{"--help", "--json"}, {"--host-dir"}});
  if (!parsed) return report_failure(kCmd, parsed.error());
  if (!*parsed) {
    // No tlaunchd is involved: only the host options.
    std::fputs(kCaHelp, stdout);
    std::fputs(kHostOptions, stdout);
    std::fputs("\n", stdout);
    std::fputs(kCaExit, stdout);
    return kExitOk;
  }
  const ParsedOptions& o = **parsed;
  if (auto s = expect_positionals(o, {}); !s) return report_failure(kCmd, s.error());
  const auto ca = host_store(o).ca();
  if (!ca.exists()) progress("creating the host's vTPM CA in " + ca.dir.string());
  if (auto s = ca.ensure(); !s) return report_failure(kCmd, s.error());
  if (o.has("--json")) {
    print_json(Json{{"rootCert", ca.root_cert().string()}, {"issuerCert", ca.issuer_cert().string()}});
  } else {
    std::printf("root:   %s\nissuer: %s\ntlaunchd serve --ek-ca %s --ek-ca %s\n", ca.root_cert().c_str(),
                ca.issuer_cert().c_str(), ca.root_cert().c_str(), ca.issuer_cert().c_str());
  }
  return kExitOk;
}

}  // namespace tl::cli
