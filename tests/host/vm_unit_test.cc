// The VM runtime's pure parts: vm.json and state.json (strict, hostile input),
// the power-state machine, the QEMU command line, agent.conf, the console
// marker parser.
#include <gtest/gtest.h>

#include <algorithm>
#include <csignal>
#include <nlohmann/json.hpp>

#include "host/agent_conf.h"
#include "host/process.h"
#include "host/console_markers.h"
#include "host/qemu_argv.h"
#include "host/vm_config.h"
#include "host/vm_state.h"
#include "host/vm_supervisor.h"

namespace tl::host {
namespace {

VmConfig sample() {
  VmConfig c;
  c.name = "web-01";
  c.vm_id = "5e0c7d0e-8d8d-4a4e-9b1b-0c2d4c6f1a11";
  c.image_path = "/img";
  c.server_url = "http://127.0.0.1:8080";
  c.token_file = "/t";
  c.guest_endpoint = "http://10.0.2.2:8080";
  c.group = "pool";
  c.release_keys = {"k1", "k2"};
  c.attest_interval = 60;
  c.created_at = "2026-11-23T06:00:00Z";
  return c;
}

bool has_pair(const std::vector<std::string>& a, const std::string& opt, const std::string& value) {
  for (size_t i = 0; i + 1 < a.size(); ++i) {
    if (a[i] == opt && a[i + 1] == value) return true;
  }
  return false;
}

bool mentions(const std::vector<std::string>& a, const std::string& part) {
  return std::any_of(a.begin(), a.end(), [&](const std::string& x) { return x.find(part) != std::string::npos; });
}

TEST(VmName, AcceptsAndNamesTheBadCharacter) {
  EXPECT_TRUE(check_vm_name("a"));
  EXPECT_TRUE(check_vm_name("web-01"));
  EXPECT_TRUE(check_vm_name(std::string(63, 'a')));
  EXPECT_FALSE(check_vm_name(""));
  EXPECT_FALSE(check_vm_name(std::string(64, 'a')));
  auto e = check_vm_name("Web");
  ASSERT_FALSE(e);
  EXPECT_NE(e.error().message.find("'W' at position 1"), std::string::npos) << e.error().message;
  e = check_vm_name("web/01");
  ASSERT_FALSE(e);
  EXPECT_NE(e.error().message.find("'/' at position 4"), std::string::npos) << e.error().message;
  e = check_vm_name("-web");
  ASSERT_FALSE(e);
  EXPECT_NE(e.error().message.find("position 1"), std::string::npos);
  e = check_vm_name(std::string("a\x01", 2));
  ASSERT_FALSE(e);
  EXPECT_NE(e.error().message.find("byte 0x01"), std::string::npos) << e.error().message;
  EXPECT_FALSE(check_vm_name(".."));
  EXPECT_FALSE(check_vm_name("a b"));
}

TEST(VmConfigJson, RoundTrips) {
  const VmConfig c = sample();
  auto back = parse_vm_config(to_json_text(c), "vm.json");
  ASSERT_TRUE(back) << back.error().message;
  EXPECT_EQ(to_json_text(*back), to_json_text(c));
  EXPECT_EQ(back->release_keys, c.release_keys);
  EXPECT_EQ(back->attest_interval, 60);
  EXPECT_TRUE(back->secure_boot);
}

std::string mutate(const std::function<void(nlohmann::json&)>& f) {
  auto j = nlohmann::json::parse(to_json_text(sample()));
  f(j);
  return j.dump();
}

void expect_refused(const std::string& text, const std::string& needle) {
  auto r = parse_vm_config(text, "vm.json");
  ASSERT_FALSE(r) << "accepted: " << text;
  EXPECT_NE(r.error().message.find(needle), std::string::npos) << r.error().message;
  EXPECT_EQ(r.error().message.rfind("vm.json", 0), 0u) << "names the file: " << r.error().message;
}

TEST(VmConfigJson, RefusesHostileInput) {
  const std::string good = to_json_text(sample());
  for (size_t cut : {size_t{0}, size_t{1}, good.size() / 2, good.size() - 3}) {
    expect_refused(good.substr(0, cut), "not valid JSON");
  }
  expect_refused("[]", "not a JSON object");
  expect_refused(mutate([](auto& j) { j["extra"] = 1; }), "unknown member 'extra'");
  expect_refused(mutate([](auto& j) { j.erase("vmId"); }), "'vmId' is missing");
  expect_refused(mutate([](auto& j) { j["secureBoot"] = "yes"; }), "'secureBoot' must be true or false");
  expect_refused(mutate([](auto& j) { j["memoryMiB"] = "1024"; }), "'memoryMiB' must be an integer");
  expect_refused(mutate([](auto& j) { j["memoryMiB"] = 1.5; }), "'memoryMiB' must be an integer");
  expect_refused(mutate([](auto& j) { j["memoryMiB"] = 64; }), "'memoryMiB' must be 128..");
  expect_refused(mutate([](auto& j) { j["cpus"] = 18446744073709551615ull; }), "'cpus'");
  expect_refused(mutate([](auto& j) { j["cpus"] = 0; }), "'cpus' must be 1..256");
  expect_refused(mutate([](auto& j) { j["name"] = "Bad_Name"; }), "member 'name'");
  expect_refused(mutate([](auto& j) { j["name"] = "../etc"; }), "member 'name'");
  expect_refused(mutate([](auto& j) { j["vmId"] = "not-a-uuid"; }), "'vmId'");
  expect_refused(mutate([](auto& j) { j["securityType"] = "Confidential"; }), "'securityType'");
  expect_refused(mutate([](auto& j) { j["uefiKeys"] = "vendor"; }), "'uefiKeys'");
  expect_refused(mutate([](auto& j) { j["uefiKeys"] = "custom"; }), "'uefiKeysFile'");
  expect_refused(mutate([](auto& j) { j["releaseKeys"] = {1, 2}; }), "'releaseKeys' must be an array of strings");
  expect_refused(mutate([](auto& j) { j["releaseKeys"] = "k"; }), "'releaseKeys'");
  expect_refused(mutate([](auto& j) { j["image"] = "x"; }), "member 'image'");
  expect_refused(mutate([](auto& j) { j["image"]["manifestSha256"] = "abc"; }), "'manifestSha256'");
  expect_refused(mutate([](auto& j) { j["image"]["size"] = 1; }), "unknown member 'size'");
  expect_refused(mutate([](auto& j) { j["server"].erase("registered"); }), "'registered' is missing");
  expect_refused(mutate([](auto& j) { j["version"] = 2; }), "a newer tlaunch");
  expect_refused(mutate([](auto& j) { j["format"] = "other"; }), "'format'");
  expect_refused(mutate([](auto& j) { j["attestInterval"] = -1; }), "'attestInterval'");
}

TEST(VmConfigJson, InvalidUtf8InAPathDoesNotThrow) {
  VmConfig c = sample();
  c.image_path = std::string("/img/\xff\xfe");
  std::string text;
  EXPECT_NO_THROW(text = to_json_text(c));
  EXPECT_TRUE(parse_vm_config(text, "vm.json"));
}

TEST(VmStateJson, RoundTripsAndRefusesHostileInput) {
  VmState s;
  s.power = PowerState::kBootRefused;
  s.accel = "tcg";
  s.last_error = std::string("bad\x1b[2J\xff line");
  s.last_marker = "TLAUNCH-GUEST: ready kernel=6.1 secureboot=1";
  const std::string text = to_json_text(s);
  auto back = parse_vm_state(text, "state.json");
  ASSERT_TRUE(back) << back.error().message;
  EXPECT_EQ(back->power, PowerState::kBootRefused);
  EXPECT_EQ(back->last_error, "bad?[2J? line") << "control bytes and non-ASCII are not stored";
  EXPECT_FALSE(parse_vm_state(text.substr(0, text.size() / 2), "state.json"));
  auto j = nlohmann::json::parse(text);
  j["powerState"] = "Paused";
  EXPECT_FALSE(parse_vm_state(j.dump(), "state.json"));
  j = nlohmann::json::parse(text);
  j["qemuPid"] = -5;
  EXPECT_FALSE(parse_vm_state(j.dump(), "state.json"));
  j = nlohmann::json::parse(text);
  j["accel"] = "hvf";
  EXPECT_FALSE(parse_vm_state(j.dump(), "state.json"));
  j = nlohmann::json::parse(text);
  j["x"] = nullptr;
  EXPECT_FALSE(parse_vm_state(j.dump(), "state.json"));
}

TEST(PowerStateMachine, Transitions) {
  using P = PowerState;
  using E = VmEvent;
  auto next = [](P from, E e) {
    auto r = next_state(from, e);
    return r ? std::optional<P>(*r) : std::nullopt;
  };
  EXPECT_EQ(next(P::kStopped, E::kStartRequested), P::kStarting);
  EXPECT_EQ(next(P::kCrashed, E::kStartRequested), P::kStarting);
  EXPECT_EQ(next(P::kBootRefused, E::kStartRequested), P::kStarting);
  EXPECT_EQ(next(P::kRunning, E::kStartRequested), std::nullopt) << "no second start";
  EXPECT_EQ(next(P::kStarting, E::kQemuUp), P::kRunning);
  EXPECT_EQ(next(P::kStarting, E::kStartFailed), P::kCrashed);
  EXPECT_EQ(next(P::kRunning, E::kQemuExitClean), P::kStopped);
  EXPECT_EQ(next(P::kRunning, E::kQemuExitFailed), P::kCrashed);
  EXPECT_EQ(next(P::kRunning, E::kSwtpmDied), P::kCrashed);
  EXPECT_EQ(next(P::kRunning, E::kBootRefused), P::kBootRefused);
  EXPECT_EQ(next(P::kRunning, E::kStopRequested), P::kStopping);
  EXPECT_EQ(next(P::kStopping, E::kQemuExitFailed), P::kStopped) << "a hard stop asked for is a stop";
  EXPECT_EQ(next(P::kStopping, E::kQemuExitClean), P::kStopped);
  EXPECT_EQ(next(P::kStopped, E::kStopRequested), std::nullopt);
  EXPECT_EQ(next(P::kStopped, E::kQemuUp), std::nullopt);
  EXPECT_EQ(next(P::kStopped, E::kBootRefused), std::nullopt);
  EXPECT_TRUE(is_active(P::kRunning));
  EXPECT_FALSE(is_active(P::kCrashed));
}

TEST(QemuArgv, SecureBootAndVtpmOn) {
  const VmConfig c = sample();
  const Firmware fw = Firmware::from_dir("/fw");
  const VmFiles f{"/r/vms/web-01"};
  const auto a = qemu_argv(c, f, fw, Accel::kTcg);
  EXPECT_EQ(a[0], "qemu-system-x86_64");
  EXPECT_TRUE(has_pair(a, "-machine", "q35,smm=on,accel=tcg"));
  EXPECT_TRUE(has_pair(a, "-global", "driver=cfi.pflash01,property=secure,value=on"));
  EXPECT_TRUE(has_pair(a, "-uuid", c.vm_id));
  EXPECT_TRUE(has_pair(a, "-cpu", "max"));
  EXPECT_TRUE(has_pair(a, "-m", "1024"));
  EXPECT_TRUE(has_pair(a, "-smp", "1"));
  EXPECT_TRUE(has_pair(a, "-drive", "if=pflash,format=raw,unit=0,readonly=on,file=/fw/OVMF_CODE_4M.secboot.fd"));
  EXPECT_TRUE(has_pair(a, "-drive", "if=pflash,format=raw,unit=1,file=/r/vms/web-01/vars.fd"));
  EXPECT_TRUE(has_pair(a, "-tpmdev", "emulator,id=tpm0,chardev=chrtpm"));
  EXPECT_TRUE(has_pair(a, "-chardev", "socket,id=chrtpm,path=/r/vms/web-01/swtpm.sock"));
  EXPECT_TRUE(has_pair(a, "-device", "tpm-tis,tpmdev=tpm0"));
  EXPECT_TRUE(has_pair(a, "-drive", "if=none,id=esp,format=raw,readonly=on,file=/r/vms/web-01/disk.raw"));
  EXPECT_TRUE(has_pair(a, "-device", "virtio-blk-pci,drive=esp,bootindex=0"));
  EXPECT_TRUE(has_pair(a, "-fw_cfg", "name=opt/org.trustlaunch/agent.conf,file=/r/vms/web-01/agent.conf"));
  EXPECT_TRUE(has_pair(a, "-netdev", "user,id=net0"));
  EXPECT_TRUE(mentions(a, "virtio-net-pci,netdev=net0"));
  // The console is appended to, so the supervisor can truncate it in place (console_log.h).
  EXPECT_TRUE(has_pair(a, "-chardev", "file,id=serial0,append=on,path=/r/vms/web-01/console.log"));
  EXPECT_TRUE(has_pair(a, "-serial", "chardev:serial0"));
  EXPECT_TRUE(has_pair(a, "-qmp", "unix:/r/vms/web-01/qmp.sock,server=on,wait=off"));
  EXPECT_NE(std::find(a.begin(), a.end(), "-no-reboot"), a.end());
  EXPECT_EQ(fw.vars_template(c), "/fw/OVMF_VARS_4M.ms.fd");
}

TEST(QemuArgv, VtpmOffSecureBootOffKvmAndCommas) {
  VmConfig c = sample();
  c.vtpm = false;
  c.secure_boot = false;
  c.cpus = 2;
  c.memory_mib = 2048;
  const Firmware fw = Firmware::from_dir("/fw");
  const auto a = qemu_argv(c, VmFiles{"/r,x/vms/web-01"}, fw, Accel::kKvm);
  EXPECT_FALSE(mentions(a, "tpm")) << "no TPM device at all";
  EXPECT_TRUE(has_pair(a, "-machine", "q35,smm=on,accel=kvm"));
  EXPECT_TRUE(has_pair(a, "-cpu", "host"));
  EXPECT_TRUE(has_pair(a, "-smp", "2"));
  EXPECT_TRUE(has_pair(a, "-m", "2048"));
  EXPECT_TRUE(has_pair(a, "-drive", "if=pflash,format=raw,unit=1,file=/r,,x/vms/web-01/vars.fd"))
      << "a comma in a path is doubled for QEMU";
  // Secure Boot off is the varstore without keys; the code is the same SMM build.
  EXPECT_EQ(fw.vars_template(c), "/fw/OVMF_VARS_4M.fd");
  EXPECT_TRUE(mentions(a, "OVMF_CODE_4M.secboot.fd"));
  c.secure_boot = true;
  c.uefi_keys = UefiKeys::kSnakeoil;
  EXPECT_EQ(fw.vars_template(c), "/fw/OVMF_VARS_4M.snakeoil.fd");
  c.uefi_keys = UefiKeys::kCustom;
  c.uefi_keys_file = "/keys/vars.fd";
  EXPECT_EQ(fw.vars_template(c), "/keys/vars.fd");
}

TEST(Firmware, MissingFileNamesItAndThePackage) {
  const Firmware fw = Firmware::from_dir("/nonexistent-ovmf");
  auto s = fw.check(sample());
  ASSERT_FALSE(s);
  EXPECT_EQ(s.error().reason, "firmware-missing");
  EXPECT_NE(s.error().message.find("/nonexistent-ovmf/OVMF_CODE_4M.secboot.fd"), std::string::npos);
  EXPECT_NE(s.error().message.find("ovmf"), std::string::npos);
}

TEST(AgentConf, WritesKeyValueLines) {
  auto t = agent_conf_text({"http://10.0.2.2:8080", 60, {"k1", "db-key"}});
  ASSERT_TRUE(t) << t.error().message;
  EXPECT_EQ(*t, "endpoint=http://10.0.2.2:8080\nattest_interval=60\nrelease_key=k1\nrelease_key=db-key\n");
  t = agent_conf_text({"https://tl.example:8443", 0, {}});
  ASSERT_TRUE(t);
  EXPECT_EQ(*t, "endpoint=https://tl.example:8443\n");
  t = agent_conf_text({"", 0, {}});
  ASSERT_TRUE(t);
  EXPECT_EQ(*t, "") << "no tlaunchd: the guest reports no-config";
  EXPECT_FALSE(agent_conf_text({"http://a\nrelease_key=evil", 0, {}}));
  EXPECT_FALSE(agent_conf_text({"ftp://x", 0, {}}));
  EXPECT_FALSE(agent_conf_text({"http://x", 0, {"a=b"}}));
  EXPECT_FALSE(agent_conf_text({"http://x", 0, {""}}));
  EXPECT_FALSE(agent_conf_text({"http://x", 0, {"k\n"}}));
  EXPECT_FALSE(agent_conf_text({"http://x", -1, {}}));
}

TEST(AgentConf, GuestViewOfLoopback) {
  EXPECT_EQ(guest_view_of("http://127.0.0.1:8080"), "http://10.0.2.2:8080");
  EXPECT_EQ(guest_view_of("https://localhost:8443/x"), "https://10.0.2.2:8443/x");
  EXPECT_EQ(guest_view_of("http://[::1]:1"), "http://10.0.2.2:1");
  EXPECT_EQ(guest_view_of("http://127.0.0.1"), "http://10.0.2.2");
  EXPECT_EQ(guest_view_of("http://localhost.example:1"), "http://localhost.example:1");
  EXPECT_EQ(guest_view_of("https://tl.example"), "https://tl.example");
  EXPECT_EQ(guest_view_of("garbage"), "garbage");
}

TEST(ConsoleMarkers, GuestLines) {
  auto m = parse_console_line("TLAUNCH-GUEST: ready kernel=6.1.0-56-amd64 secureboot=1\r", true);
  ASSERT_TRUE(m);
  EXPECT_EQ(m->kind, MarkerKind::kReady);
  EXPECT_EQ(m->kernel, "6.1.0-56-amd64");
  EXPECT_EQ(m->secure_boot, "1");
  m = parse_console_line("[    3.1] x TLAUNCH-GUEST: ready kernel=k secureboot=maybe", true);
  ASSERT_TRUE(m);
  EXPECT_EQ(m->secure_boot, "unknown");
  EXPECT_EQ(m->line.rfind("TLAUNCH-GUEST: ready", 0), 0u);
  EXPECT_EQ(parse_console_line("TLAUNCH-GUEST: no-tpm", false)->kind, MarkerKind::kNoTpm);
  EXPECT_EQ(parse_console_line("TLAUNCH-GUEST: no-config", false)->kind, MarkerKind::kNoConfig);
  EXPECT_EQ(parse_console_line("TLAUNCH-GUEST: attest-ok", false)->kind, MarkerKind::kAttestOk);
  EXPECT_EQ(parse_console_line("TLAUNCH-GUEST: attest-failed: quote rejected", false)->kind, MarkerKind::kAttestFailed);
  m = parse_console_line("TLAUNCH-GUEST: key-released db-key bytes=32 sha256=ab", false);
  ASSERT_TRUE(m);
  EXPECT_EQ(m->kind, MarkerKind::kKeyReleased);
  EXPECT_EQ(m->key, "db-key");
  m = parse_console_line("TLAUNCH-GUEST: key-release-failed db-key: denied", false);
  ASSERT_TRUE(m);
  EXPECT_EQ(m->kind, MarkerKind::kKeyReleaseFailed);
  EXPECT_EQ(m->key, "db-key");
  EXPECT_EQ(parse_console_line("TLAUNCH-GUEST: something-new", false)->kind, MarkerKind::kOtherGuest);
  EXPECT_FALSE(parse_console_line("TLAUNCH-GUEST:ready", true)) << "exact prefix, with its space";
  EXPECT_FALSE(parse_console_line("Welcome to GRUB!", true));
}

TEST(ConsoleMarkers, SecureBootRefusals) {
  for (const char* line : {"error: bad shim signature.", "Verification failed: (0x1A) Security Violation",
                           "BdsDxe: failed to load Boot0001 \"UEFI Misc Device\" from PciRoot(0x0): Access Denied",
                           "TLAUNCH-BOOT-FAILED: no kernel"}) {
    auto m = parse_console_line(line, true);
    ASSERT_TRUE(m) << line;
    EXPECT_EQ(m->kind, MarkerKind::kBootRefused) << line;
  }
  // Once the guest runs, its own messages are not firmware refusals...
  EXPECT_FALSE(parse_console_line("nginx: Access Denied for user", false));
  // ...nor is the image's boot-failure line printed by a running guest
  // (review: any guest program could raise a High boot-refused alert).
  EXPECT_FALSE(parse_console_line("TLAUNCH-BOOT-FAILED: x", false));
}

TEST(ConsoleMarkers, HostileBytes) {
  ConsoleScanner s;
  // Escape sequences, NULs and high bytes are kept out of what is stored.
  static const char kDirty[] = "\x1b[2JTLAUNCH-GUEST: attest-failed: \x1b]0;evil\x07\xff\x00x\n";
  auto ms = s.feed(std::string(kDirty, sizeof kDirty - 1));
  ASSERT_EQ(ms.size(), 1u);
  for (unsigned char ch : ms[0].line) EXPECT_TRUE(ch >= 0x20 && ch < 0x7f);
  // A line without end is cut at kMaxLine: memory stays bounded.
  ms = s.feed(std::string(3 * ConsoleScanner::kMaxLine, 'A'));
  EXPECT_TRUE(ms.empty());
  ms = s.feed(std::string(100000, 'B') + "TLAUNCH-GUEST: attest-ok\n");
  ASSERT_EQ(ms.size(), 1u);
  EXPECT_EQ(ms[0].kind, MarkerKind::kAttestOk);
  // Split across reads.
  ConsoleScanner t;
  EXPECT_TRUE(t.feed("TLAUNCH-GU").empty());
  ms = t.feed("EST: ready kernel=k secureboot=0\nerror: bad shim signature.\n");
  ASSERT_EQ(ms.size(), 1u) << "after the guest is up, grub's line is not a refusal";
  EXPECT_EQ(ms[0].secure_boot, "0");
  // A marker longer than the bound is clipped, not grown.
  auto m = parse_console_line("TLAUNCH-GUEST: attest-failed: " + std::string(10000, 'x'), false);
  ASSERT_TRUE(m);
  EXPECT_LE(m->line.size(), 512u);
}

}  // namespace
}  // namespace tl::host

namespace tl::host {
namespace {

// What tlaunchd's host-events route accepts (docs/fleet-api.md): no control
// characters, valid UTF-8, at most 1,024 bytes, not blank.
TEST(HostEventDetail, MakesLogTailsAcceptable) {
  EXPECT_EQ(host_event_detail("QEMU exited with status 1: qemu: -drive x\nerror: no\r\n"),
            "QEMU exited with status 1: qemu: -drive x; error: no");
  EXPECT_EQ(host_event_detail("\n\nfirst\tsecond\x7f"), "first; second");
  EXPECT_EQ(host_event_detail(std::string("a\xff" "b\xc3", 4)), "a?b?");  // stray and cut-off UTF-8
  EXPECT_EQ(host_event_detail("caf\xc3\xa9 \xe2\x82\xac"), "caf\xc3\xa9 \xe2\x82\xac");
  EXPECT_EQ(host_event_detail("\xed\xa0\x80"), "???");  // a UTF-16 surrogate is not UTF-8
  EXPECT_EQ(host_event_detail(""), "(no detail)");
  EXPECT_EQ(host_event_detail("\n \n"), "(no detail)");
  // Long: cut at a character boundary, never above the limit.
  std::string euros;
  for (int i = 0; i < 600; ++i) euros += "\xe2\x82\xac";
  const std::string d = host_event_detail(euros);
  EXPECT_LE(d.size(), 1000u);
  EXPECT_EQ(d.size() % 3, 0u);
  EXPECT_EQ(d.size(), 999u);
}

}  // namespace
}  // namespace tl::host

namespace tl::host {
namespace {

// A recorded pid counts as this VM's process only if its command line says so
// (review: a recycled pid, or another VM's supervisor, was taken for ours).
TEST(ProcessAlive, ChecksTheProgramAndTheCommandLine) {
  auto child = spawn({"sleep", "37.5"});
  ASSERT_TRUE(child) << child.error().message;
  const int64_t pid = child->pid();
  EXPECT_TRUE(process_alive(pid, "sleep"));
  EXPECT_TRUE(process_alive(pid, "sleep", "37.5"));
  EXPECT_FALSE(process_alive(pid, "sleep", "38"));
  EXPECT_FALSE(process_alive(pid, "qemu-system"));
  child->signal(SIGKILL);
  child->wait();
  EXPECT_FALSE(process_alive(pid, "sleep"));
  EXPECT_FALSE(process_alive(0, "sleep"));
}

}  // namespace
}  // namespace tl::host
