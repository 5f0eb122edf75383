// /etc/os-release (freedesktop.org os-release(5)): which distribution and
// version the VM runs, as the agent reports it.
//
// Accepted: KEY=value lines (KEY is [A-Za-z_][A-Za-z0-9_]*), comment lines
// starting with '#', blank lines, leading/trailing blanks. A value is either
// unquoted (no blanks or shell-special characters; "\x" stands for x), or
// wholly in '…' (taken literally), or wholly in "…" (a backslash escapes $, ", backslash
// and `; before any other character it is literal, as in the shell).
// Refused, with the line number: a line without '=', an invalid key, blanks
// around '=', an unterminated quote, text after the closing quote
// (concatenation is not supported by the spec), control characters.
// A key given twice keeps the last value, as sourcing the file would.
#pragma once

#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "common/result.h"

namespace tl::agent {

struct OsVersion {
  uint32_t major = 0;
  uint32_t minor = 0;
  friend bool operator==(const OsVersion&, const OsVersion&) = default;
};

struct OsRelease {
  std::map<std::string, std::string> fields;  // every assignment
  // The spec's defaults apply when absent: NAME "Linux", ID "linux",
  // PRETTY_NAME "Linux"; VERSION_ID has none ("" when absent).
  std::string name;
  std::string id;
  std::string version_id;
  std::string pretty_name;
  std::optional<OsVersion> version;  // from VERSION_ID, see parse_version_id
};

inline constexpr size_t kMaxOsReleaseSize = 64 * 1024;
// Where os-release(5) says to look, in order.
inline constexpr const char* kDefaultOsRelease = "/etc/os-release";
inline constexpr const char* kFallbackOsRelease = "/usr/lib/os-release";

// Errors: "line N: …", reason "os-release-malformed".
Result<OsRelease> parse_os_release(std::string_view text);

// Reads `path` ("os-release-unreadable", or "os-release-malformed" with the path).
Result<OsRelease> load_os_release(const std::filesystem::path& path);
// /etc/os-release, else /usr/lib/os-release, as the spec says to look.
Result<OsRelease> load_os_release();

// What the agent reports about the OS. os-release is self-reported and
// optional: a minimal initramfs guest has none, and that must not stop the VM
// from attesting. Reads `path`; if it does not exist and `fallback` is given,
// reads `fallback` instead (the agent passes /usr/lib/os-release when `path`
// is the default /etc/os-release, as the spec says to look). When neither can
// be read or parsed, the result is what os-release(5) says to assume for a
// missing file (NAME "Linux", ID "linux", no version) and `warning` says why.
struct OsFacts {
  OsRelease release;
  std::optional<std::string> warning;
};
OsFacts os_facts(const std::filesystem::path& path, const std::filesystem::path& fallback = {});

// Major and minor as numbers from the leading numeric components of
// VERSION_ID: "12" → 12.0, "22.04" → 22.4 (numeric: "04" is 4, so compare
// these fields, not the string), "15.5.1" → 15.5, "9.3-beta" → 9.3. nullopt
// when VERSION_ID does not start with a number ("rolling", "") or a component
// is longer than 9 digits.
std::optional<OsVersion> parse_version_id(std::string_view version_id);

}  // namespace tl::agent
