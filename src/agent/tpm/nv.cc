#include <algorithm>
#include <string>

#include "agent/tpm/ops.h"

namespace tl::agent::tpm::detail {

namespace {

constexpr uint16_t kMaxCertificateBytes = 16 * 1024;  // EK certificates are 1-2 KiB

// TPM2_PT_NV_BUFFER_MAX: the most one TPM2_NV_Read returns.
Result<uint16_t> nv_buffer_max(ESYS_CONTEXT* ctx) {
  TPMI_YES_NO more = TPM2_NO;
  EsysOut<TPMS_CAPABILITY_DATA> caps;
  const TSS2_RC rc = Esys_GetCapability(ctx, ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE, TPM2_CAP_TPM_PROPERTIES,
                                        TPM2_PT_NV_BUFFER_MAX, 1, &more, caps.put());
  if (rc != TSS2_RC_SUCCESS) return tss_error("TPM2_GetCapability(TPM2_PT_NV_BUFFER_MAX)", rc);
  const TPML_TAGGED_TPM_PROPERTY& p = caps->data.tpmProperties;
  uint32_t v = 512;  // the minimum a PC Client TPM supports
  if (p.count >= 1 && p.tpmProperty[0].property == TPM2_PT_NV_BUFFER_MAX) v = p.tpmProperty[0].value;
  return static_cast<uint16_t>(std::clamp<uint32_t>(v, 64, TPM2_MAX_NV_BUFFER_SIZE));
}

}  // namespace

Result<std::optional<Bytes>> read_nv_index(ESYS_CONTEXT* ctx, uint32_t index, size_t max_bytes,
                                           const std::string& where) {
  auto present = handle_present(ctx, index);
  if (!present) return present.take_error();
  if (!*present) return std::optional<Bytes>();
  auto ref = reference(ctx, index);
  if (!ref) return ref.take_error();
  EsysOut<TPM2B_NV_PUBLIC> pub;
  TSS2_RC rc = Esys_NV_ReadPublic(ctx, ref->tr(), ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE, pub.put(), nullptr);
  if (rc != TSS2_RC_SUCCESS) return tss_error("TPM2_NV_ReadPublic(" + where + ")", rc);
  const TPMA_NV attrs = pub->nvPublic.attributes;
  const uint16_t size = pub->nvPublic.dataSize;
  if ((attrs & TPMA_NV_WRITTEN) == 0) return std::optional<Bytes>();
  if (size == 0 || size > max_bytes) {
    return Error{where + " has " + std::to_string(size) + " bytes, not 1.." + std::to_string(max_bytes),
                 kReasonTpmError};
  }
  // Readable with the index's own (empty) auth or the owner's.
  ESYS_TR auth = ESYS_TR_NONE;
  if ((attrs & TPMA_NV_AUTHREAD) != 0) {
    auth = ref->tr();
  } else if ((attrs & TPMA_NV_OWNERREAD) != 0) {
    auth = ESYS_TR_RH_OWNER;
  } else {
    return Error{where + " is readable neither with its own auth nor the owner's", kReasonTpmError};
  }
  auto chunk = nv_buffer_max(ctx);
  if (!chunk) return chunk.take_error();
  Bytes data;
  data.reserve(size);
  while (data.size() < size) {
    const auto offset = static_cast<uint16_t>(data.size());
    const auto n = static_cast<uint16_t>(std::min<size_t>(*chunk, size - data.size()));
    EsysOut<TPM2B_MAX_NV_BUFFER> part;
    rc = Esys_NV_Read(ctx, auth, ref->tr(), ESYS_TR_PASSWORD, ESYS_TR_NONE, ESYS_TR_NONE, n, offset, part.put());
    if (rc != TSS2_RC_SUCCESS) {
      return tss_error("TPM2_NV_Read(" + where + ", " + std::to_string(n) + " bytes at " + std::to_string(offset) + ")", rc);
    }
    if (part->size != n) return Error{"TPM2_NV_Read(" + where + ") returned a short read", kReasonTpmError};
    data.insert(data.end(), part->buffer, part->buffer + part->size);
  }
  return std::optional<Bytes>(std::move(data));
}

Result<std::optional<Bytes>> read_ek_certificate(ESYS_CONTEXT* ctx, uint32_t index) {
  const std::string where = "EK certificate NV index " + handle_hex(index);
  auto data = read_nv_index(ctx, index, kMaxCertificateBytes, where);
  if (!data) return data.take_error();
  if (!*data) return std::optional<Bytes>();
  auto der = ek_certificate_from_nv(**data);
  if (!der) return with_context(where, der.take_error());
  return std::optional<Bytes>(std::move(*der));
}

}  // namespace tl::agent::tpm::detail
