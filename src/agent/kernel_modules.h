// What the guest's own logs say about kernel modules that skipped or failed
// signature validation (docs/agent.md "Kernel modules"). Everything here is
// self-reported: a kernel that loaded a hostile module can make these files say
// anything, so the result feeds alerts, never trust decisions.
//
// Parsers are pure (text in, findings out) so tests and fuzzers drive them with
// real message formats; collect_kernel_modules() does the reading. A source that
// is absent is "not available"; one that cannot be read or does not parse
// becomes a problem string, never an error that stops attestation.
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"

namespace tl::agent {

// Stands for a module the kernel refused or flagged without naming it
// ("Loading of unsigned module is rejected" has no name). It contains '-',
// which no kernel module name does (the kernel turns '-' into '_').
inline constexpr std::string_view kUnnamedModule = "unnamed-module";

// Taint bits of /proc/sys/kernel/tainted (Documentation/admin-guide/tainted-kernels.rst).
inline constexpr uint64_t kTaintProprietary = uint64_t{1} << 0;   // P
inline constexpr uint64_t kTaintOutOfTree = uint64_t{1} << 12;    // O
inline constexpr uint64_t kTaintUnsignedModule = uint64_t{1} << 13;  // E

struct KernelLogFindings {
  // Loaded without a valid signature ("<mod>: module verification failed: …
  // tainting kernel"). The kernel prints this once per boot, so only the first
  // such module is ever named; taint bit E says whether there were any.
  std::vector<std::string> unsigned_modules;
  // Refused: named by userspace's report of the refusal ("Failed to insert
  // module 'x': Key was rejected by service"), or kUnnamedModule for the
  // kernel's own, nameless refusals (signature enforcement, lockdown, a key on
  // the blacklist).
  std::vector<std::string> rejected_modules;
  // Key problems that do not say whether the module loaded ("Request for
  // unknown module key", "PKCS#7 signature not signed with a trusted key").
  size_t key_problems = 0;
  size_t lines = 0;    // records or lines looked at
  size_t skipped = 0;  // records too long, or /dev/kmsg records without a valid header
};

// One message: a /dev/kmsg record "pri,seq,ts,flags[,…];text" (continuation
// lines " KEY=value" are ignored), or a text line as dmesg, journalctl or
// syslog print it ("[    4.3] nvidia: …", "Nov 22 20:14:33 vm kernel: nvidia: …").
// In a kmsg record only facility 0 (kernel) is believed for kernel messages:
// userspace writing to /dev/kmsg gets another facility.
void scan_kernel_log_line(std::string_view line, KernelLogFindings& out);
// A whole file of such lines (either form, mixed).
KernelLogFindings scan_kernel_log(std::string_view text);

// /proc/sys/kernel/tainted: one decimal number and a newline. Errors name the
// offending byte (reason "taint-malformed").
Result<uint64_t> parse_taint(std::string_view text);
// "P", "O", "E" letters of the set bits among those three, e.g. "OE" ("" for none).
std::string taint_letters(uint64_t taint);

struct ImaFindings {
  // Modules IMA measured with an ima-sig (or ima-modsig) template that carries
  // no signature: appraisal had nothing to verify. Distinct, log order.
  std::vector<std::string> unsigned_modules;
  size_t module_entries = 0;  // measurements of module files, any template
  size_t malformed = 0;       // lines without the five fields of a measurement
  size_t lines = 0;
};

// /sys/kernel/security/ima/ascii_runtime_measurements:
//   "PCR template-hash template-name file-hash file-name [signature …]".
// File names may contain spaces; a module file is one ending in .ko, .ko.xz,
// .ko.zst or .ko.gz.
void scan_ima_line(std::string_view line, ImaFindings& out);
ImaFindings scan_ima_log(std::string_view text);

// The kernel's name for a module file: the base name without its suffix, '-'
// as '_' ("/lib/modules/6.1/extra/hello-world.ko.xz" → "hello_world"); empty
// when that is not a valid module name.
std::string module_name_from_path(std::string_view path);

// True for [A-Za-z0-9_.-]{1,64}, the names the evidence format accepts.
bool valid_module_name(std::string_view name);

struct KernelModuleSources {
  std::filesystem::path kernel_log = "/dev/kmsg";
  std::filesystem::path taint = "/proc/sys/kernel/tainted";
  std::filesystem::path ima_log = "/sys/kernel/security/ima/ascii_runtime_measurements";
};

struct KernelModuleFindings {
  uint64_t taint = 0;
  std::vector<std::string> unsigned_modules;  // kernel log, then kUnnamedModule if taint E has no name
  std::vector<std::string> rejected_modules;
  std::vector<std::string> ima_failures;
  // One line per source that exists but could not be read or parsed, naming
  // the file (for the status file and the agent's log).
  std::vector<std::string> problems;
};

// Reads the three sources. /dev/kmsg (any character device) is read record by
// record without blocking, from the oldest record the ring buffer still holds;
// regular files are read line by line, at most 64 MiB.
KernelModuleFindings collect_kernel_modules(const KernelModuleSources& sources);

}  // namespace tl::agent
