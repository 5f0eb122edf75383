#include <cstddef>
#include <string>

#include "agent/tpm/agent_tpm.h"
#include "agent/tpm/esys_util.h"
#include "common/byte_reader.h"

namespace tl::agent::tpm {

Result<Bytes> ek_certificate_from_nv(ByteView nv) {
  auto fail = [](Error e) {
    return with_reason(detail::kReasonInvalid, with_context("EK certificate in NV", std::move(e)));
  };
  ByteReader r(nv);
  auto tag = r.u8("tag");
  if (!tag) return fail(tag.take_error());
  if (*tag != 0x30) return fail(r.error_at(0, "tag", "not a DER SEQUENCE (0x30)"));
  auto first = r.u8("length");
  if (!first) return fail(first.take_error());
  size_t length = 0;
  if (*first < 0x80) {
    length = *first;
  } else {
    // Long form with 1..3 length octets (an NV index holds far less than 16 MiB);
    // 0x80 is BER's indefinite length, not DER.
    const unsigned octets = *first & 0x7fu;
    if (octets == 0 || octets > 3) {
      return fail(r.error_at(1, "length", "unsupported length form 0x" + to_hex(ByteView(&*first, 1))));
    }
    for (unsigned i = 0; i < octets; ++i) {
      auto b = r.u8("length");
      if (!b) return fail(b.take_error());
      if (i == 0 && *b == 0) return fail(r.error_at(2, "length", "not minimally encoded"));
      length = (length << 8) | *b;
    }
    if (length < 0x80) return fail(r.error_at(1, "length", "not minimally encoded"));
  }
  if (length > r.remaining()) {
    return fail(r.error("content", "SEQUENCE of " + std::to_string(length) + " bytes but only " +
                                       std::to_string(r.remaining()) + " follow"));
  }
  (void)r.skip(length, "content");
  const size_t end = r.position();
  while (!r.empty()) {
    const size_t at = r.offset();
    auto pad = r.u8("padding");
    if (!pad) return fail(pad.take_error());
    if (*pad != 0x00 && *pad != 0xff) return fail(r.error_at(at, "padding", "trailing data after the certificate"));
  }
  return Bytes(nv.begin(), nv.begin() + static_cast<std::ptrdiff_t>(end));
}

}  // namespace tl::agent::tpm
