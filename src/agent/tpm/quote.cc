// TPM2_Quote with the PCR values it covers, read consistently: PCRs are read,
// quoted, and the round is repeated when the PCR update counter moved or the
// values read do not hash to the signed pcrDigest (PCRs marked no-increment,
// e.g. 16 and 23, change without moving the counter).
#include <cstring>
#include <string>

#include "agent/tpm/agent_tpm.h"
#include "agent/tpm/context.h"
#include "agent/tpm/marshal.h"
#include "agent/tpm/ops.h"
#include "tpm/attest.h"
#include "tpm/signature.h"

namespace tl::agent::tpm {

namespace {

constexpr unsigned kMaxQuoteAttempts = 5;

// H(values in the quote's selection order) == pcrDigest, H = the signature's hash.
Result<bool> values_match(const tl::tpm::Attest& attest, const tl::tpm::Signature& sig,
                          const tl::tpm::PcrValues& values) {
  auto h = crypto::Hasher::create(sig.hash);
  if (!h) return h.take_error();
  for (const auto& bank : attest.quote->pcr_select.banks) {
    auto b = values.find(bank.bank);
    if (b == values.end()) return false;
    for (uint32_t pcr : bank.pcrs) {
      auto v = b->second.find(pcr);
      if (v == b->second.end()) return false;
      h->update(v->second);
    }
  }
  return h->finish() == attest.quote->pcr_digest;
}

}  // namespace

Result<Quote> Tpm::quote(ByteView nonce, std::span<const crypto::HashAlg> banks, std::span<const uint32_t> pcrs) {
  if (nonce.empty() || nonce.size() > sizeof(TPM2B_DATA::buffer)) {
    return Error{"the nonce must have 1 to " + std::to_string(sizeof(TPM2B_DATA::buffer)) + " bytes, not " +
                     std::to_string(nonce.size()),
                 detail::kReasonInvalid};
  }
  if (auto st = detail::check_banks(banks); !st) return st.take_error();
  if (auto st = detail::check_pcr_list(pcrs); !st) return st.take_error();
  ESYS_CONTEXT* ctx = ctx_->esys();
  auto ak = detail::load_ak(ctx, options_, /*create_if_absent=*/true);
  if (!ak) return ak.take_error();
  const TPML_PCR_SELECTION sel = detail::make_selection(banks, pcrs);
  TPM2B_DATA qualifying{};
  qualifying.size = static_cast<uint16_t>(nonce.size());
  std::memcpy(qualifying.buffer, nonce.data(), nonce.size());
  const TPMT_SIG_SCHEME scheme{.scheme = TPM2_ALG_NULL, .details = {}};  // the AK's own scheme
  // One PCR suffices to learn the update counter after the quote.
  const crypto::HashAlg first_bank[] = {banks.front()};
  const uint32_t first_pcr[] = {pcrs.front()};
  const TPML_PCR_SELECTION probe = detail::make_selection(first_bank, first_pcr);
  for (unsigned attempt = 1; attempt <= kMaxQuoteAttempts; ++attempt) {
    auto before = detail::read_pcrs(ctx, sel);
    if (!before) return before.take_error();
    detail::EsysOut<TPM2B_ATTEST> quoted;
    detail::EsysOut<TPMT_SIGNATURE> signature;
    TSS2_RC rc = Esys_Quote(ctx, ak->handle.tr(), ESYS_TR_PASSWORD, ESYS_TR_NONE, ESYS_TR_NONE, &qualifying, &scheme,
                            &sel, quoted.put(), signature.put());
    if (rc != TSS2_RC_SUCCESS) return detail::tss_error("TPM2_Quote(AK " + detail::handle_hex(options_.ak_handle) + ")", rc);
    auto after = detail::read_pcrs(ctx, probe);
    if (!after) return after.take_error();
    Quote q;
    q.attest.assign(quoted->attestationData, quoted->attestationData + quoted->size);
    auto sig = detail::marshal_signature(*signature.get());
    if (!sig) return sig.take_error();
    q.signature = std::move(*sig);
    auto attest = tl::tpm::parse_attest(q.attest);
    if (!attest) return with_context("the TPM's quote", attest.take_error());
    auto parsed_sig = tl::tpm::parse_signature(q.signature);
    if (!parsed_sig) return with_context("the TPM's quote signature", parsed_sig.take_error());
    if (!attest->quote) return Error{"TPM2_Quote returned a TPMS_ATTEST that is not a quote", detail::kReasonTpmError};
    if (after->update_counter != before->update_counter) continue;
    auto match = values_match(*attest, *parsed_sig, before->values);
    if (!match) return match.take_error();
    if (!*match) continue;
    q.pcrs = std::move(before->values);
    q.attempts = attempt;
    return q;
  }
  return Error{"PCRs kept changing between reading and quoting them (" + std::to_string(kMaxQuoteAttempts) +
                   " attempts)",
               detail::kReasonTpmError};
}

}  // namespace tl::agent::tpm
