#include "http/target.h"

namespace tl::http {
namespace {

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

std::string hex_byte(unsigned char c) {
  static const char kHex[] = "0123456789abcdef";
  return {kHex[c >> 4], kHex[c & 15]};
}

Status add_query_pair(std::string_view pair, size_t offset, std::map<std::string, std::string>& query) {
  const size_t eq = pair.find('=');
  auto name = percent_decode(pair.substr(0, eq), true);
  if (!name) return with_context("query at offset " + std::to_string(offset), name.take_error());
  std::string value;
  if (eq != std::string_view::npos) {
    auto decoded = percent_decode(pair.substr(eq + 1), true);
    if (!decoded) {
      return with_context("query value at offset " + std::to_string(offset + eq + 1), decoded.take_error());
    }
    value = std::move(*decoded);
  }
  if (!query.emplace(std::move(*name), std::move(value)).second) {
    return Error{"query parameter at offset " + std::to_string(offset) + " repeats a name"};
  }
  return {};
}

}  // namespace

Result<std::string> percent_decode(std::string_view text, bool plus_is_space) {
  std::string out;
  out.reserve(text.size());
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (c == '+' && plus_is_space) {
      out.push_back(' ');
      continue;
    }
    if (c != '%') {
      out.push_back(c);
      continue;
    }
    if (text.size() - i < 3 || hex_value(text[i + 1]) < 0 || hex_value(text[i + 2]) < 0) {
      return Error{"bad percent-encoding at offset " + std::to_string(i)};
    }
    const char decoded = static_cast<char>(hex_value(text[i + 1]) * 16 + hex_value(text[i + 2]));
    if (decoded == '\0') return Error{"encoded NUL at offset " + std::to_string(i)};
    out.push_back(decoded);
    i += 2;
  }
  return out;
}

Result<Target> parse_target(std::string_view target) {
  if (target.empty() || target.front() != '/') {
    return Error{"request target must start with '/' (origin-form)"};
  }
  // RFC 3986/9112: a target is printable ASCII; raw spaces, controls and
  // bytes >= 0x80 have to arrive percent-encoded.
  for (size_t i = 0; i < target.size(); ++i) {
    const auto c = static_cast<unsigned char>(target[i]);
    if (c <= 0x20 || c >= 0x7f) return Error{"raw byte 0x" + hex_byte(c) + " in request target at offset " + std::to_string(i)};
  }
  const size_t question = target.find('?');
  const std::string_view raw_path = target.substr(0, question);
  // Decoding a %2F would turn one segment into two after routing decided.
  for (size_t i = 0; i + 2 < raw_path.size(); ++i) {
    if (raw_path[i] == '%' && raw_path[i + 1] == '2' && (raw_path[i + 2] == 'F' || raw_path[i + 2] == 'f')) {
      return Error{"encoded '/' in path at offset " + std::to_string(i)};
    }
  }
  auto path = percent_decode(raw_path, false);
  if (!path) return with_context("path", path.take_error());
  Target out{std::move(*path), {}};
  if (question == std::string_view::npos) return out;

  const std::string_view query = target.substr(question + 1);
  size_t start = 0;
  while (start <= query.size()) {
    size_t end = query.find('&', start);
    if (end == std::string_view::npos) end = query.size();
    const std::string_view pair = query.substr(start, end - start);
    if (!pair.empty()) {  // "a=1&&b=2" and a trailing '&' carry nothing
      auto added = add_query_pair(pair, question + 1 + start, out.query);
      if (!added) return added.take_error();
    }
    start = end + 1;
  }
  return out;
}

}  // namespace tl::http
