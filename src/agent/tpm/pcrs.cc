#include <algorithm>
#include <optional>
#include <string>

#include "agent/tpm/ops.h"

namespace tl::agent::tpm::detail {

namespace {

constexpr int kMaxReadRounds = 5;  // PCRs changing under us this often is an error, not a loop

bool any_selected(const TPML_PCR_SELECTION& sel) {
  for (uint32_t b = 0; b < sel.count; ++b) {
    for (uint8_t byte : sel.pcrSelections[b].pcrSelect) {
      if (byte != 0) return true;
    }
  }
  return false;
}

std::string remaining_text(const TPML_PCR_SELECTION& sel) {
  std::string out;
  for (uint32_t b = 0; b < sel.count; ++b) {
    const TPMS_PCR_SELECTION& s = sel.pcrSelections[b];
    auto alg = crypto::hash_from_tpm_alg_id(s.hash);
    std::string pcrs;
    for (uint32_t pcr = 0; pcr < 8u * s.sizeofSelect; ++pcr) {
      if ((s.pcrSelect[pcr / 8] & (1u << (pcr % 8))) != 0) pcrs += (pcrs.empty() ? "" : ",") + std::to_string(pcr);
    }
    if (pcrs.empty()) continue;
    out += (out.empty() ? "" : "+") + std::string(alg ? crypto::hash_name(*alg) : "?") + ":" + pcrs;
  }
  return out;
}

// One pass over the whole selection; nullopt in `counter_changed` terms when the
// update counter moved between two TPM2_PCR_Read calls.
Result<std::optional<PcrRead>> read_once(ESYS_CONTEXT* ctx, const TPML_PCR_SELECTION& sel) {
  TPML_PCR_SELECTION remaining = sel;
  PcrRead out;
  std::optional<uint32_t> counter;
  while (any_selected(remaining)) {
    uint32_t update_counter = 0;
    EsysOut<TPML_PCR_SELECTION> got;
    EsysOut<TPML_DIGEST> digests;
    const TSS2_RC rc = Esys_PCR_Read(ctx, ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE, &remaining,
                                     &update_counter, got.put(), digests.put());
    if (rc != TSS2_RC_SUCCESS) return tss_error("TPM2_PCR_Read(" + remaining_text(remaining) + ")", rc);
    if (counter && *counter != update_counter) return std::optional<PcrRead>();
    counter = update_counter;
    if (!any_selected(*got.get())) {
      return Error{"the TPM returned no value for PCRs " + remaining_text(remaining) +
                       " (bank not allocated, or PCR index beyond the TPM's)",
                   kReasonTpmError};
    }
    uint32_t next = 0;  // index into digests, in the returned selection's order
    for (uint32_t b = 0; b < got->count && b < TPM2_NUM_PCR_BANKS; ++b) {
      const TPMS_PCR_SELECTION& s = got->pcrSelections[b];
      auto alg = crypto::hash_from_tpm_alg_id(s.hash);
      TPMS_PCR_SELECTION* want = nullptr;
      for (uint32_t w = 0; w < remaining.count; ++w) {
        if (remaining.pcrSelections[w].hash == s.hash) want = &remaining.pcrSelections[w];
      }
      for (uint32_t pcr = 0; pcr < 8u * std::min<uint32_t>(s.sizeofSelect, TPM2_PCR_SELECT_MAX); ++pcr) {
        const uint8_t bit = static_cast<uint8_t>(1u << (pcr % 8));
        if ((s.pcrSelect[pcr / 8] & bit) == 0) continue;
        if (!alg || want == nullptr || (want->pcrSelect[pcr / 8] & bit) == 0) {
          return Error{"TPM2_PCR_Read returned PCR " + std::to_string(pcr) + " of bank " +
                           handle_hex(s.hash) + ", which was not asked for",
                       kReasonTpmError};
        }
        if (next >= digests->count) return Error{"TPM2_PCR_Read returned fewer digests than PCRs", kReasonTpmError};
        const TPM2B_DIGEST& d = digests->digests[next++];
        if (d.size != crypto::digest_size(*alg)) {
          return Error{"TPM2_PCR_Read: " + std::string(crypto::hash_name(*alg)) + " PCR " + std::to_string(pcr) +
                           " has " + std::to_string(d.size) + " bytes",
                       kReasonTpmError};
        }
        out.values[*alg][pcr] = Bytes(d.buffer, d.buffer + d.size);
        want->pcrSelect[pcr / 8] = static_cast<uint8_t>(want->pcrSelect[pcr / 8] & ~bit);
      }
    }
    if (next != digests->count) return Error{"TPM2_PCR_Read returned more digests than PCRs", kReasonTpmError};
  }
  out.update_counter = counter.value_or(0);
  return std::optional<PcrRead>(std::move(out));
}

}  // namespace

Status check_banks(std::span<const crypto::HashAlg> banks) {
  if (banks.empty() || banks.size() > TPM2_NUM_PCR_BANKS) return Error{"1 to 16 PCR banks must be given", kReasonInvalid};
  for (crypto::HashAlg bank : banks) {
    if (std::count(banks.begin(), banks.end(), bank) > 1) {
      return Error{"PCR bank " + std::string(crypto::hash_name(bank)) + " given twice", kReasonInvalid};
    }
  }
  return {};
}

Status check_pcr_list(std::span<const uint32_t> pcrs) {
  if (pcrs.empty()) return Error{"no PCRs given", kReasonInvalid};
  for (size_t i = 0; i < pcrs.size(); ++i) {
    if (pcrs[i] >= tl::tpm::kNumPcrs) {
      return Error{"PCR index " + std::to_string(pcrs[i]) + " (item " + std::to_string(i) + ") is not < 24",
                   kReasonInvalid};
    }
    if (i > 0 && pcrs[i] <= pcrs[i - 1]) {
      return Error{"PCR indices must be ascending without repeats (item " + std::to_string(i) + ")", kReasonInvalid};
    }
  }
  return {};
}

TPML_PCR_SELECTION make_selection(std::span<const crypto::HashAlg> banks, std::span<const uint32_t> pcrs) {
  TPML_PCR_SELECTION sel{};
  for (crypto::HashAlg bank : banks) {
    if (sel.count >= TPM2_NUM_PCR_BANKS) break;
    TPMS_PCR_SELECTION& s = sel.pcrSelections[sel.count++];
    s.hash = crypto::tpm_alg_id(bank);
    s.sizeofSelect = 3;  // 24 PCRs, what PC Client TPMs implement
    for (uint32_t pcr : pcrs) s.pcrSelect[pcr / 8] = static_cast<uint8_t>(s.pcrSelect[pcr / 8] | (1u << (pcr % 8)));
  }
  return sel;
}

Result<PcrRead> read_pcrs(ESYS_CONTEXT* ctx, const TPML_PCR_SELECTION& sel) {
  for (int round = 0; round < kMaxReadRounds; ++round) {
    auto r = read_once(ctx, sel);
    if (!r) return r.take_error();
    if (*r) return std::move(**r);
  }
  return Error{"PCRs kept changing while being read (" + std::to_string(kMaxReadRounds) + " attempts)",
               kReasonTpmError};
}

}  // namespace tl::agent::tpm::detail
