#include "tpm/policy.h"

#include <string>

namespace tl::tpm {
namespace {

void put_u32_be(Bytes& out, uint32_t v) {
  for (int shift = 24; shift >= 0; shift -= 8) out.push_back(static_cast<uint8_t>(v >> shift));
}

}  // namespace

Result<Bytes> marshal_pcr_selection(crypto::HashAlg bank, const std::vector<uint32_t>& pcrs) {
  if (pcrs.empty()) return Error{"PCR selection is empty"};
  uint8_t bitmap[3] = {0, 0, 0};
  for (size_t i = 0; i < pcrs.size(); ++i) {
    if (pcrs[i] >= kNumPcrs) {
      return Error{"PCR " + std::to_string(pcrs[i]) + " is out of range (0-23)"};
    }
    if (i > 0 && pcrs[i] <= pcrs[i - 1]) {
      return Error{"PCR list must be ascending without repeats (PCR " + std::to_string(pcrs[i]) +
                   " after " + std::to_string(pcrs[i - 1]) + ")"};
    }
    bitmap[pcrs[i] / 8] |= static_cast<uint8_t>(1u << (pcrs[i] % 8));
  }
  Bytes out;
  put_u32_be(out, 1);  // count
  const uint16_t alg = crypto::tpm_alg_id(bank);
  out.push_back(static_cast<uint8_t>(alg >> 8));
  out.push_back(static_cast<uint8_t>(alg));
  out.push_back(3);  // sizeofSelect: PCR_SELECT_MIN for 24 PCRs
  out.insert(out.end(), bitmap, bitmap + 3);
  return out;
}

Result<Bytes> policy_pcr_digest(crypto::HashAlg policy_hash, crypto::HashAlg bank,
                                const std::vector<uint32_t>& pcrs, const PcrMap& values,
                                ByteView previous) {
  auto selection = marshal_pcr_selection(bank, pcrs);
  if (!selection) return selection.take_error();
  const size_t hsize = crypto::digest_size(policy_hash);
  if (!previous.empty() && previous.size() != hsize) {
    return Error{"previous policy digest is " + std::to_string(previous.size()) + " bytes, expected " +
                 std::to_string(hsize)};
  }
  auto pcr_hasher = crypto::Hasher::create(policy_hash);
  if (!pcr_hasher) return pcr_hasher.take_error();
  const size_t vsize = crypto::digest_size(bank);
  for (uint32_t pcr : pcrs) {
    const auto it = values.find(pcr);
    const std::string label = std::string(crypto::hash_name(bank)) + " PCR " + std::to_string(pcr);
    if (it == values.end()) return Error{label + ": no value"};
    if (it->second.size() != vsize) {
      return Error{label + ": value is " + std::to_string(it->second.size()) + " bytes, expected " +
                   std::to_string(vsize)};
    }
    pcr_hasher->update(it->second);
  }
  const Bytes pcr_digest = pcr_hasher->finish();

  auto h = crypto::Hasher::create(policy_hash);
  if (!h) return h.take_error();
  const Bytes zeros(hsize, 0);
  h->update(previous.empty() ? ByteView(zeros) : previous);
  Bytes cc;
  put_u32_be(cc, kCcPolicyPcr);
  h->update(cc);
  h->update(*selection);
  h->update(pcr_digest);
  return h->finish();
}

}  // namespace tl::tpm
