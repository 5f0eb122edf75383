#include "agent/tpm/marshal.h"

#include <tss2/tss2_mu.h>

#include <string>

#include "agent/tpm/esys_util.h"
#include "common/byte_reader.h"

namespace tl::agent::tpm::detail {

namespace {

// Every TPM structure marshals to at most its C size (plus size prefixes).
template <class T>
Result<Bytes> marshal(const T& value, const char* what, TSS2_RC (*fn)(const T*, uint8_t[], size_t, size_t*)) {
  Bytes out(sizeof(T) + 16);
  size_t offset = 0;
  const TSS2_RC rc = fn(&value, out.data(), out.size(), &offset);
  if (rc != TSS2_RC_SUCCESS) return tss_error(std::string("cannot marshal ") + what, rc);
  out.resize(offset);
  return out;
}

template <class T>
Result<T> unmarshal(ByteView data, const char* field, TSS2_RC (*fn)(const uint8_t[], size_t, size_t*, T*)) {
  if (data.empty()) return Error{std::string(field) + ": empty", kReasonInvalid};
  T value{};
  size_t offset = 0;
  const TSS2_RC rc = fn(data.data(), data.size(), &offset, &value);
  if (rc != TSS2_RC_SUCCESS) {
    Error e = tss_error(std::string(field) + " (" + std::to_string(data.size()) + " bytes) is not well formed", rc);
    e.reason = kReasonInvalid;
    return e;
  }
  if (offset != data.size()) {
    return Error{std::string(field) + ": " + std::to_string(data.size() - offset) +
                     " trailing bytes at offset " + hex_offset(offset),
                 kReasonInvalid};
  }
  return value;
}

}  // namespace

Result<Bytes> marshal_public_area(const TPMT_PUBLIC& p) {
  return marshal(p, "TPMT_PUBLIC", Tss2_MU_TPMT_PUBLIC_Marshal);
}
Result<Bytes> marshal_public(const TPM2B_PUBLIC& p) {
  return marshal(p, "TPM2B_PUBLIC", Tss2_MU_TPM2B_PUBLIC_Marshal);
}
Result<Bytes> marshal_private(const TPM2B_PRIVATE& p) {
  return marshal(p, "TPM2B_PRIVATE", Tss2_MU_TPM2B_PRIVATE_Marshal);
}
Result<Bytes> marshal_signature(const TPMT_SIGNATURE& s) {
  return marshal(s, "TPMT_SIGNATURE", Tss2_MU_TPMT_SIGNATURE_Marshal);
}

Result<TPM2B_PUBLIC> unmarshal_public(ByteView data, const char* field) {
  return unmarshal(data, field, Tss2_MU_TPM2B_PUBLIC_Unmarshal);
}
Result<TPM2B_PRIVATE> unmarshal_private(ByteView data, const char* field) {
  return unmarshal(data, field, Tss2_MU_TPM2B_PRIVATE_Unmarshal);
}
Result<TPM2B_ID_OBJECT> unmarshal_id_object(ByteView data, const char* field) {
  return unmarshal(data, field, Tss2_MU_TPM2B_ID_OBJECT_Unmarshal);
}
Result<TPM2B_ENCRYPTED_SECRET> unmarshal_encrypted_secret(ByteView data, const char* field) {
  return unmarshal(data, field, Tss2_MU_TPM2B_ENCRYPTED_SECRET_Unmarshal);
}

}  // namespace tl::agent::tpm::detail
