// Private to tl_agent_tpm: TPM structures to and from bytes with tpm2-tss MU.
// The parsers take bytes from outside the TPM (a server, a file) and are strict:
// the whole buffer must be exactly one structure.
#pragma once

#include <tss2/tss2_tpm2_types.h>

#include "common/hex.h"
#include "common/result.h"

namespace tl::agent::tpm::detail {

// Fail only for values MU cannot encode (e.g. an unknown algorithm selector).
Result<Bytes> marshal_public_area(const TPMT_PUBLIC& p);   // TPMT_PUBLIC
Result<Bytes> marshal_public(const TPM2B_PUBLIC& p);       // TPM2B_PUBLIC
Result<Bytes> marshal_private(const TPM2B_PRIVATE& p);     // TPM2B_PRIVATE
Result<Bytes> marshal_signature(const TPMT_SIGNATURE& s);  // TPMT_SIGNATURE

Result<TPM2B_PUBLIC> unmarshal_public(ByteView data, const char* field);
Result<TPM2B_PRIVATE> unmarshal_private(ByteView data, const char* field);
Result<TPM2B_ID_OBJECT> unmarshal_id_object(ByteView data, const char* field);
Result<TPM2B_ENCRYPTED_SECRET> unmarshal_encrypted_secret(ByteView data, const char* field);

}  // namespace tl::agent::tpm::detail
