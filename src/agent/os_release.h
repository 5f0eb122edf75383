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

// Errors: "line N: …", reason "os-release-malformed".
Result<OsRelease> parse_os_release(std::string_view text);

// Reads `path` ("os-release-unreadable", or "os-release-malformed" with the path).
Result<OsRelease> load_os_release(const std::filesystem::path& path);
// /etc/os-release, else /usr/lib/os-release, as the spec says to look.
Result<OsRelease> load_os_release();

// Major and minor as numbers from the leading numeric components of
// VERSION_ID: "12" → 12.0, "22.04" → 22.4 (numeric: "04" is 4, so compare
// these fields, not the string), "15.5.1" → 15.5, "9.3-beta" → 9.3. nullopt
// when VERSION_ID does not start with a number ("rolling", "") or a component
// is longer than 9 digits.
std::optional<OsVersion> parse_version_id(std::string_view version_id);

}  // namespace tl::agent
