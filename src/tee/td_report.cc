// TDREPORT_STRUCT (Intel TDX Module ABI specification, "TDREPORT_STRUCT"):
//   0    REPORTMACSTRUCT (256): REPORTTYPE 4 (type, subtype, version, reserved),
//        reserved 12, CPUSVN 16, TEE_TCB_INFO_HASH 48, TEE_INFO_HASH 48,
//        REPORTDATA 64, reserved 32, MAC 32
//   256  TEE_TCB_INFO (239): VALID 8, TEE_TCB_SVN 16, MRSEAM 48, MRSIGNERSEAM 48,
//        ATTRIBUTES 8, (1.5: TEE_TCB_SVN2 16) reserved
//   495  reserved 17
//   512  TDINFO (512): ATTRIBUTES 8, XFAM 8, MRTD, MRCONFIGID, MROWNER,
//        MROWNERCONFIG, RTMR0..3 (48 each), (1.5: SERVTD_HASH 48) reserved
#include <algorithm>
#include <string>

#include "common/byte_reader.h"
#include "tee/tdx_quote.h"

namespace tl::tee {
namespace {

template <size_t N>
void copy_at(ByteView data, size_t offset, std::array<uint8_t, N>& out) {
  std::copy_n(data.begin() + static_cast<std::ptrdiff_t>(offset), N, out.begin());
}

uint64_t u64_at(ByteView data, size_t offset) {
  uint64_t v = 0;
  for (size_t i = 0; i < 8; ++i) v |= static_cast<uint64_t>(data[offset + i]) << (8 * i);
  return v;
}

}  // namespace

Result<TdReport> parse_td_report(ByteView data) {
  if (data.size() != kTdReportSize)
    return Error{"TDREPORT is " + std::to_string(data.size()) + " bytes, it must be exactly " +
                     std::to_string(kTdReportSize),
                 "td-report-malformed"};
  TdReport r;
  r.report_type = data[0];
  r.report_subtype = data[1];
  r.report_version = data[2];
  if (r.report_type != 0x81)
    return Error{"TDREPORT REPORTTYPE.TYPE at offset 0x0 is " + hex_offset(r.report_type) +
                     ", not TDX (0x81)",
                 "td-report-malformed"};
  copy_at(data, 16, r.cpu_svn);
  copy_at(data, 32, r.tee_tcb_info_hash);
  copy_at(data, 80, r.tee_info_hash);
  copy_at(data, 128, r.report_data);
  copy_at(data, 224, r.mac);
  constexpr size_t kTcb = 256;
  r.tee_tcb_info_valid = u64_at(data, kTcb);
  copy_at(data, kTcb + 8, r.tee_tcb_svn);
  copy_at(data, kTcb + 24, r.mr_seam);
  copy_at(data, kTcb + 72, r.mr_signer_seam);
  r.seam_attributes = u64_at(data, kTcb + 120);
  constexpr size_t kTd = 512;
  r.td_attributes = u64_at(data, kTd);
  r.xfam = u64_at(data, kTd + 8);
  copy_at(data, kTd + 16, r.mr_td);
  copy_at(data, kTd + 64, r.mr_config_id);
  copy_at(data, kTd + 112, r.mr_owner);
  copy_at(data, kTd + 160, r.mr_owner_config);
  for (size_t i = 0; i < 4; ++i) copy_at(data, kTd + 208 + 48 * i, r.rtmr[i]);
  return r;
}

}  // namespace tl::tee
