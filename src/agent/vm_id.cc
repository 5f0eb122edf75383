#include "agent/vm_id.h"

#include <cerrno>
#include <cstring>
#include <fstream>

namespace tl::agent {
namespace {

constexpr const char* kInvalid = "vm-id-invalid";
constexpr size_t kUuidLength = 36;

bool is_dash_position(size_t i) { return i == 8 || i == 13 || i == 18 || i == 23; }

}  // namespace

Result<std::string> normalize_vm_id(std::string_view text) {
  if (text.size() != kUuidLength) {
    return Error{"VM id has " + std::to_string(text.size()) +
                     " characters; expected a UUID of 36 (xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx)",
                 kInvalid};
  }
  std::string out(text);
  for (size_t i = 0; i < out.size(); ++i) {
    char& c = out[i];
    if (is_dash_position(i)) {
      if (c != '-') return Error{"VM id: expected '-' at position " + std::to_string(i + 1), kInvalid};
      continue;
    }
    if (c >= 'A' && c <= 'F') c = static_cast<char>(c - 'A' + 'a');
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) {
      return Error{"VM id: not a hex digit at position " + std::to_string(i + 1), kInvalid};
    }
  }
  if (out == "00000000-0000-0000-0000-000000000000") {
    return Error{"VM id is the nil UUID: the firmware did not set a system UUID", kInvalid};
  }
  if (out == "ffffffff-ffff-ffff-ffff-ffffffffffff") {
    return Error{"VM id is all ones: the firmware did not set a system UUID", kInvalid};
  }
  return out;
}

Result<std::string> resolve_vm_id(const std::optional<std::string>& override_id,
                                  const std::filesystem::path& product_uuid_path) {
  if (override_id) {
    auto id = normalize_vm_id(*override_id);
    if (!id) return with_context("--vm-id", id.take_error());
    return id;
  }
  std::ifstream in(product_uuid_path, std::ios::binary);
  if (!in) {
    const int err = errno;
    std::string msg = product_uuid_path.string() + ": cannot read the VM id: " + std::strerror(err);
    if (err == EACCES) msg += " (the file is readable by root only; run as root or pass --vm-id)";
    if (err == ENOENT) msg += " (no SMBIOS system UUID here; pass --vm-id)";
    return Error{msg, "vm-id-unreadable"};
  }
  // A UUID line is 37 bytes; read a little more so an overlong file is refused, not cut.
  std::string text(64, '\0');
  in.read(text.data(), static_cast<std::streamsize>(text.size()));
  if (in.bad()) return Error{product_uuid_path.string() + ": cannot read the VM id", "vm-id-unreadable"};
  text.resize(static_cast<size_t>(in.gcount()));
  if (!text.empty() && text.back() == '\n') text.pop_back();
  auto id = normalize_vm_id(text);
  if (!id) return with_context(product_uuid_path.string(), id.take_error());
  return id;
}

}  // namespace tl::agent
