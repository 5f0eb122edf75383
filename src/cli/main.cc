// tlaunch: the trustlaunch command line: offline tools, and fleet commands
// over tlaunchd's REST API.
#include <cstdio>
#include <cstring>
#include <string>

#include "cli/commands.h"
#include "cli/vm_host.h"

namespace {

constexpr const char* kUsage =
    "usage: tlaunch <command> [options]\n"
    "\n"
    "Offline tools:\n"
    "  eventlog inspect FILE [--json] [--pcrs FILE]\n"
    "      Parse and replay a TCG event log (binary_bios_measurements), show\n"
    "      PCRs, Secure Boot state, boot applications, kernel command line and\n"
    "      problems found; with --pcrs, compare replay to real PCR values.\n"
    "  quote verify --ak FILE --message FILE --signature FILE --nonce HEX\n"
    "               [--pcrs FILE] [--require SPEC] [--json]\n"
    "      Verify a TPM2_Quote (TPMS_ATTEST + TPMT_SIGNATURE) under an AK.\n"
    "\n"
    "Host:\n"
    "  image build --out DIR [--kernel signed|unsigned] [--agent PATH] [--cache DIR | --debs DIR]\n"
    "              [--initrd-compression gzip|none] [--force] [--json]\n"
    "      Build a reproducible Secure Boot guest disk image (Debian's signed shim,\n"
    "      grub and kernel; an initramfs running tlaunch-agent).\n"
    "\n"
    "Fleet (tlaunchd's REST API):\n"
    "  vm register NAME --vm-id ID --group G [--resource-id ID] [--security-type T]\n"
    "              [--secure-boot on|off] [--vtpm on|off] [--agent installed|absent]\n"
    "              [--power-state Running|Stopped]\n"
    "  vm list [--group G] [--health Healthy|Unhealthy|Unknown|Pending]\n"
    "  vm show NAME\n"
    "  vm update NAME [--group G] [--secure-boot on|off] [--vtpm on|off] [--agent …]\n"
    "            [--power-state …] [--rebind-tpm]\n"
    "  vm delete NAME [--keep-inventory]\n"
    "      The VM inventory and each VM's attestation status.\n"
    "\n"
    "VMs on this host (QEMU + OVMF Secure Boot + swtpm; --host-dir DIR, $TLAUNCH_HOST_DIR):\n"
    "  vm create NAME --security-type TrustedLaunch|Standard --image IMAGE\n"
    "            [--enable-secure-boot|--disable-secure-boot] [--enable-vtpm|--disable-vtpm]\n"
    "            [--memory MiB] [--cpus N] [--uefi-keys K] [--group G] [--release-key NAME]…\n"
    "            [--attest-interval S] [--start [--wait-for none|ready|attest]]\n"
    "  vm start NAME [--wait-for none|ready|attest] | vm stop NAME [--timeout S]\n"
    "  vm restart NAME | vm ca\n"
    "  vm update NAME --enable-secure-boot|--disable-secure-boot|--enable-vtpm|--disable-vtpm\n"
    "            [--restart]\n"
    "      vm list / show / delete include the VMs on this host.\n"
    "  baseline create GROUP --from-eventlog FILE [--variant NAME] [--pcrs LIST] [--add-variant]\n"
    "  baseline list\n"
    "  baseline show GROUP [--version N]\n"
    "  baseline learn GROUP on|off\n"
    "      Trusted baselines of VM groups.\n"
    "  alert list [--all|--resolved] [--vm NAME] [--severity S]\n"
    "  alert suppress [--group G] [--vm NAME] [--kind KIND] --reason TEXT\n"
    "  alert suppressions\n"
    "  alert unsuppress ID\n"
    "      Alerts and the rules that silence them.\n"
    "  recommendation list [--kind KIND]\n"
    "  status\n"
    "      Fleet summary: VMs by health, open alerts, recommendations.\n"
    "\n"
    "Key vault (tlaunchd's REST API):\n"
    "  key create NAME --kty RSA|EC|oct [--size N] [--curve C] [--exportable --policy FILE\n"
    "             [--immutable]] [--ops LIST] [--disabled] [--tag K=V]…\n"
    "  key import NAME --pem FILE | --jwk FILE [same attribute options]\n"
    "  key show NAME[/VERSION] [--deleted]\n"
    "  key list [--versions NAME | --deleted]\n"
    "  key rotate NAME\n"
    "  key update NAME[/VERSION] [--enable|--disable] [--tag K=V]…\n"
    "  key delete NAME | key recover NAME | key purge NAME\n"
    "  key set-policy NAME[/VERSION] --policy FILE [--immutable]\n"
    "  key release NAME[/VERSION] --target FILE [--enc E] [--nonce N] [--out FILE]\n"
    "  key audit [NAME] [--denied|--allowed] [--limit N]\n"
    "  key token create NAME [--expires RFC3339] | key token list | key token revoke NAME\n"
    "  key access set IDENTITY --scope '*'|KEY --ops LIST | key access list\n"
    "  key access remove IDENTITY --scope S\n"
    "      Keys, release policies, Secure Key Release, audit, API tokens and access.\n"
    "  Every fleet and key command takes --server URL ($TLAUNCH_SERVER, default\n"
    "  https://127.0.0.1:8443), --token-file FILE ($TLAUNCH_TOKEN_FILE: tlaunchd's admin\n"
    "  token, or an API token for key commands), --cacert FILE ($TLAUNCH_CACERT) and --json.\n"
    "\n"
    "Run 'tlaunch <command> <subcommand> --help' for details.\n"
    "Exit status: 0 ok; 1 a verification failed, the server refused, or the VM or\n"
    "fleet is not healthy; 2 malformed input, usage error, or the server cannot be reached.\n";

using Command = int (*)(const tl::cli::Args&);

struct Entry {
  const char* group;
  const char* sub;  // nullptr: the group is the whole command ("status")
  Command run;
};

constexpr Entry kCommands[] = {
    {"eventlog", "inspect", tl::cli::eventlog_inspect},
    {"quote", "verify", tl::cli::quote_verify},
    {"snp", "verify", tl::cli::snp_verify},
    {"tdx", "verify", tl::cli::tdx_verify},
    {"hcl", "inspect", tl::cli::hcl_inspect},
    {"vm", "register", tl::cli::vm_register},
    {"vm", "list", tl::cli::vm_list},
    {"vm", "show", tl::cli::vm_show},
    {"vm", "update", tl::cli::vm_update},
    {"vm", "delete", tl::cli::vm_delete},
    {"vm", "create", tl::cli::vm_create},
    {"vm", "start", tl::cli::vm_start},
    {"vm", "stop", tl::cli::vm_stop},
    {"vm", "restart", tl::cli::vm_restart},
    {"vm", "ca", tl::cli::vm_ca},
    {"vm", "supervise", tl::cli::vm_supervise},
    {"baseline", "create", tl::cli::baseline_create},
    {"baseline", "list", tl::cli::baseline_list},
    {"baseline", "show", tl::cli::baseline_show},
    {"baseline", "learn", tl::cli::baseline_learn},
    {"alert", "list", tl::cli::alert_list},
    {"alert", "suppress", tl::cli::alert_suppress},
    {"alert", "suppressions", tl::cli::alert_suppressions},
    {"alert", "unsuppress", tl::cli::alert_unsuppress},
    {"recommendation", "list", tl::cli::recommendation_list},
    {"status", nullptr, tl::cli::fleet_status},
    {"key", "create", tl::cli::key_create},
    {"key", "import", tl::cli::key_import},
    {"key", "show", tl::cli::key_show},
    {"key", "list", tl::cli::key_list},
    {"key", "rotate", tl::cli::key_rotate},
    {"key", "update", tl::cli::key_update},
    {"key", "delete", tl::cli::key_delete},
    {"key", "recover", tl::cli::key_recover},
    {"key", "purge", tl::cli::key_purge},
    {"key", "set-policy", tl::cli::key_set_policy},
    {"key", "release", tl::cli::key_release},
    {"key", "audit", tl::cli::key_audit},
    {"key", "token", tl::cli::key_token},
    {"key", "access", tl::cli::key_access},
    {"image", "build", tl::cli::image_build},
};

bool is_help(const char* a) { return std::strcmp(a, "--help") == 0 || std::strcmp(a, "-h") == 0; }

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2 || is_help(argv[1]) || std::strcmp(argv[1], "help") == 0) {
    std::fputs(kUsage, argc < 2 ? stderr : stdout);
    return argc < 2 ? tl::cli::kExitBadInput : tl::cli::kExitOk;
  }
  if (std::strcmp(argv[1], "--version") == 0) {
    std::puts("tlaunch " TL_VERSION);
    return 0;
  }
  const std::string group = argv[1];
  bool known_group = false;
  for (const Entry& e : kCommands) {
    if (group != e.group) continue;
    known_group = true;
    if (e.sub == nullptr) return e.run(tl::cli::Args(argv + 2, argv + argc));
    if (argc > 2 && std::strcmp(argv[2], e.sub) == 0) return e.run(tl::cli::Args(argv + 3, argv + argc));
  }
  // "tlaunch vm --help" asks which subcommands there are.
  if (known_group && argc > 2 && is_help(argv[2])) {
    std::fputs(kUsage, stdout);
    return tl::cli::kExitOk;
  }
  const std::string sub = argc > 2 ? argv[2] : "";
  if (known_group && sub.empty()) {
    std::fprintf(stderr, "tlaunch: '%s' needs a subcommand\n\n%s", group.c_str(), kUsage);
  } else {
    std::fprintf(stderr, "tlaunch: unknown command '%s%s%s'\n\n%s", group.c_str(), sub.empty() ? "" : " ",
                 sub.c_str(), kUsage);
  }
  return tl::cli::kExitBadInput;
}
