// Operation names and the identity forms of access control.
#include "keys/access.h"
#include "keys/access_internal.h"

namespace tl::keys {

std::string_view operation_name(Operation op) {
  switch (op) {
    case Operation::get: return "get";
    case Operation::list: return "list";
    case Operation::create: return "create";
    case Operation::import: return "import";
    case Operation::update: return "update";
    case Operation::del: return "delete";
    case Operation::recover: return "recover";
    case Operation::purge: return "purge";
    case Operation::rotate: return "rotate";
    case Operation::release: return "release";
    case Operation::audit: return "audit";
  }
  return "?";
}

std::optional<Operation> operation_from_name(std::string_view name) {
  for (Operation op : kAllOperations) {
    if (operation_name(op) == name) return op;
  }
  return std::nullopt;
}

namespace detail {

bool valid_token_name(std::string_view name) {
  if (name.empty() || name.size() > 64) return false;
  for (char c : name) {
    const bool ok = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '.' ||
                    c == '_' || c == '-';
    if (!ok) return false;
  }
  return true;
}

}  // namespace detail

Status check_identity(std::string_view identity) {
  constexpr std::string_view kToken = "token:", kCert = "cert:sha256:", kVm = "vm:";
  if (identity == "admin") return {};
  if (identity.starts_with(kToken)) {
    if (detail::valid_token_name(identity.substr(kToken.size()))) return {};
    return Error{"identity \"token:NAME\": NAME must be 1-64 of A-Z a-z 0-9 . _ -", "identity-invalid"};
  }
  if (identity.starts_with(kCert)) {
    const std::string_view hex = identity.substr(kCert.size());
    bool ok = hex.size() == 64;
    for (char c : hex) ok = ok && ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'));
    // Lower case only: identities are compared as strings, and the server
    // writes the certificate's hash in lower case.
    if (ok) return {};
    return Error{"identity \"cert:sha256:HEX\": HEX must be the 64 lower-case hex digits of the SHA-256 of the "
                 "certificate's DER",
                 "identity-invalid"};
  }
  if (identity.starts_with(kVm)) {
    const std::string_view id = identity.substr(kVm.size());
    bool ok = !id.empty() && id.size() <= 128;  // the evidence's vmId limit
    for (char c : id) ok = ok && static_cast<unsigned char>(c) > 0x20 && c != 0x7f;
    if (ok) return {};
    return Error{"identity \"vm:VMID\": VMID must be 1-128 characters without spaces or control characters",
                 "identity-invalid"};
  }
  return Error{"identity must be \"admin\", \"token:NAME\", \"cert:sha256:HEX\" or \"vm:VMID\"", "identity-invalid"};
}

}  // namespace tl::keys
