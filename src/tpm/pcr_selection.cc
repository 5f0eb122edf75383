#include "tpm/pcr_selection.h"

#include <algorithm>

#include "tpm/constants.h"
#include "tpm/internal.h"

namespace tl::tpm {

bool PcrBankSelection::contains(uint32_t pcr) const {
  return std::binary_search(pcrs.begin(), pcrs.end(), pcr);
}

const PcrBankSelection* PcrSelection::find(crypto::HashAlg bank) const {
  for (const auto& b : banks) {
    if (b.bank == bank) return &b;
  }
  return nullptr;
}

bool PcrSelection::contains(crypto::HashAlg bank, uint32_t pcr) const {
  const PcrBankSelection* b = find(bank);
  return b != nullptr && b->contains(pcr);
}

size_t PcrSelection::pcr_count() const {
  size_t n = 0;
  for (const auto& b : banks) n += b.pcrs.size();
  return n;
}

std::string PcrSelection::to_string() const {
  std::string out;
  for (const auto& b : banks) {
    if (!out.empty()) out += '+';
    out += crypto::hash_name(b.bank);
    out += ':';
    for (size_t i = 0; i < b.pcrs.size(); ++i) {
      if (i != 0) out += ',';
      out += std::to_string(b.pcrs[i]);
    }
  }
  return out.empty() ? "(none)" : out;
}

Result<PcrSelection> read_pcr_selection(ByteReader& r) {
  const size_t start = r.offset();
  TL_TPM_TRY(count, r.u32_be("TPML_PCR_SELECTION.count"));
  if (count > kHashCount) {
    return r.error_at(start, "TPML_PCR_SELECTION.count",
                      std::to_string(count) + " exceeds " + std::to_string(kHashCount));
  }
  PcrSelection sel;
  for (uint32_t i = 0; i < count; ++i) {
    const std::string field = "TPML_PCR_SELECTION.pcrSelections[" + std::to_string(i) + "]";
    const size_t hash_at = r.offset();
    TL_TPM_TRY(hash_id, r.u16_be(field + ".hash"));
    auto bank = crypto::hash_from_tpm_alg_id(hash_id);
    if (!bank) {
      return r.error_at(hash_at, field + ".hash", "unknown hash algorithm " + alg_name(hash_id));
    }
    if (sel.find(*bank) != nullptr) {
      // Listing a bank twice would make the same PCR count twice in a digest.
      return r.error_at(hash_at, field + ".hash",
                        "bank " + std::string(crypto::hash_name(*bank)) + " listed twice");
    }
    const size_t size_at = r.offset();
    TL_TPM_TRY(size_of_select, r.u8(field + ".sizeofSelect"));
    if (size_of_select > kMaxPcrSelectBytes) {
      return r.error_at(size_at, field + ".sizeofSelect",
                        std::to_string(size_of_select) + " exceeds " +
                            std::to_string(kMaxPcrSelectBytes));
    }
    TL_TPM_TRY(bitmap, r.bytes(size_of_select, field + ".pcrSelect"));
    PcrBankSelection b{*bank, size_of_select, {}};
    for (size_t byte = 0; byte < bitmap.size(); ++byte) {
      for (uint32_t bit = 0; bit < 8; ++bit) {
        if ((bitmap[byte] >> bit) & 1u) b.pcrs.push_back(static_cast<uint32_t>(byte * 8 + bit));
      }
    }
    sel.banks.push_back(std::move(b));
  }
  return sel;
}

Result<PcrSelection> parse_pcr_selection(ByteView data) {
  ByteReader r(data);
  TL_TPM_TRY(sel, read_pcr_selection(r));
  TL_TPM_CHECK(internal::expect_end(r, "TPML_PCR_SELECTION"));
  return sel;
}

}  // namespace tl::tpm
