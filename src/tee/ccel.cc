// CCEL: a TCG PC Client crypto-agile event log (TCG PC Client Platform
// Firmware Profile, "Crypto Agile Log Entry Format") whose index field is the
// CC measurement register (UEFI EFI_CC_MEASUREMENT_PROTOCOL: 0 = MRTD,
// 1..4 = RTMR0..3). Written here rather than reusing src/eventlog, which reads
// PCR logs (TPM PCR ranges, zero-only padding) and not the ACPI CCEL area's 0xFF fill.
#include "tee/ccel.h"

#include <algorithm>
#include <cstring>

#include "common/byte_reader.h"
#include "crypto/digest.h"

namespace tl::tee {
namespace {

constexpr const char* kReason = "ccel-malformed";
constexpr uint32_t kEvNoAction = 3;
constexpr uint16_t kAlgSha384 = 0x000C;
constexpr char kSpecId[] = "Spec ID Event03";  // 16 bytes with its NUL

Error malformed(std::string where, Error e) {
  return Error{std::move(where) + ": " + e.message, kReason};
}
Error malformed(std::string message) { return Error{std::move(message), kReason}; }

bool all_equal(ByteView b, uint8_t v) {
  return std::all_of(b.begin(), b.end(), [v](uint8_t x) { return x == v; });
}

struct Alg {
  uint16_t id;
  uint16_t size;
};

#define TL_CCEL_TRY(var, expr, where)                     \
  auto var##_r = (expr);                                  \
  if (!var##_r) return malformed(where, var##_r.take_error()); \
  auto var = var##_r.value()

}  // namespace

Result<CcelLog> parse_ccel(ByteView data) {
  ByteReader r(data);
  const std::string h = "header event 0 at offset 0x0";
  TL_CCEL_TRY(pcr, r.u32_le("index"), h);
  TL_CCEL_TRY(type, r.u32_le("event type"), h);
  if (type != kEvNoAction || pcr != 0)
    return malformed(h + ": not an EV_NO_ACTION Spec ID event (index " + std::to_string(pcr) + ", type " +
                     std::to_string(type) + ")");
  TL_CCEL_TRY(sha1, r.bytes(20, "SHA-1 digest"), h);
  (void)sha1;
  TL_CCEL_TRY(size, r.u32_le("event size"), h);
  TL_CCEL_TRY(spec, r.sub(size, "Spec ID event"), h);
  TL_CCEL_TRY(sig, spec.bytes(16, "signature"), h);
  if (std::memcmp(sig.data(), kSpecId, 16) != 0)
    return malformed(h + ": signature is not \"Spec ID Event03\" (a crypto-agile log is required)");
  if (auto s = spec.skip(8, "platform class, version, uintn size"); !s) return malformed(h, s.take_error());
  TL_CCEL_TRY(nalg, spec.u32_le("number of algorithms"), h);
  if (nalg == 0 || nalg > 16) return malformed(h + ": " + std::to_string(nalg) + " algorithms (1..16 allowed)");
  std::vector<Alg> algs;
  bool has_sha384 = false;
  for (uint32_t i = 0; i < nalg; ++i) {
    TL_CCEL_TRY(id, spec.u16_le("algorithm id"), h);
    TL_CCEL_TRY(sz, spec.u16_le("digest size"), h);
    if (sz == 0 || sz > 64)
      return malformed(h + ": algorithm " + std::to_string(id) + " digest size " + std::to_string(sz));
    for (const auto& a : algs)
      if (a.id == id) return malformed(h + ": algorithm " + std::to_string(id) + " declared twice");
    if (id == kAlgSha384) {
      if (sz != 48) return malformed(h + ": SHA-384 declared with digest size " + std::to_string(sz));
      has_sha384 = true;
    }
    algs.push_back({id, sz});
  }
  if (!has_sha384) return malformed(h + ": the log has no SHA-384 bank");
  TL_CCEL_TRY(vsize, spec.u8("vendor info size"), h);
  if (auto s = spec.skip(vsize, "vendor info"); !s) return malformed(h, s.take_error());
  if (!spec.empty())
    return malformed(h + ": " + std::to_string(spec.remaining()) + " bytes after the vendor info");

  CcelLog log;
  for (size_t index = 1; !r.empty(); ++index) {
    const ByteView rest = data.subspan(r.position());
    // The ACPI CCEL area is larger than the log: the unused tail is filled.
    if (all_equal(rest, 0xFF) || all_equal(rest, 0x00)) break;
    CcelEvent e;
    e.index = index;
    e.offset = r.offset();
    const std::string w = "event " + std::to_string(index) + " at offset " + hex_offset(e.offset);
    TL_CCEL_TRY(mr, r.u32_le("index"), w);
    TL_CCEL_TRY(et, r.u32_le("event type"), w);
    if (mr > 4) return malformed(w + ": index " + std::to_string(mr) + " is not a CC measurement register (0..4)");
    e.mr_index = mr;
    e.event_type = et;
    TL_CCEL_TRY(count, r.u32_le("digest count"), w);
    if (count != algs.size())
      return malformed(w + ": digest count " + std::to_string(count) + " but the header declares " +
                       std::to_string(algs.size()) + " algorithms");
    std::vector<uint16_t> seen;
    bool got_sha384 = false;
    for (uint32_t i = 0; i < count; ++i) {
      TL_CCEL_TRY(id, r.u16_le("digest algorithm"), w);
      auto it = std::find_if(algs.begin(), algs.end(), [id](const Alg& a) { return a.id == id; });
      if (it == algs.end()) return malformed(w + ": digest algorithm " + std::to_string(id) + " not in the header");
      if (std::find(seen.begin(), seen.end(), id) != seen.end())
        return malformed(w + ": digest algorithm " + std::to_string(id) + " twice");
      seen.push_back(id);
      TL_CCEL_TRY(d, r.bytes(it->size, "digest"), w);
      if (id == kAlgSha384) {
        std::copy(d.begin(), d.end(), e.sha384.begin());
        got_sha384 = true;
      }
    }
    if (!got_sha384) return malformed(w + ": no SHA-384 digest");
    TL_CCEL_TRY(esize, r.u32_le("event size"), w);
    TL_CCEL_TRY(edata, r.bytes(esize, "event data"), w);
    e.data.assign(edata.begin(), edata.end());
    log.events.push_back(std::move(e));
  }
  return log;
}

std::array<Mr48, 4> replay_rtmrs(const CcelLog& log) {
  std::array<Mr48, 4> rtmr{};
  for (const auto& e : log.events) {
    if (e.event_type == kEvNoAction || e.mr_index < 1 || e.mr_index > 4) continue;
    Mr48& m = rtmr[e.mr_index - 1];
    // RTMR extend: new = SHA-384(old || digest).
    auto next = crypto::pcr_extend(crypto::HashAlg::sha384, m, e.sha384);
    if (next && next->size() == m.size()) std::copy(next->begin(), next->end(), m.begin());
  }
  return rtmr;
}

Status check_ccel_replay(const CcelLog& log, const TdQuoteBody& body) {
  const auto replayed = replay_rtmrs(log);
  for (size_t i = 0; i < 4; ++i) {
    if (replayed[i] != body.rtmr[i])
      return Error{"RTMR" + std::to_string(i) + ": the CCEL replays to " + to_hex(replayed[i]) +
                       " but the quote has " + to_hex(body.rtmr[i]),
                   "ccel-replay-mismatch"};
  }
  return {};
}

}  // namespace tl::tee
