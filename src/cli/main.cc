// tlaunch: the trustlaunch command line (offline tools for now).
#include <cstdio>
#include <cstring>
#include <string>

#include "cli/commands.h"

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
    "Run 'tlaunch <command> <subcommand> --help' for details.\n"
    "Exit status: 0 ok, 1 verification failed, 2 malformed input or usage error.\n";

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2 || std::strcmp(argv[1], "--help") == 0 || std::strcmp(argv[1], "-h") == 0 ||
      std::strcmp(argv[1], "help") == 0) {
    std::fputs(kUsage, argc < 2 ? stderr : stdout);
    return argc < 2 ? tl::cli::kExitBadInput : tl::cli::kExitOk;
  }
  if (std::strcmp(argv[1], "--version") == 0) {
    std::puts("tlaunch " TL_VERSION);
    return 0;
  }
  const std::string group = argv[1];
  const std::string sub = argc > 2 ? argv[2] : "";
  tl::cli::Args rest(argv + (argc > 2 ? 3 : 2), argv + argc);
  if (group == "eventlog" && sub == "inspect") return tl::cli::eventlog_inspect(rest);
  if (group == "quote" && sub == "verify") return tl::cli::quote_verify(rest);
  std::fprintf(stderr, "tlaunch: unknown command '%s%s%s'\n\n%s", group.c_str(),
               sub.empty() ? "" : " ", sub.c_str(), kUsage);
  return tl::cli::kExitBadInput;
}
