// Private to tl_agent_tpm: the TPM commands the Tpm methods are built from,
// each on a bare ESYS_CONTEXT and each cleaning up after itself.
#pragma once

#include <tss2/tss2_esys.h>

#include <cstdint>
#include <optional>
#include <string>
#include <span>
#include <vector>

#include "agent/tpm/agent_tpm.h"
#include "agent/tpm/esys_util.h"
#include "common/hex.h"
#include "common/result.h"
#include "crypto/digest.h"
#include "tpm/pcr.h"

namespace tl::agent::tpm::detail {

// handles.cc
Result<bool> handle_present(ESYS_CONTEXT* ctx, uint32_t tpm_handle);
Result<std::vector<uint32_t>> loaded_handles(ESYS_CONTEXT* ctx);
// An ESYS_TR for an existing persistent object or NV index (closed, not flushed).
Result<Handle> reference(ESYS_CONTEXT* ctx, uint32_t tpm_handle);
Result<TPM2B_PUBLIC> read_public(ESYS_CONTEXT* ctx, ESYS_TR object, const std::string& what);
// TPM2_CreatePrimary with an empty authValue; *out receives the public area.
Result<Handle> create_primary(ESYS_CONTEXT* ctx, ESYS_TR hierarchy, const TPM2B_PUBLIC& tmpl,
                              const std::string& what, TPM2B_PUBLIC* out);

// sessions.cc
// A policy session satisfying PolicySecret(TPM_RH_ENDORSEMENT) (empty endorsement auth).
Result<Handle> endorsement_policy_session(ESYS_CONTEXT* ctx);
// A policy session satisfying PolicyPCR over SHA-256 `pcrs` at their current values.
Result<Handle> pcr_policy_session(ESYS_CONTEXT* ctx, std::span<const uint32_t> pcrs);
// The policy digest of PolicyPCR(SHA-256 `pcrs` = `values`), computed by the TPM
// in a trial session.
Result<Bytes> pcr_policy_digest(ESYS_CONTEXT* ctx, std::span<const uint32_t> pcrs,
                                const tl::tpm::PcrMap& values);

// pcrs.cc
// Arguments: 1..16 distinct banks; 1..24 ascending distinct PCR indices < 24.
Status check_banks(std::span<const crypto::HashAlg> banks);
Status check_pcr_list(std::span<const uint32_t> pcrs);
TPML_PCR_SELECTION make_selection(std::span<const crypto::HashAlg> banks, std::span<const uint32_t> pcrs);
struct PcrRead {
  tl::tpm::PcrValues values;
  uint32_t update_counter = 0;
};
// Reads every PCR of `sel` (several TPM2_PCR_Read when needed, since one returns
// at most 8 digests), retrying while the update counter changes between reads.
Result<PcrRead> read_pcrs(ESYS_CONTEXT* ctx, const TPML_PCR_SELECTION& sel);

// ek.cc
struct LoadedEk {
  Handle handle;
  EkSource source = EkSource::template_primary;
  uint32_t persistent_handle = 0;
  TPM2B_PUBLIC pub{};
};
Result<LoadedEk> load_ek(ESYS_CONTEXT* ctx, const Options& options);

// nv.cc
// The EK certificate at NV `index` (ek_certificate_from_nv of its contents), or
// nullopt when the index is not defined or not written.
Result<std::optional<Bytes>> read_ek_certificate(ESYS_CONTEXT* ctx, uint32_t index);
// The whole contents of NV `index` (TPM2_NV_ReadPublic, then TPM2_NV_Read in
// chunks of TPM2_PT_NV_BUFFER_MAX), or nullopt when it is not defined or not
// written; more than max_bytes is an error naming `where`.
Result<std::optional<Bytes>> read_nv_index(ESYS_CONTEXT* ctx, uint32_t index, size_t max_bytes,
                                           const std::string& where);

// ak.cc
struct LoadedAk {
  Handle handle;  // a reference to the persistent AK
  TPM2B_PUBLIC pub{};
  bool created = false;
};
Result<LoadedAk> load_ak(ESYS_CONTEXT* ctx, const Options& options, bool create_if_absent);

}  // namespace tl::agent::tpm::detail
