// tlaunch-agent: the guest attestation agent (docs/agent.md).
#include <unistd.h>

#include <chrono>
#include <csignal>
#include <cstdio>
#include <random>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "common/atomic_file.h"
#include "agent/client/attestation_client.h"
#include "agent/client/key_release.h"
#include "agent/schedule.h"
#include "agent/settings.h"
#include "agent/status.h"
#include "agent/vm_id.h"

namespace {

using namespace tl;
using namespace tl::agent;

const char kUsage[] = R"(Usage: tlaunch-agent attest --once [OPTIONS]   attest now, print the token
       tlaunch-agent run [OPTIONS]             attest at start, then every reporting period
       tlaunch-agent enroll [OPTIONS]          enroll this VM's TPM (EK + AK) with the service
       tlaunch-agent status [--state-dir DIR]  what the last attempts did
       tlaunch-agent release --key URL [--out FILE] [--format raw|pem|base64] [--enc E]
                     [--nonce N] [--token-file FILE] [OPTIONS]
                                               attest, then release a key from tlaunchd's key
                                               vault to this VM and unwrap it in the TPM
       tlaunch-agent --help | --version

Options:
  --settings FILE     Guest Attestation settings JSON (default /etc/tlaunch-agent/settings.json;
                      optional when --endpoint is given). docs/agent.md lists every key.
  --endpoint URL      tlaunchd base URL (overrides AttestationConfig.MaaSettings.maaEndpoint)
  --ca-file FILE      trust only this CA bundle for HTTPS (default: the system store)
  --tcti CONF         TPM access (default device:/dev/tpmrm0; e.g. swtpm:host=127.0.0.1,port=2321)
  --vm-id UUID        VM id (default: /sys/class/dmi/id/product_uuid)
  --eventlog FILE     (default /sys/kernel/security/tpm0/binary_bios_measurements)
  --os-release FILE   (default /etc/os-release, else /usr/lib/os-release); none readable:
                      distro "Linux", no version, and a collection warning
  --kernel-log FILE   kernel messages for the module report: /dev/kmsg (the default) or a
                      dmesg/journalctl/syslog text file; missing = not reported
  --taint-file FILE   kernel taint flags (default /proc/sys/kernel/tainted)
  --ima-log FILE      IMA measurements (default
                      /sys/kernel/security/ima/ascii_runtime_measurements)
  --state-dir DIR     status, heartbeat and runtime key (default /var/lib/tlaunch-agent)
  --pcrs LIST         SHA-256 PCRs to quote, e.g. 0-9,11-14 (the default)
  --sha1              also quote the SHA-1 bank
  --ak-alg rsa|ecc    algorithm of the AK when it is created (default rsa)
  --ek-alg rsa|ecc    which EK to use (default rsa)
  --ak-handle HEX     persistent handle of the AK (default 0x81000003)
  --client-payload J  a JSON object carried into the token's x-ms-runtime.client-payload

Key release (docs/agent.md "Key release"):
  --key URL           the key: NAME[/VERSION], or <endpoint>/keys/NAME[/VERSION] on the
                      attestation endpoint's origin (other origins are refused)
  --out FILE          write the key to FILE (atomically, mode 0600); default or "-": stdout
  --format F          raw (default: PKCS#8 DER for RSA and EC, the key bytes for oct),
                      pem (PKCS#8 PEM, RSA and EC) or base64
  --enc E             RSA_AES_KEY_WRAP_256 (default), RSA_AES_KEY_WRAP_384 or CKM_RSA_AES_KEY_WRAP
  --nonce N           echoed in the signed answer (default: a random one)
  --token-file FILE   authenticate with this API token instead of the attestation token
Exit status of release: 0 released, 2 usage error, 1 anything else (the reason is printed).
)";

volatile std::sig_atomic_t g_stop = 0;
void on_signal(int) { g_stop = 1; }

int fail(const std::string& m) {
  std::fprintf(stderr, "tlaunch-agent: %s\n", m.c_str());
  return 1;
}

Result<std::vector<uint32_t>> parse_pcr_list(const std::string& s) {
  std::vector<uint32_t> out;
  size_t i = 0;
  auto number = [&](uint32_t& v) -> bool {
    if (i >= s.size() || s[i] < '0' || s[i] > '9') return false;
    v = 0;
    while (i < s.size() && s[i] >= '0' && s[i] <= '9' && v < 100) v = v * 10 + static_cast<uint32_t>(s[i++] - '0');
    return v < 24;
  };
  while (i < s.size()) {
    uint32_t a = 0, b = 0;
    if (!number(a)) return Error{"--pcrs: expected a PCR 0..23 at position " + std::to_string(i + 1) + " of '" + s + "'"};
    b = a;
    if (i < s.size() && s[i] == '-') {
      ++i;
      if (!number(b) || b < a) return Error{"--pcrs: bad range ending at position " + std::to_string(i) + " of '" + s + "'"};
    }
    for (uint32_t p = a; p <= b; ++p) out.push_back(p);
    if (i < s.size() && s[i++] != ',') return Error{"--pcrs: expected ',' at position " + std::to_string(i) + " of '" + s + "'"};
  }
  std::set<uint32_t> uniq(out.begin(), out.end());
  if (uniq.empty()) return Error{"--pcrs: empty list"};
  return std::vector<uint32_t>(uniq.begin(), uniq.end());
}

struct Cli {
  std::string command;
  bool once = false;
  // release
  ReleaseOptions release;
  std::optional<std::string> out;
  std::optional<std::string> token_file;
  KeyFormat format = KeyFormat::raw;
  std::optional<std::string> release_option;  // one given, for refusing it outside `release`
  AgentOptions agent;
  std::optional<std::string> settings_path;
  std::optional<std::string> endpoint;
  std::optional<std::string> vm_id;
  std::chrono::seconds period = kDefaultFrequency;
};

Result<Cli> parse_cli(std::vector<std::string> args) {
  Cli c;
  if (args.empty()) return Error{"no command (see tlaunch-agent --help)"};
  c.command = args[0];
  static const std::set<std::string> with_value = {"--settings", "--endpoint", "--ca-file", "--tcti", "--vm-id",
                                                   "--eventlog", "--os-release", "--kernel-log", "--taint-file", "--ima-log", "--state-dir", "--pcrs", "--ak-alg",
                                                   "--ek-alg", "--ak-handle", "--client-payload",
                                                   "--key", "--out", "--format", "--enc", "--nonce", "--token-file"};
  for (size_t i = 1; i < args.size(); ++i) {
    std::string name = args[i], value;
    if (auto eq = name.find('='); eq != std::string::npos && name.rfind("--", 0) == 0) {
      value = name.substr(eq + 1);
      name = name.substr(0, eq);
    } else if (with_value.count(name)) {
      if (i + 1 >= args.size()) return Error{name + " needs a value"};
      value = args[++i];
    }
    if (name == "--key" || name == "--out" || name == "--format" || name == "--enc" || name == "--nonce" ||
        name == "--token-file")
      c.release_option = name;
    if (name == "--once") c.once = true;
    else if (name == "--sha1") c.agent.include_sha1 = true;
    else if (name == "--settings") c.settings_path = value;
    else if (name == "--endpoint") c.endpoint = value;
    else if (name == "--ca-file") c.agent.ca_file = value;
    else if (name == "--tcti") c.agent.tcti = value;
    else if (name == "--vm-id") c.vm_id = value;
    else if (name == "--eventlog") c.agent.eventlog = value;
    else if (name == "--os-release") c.agent.os_release = value;
    else if (name == "--kernel-log") c.agent.kernel_modules.kernel_log = value;
    else if (name == "--taint-file") c.agent.kernel_modules.taint = value;
    else if (name == "--ima-log") c.agent.kernel_modules.ima_log = value;
    else if (name == "--state-dir") c.agent.state_dir = value;
    else if (name == "--pcrs") {
      auto p = parse_pcr_list(value);
      if (!p) return p.take_error();
      c.agent.quote_pcrs = *p;
    } else if (name == "--ak-alg" || name == "--ek-alg") {
      if (value != "rsa" && value != "ecc") return Error{name + ": 'rsa' or 'ecc', not '" + value + "'"};
      (name == "--ak-alg" ? c.agent.tpm.ak_alg : c.agent.tpm.ek_alg) =
          value == "rsa" ? agent::tpm::KeyAlg::rsa2048 : agent::tpm::KeyAlg::ecc_p256;
    } else if (name == "--ak-handle") {
      char* end = nullptr;
      const unsigned long h = std::strtoul(value.c_str(), &end, 16);
      if (end == value.c_str() || *end != '\0' || h < 0x81000000ul || h > 0x817FFFFFul)
        return Error{"--ak-handle: '" + value + "' is not a persistent handle 0x81000000..0x817FFFFF"};
      c.agent.tpm.ak_handle = static_cast<uint32_t>(h);
    } else if (name == "--client-payload") {
      auto j = nlohmann::json::parse(value, nullptr, false);
      if (!j.is_object()) return Error{"--client-payload: must be a JSON object"};
      c.agent.client_payload = std::move(j);
    } else if (name == "--key") {
      c.release.key = value;
    } else if (name == "--out") {
      c.out = value;
    } else if (name == "--format") {
      auto f = key_format_from_name(value);
      if (!f) return Error{"--format: raw, pem or base64, not '" + value + "'"};
      c.format = *f;
    } else if (name == "--enc") {
      auto e = release_enc_from_name(value);
      if (!e) return Error{"--enc: RSA_AES_KEY_WRAP_256, RSA_AES_KEY_WRAP_384 or CKM_RSA_AES_KEY_WRAP, not '" + value + "'"};
      c.release.enc = *e;
    } else if (name == "--nonce") {
      if (value.empty() || value.size() > 1024) return Error{"--nonce must have 1 to 1024 characters"};
      c.release.nonce = value;
    } else if (name == "--token-file") {
      c.token_file = value;
    } else {
      return Error{"unknown option " + name + " (see tlaunch-agent --help)"};
    }
  }
  return c;
}

// Settings file, endpoint override and VM id into the agent options.
Status resolve(Cli& c) {
  const std::string default_settings = "/etc/tlaunch-agent/settings.json";
  if (c.settings_path || !c.endpoint) {
    auto s = load_settings(c.settings_path.value_or(default_settings));
    if (!s) return s.take_error();
    c.agent.endpoint = s->maa_endpoint.str();
    c.period = s->reporting_frequency;
  }
  if (c.endpoint) c.agent.endpoint = *c.endpoint;
  auto id = resolve_vm_id(c.vm_id);
  if (!id) return id.take_error();
  c.agent.vm_id = *id;
  return {};
}

void report_warnings(const std::vector<std::string>& warnings) {
  for (const auto& w : warnings) std::fprintf(stderr, "tlaunch-agent: warning: %s\n", w.c_str());
}

std::string describe(const Error& e) { return e.reason.empty() ? e.message : e.message + " [" + e.reason + "]"; }

int attest_once(Cli& c) {
  auto client = AttestationClient::create(c.agent);
  if (!client) return fail(describe(client.error()));
  auto r = (*client)->attest();
  report_warnings((*client)->collection_warnings());
  if (!r) return fail(describe(r.error()));
  std::printf("%s\n", r->token.c_str());
  return 0;
}

int enroll(Cli& c) {
  auto client = AttestationClient::create(c.agent);
  if (!client) return fail(describe(client.error()));
  if (auto st = (*client)->enroll(); !st) return fail(describe(st.error()));
  std::fprintf(stderr, "tlaunch-agent: VM %s enrolled with %s\n", c.agent.vm_id.c_str(), c.agent.endpoint.c_str());
  return 0;
}

int run_loop(Cli& c) {
  std::signal(SIGINT, on_signal);
  std::signal(SIGTERM, on_signal);
  const auto status_path = c.agent.state_dir / "status.json";
  const auto heartbeat_path = c.agent.state_dir / "heartbeat.json";
  std::error_code ec;
  std::filesystem::create_directories(c.agent.state_dir, ec);
  std::mt19937_64 rng(std::random_device{}());
  ScheduleOptions so;
  so.period = c.period;
  Schedule schedule(so, [] { return std::chrono::system_clock::now(); }, [&rng] { return rng(); });
  AgentStatus status;
  if (auto prev = read_status(status_path); prev) status = *prev;
  auto beat = [&](AgentState s) {
    (void)write_heartbeat(heartbeat_path, Heartbeat{std::chrono::system_clock::now(), getpid(), s});
  };
  std::unique_ptr<AttestationClient> client;
  while (!g_stop) {
    beat(AgentState::kAttesting);
    const auto now = std::chrono::system_clock::now();
    status.last_attempt = now;
    Result<AttestResult> r = Error{"not attempted"};
    if (!client) {
      auto created = AttestationClient::create(c.agent);
      if (created) client = std::move(*created);
      else r = created.take_error();
    }
    if (client) {
      r = client->attest();
      report_warnings(client->collection_warnings());
      status.collection_warnings = client->collection_warnings();
    }
    TimePoint next;
    if (r) {
      next = schedule.on_success();
      status.last_success = now;
      status.last_error.reset();
      status.consecutive_failures = 0;
      status.token_expiry = std::chrono::system_clock::time_point(std::chrono::seconds(r->expires_at));
      std::fprintf(stderr, "tlaunch-agent: attested%s\n", r->enrolled_now ? " (enrolled first)" : "");
    } else {
      next = schedule.on_failure();
      status.last_error = LastError{now, r.error().reason, r.error().message};
      status.consecutive_failures = schedule.consecutive_failures();
      std::fprintf(stderr, "tlaunch-agent: attestation failed: %s\n", describe(r.error()).c_str());
      if (r.error().reason.rfind("tpm", 0) == 0) client.reset();  // any TPM failure: reconnect next time
    }
    status.next_attempt = next;
    if (auto st = write_status(status_path, status); !st)
      std::fprintf(stderr, "tlaunch-agent: %s\n", st.error().message.c_str());
    beat(r ? AgentState::kWaiting : AgentState::kBackingOff);
    // Sleep in short steps so a signal stops the agent promptly; heartbeat each minute.
    auto last_beat = std::chrono::steady_clock::now();
    while (!g_stop && std::chrono::system_clock::now() < next) {
      std::this_thread::sleep_for(std::chrono::milliseconds(200));
      if (std::chrono::steady_clock::now() - last_beat > std::chrono::seconds(60)) {
        beat(r ? AgentState::kWaiting : AgentState::kBackingOff);
        last_beat = std::chrono::steady_clock::now();
      }
    }
  }
  beat(AgentState::kStopping);
  return 0;
}

constexpr int kExitUsage = 2;

// "detail (reason, clause X)": how a refused release is printed.
std::string describe_release(const Error& e, const ReleaseDiagnostics& d) {
  std::string out = e.message;
  if (!e.reason.empty() || !d.clause.empty()) {
    out += " (" + e.reason;
    if (!d.clause.empty()) out += std::string(e.reason.empty() ? "" : ", ") + "clause " + d.clause;
    out += ")";
  }
  return out;
}

int release(Cli& c) {
  if (c.release.key.empty()) {
    std::fprintf(stderr, "tlaunch-agent: release needs --key URL (see tlaunch-agent --help)\n");
    return kExitUsage;
  }
  if (c.token_file) {
    auto t = read_api_token(*c.token_file);
    if (!t) {
      std::fprintf(stderr, "tlaunch-agent: %s\n", t.error().message.c_str());
      return kExitUsage;
    }
    c.release.api_token = std::move(*t);
  }
  // A malformed --key is a usage error: found before attesting.
  if (auto k = parse_key_reference(c.release.key, c.agent.endpoint); !k) {
    std::fprintf(stderr, "tlaunch-agent: %s\n", k.error().message.c_str());
    return kExitUsage;
  }
  auto client = AttestationClient::create(c.agent);
  if (!client) return fail(describe(client.error()));
  ReleaseDiagnostics diagnostics;
  auto key = release_key(**client, c.release, &diagnostics);
  report_warnings((*client)->collection_warnings());
  if (!key) return fail(describe_release(key.error(), diagnostics));
  auto bytes = format_released_key(key->material, key->kty, c.format);
  if (!bytes) {
    std::fprintf(stderr, "tlaunch-agent: %s\n", bytes.error().message.c_str());
    return kExitUsage;
  }
  const std::string_view content(reinterpret_cast<const char*>(bytes->data()), bytes->size());
  if (c.out && *c.out != "-") {
    if (auto st = write_file_atomic(*c.out, content, 0600); !st) return fail(st.error().message);
    std::fprintf(stderr, "tlaunch-agent: released %s (%s) to %s\n", key->kid.c_str(), key->kty.c_str(), c.out->c_str());
    return 0;
  }
  if (std::fwrite(content.data(), 1, content.size(), stdout) != content.size() || std::fflush(stdout) != 0) {
    return fail("cannot write the key to stdout");
  }
  std::fprintf(stderr, "tlaunch-agent: released %s (%s)\n", key->kid.c_str(), key->kty.c_str());
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  for (const auto& a : args) {
    if (a == "--help" || a == "-h") {
      std::printf("%s", kUsage);
      return 0;
    }
    if (a == "--version") {
      std::printf("tlaunch-agent %s\n", TL_VERSION);
      return 0;
    }
  }
  auto cli = parse_cli(args);
  if (!cli) {
    fail(cli.error().message);
    return !args.empty() && args[0] == "release" ? kExitUsage : 1;
  }
  if (cli->command == "status") {
    auto text = status_report(cli->agent.state_dir / "status.json", cli->agent.state_dir / "heartbeat.json",
                              std::chrono::system_clock::now());
    if (!text) return fail(text.error().message);
    std::printf("%s", text->c_str());
    return 0;
  }
  if (cli->command != "attest" && cli->command != "run" && cli->command != "enroll" && cli->command != "release")
    return fail("unknown command '" + cli->command + "' (see tlaunch-agent --help)");
  if (cli->command != "release" && cli->release_option)
    return fail(*cli->release_option + " is an option of 'release' only (see tlaunch-agent --help)");
  if (cli->command == "attest" && !cli->once)
    return fail("attest needs --once (use 'run' for the service loop)");
  if (auto st = resolve(*cli); !st) return fail(describe(st.error()));
  if (cli->command == "release") return release(*cli);
  if (cli->command == "attest") return attest_once(*cli);
  if (cli->command == "enroll") return enroll(*cli);
  return run_loop(*cli);
}
