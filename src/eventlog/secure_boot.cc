#include "eventlog/secure_boot.h"

#include <algorithm>

#include "crypto/x509.h"
#include "eventlog/efi_signature_list.h"
#include "eventlog/facts_internal.h"

namespace tl::eventlog {

const char* secure_boot_state_name(SecureBootState s) {
  switch (s) {
    case SecureBootState::absent: return "absent";
    case SecureBootState::enabled: return "enabled";
    case SecureBootState::disabled: return "disabled";
    case SecureBootState::malformed: return "malformed";
  }
  return "malformed";
}

bool is_secure_boot_variable(const UefiVariable& v) {
  if (v.vendor == efi_global_variable_guid()) {
    return v.name_is("SecureBoot") || v.name_is("PK") || v.name_is("KEK") ||
           v.name_is("DeployedMode") || v.name_is("AuditMode");
  }
  if (v.vendor == image_security_database_guid()) {
    return v.name_is("db") || v.name_is("dbx") || v.name_is("dbt") || v.name_is("dbr");
  }
  return false;
}

SignatureEntry decode_signature_entry(const Guid& type, const Guid& owner, ByteView data) {
  SignatureEntry e;
  e.type = signature_type_name(type);
  e.owner = owner.to_string();
  if (type == efi_cert_x509_guid()) {
    auto cert = crypto::summarize_der_certificate(data);
    if (cert) {
      e.subject = cert->subject;
      e.issuer = cert->issuer;
      e.sha256_fingerprint = cert->sha256_fingerprint;
    } else {
      e.error = "X.509 certificate does not parse: " + cert.error().message;
      e.hex = to_hex(data);
    }
    return e;
  }
  e.hex = to_hex(data);
  return e;
}

SignatureDatabase decode_signature_database(ByteView data, size_t base_offset) {
  SignatureDatabase db;
  auto lists = parse_signature_lists(data, base_offset);
  if (!lists) {
    db.error = lists.error().message;
    return db;
  }
  size_t count = 0;
  for (const auto& list : *lists) count += list.signatures.size();
  db.entries.reserve(count);
  for (const auto& list : *lists)
    for (const auto& sig : list.signatures)
      db.entries.push_back(decode_signature_entry(list.type, sig.owner, sig.data));
  return db;
}

namespace {

// Authority data is one EFI_SIGNATURE_DATA (owner GUID + DER) for db entries
// and for newer shim; older shim logs its vendor certificate as bare DER.
std::optional<SignatureEntry> authority_certificate(ByteView data) {
  if (data.size() > 16) {
    auto cert = crypto::summarize_der_certificate(data.subspan(16));
    if (cert) return decode_signature_entry(efi_cert_x509_guid(), guid_from_bytes(data.first(16)),
                                            data.subspan(16));
  }
  if (crypto::summarize_der_certificate(data)) {
    SignatureEntry e = decode_signature_entry(efi_cert_x509_guid(), Guid{}, data);
    e.owner.clear();
    return e;
  }
  return std::nullopt;
}

SignatureDatabase* database_for(const UefiVariable& v, SecureBootFacts& sb) {
  if (v.vendor == efi_global_variable_guid()) {
    if (v.name_is("PK")) return &sb.pk;
    if (v.name_is("KEK")) return &sb.kek;
  }
  if (v.vendor == image_security_database_guid()) {
    if (v.name_is("db")) return &sb.db;
    if (v.name_is("dbx")) return &sb.dbx;
  }
  return nullptr;
}

}  // namespace

namespace detail {

void extract_secure_boot(std::span<const Event> events, LogFormat format, SecureBootFacts& sb,
                         std::vector<Problem>& problems) {
  const size_t separator = pcr7_separator_position(events);
  for (size_t i = 0; i < events.size(); ++i) {
    const Event& e = events[i];
    const bool before_separator = i < separator;
    if (e.pcr == 14 && e.type == EV_IPL) {
      // shim: data is the variable name, the digest covers its contents.
      sb.shim_variables.push_back({event_ref(e), std::string(ascii_data(e)), digests_hex(e)});
      continue;
    }
    if (e.pcr != 7) continue;
    if (e.type == EV_EFI_ACTION && ascii_data(e) == "UEFI Debug Mode") {
      sb.debug_mode = true;
      continue;
    }
    if (e.type != EV_EFI_VARIABLE_DRIVER_CONFIG && e.type != EV_EFI_VARIABLE_AUTHORITY) continue;
    auto var = parse_uefi_variable(e.data, data_offset(e, format));
    if (!var) {
      problems.push_back(problem(e, event_type_name(e.type) + " data is not UEFI_VARIABLE_DATA: " +
                                        var.error().message));
      continue;
    }
    if (e.type == EV_EFI_VARIABLE_AUTHORITY) {
      Authority a;
      a.event = event_ref(e);
      a.variable = var->name;
      a.vendor = var->vendor.to_string();
      a.after_separator = !before_separator;
      if (var->vendor == shim_lock_guid() && var->name_is("SbatLevel")) {
        a.text = std::string(reinterpret_cast<const char*>(var->data.data()), var->data.size());
        sb.sbat_level = a.text;
      } else {
        a.signature = authority_certificate(var->data);
      }
      sb.authorities.push_back(std::move(a));
      continue;
    }
    // EV_EFI_VARIABLE_DRIVER_CONFIG: only the first measurement before the
    // separator counts; checks.cc reports late and repeated ones.
    if (!before_separator) continue;
    if (var->vendor == efi_global_variable_guid() && var->name_is("SecureBoot")) {
      if (sb.secure_boot_event) continue;
      sb.secure_boot_event = event_ref(e);
      if (var->data.empty() || (var->data.size() == 1 && var->data[0] == 0)) {
        sb.state = SecureBootState::disabled;
      } else if (var->data.size() == 1 && var->data[0] == 1) {
        sb.state = SecureBootState::enabled;
      } else {
        sb.state = SecureBootState::malformed;
        problems.push_back(problem(e, "SecureBoot variable holds " + std::to_string(var->data.size()) +
                                          " bytes (" + to_hex(var->data.first(std::min<size_t>(var->data.size(), 8))) +
                                          "), expected one byte 0 or 1"));
      }
      continue;
    }
    if (SignatureDatabase* db = database_for(*var, sb); db != nullptr && !db->event) {
      *db = decode_signature_database(var->data, var->data_offset);
      db->event = event_ref(e);
      if (!db->error.empty())
        problems.push_back(problem(e, "Secure Boot variable " + var->name +
                                          " is not a valid EFI_SIGNATURE_LIST: " + db->error));
    }
  }
}

}  // namespace detail
}  // namespace tl::eventlog
