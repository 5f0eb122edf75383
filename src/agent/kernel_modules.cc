#include "agent/kernel_modules.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <functional>

namespace tl::agent {
namespace {

// A kmsg record's text is at most ~1 KiB; journal and IMA lines carry paths
// (PATH_MAX 4096). Longer lines are not something these sources produce.
constexpr size_t kMaxLine = 16 * 1024;
// Bounds the time and memory a huge or endless source (a character device
// that never runs dry) can take.
constexpr size_t kMaxSourceBytes = 64 * 1024 * 1024;
// The evidence format's limit per list.
constexpr size_t kMaxListEntries = 256;

bool name_char(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '.' ||
         c == '-';
}

bool is_digit(char c) { return c >= '0' && c <= '9'; }

bool is_hex(std::string_view s) {
  return std::all_of(s.begin(), s.end(), [](char c) {
    return is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
  });
}

void add_unique(std::vector<std::string>& list, std::string name) {
  if (std::find(list.begin(), list.end(), name) == list.end()) list.push_back(std::move(name));
}

// A name as userspace (modprobe, systemd-modules-load) spells it, in the
// kernel's spelling; kUnnamedModule when it is not a module name at all.
std::string kernel_spelling(std::string_view name) {
  std::string out(name);
  std::replace(out.begin(), out.end(), '-', '_');
  return valid_module_name(out) ? out : std::string(kUnnamedModule);
}

// Old kernels print "signature and/or  required" (two spaces, from string
// concatenation); matching on single-spaced text covers both.
std::string collapse_spaces(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (char c : s) {
    if (c == '\t') c = ' ';
    if (c == ' ' && !out.empty() && out.back() == ' ') continue;
    out += c;
  }
  return out;
}

// "pri,seq,ts,flags[,more];" at the start of a /dev/kmsg record. Returns the
// position after ';' and the syslog facility, or npos when the line is not one.
size_t kmsg_header(std::string_view line, unsigned& facility) {
  size_t i = 0;
  uint64_t pri = 0;
  for (int field = 0; field < 3; ++field) {
    const size_t start = i;
    while (i < line.size() && is_digit(line[i]) && i - start < 20) {
      if (field == 0) pri = pri * 10 + static_cast<uint64_t>(line[i] - '0');
      ++i;
    }
    if (i == start || i >= line.size() || line[i] != ',') return std::string_view::npos;
    ++i;
  }
  const size_t semi = line.find(';', i);
  // flags is one character, optionally followed by ",caller=…" (CONFIG_PRINTK_CALLER).
  if (semi == std::string_view::npos || semi == i || semi - i > 64) return std::string_view::npos;
  if (pri > 1023) return std::string_view::npos;
  facility = static_cast<unsigned>(pri >> 3);
  return semi + 1;
}

// The module name written just before `at` (the kernel's "%s: …" prefix): a
// run of name characters that starts the message or follows a space or ']'.
std::string name_before(std::string_view msg, size_t at) {
  size_t start = at;
  while (start > 0 && name_char(msg[start - 1])) --start;
  if (start == at) return std::string(kUnnamedModule);
  if (start > 0 && msg[start - 1] != ' ' && msg[start - 1] != ']' && msg[start - 1] != ';')
    return std::string(kUnnamedModule);
  const std::string_view name = msg.substr(start, at - start);
  return valid_module_name(name) ? std::string(name) : std::string(kUnnamedModule);
}

// Text between `open` and `close` after a marker, e.g. 'nvidia' in
// "Failed to insert module 'nvidia': Key was rejected by service".
bool quoted_after(std::string_view msg, std::string_view marker, std::string_view close, std::string& out) {
  const size_t m = msg.find(marker);
  if (m == std::string_view::npos) return false;
  const size_t start = m + marker.size();
  const size_t end = msg.find(close, start);
  if (end == std::string_view::npos) return false;
  out.assign(msg.substr(start, end - start));
  return true;
}

bool contains(std::string_view s, std::string_view what) { return s.find(what) != std::string_view::npos; }

// Calls `line` for each line of the regular file at `path`; lines over
// kMaxLine are counted in `overlong` and not passed on.
Status for_each_file_line(const std::filesystem::path& path, const std::function<void(std::string_view)>& line,
                          size_t& overlong) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Error{path.string() + ": cannot open: " + std::strerror(errno)};
  std::string carry;
  bool dropping = false;  // inside an overlong line, until its newline
  size_t total = 0;
  std::array<char, 64 * 1024> buf;
  while (in && total < kMaxSourceBytes) {
    in.read(buf.data(), static_cast<std::streamsize>(buf.size()));
    const auto n = static_cast<size_t>(in.gcount());
    if (n == 0) break;
    total += n;
    std::string_view chunk(buf.data(), n);
    while (!chunk.empty()) {
      const size_t nl = chunk.find('\n');
      const std::string_view piece = chunk.substr(0, nl);
      if (!dropping) {
        if (carry.size() + piece.size() > kMaxLine) {
          dropping = true;
          ++overlong;
          carry.clear();
        } else {
          carry.append(piece);
        }
      }
      if (nl == std::string_view::npos) break;
      if (!dropping) line(carry);
      carry.clear();
      dropping = false;
      chunk.remove_prefix(nl + 1);
    }
  }
  if (in.bad()) return Error{path.string() + ": read failed"};
  if (!carry.empty() && !dropping) line(carry);  // a last line without newline
  if (total >= kMaxSourceBytes) {
    return Error{path.string() + ": stopped after " + std::to_string(kMaxSourceBytes) + " bytes (the rest is not read)"};
  }
  return {};
}

// /dev/kmsg: each read() returns one record; O_NONBLOCK ends the loop with
// EAGAIN once the ring buffer is drained instead of waiting for new messages.
Status for_each_kmsg_record(const std::filesystem::path& path, const std::function<void(std::string_view)>& record) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC);
  if (fd < 0) return Error{path.string() + ": cannot open: " + std::strerror(errno)};
  std::string buf(kMaxLine, '\0');
  size_t total = 0;
  Status st;
  while (total < kMaxSourceBytes) {
    const ssize_t n = ::read(fd, buf.data(), buf.size());
    if (n > 0) {
      total += static_cast<size_t>(n);
      std::string_view rec(buf.data(), static_cast<size_t>(n));
      // The record's first line is the message; " KEY=value" lines follow.
      record(rec.substr(0, rec.find('\n')));
      continue;
    }
    if (n == 0) break;
    if (errno == EINTR) continue;
    if (errno == EPIPE) continue;  // records were overwritten while we read: go on with the next
    if (errno == EAGAIN) break;    // drained
    // EINVAL would repeat forever (a record larger than the buffer is not skipped).
    st = Error{path.string() + ": read failed: " + std::strerror(errno)};
    break;
  }
  ::close(fd);
  if (st.ok() && total >= kMaxSourceBytes) {
    return Error{path.string() + ": stopped after " + std::to_string(kMaxSourceBytes) + " bytes (the rest is not read)"};
  }
  return st;
}

enum class SourceKind { missing, regular, character, other };

SourceKind kind_of(const std::filesystem::path& path, std::string& problem) {
  struct stat sb {};
  if (::stat(path.c_str(), &sb) != 0) {
    if (errno == ENOENT || errno == ENOTDIR) return SourceKind::missing;
    problem = path.string() + ": " + std::strerror(errno);
    return SourceKind::other;
  }
  if (S_ISREG(sb.st_mode)) return SourceKind::regular;
  if (S_ISCHR(sb.st_mode)) return SourceKind::character;
  problem = path.string() + ": not a regular file or character device";
  return SourceKind::other;
}

void cap(std::vector<std::string>& list, const char* what, std::vector<std::string>& problems) {
  if (list.size() <= kMaxListEntries) return;
  problems.push_back(std::string(what) + ": " + std::to_string(list.size()) + " modules, only the first " +
                     std::to_string(kMaxListEntries) + " are reported");
  list.resize(kMaxListEntries);
}

// A placeholder beside real names says nothing more than they do.
void drop_placeholder_if_named(std::vector<std::string>& list) {
  if (list.size() > 1) std::erase(list, std::string(kUnnamedModule));
}

}  // namespace

bool valid_module_name(std::string_view name) {
  return !name.empty() && name.size() <= 64 && std::all_of(name.begin(), name.end(), name_char);
}

std::string module_name_from_path(std::string_view path) {
  std::string_view base = path.substr(path.find_last_of('/') == std::string_view::npos ? 0 : path.find_last_of('/') + 1);
  bool stripped = false;
  for (std::string_view suffix : {".ko.xz", ".ko.zst", ".ko.gz", ".ko"}) {
    if (base.size() > suffix.size() && base.substr(base.size() - suffix.size()) == suffix) {
      base.remove_suffix(suffix.size());
      stripped = true;
      break;
    }
  }
  if (!stripped) return "";
  std::string out(base);
  std::replace(out.begin(), out.end(), '-', '_');
  return valid_module_name(out) ? out : "";
}

void scan_kernel_log_line(std::string_view line, KernelLogFindings& out) {
  ++out.lines;
  if (line.empty() || line[0] == ' ') return;  // blank, or a kmsg " KEY=value" continuation
  if (line.size() > kMaxLine) {
    ++out.skipped;
    return;
  }
  if (line.back() == '\r') line.remove_suffix(1);
  unsigned facility = 0;
  bool from_kernel = true;  // text lines: who wrote them is not known, take them as they are
  const size_t body = kmsg_header(line, facility);
  if (body != std::string_view::npos) {
    line.remove_prefix(body);
    from_kernel = facility == 0;
  }
  const std::string text = collapse_spaces(line);
  const std::string_view msg = text;

  if (from_kernel) {
    // kernel/module/main.c, module_augment_kernel_taints(): pr_notice_once.
    constexpr std::string_view kUnsigned =
        ": module verification failed: signature and/or required key missing - tainting kernel";
    if (const size_t at = msg.find(kUnsigned); at != std::string_view::npos) {
      add_unique(out.unsigned_modules, name_before(msg, at));
      return;
    }
    // kernel/module/signing.c, module_sig_check() with enforcement on: the
    // reason is "unsigned module", "module with unsupported crypto" or
    // "module with unavailable key"; no module name is printed.
    for (std::string_view refusal : {"Loading of unsigned module is rejected",
                                     "Loading of module with unsupported crypto is rejected",
                                     "Loading of module with unavailable key is rejected"}) {
      if (contains(msg, refusal)) {
        add_unique(out.rejected_modules, std::string(kUnnamedModule));
        return;
      }
    }
    // security/lockdown/lockdown.c: "Lockdown: <comm>: unsigned module loading
    // is restricted; see man kernel_lockdown.7" (older kernels: no "<comm>: ").
    if (contains(msg, "Lockdown: ") && contains(msg, "unsigned module loading is restricted")) {
      add_unique(out.rejected_modules, std::string(kUnnamedModule));
      return;
    }
    // certs/: a module signed with a key on the blacklist keyring is refused.
    if (contains(msg, "Module key '") && contains(msg, "' is in blacklist")) {
      add_unique(out.rejected_modules, std::string(kUnnamedModule));
      return;
    }
    // Key lookups that fail: the module then loads tainted (E, logged above
    // once) or is refused (enforcement, logged above); alone they name nothing.
    if (contains(msg, "Request for unknown module key '") ||
        contains(msg, "PKCS#7 signature not signed with a trusted key")) {
      ++out.key_problems;
      return;
    }
    // "<mod>: module is from the staging directory, the quality is unknown,
    // you have been warned." is about quality, not signatures: nothing to report.
  }

  // Userspace's account of a refusal (journal or syslog text; EKEYREJECTED is
  // "Key was rejected by service"), which names the module.
  constexpr std::string_view kRejected = "Key was rejected by service";
  if (!contains(msg, kRejected)) return;
  std::string name;
  if (quoted_after(msg, "Failed to insert module '", "'", name) ||  // systemd-modules-load
      quoted_after(msg, "could not insert '", "'", name)) {         // modprobe
    add_unique(out.rejected_modules, kernel_spelling(name));
  } else if (quoted_after(msg, "could not insert module ", ": ", name)) {  // insmod PATH
    const std::string from_path = module_name_from_path(name);
    add_unique(out.rejected_modules, from_path.empty() ? std::string(kUnnamedModule) : from_path);
  }
}

KernelLogFindings scan_kernel_log(std::string_view text) {
  KernelLogFindings out;
  while (!text.empty()) {
    const size_t nl = text.find('\n');
    scan_kernel_log_line(text.substr(0, nl), out);
    if (nl == std::string_view::npos) break;
    text.remove_prefix(nl + 1);
  }
  return out;
}

Result<uint64_t> parse_taint(std::string_view text) {
  if (!text.empty() && text.back() == '\n') text.remove_suffix(1);
  if (text.empty()) return Error{"empty (expected a decimal number)", "taint-malformed"};
  if (text.size() > 20) return Error{"longer than a 64-bit number", "taint-malformed"};
  uint64_t v = 0;
  for (size_t i = 0; i < text.size(); ++i) {
    if (!is_digit(text[i])) {
      return Error{"byte " + std::to_string(i) + " is not a decimal digit", "taint-malformed"};
    }
    const auto d = static_cast<uint64_t>(text[i] - '0');
    if (v > (UINT64_MAX - d) / 10) return Error{"larger than a 64-bit number", "taint-malformed"};
    v = v * 10 + d;
  }
  return v;
}

std::string taint_letters(uint64_t taint) {
  std::string out;
  if (taint & kTaintProprietary) out += 'P';
  if (taint & kTaintOutOfTree) out += 'O';
  if (taint & kTaintUnsignedModule) out += 'E';
  return out;
}

void scan_ima_line(std::string_view line, ImaFindings& out) {
  ++out.lines;
  if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
  if (line.empty()) return;
  // PCR, template hash, template name, file hash: single spaces between them.
  std::array<std::string_view, 4> f;
  for (auto& field : f) {
    const size_t sp = line.find(' ');
    if (sp == std::string_view::npos || sp == 0) {
      ++out.malformed;
      return;
    }
    field = line.substr(0, sp);
    line.remove_prefix(sp + 1);
  }
  const std::string_view pcr = f[0], template_hash = f[1], template_name = f[2];
  if (line.empty() || !std::all_of(pcr.begin(), pcr.end(), is_digit) || pcr.size() > 2 || !is_hex(template_hash)) {
    ++out.malformed;
    return;
  }
  // A violation (file open for writing while measured) has a zero template hash
  // and no file data: not a signature verdict.
  if (template_hash.find_first_not_of('0') == std::string_view::npos) return;

  // The file name may contain spaces, and signature fields follow it: find a
  // module suffix that ends the name, i.e. is followed by the end or a space
  // and fields the template can have.
  const bool sig = template_name == "ima-sig";
  const bool modsig = template_name == "ima-modsig";
  size_t from = 0;
  while (true) {
    const size_t ko = line.find(".ko", from);
    if (ko == std::string_view::npos) return;  // not a module file
    from = ko + 1;
    size_t end = ko + 3;
    for (std::string_view comp : {".xz", ".zst", ".gz"}) {
      if (line.substr(end, comp.size()) == comp) {
        end += comp.size();
        break;
      }
    }
    if (end != line.size() && line[end] != ' ') continue;
    const std::string_view path = line.substr(0, end);
    std::string_view tail = line.substr(end);
    if (!tail.empty()) tail.remove_prefix(1);  // the separator
    // The fields after the name, split on single spaces (an empty field is
    // printed as nothing between its separators).
    std::vector<std::string_view> rest;
    if (!tail.empty() || line.size() > end) {
      size_t p = 0;
      while (true) {
        const size_t sp = tail.find(' ', p);
        rest.push_back(tail.substr(p, sp == std::string_view::npos ? std::string_view::npos : sp - p));
        if (sp == std::string_view::npos) break;
        p = sp + 1;
      }
    }
    const auto hexish = [](std::string_view s) {
      const size_t colon = s.find(':');  // d-modsig is "alg:hex"
      return is_hex(colon == std::string_view::npos ? s : s.substr(colon + 1));
    };
    bool fits = true;
    if (sig) fits = rest.size() <= 1 && (rest.empty() || is_hex(rest[0]));
    else if (modsig) fits = rest.size() <= 3 && std::all_of(rest.begin(), rest.end(), hexish);
    else fits = rest.empty() || (rest.size() == 1 && rest[0].empty()) || std::all_of(rest.begin(), rest.end(), hexish);
    if (!fits) continue;  // a ".ko " inside a longer name
    ++out.module_entries;
    bool unsigned_module = false;
    if (sig) unsigned_module = rest.empty() || rest[0].empty();
    if (modsig) {
      const bool has_sig = !rest.empty() && !rest[0].empty();
      const bool has_modsig = rest.size() == 3 && !rest[2].empty();
      unsigned_module = !has_sig && !has_modsig;
    }
    if (unsigned_module) {
      const std::string name = module_name_from_path(path);
      add_unique(out.unsigned_modules, name.empty() ? std::string(kUnnamedModule) : name);
    }
    return;
  }
}

ImaFindings scan_ima_log(std::string_view text) {
  ImaFindings out;
  while (!text.empty()) {
    const size_t nl = text.find('\n');
    const std::string_view line = text.substr(0, nl);
    if (line.size() > kMaxLine) {
      ++out.lines;
      ++out.malformed;
    } else {
      scan_ima_line(line, out);
    }
    if (nl == std::string_view::npos) break;
    text.remove_prefix(nl + 1);
  }
  return out;
}

KernelModuleFindings collect_kernel_modules(const KernelModuleSources& sources) {
  KernelModuleFindings out;

  std::string problem;
  switch (kind_of(sources.taint, problem)) {
    case SourceKind::missing: break;
    case SourceKind::other: out.problems.push_back(problem); break;
    default: {
      std::ifstream in(sources.taint, std::ios::binary);
      std::string text(64, '\0');
      if (in) in.read(text.data(), static_cast<std::streamsize>(text.size()));
      if (!in && !in.eof()) {
        out.problems.push_back(sources.taint.string() + ": cannot read");
        break;
      }
      text.resize(static_cast<size_t>(in.gcount()));
      auto t = parse_taint(text);
      if (t) out.taint = *t;
      else out.problems.push_back(sources.taint.string() + ": " + t.error().message);
    }
  }

  KernelLogFindings log;
  problem.clear();
  const auto on_line = [&log](std::string_view l) { scan_kernel_log_line(l, log); };
  switch (kind_of(sources.kernel_log, problem)) {
    case SourceKind::missing: break;
    case SourceKind::other: out.problems.push_back(problem); break;
    case SourceKind::character:
      if (auto st = for_each_kmsg_record(sources.kernel_log, on_line); !st) out.problems.push_back(st.error().message);
      break;
    case SourceKind::regular:
      if (auto st = for_each_file_line(sources.kernel_log, on_line, log.skipped); !st)
        out.problems.push_back(st.error().message);
      break;
  }
  if (log.skipped > 0) {
    out.problems.push_back(sources.kernel_log.string() + ": " + std::to_string(log.skipped) + " of " +
                           std::to_string(log.lines + log.skipped) + " lines were longer than " +
                           std::to_string(kMaxLine) + " bytes and not read");
  }
  out.unsigned_modules = std::move(log.unsigned_modules);
  out.rejected_modules = std::move(log.rejected_modules);
  // The kernel names only the first unsigned module of a boot, and the ring
  // buffer may have dropped that line: the taint flag still says one loaded.
  if ((out.taint & kTaintUnsignedModule) && out.unsigned_modules.empty()) {
    out.unsigned_modules.emplace_back(kUnnamedModule);
  }

  ImaFindings ima;
  problem.clear();
  switch (kind_of(sources.ima_log, problem)) {
    case SourceKind::missing: break;
    case SourceKind::other: out.problems.push_back(problem); break;
    default: {
      size_t overlong = 0;
      const auto on_ima = [&ima](std::string_view l) { scan_ima_line(l, ima); };
      if (auto st = for_each_file_line(sources.ima_log, on_ima, overlong); !st) out.problems.push_back(st.error().message);
      if (ima.malformed + overlong > 0) {
        out.problems.push_back(sources.ima_log.string() + ": " + std::to_string(ima.malformed + overlong) +
                               " lines are not IMA measurements");
      }
    }
  }
  out.ima_failures = std::move(ima.unsigned_modules);

  drop_placeholder_if_named(out.unsigned_modules);
  drop_placeholder_if_named(out.rejected_modules);
  drop_placeholder_if_named(out.ima_failures);
  cap(out.unsigned_modules, "unsigned", out.problems);
  cap(out.rejected_modules, "rejected", out.problems);
  cap(out.ima_failures, "imaFailures", out.problems);
  return out;
}

}  // namespace tl::agent
