// Human and script output of the fleet commands: the server's JSON
// pretty-printed (--json), aligned tables for lists, "key: value" blocks.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "cli/api_client.h"

namespace tl::cli {

// The JSON as the server sent it (member order kept), indented, on stdout.
void print_json(const Json& j);

// object[key], or null when `object` is not an object or has no such member:
// reading an answer of the wrong shape shows "-", never throws.
const Json& field(const Json& object, std::string_view key);

// A member's value for people: strings as they are ("" when empty), null and absent as "-",
// booleans and numbers as JSON writes them. Control characters become '?':
// names, paths and messages can come from a VM's event log, and a terminal
// must not run escape sequences hidden in them.
std::string text(const Json& object, std::string_view key);
std::string text(const Json& value);

// A time member in RFC 3339 UTC (the API already sends it so; seconds since
// the epoch are converted); "-" when null or absent.
std::string time_text(const Json& object, std::string_view key);

// "  key: value" on stdout, indented by `indent` spaces.
void print_field(std::string_view key, const std::string& value, int indent = 0);

// Columns padded to their widest cell; the last column is not padded.
class Table {
 public:
  explicit Table(std::vector<std::string> headers) : headers_(std::move(headers)) {}
  void add(std::vector<std::string> row) { rows_.push_back(std::move(row)); }
  void print() const;  // on stdout; a table without rows prints its headers only

 private:
  std::vector<std::string> headers_;
  std::vector<std::vector<std::string>> rows_;
};

}  // namespace tl::cli
