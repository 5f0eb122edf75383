// Fuzzes the TPM 2.0 structure readers and the PCR file parser. The first byte
// selects the parser; the rest is its input. Selector 5 runs the whole quote
// check (public area + TPMS_ATTEST + TPMT_SIGNATURE) to reach the verifier logic.
#include <cstddef>
#include <cstdint>
#include <cstdlib>

#include "common/hex.h"
#include "tpm/attest.h"
#include "tpm/pcr_file.h"
#include "tpm/pcr_selection.h"
#include "tpm/public_area.h"
#include "tpm/quote.h"
#include "tpm/signature.h"

namespace {

using tl::ByteView;

// Splits off a u16-length-prefixed chunk.
ByteView take(ByteView& in) {
  if (in.size() < 2) {
    ByteView all = in;
    in = {};
    return all;
  }
  size_t n = (size_t{in[0]} << 8) | in[1];
  in = in.subspan(2);
  n = n < in.size() ? n : in.size();
  ByteView out = in.first(n);
  in = in.subspan(n);
  return out;
}

void check_public_area(ByteView data) {
  auto p = tl::tpm::parse_public_area(data);
  if (!p) return;
  // Invariants: the Name is nameAlg || digest; the kept bytes re-parse identically.
  auto name = p->name();
  if (name && name->size() != 2 + tl::crypto::digest_size(p->name_alg)) std::abort();
  auto again = tl::tpm::parse_tpmt_public(p->marshaled);
  if (!again || again->marshaled != p->marshaled) std::abort();
  (void)p->public_key();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const uint8_t selector = data[0] % 6;
  ByteView in(data + 1, size - 1);
  switch (selector) {
    case 0:
      check_public_area(in);
      break;
    case 1:
      (void)tl::tpm::parse_attest(in);
      break;
    case 2:
      (void)tl::tpm::parse_signature(in);
      break;
    case 3: {
      auto s = tl::tpm::parse_pcr_selection(in);
      if (s) (void)s->to_string();
      break;
    }
    case 4:
      (void)tl::tpm::parse_pcr_file(in);
      break;
    case 5: {
      ByteView area_bytes = take(in);
      ByteView attest = take(in);
      ByteView sig = in;
      auto area = tl::tpm::parse_public_area(area_bytes);
      if (!area) break;
      auto a = tl::tpm::parse_attest(attest);
      tl::Bytes nonce = a ? a->extra_data : tl::Bytes{1};
      tl::tpm::PcrValues none;
      auto rep = tl::tpm::check_quote(*area, attest, sig, none, nonce, {});
      // The verdict and the report must agree.
      if (rep.ok() != (rep.first_failure() == nullptr && !rep.checks.empty())) std::abort();
      break;
    }
    default:
      break;
  }
  return 0;
}
