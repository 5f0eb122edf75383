// Request-target parsing (RFC 9112 §3.2 origin-form): path and query, both
// percent-decoded. Our own code on untrusted bytes, so it has a fuzzer
// (fuzz/http_router.cmake).
#pragma once

#include <map>
#include <string>
#include <string_view>

#include "common/result.h"

namespace tl::http {

struct Target {
  std::string path;
  std::map<std::string, std::string> query;
};

// Decodes %XX escapes; with plus_is_space a '+' becomes ' ' (query strings).
// Refuses a '%' without two hex digits and an encoded NUL.
Result<std::string> percent_decode(std::string_view text, bool plus_is_space);

// "/a/b%20c?x=1&y" → path "/a/b c", query {x: "1", y: ""}. Only origin-form
// ("/...") of printable ASCII (raw spaces, controls and bytes >= 0x80 are
// refused); an encoded '/' in the path and a repeated query name are refused
// (they would let one request mean two things to two readers).
Result<Target> parse_target(std::string_view target);

}  // namespace tl::http
