// EFI_SIGNATURE_LIST (UEFI spec 2.10, section 32.4.1): the format of the PK,
// KEK, db, dbx variables and of shim's MokList.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <vector>

#include "common/hex.h"
#include "common/result.h"
#include "eventlog/uefi_variable.h"

namespace tl::eventlog {

Guid efi_cert_x509_guid();    // a5c059a1-94e4-4aa7-87b5-ab155c2bf072
Guid efi_cert_sha256_guid();  // c1c41626-504c-4092-aca9-41f936934328

// "x509", "sha256", "sha1", "rsa2048", "x509_sha256" … or the GUID text when unknown.
std::string signature_type_name(const Guid& type);

struct EfiSignature {
  Guid owner;
  ByteView data;       // SignatureData (after the owner GUID)
  size_t offset = 0;   // absolute offset of the EFI_SIGNATURE_DATA
};

struct EfiSignatureList {
  Guid type;
  size_t offset = 0;   // absolute offset of the list header
  ByteView header;     // SignatureHeader (empty for every type UEFI defines today)
  std::vector<EfiSignature> signatures;
};

// Decodes the back-to-back lists that make up a signature database. Every size
// is checked against the bytes present; errors name the list and offset.
// At most kMaxSignatures signatures are accepted in total, so a crafted size
// cannot make us allocate without bound.
inline constexpr size_t kMaxSignatures = 100000;
Result<std::vector<EfiSignatureList>> parse_signature_lists(ByteView data, size_t base_offset = 0);

}  // namespace tl::eventlog
