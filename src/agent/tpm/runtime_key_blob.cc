// The runtime key's stored form: "TLRK", u16 version 1, u8 PCR count, the PCR
// indices (ascending, < 24), TPM2B_PUBLIC, TPM2B_PRIVATE. Big-endian.
#include <algorithm>
#include <string>

#include "agent/tpm/agent_tpm.h"
#include "agent/tpm/esys_util.h"
#include "agent/tpm/marshal.h"
#include "common/byte_reader.h"
#include "tpm/pcr.h"

namespace tl::agent::tpm {

namespace {

constexpr uint8_t kMagic[4] = {'T', 'L', 'R', 'K'};
constexpr uint16_t kVersion = 1;

void put_u16(Bytes& out, uint16_t v) {
  out.push_back(static_cast<uint8_t>(v >> 8));
  out.push_back(static_cast<uint8_t>(v));
}

// A TPM2B: its u16 size and that many bytes, returned with the size prefix.
Result<ByteView> tpm2b(ByteReader& r, ByteView all, const char* field) {
  const size_t start = r.position();
  auto size = r.u16_be(field);
  if (!size) return size.take_error();
  if (*size == 0) return r.error(field, "empty");
  auto body = r.bytes(*size, field);
  if (!body) return body.take_error();
  return all.subspan(start, 2 + *size);
}

}  // namespace

Bytes encode_runtime_key_blob(const RuntimeKeyBlob& blob) {
  Bytes out(kMagic, kMagic + 4);
  put_u16(out, kVersion);
  out.push_back(static_cast<uint8_t>(blob.policy_pcrs.size()));
  for (uint32_t pcr : blob.policy_pcrs) out.push_back(static_cast<uint8_t>(pcr));
  out.insert(out.end(), blob.public_blob.begin(), blob.public_blob.end());
  out.insert(out.end(), blob.private_blob.begin(), blob.private_blob.end());
  return out;
}

Result<RuntimeKeyBlob> decode_runtime_key_blob(ByteView data) {
  auto fail = [](Error e) { return with_reason(detail::kReasonInvalid, with_context("runtime key blob", std::move(e))); };
  ByteReader r(data);
  auto magic = r.bytes(4, "magic");
  if (!magic) return fail(magic.take_error());
  if (!std::equal(magic->begin(), magic->end(), kMagic)) return fail(r.error_at(0, "magic", "not \"TLRK\""));
  auto version = r.u16_be("version");
  if (!version) return fail(version.take_error());
  if (*version != kVersion) {
    return fail(r.error_at(4, "version", "unsupported version " + std::to_string(*version)));
  }
  auto count = r.u8("pcr count");
  if (!count) return fail(count.take_error());
  if (*count == 0 || *count > tl::tpm::kNumPcrs) {
    return fail(r.error_at(6, "pcr count", std::to_string(*count) + " is not in 1..24"));
  }
  RuntimeKeyBlob blob;
  for (unsigned i = 0; i < *count; ++i) {
    const size_t at = r.offset();
    auto pcr = r.u8("pcr");
    if (!pcr) return fail(pcr.take_error());
    if (*pcr >= tl::tpm::kNumPcrs) return fail(r.error_at(at, "pcr", std::to_string(*pcr) + " is not < 24"));
    if (!blob.policy_pcrs.empty() && *pcr <= blob.policy_pcrs.back()) {
      return fail(r.error_at(at, "pcr", "indices must be ascending without repeats"));
    }
    blob.policy_pcrs.push_back(*pcr);
  }
  const size_t pub_at = r.offset();
  auto pub = tpm2b(r, data, "public");
  if (!pub) return fail(pub.take_error());
  if (auto p = detail::unmarshal_public(*pub, "public"); !p) {
    return fail(with_context("at offset " + hex_offset(pub_at), p.take_error()));
  }
  const size_t priv_at = r.offset();
  auto priv = tpm2b(r, data, "private");
  if (!priv) return fail(priv.take_error());
  if (auto p = detail::unmarshal_private(*priv, "private"); !p) {
    return fail(with_context("at offset " + hex_offset(priv_at), p.take_error()));
  }
  if (!r.empty()) return fail(r.error("end", std::to_string(r.remaining()) + " trailing bytes"));
  blob.public_blob.assign(pub->begin(), pub->end());
  blob.private_blob.assign(priv->begin(), priv->end());
  return blob;
}

}  // namespace tl::agent::tpm
