// Secure Boot facts from PCR 7 (and shim's PCR 14): the SecureBoot variable,
// PK/KEK/db/dbx, the authorities that allowed each image, SbatLevel, MokList….
#pragma once

#include <string_view>

#include "common/hex.h"
#include "eventlog/facts.h"
#include "eventlog/uefi_variable.h"

namespace tl::eventlog {

// Secure Boot policy variables PFP requires on PCR 7 before the separator,
// plus the ones some firmware adds (dbt, dbr, DeployedMode, AuditMode).
bool is_secure_boot_variable(const UefiVariable& v);

// Decodes a signature database (EFI_SIGNATURE_LIST…) into entries; on a
// decode error, `error` says why and `entries` is empty.
SignatureDatabase decode_signature_database(ByteView data, size_t base_offset);

// One EFI_SIGNATURE_DATA value of a known type (certificate subject and
// fingerprint for x509, hex for hashes and unknown types).
SignatureEntry decode_signature_entry(const Guid& type, const Guid& owner, ByteView data);

}  // namespace tl::eventlog
