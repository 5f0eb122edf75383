// The strict JSON reader behind ReleasePolicy::parse. token::parse_json_object
// refuses the same things, but a policy author needs to know *where*: this
// reader is a SAX handler that builds the document itself and so knows the
// path of every value ("anyOf[0].allOf[3]: duplicate member \"equals\"").
#include <cstddef>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "policy/release_policy_internal.h"

namespace tl::policy::detail {

namespace {

using nlohmann::json;

// A member name as it appears in a path: plain names as they are, anything
// else (dots, quotes, control characters, very long names) as a quoted JSON
// string, so a path is unambiguous and stays printable.
std::string path_key(const std::string& key) {
  bool plain = !key.empty() && key.size() <= 64;
  for (char c : key) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '_';
    if (!ok) plain = false;
  }
  return plain ? key : shown(json(key));
}

// nlohmann's message without its "[json.exception…] parse error at line 1,
// column 7: " prefix and without the "; last read: '…'" suffix, which quotes
// input bytes (possibly invalid UTF-8) into what would become a JSON answer.
std::string parser_message(const std::string& what) {
  std::string m = what;
  if (const size_t last = m.find("; last read"); last != std::string::npos) m.resize(last);
  if (const size_t column = m.find("column "); column != std::string::npos) {
    if (const size_t colon = m.find(": ", column); colon != std::string::npos) m.erase(0, colon + 2);
  } else if (const size_t bracket = m.find("] "); bracket != std::string::npos) {
    m.erase(0, bracket + 2);
  }
  for (char& c : m)
    if (static_cast<unsigned char>(c) < 0x20 || static_cast<unsigned char>(c) > 0x7e) c = '?';
  return m;
}

class StrictReader {
 public:
  explicit StrictReader(int max_depth) : max_depth_(max_depth) {}

  bool null() { return put(json(nullptr)); }
  bool boolean(bool v) { return put(json(v)); }
  bool number_integer(json::number_integer_t v) { return put(json(v)); }
  bool number_unsigned(json::number_unsigned_t v) { return put(json(v)); }
  bool number_float(json::number_float_t v, const json::string_t&) { return put(json(v)); }
  bool string(json::string_t& v) { return put(json(std::move(v))); }
  bool binary(json::binary_t&) { return fail(child_path(), "binary values are not JSON"); }

  bool start_object(std::size_t) { return open(json::object(), false); }
  bool start_array(std::size_t) { return open(json::array(), true); }
  bool end_object() { return close(); }
  bool end_array() { return close(); }

  bool key(json::string_t& k) {
    Frame& top = stack_.back();
    if (!top.keys.insert(k).second) return fail(top.path, "duplicate member " + shown(json(k)));
    top.key = std::move(k);
    return true;
  }

  bool parse_error(std::size_t position, const std::string&, const nlohmann::detail::exception& e) {
    std::string path = stack_.empty() ? "" : stack_.back().path;
    if (!stack_.empty() && !stack_.back().is_array && !stack_.back().key.empty()) path = child_path();
    // nlohmann counts from 1 (n + 1 is the end of an n-byte input); people and
    // editors count offsets from 0.
    const std::size_t offset = position > 0 ? position - 1 : 0;
    return fail(path, "not valid JSON at offset " + std::to_string(offset) + " (" + parser_message(e.what()) + ")");
  }

  Result<json> result() && {
    if (error_) return std::move(*error_);
    if (!root_.is_object()) return policy_error("", "expected a JSON object, got " + kind_with_article(root_));
    return std::move(root_);
  }

 private:
  struct Frame {
    json* value;
    bool is_array;
    std::string path;
    std::string key;  // the member being read (objects)
    std::set<std::string> keys;
  };

  std::string child_path() const {
    if (stack_.empty()) return "";
    const Frame& top = stack_.back();
    if (top.is_array) return top.path + "[" + std::to_string(top.value->size()) + "]";
    const std::string k = path_key(top.key);
    return top.path.empty() ? k : top.path + "." + k;
  }

  // Stores a finished value where the parser is: the root, the next array
  // element or the current member. Returns where it went.
  json* place(json v) {
    if (stack_.empty()) {
      root_ = std::move(v);
      return &root_;
    }
    Frame& top = stack_.back();
    if (top.is_array) {
      top.value->push_back(std::move(v));
      return &top.value->back();
    }
    json& slot = (*top.value)[top.key];
    slot = std::move(v);
    return &slot;
  }

  bool put(json v) {
    place(std::move(v));
    return true;
  }

  // A child container: its pointer stays valid while it is open, because
  // nothing is added to its parent until it closes.
  bool open(json empty, bool is_array) {
    std::string path = child_path();
    if (static_cast<int>(stack_.size()) >= max_depth_)
      return fail(path, "nested deeper than " + std::to_string(max_depth_) + " levels");
    json* slot = place(std::move(empty));
    stack_.push_back(Frame{slot, is_array, std::move(path), {}, {}});
    return true;
  }

  bool close() {
    stack_.pop_back();
    return true;
  }

  bool fail(const std::string& path, const std::string& what) {
    if (!error_) error_ = policy_error(path, what);
    return false;
  }

  int max_depth_;
  json root_;
  std::vector<Frame> stack_;
  std::optional<Error> error_;
};

}  // namespace

Result<nlohmann::json> read_policy_json(std::string_view text, int max_depth) {
  StrictReader reader(max_depth);
  // strict: nothing may follow the document; a false return is recorded in
  // the reader, which is then asked for the error.
  (void)json::sax_parse(text.begin(), text.end(), &reader, json::input_format_t::json, /*strict=*/true);
  return std::move(reader).result();
}

}  // namespace tl::policy::detail
