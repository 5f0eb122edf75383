#include <cstring>

#include "agent/tpm/ops.h"

namespace tl::agent::tpm::detail {

namespace {

// An unsalted, unbound policy session over SHA-256 (or a trial session, which
// only computes a digest). continueSession stays set so the guard can flush it.
Result<Handle> start_session(ESYS_CONTEXT* ctx, TPM2_SE type) {
  const TPMT_SYM_DEF symmetric{.algorithm = TPM2_ALG_NULL, .keyBits = {}, .mode = {}};
  ESYS_TR tr = ESYS_TR_NONE;
  TSS2_RC rc = Esys_StartAuthSession(ctx, ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE,
                                     ESYS_TR_NONE, nullptr, type, &symmetric, TPM2_ALG_SHA256, &tr);
  if (rc != TSS2_RC_SUCCESS) return tss_error("TPM2_StartAuthSession", rc);
  Handle h(ctx, tr, Handle::Kind::transient);
  rc = Esys_TRSess_SetAttributes(ctx, tr, TPMA_SESSION_CONTINUESESSION, 0xff);
  if (rc != TSS2_RC_SUCCESS) return tss_error("setting the session attributes", rc);
  return h;
}

Result<TPML_PCR_SELECTION> sha256_selection(std::span<const uint32_t> pcrs) {
  if (auto st = check_pcr_list(pcrs); !st) return st.take_error();
  const crypto::HashAlg bank[] = {crypto::HashAlg::sha256};
  return make_selection(bank, pcrs);
}

}  // namespace

Result<Handle> endorsement_policy_session(ESYS_CONTEXT* ctx) {
  auto s = start_session(ctx, TPM2_SE_POLICY);
  if (!s) return s.take_error();
  const TPM2B_NONCE nonce_tpm{};
  const TPM2B_DIGEST cp_hash{};
  const TPM2B_NONCE policy_ref{};
  const TSS2_RC rc = Esys_PolicySecret(ctx, ESYS_TR_RH_ENDORSEMENT, s->tr(), ESYS_TR_PASSWORD, ESYS_TR_NONE,
                                       ESYS_TR_NONE, &nonce_tpm, &cp_hash, &policy_ref, 0, nullptr, nullptr);
  if (rc != TSS2_RC_SUCCESS) return tss_error("TPM2_PolicySecret(TPM_RH_ENDORSEMENT) for the EK", rc);
  return s;
}

Result<Handle> pcr_policy_session(ESYS_CONTEXT* ctx, std::span<const uint32_t> pcrs) {
  auto sel = sha256_selection(pcrs);
  if (!sel) return sel.take_error();
  auto s = start_session(ctx, TPM2_SE_POLICY);
  if (!s) return s.take_error();
  const TPM2B_DIGEST current{};  // empty: the TPM uses the PCRs' current values
  const TSS2_RC rc = Esys_PolicyPCR(ctx, s->tr(), ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE, &current, &*sel);
  if (rc != TSS2_RC_SUCCESS) return tss_error("TPM2_PolicyPCR", rc);
  return s;
}

Result<Bytes> pcr_policy_digest(ESYS_CONTEXT* ctx, std::span<const uint32_t> pcrs,
                                const tl::tpm::PcrMap& values) {
  auto sel = sha256_selection(pcrs);
  if (!sel) return sel.take_error();
  // pcrDigest = SHA-256 of the values in selection order (ascending).
  auto hasher = crypto::Hasher::create(crypto::HashAlg::sha256);
  if (!hasher) return hasher.take_error();
  for (uint32_t pcr : pcrs) {
    auto it = values.find(pcr);
    if (it == values.end()) return Error{"no value for PCR " + std::to_string(pcr), kReasonInvalid};
    hasher->update(it->second);
  }
  const Bytes d = hasher->finish();
  TPM2B_DIGEST pcr_digest{};
  pcr_digest.size = static_cast<uint16_t>(d.size());
  std::memcpy(pcr_digest.buffer, d.data(), d.size());
  // A trial session takes pcrDigest as given instead of reading the PCRs, so the
  // policy binds exactly the values the caller read and reports.
  auto s = start_session(ctx, TPM2_SE_TRIAL);
  if (!s) return s.take_error();
  TSS2_RC rc = Esys_PolicyPCR(ctx, s->tr(), ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE, &pcr_digest, &*sel);
  if (rc != TSS2_RC_SUCCESS) return tss_error("TPM2_PolicyPCR (trial)", rc);
  EsysOut<TPM2B_DIGEST> policy;
  rc = Esys_PolicyGetDigest(ctx, s->tr(), ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE, policy.put());
  if (rc != TSS2_RC_SUCCESS) return tss_error("TPM2_PolicyGetDigest", rc);
  return Bytes(policy->buffer, policy->buffer + policy->size);
}

}  // namespace tl::agent::tpm::detail
