#include <string>

#include "agent/tpm/ops.h"
#include "common/hex.h"

namespace tl::agent::tpm::detail {

namespace {

// Every handle of the range `first` belongs to, from `first` on.
Status list_handles(ESYS_CONTEXT* ctx, uint32_t first, std::vector<uint32_t>& out) {
  const uint32_t range = first & 0xff000000u;
  uint32_t next = first;
  for (int round = 0; round < 64; ++round) {
    TPMI_YES_NO more = TPM2_NO;
    EsysOut<TPMS_CAPABILITY_DATA> caps;
    const TSS2_RC rc = Esys_GetCapability(ctx, ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE, TPM2_CAP_HANDLES,
                                          next, TPM2_MAX_CAP_HANDLES, &more, caps.put());
    if (rc != TSS2_RC_SUCCESS) return tss_error("TPM2_GetCapability(handles from " + handle_hex(next) + ")", rc);
    const TPML_HANDLE& h = caps->data.handles;
    for (uint32_t i = 0; i < h.count && i < TPM2_MAX_CAP_HANDLES; ++i) {
      if ((h.handle[i] & 0xff000000u) == range) out.push_back(h.handle[i]);
    }
    if (more != TPM2_YES || h.count == 0) return {};
    next = h.handle[h.count - 1] + 1;
  }
  return Error{"TPM2_GetCapability(handles): too many rounds", kReasonTpmError};
}

}  // namespace

Result<bool> handle_present(ESYS_CONTEXT* ctx, uint32_t tpm_handle) {
  TPMI_YES_NO more = TPM2_NO;
  EsysOut<TPMS_CAPABILITY_DATA> caps;
  const TSS2_RC rc = Esys_GetCapability(ctx, ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE, TPM2_CAP_HANDLES,
                                        tpm_handle, 1, &more, caps.put());
  if (rc != TSS2_RC_SUCCESS) return tss_error("TPM2_GetCapability(handle " + handle_hex(tpm_handle) + ")", rc);
  return caps->data.handles.count >= 1 && caps->data.handles.handle[0] == tpm_handle;
}

Result<std::vector<uint32_t>> loaded_handles(ESYS_CONTEXT* ctx) {
  std::vector<uint32_t> out;
  // Transient objects, loaded sessions, and saved (context-swapped) sessions.
  for (uint32_t first : {TPM2_TRANSIENT_FIRST, TPM2_LOADED_SESSION_FIRST, TPM2_ACTIVE_SESSION_FIRST}) {
    if (auto st = list_handles(ctx, first, out); !st) return st.take_error();
  }
  return out;
}

Result<Handle> reference(ESYS_CONTEXT* ctx, uint32_t tpm_handle) {
  ESYS_TR tr = ESYS_TR_NONE;
  const TSS2_RC rc = Esys_TR_FromTPMPublic(ctx, tpm_handle, ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE, &tr);
  if (rc != TSS2_RC_SUCCESS) return tss_error("reading the public area at handle " + handle_hex(tpm_handle), rc);
  return Handle(ctx, tr, Handle::Kind::reference);
}

Result<TPM2B_PUBLIC> read_public(ESYS_CONTEXT* ctx, ESYS_TR object, const std::string& what) {
  EsysOut<TPM2B_PUBLIC> pub;
  const TSS2_RC rc = Esys_ReadPublic(ctx, object, ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE, pub.put(),
                                     nullptr, nullptr);
  if (rc != TSS2_RC_SUCCESS) return tss_error("TPM2_ReadPublic(" + what + ")", rc);
  return *pub.get();
}

Result<Handle> create_primary(ESYS_CONTEXT* ctx, ESYS_TR hierarchy, const TPM2B_PUBLIC& tmpl,
                              const std::string& what, TPM2B_PUBLIC* out) {
  const TPM2B_SENSITIVE_CREATE sensitive{};
  const TPM2B_DATA outside{};
  const TPML_PCR_SELECTION creation_pcrs{};
  ESYS_TR tr = ESYS_TR_NONE;
  EsysOut<TPM2B_PUBLIC> pub;
  const TSS2_RC rc = Esys_CreatePrimary(ctx, hierarchy, ESYS_TR_PASSWORD, ESYS_TR_NONE, ESYS_TR_NONE,
                                        &sensitive, &tmpl, &outside, &creation_pcrs, &tr, pub.put(),
                                        nullptr, nullptr, nullptr);
  if (rc != TSS2_RC_SUCCESS) return tss_error("TPM2_CreatePrimary(" + what + ")", rc);
  Handle h(ctx, tr, Handle::Kind::transient);
  if (out != nullptr) *out = *pub.get();
  return h;
}

}  // namespace tl::agent::tpm::detail
