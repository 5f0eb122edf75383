// Minimal, strict command-line option parsing for tlaunch subcommands:
// unknown options and missing values are errors, never ignored.
#pragma once

#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "cli/commands.h"
#include "common/result.h"

namespace tl::cli {

struct OptionSpec {
  std::set<std::string> flags;         // boolean, e.g. "--json"
  std::set<std::string> with_value;    // e.g. "--pcrs" (as "--pcrs X" or "--pcrs=X")
};

struct ParsedOptions {
  std::set<std::string> flags;
  std::map<std::string, std::string> values;
  std::vector<std::string> positionals;

  bool has(const std::string& flag) const { return flags.count(flag) != 0; }
  std::optional<std::string> value(const std::string& name) const {
    auto it = values.find(name);
    if (it == values.end()) return std::nullopt;
    return it->second;
  }
};

Result<ParsedOptions> parse_options(const Args& args, const OptionSpec& spec);

// Reads a whole file; the error names the path and the OS reason.
Result<std::vector<uint8_t>> read_file_bytes(const std::string& path);

}  // namespace tl::cli
