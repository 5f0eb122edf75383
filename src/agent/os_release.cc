#include "agent/os_release.h"

#include <cerrno>
#include <cstring>
#include <fstream>

namespace tl::agent {
namespace {

constexpr const char* kMalformed = "os-release-malformed";

Error at_line(size_t line, const std::string& why) {
  return Error{"line " + std::to_string(line) + ": " + why, kMalformed};
}

bool is_blank(char c) { return c == ' ' || c == '\t'; }
bool is_key_start(char c) { return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '_'; }
bool is_key_char(char c) { return is_key_start(c) || (c >= '0' && c <= '9'); }
bool is_control(char c) {
  const auto u = static_cast<unsigned char>(c);
  return (u < 0x20 && c != '\t') || u == 0x7f;
}
// Characters the shell would interpret in an unquoted word.
bool is_shell_special(char c) {
  switch (c) {
    case ' ': case '\t': case '"': case '\'': case '`': case '$': case ';': case '&':
    case '|': case '<': case '>': case '(': case ')': case '*': case '?': case '[':
    case '#': case '~': case '{': case '}':
      return true;
    default:
      return false;
  }
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && is_blank(s.front())) s.remove_prefix(1);
  while (!s.empty() && (is_blank(s.back()) || s.back() == '\r')) s.remove_suffix(1);
  return s;
}

// Parses the value part of one line (after '='). `line` is for messages.
Result<std::string> parse_value(std::string_view v, size_t line) {
  std::string out;
  if (v.empty()) return out;
  const char q = v.front();
  if (q == '\'' || q == '"') {
    size_t i = 1;
    bool closed = false;
    for (; i < v.size(); ++i) {
      const char c = v[i];
      if (c == q) {
        closed = true;
        ++i;
        break;
      }
      if (q == '"' && c == '\\' && i + 1 < v.size()) {
        const char n = v[i + 1];
        if (n == '$' || n == '"' || n == '\\' || n == '`') {
          out += n;
          ++i;
          continue;
        }
      }
      if (q == '"' && (c == '$' || c == '`')) {
        return at_line(line, std::string("unescaped '") + c + "' in a double-quoted value (write \\" + c + ")");
      }
      out += c;
    }
    if (!closed) return at_line(line, std::string("unterminated ") + (q == '"' ? "double" : "single") + "-quoted value");
    if (i < v.size()) {
      return at_line(line, "text after the closing quote (concatenated or trailing values are not supported)");
    }
    return out;
  }
  for (size_t i = 0; i < v.size(); ++i) {
    const char c = v[i];
    if (c == '\\') {
      if (i + 1 >= v.size()) return at_line(line, "value ends with a lone backslash");
      out += v[++i];
      continue;
    }
    if (is_shell_special(c)) {
      return at_line(line, std::string("unquoted value contains '") + c + "' (quote the value)");
    }
    out += c;
  }
  return out;
}

std::string field_or(const std::map<std::string, std::string>& m, const std::string& key, std::string fallback) {
  const auto it = m.find(key);
  return it == m.end() ? fallback : it->second;
}

}  // namespace

std::optional<OsVersion> parse_version_id(std::string_view v) {
  constexpr size_t kMaxDigits = 9;
  auto number = [&](size_t& pos) -> std::optional<uint32_t> {
    const size_t start = pos;
    while (pos < v.size() && v[pos] >= '0' && v[pos] <= '9') ++pos;
    if (pos == start || pos - start > kMaxDigits) return std::nullopt;
    uint32_t n = 0;
    for (size_t i = start; i < pos; ++i) n = n * 10 + static_cast<uint32_t>(v[i] - '0');
    return n;
  };
  size_t pos = 0;
  const auto major = number(pos);
  if (!major) return std::nullopt;
  OsVersion out{*major, 0};
  if (pos < v.size() && v[pos] == '.' && pos + 1 < v.size() && v[pos + 1] >= '0' && v[pos + 1] <= '9') {
    ++pos;
    const auto minor = number(pos);
    if (!minor) return std::nullopt;
    out.minor = *minor;
  }
  return out;
}

Result<OsRelease> parse_os_release(std::string_view text) {
  if (text.size() > kMaxOsReleaseSize) {
    return Error{"os-release is " + std::to_string(text.size()) + " bytes, more than " +
                     std::to_string(kMaxOsReleaseSize),
                 kMalformed};
  }
  OsRelease out;
  size_t line_no = 0;
  size_t pos = 0;
  while (pos < text.size()) {
    size_t end = text.find('\n', pos);
    if (end == std::string_view::npos) end = text.size();
    const std::string_view raw = text.substr(pos, end - pos);
    pos = end + 1;
    ++line_no;

    for (size_t i = 0; i < raw.size(); ++i) {
      if (is_control(raw[i]) && !(raw[i] == '\r' && i + 1 == raw.size())) {
        return at_line(line_no, "control character at column " + std::to_string(i + 1));
      }
    }
    const std::string_view line = trim(raw);
    if (line.empty() || line.front() == '#') continue;

    const size_t eq = line.find('=');
    if (eq == std::string_view::npos) return at_line(line_no, "expected KEY=value");
    const std::string_view key = line.substr(0, eq);
    if (key.empty()) return at_line(line_no, "empty key before '='");
    if (is_blank(key.back())) return at_line(line_no, "blank before '=' (write KEY=value)");
    if (!is_key_start(key.front())) return at_line(line_no, "key must start with a letter or '_'");
    for (char c : key) {
      if (!is_key_char(c)) return at_line(line_no, std::string("key contains '") + c + "'");
    }
    const std::string_view value = line.substr(eq + 1);
    if (!value.empty() && is_blank(value.front())) return at_line(line_no, "blank after '=' (quote the value)");
    auto parsed = parse_value(value, line_no);
    if (!parsed) return parsed.take_error();
    out.fields[std::string(key)] = std::move(*parsed);
  }
  out.name = field_or(out.fields, "NAME", "Linux");
  out.id = field_or(out.fields, "ID", "linux");
  out.pretty_name = field_or(out.fields, "PRETTY_NAME", "Linux");
  out.version_id = field_or(out.fields, "VERSION_ID", "");
  out.version = parse_version_id(out.version_id);
  return out;
}

Result<OsRelease> load_os_release(const std::filesystem::path& path) {
  // A directory opens and reads as empty (EOF, not an error) in iostreams:
  // that would pass for a file with no fields.
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec)) {
    return Error{path.string() + ": cannot read: is a directory", "os-release-unreadable"};
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) return Error{path.string() + ": cannot open: " + std::strerror(errno), "os-release-unreadable"};
  std::string text(kMaxOsReleaseSize + 1, '\0');
  in.read(text.data(), static_cast<std::streamsize>(text.size()));
  if (in.bad()) return Error{path.string() + ": cannot read", "os-release-unreadable"};
  text.resize(static_cast<size_t>(in.gcount()));
  auto r = parse_os_release(text);
  if (!r) return with_context(path.string(), r.take_error());
  return r;
}

Result<OsRelease> load_os_release() {
  std::error_code ec;
  if (std::filesystem::exists(kDefaultOsRelease, ec)) return load_os_release(kDefaultOsRelease);
  return load_os_release(kFallbackOsRelease);
}

OsFacts os_facts(const std::filesystem::path& path, const std::filesystem::path& fallback) {
  std::error_code ec;
  const bool use_fallback = !fallback.empty() && !std::filesystem::exists(path, ec) && !ec;
  const std::filesystem::path& chosen = use_fallback ? fallback : path;
  auto r = load_os_release(chosen);
  if (r) return OsFacts{std::move(*r), std::nullopt};
  std::string why = r.error().message;
  if (use_fallback) why = path.string() + " does not exist; " + why;
  // Parsing nothing yields exactly the spec's defaults.
  auto defaults = parse_os_release("");
  return OsFacts{std::move(*defaults), why + " (reporting the os-release(5) defaults: NAME \"Linux\", no version)"};
}

}  // namespace tl::agent
