// Fuzzes parse_hcl_report, hcl_report_json and the binding/user-data checks
// (src/tee/hcl_report.h) and decode_cvm_evidence (src/verify/cvm.h).
// Input "HCLA…": parsed whole. Input "{…": JSON evidence, decoded as both types.
// Otherwise the first byte picks: even = parse the rest whole; odd = the rest is
// the runtime data of an otherwise valid report (sizes adjusted), which reaches
// the JSON and JWK decoders without a seed.
// Invariants: a rejection carries its reason and a message; an accepted report's
// runtime data is the input's bytes at 0x4D4 and its sizes agree.
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>

#include "fuzz_support.h"
#include "tee/hcl_report.h"
#include "verify/cvm.h"

using tl::fuzz::check;

namespace {

void put_u32(tl::Bytes& b, size_t off, uint32_t v) {
  for (size_t i = 0; i < 4; ++i) b[off + i] = static_cast<uint8_t>(v >> (8 * i));
}

void parse(tl::ByteView in) {
  auto r = tl::tee::parse_hcl_report(in);
  if (!r.ok()) {
    check(r.error().reason == "hcl-report-malformed");
    check(!r.error().message.empty());
    return;
  }
  check(r->report_size == tl::tee::kHclRuntimeDataOffset + r->runtime_data.size());
  check(r->report_size <= in.size());
  check(std::memcmp(r->runtime_data.data(), in.data() + tl::tee::kHclRuntimeDataOffset, r->runtime_data.size()) == 0);
  check(r->hardware_report.size() == (r->hardware == tl::tee::HclHardware::snp ? 1184u : 1024u));
  check(r->runtime_json.is_object());
  for (const auto& k : r->keys) check(!k.n.empty() && !k.e.empty() && k.kty == "RSA");
  (void)tl::tee::hcl_report_json(*r).dump();
  auto rd = tl::tee::hcl_hardware_report_data(*r);
  check(rd.ok() && rd->size() == 64);
  const auto c = tl::tee::check_hcl_binding(*r, *rd);
  check(c.passed == c.reason.empty());
  const auto u = tl::tee::check_hcl_user_data(*r, *rd);
  check(u.passed == u.reason.empty());
  (void)tl::tee::hcl_vm_unique_id(*r);
}

void decode(std::string_view text) {
  const auto j = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) return;
  for (auto t : {tl::verify::CvmEvidenceType::az_snp_vtpm, tl::verify::CvmEvidenceType::az_tdx_vtpm}) {
    auto e = tl::verify::decode_cvm_evidence(j, t);
    if (!e.ok()) {
      check(e.error().reason == "evidence-malformed");
      check(!e.error().message.empty());
      continue;
    }
    check(e->type == t);
    check(!e->hcl_report.empty() && !e->quote_attest.empty() && !e->quote_signature.empty());
    check(e->pcrs.at(tl::crypto::HashAlg::sha256).size() == 24);
    parse(e->hcl_report);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const tl::ByteView all(data, size);
  if (size >= 4 && std::memcmp(data, "HCLA", 4) == 0) {
    parse(all);
    return 0;
  }
  if (data[0] == '{') {
    decode(std::string_view(reinterpret_cast<const char*>(data), size));
    return 0;
  }
  const tl::ByteView rest = all.subspan(1);
  if ((data[0] & 1) == 0) {
    parse(rest);
    return 0;
  }
  // A valid header (version 1, SNP or TDX by bit 1, SHA-256) around fuzzed runtime data.
  tl::Bytes b(tl::tee::kHclRuntimeDataOffset + rest.size(), 0);
  put_u32(b, 0, tl::tee::kHclSignature);
  put_u32(b, 4, 1);
  put_u32(b, 8, static_cast<uint32_t>(b.size()));
  put_u32(b, 12, 2);
  const size_t req = tl::tee::kHclRequestDataOffset;
  put_u32(b, req, static_cast<uint32_t>(20 + rest.size()));
  put_u32(b, req + 4, 1);
  put_u32(b, req + 8, (data[0] & 2) ? tl::tee::kHclReportTypeTdx : tl::tee::kHclReportTypeSnp);
  put_u32(b, req + 12, 1);
  put_u32(b, req + 16, static_cast<uint32_t>(rest.size()));
  if (!rest.empty()) std::memcpy(b.data() + tl::tee::kHclRuntimeDataOffset, rest.data(), rest.size());
  parse(b);
  return 0;
}
