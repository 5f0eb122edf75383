#include "cli/fleet_output.h"

#include "common/rfc3339.h"

#include <algorithm>
#include <cstdio>
#include <iostream>

namespace tl::cli {

namespace {

std::string printable(std::string s) {
  for (char& c : s) {
    const auto u = static_cast<unsigned char>(c);
    if (u < 0x20 || u == 0x7f) c = '?';
  }
  return s;
}

const Json* member(const Json& object, std::string_view key) {
  if (!object.is_object()) return nullptr;
  auto it = object.find(key);
  return it == object.end() ? nullptr : &*it;
}

// Display width of UTF-8 text: code points, not bytes, so that names with
// accents do not push the columns apart.
size_t width(const std::string& s) {
  return static_cast<size_t>(std::count_if(s.begin(), s.end(), [](char c) {
    return (static_cast<unsigned char>(c) & 0xc0) != 0x80;
  }));
}

}  // namespace

const Json& field(const Json& object, std::string_view key) {
  static const Json kNull;
  const Json* v = member(object, key);
  return v == nullptr ? kNull : *v;
}

void print_json(const Json& j) {
  // A server string with invalid UTF-8 is replaced, never a reason to fail.
  std::cout << j.dump(2, ' ', false, Json::error_handler_t::replace) << '\n';
}

std::string text(const Json& v) {
  if (v.is_null()) return "-";
  // An empty string is a value ("" kernel version: the guest did not say), not a gap.
  if (v.is_string()) return v.get_ref<const std::string&>().empty() ? "\"\"" : printable(v.get<std::string>());
  return printable(v.dump(-1, ' ', false, Json::error_handler_t::replace));
}

std::string text(const Json& object, std::string_view key) {
  const Json* v = member(object, key);
  return v == nullptr ? "-" : text(*v);
}

std::string time_text(const Json& object, std::string_view key) {
  const Json* v = member(object, key);
  if (v == nullptr || v->is_null()) return "-";
  if (v->is_number_integer()) {
    return format_rfc3339(v->get<int64_t>());
  }
  return text(*v);
}

void print_field(std::string_view key, const std::string& value, int indent) {
  // An empty value heads a nested block ("attestationStatus:"), with no trailing space.
  std::cout << std::string(static_cast<size_t>(indent), ' ') << key << ':' << (value.empty() ? "" : " ") << value
            << '\n';
}

void Table::print() const {
  std::vector<size_t> widths(headers_.size(), 0);
  auto measure = [&widths](const std::vector<std::string>& row) {
    for (size_t i = 0; i < row.size() && i < widths.size(); ++i) widths[i] = std::max(widths[i], width(row[i]));
  };
  measure(headers_);
  for (const auto& r : rows_) measure(r);
  auto emit = [&widths](const std::vector<std::string>& row) {
    std::string line;
    for (size_t i = 0; i < row.size() && i < widths.size(); ++i) {
      line += row[i];
      if (i + 1 < row.size()) line += std::string(widths[i] - width(row[i]) + 2, ' ');
    }
    std::cout << line << '\n';
  };
  emit(headers_);
  for (const auto& r : rows_) emit(r);
}

}  // namespace tl::cli
