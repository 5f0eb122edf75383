#include "cli/options.h"

#include <cerrno>
#include <cstring>
#include <fstream>

namespace tl::cli {

Result<ParsedOptions> parse_options(const Args& args, const OptionSpec& spec) {
  ParsedOptions out;
  bool only_positionals = false;
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    if (only_positionals || a.size() < 2 || a[0] != '-' ) {
      out.positionals.push_back(a);
      continue;
    }
    if (a == "--") {
      only_positionals = true;
      continue;
    }
    std::string name = a;
    std::optional<std::string> inline_value;
    if (auto eq = a.find('='); eq != std::string::npos) {
      name = a.substr(0, eq);
      inline_value = a.substr(eq + 1);
    }
    if (spec.flags.count(name) != 0) {
      if (inline_value) return Error{"option " + name + " takes no value"};
      out.flags.insert(name);
    } else if (spec.with_value.count(name) != 0) {
      if (!inline_value) {
        if (i + 1 >= args.size()) return Error{"option " + name + " needs a value"};
        inline_value = args[++i];
      }
      if (out.values.count(name) != 0) return Error{"option " + name + " given twice"};
      out.values[name] = *inline_value;
    } else {
      return Error{"unknown option " + name + " (see --help)"};
    }
  }
  return out;
}

Result<std::vector<uint8_t>> read_file_bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Error{"cannot open " + path + ": " + std::strerror(errno)};
  // istream::read, not istreambuf_iterator: libstdc++'s filebuf throws on a
  // read error (a directory opens but cannot be read), and only the stream
  // functions turn that into badbit.
  std::vector<uint8_t> data;
  char chunk[65536];
  while (in.read(chunk, sizeof chunk) || in.gcount() > 0) {
    data.insert(data.end(), chunk, chunk + in.gcount());
  }
  if (in.bad()) return Error{"cannot read " + path + ": " + std::strerror(errno)};
  return data;
}

}  // namespace tl::cli
