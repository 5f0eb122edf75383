// tlaunch eventlog inspect FILE [--json] [--pcrs FILE]
// Parses and replays a TCG event log and shows its facts and problems. Display
// only: nothing here is trusted (see eventlog/verified_log.h for the trust path).
#include <algorithm>
#include <cstdio>
#include <iostream>
#include <string>

#include <nlohmann/json.hpp>

#include "cli/commands.h"
#include "cli/json_output.h"
#include "cli/options.h"
#include "common/byte_reader.h"
#include "eventlog/facts.h"
#include "eventlog/parsed_log.h"
#include "eventlog/replay.h"
#include "tpm/pcr_file.h"

namespace tl::cli {

namespace {

using nlohmann::ordered_json;
using eventlog::BootFacts;
using eventlog::SecureBootState;
using eventlog::SignatureEntry;

constexpr const char* kHelp =
    "usage: tlaunch eventlog inspect FILE [--json] [--pcrs FILE]\n"
    "\n"
    "Parse and replay a TCG event log (e.g. /sys/kernel/security/tpm0/binary_bios_measurements)\n"
    "and show its format, banks, replayed PCRs, Secure Boot state and keys, boot\n"
    "applications, Linux kernel command line and version, and the problems the\n"
    "hardening checks found. The log is not trusted: this is for inspection.\n"
    "\n"
    "  --json        print one JSON object (shape in docs/cli.md)\n"
    "  --pcrs FILE   compare the replay with real PCR values: tpm2_pcrread YAML,\n"
    "                tpm2_pcrread -o / tpm2_quote -o binary, JSON {\"sha256\":{\"0\":hex}},\n"
    "                or sysfs-style lines \"PCR sha256 0 HEX\"\n"
    "\n"
    "Exit status: 0 log parsed (and every compared PCR matched), 1 a PCR from --pcrs\n"
    "does not match the replay, 2 malformed log or PCR file, unreadable file, usage error.\n";

const char* format_name(eventlog::LogFormat f) {
  return f == eventlog::LogFormat::crypto_agile ? "crypto-agile" : "sha1-legacy";
}

bool is_hash_type(const std::string& t) {
  return t == "sha1" || t == "sha224" || t == "sha256" || t == "sha384" || t == "sha512";
}

ordered_json entry_json(const SignatureEntry& e) {
  ordered_json j;
  j["type"] = e.type;
  j["owner"] = e.owner.empty() ? ordered_json(nullptr) : ordered_json(e.owner);
  if (e.type == "x509" && e.error.empty()) {
    j["subject"] = e.subject;
    j["issuer"] = e.issuer;
    j["sha256_fingerprint"] = e.sha256_fingerprint;
  } else if (is_hash_type(e.type)) {
    j["hash"] = e.hex;
  } else {
    j["data"] = e.hex;
  }
  if (!e.error.empty()) j["error"] = e.error;
  return j;
}

ordered_json digests_json(const std::map<crypto::HashAlg, std::string>& d) {
  ordered_json j = ordered_json::object();
  for (const auto& [alg, hex] : d) j[std::string(crypto::hash_name(alg))] = hex;
  return j;
}

ordered_json database_json(const eventlog::SignatureDatabase& db) {
  ordered_json j = ordered_json::array();
  for (const auto& e : db.entries) j.push_back(entry_json(e));
  return j;
}

template <class T>
ordered_json optional_json(const std::optional<T>& v) {
  return v ? ordered_json(*v) : ordered_json(nullptr);
}

ordered_json secure_boot_json(const eventlog::SecureBootFacts& sb) {
  ordered_json j;
  switch (sb.state) {
    case SecureBootState::enabled: j["enabled"] = true; break;
    case SecureBootState::disabled: j["enabled"] = false; break;
    default: j["enabled"] = nullptr; break;
  }
  j["state"] = eventlog::secure_boot_state_name(sb.state);
  j["pk"] = database_json(sb.pk);
  j["kek"] = database_json(sb.kek);
  j["db"] = database_json(sb.db);
  j["dbx"] = database_json(sb.dbx);
  ordered_json auths = ordered_json::array();
  for (const auto& a : sb.authorities) {
    ordered_json x;
    x["event"] = a.event.index;
    x["variable"] = a.variable;
    x["vendor"] = a.vendor;
    x["after_separator"] = a.after_separator;
    if (a.signature) x["certificate"] = entry_json(*a.signature);
    if (!a.text.empty()) x["text"] = a.text;
    auths.push_back(std::move(x));
  }
  j["authorities"] = std::move(auths);
  j["sbat_level"] = optional_json(sb.sbat_level);
  ordered_json shim = ordered_json::array();
  for (const auto& v : sb.shim_variables)
    shim.push_back({{"event", v.event.index}, {"name", v.name}, {"digests", digests_json(v.digests)}});
  j["shim_variables"] = std::move(shim);
  j["debug_mode"] = sb.debug_mode;
  return j;
}

// Compares the replay with real PCR values. A PCR the log does not extend is
// compared with its initial value; when it differs, something outside this log
// extended it (IMA on PCR 10, systemd on 11-15…), which is not a replay failure.
struct PcrComparison {
  ordered_json json = ordered_json::object();
  bool all_match = true;
  size_t compared = 0;
  std::vector<std::string> mismatches;  // "sha256 PCR 4"
};

PcrComparison compare_pcrs(const eventlog::ParsedLog& log, const tpm::PcrValues& replayed,
                           const tpm::PcrValues& actual) {
  PcrComparison c;
  for (const auto& [alg, actual_bank] : actual) {
    const bool log_has_bank =
        std::find(log.banks().begin(), log.banks().end(), alg) != log.banks().end();
    if (!log_has_bank) continue;
    const auto rit = replayed.find(alg);
    ordered_json bank = ordered_json::object();
    for (const auto& [pcr, value] : actual_bank) {
      ordered_json x;
      const bool in_log = rit != replayed.end() && rit->second.count(pcr) != 0;
      const Bytes expected = in_log ? rit->second.at(pcr) : eventlog::initial_pcr_value(log, alg, pcr);
      const bool match = expected == value;
      x["replayed"] = to_hex(expected);
      x["actual"] = to_hex(value);
      x["in_log"] = in_log;
      if (in_log) {
        x["match"] = match;
        ++c.compared;
        if (!match) {
          c.all_match = false;
          c.mismatches.push_back(std::string(crypto::hash_name(alg)) + " PCR " + std::to_string(pcr));
        }
      } else {
        // Not a verdict on the log: the PCR is either untouched or extended elsewhere.
        x["match"] = match ? ordered_json(true) : ordered_json(nullptr);
        if (!match) x["note"] = "extended outside this event log";
      }
      bank[std::to_string(pcr)] = std::move(x);
    }
    c.json[std::string(crypto::hash_name(alg))] = std::move(bank);
  }
  if (c.compared == 0) c.all_match = false;  // nothing in common: no evidence of a match
  return c;
}

void print_text(const std::string& path, const eventlog::ParsedLog& log, const tpm::PcrValues& pcrs,
                const BootFacts& f, const PcrComparison* cmp) {
  std::string banks;
  for (auto b : log.banks()) banks += (banks.empty() ? "" : ", ") + std::string(crypto::hash_name(b));
  std::printf("%s: %s log, banks %s, %zu events\n", path.c_str(), format_name(log.format()),
              banks.c_str(), log.events().size());
  std::printf("\nPCRs (replayed):\n");
  for (const auto& [alg, map] : pcrs)
    for (const auto& [pcr, v] : map)
      std::printf("  %-7s %2u  %s\n", std::string(crypto::hash_name(alg)).c_str(), pcr, to_hex(v).c_str());

  const auto& sb = f.secure_boot;
  std::printf("\nSecure Boot: %s", eventlog::secure_boot_state_name(sb.state));
  if (sb.secure_boot_event) std::printf(" (event %u)", sb.secure_boot_event->index);
  std::printf("%s\n", sb.debug_mode ? "  [UEFI Debug Mode]" : "");
  auto print_db = [](const char* name, const eventlog::SignatureDatabase& db) {
    if (!db.event) {
      std::printf("  %-4s not measured\n", name);
      return;
    }
    std::printf("  %-4s %zu entr%s (event %u)%s%s\n", name, db.entries.size(),
                db.entries.size() == 1 ? "y" : "ies", db.event->index, db.error.empty() ? "" : ": ",
                db.error.c_str());
    for (const auto& e : db.entries) {
      if (e.type == "x509" && e.error.empty())
        std::printf("         x509 %s\n              sha256 %s\n", e.subject.c_str(),
                    e.sha256_fingerprint.c_str());
      else
        std::printf("         %s %s\n", e.type.c_str(), e.hex.c_str());
    }
  };
  print_db("PK", sb.pk);
  print_db("KEK", sb.kek);
  print_db("db", sb.db);
  print_db("dbx", sb.dbx);
  for (const auto& a : sb.authorities) {
    std::printf("  authority (event %u, %s separator): %s", a.event.index,
                a.after_separator ? "after" : "before", a.variable.c_str());
    if (a.signature && a.signature->error.empty()) std::printf(" %s", a.signature->subject.c_str());
    std::printf("\n");
  }
  if (sb.sbat_level) {
    std::string s = *sb.sbat_level;
    for (auto& ch : s)
      if (ch == '\n') ch = ' ';
    std::printf("  SbatLevel: %s\n", s.c_str());
  }
  if (!sb.shim_variables.empty()) {
    std::printf("  shim measured:");
    for (const auto& v : sb.shim_variables) std::printf(" %s", v.name.c_str());
    std::printf("\n");
  }

  std::printf("\nBoot applications:\n");
  if (f.boot_applications.empty()) std::printf("  none measured\n");
  for (const auto& a : f.boot_applications) {
    const auto it = a.digests.find(crypto::HashAlg::sha256);
    const auto& d = it != a.digests.end() ? *it : *a.digests.begin();
    std::printf("  event %-3u %s %s  %s\n", a.event.index, std::string(crypto::hash_name(d.first)).c_str(),
                d.second.c_str(), a.device_path.empty() ? "(no device path)" : a.device_path.c_str());
  }

  const auto& lb = f.linux_boot;
  std::printf("\nLinux boot: %s\n", lb.loader.empty() ? "not measured" : lb.loader.c_str());
  if (!lb.loader.empty()) {
    std::printf("  kernel:  %s (version %s)\n", lb.kernel_path.value_or("?").c_str(),
                lb.kernel_version.value_or("unknown").c_str());
    if (lb.initrd_path) std::printf("  initrd:  %s\n", lb.initrd_path->c_str());
    if (lb.initrd_measured_by_kernel) std::printf("  initrd measured by the Linux EFI stub\n");
    std::printf("  cmdline: %s\n", lb.kernel_cmdline.value_or("(not measured)").c_str());
    if (lb.loader == "grub")
      std::printf("  grub: %zu commands, %zu files\n", lb.grub_commands.size(), lb.grub_files.size());
  }

  if (cmp != nullptr) {
    std::printf("\nPCR check (%zu compared): %s\n", cmp->compared, cmp->all_match ? "all match" : "MISMATCH");
    for (const auto& m : cmp->mismatches) std::printf("  %s differs from the replay\n", m.c_str());
  }

  std::printf("\nProblems: %s\n", f.problems.empty() ? "none" : "");
  for (const auto& p : f.problems)
    std::printf("  event %u at offset %s, PCR %u: %s\n", p.event, hex_offset(p.offset).c_str(), p.pcr,
                p.message.c_str());
}

}  // namespace

int eventlog_inspect(const Args& args) {
  auto opts = parse_options(args, OptionSpec{{"--json", "--help", "-h"}, {"--pcrs"}});
  if (!opts) {
    std::fprintf(stderr, "tlaunch eventlog inspect: %s\n", opts.error().message.c_str());
    return kExitBadInput;
  }
  if (opts->has("--help") || opts->has("-h")) {
    std::fputs(kHelp, stdout);
    return kExitOk;
  }
  if (opts->positionals.size() != 1) {
    std::fprintf(stderr, "tlaunch eventlog inspect: expected exactly one FILE\n\n%s", kHelp);
    return kExitBadInput;
  }
  const std::string& path = opts->positionals[0];
  auto bytes = read_file_bytes(path);
  if (!bytes) {
    std::fprintf(stderr, "tlaunch eventlog inspect: %s\n", bytes.error().message.c_str());
    return kExitBadInput;
  }
  auto log = eventlog::ParsedLog::parse(std::move(*bytes));
  if (!log) {
    std::fprintf(stderr, "tlaunch eventlog inspect: %s: malformed event log: %s\n", path.c_str(),
                 log.error().message.c_str());
    return kExitBadInput;
  }
  auto pcrs = eventlog::replay(*log);
  if (!pcrs) {
    std::fprintf(stderr, "tlaunch eventlog inspect: %s: replay failed: %s\n", path.c_str(),
                 pcrs.error().message.c_str());
    return kExitBadInput;
  }
  std::optional<PcrComparison> cmp;
  if (auto pcr_path = opts->value("--pcrs")) {
    auto pcr_bytes = read_file_bytes(*pcr_path);
    if (!pcr_bytes) {
      std::fprintf(stderr, "tlaunch eventlog inspect: %s\n", pcr_bytes.error().message.c_str());
      return kExitBadInput;
    }
    auto actual = tpm::parse_pcr_file(*pcr_bytes);
    if (!actual) {
      std::fprintf(stderr, "tlaunch eventlog inspect: %s: %s\n", pcr_path->c_str(),
                   actual.error().message.c_str());
      return kExitBadInput;
    }
    cmp = compare_pcrs(*log, *pcrs, *actual);
  }
  const BootFacts f = eventlog::inspect_facts(*log);

  if (opts->has("--json")) {
    ordered_json j;
    j["file"] = path;
    j["format"] = format_name(log->format());
    ordered_json banks = ordered_json::array();
    for (auto b : log->banks()) banks.push_back(std::string(crypto::hash_name(b)));
    j["banks"] = std::move(banks);
    j["event_count"] = log->events().size();
    j["pcrs"] = pcrs_json(*pcrs);
    j["secure_boot"] = secure_boot_json(f.secure_boot);
    ordered_json apps = ordered_json::array();
    for (const auto& a : f.boot_applications) {
      ordered_json x;
      x["event"] = a.event.index;
      x["offset"] = a.event.offset;
      x["pcr"] = a.event.pcr;
      x["digests"] = digests_json(a.digests);
      x["device_path"] = a.device_path;
      x["image_length"] = a.image_length;
      if (!a.error.empty()) x["error"] = a.error;
      apps.push_back(std::move(x));
    }
    j["boot_applications"] = std::move(apps);
    const auto& lb = f.linux_boot;
    j["kernel_cmdline"] = optional_json(lb.kernel_cmdline);
    j["linux_kernel_version"] = optional_json(lb.kernel_version);
    j["kernel_path"] = optional_json(lb.kernel_path);
    j["initrd_path"] = optional_json(lb.initrd_path);
    j["boot_loader"] = lb.loader.empty() ? ordered_json(nullptr) : ordered_json(lb.loader);
    j["initrd_measured_by_kernel"] = lb.initrd_measured_by_kernel;
    j["grub"] = {{"commands", lb.grub_commands}, {"files", lb.grub_files}};
    ordered_json problems = ordered_json::array();
    for (const auto& p : f.problems)
      problems.push_back({{"event", p.event}, {"offset", p.offset}, {"pcr", p.pcr}, {"message", p.message}});
    j["problems"] = std::move(problems);
    if (cmp) {
      j["pcr_check"] = cmp->json;
      j["pcrs_match"] = cmp->all_match;
      j["pcrs_compared"] = cmp->compared;
    }
    // Invalid UTF-8 in measured strings is replaced, never a reason to fail.
    std::cout << j.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) << '\n';
  } else {
    print_text(path, *log, *pcrs, f, cmp ? &*cmp : nullptr);
  }
  if (cmp && !cmp->all_match) {
    std::fprintf(stderr, "tlaunch eventlog inspect: %s\n",
                 cmp->compared == 0 ? "no PCR of the log was in the PCR file: nothing compared"
                                    : "replayed PCRs do not match the PCR file");
    return kExitFailed;
  }
  return kExitOk;
}

}  // namespace tl::cli
