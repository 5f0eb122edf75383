#include "agent/tpm/context.h"

#include "agent/tpm/esys_util.h"

namespace tl::agent::tpm::detail {

namespace {
Error unavailable(Error e) {
  e.reason = kReasonUnavailable;
  return e;
}
}  // namespace

Result<std::shared_ptr<Context>> Context::open(std::string_view tcti) {
  std::shared_ptr<Context> c(new Context());  // private constructor: no make_shared
  c->tcti_ = std::string(tcti);
  const std::string where = "TPM via TCTI '" + c->tcti_ + "'";
  if (tcti.empty()) return Error{"empty TCTI configuration string", kReasonInvalid};
  TSS2_RC rc = Tss2_TctiLdr_Initialize(c->tcti_.c_str(), &c->tcti_ctx_);
  if (rc != TSS2_RC_SUCCESS) {
    c->tcti_ctx_ = nullptr;
    return unavailable(tss_error("cannot connect to " + where, rc));
  }
  rc = Esys_Initialize(&c->esys_, c->tcti_ctx_, nullptr);
  if (rc != TSS2_RC_SUCCESS) {
    c->esys_ = nullptr;
    return unavailable(tss_error("cannot initialise ESAPI for " + where, rc));
  }
  // A probe: a TPM that was never started answers TPM2_RC_INITIALIZE (a bare
  // swtpm or simulator; firmware starts real TPMs, and a resource manager
  // refuses TPM2_Startup, so it is only sent when needed).
  TPMI_YES_NO more = TPM2_NO;
  EsysOut<TPMS_CAPABILITY_DATA> caps;
  rc = Esys_GetCapability(c->esys_, ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE, TPM2_CAP_TPM_PROPERTIES,
                          TPM2_PT_MANUFACTURER, 1, &more, caps.put());
  if (rc != TSS2_RC_SUCCESS && tpm_rc_base(rc) == TPM2_RC_INITIALIZE) {
    rc = Esys_Startup(c->esys_, TPM2_SU_CLEAR);
    if (rc != TSS2_RC_SUCCESS) return unavailable(tss_error("TPM2_Startup(CLEAR) on " + where, rc));
    rc = Esys_GetCapability(c->esys_, ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE, TPM2_CAP_TPM_PROPERTIES,
                            TPM2_PT_MANUFACTURER, 1, &more, caps.put());
  }
  if (rc != TSS2_RC_SUCCESS) return unavailable(tss_error("no answer from " + where, rc));
  return c;
}

Context::~Context() {
  if (esys_ != nullptr) Esys_Finalize(&esys_);
  if (tcti_ctx_ != nullptr) Tss2_TctiLdr_Finalize(&tcti_ctx_);
}

}  // namespace tl::agent::tpm::detail
